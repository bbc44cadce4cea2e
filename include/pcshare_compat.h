/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-API differences between the kernels pcshare supports.
 *
 * Every version difference lives here so that no .c file needs an #if on
 * the kernel version (coding-style.rst section 21).
 */
#ifndef PCSHARE_COMPAT_H
#define PCSHARE_COMPAT_H

#include <linux/version.h>
#include <linux/fs.h>
#include <linux/ftrace.h>
#include <linux/cred.h>

/*
 * With FTRACE_OPS_FL_SAVE_REGS, ftrace_get_regs() hands back a full pt_regs
 * on every kernel we support, while the helper that sets the instruction
 * pointer was renamed in 6.2 and struct ftrace_regs became opaque later.
 */
static inline void pcshare_ftrace_set_ip(struct ftrace_regs *fregs,
					 unsigned long ip)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (!WARN_ON_ONCE(!regs))
		instruction_pointer_set(regs, ip);
}

/*
 * i_readcount only exists with CONFIG_IMA. Without it we cannot prove that
 * every read-only open of a member is one we wrapped, so activation is
 * refused (pcshare_unknown_readers() says "maybe").
 */
#ifdef CONFIG_IMA
static inline bool pcshare_unknown_readers(struct inode *inode, int known)
{
	return atomic_read(&inode->i_readcount) != known;
}
#else
static inline bool pcshare_unknown_readers(struct inode *inode, int known)
{
	return true;
}
#endif

/* The mount idmapping argument changed type in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define pcshare_mnt_idmap(mnt)	mnt_user_ns(mnt)
#define PCSHARE_NOP_IDMAP	(&init_user_ns)
typedef struct user_namespace pcshare_idmap_t;
#else
#define pcshare_mnt_idmap(mnt)	mnt_idmap(mnt)
#define PCSHARE_NOP_IDMAP	(&nop_mnt_idmap)
typedef struct mnt_idmap pcshare_idmap_t;
#endif

/* prepare_kernel_cred(NULL) stopped meaning "init's creds" in 6.2. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define pcshare_prepare_kernel_cred()	prepare_kernel_cred(NULL)
#else
#define pcshare_prepare_kernel_cred()	prepare_kernel_cred(&init_task)
#endif

/* inode->i_ctime became private in 6.6. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
static inline struct timespec64 pcshare_inode_ctime(const struct inode *inode)
{
	return inode->i_ctime;
}

static inline struct timespec64 pcshare_inode_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}
#else
static inline struct timespec64 pcshare_inode_ctime(const struct inode *inode)
{
	return inode_get_ctime(inode);
}

static inline struct timespec64 pcshare_inode_mtime(const struct inode *inode)
{
	return inode_get_mtime(inode);
}
#endif

#endif /* PCSHARE_COMPAT_H */

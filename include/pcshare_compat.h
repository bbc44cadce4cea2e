/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-API differences between the kernels pcshare supports.
 *
 * Every version difference lives here so that no .c file needs an #if on
 * the kernel version (coding-style.rst section 21).
 */
#ifndef PCSHARE_COMPAT_H
#define PCSHARE_COMPAT_H

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

/*
 * Debian 6.1 is the one supported kernel for now; the kbuild/ feature probes
 * (HAVE_* flags) will select other variants here as kernels are added:
 * mnt_idmap (6.3), prepare_kernel_cred(&init_task) (6.2), and the inode
 * timestamp accessors (6.6).
 */
#define pcshare_mnt_idmap(mnt)		mnt_user_ns(mnt)
#define pcshare_idmap			struct user_namespace
#define pcshare_prepare_kernel_cred()	prepare_kernel_cred(NULL)

static inline struct timespec64 pcshare_inode_ctime(const struct inode *inode)
{
	return inode->i_ctime;
}

static inline struct timespec64 pcshare_inode_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}

#endif /* PCSHARE_COMPAT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Hook mechanics: ftrace with IPMODIFY redirects the entry of a kernel
 * function to our wrapper, in the style of ilammy/ftrace-hook.
 *
 * The hooks are data: one table of {symbol, wrapper, &original}.  It is
 * installed all or nothing and removed in reverse.  What each wrapper does
 * around its original lives with the concern it serves (file_ops.c,
 * remap.c, policy.c, lifecycle.c).
 *
 * Recursion: a wrapper calls its original through the plain address.  The
 * ftrace callback sees a parent_ip inside this module and lets that call
 * through.  This is why the wrapper objects are built with
 * -fno-optimize-sibling-calls: a tail call would hide the module as caller.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/kallsyms.h>
#include "pcshare.h"

loff_t (*pcshare_orig_vfs_clone_file_range)(struct file *file_in,
					    loff_t pos_in,
					    struct file *file_out,
					    loff_t pos_out, loff_t len,
					    unsigned int remap_flags);
loff_t (*pcshare_orig_vfs_dedupe_file_range_one)(struct file *src,
						 loff_t src_pos,
						 struct file *dst,
						 loff_t dst_pos, loff_t len,
						 unsigned int flags);
long (*pcshare_orig_vfs_truncate)(const struct path *path, loff_t length);
int (*pcshare_orig_notify_change)(pcshare_idmap *idmap,
				  struct dentry *dentry, struct iattr *attr,
				  struct inode **delegated_inode);
void (*pcshare_orig_clear_inode)(struct inode *inode);
void (*pcshare_orig_generic_shutdown_super)(struct super_block *sb);

struct pcshare_hook {
	const char *name;
	void *function;
	void *original;
	unsigned long address;
	bool installed;
	struct ftrace_ops ops;
};

#define PCSHARE_HOOK(_name, _function, _original)	\
	{						\
		.name = (_name),			\
		.function = (_function),		\
		.original = (_original),		\
	}

/*
 * Order matters only for removal, which runs in reverse: the unmount and
 * eviction hooks go last so that detaching state is possible until the end.
 *
 * Every original here is exported or called through a pointer somewhere,
 * so it keeps its ENDBR on an IBT kernel (Debian's 6.12): a wrapper may
 * call it.  The open path has no such function before write access is
 * taken (do_dentry_open() and vfs_open() have none), which is why opens
 * are seen in the filesystem's ->open() instead (pcshare_open_hook_ensure()).
 */
static struct pcshare_hook pcshare_hooks[] = {
	PCSHARE_HOOK("generic_shutdown_super", pcshare_generic_shutdown_super,
		     &pcshare_orig_generic_shutdown_super),
	PCSHARE_HOOK("clear_inode", pcshare_clear_inode,
		     &pcshare_orig_clear_inode),
	PCSHARE_HOOK("notify_change", pcshare_notify_change,
		     &pcshare_orig_notify_change),
	PCSHARE_HOOK("vfs_truncate", pcshare_vfs_truncate,
		     &pcshare_orig_vfs_truncate),
	PCSHARE_HOOK("vfs_clone_file_range", pcshare_vfs_clone_file_range,
		     &pcshare_orig_vfs_clone_file_range),
	PCSHARE_HOOK("vfs_dedupe_file_range_one",
		     pcshare_vfs_dedupe_file_range_one,
		     &pcshare_orig_vfs_dedupe_file_range_one),
};

/* Wrappers currently running; unload waits for zero. */
static atomic_t pcshare_hooks_in_flight = ATOMIC_INIT(0);

void pcshare_hook_enter(void)
{
	atomic_inc(&pcshare_hooks_in_flight);
}

void pcshare_hook_exit(void)
{
	atomic_dec(&pcshare_hooks_in_flight);
}

static void notrace pcshare_ftrace_thunk(unsigned long ip,
					 unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	struct pcshare_hook *hook = container_of(ops, struct pcshare_hook, ops);

	/* Our own calls to the original must reach it, not us again. */
	if (!within_module(parent_ip, THIS_MODULE))
		pcshare_ftrace_set_ip(fregs, (unsigned long)hook->function);
}

/*
 * Every wrapper calls its original through a pointer.  On a kernel built
 * with X86_KERNEL_IBT that is only safe if the original starts with ENDBR64
 * (see pcshare_has_endbr()); on a CPU that enforces IBT anything else is an
 * oops, so such a kernel is refused.  A CPU that does not enforce it (no
 * IBT hardware, ibt=off, QEMU TCG) runs the call fine: we say so and go on.
 */
static int pcshare_hook_check_callable(struct pcshare_hook *hook)
{
	if (!pcshare_ibt_kernel() || pcshare_has_endbr(hook->address))
		return 0;
	if (pcshare_ibt_enforced() || pcshare_test_ibt_enforced) {
		pr_err("%s has no ENDBR on this IBT kernel: calling it from a hook would crash; this kernel is not supported (ibt=off would allow it)\n",
		       hook->name);
		return -EOPNOTSUPP;
	}
	pr_warn("%s has no ENDBR; hooking it only because this CPU does not enforce IBT\n",
		hook->name);
	return 0;
}

static int pcshare_hook_resolve(struct pcshare_hook *hook)
{
	int ret;

	hook->address = pcshare_lookup_name(hook->name);
	if (!hook->address) {
		pr_err("kernel symbol %s not found; this kernel is not supported\n",
		       hook->name);
		return -ENOENT;
	}
	ret = pcshare_hook_check_callable(hook);
	if (ret)
		return ret;
	*((unsigned long *)hook->original) = hook->address;
	return 0;
}

static int pcshare_hook_install(struct pcshare_hook *hook)
{
	int ret;

	/*
	 * We change %rip, so IPMODIFY; SAVE_REGS gives us a full pt_regs on
	 * every supported kernel; RECURSION lets ftrace guard against the
	 * callback being re-entered.
	 */
	hook->ops.func = pcshare_ftrace_thunk;
	hook->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
			  FTRACE_OPS_FL_IPMODIFY;

	ret = ftrace_set_filter_ip(&hook->ops, hook->address, 0, 0);
	if (ret) {
		pr_err("cannot trace %s (ftrace_set_filter_ip: %d)\n",
		       hook->name, ret);
		return ret;
	}
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		pr_err("cannot hook %s (register_ftrace_function: %d); is it live-patched or kprobed?\n",
		       hook->name, ret);
		ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
		return ret;
	}
	hook->installed = true;
	return 0;
}

static void pcshare_hook_remove(struct pcshare_hook *hook)
{
	int ret;

	if (!hook->installed)
		return;
	ret = unregister_ftrace_function(&hook->ops);
	WARN_ON_ONCE(ret);
	ret = ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
	WARN_ON_ONCE(ret);
	hook->installed = false;
}

/* Wait until no task can still be executing one of our wrappers. */
static void pcshare_hooks_drain(void)
{
	/*
	 * A task may have been redirected but not yet have counted itself in
	 * pcshare_hooks_in_flight; tasks-RCU waits for it to pass a voluntary
	 * schedule, which it can only do after counting itself.
	 */
	synchronize_rcu_tasks();
	while (atomic_read(&pcshare_hooks_in_flight))
		msleep(20);
	/* ...and for the last instructions after the decrement. */
	synchronize_rcu_tasks();
}

static bool pcshare_hook_skipped(const struct pcshare_hook *hook)
{
	return pcshare_test_skip_hook && *pcshare_test_skip_hook &&
	       !strcmp(pcshare_test_skip_hook, hook->name);
}

/**
 * pcshare_hooks_install() - resolve and install every hook, or none
 *
 * Return: 0, or -errno with every hook that was installed removed again.
 */
int pcshare_hooks_install(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pcshare_hooks); i++) {
		ret = pcshare_hook_resolve(&pcshare_hooks[i]);
		if (ret)
			return ret;
	}
	if (pcshare_test_fail_symbol && *pcshare_test_fail_symbol &&
	    !pcshare_lookup_name(pcshare_test_fail_symbol)) {
		pr_err("kernel symbol %s not found; this kernel is not supported\n",
		       pcshare_test_fail_symbol);
		return -ENOENT;
	}

	for (i = 0; i < ARRAY_SIZE(pcshare_hooks); i++) {
		if (pcshare_hook_skipped(&pcshare_hooks[i])) {
			pr_warn("test_skip_hook: not hooking %s; sharing is NOT safe now\n",
				pcshare_hooks[i].name);
			continue;
		}
		ret = pcshare_hook_install(&pcshare_hooks[i]);
		if (ret)
			goto out_remove_installed;
	}
	return 0;

out_remove_installed:
	while (i)
		pcshare_hook_remove(&pcshare_hooks[--i]);
	pcshare_hooks_drain();
	return ret;
}

/*
 * Open hooks: the ->open() of each filesystem whose files we register.
 *
 * ->open() is called after do_dentry_open() has taken write access and
 * set f_mapping, and it is called through a pointer, so it keeps its ENDBR
 * on every kernel: our wrapper may call it.  It is hooked the first time a
 * file of that filesystem is registered, and the filesystem's module is
 * pinned until we unload, so that the hooked code cannot go away under
 * ftrace.  Each slot has a wrapper of its own, which knows its original.
 */
#define PCSHARE_OPEN_SLOTS 4

struct pcshare_open_slot {
	struct pcshare_hook hook;
	pcshare_open_fn orig;
	struct module *owner;
	bool used;		/* under pcshare_open_slots_mutex */
	bool ready;		/* hooked; published with a release */
	int err;		/* why hooking failed, once used */
	char name[KSYM_SYMBOL_LEN];
};

static struct pcshare_open_slot pcshare_open_slots[PCSHARE_OPEN_SLOTS];
static DEFINE_MUTEX(pcshare_open_slots_mutex);
static bool pcshare_open_slots_closed;

#define PCSHARE_OPEN_WRAPPER(n)						\
static int pcshare_open_slot_##n(struct inode *inode, struct file *file) \
{									\
	return pcshare_fs_open(pcshare_open_slots[n].orig, inode, file); \
}

PCSHARE_OPEN_WRAPPER(0)
PCSHARE_OPEN_WRAPPER(1)
PCSHARE_OPEN_WRAPPER(2)
PCSHARE_OPEN_WRAPPER(3)

static const pcshare_open_fn pcshare_open_wrappers[PCSHARE_OPEN_SLOTS] = {
	pcshare_open_slot_0, pcshare_open_slot_1,
	pcshare_open_slot_2, pcshare_open_slot_3,
};

static int pcshare_open_slot_install(struct pcshare_open_slot *slot,
				     struct inode *inode, unsigned int n)
{
	const struct file_operations *fops = inode->i_fop;
	struct module *owner = inode->i_sb->s_type->owner;
	int ret;

	slot->used = true;
	slot->orig = fops->open;
	sprint_symbol_no_offset(slot->name, (unsigned long)fops->open);
	slot->hook.name = slot->name;
	slot->hook.function = pcshare_open_wrappers[n];
	slot->hook.original = &slot->orig;
	slot->hook.address = (unsigned long)fops->open;

	/*
	 * The filesystem's module, not fops->owner: XFS and btrfs leave that
	 * NULL.  Its live superblock holds it, so this cannot fail here.
	 */
	if (!try_module_get(owner)) {
		ret = -ENODEV;
		goto out_failed;
	}
	slot->owner = owner;
	ret = pcshare_hook_check_callable(&slot->hook);
	if (ret)
		goto out_put_owner;
	ret = pcshare_hook_install(&slot->hook);
	if (ret)
		goto out_put_owner;
	pr_info("hooked %s\n", slot->name);
	return 0;

out_put_owner:
	module_put(slot->owner);
	slot->owner = NULL;
out_failed:
	slot->err = ret;
	pr_warn("cannot hook %s (%d): its files are never shared\n",
		slot->name, ret);
	return ret;
}

/**
 * pcshare_open_hook_ensure() - make sure opens of @inode's files are seen
 * @inode: a regular file about to be registered
 *
 * Sharing starts and stops at open (DESIGN.md 2.5, 2.6), so a file may be
 * registered only once its filesystem's ->open() is hooked.
 *
 * Return: 0, or -errno when this filesystem's opens cannot be hooked (the
 * file is then not shared).
 */
int pcshare_open_hook_ensure(struct inode *inode)
{
	const struct file_operations *fops = inode->i_fop;
	const char *fs = inode->i_sb->s_type->name;
	unsigned int i;
	int ret;

	/*
	 * Only filesystems known to open every regular file through
	 * fops->open: one with ->atomic_open may pass another function.
	 */
	if (strcmp(fs, "xfs") && strcmp(fs, "btrfs")) {
		pr_warn_once("%s is not supported: its files are never shared\n", fs);
		return -EOPNOTSUPP;
	}
	if (!fops || !fops->open)
		return -EOPNOTSUPP;
	for (i = 0; i < PCSHARE_OPEN_SLOTS; i++) {
		/* Pairs with smp_store_release() below. */
		if (smp_load_acquire(&pcshare_open_slots[i].ready) &&
		    pcshare_open_slots[i].orig == fops->open)
			return 0;
	}

	mutex_lock(&pcshare_open_slots_mutex);
	ret = -ESHUTDOWN;
	if (pcshare_open_slots_closed)
		goto out_unlock;
	for (i = 0; i < PCSHARE_OPEN_SLOTS; i++) {
		struct pcshare_open_slot *slot = &pcshare_open_slots[i];

		if (slot->used && slot->orig == fops->open) {
			ret = slot->err;
			goto out_unlock;
		}
		if (!slot->used) {
			ret = pcshare_open_slot_install(slot, inode, i);
			if (ret)
				goto out_unlock;
			/* Published once hooked: smp_load_acquire() above. */
			smp_store_release(&slot->ready, true);
			goto out_unlock;
		}
	}
	pr_warn_once("no free open hook slot for %ps: its files are never shared\n",
		     fops->open);
	ret = -ENOSPC;
out_unlock:
	mutex_unlock(&pcshare_open_slots_mutex);
	return ret;
}

/* Remove the open hooks; the caller drains and then puts their owners. */
static void pcshare_open_hooks_remove(void)
{
	unsigned int i = PCSHARE_OPEN_SLOTS;

	mutex_lock(&pcshare_open_slots_mutex);
	pcshare_open_slots_closed = true;
	while (i) {
		struct pcshare_open_slot *slot = &pcshare_open_slots[--i];

		WRITE_ONCE(slot->ready, false);
		pcshare_hook_remove(&slot->hook);
	}
	mutex_unlock(&pcshare_open_slots_mutex);
}

static void pcshare_open_hooks_put_owners(void)
{
	unsigned int i;

	for (i = 0; i < PCSHARE_OPEN_SLOTS; i++) {
		module_put(pcshare_open_slots[i].owner);
		pcshare_open_slots[i].owner = NULL;
	}
}

/**
 * pcshare_hooks_remove() - remove every hook, in reverse order, and wait
 * until no wrapper is running.
 */
void pcshare_hooks_remove(void)
{
	unsigned int i = ARRAY_SIZE(pcshare_hooks);

	pcshare_open_hooks_remove();
	while (i)
		pcshare_hook_remove(&pcshare_hooks[--i]);
	pcshare_hooks_drain();
	pcshare_open_hooks_put_owners();
}

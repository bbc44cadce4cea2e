// SPDX-License-Identifier: GPL-2.0
/*
 * Break and activate policy: when a member starts and stops reading
 * through its group's anchor.
 *
 * Activation points inode->i_mapping at the anchor's i_data.  XFS takes its
 * MMAPLOCK through i_mapping, so i_mapping only changes with the inode lock
 * held (every other MMAPLOCK user but page faults holds it too) and only
 * when no page fault can be in flight on a VMA of the member's own i_data:
 * there is no such VMA (mapping_mapped()), no file that could create one
 * that we do not control (i_readcount equals our wrapped files), and our
 * wrapped mmap never creates one while the member is active.
 *
 * An active member has no writer.  Activation checks i_writecount under
 * the inode lock; every open for write reaches the filesystem's ->open()
 * after get_write_access() and breaks the member there under the same
 * lock (pcshare_break_for_write()), before the file can be used.  So
 * either the activation sees the writer and refuses, or the writer sees
 * the active member and breaks it.  Size changes without an open (truncate
 * (2), notify_change) and remaps into a member break it in their own hooks.
 *
 * Earlier versions held a deny-write count on active members instead, as
 * exec does.  That needs a break before do_dentry_open() takes write
 * access, and no hookable function there keeps its ENDBR on an IBT kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pagemap.h>
#include <linux/mm.h>
#include <linux/fsverity.h>
#include <linux/btrfs.h>
#include "pcshare.h"

/* Restore i_data; the caller holds m->lock and the right to do so. */
static void pcshare_deactivate(struct pcshare_member *m)
{
	struct inode *inode = m->inode;

	lockdep_assert_held(&m->lock);
	WRITE_ONCE(inode->i_mapping, &inode->i_data);
	pcshare_files_detach(m);
	m->state = PCSHARE_REGISTERED;
	atomic_dec(&m->group->nr_active);
	atomic64_dec(&pcshare_stats.active_members);
}

/**
 * pcshare_break_locked() - make a member leave its group
 * @m: the member
 * @why: the reason, for the counters
 *
 * The caller holds the inode lock.  Files opened while the member was
 * active notice at their next read or mmap (file_ops.c) and go back to the
 * member's own i_data, so every fd sees the content that follows.
 */
void pcshare_break_locked(struct pcshare_member *m,
			  enum pcshare_break_reason why)
{
	bool in_group;

	WARN_ON_ONCE(!inode_is_locked(m->inode));
	spin_lock(&m->lock);
	if (m->state == PCSHARE_ACTIVE)
		pcshare_deactivate(m);
	in_group = m->group;
	/* Registrations in progress for this file must start over. */
	atomic64_inc(&m->seq);
	spin_unlock(&m->lock);

	if (!in_group)
		return;
	mutex_lock(&pcshare_registry_mutex);
	pcshare_member_leave_group(m);
	mutex_unlock(&pcshare_registry_mutex);
	atomic64_inc(&pcshare_stats.breaks[why]);
}

/**
 * pcshare_break() - make a member leave its group, taking the inode lock
 * @m: the member
 * @why: the reason, for the counters
 */
void pcshare_break(struct pcshare_member *m, enum pcshare_break_reason why)
{
	if (!READ_ONCE(m->group))
		return;
	inode_lock(m->inode);
	pcshare_break_locked(m, why);
	inode_unlock(m->inode);
}

/**
 * pcshare_break_for_write() - an open for write of a member
 * @m: the member
 * @truncating: the open has O_TRUNC
 *
 * Called from ->open(), after get_write_access(): from now on no
 * activation can succeed while this file is open.  An active member is
 * broken.  A registered one stays registered unless it is being truncated:
 * if it is really written, its snapshot no longer matches and it is never
 * activated (duperemove reopens files O_RDWR without writing).
 * Registrations in progress start over either way.
 */
void pcshare_break_for_write(struct pcshare_member *m, bool truncating)
{
	struct inode *inode = m->inode;

	/*
	 * Not in a group: nothing to break.  A registration that joins it to
	 * a group later cannot activate it while we hold write access: the
	 * activation checks i_writecount, and once we are gone, the snapshot
	 * (if we wrote).
	 */
	if (!READ_ONCE(m->group)) {
		atomic64_inc(&m->seq);
		return;
	}
	inode_lock(inode);
	if (READ_ONCE(m->state) == PCSHARE_ACTIVE || truncating)
		pcshare_break_locked(m, PCSHARE_BREAK_WRITE_OPEN);
	else
		atomic64_inc(&m->seq);
	inode_unlock(inode);
}

/**
 * pcshare_ioctl_rewrites() - may this ioctl change a file's pages or how
 * they are read, through an fd without write access?
 * @cmd: the ioctl command
 *
 * The ones known to skip the FMODE_WRITE check: btrfs defragments a file
 * opened read-only (it dirties the pages of i_mapping: on an active member,
 * the anchor's, and reserves delalloc space on the member), and fs-verity
 * is enabled through a read-only fd by design (it must then check the
 * member's own pages, not the anchor's).  The list comes from what XFS and
 * btrfs are known to allow, not from an audit of every ioctl of theirs.
 *
 * Return: true for those ioctls.
 */
bool pcshare_ioctl_rewrites(unsigned int cmd)
{
	switch (cmd) {
	case BTRFS_IOC_DEFRAG:
	case BTRFS_IOC_DEFRAG_RANGE:
	case FS_IOC_ENABLE_VERITY:
		return true;
	default:
		return false;
	}
}

/**
 * pcshare_break_for_ioctl() - a member may be rewritten without write access
 * @m: the member
 *
 * Called before an ioctl that pcshare_ioctl_rewrites(), and at an open
 * with neither read nor write access (O_ACCMODE 3: ioctls only), whose
 * ioctls we do not see.  The member is broken and never activated again
 * while its record lives: the flag is set before the break, so an
 * activation racing with us either sees it or is undone by the break, and
 * none can follow before the ioctl runs.
 */
void pcshare_break_for_ioctl(struct pcshare_member *m)
{
	spin_lock(&m->lock);
	m->ioctl_rewrite = true;
	spin_unlock(&m->lock);
	pcshare_break(m, PCSHARE_BREAK_IOCTL);
}

/**
 * pcshare_deactivate_unused() - restore an inode nobody uses any more
 * @m: the member of an inode under eviction
 *
 * Eviction truncates &inode->i_data directly, and clear_inode() insists it
 * is empty, so i_mapping goes back first.  No lock is needed: the inode has
 * no users and cannot gain any.
 */
void pcshare_deactivate_unused(struct pcshare_member *m)
{
	spin_lock(&m->lock);
	if (m->state == PCSHARE_ACTIVE)
		pcshare_deactivate(m);
	spin_unlock(&m->lock);
}

/* May @inode share at all?  The static conditions of DESIGN.md 2.5. */
static bool pcshare_inode_eligible(struct inode *inode,
				   struct pcshare_group *g)
{
	/* fs-verity checks pages against their mapping's host: the anchor. */
	return S_ISREG(inode->i_mode) && !IS_DAX(inode) &&
	       !IS_SWAPFILE(inode) && !IS_VERITY(inode) && inode->i_sb == g->sb &&
	       pcshare_fs_allowed(inode->i_sb);
}

/**
 * pcshare_try_activate() - point a registered member at its anchor
 * @m: the member
 * @file: the read-only file being opened, already wrapped
 *
 * Called at the end of an open.  Every condition of DESIGN.md 2.5 is
 * checked under the inode lock and m->lock; any doubt leaves the member
 * unshared.  On success @file reads through the anchor too.
 *
 * Return: true when the member is active.
 */
bool pcshare_try_activate(struct pcshare_member *m, struct file *file)
{
	struct inode *inode = m->inode;
	struct pcshare_group *g, *changed = NULL;
	const char *why = NULL;
	bool active = false;

	if (!READ_ONCE(pcshare_enable) || pcshare_shutting_down)
		return false;
	if (READ_ONCE(m->state) != PCSHARE_REGISTERED)
		return false;

	inode_lock(inode);
	/* Write back what an earlier writer left, outside the spinlock. */
	if (mapping_tagged(&inode->i_data, PAGECACHE_TAG_DIRTY) ||
	    mapping_tagged(&inode->i_data, PAGECACHE_TAG_WRITEBACK))
		filemap_write_and_wait(&inode->i_data);

	spin_lock(&m->lock);
	g = m->group;
	if (m->state != PCSHARE_REGISTERED || !g) {
		why = NULL;
		goto out_unlock;
	}
	if (!pcshare_inode_eligible(inode, g)) {
		why = "not eligible";
		goto out_unlock;
	}
	/* Pairs with the full barrier of get_write_access() in an opener. */
	smp_mb();
	if (inode_is_open_for_write(inode)) {
		why = "open for write";
		goto out_unlock;
	}
	if (m->own_vmas || mapping_mapped(&inode->i_data)) {
		why = "mapped through its own cache";
		goto out_unlock;
	}
	if (m->ioctl_rewrite) {
		why = "defragmented, sealed or opened for ioctls only";
		goto out_unlock;
	}
	if (pcshare_unknown_readers(inode, atomic_read(&m->nr_wrapped))) {
		why = "open from before registration";
		goto out_unlock;
	}
	if (!pcshare_snapshot_same(inode, &m->snap) ||
	    m->snap.size != g->size) {
		why = "changed since registration";
		changed = g;
		goto out_unlock;
	}
	if (!pcshare_anchor_deny_write(g)) {
		why = "anchor still being written";
		goto out_unlock;
	}
	if (mapping_tagged(&inode->i_data, PAGECACHE_TAG_DIRTY) ||
	    mapping_tagged(&inode->i_data, PAGECACHE_TAG_WRITEBACK)) {
		why = "dirty pages";
		goto out_unlock;
	}

	WRITE_ONCE(inode->i_mapping, &pcshare_anchor_inode(g)->i_data);
	m->state = PCSHARE_ACTIVE;
	atomic_inc(&g->nr_active);
	atomic64_inc(&pcshare_stats.active_members);
	atomic64_inc(&pcshare_stats.activations);
	pcshare_file_set_anchor(file, m);
	active = true;

out_unlock:
	spin_unlock(&m->lock);
	inode_unlock(inode);

	if (active) {
		/* The member's own clean copies are now dead weight. */
		invalidate_mapping_pages(&inode->i_data, 0, -1);
	} else if (why) {
		atomic64_inc(&pcshare_stats.activation_refusals);
		pr_debug("not sharing ino %lu: %s\n", inode->i_ino, why);
	}
	if (changed) {
		/* It was written: it leaves, until a new clone or dedupe. */
		mutex_lock(&pcshare_registry_mutex);
		if (READ_ONCE(m->group) == changed &&
		    READ_ONCE(m->state) == PCSHARE_REGISTERED) {
			pcshare_member_leave_group(m);
			atomic64_inc(&pcshare_stats.breaks[PCSHARE_BREAK_CHANGED]);
		}
		mutex_unlock(&pcshare_registry_mutex);
	}
	return active;
}

/*
 * truncate(2) changes the size without an open.  notify_change() would
 * break the member too; breaking here first keeps the reason visible in
 * the counters, and costs nothing for other files.
 */
long pcshare_vfs_truncate(const struct path *path, loff_t length)
{
	struct pcshare_member *m;
	long ret;

	pcshare_hook_enter();
	m = pcshare_member_lookup(d_inode(path->dentry));
	if (m)
		pcshare_break(m, PCSHARE_BREAK_TRUNCATE);
	ret = pcshare_orig_vfs_truncate(path, length);
	pcshare_member_put(m);
	pcshare_hook_exit();
	return ret;
}

/*
 * Any size change, whoever asks for it.  The caller holds the inode lock.
 * Normally the member was broken already (at open for write or truncate);
 * this catches callers such as nfsd, and restarts registrations in
 * progress, because the size change comes after their write access check.
 */
int pcshare_notify_change(pcshare_idmap *idmap, struct dentry *dentry,
			  struct iattr *attr, struct inode **delegated_inode)
{
	struct pcshare_member *m = NULL;
	int ret;

	pcshare_hook_enter();
	if (attr->ia_valid & ATTR_SIZE)
		m = pcshare_member_lookup(d_inode(dentry));
	if (m)
		pcshare_break_locked(m, PCSHARE_BREAK_SETATTR_SIZE);
	ret = pcshare_orig_notify_change(idmap, dentry, attr, delegated_inode);
	pcshare_member_put(m);
	pcshare_hook_exit();
	return ret;
}

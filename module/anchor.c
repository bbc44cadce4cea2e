// SPDX-License-Identifier: GPL-2.0
/*
 * Anchor: the address_space that holds a group's cached folios.
 *
 * The anchor is a hidden O_TMPFILE reflink of the group's content, made by
 * the module on the members' own filesystem (Wilcox's "third address
 * space").  Because no member's own i_data holds the shared folios, a break
 * of any member, the original source included, is the same simple
 * operation, and a mapping that outlives a break keeps showing the old
 * content, never another file's.
 *
 * The anchor cannot be reached by name (O_EXCL: never linkable) and, once
 * the first member is active, holds a deny-write count, so that even a root
 * open through /proc/PID/map_files gets ETXTBSY for writing.
 *
 * We keep a dentry reference, not an open file: an open file would pin the
 * vfsmount and make umount fail with EBUSY.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/cred.h>
#include "pcshare.h"

/**
 * pcshare_anchor_create() - make an anchor holding @src's content
 * @src: an open file of the group's source
 * @size: the size @src had when it was proven identical to its clone
 *
 * Return: the anchor's dentry (a reference for the caller) or ERR_PTR.
 */
struct dentry *pcshare_anchor_create(struct file *src, loff_t size)
{
	struct path root = {
		.mnt = src->f_path.mnt,
		.dentry = src->f_path.mnt->mnt_root,
	};
	const struct cred *old_cred;
	struct dentry *anchor;
	struct cred *cred;
	struct file *tmp;
	loff_t cloned;
	int ret;

	/* The anchor belongs to the module, not to whoever cloned. */
	cred = pcshare_prepare_kernel_cred();
	if (!cred)
		return ERR_PTR(-ENOMEM);
	old_cred = override_creds(cred);

	/*
	 * Freeze protection for making the inode only, as do_tmpfile() does.
	 * The clone takes its own (file_start_write()): holding ours across
	 * it would take sb_writers twice, which deadlocks against a freeze
	 * that starts in between (lockdep says so on the debug kernel).
	 */
	ret = mnt_want_write(root.mnt);
	if (ret)
		goto out_revert_creds;
	tmp = pcshare_tmpfile_open(root.mnt, &root, S_IFREG | 0400,
				   O_RDWR | O_EXCL | O_LARGEFILE, cred);
	mnt_drop_write(root.mnt);
	if (IS_ERR(tmp)) {
		ret = PTR_ERR(tmp);
		goto out_revert_creds;
	}

	/* Called from this module, so it bypasses our own clone hook. */
	cloned = vfs_clone_file_range(src, 0, tmp, 0, 0, 0);
	if (cloned != size) {
		ret = cloned < 0 ? cloned : -ESTALE;
		pr_warn_ratelimited("cannot clone %pD into an anchor (%d); not sharing it\n",
				    src, ret);
		goto out_put_tmp;
	}

	anchor = dget(tmp->f_path.dentry);
	fput(tmp);
	revert_creds(old_cred);
	put_cred(cred);
	atomic64_inc(&pcshare_stats.anchors_created);
	return anchor;

out_put_tmp:
	fput(tmp);
out_revert_creds:
	revert_creds(old_cred);
	put_cred(cred);
	return ERR_PTR(ret);
}

/**
 * pcshare_anchor_deny_write() - make the anchor immutable for everyone
 * @g: the group
 *
 * The temporary file that filled the anchor is released through task work,
 * so its write count may still be there: then we refuse for now and the
 * next activation tries again.
 *
 * Return: true when the anchor holds a deny-write count.
 */
bool pcshare_anchor_deny_write(struct pcshare_group *g)
{
	bool denied;

	spin_lock(&g->lock);
	if (!g->anchor_write_denied &&
	    atomic_dec_unless_positive(&pcshare_anchor_inode(g)->i_writecount))
		g->anchor_write_denied = true;
	denied = g->anchor_write_denied;
	spin_unlock(&g->lock);
	return denied;
}

/* Drop the anchor: the last reference to the group is gone. */
void pcshare_anchor_release(struct pcshare_group *g)
{
	if (g->anchor_write_denied)
		atomic_inc(&pcshare_anchor_inode(g)->i_writecount);
	dput(g->anchor);
}

/**
 * pcshare_anchor_open() - open the anchor read-only on a member's mount
 * @g: the group
 * @mnt: the mount of the member being mapped
 *
 * Used by mmap: vma_set_file() moves the VMA onto this file, so the VMA,
 * the anchor's i_mmap tree and the folios all agree (as overlayfs does).
 *
 * Return: the file or ERR_PTR.
 */
struct file *pcshare_anchor_open(struct pcshare_group *g,
				 struct vfsmount *mnt)
{
	struct path path = { .mnt = mnt, .dentry = g->anchor };

	return dentry_open(&path, O_RDONLY | O_LARGEFILE, current_cred());
}

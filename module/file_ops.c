// SPDX-License-Identifier: GPL-2.0
/*
 * File operations: per-open interposition, in the spirit of overlayfs's
 * stacked file operations.
 *
 * Every read-only open of a member gets a copy of its filesystem's
 * file_operations with read_iter, splice_read, mmap, fadvise, the ioctls
 * and release wrapped.  A file opened while its member is active reads
 * through the anchor (f_mapping is the anchor's i_data).  A break moves every such file
 * back to the member's own i_data before anything can write (see
 * pcshare_files_detach()), so fds opened before a break see the content
 * written after it (DESIGN.md 2.3), and so does every kernel path that
 * uses f_mapping without calling us: the compare of a dedupe, the size
 * checks of a clone, fsync, sync_file_range, readahead(2).
 *
 * A read uses one mapping for the whole call (filemap_read() samples
 * f_mapping once), so it returns either the old, identical content or the
 * new one, never a mix.
 *
 * fops->owner is this module: rmmod is refused while such files are open.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/module.h>
#include <linux/fadvise.h>
#include <linux/uio.h>
#include "pcshare.h"

/* Our copy of one filesystem's file_operations. */
struct pcshare_fops {
	struct file_operations fops;
	const struct file_operations *orig;
	struct list_head node;
};

static LIST_HEAD(pcshare_fops_list);
static DEFINE_MUTEX(pcshare_fops_mutex);

/* What we know about one wrapped file. */
struct pcshare_file {
	struct rhash_head hash;
	struct file *file;		/* key */
	struct pcshare_member *m;	/* holds a reference */
	struct pcshare_group *g;	/* keeps f_mapping's anchor alive */
	struct list_head m_node;	/* m->files, under m->lock */
	struct rcu_head rcu;
};

static const struct rhashtable_params pcshare_file_params = {
	.key_len = sizeof(struct file *),
	.key_offset = offsetof(struct pcshare_file, file),
	.head_offset = offsetof(struct pcshare_file, hash),
	.automatic_shrinking = true,
};

static struct rhashtable pcshare_file_table;

static const struct file_operations *pcshare_orig_fops(struct file *file)
{
	return container_of(file->f_op, struct pcshare_fops, fops)->orig;
}

static struct pcshare_file *pcshare_file_find(struct file *file)
{
	return rhashtable_lookup_fast(&pcshare_file_table, &file,
				      pcshare_file_params);
}

/*
 * Point a file that is not ours to anchor at its inode's own i_data, with
 * the writeback error cursor of that mapping, as do_dentry_open() would
 * have set them had i_mapping not pointed elsewhere.
 */
static void pcshare_file_own_mapping(struct file *file)
{
	struct address_space *own = &file_inode(file)->i_data;

	WRITE_ONCE(file->f_mapping, own);
	file->f_wb_err = filemap_sample_wb_err(own);
}

/*
 * Move @file back to its inode's own i_data when the member no longer
 * reads through the anchor @file was opened on.  pcshare_files_detach()
 * has normally done it at the break; this also covers a file that was
 * being wrapped meanwhile.  Never the other way: a file that may have VMAs
 * of its own must keep its f_mapping (VMAs are unlinked through it).
 */
static void pcshare_file_resolve(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct address_space *fm = READ_ONCE(file->f_mapping);

	if (fm != &inode->i_data && fm != READ_ONCE(inode->i_mapping))
		WRITE_ONCE(file->f_mapping, &inode->i_data);
}

/**
 * pcshare_file_settle() - bring a file of ours up to date before a remap
 * @file: any file
 *
 * The remap checks (generic_remap_checks()) size the source through
 * f_mapping->host: a file still pointing at the anchor of a member that
 * was broken and resized since would make a clone or dedupe fail where it
 * would succeed without us.
 */
void pcshare_file_settle(struct file *file)
{
	if (file->f_op->owner == THIS_MODULE)
		pcshare_file_resolve(file);
}

static ssize_t pcshare_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;

	pcshare_file_resolve(file);
	return pcshare_orig_fops(file)->read_iter(iocb, to);
}

static ssize_t pcshare_splice_read(struct file *in, loff_t *ppos,
				   struct pipe_inode_info *pipe, size_t len,
				   unsigned int flags)
{
	pcshare_file_resolve(in);
	return pcshare_orig_fops(in)->splice_read(in, ppos, pipe, len, flags);
}

static int pcshare_fadvise(struct file *file, loff_t offset, loff_t len,
			   int advice)
{
	const struct file_operations *orig = pcshare_orig_fops(file);

	pcshare_file_resolve(file);
	if (orig->fadvise)
		return orig->fadvise(file, offset, len, advice);
	return generic_fadvise(file, offset, len, advice);
}

/* The few ioctls that rewrite a file through a read-only fd break it first. */
static void pcshare_file_ioctl_check(struct file *file, unsigned int cmd)
{
	struct pcshare_file *pf;

	if (!pcshare_ioctl_rewrites(cmd))
		return;
	rcu_read_lock();
	pf = pcshare_file_find(file);
	rcu_read_unlock();
	/*
	 * Released only with the file: pf and its member reference live on.
	 * The break moves this file off the anchor (pcshare_files_detach()).
	 */
	if (!WARN_ON_ONCE(!pf))
		pcshare_break_for_ioctl(pf->m);
}

static long pcshare_unlocked_ioctl(struct file *file, unsigned int cmd,
				   unsigned long arg)
{
	pcshare_file_ioctl_check(file, cmd);
	return pcshare_orig_fops(file)->unlocked_ioctl(file, cmd, arg);
}

static long pcshare_compat_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	pcshare_file_ioctl_check(file, cmd);
	return pcshare_orig_fops(file)->compat_ioctl(file, cmd, arg);
}

/*
 * While the member is active, map the anchor itself: vma_set_file() moves
 * the VMA onto an anchor file, so the VMA, the anchor's i_mmap and its
 * folios agree, and the mapping keeps the content it had even if the
 * member is broken later (DESIGN.md 2.4).  Otherwise map the member's own
 * i_data, and remember that it now has VMAs there: such a member is never
 * activated again, since i_mapping must not change under their faults.
 */
static int pcshare_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);
	struct pcshare_file *pf;
	struct pcshare_member *m;
	struct pcshare_group *g = NULL;
	struct file *anchor_file;
	int ret;

	rcu_read_lock();
	pf = pcshare_file_find(file);
	rcu_read_unlock();
	if (WARN_ON_ONCE(!pf))
		return -EBADF;
	m = pf->m;

	spin_lock(&m->lock);
	if (m->state == PCSHARE_ACTIVE) {
		g = m->group;
		kref_get(&g->ref);
	} else {
		m->own_vmas = true;
	}
	spin_unlock(&m->lock);

	if (!g) {
		if (READ_ONCE(file->f_mapping) != &inode->i_data)
			WRITE_ONCE(file->f_mapping, &inode->i_data);
		return pcshare_orig_fops(file)->mmap(file, vma);
	}

	anchor_file = pcshare_anchor_open(g, file->f_path.mnt);
	if (IS_ERR(anchor_file)) {
		ret = PTR_ERR(anchor_file);
		goto out_put_group;
	}
	vma_set_file(vma, anchor_file);
	ret = pcshare_call_mmap(anchor_file, vma);
	fput(anchor_file);
out_put_group:
	pcshare_group_put(g);
	return ret;
}

static int pcshare_release(struct inode *inode, struct file *file)
{
	const struct file_operations *orig = pcshare_orig_fops(file);
	struct pcshare_file *pf;
	int ret = 0;

	pf = pcshare_file_find(file);
	if (!WARN_ON_ONCE(!pf)) {
		rhashtable_remove_fast(&pcshare_file_table, &pf->hash,
				       pcshare_file_params);
		spin_lock(&pf->m->lock);
		list_del(&pf->m_node);
		spin_unlock(&pf->m->lock);
		/* Before __fput() drops i_readcount; see pcshare_try_activate. */
		atomic_dec(&pf->m->nr_wrapped);
	}
	if (orig->release)
		ret = orig->release(inode, file);
	if (pf) {
		/* Nothing can read through this file any more. */
		WRITE_ONCE(file->f_mapping, &inode->i_data);
		pcshare_group_put(pf->g);
		pcshare_member_put(pf->m);
		kfree_rcu(pf, rcu);
		atomic64_dec(&pcshare_stats.wrapped_files);
	}
	return ret;
}

static struct pcshare_fops *pcshare_fops_get(const struct file_operations *orig)
{
	struct pcshare_fops *pfo;

	mutex_lock(&pcshare_fops_mutex);
	list_for_each_entry(pfo, &pcshare_fops_list, node) {
		if (pfo->orig == orig)
			goto out_unlock;
	}
	pfo = kzalloc(sizeof(*pfo), GFP_KERNEL);
	if (!pfo)
		goto out_unlock;
	pfo->orig = orig;
	pfo->fops = *orig;
	pfo->fops.owner = THIS_MODULE;
	if (orig->read_iter)
		pfo->fops.read_iter = pcshare_read_iter;
	if (orig->splice_read)
		pfo->fops.splice_read = pcshare_splice_read;
	if (orig->mmap)
		pfo->fops.mmap = pcshare_mmap;
	pfo->fops.fadvise = pcshare_fadvise;
	if (orig->unlocked_ioctl)
		pfo->fops.unlocked_ioctl = pcshare_unlocked_ioctl;
	if (orig->compat_ioctl)
		pfo->fops.compat_ioctl = pcshare_compat_ioctl;
	pfo->fops.release = pcshare_release;
	list_add(&pfo->node, &pcshare_fops_list);
out_unlock:
	mutex_unlock(&pcshare_fops_mutex);
	return pfo;
}

struct pcshare_file *pcshare_file_prepare(void)
{
	return kzalloc(sizeof(struct pcshare_file), GFP_KERNEL);
}

/**
 * pcshare_file_set_anchor() - make a wrapped file read through the anchor
 * @file: the file
 * @m: its member, active; the caller holds m->lock
 */
void pcshare_file_set_anchor(struct file *file, struct pcshare_member *m)
{
	struct pcshare_file *pf;

	lockdep_assert_held(&m->lock);
	rcu_read_lock();
	pf = pcshare_file_find(file);
	rcu_read_unlock();
	if (WARN_ON_ONCE(!pf || pf->g))
		return;
	pf->g = m->group;
	kref_get(&pf->g->ref);
	WRITE_ONCE(file->f_mapping, m->inode->i_mapping);
	/* fsync reports the errors of the mapping it writes back. */
	file->f_wb_err = filemap_sample_wb_err(file->f_mapping);
}

/**
 * pcshare_files_detach() - move a member's files off its anchor
 * @m: the member, being deactivated; the caller holds m->lock
 *
 * Called when the member stops reading through the anchor, before the
 * breaking writer gets write access.  From now on the anchor and the
 * member may differ, and the kernel reads some files' f_mapping without
 * asking us: a dedupe compares through it, a clone sizes its source by
 * f_mapping->host.  A read already in flight keeps the anchor it sampled,
 * whose content is still this file's until the writer writes.  No file of
 * ours has VMAs through the anchor's i_data (pcshare_mmap() maps the anchor
 * file itself), so no VMA is unlinked through the wrong mapping later.
 */
void pcshare_files_detach(struct pcshare_member *m)
{
	struct address_space *own = &m->inode->i_data;
	struct pcshare_file *pf;

	lockdep_assert_held(&m->lock);
	list_for_each_entry(pf, &m->files, m_node) {
		if (READ_ONCE(pf->file->f_mapping) != own)
			WRITE_ONCE(pf->file->f_mapping, own);
	}
}

/*
 * Wrap a freshly opened read-only file of a member.  Return false if it
 * cannot be wrapped; the caller then keeps it on the inode's own i_data.
 */
static bool pcshare_file_wrap(struct file *file, struct pcshare_member *m,
			      struct pcshare_file *pf)
{
	const struct file_operations *old = file->f_op;
	struct pcshare_fops *pfo;

	pfo = pcshare_fops_get(old);
	if (!pfo)
		return false;
	/* The file will run our code: pin the module as fops_get() would. */
	if (!try_module_get(THIS_MODULE))
		return false;
	pf->file = file;
	pf->m = m;
	kref_get(&m->ref);
	if (rhashtable_insert_fast(&pcshare_file_table, &pf->hash,
				   pcshare_file_params)) {
		pcshare_member_put(m);
		module_put(THIS_MODULE);
		return false;
	}
	spin_lock(&m->lock);
	list_add(&pf->m_node, &m->files);
	spin_unlock(&m->lock);
	atomic_inc(&m->nr_wrapped);
	atomic64_inc(&pcshare_stats.wrapped_files);
	file->f_op = &pfo->fops;
	fops_put(old);
	return true;
}

/*
 * Decide what a read-only open of a member reads through.  do_dentry_open()
 * copied inode->i_mapping into f_mapping; keep it only if it is still the
 * anchor of an active member, and pin that anchor for the file's lifetime.
 */
static void pcshare_file_opened(struct file *file, struct pcshare_member *m,
				struct pcshare_file **pfp)
{
	struct inode *inode = file_inode(file);
	/* O_ACCMODE 3 (ioctls only) reads nothing and is not in i_readcount. */
	bool reader = file->f_mode & FMODE_READ;
	bool wrapped = false, anchored = false;

	if (reader && *pfp && pcshare_file_wrap(file, m, *pfp)) {
		*pfp = NULL;
		wrapped = true;
	}

	spin_lock(&m->lock);
	if (file->f_mapping != &inode->i_data) {
		if (wrapped && m->state == PCSHARE_ACTIVE &&
		    file->f_mapping == inode->i_mapping) {
			pcshare_file_set_anchor(file, m);
			anchored = true;
		} else {
			pcshare_file_own_mapping(file);
		}
	}
	spin_unlock(&m->lock);

	/*
	 * A file anchored above and detached by a break since keeps its pin
	 * of that group: it does not activate the member again.
	 */
	if (wrapped && !anchored && file->f_mapping == &inode->i_data) {
		pcshare_try_activate(m, file);
	} else if (!wrapped && reader &&
		   READ_ONCE(m->state) == PCSHARE_ACTIVE) {
		/*
		 * A reader we could not wrap could map the member's own i_data
		 * while i_mapping points elsewhere: no sharing while it lives
		 * (its i_readcount keeps the member from activating again).
		 */
		pcshare_break(m, PCSHARE_BREAK_DETACH);
	}
}

/**
 * pcshare_fs_open() - the open hook, around a filesystem's ->open()
 * @orig: the filesystem's ->open()
 * @inode: the inode being opened (for an overlayfs real file, the real one)
 * @f: the file, with write access and f_mapping already set
 *
 * Files outside any group pay one RCU hash lookup.  For members:
 *  - an open for write, or with O_TRUNC (even O_RDONLY), breaks an active
 *    member before the file can be used (pcshare_break_for_write());
 *  - an open for ioctls only (O_ACCMODE 3) breaks it for good: it is not
 *    wrapped, so its ioctls could rewrite the member unseen
 *    (pcshare_break_for_ioctl());
 *  - a read-only open is wrapped and may activate the member.
 *
 * f_mapping was sampled from i_mapping before we were called, and the
 * anchor it may name can have been released since (the member broke and
 * its group died): we compare it, never dereference it, unless it is the
 * anchor of a member that is active now.  do_dentry_open() read it once
 * right after sampling (f_wb_err); the anchor's release waits for that
 * with synchronize_rcu_tasks() (registry.c).
 *
 * Return: what @orig returns.
 */
int pcshare_fs_open(pcshare_open_fn orig, struct inode *inode, struct file *f)
{
	struct pcshare_file *pf = NULL;
	struct pcshare_member *m;
	bool writeish = (f->f_mode & FMODE_WRITE) || (f->f_flags & O_TRUNC);
	int idx, ret;

	pcshare_hook_enter();
	idx = pcshare_srcu_open_enter();
	m = pcshare_member_lookup(inode);
	if (m && writeish) {
		pcshare_break_for_write(m, f->f_flags & O_TRUNC);
	} else if (m && !(f->f_mode & FMODE_READ)) {
		pcshare_break_for_ioctl(m);
	} else if (m) {
		pf = pcshare_file_prepare();
		/* An unwrapped reader must never see the anchor. */
		if (!pf && READ_ONCE(m->state) == PCSHARE_ACTIVE)
			pcshare_break(m, PCSHARE_BREAK_DETACH);
	}

	ret = orig(inode, f);

	if (!ret && m && !writeish)
		pcshare_file_opened(f, m, &pf);
	else if (!ret && S_ISREG(inode->i_mode) && f->f_mapping != &inode->i_data)
		pcshare_file_own_mapping(f);	/* a writer, or detached meanwhile */

	kfree(pf);
	pcshare_member_put(m);
	pcshare_srcu_open_exit(idx);
	pcshare_hook_exit();
	return ret;
}

int pcshare_file_ops_init(void)
{
	return rhashtable_init(&pcshare_file_table, &pcshare_file_params);
}

void pcshare_file_ops_exit(void)
{
	struct pcshare_fops *pfo, *tmp;

	/* Module refcounting guarantees no wrapped file is left. */
	rhashtable_destroy(&pcshare_file_table);
	list_for_each_entry_safe(pfo, tmp, &pcshare_fops_list, node) {
		list_del(&pfo->node);
		kfree(pfo);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Registry: the member table (an rhashtable keyed by inode pointer) and the
 * groups of members proven byte-identical.
 *
 * Lookups on the open and I/O paths are RCU-only.  Changes of group
 * membership take pcshare_registry_mutex; the mutex is never held across
 * an iput() or dput(), and allocations under it are GFP_NOFS (through
 * memalloc_nofs_save()), because a filesystem shrinker may evict a member,
 * and the eviction hook takes the same mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/iversion.h>
#include <linux/sched/mm.h>
#include <linux/workqueue.h>
#include <linux/srcu.h>
#include "pcshare.h"

/* Group membership, the member list, the group list, dedupe coverage. */
DEFINE_MUTEX(pcshare_registry_mutex);
LIST_HEAD(pcshare_groups);
static LIST_HEAD(pcshare_members);
static atomic64_t pcshare_next_group_id = ATOMIC64_INIT(0);
static struct workqueue_struct *pcshare_wq;
DEFINE_STATIC_SRCU(pcshare_open_srcu);

struct pcshare_group_release {
	struct work_struct work;
	struct pcshare_group *g;
};

static const struct rhashtable_params pcshare_member_params = {
	.key_len = sizeof(struct inode *),
	.key_offset = offsetof(struct pcshare_member, inode),
	.head_offset = offsetof(struct pcshare_member, hash),
	.automatic_shrinking = true,
};

static struct rhashtable pcshare_member_table;

int pcshare_srcu_open_enter(void)
{
	return srcu_read_lock(&pcshare_open_srcu);
}

void pcshare_srcu_open_exit(int idx)
{
	srcu_read_unlock(&pcshare_open_srcu, idx);
}

/**
 * pcshare_member_lookup() - find the member record of an inode
 * @inode: any inode
 *
 * Return: the member with a reference held, or NULL.  This is the check
 * every open pays: one RCU hash lookup, no lock.
 */
struct pcshare_member *pcshare_member_lookup(struct inode *inode)
{
	struct pcshare_member *m;

	if (!S_ISREG(inode->i_mode))
		return NULL;
	rcu_read_lock();
	m = rhashtable_lookup(&pcshare_member_table, &inode,
			      pcshare_member_params);
	if (m && !kref_get_unless_zero(&m->ref))
		m = NULL;
	rcu_read_unlock();
	return m;
}

static void pcshare_member_free(struct kref *ref)
{
	struct pcshare_member *m = container_of(ref, struct pcshare_member, ref);

	WARN_ON_ONCE(m->group);
	WARN_ON_ONCE(m->cover);
	kfree_rcu(m, rcu);
}

void pcshare_member_put(struct pcshare_member *m)
{
	if (m)
		kref_put(&m->ref, pcshare_member_free);
}

/**
 * pcshare_member_get_or_create() - the member record of an inode, made if
 * needed
 * @inode: a regular file taking part in a clone or dedupe
 *
 * Return: the member with a reference held, or NULL when out of memory or
 * shutting down (the caller then simply does not share).
 */
struct pcshare_member *pcshare_member_get_or_create(struct inode *inode)
{
	struct pcshare_member *m, *old;
	unsigned int nofs;

	m = pcshare_member_lookup(inode);
	if (m)
		return m;
	if (pcshare_shutting_down)
		return NULL;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	m->inode = inode;
	kref_init(&m->ref);	/* the table's reference */
	spin_lock_init(&m->lock);
	INIT_LIST_HEAD(&m->group_node);
	INIT_LIST_HEAD(&m->files);
	atomic64_set(&m->seq, 0);

	mutex_lock(&pcshare_registry_mutex);
	if (pcshare_shutting_down) {
		mutex_unlock(&pcshare_registry_mutex);
		kfree(m);
		return NULL;
	}
	nofs = memalloc_nofs_save();
	old = rhashtable_lookup_get_insert_fast(&pcshare_member_table,
						&m->hash,
						pcshare_member_params);
	memalloc_nofs_restore(nofs);
	if (old) {
		/* Lost a race; IS_ERR(old) means the insert failed. */
		if (!IS_ERR(old) && kref_get_unless_zero(&old->ref)) {
			mutex_unlock(&pcshare_registry_mutex);
			kfree(m);
			return old;
		}
		mutex_unlock(&pcshare_registry_mutex);
		kfree(m);
		return NULL;
	}
	list_add_tail(&m->all_node, &pcshare_members);
	atomic64_inc(&pcshare_stats.members);
	kref_get(&m->ref);	/* the caller's reference */
	mutex_unlock(&pcshare_registry_mutex);
	return m;
}

void pcshare_snapshot_take(struct inode *inode, struct pcshare_snapshot *s)
{
	/*
	 * inode_query_iversion() marks the counter as seen, so any later
	 * change of the content or of the metadata increments it.  Timestamps
	 * alone are too coarse: two writes in one jiffy look the same.
	 */
	s->iversion = inode_query_iversion(inode);
	s->ctime = pcshare_inode_ctime(inode);
	s->mtime = pcshare_inode_mtime(inode);
	s->size = i_size_read(inode);
}

bool pcshare_snapshot_same(struct inode *inode,
			   const struct pcshare_snapshot *s)
{
	struct timespec64 ctime = pcshare_inode_ctime(inode);
	struct timespec64 mtime = pcshare_inode_mtime(inode);

	return inode_peek_iversion(inode) == s->iversion &&
	       timespec64_equal(&ctime, &s->ctime) &&
	       timespec64_equal(&mtime, &s->mtime) &&
	       i_size_read(inode) == s->size;
}

static void pcshare_group_release_work(struct work_struct *work)
{
	struct pcshare_group_release *rel =
		container_of(work, struct pcshare_group_release, work);
	struct pcshare_group *g = rel->g;

	/*
	 * An open that started before the last member left may hold the
	 * anchor's i_data as f_mapping: do_dentry_open() copies i_mapping
	 * and reads the copy once (f_wb_err) before it calls ->open(), without
	 * sleeping in between; tasks-RCU waits for it, even if preempted.
	 * Then pcshare_fs_open() replaces the copy, inside this SRCU, without
	 * dereferencing it.
	 */
	synchronize_rcu_tasks();
	synchronize_srcu(&pcshare_open_srcu);
	pcshare_anchor_release(g);
	atomic64_dec(&pcshare_stats.groups);
	kfree(g);
	kfree(rel);
}

static void pcshare_group_free(struct kref *ref)
{
	struct pcshare_group *g = container_of(ref, struct pcshare_group, ref);

	/* The release work was allocated with the group: this cannot fail. */
	g->release->g = g;
	INIT_WORK(&g->release->work, pcshare_group_release_work);
	queue_work(pcshare_wq, &g->release->work);
}

void pcshare_group_put(struct pcshare_group *g)
{
	if (g)
		kref_put(&g->ref, pcshare_group_free);
}

/* Wait until every group whose last reference is gone has its anchor freed. */
void pcshare_groups_flush(void)
{
	flush_workqueue(pcshare_wq);
}

/* Called with pcshare_registry_mutex held; @m must not be active. */
void pcshare_member_leave_group(struct pcshare_member *m)
{
	struct pcshare_group *g;

	lockdep_assert_held(&pcshare_registry_mutex);
	spin_lock(&m->lock);
	g = m->group;
	if (!g || WARN_ON_ONCE(m->state == PCSHARE_ACTIVE)) {
		spin_unlock(&m->lock);
		return;
	}
	m->group = NULL;
	m->state = PCSHARE_NONE;
	spin_unlock(&m->lock);

	list_del_init(&m->group_node);
	g->nr_members--;
	if (!g->nr_members && !g->dead) {
		g->dead = true;
		list_del(&g->node);
		pcshare_group_put(g);	/* the list's reference */
	}
	pcshare_group_put(g);		/* the member's reference */
}

/* Called with pcshare_registry_mutex held. */
static void pcshare_member_join_group(struct pcshare_member *m,
				      struct pcshare_group *g,
				      const struct pcshare_snapshot *snap)
{
	lockdep_assert_held(&pcshare_registry_mutex);
	kref_get(&g->ref);
	spin_lock(&m->lock);
	m->group = g;
	m->snap = *snap;
	m->state = PCSHARE_REGISTERED;
	spin_unlock(&m->lock);
	list_add_tail(&m->group_node, &g->members);
	g->nr_members++;
}

void pcshare_cover_drop(struct pcshare_member *m)
{
	lockdep_assert_held(&pcshare_registry_mutex);
	if (!m->cover)
		return;
	pcshare_member_put(m->cover->src);
	kfree(m->cover);
	m->cover = NULL;
}

/* Make a group around @anchor, whose reference it takes over on success. */
static struct pcshare_group *pcshare_group_create(struct file *src_file,
						  loff_t size,
						  struct dentry *anchor)
{
	struct pcshare_group *g;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return NULL;
	g->release = kzalloc(sizeof(*g->release), GFP_KERNEL);
	if (!g->release)
		goto out_free_group;
	g->anchor = anchor;
	kref_init(&g->ref);	/* the list's reference */
	g->id = atomic64_inc_return(&pcshare_next_group_id);
	g->sb = file_inode(src_file)->i_sb;
	g->size = size;
	spin_lock_init(&g->lock);
	INIT_LIST_HEAD(&g->members);
	list_add_tail(&g->node, &pcshare_groups);
	atomic64_inc(&pcshare_stats.groups);
	return g;

out_free_group:
	kfree(g);
	return NULL;
}

/**
 * pcshare_register_pair() - record that two files are byte-identical
 * @src_file: the source of the clone or dedupe, open for read
 * @src: its member record
 * @src_snap: @src's inode as it was when the identity was proven
 * @src_seq: @src's change sequence when the identity was proven
 * @dst: the destination's member record
 * @dst_snap: the destination as it was when the identity was proven
 * @dst_seq: the destination's change sequence then
 *
 * The destination joins the source's group if the source is still provably
 * the group's content; otherwise a new group is made with a fresh anchor
 * cloned from the source.  Any doubt leaves both files unshared.
 *
 * The anchor is cloned without pcshare_registry_mutex held: the clone takes
 * the source's inode lock, and a task holding that lock may need the mutex
 * to evict a member in reclaim (pcshare.h gives the lock order).
 *
 * Return: 0 when registered, or -errno saying why not.
 */
int pcshare_register_pair(struct file *src_file, struct pcshare_member *src,
			  const struct pcshare_snapshot *src_snap, u64 src_seq,
			  struct pcshare_member *dst,
			  const struct pcshare_snapshot *dst_snap, u64 dst_seq)
{
	struct inode *src_inode = src->inode;
	struct pcshare_group *g = NULL;
	struct dentry *anchor = NULL;
	unsigned int nofs;
	int ret = -ESTALE;

	/* remap.c installed the open hook before step 1 of the protocol. */
again:
	mutex_lock(&pcshare_registry_mutex);
	nofs = memalloc_nofs_save();
	if (src->dead || dst->dead || pcshare_shutting_down)
		goto out_unlock;
	if (atomic64_read(&src->seq) != src_seq ||
	    atomic64_read(&dst->seq) != dst_seq)
		goto out_unlock;

	spin_lock(&src->lock);
	if (src->group &&
	    (src->state == PCSHARE_ACTIVE ||
	     (src->state == PCSHARE_REGISTERED &&
	      pcshare_snapshot_same(src_inode, &src->snap))) &&
	    src->group->size == src_snap->size) {
		g = src->group;
		kref_get(&g->ref);
	}
	spin_unlock(&src->lock);

	if (!g) {
		/* The source changed since it joined, or never joined. */
		if (src->group && src->state != PCSHARE_ACTIVE) {
			pcshare_member_leave_group(src);
			atomic64_inc(&pcshare_stats.breaks[PCSHARE_BREAK_CHANGED]);
		}
		if (src->group)
			goto out_unlock;	/* active elsewhere: leave it */

		if (!anchor) {
			memalloc_nofs_restore(nofs);
			mutex_unlock(&pcshare_registry_mutex);
			anchor = pcshare_anchor_create(src_file, src_snap->size);
			if (IS_ERR(anchor)) {
				atomic64_inc(&pcshare_stats.anchor_failures);
				return PTR_ERR(anchor);
			}
			/* Everything may have changed meanwhile: look again. */
			goto again;
		}
		g = pcshare_group_create(src_file, src_snap->size, anchor);
		if (!g) {
			atomic64_inc(&pcshare_stats.anchor_failures);
			ret = -ENOMEM;
			goto out_unlock;
		}
		anchor = NULL;	/* the group's now */
		kref_get(&g->ref);
		/*
		 * The anchor holds the source's content as of now.  It is the
		 * content both files had when the identity was proven only if
		 * the source did not change in between.
		 */
		if (atomic64_read(&src->seq) != src_seq ||
		    !pcshare_snapshot_same(src_inode, src_snap)) {
			g->dead = true;
			list_del(&g->node);
			pcshare_group_put(g);
			goto out_put_group;
		}
		pcshare_member_join_group(src, g, src_snap);
	}

	if (dst->group != g) {
		if (dst->group) {
			if (dst->state == PCSHARE_ACTIVE)
				goto out_put_group;	/* cannot happen */
			pcshare_member_leave_group(dst);
		}
		pcshare_member_join_group(dst, g, dst_snap);
	} else if (dst->state == PCSHARE_REGISTERED) {
		spin_lock(&dst->lock);
		dst->snap = *dst_snap;
		spin_unlock(&dst->lock);
	}
	atomic64_inc(&pcshare_stats.registrations);
	ret = 0;

out_put_group:
	memalloc_nofs_restore(nofs);
	mutex_unlock(&pcshare_registry_mutex);
	pcshare_group_put(g);
	goto out_put_anchor;

out_unlock:
	memalloc_nofs_restore(nofs);
	mutex_unlock(&pcshare_registry_mutex);
out_put_anchor:
	/* Not needed after all (another registration won): outside the mutex. */
	dput(anchor);
	return ret;
}

/*
 * Remove a member from the table.  Called with the mutex held, when the
 * inode has no users (eviction, unmount) or after a break.
 */
static void pcshare_member_unhash(struct pcshare_member *m)
{
	lockdep_assert_held(&pcshare_registry_mutex);
	if (m->dead)
		return;
	pcshare_cover_drop(m);
	pcshare_member_leave_group(m);
	m->dead = true;
	rhashtable_remove_fast(&pcshare_member_table, &m->hash,
			       pcshare_member_params);
	list_del(&m->all_node);
	atomic64_dec(&pcshare_stats.members);
	atomic64_inc(&pcshare_stats.detaches);
	pcshare_member_put(m);	/* the table's reference */
}

/**
 * pcshare_member_forget() - detach an inode that is being evicted
 * @m: its member record (the caller holds a reference)
 *
 * The inode has no users left, so an active member is restored without the
 * inode lock.
 */
void pcshare_member_forget(struct pcshare_member *m)
{
	mutex_lock(&pcshare_registry_mutex);
	pcshare_deactivate_unused(m);
	pcshare_member_unhash(m);
	mutex_unlock(&pcshare_registry_mutex);
}

/*
 * Detach every member for which @match says yes.  Each one is taken out of
 * the list under the mutex, then broken with the inode lock held (the lock
 * order is inode before mutex), then unhashed.
 */
static void pcshare_detach_matching(bool (*match)(struct pcshare_member *,
						  void *), void *arg)
{
	struct pcshare_member *m;
	struct inode *inode;

	for (;;) {
		bool busy = false;

		mutex_lock(&pcshare_registry_mutex);
		inode = NULL;
		list_for_each_entry(m, &pcshare_members, all_node) {
			if (!match(m, arg))
				continue;
			inode = igrab(m->inode);
			if (inode) {
				kref_get(&m->ref);
				break;
			}
			/* Being evicted: the eviction hook detaches it. */
			busy = true;
		}
		mutex_unlock(&pcshare_registry_mutex);

		if (!inode) {
			if (!busy)
				return;
			schedule_timeout_uninterruptible(1);
			continue;
		}
		pcshare_break(m, PCSHARE_BREAK_DETACH);
		mutex_lock(&pcshare_registry_mutex);
		pcshare_member_unhash(m);
		mutex_unlock(&pcshare_registry_mutex);
		pcshare_member_put(m);
		iput(inode);
	}
}

static bool pcshare_match_sb(struct pcshare_member *m, void *sb)
{
	return m->inode->i_sb == sb;
}

static bool pcshare_match_all(struct pcshare_member *m, void *unused)
{
	return true;
}

/**
 * pcshare_detach_sb() - detach every member and anchor of a superblock
 * @sb: the superblock being shut down
 *
 * Runs before generic_shutdown_super() evicts inodes, so that no pin of
 * ours makes it report "Busy inodes after unmount".
 */
void pcshare_detach_sb(struct super_block *sb)
{
	struct pcshare_group *g;
	bool left = false;

	pcshare_detach_matching(pcshare_match_sb, sb);
	pcshare_groups_flush();

	mutex_lock(&pcshare_registry_mutex);
	list_for_each_entry(g, &pcshare_groups, node)
		left |= g->sb == sb;
	mutex_unlock(&pcshare_registry_mutex);
	WARN_ON_ONCE(left);
}

/* Detach everything: module exit. */
void pcshare_detach_all(void)
{
	pcshare_detach_matching(pcshare_match_all, NULL);
	pcshare_groups_flush();
	WARN_ON_ONCE(!list_empty(&pcshare_groups));
}

int pcshare_registry_init(void)
{
	int ret;

	pcshare_wq = alloc_workqueue("pcshare", WQ_UNBOUND, 0);
	if (!pcshare_wq)
		return -ENOMEM;
	ret = rhashtable_init(&pcshare_member_table, &pcshare_member_params);
	if (ret)
		goto out_destroy_wq;
	return 0;

out_destroy_wq:
	destroy_workqueue(pcshare_wq);
	return ret;
}

void pcshare_registry_exit(void)
{
	WARN_ON_ONCE(!list_empty(&pcshare_members));
	rhashtable_destroy(&pcshare_member_table);
	destroy_workqueue(pcshare_wq);
	/* Outstanding kfree_rcu() of members must finish before unload. */
	rcu_barrier();
}

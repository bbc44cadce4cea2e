// SPDX-License-Identifier: GPL-2.0
/*
 * Registration from the clone and dedupe paths (DESIGN.md 2.5).
 *
 * A successful whole-file clone, or dedupes at equal offsets that add up to
 * both whole files, prove two files byte-identical at one moment.  What we
 * must make sure is that nothing changed either file between that moment
 * and the snapshot we take of it afterwards.  The protocol:
 *
 *  1. Before the remap, both files get a member record, then we read their
 *     change sequences, then their write counts.  A write count above zero
 *     (other than the caller's own fd, which no other task can use during
 *     the call) means a writer we cannot see: no registration.
 *  2. Any writer that opens later finds the member record (its open hook,
 *     installed before step 1, looks up after get_write_access(), a full
 *     barrier) and bumps the sequence; truncation bumps it through
 *     notify_change.
 *  3. After the remap we snapshot both files (iversion, marked as queried
 *     so that every later change increments it), then check that neither
 *     sequence moved.
 *
 * The destination is broken before the remap runs: XFS locks both inodes'
 * MMAPLOCK through i_mapping, and two inodes sharing one i_mapping would
 * unbalance it (KERNEL-NOTES.md).
 *
 * The module never changes a clone's or dedupe's result.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/file.h>
#include <linux/sched/mm.h>
#include <linux/delay.h>
#include "pcshare.h"

struct pcshare_remap {
	struct pcshare_member *src;
	struct pcshare_member *dst;
	u64 src_seq;
	u64 dst_seq;
	bool dedupe;
	/* Timestamps before the call; a dedupe must not change them. */
	struct timespec64 src_mtime, src_ctime, dst_mtime, dst_ctime;
};

static void pcshare_remap_times(struct file *file, struct timespec64 *mtime,
				struct timespec64 *ctime)
{
	*mtime = pcshare_inode_mtime(file_inode(file));
	*ctime = pcshare_inode_ctime(file_inode(file));
}

static bool pcshare_remap_times_same(struct file *file,
				     const struct timespec64 *mtime,
				     const struct timespec64 *ctime)
{
	struct timespec64 m, c;

	pcshare_remap_times(file, &m, &c);
	return timespec64_equal(&m, mtime) && timespec64_equal(&c, ctime);
}

/*
 * A file whose mtime and ctime are at least this old has not been written
 * in that time: every write path updates them (file_modified()) before it
 * copies data.
 */
#define PCSHARE_COLD_SECONDS 2

static bool pcshare_cold(struct inode *inode)
{
	struct timespec64 now = current_time(inode);
	struct timespec64 mtime = pcshare_inode_mtime(inode);
	struct timespec64 ctime = pcshare_inode_ctime(inode);

	return now.tv_sec - mtime.tv_sec >= PCSHARE_COLD_SECONDS &&
	       now.tv_sec - ctime.tv_sec >= PCSHARE_COLD_SECONDS;
}

/*
 * Can writes to @file's inode happen behind our back during this call?
 * No, if nobody has it open for write.  Nor if the only writer is the
 * caller's own @file and:
 *  - only the descriptor table of a single-threaded caller, now busy in
 *    this call, references it; or
 *  - for a dedupe, which leaves mtime and ctime alone: the table and this
 *    call reference it (fdget() takes a reference in a multi-threaded
 *    process, as in duperemove, which opens its files O_RDWR), and the
 *    file is cold.  Another thread's write would hold a third reference
 *    while it runs and would make the file warm again, which
 *    pcshare_remap_settled() checks.
 */
static bool pcshare_writers_ok(struct file *file, bool dedupe)
{
	struct inode *inode = file_inode(file);
	int writers = atomic_read(&inode->i_writecount);

	if (writers <= 0)
		return true;
	if (writers != 1 || !(file->f_mode & FMODE_WRITE))
		return false;
	if (file_count(file) == 1)
		return true;
	return dedupe && file_count(file) == 2 && pcshare_cold(inode);
}

static bool pcshare_remap_candidate(struct file *src, struct file *dst)
{
	struct inode *si = file_inode(src);
	struct inode *di = file_inode(dst);

	return READ_ONCE(pcshare_enable) && !pcshare_shutting_down &&
	       si != di && S_ISREG(si->i_mode) && S_ISREG(di->i_mode) &&
	       si->i_sb == di->i_sb && pcshare_fs_allowed(si->i_sb);
}

/* Step 1 of the protocol.  @r->dst may already hold the destination. */
static bool pcshare_remap_begin(struct pcshare_remap *r, struct file *src,
				struct file *dst)
{
	/*
	 * Step 2 relies on every later writer passing our open hook: it must
	 * be in place before we look at the write counts.  Installing it
	 * patches every CPU before it returns.
	 */
	if (pcshare_open_hook_ensure(file_inode(src)))
		return false;
	r->src = pcshare_member_get_or_create(file_inode(src));
	if (!r->dst)
		r->dst = pcshare_member_get_or_create(file_inode(dst));
	if (!r->src || !r->dst)
		return false;
	/*
	 * Pairs with the full barrier of get_write_access() in an opener,
	 * which looks the member up afterwards: either it finds the record
	 * and bumps the sequence, or we see its write count below.
	 */
	smp_mb();
	r->src_seq = atomic64_read(&r->src->seq);
	r->dst_seq = atomic64_read(&r->dst->seq);
	/* Sequences first, write counts second: see the comment above. */
	smp_mb();
	pcshare_remap_times(src, &r->src_mtime, &r->src_ctime);
	pcshare_remap_times(dst, &r->dst_mtime, &r->dst_ctime);
	return pcshare_writers_ok(src, r->dedupe) &&
	       pcshare_writers_ok(dst, r->dedupe);
}

/* Step 3: snapshot, then check that nothing moved. */
static bool pcshare_remap_settled(struct pcshare_remap *r, struct file *src,
				  struct file *dst,
				  struct pcshare_snapshot *src_snap,
				  struct pcshare_snapshot *dst_snap)
{
	pcshare_snapshot_take(file_inode(src), src_snap);
	pcshare_snapshot_take(file_inode(dst), dst_snap);
	/* A change after the snapshot bumped a sequence we now read. */
	smp_mb();
	if (atomic64_read(&r->src->seq) != r->src_seq ||
	    atomic64_read(&r->dst->seq) != r->dst_seq ||
	    !pcshare_writers_ok(src, r->dedupe) ||
	    !pcshare_writers_ok(dst, r->dedupe))
		return false;
	return !r->dedupe ||
	       (pcshare_remap_times_same(src, &r->src_mtime, &r->src_ctime) &&
		pcshare_remap_times_same(dst, &r->dst_mtime, &r->dst_ctime));
}

/* Test only: give a racing writer time to break a member (test 125). */
static void pcshare_remap_test_delay(void)
{
	unsigned int ms = READ_ONCE(pcshare_test_remap_delay_ms);

	if (ms)
		msleep(ms);
}

static void pcshare_remap_put(struct pcshare_remap *r)
{
	pcshare_member_put(r->src);
	pcshare_member_put(r->dst);
}

/*
 * Break an active destination of a remap before the remap runs.  A
 * registered one keeps its place: a clone into it changes its snapshot,
 * and a dedupe leaves its bytes alone.
 */
static struct pcshare_member *pcshare_remap_break_dest(struct file *dst)
{
	struct pcshare_member *m = pcshare_member_lookup(file_inode(dst));

	if (m && READ_ONCE(m->state) == PCSHARE_ACTIVE)
		pcshare_break(m, PCSHARE_BREAK_REMAP_DEST);
	return m;
}

loff_t pcshare_vfs_clone_file_range(struct file *file_in, loff_t pos_in,
				    struct file *file_out, loff_t pos_out,
				    loff_t len, unsigned int remap_flags)
{
	struct pcshare_snapshot src_snap, dst_snap;
	struct pcshare_remap r = { };
	bool track;
	loff_t ret;

	pcshare_hook_enter();
	r.dst = pcshare_remap_break_dest(file_out);
	/*
	 * generic_remap_checks() takes both inodes from f_mapping->host:
	 * two fds opened on one anchor would look like one file.
	 */
	pcshare_file_settle(file_in);
	pcshare_file_settle(file_out);
	pcshare_remap_test_delay();
	track = pos_in == 0 && pos_out == 0 &&
		pcshare_remap_candidate(file_in, file_out) &&
		pcshare_remap_begin(&r, file_in, file_out);

	ret = pcshare_orig_vfs_clone_file_range(file_in, pos_in, file_out,
						pos_out, len, remap_flags);

	if (track && ret > 0 && ret == i_size_read(file_inode(file_in)) &&
	    ret == i_size_read(file_inode(file_out)) &&
	    pcshare_remap_settled(&r, file_in, file_out, &src_snap, &dst_snap))
		pcshare_register_pair(file_in, r.src, &src_snap, r.src_seq,
				      r.dst, &dst_snap, r.dst_seq);
	pcshare_remap_put(&r);
	pcshare_hook_exit();
	return ret;
}

/* Add [start, end) to the sorted, merged ranges; false on overflow. */
static bool pcshare_cover_add(struct pcshare_cover *c, loff_t start,
			      loff_t end)
{
	unsigned int i, j;

	for (i = 0; i < c->nr; i++) {
		if (end < c->range[i].start)
			break;
		if (start > c->range[i].end)
			continue;
		/* Overlapping or adjacent: absorb range i and any after it. */
		start = min(start, c->range[i].start);
		end = max(end, c->range[i].end);
		for (j = i + 1; j < c->nr && c->range[j].start <= end; j++)
			end = max(end, c->range[j].end);
		c->range[i].start = start;
		c->range[i].end = end;
		memmove(&c->range[i + 1], &c->range[j],
			(c->nr - j) * sizeof(c->range[0]));
		c->nr -= j - i - 1;
		return true;
	}
	if (c->nr == PCSHARE_COVER_MAX)
		return false;
	memmove(&c->range[i + 1], &c->range[i],
		(c->nr - i) * sizeof(c->range[0]));
	c->range[i].start = start;
	c->range[i].end = end;
	c->nr++;
	return true;
}

/*
 * Step 1 for dedupe.  Coverage lives in the destination's member record
 * across calls; between calls, the snapshots taken at the end of the
 * previous call must still hold, and the sequences must not have moved.
 */
static bool pcshare_cover_begin(struct pcshare_remap *r, struct file *src,
				struct file *dst)
{
	struct pcshare_cover *c;
	unsigned int nofs;
	bool ok;

	ok = pcshare_remap_begin(r, src, dst);
	if (!r->src || !r->dst)
		return false;

	mutex_lock(&pcshare_registry_mutex);
	nofs = memalloc_nofs_save();
	c = r->dst->cover;
	if (c && (!ok || c->src != r->src || c->src_seq != r->src_seq ||
		  c->dst_seq != r->dst_seq ||
		  !pcshare_snapshot_same(file_inode(src), &c->src_snap) ||
		  !pcshare_snapshot_same(file_inode(dst), &c->dst_snap)))
		pcshare_cover_drop(r->dst);
	if (ok && !r->dst->cover && !r->dst->dead) {
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (c) {
			kref_get(&r->src->ref);
			c->src = r->src;
			c->src_seq = r->src_seq;
			c->dst_seq = r->dst_seq;
			r->dst->cover = c;
		}
	}
	ok = ok && r->dst->cover;
	memalloc_nofs_restore(nofs);
	mutex_unlock(&pcshare_registry_mutex);
	return ok;
}

/* Step 3 for dedupe: record the range, register once both are covered. */
static void pcshare_cover_end(struct pcshare_remap *r, struct file *src,
			      struct file *dst, loff_t pos, loff_t deduped)
{
	struct pcshare_snapshot src_snap, dst_snap;
	struct pcshare_cover *c;
	bool whole = false;
	loff_t size;

	mutex_lock(&pcshare_registry_mutex);
	c = r->dst->cover;
	if (!c || c->src != r->src)
		goto out_unlock;
	if (!pcshare_remap_settled(r, src, dst, &c->src_snap, &c->dst_snap) ||
	    !pcshare_cover_add(c, pos, pos + deduped)) {
		pcshare_cover_drop(r->dst);
		goto out_unlock;
	}
	size = c->src_snap.size;
	if (size > 0 && size == c->dst_snap.size && c->nr == 1 &&
	    c->range[0].start == 0 && c->range[0].end >= size) {
		whole = true;
		src_snap = c->src_snap;
		dst_snap = c->dst_snap;
		pcshare_cover_drop(r->dst);
	}
out_unlock:
	mutex_unlock(&pcshare_registry_mutex);
	if (whole)
		pcshare_register_pair(src, r->src, &src_snap, r->src_seq,
				      r->dst, &dst_snap, r->dst_seq);
}

loff_t pcshare_vfs_dedupe_file_range_one(struct file *src, loff_t src_pos,
					 struct file *dst, loff_t dst_pos,
					 loff_t len, unsigned int flags)
{
	struct pcshare_remap r = { .dedupe = true };
	bool track;
	loff_t ret;

	pcshare_hook_enter();
	r.dst = pcshare_remap_break_dest(dst);
	/*
	 * generic_remap_checks() takes both inodes from f_mapping->host:
	 * two fds opened on one anchor would look like one file.
	 */
	pcshare_file_settle(src);
	pcshare_file_settle(dst);
	pcshare_remap_test_delay();
	track = src_pos == dst_pos && pcshare_remap_candidate(src, dst) &&
		pcshare_cover_begin(&r, src, dst);

	ret = pcshare_orig_vfs_dedupe_file_range_one(src, src_pos, dst,
						     dst_pos, len, flags);

	if (track && ret > 0)
		pcshare_cover_end(&r, src, dst, dst_pos, ret);
	pcshare_remap_put(&r);
	pcshare_hook_exit();
	return ret;
}

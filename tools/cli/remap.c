// SPDX-License-Identifier: GPL-2.0
/*
 * Dedupe one group of identical files with FIDEDUPERANGE.
 *
 * The first file (by path) is the source. Every other file is a destination,
 * opened read-only: the kernel allows that for the file's owner and for
 * CAP_SYS_ADMIN, and the pcshare module only registers a destination that
 * nobody holds open for write. Each call carries as many destinations as fit
 * in one page, at most 1 GiB of range, source offset == destination offset;
 * calls walk the file from 0 to EOF, so the deduped ranges of each pair add
 * up to both whole files, which is what the module waits for. The kernel
 * compares the bytes itself; we never write anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pcshare.h"

#define MIB		(1ull << 20)
#define MAX_CALL_LEN	(1ull << 30)	/* the VFS caps one call at 1 GiB anyway */

const char *const result_names[] = {
	[R_NONE] = "none",
	[R_SOURCE] = "source",
	[R_DEDUPED] = "deduped",
	[R_RESHARED] = "registered",
	[R_ALREADY] = "already_shared",
	[R_INLINE] = "inline",
	[R_PLANNED] = "would_dedupe",
	[R_PLANNED_RESHARE] = "would_register",
	[R_CHANGED] = "changed",
	[R_ERROR] = "error",
};

static size_t max_dests(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (page - sizeof(struct file_dedupe_range)) / sizeof(struct file_dedupe_range_info);
}

static void set_failed(struct gfile *gf, struct stats *st, const char *op, int err)
{
	gf->result = err == ERR_CHANGED ? R_CHANGED : R_ERROR;
	gf->err = err;
	note_error(st, gf->fe->path, op, err);
}

static bool fd_changed(int fd, const struct fent *fe)
{
	struct stat sb;

	return fstat(fd, &sb) || (uint64_t)sb.st_size != fe->size ||
	       sb.st_mtim.tv_sec != fe->mtime.tv_sec || sb.st_mtim.tv_nsec != fe->mtime.tv_nsec ||
	       sb.st_ctim.tv_sec != fe->ctime.tv_sec || sb.st_ctim.tv_nsec != fe->ctime.tv_nsec;
}

/*
 * Is the pair already shared as far as the module is concerned: same module
 * group, both members active? A member that is only registered may never
 * become active (a copy whose times were set after its clone, as by
 * cp -a --reflink, no longer matches what was registered), so such a pair
 * is passed to the kernel once more, which registers it afresh. Without a
 * visible group list we cannot tell, and say no too.
 */
static bool module_has_pair(const struct dedupe_opts *o, const struct fent *a, const struct fent *b)
{
	const struct mmember *ma, *mb;
	const struct mgroup *ga, *gb;
	uint64_t sbdev;

	if (!o->mgroups)
		return false;
	sbdev = mount_sb_dev(a->fskey);
	ga = module_find(o->mgroups, a->dev, sbdev, a->ino, &ma);
	gb = module_find(o->mgroups, b->dev, sbdev, b->ino, &mb);
	return ga && ga == gb && !strcmp(ma->state, "active") && !strcmp(mb->state, "active");
}

struct dest {
	struct gfile *gf;
	int fd;
	struct extmap map;
	bool reshare;		/* extents already shared: only the module gains */
	bool active;
	uint64_t done;		/* next offset to dedupe */
	uint64_t kbytes;	/* bytes_deduped, as the kernel counts */
	int stalls;
};

/*
 * Count what a destination gained on disk: its blocks below `upto`, which
 * now are the source's. Holes count nothing. Without an extent map, trust
 * the kernel's count.
 */
static void account(struct dest *x, struct stats *st, uint64_t upto)
{
	uint64_t b = x->map.valid ? extmap_bytes(&x->map, upto) : x->kbytes;

	x->gf->bytes = b;
	atomic_fetch_add(x->reshare ? &st->bytes_reshared : &st->bytes_deduped, b);
}

static void dest_failed(struct dest *x, struct stats *st, int err)
{
	/* EINVAL for a range past a new EOF, say: the file changed, that is all. */
	if (err != ERR_CHANGED && fd_changed(x->fd, x->gf->fe))
		err = ERR_CHANGED;
	x->active = false;
	account(x, st, x->done);
	set_failed(x->gf, st, "dedupe", err);
}

enum batch_end { BATCH_OK, BATCH_SOURCE_CHANGED };

static void finish_dest(struct dest *d, struct stats *st, const struct dedupe_opts *o, uint64_t size)
{
	d->gf->result = d->reshare ? R_RESHARED : R_DEDUPED;
	account(d, st, size);
	atomic_fetch_add(d->reshare ? &st->files_reshared : &st->files_deduped, 1);
	if (o->module)
		atomic_fetch_add(&st->cache_shareable, size);
}

/* The first offset >= pos that lies in a range, and that range's end. */
static uint64_t next_needed(const struct range *r, size_t nr, uint64_t pos, uint64_t *end)
{
	for (size_t i = 0; i < nr; i++) {
		if (r[i].end <= pos)
			continue;
		*end = r[i].end;
		return pos > r[i].start ? pos : r[i].start;
	}
	return UINT64_MAX;
}

/*
 * Which ranges to pass to the kernel. With the module loaded: the whole file,
 * since it registers a pair only when the ranges add up to both whole files.
 * Without it: only where some destination has blocks; where all of them have
 * holes there is nothing to free, and the kernel's compare of holes costs as
 * much as of data.
 */
static size_t batch_ranges(struct dest *d, size_t nd, uint64_t size, bool whole,
			   struct range **out)
{
	const struct extmap **maps;
	size_t n;

	for (size_t i = 0; i < nd && !whole; i++)
		if (!d[i].map.valid)
			whole = true;
	if (whole) {
		*out = xmalloc(sizeof(**out));
		(*out)[0] = (struct range){ 0, size };
		return 1;
	}
	maps = xmalloc(nd * sizeof(*maps));
	for (size_t i = 0; i < nd; i++)
		maps[i] = &d[i].map;
	n = extmap_union(maps, nd, size, out);
	free(maps);
	return n;
}

/* Dedupe the needed ranges of every destination against the source. */
static enum batch_end run_batch(struct gfile *src, int sfd, struct dest *d, size_t nd,
				uint64_t size, struct stats *st, const struct dedupe_opts *o)
{
	size_t cap = max_dests(), nr;
	struct file_dedupe_range *r = xcalloc(1, sizeof(*r) + cap * sizeof(r->info[0]));
	size_t *idx = xmalloc(cap * sizeof(*idx));
	uint64_t chunk = MAX_CALL_LEN, rend = 0;
	enum batch_end end = BATCH_OK;
	struct range *ranges;

	nr = batch_ranges(d, nd, size, o->module, &ranges);
	for (size_t i = 0; i < nd; i++) {
		d[i].done = next_needed(ranges, nr, 0, &rend);
		if (d[i].done == UINT64_MAX) {
			d[i].active = false;
			finish_dest(&d[i], st, o, size);
		}
	}
	if (!o->cached) {
		/* Bound what the prefetch below may pin: source + destinations. */
		chunk = o->budget / (nd + 1) & ~(MIB - 1);
		if (chunk < MIB)
			chunk = MIB;
		if (chunk > MAX_CALL_LEN)
			chunk = MAX_CALL_LEN;
	}
	for (;;) {
		uint64_t off = UINT64_MAX, len;
		size_t k = 0, differs = 0;

		for (size_t i = 0; i < nd; i++)
			if (d[i].active && d[i].done < off)
				off = d[i].done;
		if (off == UINT64_MAX || atomic_load(&stop_requested))
			break;
		next_needed(ranges, nr, off, &rend);
		len = rend - off < chunk ? rend - off : chunk;
		memset(r, 0, sizeof(*r));
		r->src_offset = off;
		r->src_length = len;
		for (size_t i = 0; i < nd && k < cap; i++) {
			if (!d[i].active || d[i].done != off)
				continue;
			memset(&r->info[k], 0, sizeof(r->info[k]));
			r->info[k].dest_fd = d[i].fd;
			r->info[k].dest_offset = off;
			idx[k++] = i;
		}
		r->dest_count = k;
		if (!o->cached) {
			/* The compare reads one page at a time, synchronously: read ahead in bulk. */
			cache_prefetch(sfd, off, len);
			for (size_t j = 0; j < k; j++)
				cache_prefetch(d[idx[j]].fd, off, len);
		}
		if (ioctl(sfd, FIDEDUPERANGE, r) < 0) {
			int err = errno;

			if (fd_changed(sfd, src->fe)) {
				end = BATCH_SOURCE_CHANGED;
				break;
			}
			for (size_t j = 0; j < k; j++)
				dest_failed(&d[idx[j]], st, err);
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			struct file_dedupe_range_info *info = &r->info[j];
			struct dest *x = &d[idx[j]];

			if (info->status == FILE_DEDUPE_RANGE_DIFFERS) {
				differs++;
				x->active = false;
				continue;
			}
			if (info->status < 0) {
				dest_failed(x, st, -info->status);
				continue;
			}
			x->kbytes += info->bytes_deduped;
			/* No progress means the source got shorter. */
			if (info->bytes_deduped == 0 && ++x->stalls > 1) {
				dest_failed(x, st, fd_changed(sfd, src->fe) ? ERR_CHANGED : EAGAIN);
				continue;
			}
			x->done = next_needed(ranges, nr, x->done + info->bytes_deduped, &rend);
			if (x->done == UINT64_MAX) {
				x->active = false;
				finish_dest(x, st, o, size);
			}
		}
		if (differs) {
			/* All differ: the source is the one that changed, if any did. */
			if (differs == k && fd_changed(sfd, src->fe)) {
				for (size_t j = 0; j < k; j++)
					d[idx[j]].active = true;
				end = BATCH_SOURCE_CHANGED;
				break;
			}
			for (size_t j = 0; j < k; j++) {
				struct dest *x = &d[idx[j]];

				if (!x->active && x->gf->result == R_NONE)
					dest_failed(x, st, ERR_CHANGED);
			}
		}
	}
	free(ranges);
	free(idx);
	free(r);
	return end;
}

/*
 * Testing aid: PCSHARE_TEST_HOOK_BEFORE_DEDUPE is run by /bin/sh, with the
 * group's paths as $1..., after the files were checked and opened and before
 * the first FIDEDUPERANGE of the group, so a test can change a file exactly
 * there. Hooks run one at a time.
 */
static void test_hook(const struct dgroup *g)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *hook = getenv("PCSHARE_TEST_HOOK_BEFORE_DEDUPE");
	char **argv;
	pid_t pid;

	if (!hook || !*hook)
		return;
	argv = xcalloc(g->n + 5, sizeof(*argv));
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)hook;
	argv[3] = "pcshare-test-hook";
	for (size_t i = 0; i < g->n; i++)
		argv[4 + i] = g->f[i].fe->path;
	pthread_mutex_lock(&lock);
	pid = fork();
	if (pid == 0) {
		execv("/bin/sh", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	pthread_mutex_unlock(&lock);
	free(argv);
}

/* Done with a file: drop the cache we filled, close it. */
static void release(int fd, struct gfile *gf, uint64_t size)
{
	cache_drop(fd, size, &gf->fe->cache);
	close(fd);
}

/* Open the next usable source, starting at *next. Returns its fd or -1. */
static int open_source(struct dgroup *g, size_t *next, struct extmap *map, struct stats *st)
{
	while (*next < g->n) {
		struct gfile *gf = &g->f[(*next)++];
		int fd;

		if (gf->result != R_NONE)
			continue;
		fd = fent_open(gf->fe);
		if (fd < 0) {
			set_failed(gf, st, "open", -fd);
			continue;
		}
		gf->result = R_SOURCE;
		extmap_get(fd, g->size, map);
		return fd;
	}
	return -1;
}

/*
 * Open a destination and decide what to do with it: skip it (already shared,
 * inline, or an error), plan it (--dry-run), or return true with *out ready
 * for a call.
 */
static bool prepare_dest(const struct dgroup *g, struct gfile *gf, const struct gfile *src,
			 const struct extmap *smap, struct stats *st,
			 const struct dedupe_opts *o, struct dest *out)
{
	struct extmap dmap;
	bool same;
	int fd = fent_open(gf->fe);

	if (fd < 0) {
		set_failed(gf, st, "open", -fd);
		return false;
	}
	extmap_get(fd, g->size, &dmap);
	same = extmap_covered(&dmap, smap);
	if (same && (!o->module || module_has_pair(o, src->fe, gf->fe))) {
		gf->result = R_ALREADY;
		note_skip(st, SKIP_ALREADY_SHARED, gf->fe->path, false);
	} else if (!o->module && extmap_all_inline(&dmap)) {
		/* btrfs keeps small files in metadata: no blocks to share. */
		gf->result = R_INLINE;
		note_skip(st, SKIP_INLINE, gf->fe->path, false);
	} else if (o->dry_run) {
		gf->result = same ? R_PLANNED_RESHARE : R_PLANNED;
		gf->bytes = dmap.valid ? extmap_bytes(&dmap, g->size) : g->size;
		if (!same)
			atomic_fetch_add(&st->bytes_planned, gf->bytes);
		if (o->module)
			atomic_fetch_add(&st->cache_shareable, g->size);
	} else {
		*out = (struct dest){ .gf = gf, .fd = fd, .map = dmap, .reshare = same,
				      .active = true };
		return true;
	}
	extmap_free(&dmap);
	release(fd, gf, g->size);
	return false;
}

static void release_dests(struct dest *d, size_t nd, uint64_t size)
{
	for (size_t j = 0; j < nd; j++) {
		extmap_free(&d[j].map);
		release(d[j].fd, d[j].gf, size);
	}
}

void dedupe_group(struct dgroup *g, struct stats *st, const struct dedupe_opts *o)
{
	size_t cap = max_dests(), next = 0;
	struct dest *d = xcalloc(cap, sizeof(*d));
	struct extmap smap = { 0 };
	struct gfile *src;
	bool hooked = false;
	int sfd;

again:
	sfd = open_source(g, &next, &smap, st);
	if (sfd < 0)
		goto out;
	src = &g->f[next - 1];
	for (size_t i = next; i < g->n && !atomic_load(&stop_requested);) {
		size_t nd = 0;

		/* Up to a page worth of destinations per call. */
		for (; i < g->n && nd < cap; i++)
			if (g->f[i].result == R_NONE &&
			    prepare_dest(g, &g->f[i], src, &smap, st, o, &d[nd]))
				nd++;
		if (!nd)
			continue;
		if (!hooked) {
			test_hook(g);
			hooked = true;
		}
		if (run_batch(src, sfd, d, nd, g->size, st, o) == BATCH_SOURCE_CHANGED) {
			/* Retry the rest against the next file as source. */
			release_dests(d, nd, g->size);
			set_failed(src, st, "dedupe", ERR_CHANGED);
			release(sfd, src, g->size);
			extmap_free(&smap);
			goto again;
		}
		release_dests(d, nd, g->size);
	}
	release(sfd, src, g->size);
	extmap_free(&smap);
out:
	free(d);
}

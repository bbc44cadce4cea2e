// SPDX-License-Identifier: GPL-2.0
/*
 * Extent maps through FS_IOC_FIEMAP.
 *
 * Two files already share every extent when, at every offset, both map to
 * the same physical byte (or both are holes). Such a pair gains nothing on
 * disk from another dedupe. Anything FIEMAP cannot pin down (delalloc,
 * inline, encoded or unknown extents) counts as "not shared": the kernel will
 * then compare and dedupe, which is always safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pcshare.h"

#define BATCH		256
#define INEXACT		(FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | \
			 FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED | \
			 FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE | \
			 FIEMAP_EXTENT_DATA_TAIL)

void extmap_free(struct extmap *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Call fn for every extent of [0, size), in order. */
static int fiemap_each(int fd, uint64_t size,
		       void (*fn)(void *arg, const struct fiemap_extent *fe, uint64_t len),
		       void *arg)
{
	size_t bytes = sizeof(struct fiemap) + BATCH * sizeof(struct fiemap_extent);
	struct fiemap *fm = xmalloc(bytes);
	uint64_t start = 0;
	bool last = false;

	while (!last && start < size) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = size - start;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			int err = errno;

			free(fm);
			return -err;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &fm->fm_extents[i];
			uint64_t len = fe->fe_length;

			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			start = fe->fe_logical + fe->fe_length;
			if (fe->fe_logical >= size)
				continue;
			if (fe->fe_logical + len > size)
				len = size - fe->fe_logical;	/* blocks past EOF are not content */
			fn(arg, fe, len);
		}
	}
	free(fm);
	return 0;
}

struct extmap_build {
	struct extmap *m;
	size_t cap;
};

static void extmap_add(void *arg, const struct fiemap_extent *fe, uint64_t len)
{
	struct extmap_build *b = arg;
	struct extmap *m = b->m;
	struct extent *last = m->n ? &m->v[m->n - 1] : NULL;
	uint32_t kind = fe->fe_flags & (FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_DATA_INLINE);

	if (fe->fe_flags & INEXACT)
		m->exact = false;
	/* One run per physically contiguous stretch, however the fs split it. */
	if (last && last->logical + last->length == fe->fe_logical &&
	    last->physical + last->length == fe->fe_physical && last->flags == kind &&
	    !(fe->fe_flags & INEXACT)) {
		last->length += len;
		return;
	}
	if (m->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		m->v = xrealloc(m->v, b->cap * sizeof(*m->v));
	}
	m->v[m->n++] = (struct extent){ fe->fe_logical, fe->fe_physical, len, kind };
}

int extmap_get(int fd, uint64_t size, struct extmap *m)
{
	struct extmap_build b = { m, 0 };
	int ret;

	m->v = NULL;
	m->n = 0;
	m->exact = true;
	m->valid = true;
	ret = fiemap_each(fd, size, extmap_add, &b);
	if (ret) {
		extmap_free(m);
		m->exact = false;
		m->valid = false;
	}
	return ret;
}

/*
 * Does every block of dst already sit where src has the same offset? Then a
 * dedupe would free nothing. (Holes in dst are fine: they hold no blocks.)
 */
bool extmap_covered(const struct extmap *dst, const struct extmap *src)
{
	size_t j = 0;

	if (!dst->valid || !src->valid || !dst->exact || !src->exact)
		return false;
	for (size_t i = 0; i < dst->n; i++) {
		const struct extent *e = &dst->v[i];

		while (j < src->n && src->v[j].logical + src->v[j].length <= e->logical)
			j++;
		if (j == src->n || src->v[j].logical > e->logical ||
		    src->v[j].logical + src->v[j].length < e->logical + e->length ||
		    src->v[j].physical + (e->logical - src->v[j].logical) != e->physical ||
		    src->v[j].flags != e->flags)
			return false;
	}
	return true;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The union of the extents of several files, as sorted ranges; gaps shorter
 * than 1 MiB are filled in, which costs less than another call.
 */
size_t extmap_union(const struct extmap *const *maps, size_t nmaps, uint64_t size,
		    struct range **out)
{
	const uint64_t gap = 1ull << 20;
	size_t n = 0, total = 0, k = 0;
	struct range *r;

	for (size_t i = 0; i < nmaps; i++)
		total += maps[i]->n;
	r = xmalloc((total ? total : 1) * sizeof(*r));
	for (size_t i = 0; i < nmaps; i++)
		for (size_t j = 0; j < maps[i]->n; j++)
			r[n++] = (struct range){ maps[i]->v[j].logical,
						 maps[i]->v[j].logical + maps[i]->v[j].length };
	qsort(r, n, sizeof(*r), cmp_range);
	for (size_t i = 0; i < n; i++) {
		if (k && r[i].start <= r[k - 1].end + gap) {
			if (r[i].end > r[k - 1].end)
				r[k - 1].end = r[i].end;
		} else {
			r[k++] = r[i];
		}
	}
	for (size_t i = 0; i < k; i++)
		if (r[i].end > size)
			r[i].end = size;
	*out = r;
	return k;
}

static void add_shared(void *arg, const struct fiemap_extent *fe, uint64_t len)
{
	if (fe->fe_flags & FIEMAP_EXTENT_SHARED)
		*(uint64_t *)arg += len;
}

/* Bytes of the file that lie in extents the filesystem marks shared. */
int shared_bytes(int fd, uint64_t size, uint64_t *shared)
{
	*shared = 0;
	return fiemap_each(fd, size, add_shared, shared);
}

/* Bytes of the file's shareable extents (not inline) that lie below `upto`. */
uint64_t extmap_bytes(const struct extmap *m, uint64_t upto)
{
	uint64_t b = 0;

	for (size_t i = 0; i < m->n && m->v[i].logical < upto; i++) {
		uint64_t end = m->v[i].logical + m->v[i].length;

		if (!(m->v[i].flags & FIEMAP_EXTENT_DATA_INLINE))
			b += (end < upto ? end : upto) - m->v[i].logical;
	}
	return b;
}

/* Is all the file's data inline in metadata (btrfs small files)? */
bool extmap_all_inline(const struct extmap *m)
{
	if (!m->valid || !m->n)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (!(m->v[i].flags & FIEMAP_EXTENT_DATA_INLINE))
			return false;
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Content hashes, cheapest first.
 *
 * hash_quick(): files that share a size are told apart by a hash of their
 * first and last 4 KiB. Small files (up to QUICK_FULL_MAX) are hashed whole
 * right away, since one read costs about what two small ones do.
 *
 * hash_full(): XXH3-128 of a canonical form of the content, in which every
 * all-zero, 4 KiB-aligned block is replaced by a count. Holes (found with
 * SEEK_DATA/SEEK_HOLE) are therefore never read, and a file with holes hashes
 * like a copy of it with the zeros written out: equal bytes give equal
 * hashes, whatever the extent layout. The form is
 *
 *	D1 M(len D1, zeros after D1) D2 M(len D2, zeros after D2) ... Dk M(len Dk, zeros at end)
 *
 * where Di are the non-zero blocks, verbatim, and M() is two little-endian
 * u64. Read from the end it parses one way only, so distinct contents of one
 * size give distinct streams. The kernel compares the bytes again before it
 * dedupes anything, so the hash only has to make the grouping good.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcshare.h"

#define BLK		4096u
#define BUFSZ		(1u << 20)

static const unsigned char zero_block[BLK];
static __thread unsigned char *tbuf;

static unsigned char *thread_buf(void)
{
	if (!tbuf)
		tbuf = xmalloc(BUFSZ);
	return tbuf;
}

/* The calling thread's read buffer, for reads whose bytes nobody looks at. */
unsigned char *io_buffer(size_t *size)
{
	*size = BUFSZ;
	return thread_buf();
}

/* A worker thread is done: free its buffer. */
void io_buffer_release(void)
{
	free(tbuf);
	tbuf = NULL;
}

static bool is_zero(const unsigned char *p, size_t n)
{
	return p[0] == 0 && memcmp(p, zero_block, n) == 0;
}

static void put_marker(XXH3_state_t *s, uint64_t data, uint64_t zeros)
{
	unsigned char m[16];

	for (int i = 0; i < 8; i++) {
		m[i] = data >> (8 * i);
		m[8 + i] = zeros >> (8 * i);
	}
	XXH3_128bits_update(s, m, sizeof(m));
}

/* Hash [pos, end) of file data, block by block, into the canonical stream. */
static int hash_range(int fd, uint64_t pos, uint64_t end, XXH3_state_t *s,
		      uint64_t *d, uint64_t *z, atomic_uint_fast64_t *progress)
{
	unsigned char *buf = thread_buf();

	while (pos < end) {
		size_t want = end - pos < BUFSZ ? end - pos : BUFSZ;
		size_t span_start = 0, span_len = 0, off;
		ssize_t got = pread(fd, buf, want, pos);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((size_t)got < want)
			return -ERR_CHANGED;	/* shorter than it was: truncated */
		for (off = 0; off < want; off += BLK) {
			size_t len = want - off < BLK ? want - off : BLK;

			if (is_zero(buf + off, len)) {
				if (span_len)
					XXH3_128bits_update(s, buf + span_start, span_len);
				span_len = 0;
				*z += len;
				continue;
			}
			if (*z) {
				put_marker(s, *d, *z);
				*d = 0;
				*z = 0;
			}
			if (!span_len)
				span_start = off;
			span_len += len;
			*d += len;
		}
		if (span_len)
			XXH3_128bits_update(s, buf + span_start, span_len);
		pos += want;
		if (progress)
			atomic_fetch_add(progress, want);
		if (atomic_load(&stop_requested))
			return -EINTR;
	}
	return 0;
}

/*
 * Hash a whole file into *out. *progress, if given, grows by the bytes read
 * (holes are not read, and do not count).
 */
int hash_file_fd(int fd, uint64_t size, XXH128_hash_t *out, atomic_uint_fast64_t *progress)
{
	XXH3_state_t s;
	uint64_t pos = 0, d = 0, z = 0;
	int ret;

	XXH3_128bits_reset(&s);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (pos < size) {
		off_t ds = lseek(fd, pos, SEEK_DATA), de;
		uint64_t data, hole_end;

		if (ds < 0)
			ds = errno == ENXIO ? (off_t)size : (off_t)pos;
		data = (uint64_t)ds & ~(uint64_t)(BLK - 1);
		if (data < pos)
			data = pos;
		if (data > size)
			data = size;
		/* [pos, data) is a hole: whole blocks of zeros, never read */
		z += data - pos;
		pos = data;
		if (pos >= size)
			break;
		de = lseek(fd, ds, SEEK_HOLE);
		hole_end = de < 0 ? size : ((uint64_t)de + BLK - 1) & ~(uint64_t)(BLK - 1);
		if (hole_end > size || hole_end <= pos)
			hole_end = size;
		ret = hash_range(fd, pos, hole_end, &s, &d, &z, progress);
		if (ret)
			return ret;
		pos = hole_end;
	}
	put_marker(&s, d, z);
	*out = XXH3_128bits_digest(&s);
	return 0;
}

/*
 * Open a file found by the walk, and check it is still the same file with
 * the same size and times. Returns an fd, -errno, or -ERR_CHANGED.
 */
int fent_open(const struct fent *fe)
{
	struct stat sb;
	int fd = open_noatime(fe->path, O_RDONLY);

	if (fd < 0)
		return errno == ELOOP ? -ERR_CHANGED : -errno;	/* now a symlink */
	if (fstat(fd, &sb)) {
		int err = errno;

		close(fd);
		return -err;
	}
	if ((uint64_t)sb.st_dev != fe->dev || (uint64_t)sb.st_ino != fe->ino ||
	    (uint64_t)sb.st_size != fe->size ||
	    sb.st_mtim.tv_sec != fe->mtime.tv_sec || sb.st_mtim.tv_nsec != fe->mtime.tv_nsec ||
	    sb.st_ctim.tv_sec != fe->ctime.tv_sec || sb.st_ctim.tv_nsec != fe->ctime.tv_nsec) {
		close(fd);
		return S_ISREG(sb.st_mode) ? -ERR_CHANGED : -EISDIR;
	}
	return fd;
}

static void fail(struct fent *fe, struct stats *st, const char *op, int err)
{
	fe->state = FE_FAILED;
	note_error(st, fe->path, op, err);
}

int hash_quick(struct fent *fe, struct stats *st, uint64_t keep_budget)
{
	unsigned char *buf = thread_buf();
	uint64_t tail;
	ssize_t a, b;
	int fd = fent_open(fe), ret = 0;

	if (fd < 0) {
		fail(fe, st, "open", -fd);
		return fd;
	}
	cache_snapshot(fd, fe->size, &fe->cache);
	if (fe->size <= QUICK_FULL_MAX) {
		ret = hash_file_fd(fd, fe->size, &fe->full, NULL);
		if (ret == 0) {
			fe->full_done = true;
			fe->quick = fe->full.low64;
		}
		/*
		 * Keep what we read until the file's set is deduped, so the
		 * kernel's compare finds it cached; but no more than the budget.
		 */
		fe->kept = ret == 0 && atomic_fetch_add(&st->quick_kept, fe->size) + fe->size <= keep_budget;
		if (!fe->kept)
			cache_drop(fd, fe->size, &fe->cache);
	} else {
		/* Two blocks only: no readahead around them. */
		posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
		tail = (fe->size - 1) & ~(uint64_t)(QUICK_BLOCK - 1);
		a = pread(fd, buf, QUICK_BLOCK, 0);
		b = pread(fd, buf + QUICK_BLOCK, fe->size - tail, tail);
		if (a < 0 || b < 0)
			ret = -errno;
		else if (a != QUICK_BLOCK || (uint64_t)b != fe->size - tail)
			ret = -ERR_CHANGED;
		else
			fe->quick = XXH3_64bits(buf, QUICK_BLOCK + b);
		cache_drop(fd, fe->size, &fe->cache);
	}
	close(fd);
	if (ret && ret != -EINTR)
		fail(fe, st, "read", -ret);
	return ret;
}

int hash_full(struct fent *fe, struct stats *st, bool keep_cache)
{
	int fd, ret;

	if (fe->full_done)
		return 0;
	fd = fent_open(fe);
	if (fd < 0) {
		fail(fe, st, "open", -fd);
		return fd;
	}
	ret = hash_file_fd(fd, fe->size, &fe->full, &st->hash_bytes_done);
	if (ret == 0)
		fe->full_done = true;
	if (!keep_cache || ret)
		cache_drop(fd, fe->size, &fe->cache);
	close(fd);
	if (ret && ret != -EINTR)
		fail(fe, st, "read", -ret);
	return ret;
}

/* Drop what we cached of a file we will not touch again. */
void fent_drop_cache(struct fent *fe)
{
	int fd;

	if (fe->cache.state != CACHE_COLD && fe->cache.state != CACHE_PARTIAL)
		return;
	fd = fent_open(fe);
	if (fd < 0)
		return;
	cache_drop(fd, fe->size, &fe->cache);
	close(fd);
}

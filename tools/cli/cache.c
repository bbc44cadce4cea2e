// SPDX-License-Identifier: GPL-2.0
/*
 * Leave the page cache as we found it.
 *
 * Hashing and the kernel's byte compare fill the page cache. Before the first
 * read of a file we note which of its pages were already resident (mincore on
 * a mapping of the file); when we are done with it we drop only the pages
 * that were not, so a user's hot files stay hot and cold ones stay cold.
 * With the pcshare module loaded we leave the cache alone (see
 * cache_snapshot()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcshare.h"

#define WINDOW	(1ull << 30)	/* mincore() one GiB of mapping at a time */

static uint64_t page_size(void)
{
	static uint64_t ps;

	if (!ps)
		ps = (uint64_t)sysconf(_SC_PAGESIZE);
	return ps;
}

static pthread_once_t module_once = PTHREAD_ONCE_INIT;
static bool module_was_loaded;

static void module_look(void)
{
	module_was_loaded = module_loaded();
}

/* Whether the module is loaded, looked up once per run, not once per file. */
static bool module_seen(void)
{
	pthread_once(&module_once, module_look);
	return module_was_loaded;
}

void cache_snapshot(int fd, uint64_t size, struct cache_snap *cs)
{
	uint64_t ps = page_size(), npages = (size + ps - 1) / ps, seen = 0, off;
	unsigned char *vec = NULL;
	uint8_t *bits;

	cs->state = CACHE_UNKNOWN;
	cs->resident = NULL;
	/*
	 * With the module loaded, a mapping of a member's own cache would
	 * keep that file from ever sharing (the module must not move a file
	 * that has mappings of its own), so we do not look and do not drop.
	 */
	if (!size || module_seen())
		return;
	bits = xcalloc((npages + 7) / 8, 1);
	for (off = 0; off < size; off += WINDOW) {
		uint64_t len = size - off < WINDOW ? size - off : WINDOW;
		uint64_t n = (len + ps - 1) / ps, first = off / ps;
		void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);

		if (p == MAP_FAILED)
			goto unknown;
		if (!vec)
			vec = xmalloc(WINDOW / ps);
		if (mincore(p, len, vec)) {
			munmap(p, len);
			goto unknown;
		}
		munmap(p, len);
		for (uint64_t i = 0; i < n; i++) {
			if (vec[i] & 1) {
				bits[(first + i) / 8] |= 1u << ((first + i) % 8);
				seen++;
			}
		}
	}
	free(vec);
	if (seen == 0) {
		cs->state = CACHE_COLD;
		free(bits);
	} else if (seen == npages) {
		cs->state = CACHE_WARM;
		free(bits);
	} else {
		cs->state = CACHE_PARTIAL;
		cs->resident = bits;
	}
	return;
unknown:
	/* Not mappable: we cannot tell, so we will not drop anything. */
	free(vec);
	free(bits);
}

/* Drop the pages of [0, size) that were not resident at snapshot time. */
void cache_drop(int fd, uint64_t size, struct cache_snap *cs)
{
	uint64_t ps = page_size(), npages = (size + ps - 1) / ps, i = 0;

	switch (cs->state) {
	case CACHE_COLD:
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		break;
	case CACHE_PARTIAL:
		while (i < npages) {
			uint64_t j;

			if (cs->resident[i / 8] & (1u << (i % 8))) {
				i++;
				continue;
			}
			for (j = i; j < npages && !(cs->resident[j / 8] & (1u << (j % 8))); j++)
				;
			posix_fadvise(fd, i * ps, (j - i) * ps, POSIX_FADV_DONTNEED);
			i = j;
		}
		break;
	default:
		break;
	}
}

/*
 * Read the data of a range so that the kernel's compare finds it cached.
 * POSIX_FADV_WILLNEED would not do: the kernel trims it to one readahead
 * window (force_page_cache_ra), 128 KiB by default. Holes are skipped: the
 * compare fills those pages without I/O.
 */
void cache_prefetch(int fd, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, pos = off;
	size_t bufsz;
	unsigned char *buf = io_buffer(&bufsz);

	posix_fadvise(fd, off, len, POSIX_FADV_SEQUENTIAL);
	while (pos < end) {
		off_t ds = lseek(fd, pos, SEEK_DATA), de;

		if (ds < 0 && errno != ENXIO)
			ds = pos;	/* no hole information: read everything */
		if (ds < 0 || (uint64_t)ds >= end)
			return;
		de = lseek(fd, ds, SEEK_HOLE);
		if (de < 0 || (uint64_t)de > end)
			de = end;
		for (pos = ds; pos < (uint64_t)de;) {
			size_t want = (uint64_t)de - pos < bufsz ? (uint64_t)de - pos : bufsz;
			ssize_t got = pread(fd, buf, want, pos);

			if (got <= 0)
				return;
			pos += got;
		}
	}
}

/*
 * How much page cache one dedupe call, or the small files waiting for their
 * dedupe, may fill: an eighth of MemAvailable, between 64 MiB and 1 GiB, or
 * PCSHARE_CACHE_BUDGET bytes.
 */
uint64_t cache_budget(void)
{
	const char *env = getenv("PCSHARE_CACHE_BUDGET");
	uint64_t kb = 0, b;
	char line[256];
	FILE *f;

	if (env && *env) {
		b = strtoull(env, NULL, 10);
		return b < (1ull << 20) ? 1ull << 20 : b;
	}
	f = fopen("/proc/meminfo", "re");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
				break;
		fclose(f);
	}
	b = kb * 1024 / 8;
	if (b < (64ull << 20))
		b = 64ull << 20;
	if (b > (1ull << 30))
		b = 1ull << 30;
	return b;
}

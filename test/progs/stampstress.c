// SPDX-License-Identifier: GPL-2.0
/*
 * stampstress - race readers against writers, cloners and dedupers of
 * reflinked files, and check every record every reader gets.
 *
 * usage: stampstress [-r READERS] [-w WRITERS] [-c CLONERS] [-k FILE_KIB]
 *                    [-o MAX_OPS] [-p PAUSE_MS] [-d DROP_MS] [-m METHODS]
 *                    [-s STATE_FILE] [-R MAX_READS] [-F] [-X]
 *                    DIR NFILES SECONDS SEED
 *
 * Every 512-byte record of every file version carries a stamp: the id of
 * the file whose write made it, the version (one per write), the record's
 * index in the file, the run's seed, filler derived from all of these, and
 * an XXH64 checksum.  File 0 is written at version 0; files 1..N-1 are
 * FICLONEd from it (so with pcshare loaded they form one group).  Then, for
 * SECONDS (mutators also stop after MAX_OPS operations in all; with -R the
 * run also ends once the readers have checked MAX_READS reads, so that a
 * long run proves a given number of reads whatever the machine's speed):
 *
 *  - READERS (3) pick a file, a range (the whole file or some pages) and a
 *    read path: read, pread, readv, preadv2, splice, sendfile,
 *    copy_file_range, mmap_shared, mmap_private, odirect, io_uring,
 *    fadvise (-m: a comma-separated subset); on a fresh fd or on one they
 *    opened for an earlier read (maybe before a break).  They check every
 *    record they read;
 *  - WRITERS (2) open a file O_RDWR (a break) and overwrite some whole
 *    pages with records of a new version (pwrite, pwritev, mmap or
 *    io_uring), then pause up to PAUSE_MS (20);
 *  - CLONERS (1) re-clone a whole file from another (FICLONE), clone a
 *    page range (FICLONERANGE), copy another file's content (pwrite or
 *    copy_file_range), dedupe two files (FIDEDUPERANGE, read-only fds,
 *    whole files in one or two calls; the kernel's SAME or DIFFERS verdict
 *    is checked against the model too), or replace a file with a clone
 *    renamed over it (and cloned once more: rename changes the ctime);
 *  - with -d, one process drops the page cache (1) or inodes (2) every
 *    DROP_MS milliseconds.
 *
 * The model.  Every page of every file has a history of the stamps it
 * held, in shared memory; each change carries the global sequence number
 * taken just before the system call that makes it and the one taken just
 * after.  Mutators of one file are serialised; readers are not.  A read
 * that ran between sequence numbers S0 and S1 may return, for a record,
 * the stamp of any history entry that began at or before S1 and was not
 * replaced by a change that ended before S0.  A record whose checksum does
 * not hold is accepted only if each of its bytes equals that byte of one of
 * those allowed versions: a read racing a write may be torn (btrfs reads
 * take no inode lock; mmap and pipes never do), but the bytes are still
 * this file's.  One more thing Linux does without pcshare: a read through
 * a pipe may show zeroes in a page that a clone or dedupe remapped during
 * the read (see check()).  Anything else -- another file's stamp, a
 * version the file never had or no longer has, zeroes, garbage, a shifted
 * record, a short read -- is a mismatch.  This is DESIGN.md 2.2 and 2.3 as
 * seen from user space.
 *
 * At the end the files are read once more, quiescent, and must hold
 * exactly their latest versions.
 *
 * Output: the parameters and seed first, then any MISMATCH (a wrong
 * record: file, offset, read path, window, the stamp read, the allowed
 * history), BAD READ and DIAG (a whole bad read, and whether it reads
 * wrong again), ERROR (an unexpected system call failure, such as a
 * FIDEDUPERANGE status) lines, and last:
 *   methods: read=N ...
 *   elapsed=S ... torn_ok=N zeroed_ok=N unverifiable=N errors=N
 *   reads_checked=N records_checked=N mismatches=N ops_write=N
 *   ops_clone=N ops_dedupe=N seed=S
 * -s prints STATE_FILE (say, pcshare's group list) at the first bad read.
 *
 * Exit status: 0 no mismatch and no error, 1 mismatches or unexpected
 * errors, 2 bad usage or setup, 3 a process hung, 4 reflink is not
 * supported.
 *
 * -X adds the rest of the operations a file sees, to the writers: punch a
 * hole and zero a range (the pages read as zeroes: the model has a zero
 * version), fallocate the whole file (no byte changes, but it is an open
 * for write and a size-preserving allocation), truncate to a page and
 * extend back (the tail reads as zeroes; a read racing it may come back
 * short, or an mmap read may fault past the short EOF: both are accepted
 * only while a truncate of that file overlaps the read), fsync, and, to
 * the cloners, unlink the file and link a clone of another in its place
 * (an open racing the gap may fail with ENOENT, accepted the same way).
 * One more failure is accepted, in any mode: an O_DIRECT read that gets
 * EIO while a write of that file overlaps it (XFS, written_during()).
 * -x MASK is -X with only some of them: 1 punch hole, 2 zero range,
 * 4 fallocate, 8 truncate, 16 fsync, 32 unlink and relink.
 *
 * -F (test only) makes writers sometimes stamp one page with another
 * file's id without telling the model: foreign bytes, which the check must
 * catch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define PG 4096
#define REC 512
#define RPP (PG / REC)		/* records per page */
#define HDR 24			/* magic, fid, ver, rec, seed */
#define SUM_OFF (REC - 8)
#define MAGIC 0x53534350u	/* "PCSS" */
#define HK 64			/* history entries kept per page */
#define INPROG UINT64_MAX
#define MAX_FILES 64
#define MAX_PROCS 64
#define MAX_REPORTS 12
#define CHUNK (64 << 10)
#define MAX_WRITE_PAGES 16
#define ZERO_FID UINT32_MAX	/* the stamp of a page that reads as zeroes */
#define NDISRUPT 8		/* truncate/unlink windows kept per file */

struct hdr {
	uint32_t magic, fid, ver, rec;
	uint64_t seed;
};

struct stamp {
	uint32_t fid, ver;
};

/* What a change did to a page: */
enum {
	K_WRITE,	/* wrote it (or the initial content) */
	K_REMAP,	/* remapped it: clone, dedupe, reflinking copy */
};

struct ent {
	struct stamp s;
	uint32_t kind;
	uint32_t pad;
	uint64_t begin, end;
};

struct page_hist {
	uint64_t n;		/* entries ever appended */
	struct ent e[HK];	/* entry i at e[i % HK] */
};

struct fstate {
	pthread_mutex_t op;	/* serialises the mutators of this file */
	pthread_mutex_t hist;	/* guards its pages' histories */
	uint64_t incarnation;	/* bumped when a rename replaces it */
	/*
	 * [begin, end] of recent truncates and unlinks (-X): a read that
	 * overlaps one may be short, fault past EOF, or fail to open.
	 */
	struct { uint64_t begin, end; } disrupt[NDISRUPT];
	uint64_t ndisrupt;
};

enum {
	M_READ, M_PREAD, M_READV, M_PREADV2, M_SPLICE, M_SENDFILE, M_CFR,
	M_MMAP_SHARED, M_MMAP_PRIVATE, M_ODIRECT, M_IO_URING, M_FADVISE,
	NMETH
};

static const char *const mname[NMETH] = {
	"read", "pread", "readv", "preadv2", "splice", "sendfile",
	"copy_file_range", "mmap_shared", "mmap_private", "odirect",
	"io_uring", "fadvise",
};

struct counters {
	uint64_t reads, records, mismatches, torn, zeroed, unverifiable, errors;
	uint64_t by_method[NMETH], fresh_fd, reused_fd;
	uint64_t writes, clones, clone_ranges, copies, dedupes, dedupe_same,
		 dedupe_differs, replaces, drops, injected;
	uint64_t punches, zero_ranges, fallocates, truncates, fsyncs, unlinks,
		 short_ok, dio_eio_ok;
};

struct shared {
	uint64_t seq;		/* the global clock of the model */
	uint64_t next_ver;
	uint64_t ops;		/* mutating operations started */
	int stop;
	uint32_t reports;
	uint32_t dumped;
	struct fstate f[MAX_FILES];
	struct counters c[MAX_PROCS + 1];	/* the last one is the parent's */
	struct page_hist pages[];
};

static struct shared *sh;
static struct counters *cnt;
static const char *dir;
static int nfiles, npages, me;
static size_t fsize;
static uint64_t seed, max_ops, max_reads, rng;
static int pause_ms, drop_ms;
static bool inject, extended;
static unsigned int extra_ops = ~0u;	/* -x: which -X operations */
static const char *state_file;
static int methods[NMETH], nmethods;
static struct timespec t_end;

/* ---- small helpers ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n)
{
	return n ? splitmix(&rng) % n : 0;
}

static uint64_t tick(void)
{
	return __atomic_add_fetch(&sh->seq, 1, __ATOMIC_SEQ_CST);
}

static uint64_t now_seq(void)
{
	return __atomic_load_n(&sh->seq, __ATOMIC_SEQ_CST);
}

static bool time_up(void)
{
	struct timespec t;

	if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
		return true;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > t_end.tv_sec ||
	       (t.tv_sec == t_end.tv_sec && t.tv_nsec >= t_end.tv_nsec);
}

static void say(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	/* One write per message, so that processes do not interleave. */
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

/* An unexpected system call failure: counted, and it fails the run. */
static void syserr(const char *what, int f)
{
	int e = errno;

	cnt->errors++;
	if (__atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS * 2)
		say("ERROR proc %d: %s (file %d): %s\n", me, what, f,
		    strerror(e));
	errno = e;
}

static void fpath(char *buf, size_t len, int f)
{
	snprintf(buf, len, "%s/f%02d", dir, f);
}

static int open_file(int f, int flags)
{
	char p[4096];

	fpath(p, sizeof(p), f);
	return open(p, flags | O_LARGEFILE | O_CLOEXEC);
}

static void *xalloc(size_t size)
{
	void *p;

	if (posix_memalign(&p, PG, size)) {
		perror("stampstress: posix_memalign");
		exit(2);
	}
	memset(p, 0, size);
	return p;
}

static struct page_hist *hist(int f, int p)
{
	return &sh->pages[(size_t)f * npages + p];
}

static void lock(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
}

static void unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

/* Lock the op mutexes of two files, in index order. */
static void lock_two(int a, int b)
{
	lock(&sh->f[a < b ? a : b].op);
	lock(&sh->f[a < b ? b : a].op);
}

static void unlock_two(int a, int b)
{
	unlock(&sh->f[a].op);
	unlock(&sh->f[b].op);
}

static void pause_a_bit(void)
{
	if (pause_ms > 0)
		usleep(rnd((uint64_t)pause_ms * 1000));
}

/* ---- records ---- */

static void make_record(unsigned char *r, struct stamp s, uint32_t rec)
{
	struct hdr h = { MAGIC, s.fid, s.ver, rec, seed };
	uint64_t x = seed ^ ((uint64_t)s.fid << 48) ^ ((uint64_t)s.ver << 20) ^
		     ((uint64_t)rec * 0x2545f4914f6cdd1dULL);
	uint64_t sum;
	int i;

	if (s.fid == ZERO_FID) {
		memset(r, 0, REC);
		return;
	}
	memcpy(r, &h, HDR);
	for (i = HDR; i < SUM_OFF; i += 8) {
		uint64_t v = splitmix(&x);

		memcpy(r + i, &v, 8);
	}
	sum = XXH64(r, SUM_OFF, 0);
	memcpy(r + SUM_OFF, &sum, 8);
}

static void make_page(unsigned char *buf, struct stamp s, int page)
{
	int i;

	for (i = 0; i < RPP; i++)
		make_record(buf + i * REC, s, page * RPP + i);
}

static bool record_intact(const unsigned char *r)
{
	uint64_t sum;

	memcpy(&sum, r + SUM_OFF, 8);
	return XXH64(r, SUM_OFF, 0) == sum;
}

/* ---- the model ---- */

static struct stamp latest(int f, int p)
{
	struct page_hist *h = hist(f, p);

	return h->e[(h->n - 1) % HK].s;
}

/*
 * Start a change of pages [p0, p0 + np) of file f to the given stamps.
 * The caller holds f's op mutex, and makes the change after this returns.
 */
static void change_begin(int f, int p0, int np, const struct stamp *s,
			 int kind)
{
	uint64_t b;
	int i;

	lock(&sh->f[f].hist);
	b = tick();
	for (i = 0; i < np; i++) {
		struct page_hist *h = hist(f, p0 + i);
		struct ent *e = &h->e[h->n % HK];

		e->s = s[i];
		e->kind = kind;
		e->begin = b;
		e->end = INPROG;
		h->n++;
	}
	unlock(&sh->f[f].hist);
}

/* The change is done (the system call returned): stamp its end. */
static void change_end(int f, int p0, int np, bool replaced)
{
	uint64_t e;
	int i;

	lock(&sh->f[f].hist);
	/* Before the tick: a reader whose S0 is past it sees the new inode. */
	if (replaced)
		__atomic_add_fetch(&sh->f[f].incarnation, 1, __ATOMIC_SEQ_CST);
	e = tick();
	for (i = 0; i < np; i++) {
		struct page_hist *h = hist(f, p0 + i);

		h->e[(h->n - 1) % HK].end = e;
	}
	unlock(&sh->f[f].hist);
}

/* A truncate or an unlink of f starts (-X); returns its slot. */
static uint64_t disrupt_begin(int f)
{
	struct fstate *fs = &sh->f[f];
	uint64_t k;

	lock(&fs->hist);
	k = fs->ndisrupt++;
	fs->disrupt[k % NDISRUPT].begin = tick();
	fs->disrupt[k % NDISRUPT].end = INPROG;
	unlock(&fs->hist);
	return k;
}

static void disrupt_end(int f, uint64_t k)
{
	lock(&sh->f[f].hist);
	sh->f[f].disrupt[k % NDISRUPT].end = tick();
	unlock(&sh->f[f].hist);
}

/*
 * Did a write to f overlap [s0, s1]?  XFS fails an O_DIRECT read with EIO
 * when a page fault of an mmap write allocates a delayed block between the
 * read's flush and its block mapping (fs/iomap/direct-io.c: "Direct I/O
 * collision with buffered writes!"), with or without pcshare.
 */
static bool written_during(int f, uint64_t s0, uint64_t s1)
{
	bool hit = false;
	uint64_t i;
	int p;

	lock(&sh->f[f].hist);
	for (p = 0; p < npages && !hit; p++) {
		struct page_hist *h = hist(f, p);

		for (i = h->n > HK ? h->n - HK : 0; i < h->n && !hit; i++) {
			struct ent *e = &h->e[i % HK];

			hit = e->kind == K_WRITE && e->begin <= s1 &&
			      e->end >= s0;
		}
	}
	unlock(&sh->f[f].hist);
	return hit;
}

/* Did a truncate or unlink of f overlap [s0, s1]?  Caller holds no lock. */
static bool disrupted(int f, uint64_t s0, uint64_t s1)
{
	struct fstate *fs = &sh->f[f];
	bool hit = false;
	uint64_t k;

	lock(&fs->hist);
	for (k = fs->ndisrupt > NDISRUPT ? fs->ndisrupt - NDISRUPT : 0;
	     k < fs->ndisrupt && !hit; k++)
		hit = fs->disrupt[k % NDISRUPT].begin <= s1 &&
		      fs->disrupt[k % NDISRUPT].end >= s0;
	/* Older windows were dropped: if one might overlap, say so. */
	if (!hit && fs->ndisrupt > NDISRUPT)
		hit = fs->disrupt[fs->ndisrupt % NDISRUPT].end >= s0;
	unlock(&fs->hist);
	return hit;
}

static bool all_zero(const unsigned char *r, size_t n)
{
	return !r[0] && !memcmp(r, r + 1, n - 1);
}

/* What a read of one page between s0 and s1 may return. */
struct allowed {
	int n;
	bool incomplete;	/* an older entry may count but was dropped */
	bool remapped;		/* a remap of the page overlapped the read */
	struct stamp s[HK];
};

static void allowed_of(int f, int p, uint64_t s0, uint64_t s1,
		       struct allowed *a)
{
	struct page_hist *h = hist(f, p);
	uint64_t n = h->n, first = n > HK ? n - HK : 0, i;

	a->n = 0;
	a->incomplete = false;
	a->remapped = false;
	for (i = first; i < n; i++) {
		const struct ent *e = &h->e[i % HK];

		if (e->begin > s1)
			break;
		if (e->kind == K_REMAP && (e->end == INPROG || e->end > s0))
			a->remapped = true;
		if (i + 1 < n) {
			const struct ent *next = &h->e[(i + 1) % HK];

			/* Replaced before the read began? */
			if (next->end != INPROG && next->end <= s0)
				continue;
		}
		a->s[a->n++] = e->s;
	}
	if (first > 0) {
		const struct ent *e = &h->e[first % HK];

		a->incomplete = e->end == INPROG || e->end > s0;
	}
}

static void report_mismatch(int f, uint32_t rec, const unsigned char *r,
			    const char *how, uint64_t s0, uint64_t s1,
			    const struct allowed *a)
{
	char line[8192];
	size_t len = 0;
	struct hdr h;
	unsigned char want[REC];
	struct page_hist *ph;
	uint64_t i, first;
	int diff = 0, firstdiff = -1, zero = 1, k;

	if (__atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED) >= MAX_REPORTS)
		return;
	memcpy(&h, r, HDR);
	if (a->n) {
		make_record(want, a->s[a->n - 1], rec);
		for (k = 0; k < REC; k++) {
			if (r[k] != want[k]) {
				diff++;
				if (firstdiff < 0)
					firstdiff = k;
			}
		}
	}
	for (k = 0; k < REC; k++)
		zero &= !r[k];
#define ADD(...) (len += snprintf(line + len, len < sizeof(line) ? sizeof(line) - len : 0, __VA_ARGS__))
	ADD("MISMATCH file %d record %u (offset %u) via %s, window [%" PRIu64
	    ",%" PRIu64 "]: got %s magic=%08x fid=%u ver=%u rec=%u checksum %s",
	    f, rec, rec * REC, how, s0, s1, zero ? "zeroes," : "",
	    h.magic, h.fid, h.ver, h.rec,
	    record_intact(r) ? "ok" : "bad");
	if (a->n)
		ADD("; %d bytes differ from the newest allowed, first at %d", diff,
		    firstdiff);
	ADD("; allowed {");
	for (k = 0; k < a->n; k++)
		ADD("%s%u:%u", k ? " " : "", a->s[k].fid, a->s[k].ver);
	ADD("}; history of the page:");
	lock(&sh->f[f].hist);
	ph = hist(f, rec / RPP);
	first = ph->n > HK ? ph->n - HK : 0;
	for (i = first; i < ph->n; i++) {
		const struct ent *e = &ph->e[i % HK];

		if (ph->n - i > 8)
			continue;
		if (e->end == INPROG)
			ADD(" %u:%u%s[%" PRIu64 ",-]", e->s.fid, e->s.ver,
			    e->kind == K_REMAP ? "(remap)" : "", e->begin);
		else
			ADD(" %u:%u%s[%" PRIu64 ",%" PRIu64 "]", e->s.fid,
			    e->s.ver, e->kind == K_REMAP ? "(remap)" : "",
			    e->begin, e->end);
	}
	unlock(&sh->f[f].hist);
	ADD("; first bytes");
	for (k = 0; k < 32; k++)
		ADD(" %02x", r[k]);
#undef ADD
	say("%s\n", line);
}

/*
 * Is every byte of r that byte of one of the allowed versions, or, if
 * zeros are allowed too, zero?  0: no; 1: yes; 2: yes, with zeros.
 */
static int torn_but_own(const unsigned char *r, uint32_t rec,
			const struct allowed *a, bool zeros)
{
	static unsigned char cand[HK][REC];
	bool zeroed = false;
	int i, k;

	if (a->n < (zeros ? 1 : 2))
		return 0;
	for (i = 0; i < a->n; i++)
		make_record(cand[i], a->s[i], rec);
	for (k = 0; k < REC; k++) {
		for (i = 0; i < a->n; i++)
			if (r[k] == cand[i][k])
				break;
		if (i < a->n)
			continue;
		if (!zeros || r[k])
			return 0;
		zeroed = true;
	}
	return zeroed ? 2 : 1;
}

static struct allowed *allowed_buf;

/*
 * Check want bytes at page-aligned offset off of file f, read between s0
 * and s1, of which got arrived.  Return how many records were wrong.
 * quiet: count nothing and report nothing (a diagnostic re-read).
 */
static int check(int f, off_t off, const unsigned char *buf, size_t got,
		 size_t want, uint64_t s0, uint64_t s1, const char *how,
		 bool pipe, bool quiet)
{
	int p0 = off / PG, np = (got + PG - 1) / PG, i, bad = 0, reported = 0;
	size_t nrec = got / REC, j;
	long first = -1, last = -1;

	if (!quiet)
		cnt->reads++;
	if (got < want && extended && disrupted(f, s0, s1)) {
		/* A truncate raced the read: short is fine, the bytes are not. */
		if (!quiet)
			cnt->short_ok++;
	} else if (got != want) {
		bad++;
		if (!quiet) {
			cnt->mismatches++;
			if (__atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS)
				say("MISMATCH file %d: read of %zu bytes at %lld via %s returned %zu\n",
				    f, want, (long long)off, how, got);
		}
	}
	lock(&sh->f[f].hist);
	for (i = 0; i < np; i++)
		allowed_of(f, p0 + i, s0, s1, &allowed_buf[i]);
	unlock(&sh->f[f].hist);

	for (j = 0; j < nrec; j++) {
		const unsigned char *r = buf + j * REC;
		uint32_t rec = off / REC + j;
		const struct allowed *a = &allowed_buf[j / RPP];
		struct hdr h;
		int k;

		memcpy(&h, r, HDR);
		if (h.magic == MAGIC && h.rec == rec && h.seed == seed &&
		    record_intact(r)) {
			for (k = 0; k < a->n; k++)
				if (a->s[k].fid == h.fid && a->s[k].ver == h.ver)
					break;
			if (k < a->n) {
				if (!quiet)
					cnt->records++;
				continue;
			}
		}
		if (all_zero(r, REC)) {
			for (k = 0; k < a->n && a->s[k].fid != ZERO_FID; k++)
				;
			if (k < a->n) {
				if (!quiet)
					cnt->records++;
				continue;
			}
		}
		/*
		 * A read through a pipe (splice, sendfile, copy_file_range)
		 * holds references to page-cache folios after it dropped the
		 * locks that keep them stable.  A clone or dedupe into a range
		 * that starts or ends inside a large folio (XFS) zeroes that
		 * part of the folio before it tries to split it and drop it
		 * (truncate_inode_partial_folio()), and the pipe shows those
		 * zeroes.  Linux does this without pcshare too: accept zeroes
		 * there, and only there.
		 */
		k = torn_but_own(r, rec, a, pipe && a->remapped);
		if (k) {
			if (!quiet) {
				cnt->records++;
				if (k == 2)
					cnt->zeroed++;
				else
					cnt->torn++;
			}
			continue;
		}
		if (a->incomplete) {
			if (!quiet)
				cnt->unverifiable++;
			continue;
		}
		bad++;
		if (first < 0)
			first = rec;
		last = rec;
		if (quiet)
			continue;
		cnt->records++;
		cnt->mismatches++;
		if (reported++ < 4)
			report_mismatch(f, rec, r, how, s0, s1, a);
	}
	if (bad && !quiet)
		say("BAD READ file %d bytes [%lld,%lld) via %s, window [%" PRIu64 ",%" PRIu64 "]: %d bad records, first %ld last %ld\n",
		    f, (long long)off, (long long)(off + want), how, s0, s1,
		    bad, first, last);
	return bad;
}

/* ---- readers ---- */

struct reader {
	int fd[MAX_FILES];
	uint64_t inc[MAX_FILES];
	int pipe[2];
	int memfd;
	int tmpfd;
	bool have_ring;
	struct io_uring ring;
	unsigned char *buf;
};

static ssize_t read_loop(int fd, unsigned char *buf, off_t off, size_t len,
			 bool positional)
{
	size_t got = 0;

	if (!positional && lseek(fd, off, SEEK_SET) != off)
		return -1;
	while (got < len) {
		size_t want = len - got < CHUNK ? len - got : CHUNK;
		ssize_t n = positional ? pread(fd, buf + got, want, off + got) :
					 read(fd, buf + got, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* pread in a scrambled order of 16 KiB chunks. */
static ssize_t by_pread(int fd, unsigned char *buf, off_t off, size_t len)
{
	size_t csz = 16 << 10, nch = (len + csz - 1) / csz, i, total = 0;

	for (i = 0; i < nch; i++) {
		size_t c = (i * 7919) % nch;
		size_t l = len - c * csz < csz ? len - c * csz : csz;
		ssize_t n = read_loop(fd, buf + c * csz, off + c * csz, l, true);

		if (n < 0)
			return -1;
		/*
		 * Short (a truncate raced us, -X): only chunk 0 and, if this
		 * is chunk 1, this one's bytes lie in one run from the start;
		 * the chunks in between were not read by this call.
		 */
		if ((size_t)n < l)
			return c == 0 ? n : (ssize_t)(c == 1 ? csz + n : csz);
		total += n;
	}
	return total;
}

static ssize_t by_readv(int fd, unsigned char *buf, off_t off, size_t len)
{
	size_t got = 0;

	if (lseek(fd, off, SEEK_SET) != off)
		return -1;
	while (got < len) {
		size_t left = len - got, a = left < 1000 ? left : 1000;
		size_t b = left - a < 3096 ? left - a : 3096;
		size_t c = left - a - b < CHUNK ? left - a - b : CHUNK;
		struct iovec iov[3] = {
			{ buf + got, a }, { buf + got + a, b },
			{ buf + got + a + b, c },
		};
		ssize_t n = readv(fd, iov, 3);

		if (n < 0)
			return -1;
		if (!n)
			break;
		got += n;
	}
	return got;
}

static ssize_t by_preadv2(int fd, unsigned char *buf, off_t off, size_t len)
{
	size_t got = 0;
	int flags = rnd(2) ? RWF_NOWAIT : 0;

	while (got < len) {
		struct iovec iov = { buf + got, len - got < CHUNK ? len - got : CHUNK };
		ssize_t n = preadv2(fd, &iov, 1, off + got, flags);

		if (n < 0 && (errno == EAGAIN || errno == EOPNOTSUPP) && flags) {
			flags = 0;
			continue;
		}
		if (n < 0)
			return -1;
		if (!n)
			break;
		got += n;
	}
	return got;
}

static ssize_t by_splice(struct reader *rd, int fd, unsigned char *buf,
			 off_t off, size_t len)
{
	loff_t pos = off;
	size_t got = 0;

	while (got < len) {
		size_t want = len - got < CHUNK ? len - got : CHUNK;
		ssize_t n = splice(fd, &pos, rd->pipe[1], NULL, want, 0), in = 0;

		if (n < 0)
			return -1;
		if (!n)
			break;
		while (in < n) {
			ssize_t r = read(rd->pipe[0], buf + got + in, n - in);

			if (r <= 0)
				return -1;
			in += r;
		}
		got += n;
	}
	return got;
}

static ssize_t by_sendfile(struct reader *rd, int fd, unsigned char *buf,
			   off_t off, size_t len)
{
	off_t pos = off;
	size_t sent = 0;

	if (ftruncate(rd->memfd, 0) || lseek(rd->memfd, 0, SEEK_SET))
		return -1;
	while (sent < len) {
		ssize_t n = sendfile(rd->memfd, fd, &pos, len - sent);

		if (n < 0)
			return -1;
		if (!n)
			break;
		sent += n;
	}
	return read_loop(rd->memfd, buf, 0, sent, true);
}

/*
 * copy_file_range within one filesystem would clone; an odd output offset
 * makes the kernel copy through splice_read instead, the path we want.
 */
static ssize_t by_cfr(struct reader *rd, int fd, unsigned char *buf,
		      off_t off, size_t len)
{
	loff_t in = off, out = 1;
	size_t done = 0;
	ssize_t n;

	if (rd->tmpfd < 0) {
		rd->tmpfd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (rd->tmpfd < 0)
			return -1;
	}
	if (ftruncate(rd->tmpfd, 0))
		return -1;
	while (done < len) {
		n = copy_file_range(fd, &in, rd->tmpfd, &out, len - done, 0);
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	n = read_loop(rd->tmpfd, buf, 1, done, true);
	return n;
}

static sigjmp_buf mmap_fault;
static volatile sig_atomic_t mmap_armed;

static void on_sigbus(int sig)
{
	if (!mmap_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(mmap_fault, 1);
}

/* -2: the mapping faulted past EOF (SIGBUS); a truncate may explain it. */
static ssize_t by_mmap(int fd, unsigned char *buf, off_t off, size_t len,
		       int flags)
{
	void *p = mmap(NULL, len, PROT_READ, flags, fd, off);
	ssize_t ret = len;

	if (p == MAP_FAILED)
		return -1;
	if (sigsetjmp(mmap_fault, 1)) {
		ret = -2;
	} else {
		mmap_armed = 1;
		memcpy(buf, p, len);
	}
	mmap_armed = 0;
	munmap(p, len);
	return ret;
}

static ssize_t by_io_uring(struct reader *rd, int fd, unsigned char *buf,
			   off_t off, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&rd->ring);
		struct io_uring_cqe *cqe;
		int ret, res;

		if (!sqe) {
			errno = EBUSY;
			return -1;
		}
		io_uring_prep_read(sqe, fd, buf + got,
				   len - got < CHUNK ? len - got : CHUNK,
				   off + got);
		io_uring_submit(&rd->ring);
		ret = io_uring_wait_cqe(&rd->ring, &cqe);
		if (ret) {
			errno = -ret;
			return -1;
		}
		res = cqe->res;
		io_uring_cqe_seen(&rd->ring, cqe);
		if (res < 0) {
			errno = -res;
			return -1;
		}
		if (!res)
			break;
		got += res;
	}
	return got;
}

static ssize_t by_fadvise(int fd, unsigned char *buf, off_t off, size_t len)
{
	int err = posix_fadvise(fd, off, len, POSIX_FADV_WILLNEED);

	if (err) {
		errno = err;
		return -1;
	}
	return read_loop(fd, buf, off, len, true);
}

/* Print the file named by -s, once: the first bad read. */
static void dump_state(void)
{
	static char buf[1 << 16];
	ssize_t n;
	int fd;

	if (!state_file || __atomic_fetch_add(&sh->dumped, 1, __ATOMIC_RELAXED))
		return;
	fd = open(state_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		say("STATE %s at the first bad read:\n%s", state_file, buf);
	}
}

/*
 * After a bad read: which inode the fd and the path have, and whether the
 * same range reads wrong again, through the same fd and a fresh one.
 */
static void diagnose(int f, int fd, off_t off, size_t len, unsigned char *buf)
{
	struct stat st_fd, st_path;
	char p[4096];
	int fd2, bad_same = -1, bad_fresh = -1;
	uint64_t s0, s1;
	ssize_t got;

	dump_state();
	fpath(p, sizeof(p), f);
	if (fstat(fd, &st_fd))
		st_fd.st_ino = 0;
	if (stat(p, &st_path))
		st_path.st_ino = 0;
	s0 = now_seq();
	got = read_loop(fd, buf, off, len, true);
	s1 = now_seq();
	if (got >= 0)
		bad_same = check(f, off, buf, got, len, s0, s1, "", false, true);
	fd2 = open_file(f, O_RDONLY);
	if (fd2 >= 0) {
		s0 = now_seq();
		got = read_loop(fd2, buf, off, len, true);
		s1 = now_seq();
		if (got >= 0)
			bad_fresh = check(f, off, buf, got, len, s0, s1, "", false,
					  true);
		close(fd2);
	}
	say("DIAG file %d: fd inode %lu, path inode %lu; read again with pread: %d bad records on the same fd, %d on a fresh fd\n",
	    f, (unsigned long)st_fd.st_ino, (unsigned long)st_path.st_ino,
	    bad_same, bad_fresh);
}

static void reader_one(struct reader *rd)
{
	int f = rnd(nfiles), m = methods[rnd(nmethods)], fd;
	off_t off = 0;
	size_t len = fsize;
	uint64_t s0, s1, inc;
	ssize_t got;
	bool fresh;
	char how[64];

	if (m == M_IO_URING && !rd->have_ring)
		m = M_PREAD;
	if (rnd(2)) {
		int p0 = rnd(npages), np = 1 + rnd(npages - p0 < 16 ? npages - p0 : 16);

		off = (off_t)p0 * PG;
		len = (size_t)np * PG;
	}

	s0 = now_seq();
	inc = __atomic_load_n(&sh->f[f].incarnation, __ATOMIC_SEQ_CST);
	if (m == M_ODIRECT) {
		fd = open_file(f, O_RDONLY | O_DIRECT);
		fresh = true;
	} else if (rd->fd[f] >= 0 && rd->inc[f] == inc && rnd(2)) {
		fd = rd->fd[f];
		fresh = false;
	} else {
		if (rd->fd[f] >= 0)
			close(rd->fd[f]);
		fd = rd->fd[f] = open_file(f, O_RDONLY);
		rd->inc[f] = inc;
		fresh = true;
	}
	if (fd < 0) {
		if (errno == ENOENT && extended && disrupted(f, s0, now_seq())) {
			cnt->short_ok++;
			return;
		}
		syserr("open for read", f);
		return;
	}

	switch (m) {
	case M_READ:
		got = read_loop(fd, rd->buf, off, len, false);
		break;
	case M_PREAD:
		got = by_pread(fd, rd->buf, off, len);
		break;
	case M_READV:
		got = by_readv(fd, rd->buf, off, len);
		break;
	case M_PREADV2:
		got = by_preadv2(fd, rd->buf, off, len);
		break;
	case M_SPLICE:
		got = by_splice(rd, fd, rd->buf, off, len);
		break;
	case M_SENDFILE:
		got = by_sendfile(rd, fd, rd->buf, off, len);
		break;
	case M_CFR:
		got = by_cfr(rd, fd, rd->buf, off, len);
		break;
	case M_MMAP_SHARED:
		got = by_mmap(fd, rd->buf, off, len, MAP_SHARED);
		break;
	case M_MMAP_PRIVATE:
		got = by_mmap(fd, rd->buf, off, len, MAP_PRIVATE);
		break;
	case M_IO_URING:
		got = by_io_uring(rd, fd, rd->buf, off, len);
		break;
	case M_FADVISE:
		got = by_fadvise(fd, rd->buf, off, len);
		break;
	default:
		got = read_loop(fd, rd->buf, off, len, true);
		break;
	}
	s1 = now_seq();
	snprintf(how, sizeof(how), "%s on a %s fd", mname[m],
		 fresh ? "fresh" : "long-lived");
	if (got == -2 && disrupted(f, s0, s1)) {
		cnt->short_ok++;
	} else if (got == -2) {
		errno = EFAULT;
		syserr("SIGBUS from a mapping", f);
	} else if (got < 0 && m == M_ODIRECT && errno == EIO &&
		   written_during(f, s0, s1)) {
		cnt->dio_eio_ok++;
	} else if (got < 0) {
		syserr(how, f);
	} else {
		cnt->by_method[m]++;
		if (fresh)
			cnt->fresh_fd++;
		else
			cnt->reused_fd++;
		if (check(f, off, rd->buf, got, len, s0, s1, how,
			  m == M_SPLICE || m == M_SENDFILE || m == M_CFR, false))
			diagnose(f, fd, off, len, rd->buf);
	}
	if (m == M_ODIRECT)
		close(fd);
}

static void reader(void)
{
	struct reader rd;
	int f;

	memset(&rd, 0, sizeof(rd));
	for (f = 0; f < MAX_FILES; f++)
		rd.fd[f] = -1;
	rd.tmpfd = -1;
	rd.buf = xalloc(fsize);
	allowed_buf = xalloc(sizeof(*allowed_buf) * npages);
	signal(SIGBUS, on_sigbus);
	if (pipe2(rd.pipe, O_CLOEXEC)) {
		syserr("pipe", -1);
		return;
	}
	fcntl(rd.pipe[1], F_SETPIPE_SZ, CHUNK);
	rd.memfd = memfd_create("stampstress", MFD_CLOEXEC);
	if (rd.memfd < 0) {
		syserr("memfd_create", -1);
		return;
	}
	rd.have_ring = !io_uring_queue_init(4, &rd.ring, 0);
	while (!time_up())
		reader_one(&rd);
}

/* ---- writers ---- */

static int write_all(int fd, const unsigned char *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, off + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int write_pages(int fd, const unsigned char *buf, int p0, int np,
		       struct io_uring *ring, const char **how)
{
	size_t len = (size_t)np * PG;
	off_t off = (off_t)p0 * PG;
	int m = rnd(ring ? 4 : 3), i;

	switch (m) {
	case 0:
		*how = "pwrite";
		return write_all(fd, buf, len, off);
	case 1: {
		struct iovec iov[MAX_WRITE_PAGES];
		ssize_t n;

		*how = "pwritev";
		for (i = 0; i < np; i++) {
			iov[i].iov_base = (void *)(buf + (size_t)i * PG);
			iov[i].iov_len = PG;
		}
		n = pwritev(fd, iov, np, off);
		if (n >= 0 && (size_t)n != len) {
			errno = EIO;
			return -1;
		}
		return n < 0 ? -1 : 0;
	}
	case 2: {
		void *p;

		*how = "mmap";
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (p == MAP_FAILED)
			return -1;
		memcpy(p, buf, len);
		if (rnd(4) == 0 && msync(p, len, MS_SYNC)) {
			munmap(p, len);
			return -1;
		}
		munmap(p, len);
		return 0;
	}
	default: {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;
		int ret, res;

		*how = "io_uring";
		if (!sqe) {
			errno = EBUSY;
			return -1;
		}
		io_uring_prep_write(sqe, fd, buf, len, off);
		io_uring_submit(ring);
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret) {
			errno = -ret;
			return -1;
		}
		res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (res < 0) {
			errno = -res;
			return -1;
		}
		if ((size_t)res != len)
			return write_all(fd, buf + res, len - res, off + res);
		return 0;
	}
	}
}

static bool budget(void)
{
	return __atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED) < max_ops;
}

/*
 * -X: punch a hole, zero a range, fallocate, truncate and extend back, or
 * fsync file f.  The caller holds f's op mutex.
 */
static void writer_extra(int f)
{
	struct stamp z[MAX_WRITE_PAGES];
	int op = rnd(5), np = 1 + rnd(MAX_WRITE_PAGES < npages ? MAX_WRITE_PAGES : npages);
	int p0 = rnd(npages - np + 1), fd, i, ret = 0;
	off_t off = (off_t)p0 * PG, len = (off_t)np * PG;
	uint64_t k = 0;
	struct stamp *tail;

	if (!(extra_ops & (1u << op)))
		op = 4;		/* fsync: changes nothing */
	for (i = 0; i < MAX_WRITE_PAGES; i++)
		z[i] = (struct stamp){ ZERO_FID, 0 };
	fd = open_file(f, O_RDWR);
	if (fd < 0) {
		syserr("open for -X", f);
		return;
	}
	switch (op) {
	case 0:
	case 1:
		change_begin(f, p0, np, z, K_WRITE);
		ret = fallocate(fd, op ? FALLOC_FL_ZERO_RANGE :
				FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		change_end(f, p0, np, false);
		if (!ret)
			op ? cnt->zero_ranges++ : cnt->punches++;
		break;
	case 2:
		ret = fallocate(fd, 0, 0, fsize);
		if (!ret)
			cnt->fallocates++;
		break;
	case 3:
		/* Keep at least one page, so that the file stays a member. */
		p0 = 1 + rnd(npages - 1);
		np = npages - p0;
		tail = xalloc(sizeof(*tail) * np);
		for (i = 0; i < np; i++)
			tail[i] = (struct stamp){ ZERO_FID, 0 };
		k = disrupt_begin(f);
		change_begin(f, p0, np, tail, K_WRITE);
		ret = ftruncate(fd, (off_t)p0 * PG);
		if (!ret)
			ret = ftruncate(fd, fsize);
		change_end(f, p0, np, false);
		disrupt_end(f, k);
		free(tail);
		if (!ret)
			cnt->truncates++;
		break;
	default:
		ret = fsync(fd);
		if (!ret)
			cnt->fsyncs++;
	}
	if (ret) {
		static const char *const names[] = {
			"punch hole", "zero range", "fallocate", "truncate", "fsync",
		};
		syserr(names[op], f);
	}
	close(fd);
}

static void writer(void)
{
	unsigned char *buf = xalloc((size_t)MAX_WRITE_PAGES * PG);
	struct stamp s[MAX_WRITE_PAGES];
	struct io_uring ring;
	bool have_ring = !io_uring_queue_init(4, &ring, 0);

	while (!time_up() && budget()) {
		int f = rnd(nfiles), maxp = npages < MAX_WRITE_PAGES ? npages : MAX_WRITE_PAGES;
		int np = 1 + rnd(rnd(2) ? 2 : maxp), p0 = rnd(npages - np + 1), i, fd;
		uint32_t ver = __atomic_add_fetch(&sh->next_ver, 1, __ATOMIC_RELAXED);
		const char *how = "open";
		char what[64];

		lock(&sh->f[f].op);
		if (extended && rnd(3) == 0) {
			writer_extra(f);
			unlock(&sh->f[f].op);
			pause_a_bit();
			continue;
		}
		for (i = 0; i < np; i++) {
			s[i] = (struct stamp){ f, ver };
			make_page(buf + (size_t)i * PG, s[i], p0 + i);
		}
		if (inject && nfiles > 1 && rnd(8) == 0) {
			/*
			 * Foreign bytes the model does not know about: a
			 * version no file ever had, stamped with another id.
			 */
			int g = (f + 1 + rnd(nfiles - 1)) % nfiles;
			int k = rnd(np);

			make_page(buf + (size_t)k * PG,
				  (struct stamp){ g, ver }, p0 + k);
			cnt->injected++;
		}
		change_begin(f, p0, np, s, K_WRITE);
		fd = open_file(f, O_RDWR);
		if (fd < 0 || write_pages(fd, buf, p0, np, have_ring ? &ring : NULL, &how) ||
		    (rnd(4) == 0 && fdatasync(fd))) {
			snprintf(what, sizeof(what), "write (%s)", how);
			syserr(what, f);
		} else {
			cnt->writes++;
		}
		if (fd >= 0)
			close(fd);
		change_end(f, p0, np, false);
		unlock(&sh->f[f].op);
		pause_a_bit();
	}
}

/* ---- cloners ---- */

/* The latest stamps of g's pages [p0, p0 + np); the caller holds g's op. */
static void stamps_of(int g, int p0, int np, struct stamp *s)
{
	int i;

	lock(&sh->f[g].hist);
	for (i = 0; i < np; i++)
		s[i] = latest(g, p0 + i);
	unlock(&sh->f[g].hist);
}

static bool same_pages(int f, int g, int p0, int np)
{
	int i;
	bool same = true;

	lock(&sh->f[f < g ? f : g].hist);
	lock(&sh->f[f < g ? g : f].hist);
	for (i = p0; i < p0 + np && same; i++) {
		struct stamp a = latest(f, i), b = latest(g, i);

		same = a.fid == b.fid && a.ver == b.ver;
	}
	unlock(&sh->f[f].hist);
	unlock(&sh->f[g].hist);
	return same;
}

/* FICLONE, FICLONERANGE or a copy of g's pages [p0, p0 + np) into f. */
static void clone_into(int f, int g, int p0, int np, int kind,
		       struct stamp *s, unsigned char *buf)
{
	static const char *const kname[] = { "FICLONE", "FICLONERANGE",
					     "copy (pwrite)",
					     "copy (copy_file_range)" };
	int dfd, sfd = -1, ret = -1, i;

	stamps_of(g, p0, np, s);
	/* A copy by copy_file_range may reflink, like a clone. */
	change_begin(f, p0, np, s, kind == 2 ? K_WRITE : K_REMAP);
	dfd = open_file(f, O_RDWR);
	if (dfd >= 0 && kind != 2)
		sfd = open_file(g, O_RDONLY);
	if (dfd >= 0 && (kind == 2 || sfd >= 0)) {
		switch (kind) {
		case 0:
			ret = ioctl(dfd, FICLONE, sfd);
			break;
		case 1: {
			struct file_clone_range r = {
				.src_fd = sfd,
				.src_offset = (uint64_t)p0 * PG,
				.src_length = (uint64_t)np * PG,
				.dest_offset = (uint64_t)p0 * PG,
			};

			ret = ioctl(dfd, FICLONERANGE, &r);
			break;
		}
		case 2:
			for (i = 0; i < np; i++)
				make_page(buf + (size_t)i * PG, s[i], p0 + i);
			ret = write_all(dfd, buf, (size_t)np * PG, (off_t)p0 * PG);
			break;
		default: {
			loff_t in = (loff_t)p0 * PG, out = in;
			size_t done = 0, len = (size_t)np * PG;

			ret = 0;
			while (done < len) {
				ssize_t n = copy_file_range(sfd, &in, dfd, &out,
							    len - done, 0);

				if (n <= 0) {
					ret = -1;
					if (!n)
						errno = EIO;
					break;
				}
				done += n;
			}
			break;
		}
		}
	}
	if (ret)
		syserr(kname[kind], f);
	else if (kind == 0)
		cnt->clones++;
	else if (kind == 1)
		cnt->clone_ranges++;
	else
		cnt->copies++;
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	change_end(f, p0, np, false);
}

/*
 * Make a new file next to the pool, named into @tmp, holding a clone of g.
 * Returns 0, or -1 with errno set (and no file left behind).
 */
static int clone_to_tmp(int g, const char *kind, char *tmp, size_t len)
{
	static unsigned int serial;
	int dfd, sfd, ret = -1, err;

	snprintf(tmp, len, "%s/.%s.%d.%u", dir, kind, me, serial++);
	dfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	sfd = open_file(g, O_RDONLY);
	if (dfd >= 0 && sfd >= 0)
		ret = ioctl(dfd, FICLONE, sfd);
	err = errno;
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	if (ret) {
		unlink(tmp);
		errno = err;
	}
	return ret;
}

/* Replace f by a fresh clone of g, renamed over it. */
static void replace(int f, int g, struct stamp *s)
{
	char tmp[4096], p[4096];
	int ret;

	fpath(p, sizeof(p), f);
	stamps_of(g, 0, npages, s);
	ret = clone_to_tmp(g, "replace", tmp, sizeof(tmp));
	if (ret) {
		syserr("replace: clone", f);
		return;
	}
	/* A new inode: nothing truncates the old one's page cache. */
	change_begin(f, 0, npages, s, K_WRITE);
	ret = rename(tmp, p);
	change_end(f, 0, npages, !ret);
	if (ret) {
		syserr("replace", f);
		unlink(tmp);
		return;
	}
	cnt->replaces++;
	/*
	 * rename() changed the new inode's ctime, so pcshare no longer
	 * trusts its registration: clone it once more, which gives a fresh
	 * inode that nobody has mapped yet a registration it can use.
	 */
	clone_into(f, g, 0, npages, 0, s, NULL);
}

/*
 * -X: unlink f and link a clone of g in its place.  Opens of f racing the
 * gap fail with ENOENT; fds opened before read the old inode.
 */
static void relink(int f, int g, struct stamp *s)
{
	char tmp[4096], p[4096];
	uint64_t k;
	int ret;

	fpath(p, sizeof(p), f);
	stamps_of(g, 0, npages, s);
	if (clone_to_tmp(g, "relink", tmp, sizeof(tmp))) {
		syserr("relink: clone", f);
		return;
	}
	k = disrupt_begin(f);
	change_begin(f, 0, npages, s, K_WRITE);
	ret = unlink(p);
	if (!ret)
		ret = link(tmp, p);
	change_end(f, 0, npages, !ret);
	disrupt_end(f, k);
	unlink(tmp);
	if (ret) {
		syserr("relink", f);
		return;
	}
	cnt->unlinks++;
	/* link() changed the inode's ctime: clone once more, as replace(). */
	clone_into(f, g, 0, npages, 0, s, NULL);
}

/* Dedupe g's content into f (both read-only), and check the verdict. */
static void dedupe(int f, int g, struct stamp *s)
{
	union {
		struct file_dedupe_range r;
		unsigned char b[sizeof(struct file_dedupe_range) +
				sizeof(struct file_dedupe_range_info)];
	} arg;
	int sfd = open_file(g, O_RDONLY), dfd = open_file(f, O_RDONLY);
	int split = npages, part;

	if (sfd < 0 || dfd < 0) {
		syserr("open for dedupe", f);
		goto out;
	}
	/* Half the time in two calls, as tools dedupe in chunks. */
	if (npages > 1 && rnd(2))
		split = 1 + rnd(npages - 1);
	for (part = 0; part < 2; part++) {
		int p0 = part ? split : 0, np = part ? npages - split : split;
		bool expect_same = same_pages(f, g, p0, np);
		struct file_dedupe_range_info *info = &arg.r.info[0];
		char what[128];
		int ret;

		if (np <= 0)
			continue;
		snprintf(what, sizeof(what),
			 "FIDEDUPERANGE of file %d pages [%d,%d) (%s) into", g,
			 p0, p0 + np, expect_same ? "same" : "different");
		memset(&arg, 0, sizeof(arg));
		arg.r.src_offset = (uint64_t)p0 * PG;
		arg.r.src_length = (uint64_t)np * PG;
		arg.r.dest_count = 1;
		info->dest_fd = dfd;
		info->dest_offset = (uint64_t)p0 * PG;
		/* Same content, but the remap drops f's page cache. */
		stamps_of(f, p0, np, s);
		change_begin(f, p0, np, s, K_REMAP);
		ret = ioctl(sfd, FIDEDUPERANGE, &arg);
		change_end(f, p0, np, false);
		if (ret) {
			syserr(what, f);
			break;
		}
		cnt->dedupes++;
		if (info->status < 0) {
			errno = -info->status;
			syserr(what, f);
			break;
		}
		if (info->status == FILE_DEDUPE_RANGE_SAME)
			cnt->dedupe_same++;
		else
			cnt->dedupe_differs++;
		if (expect_same != (info->status == FILE_DEDUPE_RANGE_SAME) ||
		    (expect_same && info->bytes_deduped != arg.r.src_length)) {
			cnt->mismatches++;
			if (__atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS)
				say("MISMATCH dedupe of file %d pages [%d,%d) into file %d: the model says %s, the kernel says %s (%llu bytes deduped)\n",
				    g, p0, p0 + np, f,
				    expect_same ? "same" : "different",
				    info->status == FILE_DEDUPE_RANGE_SAME ? "same" : "differs",
				    (unsigned long long)info->bytes_deduped);
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
}

static void cloner(void)
{
	unsigned char *buf = xalloc(fsize);
	struct stamp *s = xalloc(sizeof(*s) * npages);

	while (!time_up() && budget()) {
		int f = rnd(nfiles), g = (f + 1 + rnd(nfiles - 1)) % nfiles;
		int op = rnd(20);

		if (op < 6) {
			/* Dedupe: prefer a pair the model says is identical. */
			int tries;

			for (tries = 0; tries < 16 && !same_pages(f, g, 0, npages); tries++) {
				f = rnd(nfiles);
				g = (f + 1 + rnd(nfiles - 1)) % nfiles;
			}
			lock_two(f, g);
			dedupe(f, g, s);
			unlock_two(f, g);
		} else {
			lock_two(f, g);
			if (op < 11) {
				clone_into(f, g, 0, npages, 0, s, buf);
			} else if (op < 13) {
				int np = 1 + rnd(npages), p0 = rnd(npages - np + 1);

				clone_into(f, g, p0, np, 1, s, buf);
			} else if (op < 15) {
				clone_into(f, g, 0, npages, 2 + rnd(2), s, buf);
			} else if (extended && (extra_ops & 32) && rnd(2)) {
				relink(f, g, s);
			} else {
				/* Often: a fresh inode has no history with us. */
				replace(f, g, s);
			}
			unlock_two(f, g);
		}
		pause_a_bit();
	}
}

/* ---- dropper ---- */

static void dropper(void)
{
	int which = 1;

	while (!time_up()) {
		int fd;

		usleep((useconds_t)drop_ms * 1000);
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			syserr("open /proc/sys/vm/drop_caches", -1);
			return;
		}
		if (write(fd, which == 1 ? "1" : "2", 1) != 1)
			syserr("drop_caches", -1);
		else
			cnt->drops++;
		close(fd);
		which = 3 - which;
	}
}

/* ---- setup, the final check, the summary ---- */

static int setup(void)
{
	unsigned char *buf = xalloc(fsize);
	struct stamp v0 = { 0, 0 };
	int p, f, fd, sfd;

	for (p = 0; p < npages; p++)
		make_page(buf + (size_t)p * PG, v0, p);
	fd = open_file(0, O_RDWR | O_CREAT | O_TRUNC);
	if (fd < 0 || write_all(fd, buf, fsize, 0) || fsync(fd)) {
		perror("stampstress: writing file 0");
		return 2;
	}
	close(fd);
	sfd = open_file(0, O_RDONLY);
	for (f = 1; f < nfiles; f++) {
		fd = open_file(f, O_RDWR | O_CREAT | O_TRUNC);
		if (fd < 0 || sfd < 0) {
			perror("stampstress: creating files");
			return 2;
		}
		if (ioctl(fd, FICLONE, sfd)) {
			int e = errno;

			fprintf(stderr, "stampstress: FICLONE: %s\n", strerror(e));
			return e == EOPNOTSUPP || e == EXDEV || e == EINVAL ||
			       e == ENOTTY ? 4 : 2;
		}
		close(fd);
	}
	close(sfd);
	free(buf);
	for (f = 0; f < nfiles; f++) {
		for (p = 0; p < npages; p++) {
			struct page_hist *h = hist(f, p);

			h->e[0] = (struct ent){ .s = v0, .kind = K_WRITE };
			h->n = 1;
		}
	}
	return 0;
}

/* Quiescent: every file must hold exactly its latest versions. */
static void final_check(void)
{
	unsigned char *buf = xalloc(fsize);
	int f;

	for (f = 0; f < nfiles; f++) {
		int fd = open_file(f, O_RDONLY);
		ssize_t got;
		uint64_t s;

		if (fd < 0) {
			syserr("open for the final check", f);
			continue;
		}
		s = now_seq();
		got = read_loop(fd, buf, 0, fsize, false);
		close(fd);
		if (got < 0) {
			syserr("final read", f);
			continue;
		}
		check(f, 0, buf, got, fsize, s, s, "read after the run", false,
		      false);
	}
	free(buf);
}

static void sum_counters(struct counters *t, int nproc)
{
	uint64_t *dst = (uint64_t *)t;
	size_t n = sizeof(*t) / sizeof(uint64_t), i;
	int p;

	memset(t, 0, sizeof(*t));
	for (p = 0; p <= MAX_PROCS; p++) {
		const uint64_t *src = (const uint64_t *)&sh->c[p];

		if (p >= nproc && p != MAX_PROCS)
			continue;
		for (i = 0; i < n; i++)
			dst[i] += src[i];
	}
}

/* Reads checked so far by all readers; read while they run. */
static uint64_t reads_so_far(int nproc)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < nproc; i++)
		n += __atomic_load_n(&sh->c[i].reads, __ATOMIC_RELAXED);
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: stampstress [-r READERS] [-w WRITERS] [-c CLONERS] [-k FILE_KIB]\n"
		"                   [-o MAX_OPS] [-p PAUSE_MS] [-d DROP_MS] [-m METHODS]\n"
		"                   [-s STATE_FILE] [-R MAX_READS] [-F] [-X]\n"
		"                   DIR NFILES SECONDS SEED\n");
	exit(2);
}

static long num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

static void parse_methods(char *list)
{
	char *tok, *save = NULL;
	int i;

	nmethods = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NMETH && strcmp(tok, mname[i]); i++)
			;
		if (i == NMETH || nmethods == NMETH) {
			fprintf(stderr, "stampstress: unknown read method %s\n", tok);
			exit(2);
		}
		methods[nmethods++] = i;
	}
	if (!nmethods)
		usage();
}

static void show_stacks(pid_t pid)
{
	char p[64], buf[4096];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/stack", (int)pid);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		say("kernel stack of %d:\n%s", (int)pid, buf);
	}
}

int main(int argc, char **argv)
{
	int readers = 3, writers = 2, cloners = 1, kib = 256, secs, opt, i, rc;
	int nproc, hung = 0, died = 0;
	pid_t pids[MAX_PROCS];
	const char *role[MAX_PROCS];
	struct counters t;
	struct timespec t0, t1, t_stop;
	size_t shsize;
	pthread_mutexattr_t ma;

	max_ops = 1000000;
	pause_ms = 20;
	for (i = 0; i < NMETH; i++)
		methods[i] = i;
	nmethods = NMETH;
	while ((opt = getopt(argc, argv, "r:w:c:k:o:p:d:FXx:m:s:R:")) != -1) {
		switch (opt) {
		case 'r':
			readers = num(optarg, 0, MAX_PROCS);
			break;
		case 'w':
			writers = num(optarg, 0, MAX_PROCS);
			break;
		case 'c':
			cloners = num(optarg, 0, MAX_PROCS);
			break;
		case 'k':
			kib = num(optarg, 4, 1 << 20);
			break;
		case 'o':
			max_ops = num(optarg, 0, 1L << 40);
			break;
		case 'p':
			pause_ms = num(optarg, 0, 60000);
			break;
		case 'd':
			drop_ms = num(optarg, 0, 600000);
			break;
		case 'F':
			inject = true;
			break;
		case 'X':
			extended = true;
			break;
		case 'x':
			extended = true;
			extra_ops = num(optarg, 0, 63);
			break;
		case 'm':
			parse_methods(optarg);
			break;
		case 's':
			state_file = optarg;
			break;
		case 'R':
			max_reads = num(optarg, 1, 1L << 40);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4)
		usage();
	dir = argv[optind];
	nfiles = num(argv[optind + 1], 2, MAX_FILES);
	secs = num(argv[optind + 2], 0, 86400);
	seed = strtoull(argv[optind + 3], NULL, 0);
	if (kib % (PG / 1024) || readers + writers + cloners + !!drop_ms > MAX_PROCS)
		usage();
	if (sysconf(_SC_PAGESIZE) != PG) {
		fprintf(stderr, "stampstress: needs %d-byte pages\n", PG);
		return 2;
	}
	fsize = (size_t)kib * 1024;
	npages = fsize / PG;
	setvbuf(stdout, NULL, _IONBF, 0);
	say("stampstress: dir %s, %d files of %d KiB, %d s, %d readers, %d writers, %d cloners, drop every %d ms%s, seed=%" PRIu64 "\n",
	    dir, nfiles, kib, secs, readers, writers, cloners, drop_ms,
	    inject ? ", injecting foreign pages" : "", seed);
	if (max_reads)
		say("stampstress: ends after %" PRIu64 " reads checked\n",
		    max_reads);

	shsize = sizeof(struct shared) + sizeof(struct page_hist) * nfiles * npages;
	sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("stampstress: mmap");
		return 2;
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	for (i = 0; i < nfiles; i++) {
		pthread_mutex_init(&sh->f[i].op, &ma);
		pthread_mutex_init(&sh->f[i].hist, &ma);
	}
	me = MAX_PROCS;
	cnt = &sh->c[MAX_PROCS];
	rng = seed ^ 0x5eed;
	rc = setup();
	if (rc)
		return rc;
	sh->seq = 1;
	sh->next_ver = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t_end = t0;
	t_end.tv_sec += secs;
	nproc = readers + writers + cloners + !!drop_ms;
	for (i = 0; i < nproc; i++) {
		role[i] = i < readers ? "reader" :
			  i < readers + writers ? "writer" :
			  i < readers + writers + cloners ? "cloner" : "dropper";
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("stampstress: fork");
			sh->stop = 1;
			nproc = i;
			break;
		}
		if (!pids[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			me = i;
			cnt = &sh->c[i];
			rng = seed * 0x100000001b3ULL + i + 1;
			if (i < readers)
				reader();
			else if (i < readers + writers)
				writer();
			else if (i < readers + writers + cloners)
				cloner();
			else
				dropper();
			_exit(0);
		}
	}

	/* Wait for the end, then give the processes a minute to finish. */
	t_stop = t_end;
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid > 0) {
			for (i = 0; i < nproc; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = 0;
				if (!WIFEXITED(st) || WEXITSTATUS(st)) {
					say("ERROR: %s %d died (status %#x)\n",
					    role[i], i, st);
					died++;
				}
			}
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
		    (time_up() ||
		     (max_reads && reads_so_far(nproc) >= max_reads))) {
			__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
			if (t1.tv_sec < t_stop.tv_sec)
				t_stop = t1;
		}
		if (t1.tv_sec >= t_stop.tv_sec + 60) {
			for (i = 0; i < nproc; i++) {
				if (!pids[i])
					continue;
				say("HANG: %s %d (pid %d) still runs 60 s after the end\n",
				    role[i], i, (int)pids[i]);
				show_stacks(pids[i]);
				kill(pids[i], SIGKILL);
				hung++;
			}
			break;
		}
		usleep(50 * 1000);
	}
	if (hung) {
		say("stampstress: giving up; seed=%" PRIu64 "\n", seed);
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	me = MAX_PROCS;
	cnt = &sh->c[MAX_PROCS];
	allowed_buf = xalloc(sizeof(*allowed_buf) * npages);
	final_check();

	sum_counters(&t, nproc);
	say("methods:");
	for (i = 0; i < NMETH; i++)
		say(" %s=%" PRIu64, mname[i], t.by_method[i]);
	say(" fresh_fd=%" PRIu64 " long_lived_fd=%" PRIu64 "\n", t.fresh_fd,
	    t.reused_fd);
	say("elapsed=%.1fs ops_copy=%" PRIu64 " ops_clone_range=%" PRIu64
	    " dedupe_same=%" PRIu64 " dedupe_differs=%" PRIu64
	    " ops_replace=%" PRIu64 " drops=%" PRIu64 " injected=%" PRIu64
	    " torn_ok=%" PRIu64 " zeroed_ok=%" PRIu64 " unverifiable=%" PRIu64
	    " errors=%" PRIu64 "\n",
	    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    t.copies, t.clone_ranges, t.dedupe_same, t.dedupe_differs,
	    t.replaces, t.drops, t.injected, t.torn, t.zeroed, t.unverifiable,
	    t.errors + died);
	if (extended)
		say("ops_punch=%" PRIu64 " ops_zero_range=%" PRIu64
		    " ops_fallocate=%" PRIu64 " ops_truncate=%" PRIu64
		    " ops_fsync=%" PRIu64 " ops_unlink=%" PRIu64
		    " short_ok=%" PRIu64 " dio_eio_ok=%" PRIu64 "\n",
		    t.punches, t.zero_ranges, t.fallocates, t.truncates,
		    t.fsyncs, t.unlinks, t.short_ok, t.dio_eio_ok);
	say("reads_checked=%" PRIu64 " records_checked=%" PRIu64
	    " mismatches=%" PRIu64 " ops_write=%" PRIu64 " ops_clone=%" PRIu64
	    " ops_dedupe=%" PRIu64 " seed=%" PRIu64 "\n",
	    t.reads, t.records, t.mismatches, t.writes, t.clones, t.dedupes,
	    seed);
	return t.mismatches || t.errors || died ? 1 : 0;
}

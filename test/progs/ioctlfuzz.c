// SPDX-License-Identifier: GPL-2.0
/*
 * ioctlfuzz - random and edge-case FICLONE, FICLONERANGE and FIDEDUPERANGE
 * calls, with a transcript that must not depend on whether pcshare is
 * loaded.
 *
 * usage: ioctlfuzz DIR NCASES SEED
 *
 * DIR must be empty.  ioctlfuzz makes a pool of files in it (some equal,
 * some one byte apart, some sizes not a multiple of the block size), then
 * runs NCASES cases.  A case is an ioctl with arguments picked from edge
 * values (bad fds, a closed fd, a pipe, a directory, the same file on both
 * sides, read-only and append-only destinations, unaligned offsets,
 * lengths past EOF, huge offsets, lengths and counts, non-zero reserved
 * fields), or an action that changes what pcshare does with the pool:
 * reopening an fd with another mode (a read-only open activates a member,
 * a write open breaks it), reading a whole file, or writing a byte.
 *
 * Every case prints one line on stdout: the case, the arguments (files by
 * name and open mode, never by fd number), the return value and errno, for
 * a dedupe every destination's status and bytes_deduped, and for a read the
 * XXH64 of the bytes.  At the end every file's size and XXH64 are printed.
 * Run it twice on identical fresh pools, with and without the module: the
 * two transcripts must be identical (DESIGN.md 2.5: the module never
 * changes an ioctl's result or errno, nor any byte).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define NFILES	8
#define NSLOTS	12
/*
 * A clone to a huge offset makes a huge sparse file, and a later dedupe or
 * read of it would walk exabytes of holes: files are cut back to this size
 * after each case (in both runs alike, so the transcripts still compare).
 */
#define MAX_SIZE	(8ull << 20)

static const uint64_t sizes[NFILES] = {
	0, 1, 4096, 65536, 65536, 65536, (1 << 20) + 123, (1 << 20) + 123,
};

/* The descriptors cases pick from: a pool file in some mode, or oddities. */
enum slot_kind { SLOT_FILE, SLOT_BAD, SLOT_CLOSED, SLOT_PIPE, SLOT_DIR };

struct slot {
	enum slot_kind kind;
	int fd;
	int file;
	int mode;		/* index in modes[] */
};

static const struct { int flags; const char *name; } modes[] = {
	{ O_RDONLY, "ro" }, { O_RDWR, "rw" }, { O_WRONLY, "wo" },
	{ O_RDWR | O_APPEND, "append" },
};

static char dir[4096];
static struct slot slots[NSLOTS];
static int dirfd_, pipefd[2];
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t pick(uint64_t n)
{
	return rnd() % n;
}

static void die(const char *what)
{
	fprintf(stderr, "ioctlfuzz: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char *path_of(int file)
{
	static char p[4200];

	snprintf(p, sizeof(p), "%s/f%d", dir, file);
	return p;
}

static void make_pool(void)
{
	static char buf[(1 << 20) + 123];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	for (int f = 0; f < NFILES; f++) {
		int fd = open(path_of(f), O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (fd < 0)
			die(path_of(f));
		/* f4 and f7 differ from their twins in their last byte. */
		if (f == 4 || f == 7)
			buf[sizes[f] - 1] ^= 0x5a;
		if (write(fd, buf, sizes[f]) != (ssize_t)sizes[f])
			die("write");
		if (f == 4 || f == 7)
			buf[sizes[f] - 1] ^= 0x5a;
		if (fsync(fd) || close(fd))
			die("close");
	}
}

static void slot_close(struct slot *s)
{
	if (s->kind == SLOT_FILE && s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Open slot @i on a random pool file in a random mode, or an oddity. */
static void slot_open(int i)
{
	struct slot *s = &slots[i];

	slot_close(s);
	s->kind = SLOT_FILE;
	s->file = pick(NFILES);
	/* 40% read-only, 40% read-write, 10% write-only, 10% append */
	s->mode = (int[]){ 0, 0, 0, 0, 1, 1, 1, 1, 2, 3 }[pick(10)];
	switch (i) {
	case NSLOTS - 1:
		s->kind = SLOT_BAD;	/* -1 */
		return;
	case NSLOTS - 2:
		s->kind = SLOT_CLOSED;	/* a number no file has */
		s->fd = 999;
		return;
	case NSLOTS - 3:
		s->kind = SLOT_PIPE;
		s->fd = pipefd[0];
		return;
	case NSLOTS - 4:
		s->kind = SLOT_DIR;
		s->fd = dirfd_;
		return;
	}
	s->fd = open(path_of(s->file), modes[s->mode].flags);
	if (s->fd < 0)
		die(path_of(s->file));
}

static const char *slot_name(const struct slot *s)
{
	static char names[2][32];
	static int n;
	char *p = names[n++ & 1];

	switch (s->kind) {
	case SLOT_BAD:
		return "badfd";
	case SLOT_CLOSED:
		return "closedfd";
	case SLOT_PIPE:
		return "pipe";
	case SLOT_DIR:
		return "dir";
	default:
		snprintf(p, 32, "f%d:%s", s->file, modes[s->mode].name);
		return p;
	}
}

static int slot_fd(const struct slot *s)
{
	return s->kind == SLOT_BAD ? -1 : s->fd;
}

static struct slot *pick_slot(void)
{
	/* Mostly pool files; now and then an oddity. */
	return &slots[pick(10) < 8 ? pick(NSLOTS - 4) : NSLOTS - 4 + pick(4)];
}

static uint64_t size_of(const struct slot *s)
{
	return s->kind == SLOT_FILE ? (uint64_t)lseek(s->fd, 0, SEEK_END) : 4096;
}

/* An offset or length around the file's size, aligned or not, or absurd. */
static uint64_t pick_edge(uint64_t size)
{
	switch (pick(12)) {
	case 0: return 0;
	case 1: return 4096;
	case 2: return size;
	case 3: return (size + 4095) & ~4095ull;
	case 4: return size + 4096;
	case 5: return 1 + pick(8191);
	case 6: return size ? pick(size) & ~4095ull : 0;
	case 7: return 1ull << 30;
	case 8: return (1ull << 30) + 4096;
	case 9: return 1ull << 62;
	case 10: return UINT64_MAX - 4095;
	default: return size ? (size - 1) : 1;
	}
}

static void result(long ret)
{
	if (ret < 0)
		printf(" = -1 %s\n", strerrorname_np(errno) ?: "?");
	else
		printf(" = %ld\n", ret);
}

static void do_clone(void)
{
	struct slot *src = pick_slot(), *dst = pick_slot();

	printf("FICLONE %s -> %s", slot_name(src), slot_name(dst));
	result(ioctl(slot_fd(dst), FICLONE, slot_fd(src)));
}

static void do_clone_range(void)
{
	struct slot *src = pick_slot(), *dst = pick_slot();
	struct file_clone_range r = {
		.src_fd = slot_fd(src),
		.src_offset = pick_edge(size_of(src)),
		.src_length = pick(3) ? pick_edge(size_of(src)) : 0,
		.dest_offset = pick(2) ? 0 : pick_edge(size_of(dst)),
	};

	if (!pick(3))
		r.dest_offset = r.src_offset;
	printf("FICLONERANGE %s@%llu+%llu -> %s@%llu", slot_name(src),
	       r.src_offset, r.src_length, slot_name(dst), r.dest_offset);
	result(ioctl(slot_fd(dst), FICLONERANGE, &r));
}

static void do_dedupe(void)
{
	struct slot *src = pick_slot(), *dst[8];
	uint16_t count = 1 + pick(4);
	uint16_t claimed = count;
	struct file_dedupe_range *r;
	uint64_t size = size_of(src);
	long ret;

	r = calloc(1, sizeof(*r) + 8 * sizeof(r->info[0]));
	if (!r)
		die("calloc");
	r->src_offset = pick(3) ? 0 : pick_edge(size);
	r->src_length = pick(2) ? size - (r->src_offset < size ? r->src_offset : size) :
				  pick_edge(size);
	switch (pick(16)) {
	case 0: claimed = 0; break;
	case 1: claimed = 65535; break;		/* more than the buffer */
	case 2: r->reserved1 = 1; break;
	case 3: r->reserved2 = 1; break;
	}
	r->dest_count = claimed;
	printf("FIDEDUPERANGE %s@%llu+%llu count=%u res=%u,%u ->", slot_name(src),
	       r->src_offset, r->src_length, claimed, r->reserved1, r->reserved2);
	for (int i = 0; i < count; i++) {
		dst[i] = pick(4) ? pick_slot() : src;
		r->info[i].dest_fd = slot_fd(dst[i]);
		r->info[i].dest_offset = pick(4) ? r->src_offset : pick_edge(size_of(dst[i]));
		r->info[i].reserved = !pick(20);
		printf(" %s@%llu%s", slot_name(dst[i]), r->info[i].dest_offset,
		       r->info[i].reserved ? "(res)" : "");
	}
	ret = ioctl(slot_fd(src), FIDEDUPERANGE, r);
	if (ret < 0) {
		result(ret);
	} else {
		printf(" = %ld [", ret);
		for (int i = 0; i < count && i < claimed; i++)
			printf(" %d/%llu", r->info[i].status, r->info[i].bytes_deduped);
		printf(" ]\n");
	}
	free(r);
}

static uint64_t hash_fd(int fd, ssize_t *got)
{
	static char buf[(2 << 20)];
	XXH64_state_t *st = XXH64_createState();
	uint64_t h;
	off_t off = 0;
	ssize_t n;

	XXH64_reset(st, 0);
	*got = 0;
	while (off < (off_t)MAX_SIZE && (n = pread(fd, buf, sizeof(buf), off)) > 0) {
		XXH64_update(st, buf, n);
		off += n;
		*got += n;
	}
	if (n < 0)
		*got = -errno;
	h = XXH64_digest(st);
	XXH64_freeState(st);
	return h;
}

/* Read a whole file through a read-only slot (which may activate it). */
static void do_read(void)
{
	struct slot *s = &slots[pick(NSLOTS - 4)];
	ssize_t got;
	uint64_t h;

	if (!(modes[s->mode].flags == O_RDONLY || modes[s->mode].flags & O_RDWR)) {
		printf("READ %s skipped\n", slot_name(s));
		return;
	}
	h = hash_fd(s->fd, &got);
	printf("READ %s %zd %016" PRIx64 "\n", slot_name(s), got, h);
}

/* Overwrite one byte with what it holds already, through a write open. */
static void do_touch(void)
{
	int file = pick(NFILES), fd;
	char c;
	ssize_t n;

	fd = open(path_of(file), O_RDWR);
	if (fd < 0)
		die(path_of(file));
	n = pread(fd, &c, 1, 0);
	if (n == 1)
		n = pwrite(fd, &c, 1, 0);
	printf("TOUCH f%d %zd\n", file, n);
	close(fd);
}

static void trim_pool(void)
{
	struct stat st;

	for (int f = 0; f < NFILES; f++) {
		if (stat(path_of(f), &st))
			die(path_of(f));
		if ((uint64_t)st.st_size <= MAX_SIZE)
			continue;
		if (truncate(path_of(f), MAX_SIZE))
			die("truncate");
		printf("TRIM f%d %lld\n", f, (long long)st.st_size);
	}
}

int main(int argc, char **argv)
{
	long ncases;
	ssize_t got;

	if (argc != 4) {
		fprintf(stderr, "usage: ioctlfuzz DIR NCASES SEED\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	ncases = strtol(argv[2], NULL, 0);
	rng = strtoull(argv[3], NULL, 0) | 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_pool();
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
	if (dirfd_ < 0 || pipe(pipefd))
		die("setup");
	for (int i = 0; i < NSLOTS; i++) {
		slots[i].fd = -1;
		slot_open(i);
	}
	printf("seed %s cases %ld\n", argv[3], ncases);
	for (long c = 0; c < ncases; c++) {
		printf("%ld ", c);
		switch (pick(10)) {
		case 0: case 1: do_clone(); break;
		case 2: case 3: do_clone_range(); break;
		case 4: case 5: case 6: do_dedupe(); break;
		case 7: {
			int i = pick(NSLOTS - 4);

			slot_open(i);
			printf("OPEN slot%d %s\n", i, slot_name(&slots[i]));
			break;
		}
		case 8: do_read(); break;
		default:
			if (pick(4))
				do_read();
			else
				do_touch();
		}
		trim_pool();
	}
	for (int i = 0; i < NSLOTS; i++)
		slot_close(&slots[i]);
	for (int f = 0; f < NFILES; f++) {
		int fd = open(path_of(f), O_RDONLY);
		uint64_t h;

		if (fd < 0)
			die(path_of(f));
		h = hash_fd(fd, &got);
		printf("FINAL f%d %zd %016" PRIx64 "\n", f, got, h);
		close(fd);
	}
	return 0;
}

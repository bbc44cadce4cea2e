// SPDX-License-Identifier: GPL-2.0
/*
 * readpaths - read a file through every read path and compare each result
 * with a reference copy.
 *
 * usage: readpaths FILE REFERENCE [METHOD...]
 *
 * Each method opens FILE anew (so that every open goes through pcshare's
 * open hook), reads the whole file its own way, and compares the bytes
 * with REFERENCE (read with plain read(2); keep it on another filesystem,
 * e.g. tmpfs).  Methods: read pread readv preadv2 splice sendfile
 * copy_file_range mmap_shared mmap_private odirect readahead fadvise
 * io_uring.  Prints "ok METHOD" or "FAIL METHOD: ..." per method; exits 1
 * if any method failed, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK (64 << 10)

static const char *path;
static unsigned char *ref;
static size_t ref_len;

static void die(const char *what)
{
	fprintf(stderr, "readpaths: %s: %s\n", what, strerror(errno));
	exit(2);
}

static unsigned char *slurp(const char *file, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t off = 0;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(file);
	buf = malloc(st.st_size + 1);
	if (!buf)
		die("malloc");
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, st.st_size - off);

		if (n <= 0)
			die(file);
		off += n;
	}
	close(fd);
	*len = off;
	return buf;
}

static int open_file(int flags)
{
	int fd = open(path, O_RDONLY | flags);

	if (fd < 0)
		die(path);
	return fd;
}

/* Compare @got with the reference; return 0 or print where they differ. */
static int verdict(const char *method, const unsigned char *got, size_t len)
{
	size_t i;

	if (len != ref_len) {
		printf("FAIL %s: read %zu bytes, reference has %zu\n", method,
		       len, ref_len);
		return 1;
	}
	if (!memcmp(got, ref, len)) {
		printf("ok %s\n", method);
		return 0;
	}
	for (i = 0; i < len && got[i] == ref[i]; i++)
		;
	printf("FAIL %s: first difference at byte %zu\n", method, i);
	return 1;
}

static unsigned char *buffer(void)
{
	void *p;

	/*
	 * Aligned for O_DIRECT, with room for a whole CHUNK past the end:
	 * each read asks for CHUNK bytes, and a direct read may fill whole
	 * blocks beyond EOF.
	 */
	size_t size = (ref_len / CHUNK + 2) * CHUNK;

	if (posix_memalign(&p, 4096, size))
		die("posix_memalign");
	memset(p, 0xa5, size);
	return p;
}

typedef size_t (*reader_fn)(unsigned char *buf);

static size_t by_read_fd(int fd, unsigned char *buf)
{
	size_t off = 0;
	ssize_t n;

	while ((n = read(fd, buf + off, CHUNK)) > 0)
		off += n;
	if (n < 0)
		die("read");
	return off;
}

static size_t by_read(unsigned char *buf)
{
	int fd = open_file(0);
	size_t len = by_read_fd(fd, buf);

	close(fd);
	return len;
}

/* pread in a shuffled order of chunks, so readahead cannot help. */
static size_t by_pread(unsigned char *buf)
{
	int fd = open_file(0);
	size_t chunks = (ref_len + CHUNK - 1) / CHUNK, i, total = 0;

	for (i = 0; i < chunks; i++) {
		size_t c = (i * 7919) % chunks;
		ssize_t n = pread(fd, buf + c * CHUNK, CHUNK, c * CHUNK);

		if (n < 0)
			die("pread");
		total += n;
	}
	close(fd);
	return total;
}

static size_t by_readv(unsigned char *buf)
{
	int fd = open_file(0);
	size_t off = 0;
	ssize_t n;

	do {
		struct iovec iov[3] = {
			{ buf + off, 1000 },
			{ buf + off + 1000, 3096 },
			{ buf + off + 4096, CHUNK - 4096 },
		};
		n = readv(fd, iov, 3);
		if (n < 0)
			die("readv");
		off += n;
	} while (n > 0);
	close(fd);
	return off;
}

static size_t by_preadv2(unsigned char *buf)
{
	int fd = open_file(0);
	size_t off = 0;
	ssize_t n;

	do {
		struct iovec iov = { buf + off, CHUNK };

		n = preadv2(fd, &iov, 1, off, RWF_HIPRI);
		if (n < 0 && errno == EOPNOTSUPP)
			n = preadv2(fd, &iov, 1, off, 0);
		if (n < 0)
			die("preadv2");
		off += n;
	} while (n > 0);
	close(fd);
	return off;
}

static size_t by_splice(unsigned char *buf)
{
	int fd = open_file(0), p[2];
	size_t off = 0;
	loff_t pos = 0;
	ssize_t n;

	if (pipe(p))
		die("pipe");
	while ((n = splice(fd, &pos, p[1], NULL, CHUNK, 0)) > 0) {
		ssize_t got = 0;

		while (got < n) {
			ssize_t r = read(p[0], buf + off + got, n - got);

			if (r <= 0)
				die("read pipe");
			got += r;
		}
		off += n;
	}
	if (n < 0)
		die("splice");
	close(p[0]);
	close(p[1]);
	close(fd);
	return off;
}

/* sendfile and copy_file_range into a memfd, then read that back. */
static size_t from_memfd(int out, unsigned char *buf)
{
	if (lseek(out, 0, SEEK_SET))
		die("lseek");
	return by_read_fd(out, buf);
}

static size_t by_sendfile(unsigned char *buf)
{
	int fd = open_file(0), out = memfd_create("readpaths", 0);
	size_t len;
	ssize_t n;

	if (out < 0)
		die("memfd_create");
	while ((n = sendfile(out, fd, NULL, CHUNK)) > 0)
		;
	if (n < 0)
		die("sendfile");
	len = from_memfd(out, buf);
	close(out);
	close(fd);
	return len;
}

/*
 * copy_file_range within one filesystem would clone; an unaligned output
 * offset makes the kernel fall back to copying through splice_read, which
 * is the read path we want to exercise.
 */
static size_t by_copy_file_range(unsigned char *buf)
{
	char dir[4096], *slash;
	int fd = open_file(0), out;
	loff_t out_pos = 1;
	size_t off = 0;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	out = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (out < 0)
		die("O_TMPFILE");
	while ((n = copy_file_range(fd, NULL, out, &out_pos, CHUNK, 0)) > 0)
		;
	if (n < 0)
		die("copy_file_range");
	while ((n = pread(out, buf + off, CHUNK, off + 1)) > 0)
		off += n;
	if (n < 0)
		die("pread");
	close(out);
	close(fd);
	return off;
}

static size_t by_mmap(unsigned char *buf, int flags)
{
	int fd = open_file(0);
	void *p;

	if (!ref_len) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, ref_len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED && flags == MAP_SHARED)
		p = mmap(NULL, ref_len, PROT_READ, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	memcpy(buf, p, ref_len);
	munmap(p, ref_len);
	close(fd);
	return ref_len;
}

static size_t by_mmap_shared(unsigned char *buf)
{
	return by_mmap(buf, MAP_SHARED);
}

static size_t by_mmap_private(unsigned char *buf)
{
	return by_mmap(buf, MAP_PRIVATE);
}

static size_t by_odirect(unsigned char *buf)
{
	int fd = open_file(O_DIRECT);
	size_t off = 0;
	ssize_t n;

	while ((n = read(fd, buf + off, CHUNK)) > 0)
		off += n;
	if (n < 0)
		die("O_DIRECT read");
	close(fd);
	return off;
}

static size_t by_readahead(unsigned char *buf)
{
	int fd = open_file(0);
	size_t len;

	if (readahead(fd, 0, ref_len))
		die("readahead");
	len = by_read_fd(fd, buf);
	close(fd);
	return len;
}

static size_t by_fadvise(unsigned char *buf)
{
	int fd = open_file(0), err;
	size_t len;

	err = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	if (!err)
		err = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (err) {
		errno = err;
		die("posix_fadvise");
	}
	len = by_read_fd(fd, buf);
	close(fd);
	return len;
}

static size_t by_io_uring(unsigned char *buf)
{
	struct io_uring ring;
	int fd = open_file(0), ret;
	size_t off = 0;

	ret = io_uring_queue_init(8, &ring, 0);
	if (ret) {
		errno = -ret;
		die("io_uring_queue_init");
	}
	for (;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;
		int res;

		io_uring_prep_read(sqe, fd, buf + off, CHUNK, off);
		io_uring_submit(&ring);
		ret = io_uring_wait_cqe(&ring, &cqe);
		if (ret) {
			errno = -ret;
			die("io_uring_wait_cqe");
		}
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res < 0) {
			errno = -res;
			die("io_uring read");
		}
		if (!res)
			break;
		off += res;
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return off;
}

static const struct {
	const char *name;
	reader_fn fn;
} methods[] = {
	{ "read", by_read },
	{ "pread", by_pread },
	{ "readv", by_readv },
	{ "preadv2", by_preadv2 },
	{ "splice", by_splice },
	{ "sendfile", by_sendfile },
	{ "copy_file_range", by_copy_file_range },
	{ "mmap_shared", by_mmap_shared },
	{ "mmap_private", by_mmap_private },
	{ "odirect", by_odirect },
	{ "readahead", by_readahead },
	{ "fadvise", by_fadvise },
	{ "io_uring", by_io_uring },
};

static int run(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(methods[i].name, name)) {
			unsigned char *buf = buffer();
			size_t len = methods[i].fn(buf);
			int bad = verdict(name, buf, len);

			free(buf);
			return bad;
		}
	}
	fprintf(stderr, "readpaths: unknown method %s\n", name);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int i;
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: readpaths FILE REFERENCE [METHOD...]\n");
		return 2;
	}
	path = argv[1];
	ref = slurp(argv[2], &ref_len);
	if (argc > 3) {
		for (i = 3; i < (unsigned int)argc; i++)
			bad |= run(argv[i]);
	} else {
		for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
			bad |= run(methods[i].name);
	}
	return bad;
}

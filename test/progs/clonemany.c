// SPDX-License-Identifier: GPL-2.0
/*
 * clonemany - make many small files, each with one reflinked copy, fast:
 * with pcshare loaded, each pair is one group (test/cases/430-bench-hooks.sh
 * uses it for "10,000 live groups").
 *
 * usage: clonemany DIR COUNT [SIZE]
 *
 * For i in 0..COUNT-1: write DIR/s<i> (SIZE bytes, default 4096, content
 * unique to i), close it, then FICLONE it (opened read-only) to DIR/c<i>.
 * Prints "COUNT NS_TOTAL".
 * Exits 1 if a call fails, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *file)
{
	fprintf(stderr, "clonemany: %s %s: %s\n", what, file, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	char src[4096], dst[4096];
	long count, size = 4096, i, j;
	uint64_t *buf;
	long long t0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: clonemany DIR COUNT [SIZE]\n");
		return 2;
	}
	count = strtol(argv[2], NULL, 0);
	if (argc == 4)
		size = strtol(argv[3], NULL, 0);
	if (count <= 0 || size < 8 || size % 8) {
		fprintf(stderr, "clonemany: bad COUNT or SIZE (a multiple of 8)\n");
		return 2;
	}
	buf = malloc(size);
	if (!buf)
		return 1;

	t0 = now_ns();
	for (i = 0; i < count; i++) {
		int sfd, dfd;

		snprintf(src, sizeof(src), "%s/s%ld", argv[1], i);
		snprintf(dst, sizeof(dst), "%s/c%ld", argv[1], i);
		for (j = 0; j < size / 8; j++)
			buf[j] = (uint64_t)i * 0x9e3779b97f4a7c15ULL + j;
		sfd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (sfd < 0)
			die("create", src);
		if (write(sfd, buf, size) != size)
			die("write", src);
		/* As cp does: the source read-only, the copy new. */
		close(sfd);
		sfd = open(src, O_RDONLY);
		if (sfd < 0)
			die("open", src);
		dfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (dfd < 0)
			die("create", dst);
		if (ioctl(dfd, FICLONE, sfd))
			die("FICLONE to", dst);
		close(dfd);
		close(sfd);
	}
	printf("%ld %lld\n", count, now_ns() - t0);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * readbw - time whole-file read(2) passes, for the read-speed benchmark
 * (test/cases/420-bench-read.sh).
 *
 * usage: readbw [-b BLOCK] [-p PASSES] FILE...
 *
 * For each pass, for each FILE in turn: open it read-only, read(2) it to the
 * end in BLOCK-byte calls (default 128 KiB), close it. Files of one pass are
 * interleaved, so that slow drifts of the machine hit every file alike.
 * Prints one line per file and pass:
 *   PASS FILE BYTES NS MIB_PER_S
 * Exits 1 if a call fails, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long block = 128 << 10, passes = 1, p;
	char *buf;
	int opt, i;

	while ((opt = getopt(argc, argv, "b:p:")) != -1) {
		switch (opt) {
		case 'b': block = strtol(optarg, NULL, 0); break;
		case 'p': passes = strtol(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (optind >= argc || block <= 0 || passes <= 0)
		goto usage;
	buf = malloc(block);
	if (!buf)
		return 1;

	for (p = 1; p <= passes; p++) {
		for (i = optind; i < argc; i++) {
			long long t0, t1, total = 0;
			ssize_t n;
			int fd;

			t0 = now_ns();
			fd = open(argv[i], O_RDONLY);
			if (fd < 0) {
				fprintf(stderr, "readbw: %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
			while ((n = read(fd, buf, block)) > 0)
				total += n;
			if (n < 0) {
				fprintf(stderr, "readbw: read %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
			close(fd);
			t1 = now_ns();
			printf("%ld %s %lld %lld %.1f\n", p, argv[i], total, t1 - t0,
			       total / 1048576.0 / ((t1 - t0) / 1e9));
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: readbw [-b BLOCK] [-p PASSES] FILE...\n");
	return 2;
}

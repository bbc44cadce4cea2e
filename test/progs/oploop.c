// SPDX-License-Identifier: GPL-2.0
/*
 * oploop - time tight loops of file system calls, for the hook-overhead
 * benchmark (test/cases/430-bench-hooks.sh).
 *
 * usage: oploop open|sorc ITERATIONS FILE...
 *
 *   open  open(O_RDONLY) + close
 *   sorc  stat + open(O_RDONLY) + read(4 KiB) + close
 *
 * Iteration i uses FILE[i % nfiles]. Prints one line:
 *   MODE ITERATIONS NS_TOTAL NS_PER_OP
 * Exits 1 if a call fails, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	fprintf(stderr, "oploop: %s %s: %s\n", what, file, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	static char buf[4096];
	char **files;
	long iters, i;
	int nfiles, sorc;
	long long t0, t1;

	if (argc < 4 || (strcmp(argv[1], "open") && strcmp(argv[1], "sorc"))) {
		fprintf(stderr, "usage: oploop open|sorc ITERATIONS FILE...\n");
		return 2;
	}
	sorc = !strcmp(argv[1], "sorc");
	iters = strtol(argv[2], NULL, 0);
	if (iters <= 0) {
		fprintf(stderr, "oploop: bad ITERATIONS\n");
		return 2;
	}
	files = argv + 3;
	nfiles = argc - 3;

	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		const char *f = files[i % nfiles];
		struct stat st;
		int fd;

		if (sorc && stat(f, &st))
			die("stat", f);
		fd = open(f, O_RDONLY);
		if (fd < 0)
			die("open", f);
		if (sorc && read(fd, buf, sizeof(buf)) < 0)
			die("read", f);
		close(fd);
	}
	t1 = now_ns();
	printf("%s %ld %lld %.1f\n", argv[1], iters, t1 - t0,
	       (double)(t1 - t0) / iters);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mkdata - write deterministic pseudo-random bytes, fast.
 *
 * usage: mkdata PATH SIZE [SEED]
 *
 * SIZE takes K, M, G suffixes (powers of 1024). The bytes depend only on SEED
 * and the offset: byte i of a file is the same for every SIZE, so a shorter
 * file is a prefix of a longer one with the same SEED. PATH "-" is stdout.
 * Used by make_file in test/lib/reflink.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

/* splitmix64: one 64-bit word per counter value, no state to carry. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long size, seed = 1, off = 0;
	uint64_t *buf;
	int fd;

	if (argc < 3 || argc > 4 || parse_size(argv[2], &size) ||
	    (argc == 4 && parse_size(argv[3], &seed))) {
		fprintf(stderr, "usage: mkdata PATH SIZE[K|M|G] [SEED]\n");
		return 2;
	}
	if (strcmp(argv[1], "-") == 0)
		fd = STDOUT_FILENO;
	else
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mkdata: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	buf = malloc(BUF_SIZE);
	if (!buf)
		return 1;
	seed = mix(seed);
	while (off < size) {
		size_t n = size - off < BUF_SIZE ? size - off : BUF_SIZE;
		size_t i, done = 0;
		uint64_t word0 = off / 8;

		for (i = 0; i < BUF_SIZE / 8; i++)
			buf[i] = mix(seed ^ (word0 + i));
		while (done < n) {
			ssize_t w = write(fd, (char *)buf + done, n - done);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "mkdata: %s: %s\n", argv[1], strerror(errno));
				return 1;
			}
			done += w;
		}
		off += n;
	}
	if (fd != STDOUT_FILENO && close(fd)) {
		fprintf(stderr, "mkdata: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	free(buf);
	return 0;
}

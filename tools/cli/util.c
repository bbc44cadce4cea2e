// SPDX-License-Identifier: GPL-2.0
/* Small helpers: allocation that cannot fail, sizes, errno names, messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pcshare.h"

const char *prog = "pcshare";
atomic_bool stop_requested;

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(EXIT_PARTIAL);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = xmalloc(a + b + 2);

	memcpy(p, dir, a);
	if (a && dir[a - 1] != '/')
		p[a++] = '/';
	memcpy(p + a, name, b + 1);
	return p;
}

/* IEC units, one decimal: "1.5 GiB"; exact below 1 KiB: "512 B". */
const char *human_bytes(uint64_t n, char buf[static 32])
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, 32, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, "%.1f %s", v, unit[u]);
	return buf;
}

const char *errno_name(int err)
{
	const char *s;

	if (err == ERR_CHANGED)
		return "changed";
	s = strerrorname_np(err);
	return s ? s : "EUNKNOWN";
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Open for reading without touching atime. O_NOATIME needs ownership or
 * CAP_FOWNER; without them the kernel says EPERM and we open normally.
 */
int open_noatime(const char *path, int flags)
{
	int fd = open(path, flags | O_NOATIME | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == EPERM)
		fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* A call may hold a source and up to a page worth of destinations per thread. */
void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

void msg(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&output_lock);
	progress_clear();
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&output_lock);
}

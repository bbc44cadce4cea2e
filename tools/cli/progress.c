// SPDX-License-Identifier: GPL-2.0
/*
 * One progress line on stderr, redrawn five times a second, only when stderr
 * is a terminal: files, bytes, rate and ETA of the phase that runs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "pcshare.h"

static pthread_t thread;
static atomic_bool running, shown;
static struct stats *pst;
static double t_phase;
static uint64_t b_phase;

void progress_clear(void)
{
	if (atomic_exchange(&shown, false))
		fputs("\r\033[K", stderr);
}

static void draw(void)
{
	char a[32], b[32], c[32], d[32], line[256];
	struct stats *st = pst;
	static int last_phase = -1;
	int phase = atomic_load(&st->phase);
	double t = now_seconds();

	if (phase != last_phase) {
		last_phase = phase;
		t_phase = t;
		b_phase = atomic_load(&st->hash_bytes_done);
	}
	if (phase == PH_WALK) {
		snprintf(line, sizeof(line), "scanning: %llu files, %s",
			 (unsigned long long)atomic_load(&st->files_scanned),
			 human_bytes(atomic_load(&st->bytes_scanned), a));
	} else if (phase == PH_QUICK) {
		snprintf(line, sizeof(line), "comparing the ends of files of the same size: %llu/%llu",
			 (unsigned long long)atomic_load(&st->hash_files_done),
			 (unsigned long long)atomic_load(&st->hash_files_total));
	} else {
		uint64_t done = atomic_load(&st->hash_bytes_done), total = atomic_load(&st->hash_bytes_total);
		double dt = t - t_phase, rate = dt > 0.5 ? (done - b_phase) / dt : 0;
		char eta[32] = "--:--", speed[48] = "-- B/s";

		if (rate > 0) {
			snprintf(speed, sizeof(speed), "%s/s", human_bytes((uint64_t)rate, c));
			if (total > done) {
				unsigned long s = (unsigned long)((total - done) / rate);

				snprintf(eta, sizeof(eta), "%lu:%02lu", s / 60, s % 60);
			} else {
				snprintf(eta, sizeof(eta), "0:00");
			}
		}
		snprintf(line, sizeof(line), "hashing: %llu/%llu files, %s/%s, %s, ETA %s; deduped %s",
			 (unsigned long long)atomic_load(&st->hash_files_done),
			 (unsigned long long)atomic_load(&st->hash_files_total),
			 human_bytes(done, a), human_bytes(total, b), speed, eta,
			 human_bytes(atomic_load(&st->bytes_deduped) + atomic_load(&st->bytes_planned), d));
	}
	pthread_mutex_lock(&output_lock);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	atomic_store(&shown, true);
	pthread_mutex_unlock(&output_lock);
}

static void *loop(void *arg)
{
	(void)arg;
	while (atomic_load(&running)) {
		usleep(200 * 1000);
		if (atomic_load(&running))
			draw();
	}
	return NULL;
}

void progress_start(struct stats *st)
{
	if (!isatty(STDERR_FILENO))
		return;
	pst = st;
	atomic_store(&running, true);
	if (pthread_create(&thread, NULL, loop, NULL))
		atomic_store(&running, false);
}

void progress_stop(void)
{
	if (!atomic_exchange(&running, false))
		return;
	pthread_join(thread, NULL);
	progress_clear();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Accounting of skips and per-file errors, and what `pcshare dedupe` prints
 * at the end: a plan or a log of the groups, a summary in words, or one JSON
 * document (schema "pcshare-dedupe-1", documented in pcshare(8)).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcshare.h"
#include "report.h"

const char *const skip_names[SKIP__COUNT] = {
	[SKIP_HARDLINK] = "hardlink",
	[SKIP_SYMLINK] = "symlink",
	[SKIP_SPECIAL] = "special",
	[SKIP_EMPTY] = "empty",
	[SKIP_SMALL] = "small",
	[SKIP_OTHER_FS] = "other_filesystem",
	[SKIP_ALREADY_SHARED] = "already_shared",
	[SKIP_INLINE] = "inline",
};

static const char *const skip_words[SKIP__COUNT][2] = {
	[SKIP_HARDLINK] = { "hardlink", "hardlinks" },
	[SKIP_SYMLINK] = { "symlink", "symlinks" },
	[SKIP_SPECIAL] = { "special file", "special files" },
	[SKIP_EMPTY] = { "empty file", "empty files" },
	[SKIP_SMALL] = { "file below --min-size", "files below --min-size" },
	[SKIP_OTHER_FS] = { "mount point of another filesystem", "mount points of other filesystems" },
	[SKIP_ALREADY_SHARED] = { "file already sharing every extent", "files already sharing every extent" },
	[SKIP_INLINE] = { "file stored inline (nothing to share)", "files stored inline (nothing to share)" },
};

/* Every error, for the JSON list. */
struct err_rec {
	char *path;
	const char *op;
	int err;		/* errno, or ERR_CHANGED */
};
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct err_rec *v;
	size_t n, cap;
} errs;

void note_error(struct stats *st, const char *path, const char *op, int err)
{
	if (err <= 0 || err >= ERR__COUNT)
		err = EIO;
	atomic_fetch_add(&st->errors[err], 1);
	atomic_fetch_add(&st->nerrors, 1);
	pthread_mutex_lock(&err_lock);
	if (errs.n == errs.cap) {
		errs.cap = errs.cap ? errs.cap * 2 : 64;
		errs.v = xrealloc(errs.v, errs.cap * sizeof(*errs.v));
	}
	errs.v[errs.n++] = (struct err_rec){ xstrdup(path), op, err };
	pthread_mutex_unlock(&err_lock);
	if (err == ERR_CHANGED)
		msg("%s: changed during the run; left as it is", path);
	else
		msg("%s: %s: %s", path, op, strerror(err));
}

void note_skip(struct stats *st, enum skip_kind k, const char *path, bool verbose)
{
	atomic_fetch_add(&st->skips[k], 1);
	if (verbose)
		msg("%s: skipped: %s", path, skip_words[k][0]);
}

static const char *error_words(int err)
{
	return err == ERR_CHANGED ? "changed during the run" : strerror(err);
}

/* ---- human output ---- */

static const char *const result_words[] = {
	[R_NONE] = "not done",
	[R_SOURCE] = "source",
	[R_DEDUPED] = "deduped",
	[R_RESHARED] = "registered",
	[R_ALREADY] = "already shared",
	[R_INLINE] = "inline",
	[R_PLANNED] = "would dedupe",
	[R_PLANNED_RESHARE] = "would register",
	[R_CHANGED] = "changed",
	[R_ERROR] = "error",
};

static void print_groups(const struct report *r, FILE *f)
{
	char a[32];

	for (size_t i = 0; i < r->ngroups; i++) {
		const struct dgroup *g = &r->groups[i];

		fprintf(f, "group %zu: %zu identical files of %s\n", i + 1, g->n, human_bytes(g->size, a));
		for (size_t j = 0; j < g->n; j++) {
			const struct gfile *gf = &g->f[j];

			fprintf(f, "  %-15s %s", result_words[gf->result], gf->fe->path);
			if (gf->result == R_ERROR)
				fprintf(f, " (%s)", strerror(gf->err));
			if (gf->result == R_PLANNED_RESHARE || gf->result == R_RESHARED)
				fputs(" (extents already shared; for the module)", f);
			fputc('\n', f);
		}
	}
	if (r->ngroups)
		fputc('\n', f);
}

static void print_list_sep(FILE *f, int *n)
{
	fputs((*n)++ ? ", " : "", f);
}

static void print_summary(const struct report *r, FILE *f)
{
	const struct stats *st = r->st;
	char a[32], b[32];
	int n;

	fprintf(f, "Scanned:     %llu files, %s, in %.1f s\n",
		(unsigned long long)st->files_scanned, human_bytes(st->bytes_scanned, a), r->elapsed);
	fprintf(f, "Duplicates:  %llu groups, %llu files\n",
		(unsigned long long)st->groups, (unsigned long long)st->group_files);
	if (r->dry_run) {
		fprintf(f, "Would dedupe: %s on disk (nothing was changed: --dry-run)\n",
			human_bytes(st->bytes_planned, a));
	} else {
		fprintf(f, "Deduped:     %llu files, %s now shared on disk\n",
			(unsigned long long)st->files_deduped, human_bytes(st->bytes_deduped, a));
		if (st->files_reshared)
			fprintf(f, "Registered:  %llu files that already shared their extents (%s)\n",
				(unsigned long long)st->files_reshared, human_bytes(st->bytes_reshared, b));
	}
	if (r->module)
		fprintf(f, "Page cache:  %s %s be shared by the pcshare module\n",
			human_bytes(st->cache_shareable, a), r->dry_run ? "would" : "can now");
	else
		fputs("Page cache:  not shared: the pcshare module is not loaded\n", f);

	n = 0;
	fputs("Skipped:     ", f);
	for (int k = 0; k < SKIP__COUNT; k++) {
		if (!st->skips[k])
			continue;
		print_list_sep(f, &n);
		fprintf(f, "%llu %s", (unsigned long long)st->skips[k],
			skip_words[k][st->skips[k] != 1]);
	}
	fputs(n ? "\n" : "nothing\n", f);

	fprintf(f, "Errors:      %llu", (unsigned long long)st->nerrors);
	n = 0;
	for (int e = 1; e < ERR__COUNT; e++) {
		if (!st->errors[e])
			continue;
		fputs(n++ ? ", " : " (", f);
		if (e == ERR_CHANGED)
			fprintf(f, "%llu changed during the run", (unsigned long long)st->errors[e]);
		else
			fprintf(f, "%llu %s: %s", (unsigned long long)st->errors[e], errno_name(e),
				strerror(e));
	}
	fputs(n ? ")\n" : "\n", f);
	if (st->errors[EPERM])
		fputs("             EPERM: dedupe needs the file's owner, write permission, or root\n", f);
	if (r->verbose)
		fprintf(f, "Time:        %.2f s walking, %.2f s comparing sizes and ends, "
			"%.2f s hashing and deduping\n",
			r->phase_seconds[0], r->phase_seconds[1], r->phase_seconds[2]);
	if (r->interrupted)
		fputs("Interrupted: the run stopped early; run it again to finish\n", f);
}

/* ---- JSON output ---- */

static void json_hash(struct json *j, XXH128_hash_t h)
{
	char hex[33];

	snprintf(hex, sizeof(hex), "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	json_string(j, hex);
}

static void json_kv(struct json *j, const char *k, uint64_t v)
{
	json_key(j, k);
	json_u64(j, v);
}

static void print_json(const struct report *r, FILE *f)
{
	const struct stats *st = r->st;
	struct json j;

	json_init(&j, f);
	json_begin_object(&j);
	json_key(&j, "schema");
	json_string(&j, "pcshare-dedupe-1");
	json_key(&j, "version");
	json_string(&j, PCSHARE_VERSION);
	json_key(&j, "dry_run");
	json_bool(&j, r->dry_run);
	json_key(&j, "module_loaded");
	json_bool(&j, r->module);
	json_key(&j, "paths");
	json_begin_array(&j);
	for (int i = 0; i < r->npaths; i++)
		json_string(&j, r->paths[i]);
	json_end_array(&j);
	json_key(&j, "elapsed_seconds");
	json_double(&j, r->elapsed);
	json_key(&j, "phase_seconds");
	json_begin_object(&j);
	json_key(&j, "walk");
	json_double(&j, r->phase_seconds[0]);
	json_key(&j, "quick");
	json_double(&j, r->phase_seconds[1]);
	json_key(&j, "hash_dedupe");
	json_double(&j, r->phase_seconds[2]);
	json_end_object(&j);
	json_kv(&j, "files_scanned", st->files_scanned);
	json_kv(&j, "bytes_scanned", st->bytes_scanned);
	json_kv(&j, "files_hashed", r->files_hashed);
	json_kv(&j, "bytes_hashed", r->bytes_hashed);
	json_kv(&j, "duplicate_groups", st->groups);
	json_kv(&j, "duplicate_files", st->group_files);
	json_kv(&j, "files_deduped", st->files_deduped);
	json_kv(&j, "bytes_deduped", st->bytes_deduped);
	json_kv(&j, "files_registered", st->files_reshared);
	json_kv(&j, "bytes_registered", st->bytes_reshared);
	json_kv(&j, "bytes_would_dedupe", st->bytes_planned);
	json_kv(&j, "page_cache_shareable", st->cache_shareable);
	json_key(&j, "skipped");
	json_begin_object(&j);
	for (int k = 0; k < SKIP__COUNT; k++)
		json_kv(&j, skip_names[k], st->skips[k]);
	json_end_object(&j);
	json_key(&j, "errors");
	json_begin_object(&j);
	json_kv(&j, "total", st->nerrors);
	json_key(&j, "by_kind");
	json_begin_object(&j);
	for (int e = 1; e < ERR__COUNT; e++)
		if (st->errors[e])
			json_kv(&j, errno_name(e), st->errors[e]);
	json_end_object(&j);
	json_key(&j, "list");
	json_begin_array(&j);
	pthread_mutex_lock(&err_lock);
	for (size_t i = 0; i < errs.n; i++) {
		json_begin_object(&j);
		json_key(&j, "path");
		json_string(&j, errs.v[i].path);
		json_key(&j, "op");
		json_string(&j, errs.v[i].op);
		json_key(&j, "error");
		json_string(&j, errno_name(errs.v[i].err));
		json_key(&j, "message");
		json_string(&j, error_words(errs.v[i].err));
		json_end_object(&j);
	}
	pthread_mutex_unlock(&err_lock);
	json_end_array(&j);
	json_end_object(&j);
	json_key(&j, "groups");
	json_begin_array(&j);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct dgroup *g = &r->groups[i];

		json_begin_object(&j);
		json_kv(&j, "size", g->size);
		json_key(&j, "hash");
		json_hash(&j, g->hash);
		json_key(&j, "files");
		json_begin_array(&j);
		for (size_t k = 0; k < g->n; k++) {
			const struct gfile *gf = &g->f[k];

			json_begin_object(&j);
			json_key(&j, "path");
			json_string(&j, gf->fe->path);
			json_key(&j, "result");
			json_string(&j, result_names[gf->result]);
			json_kv(&j, "bytes_deduped", gf->bytes);
			json_key(&j, "error");
			if (gf->result == R_ERROR || gf->result == R_CHANGED)
				json_string(&j, errno_name(gf->err));
			else
				json_null(&j);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_key(&j, "interrupted");
	json_bool(&j, r->interrupted);
	json_key(&j, "exit_status");
	json_u64(&j, r->exit_status);
	json_end_object(&j);
	json_finish(&j);
}

void report_print(const struct report *r)
{
	if (r->json) {
		print_json(r, stdout);
		return;
	}
	if (r->dry_run || r->verbose)
		print_groups(r, stdout);
	if (!r->quiet)
		print_summary(r, stdout);
	fflush(stdout);
}

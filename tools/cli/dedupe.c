// SPDX-License-Identifier: GPL-2.0
/*
 * `pcshare dedupe`: the pipeline.
 *
 *   walk      every regular file of the operands, one mount at a time
 *   filter    hardlinks (one name per inode), then sizes seen once
 *   quick     hash of the first and last 4 KiB (small files: whole)
 *   full      XXH3-128 of the content, on several threads; the thread that
 *             hashes the last file of a candidate set dedupes the set's
 *             identical files right away, while their pages are still
 *             cached, so the kernel's byte compare does not read them again
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcshare.h"
#include "report.h"

static const char usage_text[] =
"Usage: pcshare dedupe [OPTION]... PATH...\n"
"Find files with identical content under each PATH and dedupe them with\n"
"FIDEDUPERANGE, so that they share their blocks on disk and, when the pcshare\n"
"module is loaded, one page cache.\n"
"\n"
"PATH is a directory (walked recursively) or a regular file. Symlinks inside\n"
"the trees are not followed, mount points are not crossed, and files are only\n"
"compared with files of the same mount. Files are never written: the kernel\n"
"compares the bytes and only then shares the blocks; content, mtime and owner\n"
"stay as they were.\n"
"\n"
"Options:\n"
"  -n, --dry-run         hash and compare, print what would be done, change nothing\n"
"  -j, --threads=N       hash on N threads (default: number of CPUs, at least 2);\n"
"                        the first and last blocks are read on 4N threads\n"
"  -m, --min-size=SIZE   ignore files smaller than SIZE (default 1; K, M, G suffixes)\n"
"      --json            print one JSON document on stdout (schema: pcshare(8))\n"
"  -v, --verbose         list every group and what happened to each file\n"
"  -q, --quiet           no summary and no progress line; errors are still shown\n"
"      --progress        force the progress line on stderr (default: on a TTY only)\n"
"      --no-progress     never show the progress line\n"
"  -h, --help            show this help\n"
"\n"
"Skipped and reported: hardlinks (extra names of an inode), symlinks, special\n"
"files, empty files, and files that already share every extent with their\n"
"group's source (FIEMAP), unless the module is loaded and has not registered\n"
"the pair yet.\n"
"\n"
"Exit status: 0 done, 1 done but some files failed (see the summary),\n"
"2 bad usage or bad PATH (nothing was done).\n";

struct set {
	size_t first, n;		/* in run.order */
	atomic_size_t remaining;	/* files still to hash */
	bool keep_cache;		/* hashed data stays cached for the dedupe */
};

struct run {
	struct stats st;
	struct fent *files;
	size_t nfiles;
	struct fent **order;		/* files of candidate sets, set after set */
	size_t norder;
	struct set *sets;
	size_t nsets;
	atomic_size_t next;
	struct dedupe_opts dopts;
	pthread_mutex_t glock;
	struct dgroup *groups;
	size_t ngroups, gcap;
	int nthreads;
	struct fent **quick;		/* files the quick phase reads */
	size_t *set_of;			/* order index -> set index */
};

/* ---- a tiny thread pool: run fn(i) for every i in [0, n) ---- */

struct pool {
	struct run *run;
	size_t n;
	atomic_size_t next;
	void (*fn)(struct run *run, size_t i);
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while (!atomic_load(&stop_requested) && (i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->fn(p->run, i);
	io_buffer_release();
	return NULL;
}

static void pool_run(struct run *run, int nthreads, size_t n, void (*fn)(struct run *, size_t))
{
	struct pool p = { .run = run, .n = n, .fn = fn };
	pthread_t *t = xcalloc(nthreads, sizeof(*t));
	int started = 0;

	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, pool_worker, &p) == 0)
			started++;
		else
			break;
	if (!started)
		pool_worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
}

/* ---- filters ---- */

static int cmp_inode(const void *a, const void *b)
{
	const struct fent *x = *(struct fent *const *)a, *y = *(struct fent *const *)b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->path, y->path);	/* keep the first name */
}

static int cmp_size(const void *a, const void *b)
{
	const struct fent *x = *(struct fent *const *)a, *y = *(struct fent *const *)b;

	if (x->fskey != y->fskey)
		return x->fskey < y->fskey ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;	/* big savings first */
	return x < y ? -1 : x > y;
}

static int cmp_quick(const void *a, const void *b)
{
	const struct fent *x = *(struct fent *const *)a, *y = *(struct fent *const *)b;
	int c = cmp_size(a, b);

	if (x->fskey != y->fskey || x->size != y->size)
		return c;
	if (x->quick != y->quick)
		return x->quick < y->quick ? -1 : 1;
	return c;
}

static int cmp_hash_path(const void *a, const void *b)
{
	const struct gfile *x = a, *y = b;
	int c = memcmp(&x->fe->full, &y->fe->full, sizeof(x->fe->full));

	return c ? c : strcmp(x->fe->path, y->fe->path);
}

static int cmp_group(const void *a, const void *b)
{
	const struct dgroup *x = a, *y = b;

	return strcmp(x->f[0].fe->path, y->f[0].fe->path);
}

/* Keep one name per inode; the others are hardlinks, or one file named twice. */
static struct fent **filter_hardlinks(struct run *run, size_t *np)
{
	struct fent **v = xmalloc(run->nfiles * sizeof(*v)), **out;
	size_t n = 0;

	for (size_t i = 0; i < run->nfiles; i++)
		v[i] = &run->files[i];
	qsort(v, run->nfiles, sizeof(*v), cmp_inode);
	out = v;
	for (size_t i = 0; i < run->nfiles; i++) {
		if (n && out[n - 1]->dev == v[i]->dev && out[n - 1]->ino == v[i]->ino) {
			if (v[i]->nlink > 1 && strcmp(v[i]->path, out[n - 1]->path))
				note_skip(&run->st, SKIP_HARDLINK, v[i]->path, run->dopts.verbose);
			v[i]->state = FE_UNIQUE;
			continue;
		}
		out[n++] = v[i];
	}
	*np = n;
	return out;
}

/* Runs of equal key (per cmp) with at least two members, as [first, end). */
static size_t next_run(struct fent **v, size_t n, size_t i, int (*cmp)(const struct fent *, const struct fent *),
		       size_t *end)
{
	size_t j = i + 1;

	while (j < n && cmp(v[i], v[j]) == 0)
		j++;
	*end = j;
	return j - i;
}

static int same_size(const struct fent *a, const struct fent *b)
{
	return !(a->fskey == b->fskey && a->size == b->size);
}

static int same_quick(const struct fent *a, const struct fent *b)
{
	return !(a->fskey == b->fskey && a->size == b->size && a->quick == b->quick);
}

/* ---- the two hashing phases ---- */

static void quick_one(struct run *run, size_t i)
{
	hash_quick(run->quick[i], &run->st, run->dopts.budget);
	atomic_fetch_add(&run->st.hash_files_done, 1);
}

static void drop_one(struct run *run, size_t i)
{
	fent_drop_cache(run->quick[i]);
}

static void settle_set(struct run *run, struct set *s)
{
	struct gfile *gf = xcalloc(s->n, sizeof(*gf));
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct fent *fe = run->order[s->first + i];

		if (fe->state == FE_CANDIDATE && fe->full_done)
			gf[n++].fe = fe;
	}
	qsort(gf, n, sizeof(*gf), cmp_hash_path);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && !memcmp(&gf[i].fe->full, &gf[j].fe->full, sizeof(gf[i].fe->full)))
			j++;
		if (j - i < 2) {
			gf[i].fe->state = FE_UNIQUE;
			if (s->keep_cache || gf[i].fe->kept)
				fent_drop_cache(gf[i].fe);
		} else {
			struct dgroup g = { .size = gf[i].fe->size, .hash = gf[i].fe->full, .n = j - i };

			g.f = xmalloc(g.n * sizeof(*g.f));
			memcpy(g.f, &gf[i], g.n * sizeof(*g.f));
			atomic_fetch_add(&run->st.groups, 1);
			atomic_fetch_add(&run->st.group_files, g.n);
			if (!atomic_load(&stop_requested)) {
				struct dedupe_opts o = run->dopts;

				o.cached = s->keep_cache;
				dedupe_group(&g, &run->st, &o);
			}
			pthread_mutex_lock(&run->glock);
			if (run->ngroups == run->gcap) {
				run->gcap = run->gcap ? run->gcap * 2 : 64;
				run->groups = xrealloc(run->groups, run->gcap * sizeof(*run->groups));
			}
			run->groups[run->ngroups++] = g;
			pthread_mutex_unlock(&run->glock);
		}
		i = j;
	}
	free(gf);
}

static void full_one(struct run *run, size_t i)
{
	struct fent *fe = run->order[i];
	struct set *s = &run->sets[run->set_of[i]];

	if (fe->state == FE_CANDIDATE && !fe->full_done) {
		hash_full(fe, &run->st, s->keep_cache);
		atomic_fetch_add(&run->st.hash_files_done, 1);
	}
	if (atomic_fetch_sub(&s->remaining, 1) == 1)
		settle_set(run, s);
}

/* Sizes seen at least twice in one mount: the files the quick phase reads. */
static size_t pick_same_sizes(struct run *run)
{
	size_t ncand, nq = 0;
	struct fent **cand = filter_hardlinks(run, &ncand);

	qsort(cand, ncand, sizeof(*cand), cmp_size);
	run->quick = xmalloc((ncand ? ncand : 1) * sizeof(*run->quick));
	for (size_t i = 0, end; i < ncand; i = end) {
		if (next_run(cand, ncand, i, same_size, &end) < 2) {
			cand[i]->state = FE_UNIQUE;
			continue;
		}
		for (size_t k = i; k < end; k++)
			run->quick[nq++] = cand[k];
	}
	free(cand);
	return nq;
}

/*
 * Candidate sets: files of one mount with the same size and quick hash.
 * Files alone drop out; the small ones, read whole already, get their pages
 * dropped. Returns the bytes the full phase will read (holes excluded).
 */
static uint64_t make_sets(struct run *run, size_t nq)
{
	size_t n = 1 + nq, nu = 0, k = 0;
	struct fent **unique = xmalloc(n * sizeof(*unique));
	uint64_t hash_bytes = 0, hash_files = 0;

	for (size_t i = 0; i < nq; i++)	/* failed files drop out */
		if (run->quick[i]->state == FE_CANDIDATE)
			run->quick[k++] = run->quick[i];
	nq = k;
	qsort(run->quick, nq, sizeof(*run->quick), cmp_quick);
	run->order = xmalloc(n * sizeof(*run->order));
	run->sets = xmalloc(n * sizeof(*run->sets));
	run->set_of = xmalloc(n * sizeof(*run->set_of));
	for (size_t i = 0, end; i < nq; i = end) {
		struct set *s;

		if (next_run(run->quick, nq, i, same_quick, &end) < 2) {
			run->quick[i]->state = FE_UNIQUE;
			if (run->quick[i]->kept)
				unique[nu++] = run->quick[i];
			continue;
		}
		s = &run->sets[run->nsets];
		s->first = run->norder;
		s->n = end - i;
		atomic_init(&s->remaining, s->n);
		s->keep_cache = run->quick[i]->size * s->n <= run->dopts.budget;
		for (size_t m = i; m < end; m++) {
			/* hashed whole but not kept: the dedupe must read ahead */
			if (run->quick[m]->full_done && !run->quick[m]->kept)
				s->keep_cache = false;
			run->set_of[run->norder] = run->nsets;
			run->order[run->norder++] = run->quick[m];
			if (!run->quick[m]->full_done) {
				hash_files++;
				hash_bytes += run->quick[m]->alloc;
			}
		}
		run->nsets++;
	}
	memcpy(run->quick, unique, nu * sizeof(*unique));
	pool_run(run, run->nthreads, nu, drop_one);
	free(unique);
	atomic_store(&run->st.hash_files_total, hash_files);
	atomic_store(&run->st.hash_files_done, 0);
	atomic_store(&run->st.hash_bytes_total, hash_bytes);
	return hash_bytes;
}

/* Everything after the operand checks; fills the report. */
static void run_pipeline(struct run *run, struct walk *w, struct operand *ops, int nops,
			 struct report *rep)
{
	double t0 = now_seconds();
	size_t nq;

	atomic_store(&run->st.phase, PH_WALK);
	walk_operands(w, ops, nops);
	run->files = w->v;
	run->nfiles = w->n;
	rep->phase_seconds[0] = now_seconds() - t0;

	nq = pick_same_sizes(run);
	atomic_store(&run->st.phase, PH_QUICK);
	atomic_store(&run->st.hash_files_total, nq);
	/*
	 * Two small reads per file: the time goes in waiting for the device,
	 * so keep more of them in flight than there are CPUs.
	 */
	pool_run(run, run->nthreads * 4 < 64 ? run->nthreads * 4 : 64, nq, quick_one);
	make_sets(run, nq);
	rep->phase_seconds[1] = now_seconds() - t0 - rep->phase_seconds[0];

	/* full hash; each finished set is deduped by the thread that finished it */
	atomic_store(&run->st.phase, PH_HASH);
	pool_run(run, run->nthreads, run->norder, full_one);
	atomic_store(&run->st.phase, PH_DONE);

	for (size_t i = 0; i < run->nfiles; i++) {
		if (run->files[i].full_done) {
			rep->files_hashed++;
			rep->bytes_hashed += run->files[i].size;
		}
	}
	qsort(run->groups, run->ngroups, sizeof(*run->groups), cmp_group);
	rep->groups = run->groups;
	rep->ngroups = run->ngroups;
	rep->elapsed = now_seconds() - t0;
	rep->phase_seconds[2] = rep->elapsed - rep->phase_seconds[0] - rep->phase_seconds[1];
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, true);
}

/* "4096", "64K", "1M", "1MiB", "2G": powers of 1024. */
static bool parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return false;
	if (*end && (u = strchr(units, toupper((unsigned char)*end)))) {
		v <<= 10 * (u - units + 1);
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
	}
	*out = v;
	return *end == 0;
}

int cmd_dedupe(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_PROGRESS, OPT_NO_PROGRESS };
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 'j' },
		{ "min-size", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct run run = { .glock = PTHREAD_MUTEX_INITIALIZER };
	struct report rep = { .st = &run.st };
	struct walk w = { .st = &run.st, .min_size = 1 };
	struct mgroups mg = { 0 };
	struct operand *ops;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	int progress = -1, c, nops;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	run.nthreads = ncpu > 2 ? (int)ncpu : 2;
	while ((c = getopt_long(argc, argv, "+nj:m:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			rep.dry_run = run.dopts.dry_run = true;
			break;
		case 'j':
			run.nthreads = atoi(optarg);
			if (run.nthreads < 1 || run.nthreads > 256) {
				msg("dedupe: --threads wants a number from 1 to 256, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'm':
			if (!parse_size(optarg, &w.min_size)) {
				msg("dedupe: --min-size wants a size like 4096, 64K or 1M, not '%s'", optarg);
				return EXIT_USAGE;
			}
			if (!w.min_size)
				w.min_size = 1;
			break;
		case OPT_JSON:
			rep.json = true;
			break;
		case 'v':
			rep.verbose = run.dopts.verbose = w.verbose = true;
			break;
		case 'q':
			rep.quiet = true;
			progress = 0;
			break;
		case OPT_PROGRESS:
			progress = 1;
			break;
		case OPT_NO_PROGRESS:
			progress = 0;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_DONE;
		default:
			fputs("Try 'pcshare dedupe --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		msg("dedupe: no PATH given");
		fputs("Try 'pcshare dedupe --help'.\n", stderr);
		return EXIT_USAGE;
	}
	nops = argc - optind;
	ops = xcalloc(nops, sizeof(*ops));
	if (check_operands(argv + optind, nops, ops, run.dopts.dry_run)) {
		msg("dedupe: nothing done");
		return EXIT_USAGE;
	}
	rep.paths = argv + optind;
	rep.npaths = nops;

	raise_nofile_limit();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	run.dopts.module = rep.module = module_loaded();
	if (run.dopts.module && module_groups(&mg) == 0)
		run.dopts.mgroups = &mg;
	run.dopts.budget = cache_budget();
	if (progress == 1 || (progress == -1 && isatty(STDERR_FILENO)))
		progress_start(&run.st);
	run_pipeline(&run, &w, ops, nops, &rep);
	progress_stop();
	rep.interrupted = atomic_load(&stop_requested);
	rep.exit_status = run.st.nerrors || rep.interrupted ? EXIT_PARTIAL : EXIT_DONE;
	report_print(&rep);
	module_groups_free(&mg);
	return rep.exit_status;
}

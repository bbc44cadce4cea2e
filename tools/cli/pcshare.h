/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcshare(8): find identical files, dedupe them with FIDEDUPERANGE so they
 * share blocks on disk, and let the pcshare module share their page cache.
 *
 * Shared declarations of the CLI. Each concern has its own file:
 *   main.c      subcommand dispatch, top-level --help
 *   dedupe.c    `pcshare dedupe`: options, the pipeline, the summary
 *   walk.c      operand checks and the tree walk (one mount at a time)
 *   hash.c      prefix/suffix hash and the full, hole-aware XXH3-128 hash
 *   cache.c     page cache residency snapshot and drop-what-we-filled
 *   remap.c     FIDEDUPERANGE batching: one source, many destinations
 *   fiemap.c    extent maps: "do these two files already share every extent?"
 *   module.c    the module's sysfs counters and debugfs group list
 *   report.c    skip and error accounting; the dedupe summary and its JSON
 *   status.c    `pcshare status` and `pcshare stat`
 *   json.c      a small streaming JSON writer
 *   progress.c  the progress line on a TTY
 *   util.c      allocation, sizes, errno names, messages
 */
#ifndef PCSHARE_H
#define PCSHARE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define XXH_STATIC_LINKING_ONLY	/* XXH3_state_t on the stack */
#include <xxhash.h>

#define PCSHARE_VERSION "0.1"

/* Exit statuses scripts can rely on (STYLE.md, Tools). */
enum {
	EXIT_DONE = 0,		/* everything asked was done */
	EXIT_PARTIAL = 1,	/* done, but some files failed: see the summary */
	EXIT_USAGE = 2,		/* bad usage or bad operands: nothing was done */
};

/* ---- util.c ---- */
extern const char *prog;
extern atomic_bool stop_requested;	/* SIGINT or SIGTERM: finish up and report */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *path_join(const char *dir, const char *name);
const char *human_bytes(uint64_t n, char buf[static 32]);
const char *errno_name(int err);
double now_seconds(void);
int open_noatime(const char *path, int flags);
void raise_nofile_limit(void);
extern pthread_mutex_t output_lock;	/* stderr lines vs. the progress line */
/* Print "pcshare: <fmt>" to stderr, clearing the progress line first. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- json.c ---- */
struct json {
	FILE *f;
	int depth;
	bool need_comma[64];
	bool after_key;
};
void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_finish(struct json *j);

/* ---- cache.c ---- */
enum cache_state { CACHE_COLD, CACHE_WARM, CACHE_PARTIAL, CACHE_UNKNOWN };
struct cache_snap {
	uint8_t state;		/* enum cache_state */
	uint8_t *resident;	/* CACHE_PARTIAL: one bit per page */
};
void cache_snapshot(int fd, uint64_t size, struct cache_snap *cs);
void cache_drop(int fd, uint64_t size, struct cache_snap *cs);
void cache_prefetch(int fd, uint64_t off, uint64_t len);
uint64_t cache_budget(void);

/* ---- files found by the walk ---- */
enum fent_state {
	FE_CANDIDATE,		/* still in the running */
	FE_UNIQUE,		/* no other file has the same content */
	FE_FAILED,		/* an error was recorded for it */
};

struct fent {
	char *path;
	uint64_t fskey;		/* mount id: only files of one mount are compared */
	uint64_t dev;		/* st_dev, as makedev() */
	uint64_t ino;
	uint64_t size;
	uint64_t alloc;		/* bytes allocated, at most size: what a read costs */
	uint32_t nlink;
	struct timespec mtime, ctime;
	uint64_t quick;		/* prefix+suffix hash */
	XXH128_hash_t full;	/* full content hash */
	bool full_done;
	bool kept;		/* hashed whole in the quick phase, pages kept */
	uint8_t state;		/* enum fent_state */
	struct cache_snap cache;
};

/* ---- counters of one run, shared by the worker threads ---- */
enum skip_kind {
	SKIP_HARDLINK, SKIP_SYMLINK, SKIP_SPECIAL, SKIP_EMPTY, SKIP_SMALL,
	SKIP_OTHER_FS, SKIP_ALREADY_SHARED, SKIP_INLINE, SKIP__COUNT
};
extern const char *const skip_names[SKIP__COUNT];

/* Error kinds: errno values, plus one for FILE_DEDUPE_RANGE_DIFFERS. */
#define ERR_CHANGED	4096
#define ERR__COUNT	4097

struct stats {
	atomic_uint_fast64_t files_scanned, bytes_scanned;
	atomic_uint_fast64_t hash_files_total, hash_files_done;
	atomic_uint_fast64_t hash_bytes_total, hash_bytes_done;
	atomic_uint_fast64_t groups, group_files;
	atomic_uint_fast64_t files_deduped, bytes_deduped;
	atomic_uint_fast64_t files_reshared, bytes_reshared;
	atomic_uint_fast64_t bytes_planned;
	atomic_uint_fast64_t cache_shareable;
	atomic_uint_fast64_t quick_kept;	/* bytes the quick phase left cached */
	atomic_uint_fast64_t skips[SKIP__COUNT];
	atomic_uint_fast64_t errors[ERR__COUNT];
	atomic_uint_fast64_t nerrors;
	atomic_int phase;		/* enum phase, for the progress line */
};
enum phase { PH_WALK, PH_QUICK, PH_HASH, PH_DONE };

/* ---- report.c: count (and print) one skip or one per-file error ---- */
void note_error(struct stats *st, const char *path, const char *op, int err);
void note_skip(struct stats *st, enum skip_kind k, const char *path, bool verbose);

/* ---- walk.c ---- */
struct operand {
	const char *arg;
	uint64_t fskey;
};
struct walk {
	struct fent *v;
	size_t n, cap;
	struct stats *st;
	bool verbose;
	uint64_t min_size;
};
int check_operands(char **paths, int n, struct operand *ops, bool dry_run);
void walk_operands(struct walk *w, struct operand *ops, int n);

/* ---- hash.c ---- */
#define QUICK_BLOCK	4096u
/*
 * Files up to this size are hashed whole in the quick phase: one read costs
 * about what two small ones do (on btrfs, under a VM, much less).
 */
#define QUICK_FULL_MAX	(1024u * 1024)
int hash_quick(struct fent *fe, struct stats *st, uint64_t keep_budget);
int hash_full(struct fent *fe, struct stats *st, bool keep_cache);
int hash_file_fd(int fd, uint64_t size, XXH128_hash_t *out, atomic_uint_fast64_t *progress);
int fent_open(const struct fent *fe);
unsigned char *io_buffer(size_t *size);
void io_buffer_release(void);
void fent_drop_cache(struct fent *fe);

/* ---- fiemap.c ---- */
struct extent {
	uint64_t logical, physical, length;
	uint32_t flags;
};
struct extmap {
	struct extent *v;
	size_t n;
	bool valid;		/* FIEMAP worked */
	bool exact;		/* every extent is plain data we can compare */
};
struct range {
	uint64_t start, end;
};
int extmap_get(int fd, uint64_t size, struct extmap *m);
void extmap_free(struct extmap *m);
uint64_t extmap_bytes(const struct extmap *m, uint64_t upto);
bool extmap_all_inline(const struct extmap *m);
bool extmap_covered(const struct extmap *dst, const struct extmap *src);
size_t extmap_union(const struct extmap *const *maps, size_t nmaps, uint64_t size,
		    struct range **out);
int shared_bytes(int fd, uint64_t size, uint64_t *shared);

/* ---- module.c ---- */
struct counter {
	char name[128];
	uint64_t value;
};
struct mmember {
	uint64_t ino;
	char state[16];
};
struct mgroup {
	uint64_t id;
	unsigned major, minor;
	uint64_t size, cached, nmembers, nactive;
	struct mmember *m;
	size_t n;
};
struct mgroups {
	struct mgroup *v;
	size_t n;
};
bool module_loaded(void);
int module_counters(struct counter **out, size_t *n);
uint64_t counter_value(const struct counter *c, size_t n, const char *name, bool *found);
int module_groups(struct mgroups *g);
void module_groups_free(struct mgroups *g);
const char *module_groups_error(int err);
const struct mgroup *module_find(const struct mgroups *g, uint64_t dev, uint64_t sbdev,
				 uint64_t ino, const struct mmember **mm);
uint64_t mount_sb_dev(uint64_t mnt_id);

/* ---- remap.c ---- */
struct dedupe_opts {
	bool dry_run;
	bool verbose;
	bool module;		/* module loaded: pairs get registered */
	const struct mgroups *mgroups;	/* NULL when not visible */
	uint64_t budget;	/* bytes of page cache one call may fill */
	bool cached;		/* the group's data was just read and kept cached */
};
/* What happened to one file of a duplicate group. */
enum result {
	R_NONE, R_SOURCE, R_DEDUPED, R_RESHARED, R_ALREADY, R_INLINE, R_PLANNED,
	R_PLANNED_RESHARE, R_CHANGED, R_ERROR,
};
extern const char *const result_names[];
struct gfile {
	struct fent *fe;
	uint8_t result;
	int err;
	uint64_t bytes;
};
struct dgroup {
	uint64_t size;
	XXH128_hash_t hash;
	struct gfile *f;
	size_t n;
};
void dedupe_group(struct dgroup *g, struct stats *st, const struct dedupe_opts *o);

/* ---- progress.c ---- */
void progress_start(struct stats *st);
void progress_stop(void);
void progress_clear(void);

/* ---- commands ---- */
int cmd_dedupe(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stat(int argc, char **argv);

#endif

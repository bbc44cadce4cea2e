// SPDX-License-Identifier: GPL-2.0
/*
 * `pcshare status`: the module's counters and groups, in plain words.
 * `pcshare stat FILE...`: is each file shared, and with what.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pcshare.h"

static const char status_usage[] =
"Usage: pcshare status [--json] [-v]\n"
"Show whether the pcshare module is loaded, how many groups of files share\n"
"their page cache, and how much memory that saves.\n"
"\n"
"The counters come from /sys/kernel/pcshare/. With -v, every group is listed\n"
"from /sys/kernel/debug/pcshare/groups, which needs root and a mounted debugfs.\n"
"\n"
"Options:\n"
"      --json       print one JSON document (schema: pcshare(8))\n"
"  -v, --verbose    list every group and its members\n"
"  -h, --help       show this help\n"
"\n"
"Exit status: 0 (also when the module is not loaded), 2 bad usage.\n";

static const char stat_usage[] =
"Usage: pcshare stat [--json] FILE...\n"
"Say for each FILE whether its page cache is shared through the pcshare module\n"
"(its group, its state, and the other members of the group) and how much of it\n"
"lies in extents shared on disk (FIEMAP).\n"
"\n"
"States: active (reads use the group's shared page cache), registered (will\n"
"become active at its next open), broken (left the group, e.g. after a write).\n"
"Other members are named by path when they are among the FILEs given, else by\n"
"inode number. Seeing groups needs root and a mounted debugfs.\n"
"\n"
"Options:\n"
"      --json       print one JSON document (schema: pcshare(8))\n"
"  -h, --help       show this help\n"
"\n"
"Exit status: 0 every FILE reported, 1 some FILE could not be examined,\n"
"2 bad usage.\n";

enum { OPT_JSON = 256 };

/* The counters the summary line speaks of; any others are listed as they come. */
static void status_words(const struct counter *c, size_t n, FILE *f)
{
	bool has_groups, has_members, has_active, has_saved;
	uint64_t groups = counter_value(c, n, "groups", &has_groups);
	uint64_t members = counter_value(c, n, "members", &has_members);
	uint64_t active = counter_value(c, n, "active_members", &has_active);
	uint64_t saved = counter_value(c, n, "bytes_saved", &has_saved);
	char a[32];

	if (!has_groups && !has_members && !has_saved) {
		fputs("  no counters in /sys/kernel/pcshare\n", f);
		return;
	}
	fputs(" ", f);
	if (has_groups)
		fprintf(f, " %llu group%s,", (unsigned long long)groups, groups == 1 ? "" : "s");
	if (has_members) {
		fprintf(f, " %llu file%s", (unsigned long long)members, members == 1 ? "" : "s");
		if (has_active)
			fprintf(f, " (%llu active)", (unsigned long long)active);
		fputc(',', f);
	}
	if (has_saved)
		fprintf(f, " %s of page cache saved", human_bytes(saved, a));
	fputc('\n', f);
}

static bool is_bytes(const char *name)
{
	return strstr(name, "bytes") != NULL;
}

static void json_group(struct json *j, const struct mgroup *g, const char *const *paths)
{
	char dev[32];

	json_begin_object(j);
	json_key(j, "id");
	json_u64(j, g->id);
	snprintf(dev, sizeof(dev), "%u:%u", g->major, g->minor);
	json_key(j, "dev");
	json_string(j, dev);
	json_key(j, "size");
	json_u64(j, g->size);
	json_key(j, "cached");
	json_u64(j, g->cached);
	json_key(j, "members");
	json_u64(j, g->nmembers);
	json_key(j, "active");
	json_u64(j, g->nactive);
	json_key(j, "files");
	json_begin_array(j);
	for (size_t i = 0; i < g->n; i++) {
		json_begin_object(j);
		json_key(j, "ino");
		json_u64(j, g->m[i].ino);
		json_key(j, "state");
		json_string(j, g->m[i].state);
		if (paths) {
			json_key(j, "path");
			if (paths[i])
				json_string(j, paths[i]);
			else
				json_null(j);
		}
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool json = false, verbose = false, loaded;
	struct counter *c = NULL;
	struct mgroups g = { 0 };
	size_t n = 0;
	int opt, gerr = -ENODEV;
	char a[32];

	while ((opt = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return EXIT_DONE;
		default:
			fputs("Try 'pcshare status --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg("status: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	loaded = module_loaded();
	if (loaded) {
		module_counters(&c, &n);
		gerr = module_groups(&g);
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_key(&j, "schema");
		json_string(&j, "pcshare-status-1");
		json_key(&j, "loaded");
		json_bool(&j, loaded);
		json_key(&j, "counters");
		json_begin_object(&j);
		for (size_t i = 0; i < n; i++) {
			json_key(&j, c[i].name);
			json_u64(&j, c[i].value);
		}
		json_end_object(&j);
		json_key(&j, "groups");
		if (gerr) {
			json_null(&j);
		} else {
			json_begin_array(&j);
			for (size_t i = 0; i < g.n; i++)
				json_group(&j, &g.v[i], NULL);
			json_end_array(&j);
		}
		json_key(&j, "groups_error");
		if (gerr)
			json_string(&j, loaded ? module_groups_error(gerr) : "module not loaded");
		else
			json_null(&j);
		json_end_object(&j);
		json_finish(&j);
		goto out;
	}
	if (!loaded) {
		puts("pcshare module: not loaded");
		goto out;
	}
	puts("pcshare module: loaded");
	status_words(c, n, stdout);
	if (n)
		puts("Counters:");
	for (size_t i = 0; i < n; i++) {
		printf("  %-24s %llu", c[i].name, (unsigned long long)c[i].value);
		if (is_bytes(c[i].name) && c[i].value >= 1024)
			printf(" (%s)", human_bytes(c[i].value, a));
		putchar('\n');
	}
	if (gerr) {
		printf("Groups: not listed: %s\n", module_groups_error(gerr));
	} else if (!verbose) {
		printf("Groups: %zu (use -v to list them)\n", g.n);
	} else {
		printf("Groups: %zu\n", g.n);
		for (size_t i = 0; i < g.n; i++) {
			const struct mgroup *x = &g.v[i];
			char b[32];

			printf("  group %llu: %llu files of %s on %u:%u, %llu active, %s cached\n",
			       (unsigned long long)x->id, (unsigned long long)x->nmembers,
			       human_bytes(x->size, a), x->major, x->minor,
			       (unsigned long long)x->nactive, human_bytes(x->cached, b));
			for (size_t k = 0; k < x->n; k++)
				printf("    ino %llu %s\n", (unsigned long long)x->m[k].ino, x->m[k].state);
		}
	}
out:
	free(c);
	module_groups_free(&g);
	return EXIT_DONE;
}

struct statted {
	const char *path;
	int err;		/* errno, 0 if examined */
	uint64_t dev, sbdev, ino, size, shared;
	bool shared_known;
	const struct mgroup *g;
	const struct mmember *m;
};

static const char *name_of(const struct statted *s, size_t n, const struct mgroup *g, uint64_t ino)
{
	uint64_t gdev = makedev(g->major, g->minor);

	for (size_t i = 0; i < n; i++)
		if (!s[i].err && s[i].ino == ino && (s[i].dev == gdev || s[i].sbdev == gdev))
			return s[i].path;
	return NULL;
}

static void stat_one(struct statted *s, const struct mgroups *g, bool gvisible)
{
	struct statx sx;
	int fd;

	if (statx(AT_FDCWD, s->path, 0, STATX_BASIC_STATS | STATX_MNT_ID, &sx)) {
		s->err = errno;
		return;
	}
	if (!S_ISREG(sx.stx_mode)) {
		s->err = S_ISDIR(sx.stx_mode) ? EISDIR : EINVAL;
		return;
	}
	s->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	s->sbdev = (sx.stx_mask & STATX_MNT_ID) ? mount_sb_dev(sx.stx_mnt_id) : s->dev;
	s->ino = sx.stx_ino;
	s->size = sx.stx_size;
	fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (fd < 0)
		fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		s->shared_known = shared_bytes(fd, s->size, &s->shared) == 0;
		close(fd);
	}
	if (gvisible)
		s->g = module_find(g, s->dev, s->sbdev, s->ino, &s->m);
}

static void stat_print(const struct statted *s, const struct statted *all, size_t n,
		       bool loaded, int gerr)
{
	char a[32], b[32];

	if (s->err) {
		if (s->err == EINVAL)
			msg("stat: %s: not a regular file", s->path);
		else
			msg("stat: %s: %s", s->path, strerror(s->err));
		return;
	}
	printf("%s: ", s->path);
	if (!loaded) {
		fputs("page cache not shared (the pcshare module is not loaded)\n", stdout);
	} else if (gerr) {
		printf("page cache sharing unknown (%s)\n", module_groups_error(gerr));
	} else if (!s->g) {
		fputs("page cache not shared (in no group)\n", stdout);
	} else {
		size_t others = s->g->n ? s->g->n - 1 : 0;
		int k = 0;

		printf("page cache %s: group %llu (%s), with %zu other file%s",
		       strcmp(s->m->state, "active") ? "in a group" : "shared",
		       (unsigned long long)s->g->id, s->m->state, others, others == 1 ? "" : "s");
		for (size_t i = 0; i < s->g->n; i++) {
			const struct mmember *m = &s->g->m[i];
			const char *p;

			if (m == s->m)
				continue;
			p = name_of(all, n, s->g, m->ino);
			fputs(k++ ? ", " : ": ", stdout);
			if (p)
				printf("%s (%s)", p, m->state);
			else
				printf("ino %llu (%s)", (unsigned long long)m->ino, m->state);
		}
		putchar('\n');
	}
	if (s->shared_known)
		printf("  on disk: %s of %s in shared extents\n", human_bytes(s->shared, a),
		       human_bytes(s->size, b));
	else
		puts("  on disk: extent map unavailable");
}

static void stat_json(struct json *j, const struct statted *s, const struct statted *all, size_t n)
{
	char dev[32];

	json_begin_object(j);
	json_key(j, "path");
	json_string(j, s->path);
	json_key(j, "error");
	if (s->err) {
		json_string(j, errno_name(s->err));
		json_key(j, "message");
		json_string(j, s->err == EINVAL ? "not a regular file" : strerror(s->err));
		json_end_object(j);
		return;
	}
	json_null(j);
	snprintf(dev, sizeof(dev), "%u:%u", major(s->dev), minor(s->dev));
	json_key(j, "dev");
	json_string(j, dev);
	json_key(j, "ino");
	json_u64(j, s->ino);
	json_key(j, "size");
	json_u64(j, s->size);
	json_key(j, "disk_shared_bytes");
	if (s->shared_known)
		json_u64(j, s->shared);
	else
		json_null(j);
	json_key(j, "group");
	if (s->g) {
		const char **paths = xcalloc(s->g->n, sizeof(*paths));

		for (size_t i = 0; i < s->g->n; i++)
			paths[i] = name_of(all, n, s->g, s->g->m[i].ino);
		json_group(j, s->g, paths);
		free(paths);
	} else {
		json_null(j);
	}
	json_key(j, "state");
	if (s->m)
		json_string(j, s->m->state);
	else
		json_null(j);
	json_end_object(j);
}

int cmd_stat(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct mgroups g = { 0 };
	struct statted *s;
	bool json = false, loaded;
	int opt, gerr = -ENODEV, ret = EXIT_DONE;
	size_t n;

	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(stat_usage, stdout);
			return EXIT_DONE;
		default:
			fputs("Try 'pcshare stat --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		msg("stat: no FILE given");
		fputs("Try 'pcshare stat --help'.\n", stderr);
		return EXIT_USAGE;
	}
	loaded = module_loaded();
	if (loaded)
		gerr = module_groups(&g);
	n = argc - optind;
	s = xcalloc(n, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		s[i].path = argv[optind + i];
		stat_one(&s[i], &g, loaded && !gerr);
		if (s[i].err)
			ret = EXIT_PARTIAL;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_key(&j, "schema");
		json_string(&j, "pcshare-stat-1");
		json_key(&j, "module_loaded");
		json_bool(&j, loaded);
		json_key(&j, "groups_visible");
		json_bool(&j, loaded && !gerr);
		json_key(&j, "groups_error");
		if (loaded && gerr)
			json_string(&j, module_groups_error(gerr));
		else
			json_null(&j);
		json_key(&j, "files");
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++)
			stat_json(&j, &s[i], s, n);
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		for (size_t i = 0; i < n; i++)
			if (s[i].err)
				msg("stat: %s: %s", s[i].path,
				    s[i].err == EINVAL ? "not a regular file" : strerror(s[i].err));
	} else {
		for (size_t i = 0; i < n; i++)
			stat_print(&s[i], s, n, loaded, gerr);
	}
	fflush(stdout);
	free(s);
	module_groups_free(&g);
	return ret;
}

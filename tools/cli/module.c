// SPDX-License-Identifier: GPL-2.0
/*
 * What the pcshare module exposes:
 *   /sys/module/pcshare              exists iff the module is loaded
 *   /sys/kernel/pcshare/<counter>    one decimal number per file
 *   /sys/kernel/debug/pcshare/groups root only, one line per group:
 *	group <id> dev <major>:<minor> size <bytes> cached <bytes> members <n> active <n>
 *	  member ino <ino> <active|registered|broken>
 * Parsing is tolerant: unknown keys and lines are ignored, so the module can
 * add fields without breaking this tool.
 *
 * PCSHARE_SYSROOT, if set, replaces "/sys" (tests use it to feed a fake tree).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pcshare.h"

#define DEBUGFS_MAGIC	0x64626720

static char *sys_path(const char *rel)
{
	const char *root = getenv("PCSHARE_SYSROOT");
	char *p;

	if (asprintf(&p, "%s/%s", root && *root ? root : "/sys", rel) < 0)
		p = xstrdup("/nonexistent");
	return p;
}

bool module_loaded(void)
{
	char *p = sys_path("module/pcshare");
	bool ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	return !errno && !*end;
}

static void read_counters(const char *dir, const char *prefix, struct counter **out, size_t *n,
			  int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path, name[160], buf[64];
		struct stat sb;
		uint64_t v;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		path = path_join(dir, de->d_name);
		snprintf(name, sizeof(name), "%.63s%.95s", prefix, de->d_name);
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && depth == 0) {
			char sub[64];

			snprintf(sub, sizeof(sub), "%.62s/", de->d_name);
			read_counters(path, sub, out, n, depth + 1);
		} else if (S_ISREG(sb.st_mode) && (f = fopen(path, "re"))) {
			if (fgets(buf, sizeof(buf), f) && parse_u64(buf, &v)) {
				*out = xrealloc(*out, (*n + 1) * sizeof(**out));
				snprintf((*out)[*n].name, sizeof((*out)[*n].name), "%.127s", name);
				(*out)[(*n)++].value = v;
			}
			fclose(f);
		}
		free(path);
	}
	closedir(d);
}

static int counter_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counter *)a)->name, ((const struct counter *)b)->name);
}

/* Every numeric file under /sys/kernel/pcshare (and one level below). */
int module_counters(struct counter **out, size_t *n)
{
	char *dir = sys_path("kernel/pcshare");
	int ret = access(dir, R_OK | X_OK) ? -errno : 0;

	*out = NULL;
	*n = 0;
	if (!ret) {
		read_counters(dir, "", out, n, 0);
		qsort(*out, *n, sizeof(**out), counter_cmp);
	}
	free(dir);
	return ret;
}

uint64_t counter_value(const struct counter *c, size_t n, const char *name, bool *found)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(c[i].name, name)) {
			if (found)
				*found = true;
			return c[i].value;
		}
	}
	if (found)
		*found = false;
	return 0;
}

static bool is_state(const char *t)
{
	for (const char *p = t; *p; p++)
		if (!islower((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return *t != 0;
}

static void parse_group(struct mgroup *g, char *save)
{
	char *tok, *val;

	while ((tok = strtok_r(NULL, " \t\n", &save))) {
		val = strtok_r(NULL, " \t\n", &save);
		if (!val)
			break;
		if (!strcmp(tok, "dev"))
			sscanf(val, "%u:%u", &g->major, &g->minor);
		else if (!strcmp(tok, "size"))
			parse_u64(val, &g->size);
		else if (!strcmp(tok, "cached"))
			parse_u64(val, &g->cached);
		else if (!strcmp(tok, "members"))
			parse_u64(val, &g->nmembers);
		else if (!strcmp(tok, "active"))
			parse_u64(val, &g->nactive);
		/* anything else: a key we do not know yet, with its value */
	}
}

static void parse_member(struct mgroup *g, char *save)
{
	struct mmember m = { 0 };
	bool have_ino = false;
	char *tok;

	snprintf(m.state, sizeof(m.state), "unknown");
	while ((tok = strtok_r(NULL, " \t\n", &save))) {
		if (!strcmp(tok, "ino")) {
			tok = strtok_r(NULL, " \t\n", &save);
			have_ino = tok && parse_u64(tok, &m.ino);
		} else if (!strcmp(tok, "active") || !strcmp(tok, "registered") ||
			   !strcmp(tok, "broken")) {
			snprintf(m.state, sizeof(m.state), "%s", tok);
		} else if (is_state(tok)) {
			/* "key value" we do not know, or a state word we do not know */
			char *peek = save;

			while (*peek == ' ' || *peek == '\t')
				peek++;
			if (isdigit((unsigned char)*peek))
				strtok_r(NULL, " \t\n", &save);
			else if (!strcmp(m.state, "unknown"))
				snprintf(m.state, sizeof(m.state), "%s", tok);
		}
	}
	if (!have_ino)
		return;
	g->m = xrealloc(g->m, (g->n + 1) * sizeof(*g->m));
	g->m[g->n++] = m;
}

int module_groups(struct mgroups *gs)
{
	const char *fake = getenv("PCSHARE_SYSROOT");
	char *dbg = sys_path("kernel/debug"), *path = sys_path("kernel/debug/pcshare/groups");
	char *line = NULL;
	size_t cap = 0;
	struct statfs sfs;
	FILE *f = NULL;
	int ret = 0;

	gs->v = NULL;
	gs->n = 0;
	if (!(fake && *fake)) {
		if (statfs(dbg, &sfs))
			ret = errno == EACCES ? -EACCES : -ENOMEDIUM;
		else if (sfs.f_type != DEBUGFS_MAGIC)
			ret = -ENOMEDIUM;
		if (ret)
			goto out;
	}
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		goto out;
	}
	while (getline(&line, &cap, f) > 0) {
		char *save, *tok = strtok_r(line, " \t\n", &save);

		if (!tok)
			continue;
		if (!strcmp(tok, "group")) {
			struct mgroup *g;

			tok = strtok_r(NULL, " \t\n", &save);
			gs->v = xrealloc(gs->v, (gs->n + 1) * sizeof(*gs->v));
			g = &gs->v[gs->n++];
			memset(g, 0, sizeof(*g));
			if (tok)
				parse_u64(tok, &g->id);
			parse_group(g, save);
		} else if (!strcmp(tok, "member") && gs->n) {
			parse_member(&gs->v[gs->n - 1], save);
		}
	}
out:
	if (f)
		fclose(f);
	free(line);
	free(dbg);
	free(path);
	return ret;
}

void module_groups_free(struct mgroups *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		free(gs->v[i].m);
	free(gs->v);
	gs->v = NULL;
	gs->n = 0;
}

const char *module_groups_error(int err)
{
	switch (-err) {
	case ENOMEDIUM:
		return "debugfs is not mounted; mount it with: mount -t debugfs none /sys/kernel/debug";
	case EACCES:
	case EPERM:
		return "the group list is readable by root only";
	case ENOENT:
		return "this module has no group list (/sys/kernel/debug/pcshare/groups)";
	}
	return strerror(-err);
}

const struct mgroup *module_find(const struct mgroups *gs, uint64_t dev, uint64_t sbdev,
				 uint64_t ino, const struct mmember **mm)
{
	for (size_t i = 0; i < gs->n; i++) {
		const struct mgroup *g = &gs->v[i];
		uint64_t gdev = makedev(g->major, g->minor);

		if (gdev != dev && gdev != sbdev)
			continue;
		for (size_t j = 0; j < g->n; j++) {
			if (g->m[j].ino == ino) {
				if (mm)
					*mm = &g->m[j];
				return g;
			}
		}
	}
	return NULL;
}

/*
 * The superblock's device of a mount, from /proc/self/mountinfo. btrfs gives
 * each subvolume its own st_dev, while the module names the superblock's.
 */
uint64_t mount_sb_dev(uint64_t mnt_id)
{
	unsigned long long id, parent;
	unsigned maj, min;
	char *line = NULL;
	uint64_t dev = 0;
	size_t cap = 0;
	FILE *f;

	if (mnt_id >> 63)	/* no mount id: the key is the device */
		return mnt_id & ~(1ull << 63);
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%llu %llu %u:%u", &id, &parent, &maj, &min) == 4 && id == mnt_id) {
			dev = makedev(maj, min);
			break;
		}
	}
	free(line);
	fclose(f);
	return dev;
}

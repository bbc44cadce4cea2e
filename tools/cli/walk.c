// SPDX-License-Identifier: GPL-2.0
/*
 * Operand checks and the tree walk.
 *
 * Every operand is checked before any work starts: it must exist, be a
 * directory or a regular file we can open, and live on a filesystem that can
 * dedupe. One bad operand means bad usage (exit 2) and nothing is done.
 *
 * The walk never follows symlinks and never leaves the mount an operand is on
 * (btrfs subvolumes of that mount are fine: same superblock). Each mount is a
 * separate pool of candidates; files of two mounts are never compared.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pcshare.h"

#ifndef BCACHEFS_SUPER_MAGIC
#define BCACHEFS_SUPER_MAGIC	0xca451a4e
#endif
#ifndef OCFS2_SUPER_MAGIC
#define OCFS2_SUPER_MAGIC	0x7461636f
#endif

/*
 * XFS_IOC_FSGEOMETRY_V1 from xfs_fs.h (a stable ABI), so that we need no
 * xfslibs-dev: the flags tell whether this XFS was made with reflink=1.
 */
struct xfs_fsop_geom_v1 {
	uint32_t blocksize, rtextsize, agblocks, agcount, logblocks, sectsize, inodesize, imaxpct;
	uint64_t datablocks, rtblocks, rtextents, logstart;
	unsigned char uuid[16];
	uint32_t sunit, swidth;
	int32_t version;
	uint32_t flags, logsectsize, rtsectsize, dirblocksize;
};
#define XFS_IOC_FSGEOMETRY_V1		_IOR('X', 100, struct xfs_fsop_geom_v1)
#define XFS_FSOP_GEOM_FLAGS_REFLINK	(1u << 20)

static const struct {
	long magic;
	const char *name;
} fs_names[] = {
	{ XFS_SUPER_MAGIC, "xfs" }, { BTRFS_SUPER_MAGIC, "btrfs" },
	{ BCACHEFS_SUPER_MAGIC, "bcachefs" }, { OCFS2_SUPER_MAGIC, "ocfs2" },
	{ EXT4_SUPER_MAGIC, "ext4" }, { TMPFS_MAGIC, "tmpfs" }, { NFS_SUPER_MAGIC, "nfs" },
	{ 0x01021994, "tmpfs" }, { 0x6969, "nfs" }, { 0xff534d42, "cifs" },
	{ 0x65735546, "fuse" }, { 0x01021997, "9p" }, { 0x794c7630, "overlayfs" },
	{ 0x4d44, "vfat" }, { 0x2011bab0, "exfat" }, { 0x5346544e, "ntfs" },
	{ 0x2fc12fc1, "zfs" }, { 0xf2f52010, "f2fs" }, { 0x9fa0, "proc" },
	{ 0x62656572, "sysfs" }, { 0x858458f6, "ramfs" },
};

static const char *fs_type_name(long magic)
{
	static __thread char buf[32];

	for (size_t i = 0; i < sizeof(fs_names) / sizeof(fs_names[0]); i++)
		if (fs_names[i].magic == magic)
			return fs_names[i].name;
	snprintf(buf, sizeof(buf), "fs type 0x%lx", (unsigned long)magic);
	return buf;
}

/* Can files on this filesystem be deduped with FIDEDUPERANGE? */
static bool fs_can_dedupe(int fd, long magic, const char *path)
{
	struct xfs_fsop_geom_v1 geo;

	switch (magic) {
	case XFS_SUPER_MAGIC:
		if (ioctl(fd, XFS_IOC_FSGEOMETRY_V1, &geo) == 0 &&
		    !(geo.flags & XFS_FSOP_GEOM_FLAGS_REFLINK)) {
			msg("%s: this XFS has no reflink support (made without mkfs.xfs -m reflink=1), "
			    "so it cannot dedupe", path);
			return false;
		}
		return true;
	case BTRFS_SUPER_MAGIC:
	case BCACHEFS_SUPER_MAGIC:
	case OCFS2_SUPER_MAGIC:
		return true;
	}
	msg("%s: %s cannot dedupe files; pcshare works on XFS (with reflink) and btrfs",
	    path, fs_type_name(magic));
	return false;
}

static uint64_t statx_fskey(const struct statx *sx)
{
	if (sx->stx_mask & STATX_MNT_ID)
		return sx->stx_mnt_id;
	return makedev(sx->stx_dev_major, sx->stx_dev_minor) | (1ull << 63);
}

int check_operands(char **paths, int n, struct operand *ops, bool dry_run)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		const char *p = paths[i];
		struct statx sx;
		struct statfs sfs;
		struct statvfs svfs;
		int fd;

		ops[i].arg = p;
		if (statx(AT_FDCWD, p, 0, STATX_BASIC_STATS | STATX_MNT_ID, &sx)) {
			msg("%s: %s", p, strerror(errno));
			bad++;
			continue;
		}
		if (!S_ISDIR(sx.stx_mode) && !S_ISREG(sx.stx_mode)) {
			msg("%s: not a directory or a regular file", p);
			bad++;
			continue;
		}
		fd = open_noatime(p, O_RDONLY | (S_ISDIR(sx.stx_mode) ? O_DIRECTORY : 0));
		if (fd < 0 && errno == ELOOP)	/* a symlink operand: follow it */
			fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			msg("%s: %s", p, strerror(errno));
			bad++;
			continue;
		}
		if (fstatfs(fd, &sfs) || fstatvfs(fd, &svfs)) {
			msg("%s: statfs: %s", p, strerror(errno));
			close(fd);
			bad++;
			continue;
		}
		ops[i].fskey = statx_fskey(&sx);
		if (!fs_can_dedupe(fd, sfs.f_type, p)) {
			bad++;
		} else if (!dry_run && (svfs.f_flag & ST_RDONLY)) {
			msg("%s: read-only filesystem; use --dry-run to only report", p);
			bad++;
		}
		close(fd);
	}
	return bad ? -1 : 0;
}

static void add_file(struct walk *w, const char *path, const struct statx *sx)
{
	struct fent *fe;

	atomic_fetch_add(&w->st->files_scanned, 1);
	atomic_fetch_add(&w->st->bytes_scanned, sx->stx_size);
	if (sx->stx_size == 0) {
		note_skip(w->st, SKIP_EMPTY, path, w->verbose);
		return;
	}
	if (sx->stx_size < w->min_size) {
		note_skip(w->st, SKIP_SMALL, path, w->verbose);
		return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	fe = &w->v[w->n++];
	memset(fe, 0, sizeof(*fe));
	fe->path = xstrdup(path);
	fe->fskey = statx_fskey(sx);
	fe->dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	fe->ino = sx->stx_ino;
	fe->size = sx->stx_size;
	fe->alloc = sx->stx_blocks * 512 < sx->stx_size ? sx->stx_blocks * 512 : sx->stx_size;
	fe->nlink = sx->stx_nlink;
	fe->mtime = (struct timespec){ sx->stx_mtime.tv_sec, sx->stx_mtime.tv_nsec };
	fe->ctime = (struct timespec){ sx->stx_ctime.tv_sec, sx->stx_ctime.tv_nsec };
	fe->cache.state = CACHE_UNKNOWN;
}

struct dirstack {
	char **v;
	size_t n, cap;
};

static void push(struct dirstack *s, char *path)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = path;
}

static void walk_dir(struct walk *w, const char *root, uint64_t fskey)
{
	struct dirstack stack = { 0 };

	push(&stack, xstrdup(root));
	while (stack.n && !atomic_load(&stop_requested)) {
		char *dir = stack.v[--stack.n];
		int fd = open_noatime(dir, O_RDONLY | O_DIRECTORY);
		struct dirent *de;
		DIR *d;

		if (fd < 0 || !(d = fdopendir(fd))) {
			note_error(w->st, dir, "open directory", errno);
			if (fd >= 0)
				close(fd);
			free(dir);
			continue;
		}
		while ((errno = 0, de = readdir(d))) {
			struct statx sx;
			char *path;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			path = path_join(dir, de->d_name);
			if (statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
				  STATX_BASIC_STATS | STATX_MNT_ID, &sx)) {
				note_error(w->st, path, "stat", errno);
				free(path);
				continue;
			}
			if (S_ISDIR(sx.stx_mode)) {
				if (statx_fskey(&sx) != fskey) {
					note_skip(w->st, SKIP_OTHER_FS, path, w->verbose);
					free(path);
				} else {
					push(&stack, path);
				}
				continue;
			}
			if (S_ISREG(sx.stx_mode))
				add_file(w, path, &sx);
			else if (S_ISLNK(sx.stx_mode))
				note_skip(w->st, SKIP_SYMLINK, path, w->verbose);
			else
				note_skip(w->st, SKIP_SPECIAL, path, w->verbose);
			free(path);
		}
		if (errno)
			note_error(w->st, dir, "read directory", errno);
		closedir(d);
		free(dir);
	}
	while (stack.n)
		free(stack.v[--stack.n]);
	free(stack.v);
}

void walk_operands(struct walk *w, struct operand *ops, int n)
{
	for (int i = 0; i < n && !atomic_load(&stop_requested); i++) {
		const char *arg = ops[i].arg;
		char *real = NULL;
		struct statx sx;
		struct stat lsb;

		/* A symlink the user named is followed, once, by resolving it. */
		if (lstat(arg, &lsb) == 0 && S_ISLNK(lsb.st_mode) && (real = realpath(arg, NULL)))
			arg = real;
		if (statx(AT_FDCWD, arg, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID, &sx))
			note_error(w->st, arg, "stat", errno);
		else if (S_ISDIR(sx.stx_mode))
			walk_dir(w, arg, ops[i].fskey);
		else
			add_file(w, arg, &sx);
		free(real);
	}
}

// SPDX-License-Identifier: GPL-2.0
/* HAVE_VFS_TMPFILE_OPEN_MNT_IDMAP: vfs_tmpfile_open() taking a mnt_idmap (6.3..6.5) */
#include <linux/module.h>
#include <linux/fs.h>

struct file *(*pcshare_probe)(struct mnt_idmap *idmap,
			      const struct path *parentpath, umode_t mode,
			      int open_flag,
			      const struct cred *cred) = vfs_tmpfile_open;

MODULE_LICENSE("GPL");

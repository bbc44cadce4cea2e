// SPDX-License-Identifier: GPL-2.0
/* HAVE_VFS_TMPFILE_OPEN_USER_NS: vfs_tmpfile_open() taking a user_namespace (6.1, 6.2) */
#include <linux/module.h>
#include <linux/fs.h>

struct file *(*pcshare_probe)(struct user_namespace *ns,
			      const struct path *parentpath, umode_t mode,
			      int open_flag,
			      const struct cred *cred) = vfs_tmpfile_open;

MODULE_LICENSE("GPL");

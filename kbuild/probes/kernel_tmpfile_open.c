// SPDX-License-Identifier: GPL-2.0
/* HAVE_KERNEL_TMPFILE_OPEN: the in-kernel O_TMPFILE open is kernel_tmpfile_open() (6.6+) */
#include <linux/module.h>
#include <linux/fs.h>

struct file *(*pcshare_probe)(struct mnt_idmap *idmap,
			      const struct path *parentpath, umode_t mode,
			      int open_flag,
			      const struct cred *cred) = kernel_tmpfile_open;

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_OPEN_WITH_FAKE_PATH: overlayfs opens real files with a fake f_path
 * (up to 6.5), so do_dentry_open()'s inode argument, not f_path, names them
 */
#include <linux/module.h>
#include <linux/fs.h>

struct file *(*pcshare_probe)(const struct path *path, int flags,
			      struct inode *inode, const struct cred *cred) =
	open_with_fake_path;

MODULE_LICENSE("GPL");

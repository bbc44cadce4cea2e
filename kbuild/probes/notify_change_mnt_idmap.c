// SPDX-License-Identifier: GPL-2.0
/* HAVE_NOTIFY_CHANGE_MNT_IDMAP: notify_change() takes a struct mnt_idmap * */
#include <linux/module.h>
#include <linux/fs.h>

int (*pcshare_probe)(struct mnt_idmap *idmap, struct dentry *dentry,
		     struct iattr *attr, struct inode **delegated) = notify_change;

MODULE_LICENSE("GPL");

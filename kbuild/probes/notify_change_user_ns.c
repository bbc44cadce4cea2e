// SPDX-License-Identifier: GPL-2.0
/* HAVE_NOTIFY_CHANGE_USER_NS: notify_change() takes a struct user_namespace * */
#include <linux/module.h>
#include <linux/fs.h>

int (*pcshare_probe)(struct user_namespace *ns, struct dentry *dentry,
		     struct iattr *attr, struct inode **delegated) = notify_change;

MODULE_LICENSE("GPL");

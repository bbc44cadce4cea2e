// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_VFS_TRUNCATE: long vfs_truncate(const struct path *, loff_t) (hooks.c)
 * required: truncate(2) must break a member first
 */
#include <linux/module.h>
#include <linux/fs.h>

long (*pcshare_probe)(const struct path *path, loff_t length) = vfs_truncate;

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_VFS_CLONE_FILE_RANGE: loff_t vfs_clone_file_range(..., remap_flags)
 * The module hooks it (hooks.c) and calls it for the anchor (anchor.c).
 * required: FICLONE registration hooks it
 */
#include <linux/module.h>
#include <linux/fs.h>

loff_t (*pcshare_probe)(struct file *file_in, loff_t pos_in,
			struct file *file_out, loff_t pos_out, loff_t len,
			unsigned int remap_flags) = vfs_clone_file_range;

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_VFS_DEDUPE_FILE_RANGE_ONE: loff_t vfs_dedupe_file_range_one() (hooks.c)
 * required: FIDEDUPERANGE registration hooks it
 */
#include <linux/module.h>
#include <linux/fs.h>

loff_t (*pcshare_probe)(struct file *src, loff_t src_pos, struct file *dst,
			loff_t dst_pos, loff_t len,
			unsigned int remap_flags) = vfs_dedupe_file_range_one;

MODULE_LICENSE("GPL");

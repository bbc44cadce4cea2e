// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_GENERIC_SHUTDOWN_SUPER: void generic_shutdown_super(struct super_block *)
 * required: unmount must release the anchors first (lifecycle.c)
 */
#include <linux/module.h>
#include <linux/fs.h>

void (*pcshare_probe)(struct super_block *sb) = generic_shutdown_super;

MODULE_LICENSE("GPL");

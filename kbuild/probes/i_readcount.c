// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_I_READCOUNT: inodes count their read-only opens (CONFIG_IMA)
 * Without it pcshare cannot prove every open of a member is one it
 * wrapped, and never activates a member (policy.c).
 */
#include <linux/module.h>
#include <linux/fs.h>

int pcshare_probe(struct inode *inode);
int pcshare_probe(struct inode *inode)
{
	return atomic_read(&inode->i_readcount);
}

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/* HAVE_INODE_GET_MTIME: i_mtime is private behind inode_get_mtime() (6.7+) */
#include <linux/module.h>
#include <linux/fs.h>

struct timespec64 pcshare_probe(const struct inode *inode);
struct timespec64 pcshare_probe(const struct inode *inode)
{
	return inode_get_mtime(inode);
}

MODULE_LICENSE("GPL");

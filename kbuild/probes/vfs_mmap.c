// SPDX-License-Identifier: GPL-2.0
/* HAVE_VFS_MMAP: vfs_mmap() runs a file's ->mmap (6.15+) */
#include <linux/module.h>
#include <linux/fs.h>

int pcshare_probe(struct file *file, struct vm_area_struct *vma);
int pcshare_probe(struct file *file, struct vm_area_struct *vma)
{
	return vfs_mmap(file, vma);
}

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/* HAVE_CALL_MMAP: call_mmap() runs a file's ->mmap (renamed vfs_mmap() in 6.15) */
#include <linux/module.h>
#include <linux/fs.h>

int pcshare_probe(struct file *file, struct vm_area_struct *vma);
int pcshare_probe(struct file *file, struct vm_area_struct *vma)
{
	return call_mmap(file, vma);
}

MODULE_LICENSE("GPL");

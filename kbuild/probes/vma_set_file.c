// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_VMA_SET_FILE: vma_set_file() exists (5.11+); the wrapped mmap uses it
 * required: mappings of shared files are moved onto the anchor with it
 */
#include <linux/module.h>
#include <linux/mm.h>

void pcshare_probe(struct vm_area_struct *vma, struct file *file);
void pcshare_probe(struct vm_area_struct *vma, struct file *file)
{
	vma_set_file(vma, file);
}

MODULE_LICENSE("GPL");

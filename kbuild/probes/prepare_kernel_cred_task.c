// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_PREPARE_KERNEL_CRED_TASK: prepare_kernel_cred(&init_task) compiles
 * (init_task is exported).  6.2 made NULL an error; &init_task means the
 * kernel's own credentials on every kernel, so pcshare always passes it.
 * required: the anchor is made with the kernel's credentials
 */
#include <linux/module.h>
#include <linux/cred.h>
#include <linux/sched/task.h>

struct cred *pcshare_probe(void);
struct cred *pcshare_probe(void)
{
	return prepare_kernel_cred(&init_task);
}

MODULE_LICENSE("GPL");

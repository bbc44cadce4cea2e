// SPDX-License-Identifier: GPL-2.0
/* HAVE_FTRACE_GET_REGS: a full pt_regs from ftrace_regs (SAVE_REGS ops) */
#include <linux/module.h>
#include <linux/ftrace.h>

struct pt_regs *pcshare_probe(struct ftrace_regs *fregs);
struct pt_regs *pcshare_probe(struct ftrace_regs *fregs)
{
	return ftrace_get_regs(fregs);
}

MODULE_LICENSE("GPL");

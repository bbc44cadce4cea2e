// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_FTRACE_OPS_FREGS: callbacks take ftrace_regs; SAVE_REGS, IPMODIFY exist
 * required: the hook mechanics are built on it
 */
#include <linux/module.h>
#include <linux/ftrace.h>

static void pcshare_probe_func(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

struct ftrace_ops pcshare_probe_ops = {
	.func = pcshare_probe_func,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		 FTRACE_OPS_FL_IPMODIFY,
};

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/* HAVE_FTRACE_REGS_SET_INSTRUCTION_POINTER: the 6.2+ name of the IP setter */
#include <linux/module.h>
#include <linux/ftrace.h>

void pcshare_probe(struct ftrace_regs *fregs);
void pcshare_probe(struct ftrace_regs *fregs)
{
	ftrace_regs_set_instruction_pointer(fregs, 0UL);
}

MODULE_LICENSE("GPL");

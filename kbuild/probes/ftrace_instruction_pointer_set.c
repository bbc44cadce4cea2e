// SPDX-License-Identifier: GPL-2.0
/* HAVE_FTRACE_INSTRUCTION_POINTER_SET: the 5.16..6.1 name of the IP setter */
#include <linux/module.h>
#include <linux/ftrace.h>

void pcshare_probe(struct ftrace_regs *fregs);
void pcshare_probe(struct ftrace_regs *fregs)
{
	ftrace_instruction_pointer_set(fregs, 0UL);
}

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IS_ENDBR: <asm/ibt.h> has is_endbr() (X86_KERNEL_IBT checks)
 * Used to check that a function we call through a pointer still starts
 * with ENDBR64.
 */
#include <linux/module.h>
#include <linux/types.h>
#include <asm/ibt.h>

bool pcshare_probe(u32 insn);
bool pcshare_probe(u32 insn)
{
	return is_endbr(insn);
}

MODULE_LICENSE("GPL");

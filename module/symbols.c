// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol lookup.
 *
 * kallsyms_lookup_name() is not exported since 5.7, and on kernels built
 * with X86_KERNEL_IBT (Debian's 6.12) its ENDBR is sealed: calling it
 * through a pointer is a #CP oops on an IBT CPU.  So each symbol is
 * resolved by a kprobe of its own, registered and removed at once; the
 * kprobes core looks the name up for us, and nothing stays in the kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include "pcshare.h"

/**
 * pcshare_lookup_name() - address of a kernel function
 * @name: symbol name, as in /proc/kallsyms
 *
 * Only for functions: the name must be one a kprobe can be placed on.
 *
 * Return: the address, or 0 when the running kernel has no such function
 * (or it cannot be probed, which this module treats the same way).
 */
unsigned long pcshare_lookup_name(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		if (ret != -ENOENT)
			pr_err("cannot resolve %s (kprobe: %d); is CONFIG_KPROBES on?\n",
			       name, ret);
		return 0;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return pcshare_kprobe_to_symbol(addr);
}

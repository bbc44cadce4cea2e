// SPDX-License-Identifier: GPL-2.0
/*
 * Symbol lookup.
 *
 * kallsyms_lookup_name() is not exported since 5.7.  A kprobe resolves its
 * address once; the kprobe is removed straight away, so nothing of it stays
 * in the kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include "pcshare.h"

typedef unsigned long (*kallsyms_lookup_name_t)(const char *name);
static kallsyms_lookup_name_t pcshare_kallsyms_lookup_name;

int pcshare_symbols_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("cannot resolve kallsyms_lookup_name (kprobe: %d); is CONFIG_KPROBES on?\n",
		       ret);
		return ret;
	}
	pcshare_kallsyms_lookup_name = (kallsyms_lookup_name_t)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

/**
 * pcshare_lookup_name() - address of a kernel symbol
 * @name: symbol name, as in /proc/kallsyms
 *
 * Return: the address, or 0 when the running kernel has no such symbol.
 */
unsigned long pcshare_lookup_name(const char *name)
{
	if (WARN_ON_ONCE(!pcshare_kallsyms_lookup_name))
		return 0;
	return pcshare_kallsyms_lookup_name(name);
}

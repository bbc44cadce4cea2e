// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle of members: eviction and unmount (DESIGN.md 2.7).
 *
 * A member record never pins its inode, so eviction must detach it: the
 * inode may go back to the slab at any time after evict().  Unmount must
 * drop our anchors' dentries before generic_shutdown_super() shrinks the
 * dcache and evicts inodes, or the kernel reports busy inodes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "pcshare.h"

void pcshare_evict(struct inode *inode)
{
	struct pcshare_member *m;

	pcshare_hook_enter();
	m = pcshare_member_lookup(inode);
	if (m) {
		pcshare_member_forget(m);
		pcshare_member_put(m);
	}
	pcshare_orig_evict(inode);
	pcshare_hook_exit();
}

void pcshare_generic_shutdown_super(struct super_block *sb)
{
	pcshare_hook_enter();
	pcshare_detach_sb(sb);
	pcshare_orig_generic_shutdown_super(sb);
	pcshare_hook_exit();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle of members: eviction and unmount (DESIGN.md 2.7).
 *
 * A member record never pins its inode, so eviction must detach it: the
 * inode goes back to the slab right after evict().  Unmount must drop our
 * anchors' dentries before generic_shutdown_super() shrinks the dcache and
 * evicts inodes, or the kernel reports busy inodes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "pcshare.h"

/*
 * Every eviction ends in clear_inode(), called by evict() or by the
 * filesystem's ->evict_inode(), after the inode's own i_data was truncated
 * (truncate_inode_pages_final() takes &inode->i_data, not i_mapping) and
 * before the inode is freed.  evict() itself cannot be hooked on an IBT
 * kernel: it is static and has no ENDBR.  Until here an evicted active
 * member still points at the anchor, which nothing reads: the inode has no
 * users and cannot gain any (I_FREEING).
 */
void pcshare_clear_inode(struct inode *inode)
{
	struct pcshare_member *m;

	pcshare_hook_enter();
	m = pcshare_member_lookup(inode);
	if (m) {
		pcshare_member_forget(m);
		pcshare_member_put(m);
	}
	pcshare_orig_clear_inode(inode);
	pcshare_hook_exit();
}

void pcshare_generic_shutdown_super(struct super_block *sb)
{
	pcshare_hook_enter();
	pcshare_detach_sb(sb);
	pcshare_orig_generic_shutdown_super(sb);
	pcshare_hook_exit();
}

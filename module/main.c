// SPDX-License-Identifier: GPL-2.0
/*
 * pcshare: one page cache for reflinked and deduplicated files.
 *
 * N reflinked copies of a file share their blocks on disk, but Linux caches
 * each copy separately.  pcshare hooks the clone and dedupe paths, records
 * which files are byte-identical, and points the i_mapping of their
 * read-only opens at one shared, hidden anchor file: N copies cost the
 * page cache of one.  The first open for write, or any size change, breaks
 * the sharing for that file before the write can happen.
 *
 * Where the files live:
 *   hooks.c      ftrace hook table and mechanics
 *   symbols.c    symbol lookup through kprobes
 *   registry.c   member table, groups
 *   remap.c      registration from clone and dedupe
 *   anchor.c     the hidden shared file
 *   policy.c     when to activate, when to break
 *   file_ops.c   per-open interposition, the open hook
 *   lifecycle.c  eviction and unmount
 *   sysfs.c      counters and the group list
 *
 * Design: ../DESIGN.md; one deliberate refinement over its section 3 is
 * that member records never pin inodes (eviction detaches them), and a
 * member is activated only when every open file of it is one we wrapped
 * (i_readcount), so that no page fault can run on a VMA of its own i_data
 * while i_mapping changes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include "pcshare.h"

bool pcshare_enable = true;
module_param_named(enable, pcshare_enable, bool, 0644);
MODULE_PARM_DESC(enable,
		 "Register and activate new shared files (default: Y). N keeps existing groups until they break.");

static char *pcshare_filesystems = "xfs,btrfs";
module_param_named(filesystems, pcshare_filesystems, charp, 0444);
MODULE_PARM_DESC(filesystems,
		 "Comma-separated filesystem types allowed to share (default: xfs,btrfs)");

char *pcshare_test_fail_symbol = "";
module_param_named(test_fail_symbol, pcshare_test_fail_symbol, charp, 0444);
MODULE_PARM_DESC(test_fail_symbol,
		 "Test only: also resolve this symbol at load, to prove a failed lookup leaves nothing behind (default: empty)");

char *pcshare_test_skip_hook = "";
module_param_named(test_skip_hook, pcshare_test_skip_hook, charp, 0444);
MODULE_PARM_DESC(test_skip_hook,
		 "Test only: do not install the hook on this function, to prove the safety net (default: empty)");

bool pcshare_test_ibt_enforced;
module_param_named(test_ibt_enforced, pcshare_test_ibt_enforced, bool, 0444);
MODULE_PARM_DESC(test_ibt_enforced,
		 "Test only: act as if the CPU enforced IBT, to prove that a kernel whose hooked functions lack ENDBR is refused (default: N)");

unsigned int pcshare_test_remap_delay_ms;
module_param_named(test_remap_delay_ms, pcshare_test_remap_delay_ms, uint, 0644);
MODULE_PARM_DESC(test_remap_delay_ms,
		 "Test only: sleep this long in the clone and dedupe hooks before the remap runs, to widen race windows (default: 0)");

bool pcshare_shutting_down;

/**
 * pcshare_fs_allowed() - may files of this superblock share?
 * @sb: the superblock
 *
 * Return: true if its filesystem type is listed in the filesystems
 * parameter.
 */
bool pcshare_fs_allowed(struct super_block *sb)
{
	const char *name = sb->s_type->name;
	const char *p = pcshare_filesystems;
	size_t len = strlen(name);

	while (p && *p) {
		const char *end = strchrnul(p, ',');

		if (end - p == len && !strncmp(p, name, len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static int __init pcshare_init(void)
{
	int ret;

	ret = pcshare_registry_init();
	if (ret)
		return ret;
	ret = pcshare_file_ops_init();
	if (ret)
		goto out_registry_exit;
	ret = pcshare_sysfs_init();
	if (ret)
		goto out_file_ops_exit;
	ret = pcshare_hooks_install();
	if (ret)
		goto out_sysfs_exit;
	pr_info("loaded; sharing page cache of reflinked files on %s\n",
		pcshare_filesystems);
	return 0;

out_sysfs_exit:
	pcshare_sysfs_exit();
out_file_ops_exit:
	pcshare_file_ops_exit();
out_registry_exit:
	pcshare_registry_exit();
	return ret;
}

static void __exit pcshare_exit(void)
{
	/*
	 * No wrapped file is open (each holds a module reference).  Stop new
	 * registrations, restore every inode while the eviction and unmount
	 * hooks still guard the member records, then unhook.
	 */
	WRITE_ONCE(pcshare_shutting_down, true);
	synchronize_rcu();
	pcshare_detach_all();
	pcshare_hooks_remove();
	pcshare_sysfs_exit();
	pcshare_file_ops_exit();
	pcshare_registry_exit();
	pr_info("unloaded; every shared file restored\n");
}

module_init(pcshare_init);
module_exit(pcshare_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pcshare developers");
MODULE_DESCRIPTION("One page cache for reflinked and deduplicated files");

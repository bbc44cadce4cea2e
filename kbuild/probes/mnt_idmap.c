// SPDX-License-Identifier: GPL-2.0
/* HAVE_MNT_IDMAP: mounts carry a struct mnt_idmap (6.3+), not a user_namespace */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/mount.h>

struct mnt_idmap *pcshare_probe(struct vfsmount *mnt);
struct mnt_idmap *pcshare_probe(struct vfsmount *mnt)
{
	return mnt_idmap(mnt);
}

MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/* HAVE_MNT_USER_NS: mounts carry a user_namespace (up to 6.2) */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/mount.h>

struct user_namespace *pcshare_probe(struct vfsmount *mnt);
struct user_namespace *pcshare_probe(struct vfsmount *mnt)
{
	return mnt_user_ns(mnt);
}

MODULE_LICENSE("GPL");

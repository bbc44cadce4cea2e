// SPDX-License-Identifier: GPL-2.0
/*
 * Visibility (DESIGN.md 2.9): counters in /sys/kernel/pcshare/, one value
 * per file, and a root-only list of groups in debugfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/pagemap.h>
#include "pcshare.h"

struct pcshare_stats pcshare_stats;
static struct kobject *pcshare_kobj;
static struct dentry *pcshare_debugfs;

/* Bytes cached in anchors, and bytes that sharing them saves. */
static void pcshare_cache_totals(u64 *anchor_bytes, u64 *saved_bytes)
{
	struct pcshare_group *g;

	*anchor_bytes = 0;
	*saved_bytes = 0;
	mutex_lock(&pcshare_registry_mutex);
	list_for_each_entry(g, &pcshare_groups, node) {
		u64 cached = (u64)pcshare_anchor_inode(g)->i_data.nrpages *
			     PAGE_SIZE;
		int active = atomic_read(&g->nr_active);

		*anchor_bytes += cached;
		/* Without us, each active member would hold its own copy. */
		if (active > 1)
			*saved_bytes += cached * (active - 1);
	}
	mutex_unlock(&pcshare_registry_mutex);
}

#define PCSHARE_COUNTER_ATTR(_name, _expr)				\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n", (long long)(_expr));		\
}									\
static struct kobj_attribute pcshare_attr_##_name = __ATTR_RO(_name)

PCSHARE_COUNTER_ATTR(groups, atomic64_read(&pcshare_stats.groups));
PCSHARE_COUNTER_ATTR(members, atomic64_read(&pcshare_stats.members));
PCSHARE_COUNTER_ATTR(active_members,
		     atomic64_read(&pcshare_stats.active_members));
PCSHARE_COUNTER_ATTR(wrapped_files,
		     atomic64_read(&pcshare_stats.wrapped_files));
PCSHARE_COUNTER_ATTR(registrations,
		     atomic64_read(&pcshare_stats.registrations));
PCSHARE_COUNTER_ATTR(activations, atomic64_read(&pcshare_stats.activations));
PCSHARE_COUNTER_ATTR(activation_refusals,
		     atomic64_read(&pcshare_stats.activation_refusals));
PCSHARE_COUNTER_ATTR(detaches, atomic64_read(&pcshare_stats.detaches));
PCSHARE_COUNTER_ATTR(anchors_created,
		     atomic64_read(&pcshare_stats.anchors_created));
PCSHARE_COUNTER_ATTR(anchor_failures,
		     atomic64_read(&pcshare_stats.anchor_failures));
#define PCSHARE_BREAK_ATTR(_name, _reason)				\
	PCSHARE_COUNTER_ATTR(breaks_##_name,				\
			     atomic64_read(&pcshare_stats.breaks[_reason]))

PCSHARE_BREAK_ATTR(write_open, PCSHARE_BREAK_WRITE_OPEN);
PCSHARE_BREAK_ATTR(truncate, PCSHARE_BREAK_TRUNCATE);
PCSHARE_BREAK_ATTR(setattr_size, PCSHARE_BREAK_SETATTR_SIZE);
PCSHARE_BREAK_ATTR(remap_dest, PCSHARE_BREAK_REMAP_DEST);
PCSHARE_BREAK_ATTR(changed, PCSHARE_BREAK_CHANGED);
PCSHARE_BREAK_ATTR(detach, PCSHARE_BREAK_DETACH);
PCSHARE_BREAK_ATTR(ioctl, PCSHARE_BREAK_IOCTL);

static ssize_t breaks_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	s64 total = 0;
	int i;

	for (i = 0; i < PCSHARE_BREAK_REASONS; i++)
		total += atomic64_read(&pcshare_stats.breaks[i]);
	return sysfs_emit(buf, "%lld\n", total);
}

static struct kobj_attribute pcshare_attr_breaks = __ATTR_RO(breaks);

static ssize_t anchor_bytes_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	u64 anchor, saved;

	pcshare_cache_totals(&anchor, &saved);
	return sysfs_emit(buf, "%llu\n", anchor);
}

static struct kobj_attribute pcshare_attr_anchor_bytes =
	__ATTR_RO(anchor_bytes);

static ssize_t bytes_saved_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	u64 anchor, saved;

	pcshare_cache_totals(&anchor, &saved);
	return sysfs_emit(buf, "%llu\n", saved);
}

static struct kobj_attribute pcshare_attr_bytes_saved = __ATTR_RO(bytes_saved);

static struct attribute *pcshare_attrs[] = {
	&pcshare_attr_groups.attr,
	&pcshare_attr_members.attr,
	&pcshare_attr_active_members.attr,
	&pcshare_attr_wrapped_files.attr,
	&pcshare_attr_registrations.attr,
	&pcshare_attr_activations.attr,
	&pcshare_attr_activation_refusals.attr,
	&pcshare_attr_detaches.attr,
	&pcshare_attr_anchors_created.attr,
	&pcshare_attr_anchor_failures.attr,
	&pcshare_attr_breaks.attr,
	&pcshare_attr_breaks_write_open.attr,
	&pcshare_attr_breaks_truncate.attr,
	&pcshare_attr_breaks_setattr_size.attr,
	&pcshare_attr_breaks_remap_dest.attr,
	&pcshare_attr_breaks_changed.attr,
	&pcshare_attr_breaks_detach.attr,
	&pcshare_attr_breaks_ioctl.attr,
	&pcshare_attr_anchor_bytes.attr,
	&pcshare_attr_bytes_saved.attr,
	NULL,
};

static const struct attribute_group pcshare_attr_group = {
	.attrs = pcshare_attrs,
};

static const char *pcshare_state_name(enum pcshare_state state)
{
	switch (state) {
	case PCSHARE_ACTIVE:
		return "active";
	case PCSHARE_REGISTERED:
		return "registered";
	default:
		return "broken";
	}
}

static int pcshare_groups_show(struct seq_file *s, void *unused)
{
	struct pcshare_group *g;
	struct pcshare_member *m;

	mutex_lock(&pcshare_registry_mutex);
	list_for_each_entry(g, &pcshare_groups, node) {
		struct inode *anchor = pcshare_anchor_inode(g);

		seq_printf(s, "group %llu dev %u:%u size %lld cached %llu members %d active %d anchor_ino %lu\n",
			   g->id, MAJOR(g->sb->s_dev), MINOR(g->sb->s_dev),
			   g->size, (u64)anchor->i_data.nrpages * PAGE_SIZE,
			   g->nr_members, atomic_read(&g->nr_active),
			   anchor->i_ino);
		list_for_each_entry(m, &g->members, group_node)
			seq_printf(s, "  member ino %lu %s\n", m->inode->i_ino,
				   pcshare_state_name(READ_ONCE(m->state)));
	}
	mutex_unlock(&pcshare_registry_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcshare_groups);

int pcshare_sysfs_init(void)
{
	int ret;

	pcshare_kobj = kobject_create_and_add("pcshare", kernel_kobj);
	if (!pcshare_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(pcshare_kobj, &pcshare_attr_group);
	if (ret)
		goto out_put_kobj;
	/* debugfs is optional: no error if it is absent. */
	pcshare_debugfs = debugfs_create_dir("pcshare", NULL);
	debugfs_create_file("groups", 0400, pcshare_debugfs, NULL,
			    &pcshare_groups_fops);
	return 0;

out_put_kobj:
	kobject_put(pcshare_kobj);
	return ret;
}

void pcshare_sysfs_exit(void)
{
	debugfs_remove_recursive(pcshare_debugfs);
	sysfs_remove_group(pcshare_kobj, &pcshare_attr_group);
	kobject_put(pcshare_kobj);
}

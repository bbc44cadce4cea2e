/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcshare internals shared between the module's files.
 *
 * Objects and their lifetimes:
 *
 *  - struct pcshare_member: one per inode that took part in a clone or a
 *    dedupe.  It lives in the member table (keyed by inode pointer) until
 *    the inode is evicted, its superblock is shut down, or the module exits.
 *    It never pins the inode.
 *  - struct pcshare_group: the members that were proven byte-identical, and
 *    the anchor, a hidden O_TMPFILE reflink of their content.  Members and
 *    wrapped files hold references to the group; the last reference drops
 *    the anchor.
 *  - a wrapped file: a read-only struct file of a member whose f_op is our
 *    copy of the filesystem's.  It holds a member reference and, when it
 *    was opened while active, a group reference that keeps its f_mapping
 *    (the anchor's i_data) alive.
 *
 * Lock order: inode->i_rwsem -> pcshare_registry_mutex -> member->lock.
 * member->lock is a spinlock and is never held across anything that sleeps.
 */
#ifndef PCSHARE_INTERNAL_H
#define PCSHARE_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rhashtable.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/atomic.h>

#include "pcshare_compat.h"

/* ---- parameters (main.c) ---- */
extern bool pcshare_enable;
bool pcshare_fs_allowed(struct super_block *sb);
extern char *pcshare_test_fail_symbol;
extern char *pcshare_test_skip_hook;
extern bool pcshare_test_ibt_enforced;
extern unsigned int pcshare_test_remap_delay_ms;
extern bool pcshare_shutting_down;

/* ---- symbol lookup (symbols.c) ---- */
unsigned long pcshare_lookup_name(const char *name);

/* ---- hooks (hooks.c) ---- */
int pcshare_hooks_install(void);
void pcshare_hooks_remove(void);
void pcshare_hook_enter(void);
void pcshare_hook_exit(void);
int pcshare_open_hook_ensure(struct inode *inode);

/* A filesystem's ->open(). */
typedef int (*pcshare_open_fn)(struct inode *inode, struct file *file);

/* Originals of the hooked functions, called from the wrappers. */
extern loff_t (*pcshare_orig_vfs_clone_file_range)(struct file *file_in,
						   loff_t pos_in,
						   struct file *file_out,
						   loff_t pos_out, loff_t len,
						   unsigned int remap_flags);
extern loff_t (*pcshare_orig_vfs_dedupe_file_range_one)(struct file *src,
							loff_t src_pos,
							struct file *dst,
							loff_t dst_pos,
							loff_t len,
							unsigned int flags);
extern long (*pcshare_orig_vfs_truncate)(const struct path *path,
					 loff_t length);
extern int (*pcshare_orig_notify_change)(pcshare_idmap *idmap,
					 struct dentry *dentry,
					 struct iattr *attr,
					 struct inode **delegated_inode);
extern void (*pcshare_orig_clear_inode)(struct inode *inode);
extern void (*pcshare_orig_generic_shutdown_super)(struct super_block *sb);

/* The wrappers, each living with the concern it serves. */
int pcshare_fs_open(pcshare_open_fn orig, struct inode *inode,
		    struct file *file);
loff_t pcshare_vfs_clone_file_range(struct file *file_in, loff_t pos_in,
				    struct file *file_out, loff_t pos_out,
				    loff_t len, unsigned int remap_flags);
loff_t pcshare_vfs_dedupe_file_range_one(struct file *src, loff_t src_pos,
					 struct file *dst, loff_t dst_pos,
					 loff_t len, unsigned int flags);
long pcshare_vfs_truncate(const struct path *path, loff_t length);
int pcshare_notify_change(pcshare_idmap *idmap, struct dentry *dentry,
			  struct iattr *attr, struct inode **delegated_inode);
void pcshare_clear_inode(struct inode *inode);
void pcshare_generic_shutdown_super(struct super_block *sb);

/* ---- registry (registry.c) ---- */

enum pcshare_state {
	PCSHARE_NONE,		/* known, in no group */
	PCSHARE_REGISTERED,	/* in a group, not redirected */
	PCSHARE_ACTIVE,		/* i_mapping points at the anchor */
};

enum pcshare_break_reason {
	PCSHARE_BREAK_WRITE_OPEN,
	PCSHARE_BREAK_TRUNCATE,
	PCSHARE_BREAK_SETATTR_SIZE,
	PCSHARE_BREAK_REMAP_DEST,
	PCSHARE_BREAK_CHANGED,
	PCSHARE_BREAK_DETACH,
	PCSHARE_BREAK_IOCTL,
	PCSHARE_BREAK_REASONS
};

/* What the file looked like when it was proven identical to its group. */
struct pcshare_snapshot {
	u64 iversion;
	struct timespec64 ctime;
	struct timespec64 mtime;
	loff_t size;
};

/* Whole-file dedupe coverage collected over several FIDEDUPERANGE calls. */
#define PCSHARE_COVER_MAX 16
struct pcshare_cover {
	struct pcshare_member *src;	/* holds a reference */
	u64 src_seq;
	u64 dst_seq;
	struct pcshare_snapshot src_snap;
	struct pcshare_snapshot dst_snap;
	unsigned int nr;
	struct {
		loff_t start;
		loff_t end;
	} range[PCSHARE_COVER_MAX];
};

struct pcshare_group_release;

struct pcshare_group {
	struct kref ref;
	u64 id;
	spinlock_t lock;		/* anchor_write_denied */
	struct pcshare_group_release *release;
	struct super_block *sb;
	struct dentry *anchor;		/* pins the anchor inode */
	loff_t size;
	bool anchor_write_denied;
	struct list_head members;	/* under pcshare_registry_mutex */
	struct list_head node;		/* pcshare_groups */
	int nr_members;			/* under pcshare_registry_mutex */
	atomic_t nr_active;
	bool dead;			/* unlinked from pcshare_groups */
};

struct pcshare_member {
	struct rhash_head hash;
	struct rcu_head rcu;
	struct inode *inode;		/* key; not pinned */
	struct kref ref;
	spinlock_t lock;		/* state, group, snap, the sticky flags */
	enum pcshare_state state;
	struct pcshare_group *group;	/* holds a reference when set */
	struct list_head group_node;
	struct list_head all_node;	/* pcshare_members */
	struct pcshare_snapshot snap;
	/* Bumped by anything that may change the content; see remap.c. */
	atomic64_t seq;
	atomic_t nr_wrapped;
	struct list_head files;		/* wrapped files, under lock */
	bool own_vmas;			/* sticky: mapped through i_data */
	bool ioctl_rewrite;		/* sticky: see pcshare_break_for_ioctl */
	bool dead;			/* removed from the table */
	struct pcshare_cover *cover;	/* under pcshare_registry_mutex */
};

extern struct mutex pcshare_registry_mutex;
extern struct list_head pcshare_groups;

int pcshare_registry_init(void);
void pcshare_registry_exit(void);
struct pcshare_member *pcshare_member_lookup(struct inode *inode);
struct pcshare_member *pcshare_member_get_or_create(struct inode *inode);
void pcshare_member_put(struct pcshare_member *m);
void pcshare_group_put(struct pcshare_group *g);
void pcshare_snapshot_take(struct inode *inode, struct pcshare_snapshot *s);
bool pcshare_snapshot_same(struct inode *inode,
			   const struct pcshare_snapshot *s);
int pcshare_register_pair(struct file *src_file, struct pcshare_member *src,
			  const struct pcshare_snapshot *src_snap, u64 src_seq,
			  struct pcshare_member *dst,
			  const struct pcshare_snapshot *dst_snap, u64 dst_seq);
void pcshare_member_leave_group(struct pcshare_member *m);
void pcshare_member_forget(struct pcshare_member *m);
void pcshare_cover_drop(struct pcshare_member *m);
void pcshare_detach_sb(struct super_block *sb);
void pcshare_detach_all(void);
void pcshare_groups_flush(void);
int pcshare_srcu_open_enter(void);
void pcshare_srcu_open_exit(int idx);

/* ---- anchor (anchor.c) ---- */
struct dentry *pcshare_anchor_create(struct file *src, loff_t size);
void pcshare_anchor_release(struct pcshare_group *g);
bool pcshare_anchor_deny_write(struct pcshare_group *g);
struct file *pcshare_anchor_open(struct pcshare_group *g,
				 struct vfsmount *mnt);

static inline struct inode *pcshare_anchor_inode(struct pcshare_group *g)
{
	return d_inode(g->anchor);
}

/* ---- break and activate policy (policy.c) ---- */
void pcshare_break(struct pcshare_member *m, enum pcshare_break_reason why);
void pcshare_break_locked(struct pcshare_member *m,
			  enum pcshare_break_reason why);
void pcshare_break_for_write(struct pcshare_member *m, bool truncating);
void pcshare_break_for_ioctl(struct pcshare_member *m);
bool pcshare_ioctl_rewrites(unsigned int cmd);
bool pcshare_try_activate(struct pcshare_member *m, struct file *file);
void pcshare_deactivate_unused(struct pcshare_member *m);

/* ---- file operations (file_ops.c) ---- */
int pcshare_file_ops_init(void);
void pcshare_file_ops_exit(void);
struct pcshare_file;
struct pcshare_file *pcshare_file_prepare(void);
void pcshare_file_settle(struct file *file);
void pcshare_file_set_anchor(struct file *file, struct pcshare_member *m);
void pcshare_files_detach(struct pcshare_member *m);

/* ---- counters and listing (sysfs.c) ---- */
struct pcshare_stats {
	atomic64_t groups;
	atomic64_t members;
	atomic64_t active_members;
	atomic64_t wrapped_files;
	atomic64_t registrations;
	atomic64_t activations;
	atomic64_t activation_refusals;
	atomic64_t breaks[PCSHARE_BREAK_REASONS];
	atomic64_t detaches;
	atomic64_t anchors_created;
	atomic64_t anchor_failures;
};

extern struct pcshare_stats pcshare_stats;
int pcshare_sysfs_init(void);
void pcshare_sysfs_exit(void);

#endif /* PCSHARE_INTERNAL_H */

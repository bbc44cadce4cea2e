# shellcheck shell=bash
# The scratch filesystem: FSTYP (xfs or btrfs) on SCRATCH_DEV at SCRATCH_MNT.
# The runner makes and mounts it before each test that lists filesystems in
# "# fs:", and unmounts it afterwards. Tests may remake or remount it.
#
# MKFS_OPTIONS and MOUNT_OPTIONS (environment) add options, as in fstests.

# scratch_mkfs [MKFS-OPTION...]: make a fresh FSTYP filesystem on SCRATCH_DEV
# (with reflink on XFS).
scratch_mkfs() {
	local -a args
	# shellcheck disable=SC2206 # MKFS_OPTIONS is a word list on purpose
	args=(${MKFS_OPTIONS:-} "$@")
	case ${FSTYP:-} in
	xfs) mkfs.xfs -f -q -m reflink=1 "${args[@]}" "$SCRATCH_DEV" ;;
	btrfs) mkfs.btrfs -f -q "${args[@]}" "$SCRATCH_DEV" >/dev/null ;;
	*)
		echo "scratch_mkfs: unsupported FSTYP '${FSTYP:-}'" >&2
		return 1
		;;
	esac
}

# scratch_mount [MOUNT-OPTIONS]: mount SCRATCH_DEV at SCRATCH_MNT.
scratch_mount() {
	local opts=${1:-${MOUNT_OPTIONS:-}}
	mkdir -p "$SCRATCH_MNT"
	mount -t "$FSTYP" ${opts:+-o "$opts"} "$SCRATCH_DEV" "$SCRATCH_MNT"
}

# scratch_umount: unmount SCRATCH_MNT if it is mounted.
scratch_umount() {
	if mountpoint -q "$SCRATCH_MNT"; then
		umount "$SCRATCH_MNT"
	fi
}

# scratch_cycle_mount: unmount and mount again (drops all cached state).
scratch_cycle_mount() {
	scratch_umount && scratch_mount "$@"
}

# scratch_check: run the filesystem checker on the unmounted scratch device.
scratch_check() {
	case $FSTYP in
	xfs) xfs_repair -n "$SCRATCH_DEV" ;;
	btrfs) btrfs check --readonly "$SCRATCH_DEV" ;;
	esac
}

# drop_caches [1|2|3]: sync, then drop the page cache (1), slab objects such
# as inodes and dentries (2) or both (3, the default).
drop_caches() {
	sync
	echo "${1:-3}" >/proc/sys/vm/drop_caches
}

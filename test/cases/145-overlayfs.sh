#!/bin/bash
# proves: a shared file read through overlayfs (a container's lower layer) is a member like any other: rmmod is refused while the overlay holds it open, and after the real file is broken and rewritten, an fd opened through the overlay before the break reads the new bytes, as without pcshare.
# groups: quick clone lifecycle
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"
size=$((1 << 20))
d=$SCRATCH_MNT

# run SIDE: print the sha256 the held overlay fd reads after the break.
run() {
	local side=$1 held
	rm -rf "${d:?}/$side"
	mkdir -p "$d/$side"/{lower,upper,work,merged}
	make_file "$d/$side/lower/src" $size 145
	reflink_copies "$d/$side/lower/src" 2 "$d/$side/lower/copy"
	cat "$d/$side/lower/src" "$d/$side/lower"/copy.* >/dev/null
	mount -t overlay overlay -o "lowerdir=$d/$side/lower,upperdir=$d/$side/upper,workdir=$d/$side/work" \
		"$d/$side/merged"
	on_exit umount "$d/$side/merged"
	holder_start "$side" "$d/$side/merged/copy.1"
	if [[ $side == with ]]; then
		assert_ge "$(pcshare_counter active_members)" 2 "active members"
		if rmmod pcshare 2>"$RESULTS_DIR/rmmod.err"; then
			fail "rmmod succeeded while overlayfs held a shared file open"
		fi
		log "rmmod refused while the overlay holds the file: $(cat "$RESULTS_DIR/rmmod.err")"
	fi
	# The real file is written behind the overlay (a break of the member).
	xfs_io -c "pwrite -q -S 0x77 0 65536" -c fsync "$d/$side/lower/copy.1"
	held=$(holder_check "$side")
	holder_stop "$side"
	umount "$d/$side/merged"
	assert_eq "fd=$(sha256_of "$d/$side/lower/copy.1")" "${held%% *}" \
		"$side: the overlay fd opened before the write"
	assert_eq "$(sha256_of "$d/$side/lower/src")" "$(sha256_of "$d/$side/lower/copy.2")" \
		"$side: the other copy"
}

run without
module_load
run with
assert module_unload 60

#!/bin/bash
# proves: a forced VM reset (sysrq b: no sync, no unmount) while groups are live and active, with a member just broken and written, leaves an image that mounts (XFS replays its log), that xfs_repair -n or btrfs check --readonly accepts after the mount, where every fsynced file holds its fsynced bytes and every 4 KiB block of a file written without fsync holds either its old or its new bytes, exactly as the same run without pcshare (first reset).
# groups: lifecycle reset
# fs: xfs btrfs
# boots: 3
# timeout: 900
. "$REPO/test/lib/common.sh"

require_cmd xfs_io
size=$((8 << 20))
d=$SCRATCH_MNT/t

# build SIDE: files, groups and writes for one side (plain or shared), then
# the expectations in $RESULTS_DIR/expect-SIDE.
build() {
	local side=$1 f
	mkdir -p "$d"
	make_file "$d/src" $size 41
	make_file "$d/other" $((64 << 10)) 42
	reflink_copies "$d/src" 4 "$d/copy"
	cp --reflink=never "$d/src" "$d/src.orig"
	xfs_io -r -c "dedupe $d/src 0 0 $size" "$d/copy.4" >/dev/null
	# Durable from here: the files and the clones (read-only fds: a write
	# open would break a member).
	for f in "$d/src" "$d/src.orig" "$d/other" "$d"/copy.*; do
		xfs_io -r -c fsync "$f"
	done
	xfs_io -r -c fsync "$d"
	cat "$d/src" "$d"/copy.* >/dev/null
	if [[ $side == shared ]]; then
		log "before the reset: groups $(pcshare_counter groups), active $(pcshare_counter active_members)"
		assert_eq 5 "$(pcshare_counter active_members)" "active members before the writes"
	fi
	# A break written and fsynced, a break written and not, a clone into a
	# member, fsynced, and the rest left shared, being read at the reset.
	xfs_io -c "pwrite -q -S 0x5a 4096 65536" -c fsync "$d/copy.1"
	xfs_io -c "pwrite -q -S 0x6b 0 $((1 << 20))" "$d/copy.2"
	xfs_io -c "reflink $d/other 0 131072 65536" -c fsync "$d/copy.3"
	if [[ $side == shared ]]; then
		assert_eq 2 "$(pcshare_counter active_members)" "active members after the writes"
	fi
	: >"$RESULTS_DIR/expect-$side"
	for f in "$d/src" "$d/src.orig" "$d/copy.1" "$d/copy.3" "$d/copy.4" "$d/other"; do
		echo "$(sha256_of "$f") $f" >>"$RESULTS_DIR/expect-$side"
	done
	# The directory's entries, not copy.2's data.
	xfs_io -r -c fsync "$d"
	xfs_io -c "pwrite -q -S 0x7c $((2 << 20)) 65536" "$d/copy.2"
	(while :; do cat "$d/src" "$d/copy.4" >/dev/null; done) &
	sleep 1
}

# verify SIDE: after the reset: mount, check the bytes, unmount, fsck.
# Writes "mount=RC bytes=ok|bad fsck=RC" to $RESULTS_DIR/verdict-SIDE.
verify() {
	local side=$1 mrc=0 frc=0 bytes=ok want f
	scratch_mount || mrc=$?
	if ((mrc == 0)); then
		while read -r want f; do
			[[ $(sha256_of "$f") == "$want" ]] || {
				log "$side: $f does not hold its fsynced bytes"
				bytes=bad
			}
		done <"$RESULTS_DIR/expect-$side"
		# copy.2 was written without fsync: every block is its old or new bytes.
		/usr/bin/python3 - "$d/src.orig" "$d/copy.2" <<'EOF' || bytes=bad
import sys
old = open(sys.argv[1], "rb").read()
new = open(sys.argv[2], "rb").read()
bad = 0
for off in range(0, max(len(old), len(new)), 4096):
    b = new[off:off + 4096]
    if b == old[off:off + 4096] or b in (b"\x6b" * len(b), b"\x7c" * len(b)):
        continue
    bad += 1
    print(f"copy.2 block at {off} is neither its old nor its new bytes", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
		scratch_umount || mrc=$?
	fi
	scratch_check >"$RESULTS_DIR/fsck-$side.log" 2>&1 || frc=$?
	log "$side after the reset: mount $mrc, bytes $bytes, fsck $frc"
	((frc == 0)) || sed 's/^/  fsck: /' "$RESULTS_DIR/fsck-$side.log"
	echo "mount=$mrc bytes=$bytes fsck=$frc" >"$RESULTS_DIR/verdict-$side"
}

case $CASE_BOOT in
1)
	require_reflink
	log "boot 1: without pcshare, then a forced reset"
	build plain
	vm_reset
	;;
2)
	verify plain
	log "boot 2: with pcshare, then a forced reset with live groups"
	{ scratch_mkfs && scratch_mount; } || fail "cannot remake the scratch fs"
	module_load
	build shared
	vm_reset
	;;
3)
	verify shared
	control=$(<"$RESULTS_DIR/verdict-plain")
	with=$(<"$RESULTS_DIR/verdict-shared")
	assert_eq "mount=0 bytes=ok fsck=0" "$control" "after a reset without pcshare"
	assert_eq "$control" "$with" "after a reset with live groups, against the same run without pcshare"
	;;
esac

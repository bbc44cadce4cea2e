#!/bin/bash
# proves: live groups survive nothing they should not: umount and remount, drop_caches 2 and 3 in a loop while reading, and rmmod/insmod all leave every file with its own bytes and a clean dmesg; rmmod is refused while a file opened through pcshare is open.
# groups: quick lifecycle
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
size=$((8 << 20))
d=$SCRATCH_MNT
make_file "$d/src" $size 21
want=$(sha256_of "$d/src")

check_all() {
	local f
	for f in "$d/src" "$d"/copy.*; do
		assert_eq "$want" "$(sha256_of "$f")" "$1: content of $f"
	done
}

module_load
reflink_copies "$d/src" 4 "$d/copy"
check_all "before"
assert_eq 5 "$(pcshare_counter active_members)" "active members"

# Unmount with live groups, then mount again.
scratch_umount
scratch_mount
assert_eq 0 "$(pcshare_counter members)" "members after umount"
assert_eq 0 "$(pcshare_counter groups)" "groups after umount"
check_all "after remount"

# Eviction under drop_caches while readers run.
reflink_copies "$d/src" 4 "$d/copy"
stop=$RESULTS_DIR/stop
rm -f "$stop"
(
	while [[ ! -e $stop ]]; do
		for f in "$d/src" "$d"/copy.*; do
			[[ $(sha256_of "$f") == "$want" ]] || echo "$f" >>"$RESULTS_DIR/bad"
		done
	done
) &
reader=$!
on_exit kill "$reader"
for i in $(seq 10); do
	echo $((2 + i % 2)) >/proc/sys/vm/drop_caches
	sleep 0.5
done
touch "$stop"
wait "$reader"
[[ ! -s $RESULTS_DIR/bad ]] || fail "wrong bytes while evicting: $(sort -u "$RESULTS_DIR/bad")"
check_all "after drop_caches"

# rmmod is refused while a file opened through pcshare is open.
reflink_copies "$d/src" 2 "$d/again"
exec {fd}<"$d/again.1"
assert_ge "$(pcshare_counter wrapped_files)" 1 "wrapped files"
if rmmod pcshare 2>"$RESULTS_DIR/rmmod.err"; then
	fail "rmmod succeeded while a shared file was open"
fi
log "rmmod refused: $(cat "$RESULTS_DIR/rmmod.err")"
exec {fd}<&-

# rmmod with live groups restores every inode; insmod again works.
assert_ge "$(pcshare_counter groups)" 1 "groups before rmmod"
module_unload
check_all "after rmmod"
cost=$(read_cost "$d/src" "$d"/copy.*)
assert_near $((5 * size)) "$cost" 10 "page cache after rmmod (nothing shared)"
module_load
reflink_copies "$d/src" 4 "$d/copy"
cost=$(read_cost "$d/src" "$d"/copy.*)
assert_near $size "$cost" 15 "page cache after insmod and new clones"
check_all "after insmod"

#!/bin/bash
# proves: a write path that pcshare does not hook fails safe: with the truncate(2) hook left out on purpose (test_skip_hook=vfs_truncate), truncating an active member fails with ETXTBSY and no member ever shows a wrong byte; with the size-change hook left out (notify_change), the other hooks still break first.
# groups: quick break
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
size=$((4 << 20))
d=$SCRATCH_MNT
make_file "$d/src" $size 31
want=$(sha256_of "$d/src")

for hook in vfs_truncate notify_change; do
	module_load test_skip_hook=$hook
	rm -f "$d"/copy.*
	reflink_copies "$d/src" 3 "$d/copy"
	cat "$d/src" "$d"/copy.* >/dev/null
	assert_eq 4 "$(pcshare_counter active_members)" "$hook: active members"

	rc=0
	err=$(/usr/bin/python3 -c 'import os, sys; os.truncate(sys.argv[1], 4096)' "$d/copy.1" 2>&1) || rc=$?
	log "$hook unhooked: truncate(2) of an active member: rc=$rc $err"
	if [[ $hook == vfs_truncate ]]; then
		((rc != 0)) || fail "$hook unhooked: truncate(2) of an active member succeeded"
		[[ $err == *"Text file busy"* ]] || fail "$hook unhooked: expected ETXTBSY, got: $err"
		assert_eq "$want" "$(sha256_of "$d/copy.1")" "$hook unhooked: content of copy.1"
	else
		((rc == 0)) || fail "$hook unhooked: truncate(2) failed: $err"
		assert_eq 4096 "$(stat -c %s "$d/copy.1")" "$hook unhooked: size of copy.1"
	fi
	for f in "$d/src" "$d"/copy.2 "$d"/copy.3; do
		assert_eq "$want" "$(sha256_of "$f")" "$hook unhooked: content of $f"
	done
	module_unload
done

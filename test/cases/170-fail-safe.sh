#!/bin/bash
# proves: a write path that pcshare does not hook fails safe: with the open hook or the truncate hook left out on purpose (test_skip_hook), a writer of an active member gets ETXTBSY and no member ever shows a wrong byte.
# groups: quick break
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
size=$((4 << 20))
d=$SCRATCH_MNT
make_file "$d/src" $size 31
want=$(sha256_of "$d/src")

for hook in do_dentry_open vfs_truncate; do
	module_load test_skip_hook=$hook
	rm -f "$d"/copy.*
	reflink_copies "$d/src" 3 "$d/copy"
	cat "$d/src" "$d"/copy.* >/dev/null
	assert_eq 4 "$(pcshare_counter active_members)" "$hook: active members"

	if [[ $hook == do_dentry_open ]]; then
		if err=$(xfs_io -c "pwrite -q -S 0x77 0 4096" "$d/copy.1" 2>&1); then
			fail "$hook unhooked: a write to an active member succeeded"
		fi
	else
		if err=$(/usr/bin/python3 -c 'import os, sys; os.truncate(sys.argv[1], 4096)' "$d/copy.1" 2>&1); then
			fail "$hook unhooked: truncate(2) of an active member succeeded"
		fi
	fi
	log "$hook unhooked: the writer got: $err"
	[[ $err == *"Text file busy"* ]] || fail "$hook unhooked: expected ETXTBSY, got: $err"
	for f in "$d/src" "$d"/copy.*; do
		assert_eq "$want" "$(sha256_of "$f")" "$hook unhooked: content of $f"
	done
	module_unload
done

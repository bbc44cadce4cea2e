#!/bin/bash
# proves: every size change is guarded twice: with the truncate(2) hook (test_skip_hook=vfs_truncate) or the size-change hook (notify_change) left out on purpose, truncate(2) and open(O_RDONLY|O_TRUNC) of an active member still break it first, return what they return without pcshare, and no other member ever shows a wrong byte.
# groups: quick break
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
size=$((4 << 20))
d=$SCRATCH_MNT
make_file "$d/src" $size 31
want=$(sha256_of "$d/src")
want_head=$(head -c 4096 "$d/src" | sha256sum | cut -d' ' -f1)

# truncate_both FILE1 FILE2: truncate(2) FILE1 to 4096 bytes and open FILE2
# O_RDONLY|O_TRUNC; print "rc size1 size2".
truncate_both() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys
rc = 0
try:
    os.truncate(sys.argv[1], 4096)
    os.close(os.open(sys.argv[2], os.O_RDONLY | os.O_TRUNC))
except OSError as e:
    print("error:", e, file=sys.stderr)
    rc = e.errno
print(rc, os.stat(sys.argv[1]).st_size, os.stat(sys.argv[2]).st_size)
EOF
}

# Control: the same calls without the module.
reflink_copies "$d/src" 3 "$d/plain"
cat "$d/src" "$d"/plain.* >/dev/null
control=$(truncate_both "$d/plain.1" "$d/plain.2")
log "without pcshare: rc, sizes: $control"
assert_eq "0 4096 0" "$control" "truncate(2) and O_TRUNC without pcshare"
rm -f "$d"/plain.*

for hook in vfs_truncate notify_change; do
	module_load test_skip_hook=$hook
	rm -f "$d"/copy.*
	reflink_copies "$d/src" 3 "$d/copy"
	cat "$d/src" "$d"/copy.* >/dev/null
	assert_eq 4 "$(pcshare_counter active_members)" "$hook unhooked: active members"

	got=$(truncate_both "$d/copy.1" "$d/copy.2")
	log "$hook unhooked: rc, sizes: $got"
	assert_eq "$control" "$got" "$hook unhooked: truncate(2) and O_TRUNC of active members"
	assert_eq 2 "$(pcshare_counter active_members)" "$hook unhooked: active members after the truncations"
	assert_eq "$want_head" "$(sha256_of "$d/copy.1")" "$hook unhooked: content of the truncated copy.1"
	for f in "$d/src" "$d"/copy.3; do
		assert_eq "$want" "$(sha256_of "$f")" "$hook unhooked: content of $f"
	done
	module_unload
done

#!/bin/bash
# proves: N copies made with cp --reflink=always cost the page cache of N files without pcshare and of one file with it, and every copy reads back its own bytes.
# groups: quick clone memory
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
n=8
size=$((16 << 20))
make_file "$SCRATCH_MNT/src" $size 7
want=$(sha256_of "$SCRATCH_MNT/src")

# Control: the same run without the module.
reflink_copies "$SCRATCH_MNT/src" $n "$SCRATCH_MNT/plain"
without=$(read_cost "$SCRATCH_MNT"/plain.*)
log "without pcshare: $n copies cost $without bytes"
assert_near $((n * size)) "$without" 10 "page cache without pcshare"
rm -f "$SCRATCH_MNT"/plain.*

module_load
reflink_copies "$SCRATCH_MNT/src" $n "$SCRATCH_MNT/copy"
with=$(read_cost "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.*)
log "with pcshare: src and $n copies cost $with bytes"
log "groups: $(pcshare_counter groups), active: $(pcshare_counter active_members), refusals: $(pcshare_counter activation_refusals)"
pcshare_groups | head -20
assert_near $size "$with" 15 "page cache with pcshare"
assert_eq 1 "$(pcshare_counter groups)" "groups"
assert_eq $((n + 1)) "$(pcshare_counter active_members)" "active members"

for f in "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.*; do
	assert_eq "$want" "$(sha256_of "$f")" "sha256 of $f"
done
log "saved $(pcshare_counter bytes_saved) bytes in $(pcshare_counter anchor_bytes) of anchors"

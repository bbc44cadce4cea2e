#!/bin/bash
# proves: every read path (read, pread, readv, preadv2, splice, sendfile, copy_file_range, mmap shared and private, O_DIRECT, readahead, fadvise, io_uring) returns each member's own bytes, with pcshare as without it.
# groups: quick clone read
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
# Not a multiple of the page size: the last page is partial.
size=$((3 * 1024 * 1024 + 12345))
make_file "$SCRATCH_MNT/src" $size 11
ref=$RESULTS_DIR/reference
cp "$SCRATCH_MNT/src" "$ref"

# Control: without the module, on fresh clones.
reflink_copies "$SCRATCH_MNT/src" 2 "$SCRATCH_MNT/plain"
for f in "$SCRATCH_MNT/src" "$SCRATCH_MNT"/plain.*; do
	"$TEST_BIN/readpaths" "$f" "$ref" >"$RESULTS_DIR/control.log" ||
		fail "without pcshare, $f: $(grep FAIL "$RESULTS_DIR/control.log" || true)"
done

module_load
reflink_copies "$SCRATCH_MNT/src" 3 "$SCRATCH_MNT/copy"
drop_caches 1
for f in "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.*; do
	cat "$f" >/dev/null
done
assert_eq 4 "$(pcshare_counter active_members)" "active members"
for f in "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.*; do
	log "reading $f through every path"
	if ! "$TEST_BIN/readpaths" "$f" "$ref" >"$RESULTS_DIR/with.log"; then
		cat "$RESULTS_DIR/with.log"
		fail "with pcshare, $f read wrong bytes"
	fi
done
assert_eq 4 "$(pcshare_counter active_members)" "active members after reading"
cost=$(read_cost "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.*)
log "four members cost $cost bytes of page cache"
assert_le "$cost" $((size * 13 / 10)) "page cache of four members"

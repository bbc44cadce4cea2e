#!/bin/bash
# proves: with the module loaded, pcshare dedupe registers every duplicate (also files reflinked before the module was loaded, and files over 1 GiB deduped in several calls), reading every file afterwards costs the page cache of the unique data only, status and stat describe the groups, a second run has nothing to do, and after inode eviction a run registers the pairs again.
# groups: tool dedupe module
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd jq xfs_io
require_reflink
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"
MiB=1048576

t=$SCRATCH_MNT/tree
mkdir -p "$t"
copies() { # copies SRC N: SRC.1 .. SRC.N, real copies
	local i
	for ((i = 1; i <= $2; i++)); do cp --reflink=never --sparse=always "$1" "$1.$i"; done
}
make_file "$t/a" 8M 1 && copies "$t/a" 5
make_file "$t/b" 16M 2 && copies "$t/b" 2
# c: reflinked while the module is not loaded; it has never seen this pair
make_file "$t/c" 8M 3 && reflink_copies "$t/c" 3
# d: over 1 GiB logical: the dedupe takes two calls
truncate -s $((1024 * MiB + 65536)) "$t/d"
"$TEST_BIN/mkdata" - 1M 4 | dd of="$t/d" bs=1M conv=notrunc status=none
"$TEST_BIN/mkdata" - 1M 5 | dd of="$t/d" bs=1M seek=700 conv=notrunc status=none
"$TEST_BIN/mkdata" - 64K 6 | dd of="$t/d" bs=64K seek=16384 conv=notrunc status=none
copies "$t/d" 1
make_file "$t/u1" 8M 7 && make_file "$t/u2" 16M 8
sync

# fingerprints: SHA-256 of every file (of each data range, for the big sparse
# ones: see tools/bench/fingerprint).
fingerprints() {
	"$REPO/tools/bench/fingerprint" "$t"
}
fingerprints >"$RESULTS_DIR/sums"
dsize=$((1024 * MiB + 65536))
total=$((6 * 8 * MiB + 3 * 16 * MiB + 4 * 8 * MiB + 2 * dsize + 24 * MiB))
unique=$((8 * MiB + 16 * MiB + 8 * MiB + dsize + 24 * MiB))

module_load || fail "insmod failed"
"$pcshare" status

log "dedupe"
rc=0
"$pcshare" dedupe --json "$t" >"$RESULTS_DIR/run.json" || rc=$?
assert_eq 0 "$rc" "exit status"
j() { jq -r "$1" "$RESULTS_DIR/run.json"; }
assert_eq true "$(j .module_loaded)" "module_loaded"
assert_eq 4 "$(j .duplicate_groups)" "duplicate_groups"
assert_eq 8 "$(j .files_deduped)" "files_deduped"
assert_eq 3 "$(j .files_registered)" "files_registered (pre-existing reflinks)"
assert_eq $((total - unique)) "$(j .page_cache_shareable)" "page_cache_shareable"
assert_eq $((5 * 8 * MiB + 2 * 16 * MiB + 2 * MiB + 65536)) "$(j .bytes_deduped)" "bytes_deduped"
assert_eq 0 "$(j .errors.total)" "errors"
fingerprints | diff "$RESULTS_DIR/sums" - || fail "content changed"

log "status"
"$pcshare" status -v | tee "$RESULTS_DIR/status.txt"
st=$("$pcshare" status --json)
assert_eq 4 "$(jq .counters.groups <<<"$st")" "module groups"
assert_eq 15 "$(jq .counters.members <<<"$st")" "module members"
assert_eq 4 "$(jq '.groups | length' <<<"$st")" "groups listed"
grep -q "^  4 groups, 15 files" "$RESULTS_DIR/status.txt" || fail "status does not say 4 groups, 15 files"
"$pcshare" stat "$t/a" "$t/a.1" "$t/u1" | tee "$RESULTS_DIR/stat.txt"
grep -q "^$t/a: .*group [0-9]* .*with 5 other files: .*$t/a.1 " "$RESULTS_DIR/stat.txt" || fail "stat: a's group"
grep -q "^$t/u1: page cache not shared (in no group)" "$RESULTS_DIR/stat.txt" || fail "stat: u1"

# page_cache: Cached: of /proc/meminfo, in bytes (bash arithmetic: mawk
# prints large numbers as 2.3e+09).
page_cache() {
	local k v
	while read -r k v _; do
		[[ $k == Cached: ]] && echo $((v * 1024)) && return
	done </proc/meminfo
}

# read_all WHAT: read every file with a cold page cache (inodes kept: an
# evicted member leaves its group), and check that it cost the page cache of
# the unique data only.
read_all() {
	local before after cost
	drop_caches 1
	before=$(page_cache)
	cat "$t"/* >/dev/null
	after=$(page_cache)
	cost=$((after - before))
	log "$1: page cache for reading $total bytes: $cost (unique data: $unique)"
	assert_le "$cost" $((unique + unique / 20 + 16 * MiB)) "$1: page cache cost of reading everything"
}

log "reading every file"
read_all "after the dedupe"
fingerprints | diff "$RESULTS_DIR/sums" - || fail "content changed (read through the module)"
"$pcshare" status

log "second run"
rc=0
"$pcshare" dedupe --json "$t" >"$RESULTS_DIR/again.json" || rc=$?
assert_eq 0 "$rc" "second run: exit status"
assert_eq 0 "$(jq .files_deduped "$RESULTS_DIR/again.json")" "second run: files_deduped"
assert_eq 0 "$(jq .files_registered "$RESULTS_DIR/again.json")" "second run: files_registered"
assert_eq 11 "$(jq .skipped.already_shared "$RESULTS_DIR/again.json")" "second run: already_shared"

log "after the inodes were evicted, a run registers the pairs again"
drop_caches 3
"$pcshare" status
rc=0
"$pcshare" dedupe --json "$t" >"$RESULTS_DIR/third.json" || rc=$?
assert_eq 0 "$rc" "third run: exit status"
registered=$(jq .files_registered "$RESULTS_DIR/third.json")
assert_eq 0 "$(jq .files_deduped "$RESULTS_DIR/third.json")" "third run: files_deduped"
assert_eq 11 "$((registered + $(jq .skipped.already_shared "$RESULTS_DIR/third.json")))" \
	"third run: registered + already shared"
log "third run: $registered files registered again"
read_all "after registering again"

log "without debugfs, status says how to mount it"
umount /sys/kernel/debug
on_exit mount -t debugfs debugfs /sys/kernel/debug
out=$("$pcshare" status)
grep -qF "mount -t debugfs none /sys/kernel/debug" <<<"$out" || fail "status without debugfs: $out"

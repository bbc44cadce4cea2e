#!/bin/bash
# proves: pcshare dedupe shares the extents of exact duplicates (groups of 2 to 200, sparse, over 1 GiB, same bytes with different holes), leaves near duplicates, hardlinks, symlinks, fifos and empty files alone, changes no file's content, mtime or owner, reports counts in its summary and JSON that match the tree, and does nothing more on a second run.
# groups: tool dedupe
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd jq filefrag xfs_io fincore
require_reflink
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

t=$SCRATCH_MNT/tree
mkdir -p "$t"/{a,b,c,near,hl,misc}

# data_at FILE OFFSET_MIB SIZE SEED: write SIZE of seeded bytes at OFFSET_MIB.
data_at() {
	"$TEST_BIN/mkdata" - "$3" "$4" | dd of="$1" bs=1M seek="$2" conv=notrunc status=none
}

# copies SRC DIR N: N copies of SRC in DIR, real copies (no reflink).
copies() {
	local i
	for ((i = 1; i <= $3; i++)); do
		cp --reflink=never --sparse=always "$1" "$2/$(basename "$1").$i"
	done
}

log "building the tree"
# exact duplicates; each line: group, destinations, bytes of their blocks
make_file "$t/a/g2" $((1048576 + 123)) 11 && copies "$t/a/g2" "$t/b" 1
make_file "$t/a/g3" 64K 12 && copies "$t/a/g3" "$t/b" 2
make_file "$t/a/g10" 300K 13 && copies "$t/a/g10" "$t/c" 9
make_file "$t/a/g200" 8K 14 && copies "$t/a/g200" "$t/c" 199
# over 1 GiB logical, sparse: data at the start, in the middle, at the end
truncate -s $((1024 * 1048576 + 65536)) "$t/a/gsp"
data_at "$t/a/gsp" 0 1M 15
data_at "$t/a/gsp" 512 1M 17
"$TEST_BIN/mkdata" - 64K 18 | dd of="$t/a/gsp" bs=64K seek=16384 conv=notrunc status=none
copies "$t/a/gsp" "$t/b" 1
# the same bytes, with holes in one and the zeros written out in the other
truncate -s 4M "$t/a/sd"
data_at "$t/a/sd" 0 1M 16
cp --reflink=never --sparse=never "$t/a/sd" "$t/b/sd.dense"
# one byte each
printf x >"$t/a/tiny" && printf x >"$t/b/tiny"
# hardlink: hl/b is another name of hl/a; hl/c a copy
make_file "$t/hl/a" 256K 31 && ln "$t/hl/a" "$t/hl/b" && cp --reflink=never "$t/hl/a" "$t/hl/c"
# near duplicates: same size, one byte different at the start, middle, end
make_file "$t/near/base" 2M 21
for off in 0 1048576 2097151; do
	cp --reflink=never "$t/near/base" "$t/near/n$off"
	printf '\xff' | dd of="$t/near/n$off" bs=1 seek="$off" conv=notrunc status=none
done
# same size, different bytes
make_file "$t/misc/u1" 777K 41 && make_file "$t/misc/u2" 777K 42
# skipped kinds
: >"$t/misc/e1" && : >"$t/misc/e2" && : >"$t/misc/e3"
ln -s ../a/g2 "$t/misc/link"
mkfifo "$t/misc/fifo"
sync

# The expected counts.
dsts=$((1 + 2 + 9 + 199 + 1 + 1 + 1 + 1))	# every group but the source
inline=0
[[ $FSTYP == btrfs ]] && inline=1		# btrfs keeps b/tiny in metadata
want_files=$((dsts - inline))
want_bytes=$((1048576 + 123 + 2 * 65536 + 9 * 307200 + 199 * 8192 + 2 * 1048576 + 65536 + 4194304 + 262144))
[[ $FSTYP == xfs ]] && want_bytes=$((want_bytes + 1))	# b/tiny's one byte
want_group_files=$((2 + 3 + 10 + 200 + 2 + 2 + 2 + 2))
nfiles=$(find "$t" -type f | wc -l)

# fingerprints: SHA-256 of every file (of each data range, for the big sparse
# ones: see tools/bench/fingerprint).
fingerprints() {
	"$REPO/tools/bench/fingerprint" "$t"
}
fingerprints >"$RESULTS_DIR/sums"
find "$t" -type f -print0 | sort -z | xargs -0 stat -c '%n %y %U:%G %s' >"$RESULTS_DIR/stat.before"

# load_maps: read the extent maps of every file of the tree with one filefrag
# run (a process per file is slow under TCG). MAP[file] is the file's extents
# as "logical:physical:length ..." in bytes, adjacent contiguous extents merged;
# SHARED[file] is "all", "some" or "none" of the extents flagged shared.
declare -A MAP SHARED
load_maps() {
	local f m s
	MAP=() SHARED=()
	while IFS=$'\t' read -r f m s; do
		MAP[$f]=$m
		SHARED[$f]=$s
	done < <(find "$t" -type f -print0 | xargs -0 filefrag -b1 -v | awk '
		function flush() {
			if (file == "") return
			if (have) ext = ext " " sl ":" sp ":" len
			print file "\t" ext "\t" (n == 0 ? "none" : sh == n ? "all" : sh ? "some" : "none")
		}
		/^File size of / { flush(); file = $4; ext = ""; have = 0; n = 0; sh = 0; next }
		$1 ~ /^[0-9]+:$/ {
			n++
			if (/shared/) sh++
			line = $0
			gsub(/\.\./, " ", line); gsub(/:/, " ", line)
			split(line, w, " ")
			l = w[2]; p = w[4]; len_ = w[6]
			if (have && l == el && p == ep) { el += len_; ep += len_; len += len_; next }
			if (have) ext = ext " " sl ":" sp ":" len
			sl = l; sp = p; len = len_; el = l + len_; ep = p + len_; have = 1
		}
		END { flush() }')
}

# shares SRC DST: every extent of DST is SRC's extent at the same offset,
# flagged shared.
shares() {
	[[ -n ${MAP[$2]:-} && ${MAP[$1]:-} == "${MAP[$2]}" ]] ||
		fail "$2 does not share $1's extents: '${MAP[$2]:-}' vs '${MAP[$1]:-}'"
	[[ ${SHARED[$2]} == all ]] || fail "$2: ${SHARED[$2]} of its extents are flagged shared"
}

# not_shared FILE: no extent of FILE is shared.
not_shared() {
	[[ -n ${SHARED[$1]:-} ]] || fail "no extent map for $1"
	[[ ${SHARED[$1]} == none ]] || fail "$1 shares an extent"
}

log "dry run"
"$pcshare" dedupe --dry-run "$t" >"$RESULTS_DIR/dry.txt"
cat "$RESULTS_DIR/dry.txt"
assert_eq "$want_files" "$(grep -c '^  would dedupe ' "$RESULTS_DIR/dry.txt")" "dry run: files to dedupe"
grep -q "^Would dedupe: .*nothing was changed" "$RESULTS_DIR/dry.txt" || fail "dry run: no 'Would dedupe' line"
load_maps
not_shared "$t/b/g2.1"
not_shared "$t/c/g200.199"
"$pcshare" dedupe --dry-run --json "$t" >"$RESULTS_DIR/dry.json"
assert_eq "$want_bytes" "$(jq .bytes_would_dedupe "$RESULTS_DIR/dry.json")" "dry run: bytes_would_dedupe"
assert_eq 0 "$(jq .bytes_deduped "$RESULTS_DIR/dry.json")" "dry run: bytes_deduped"

log "dedupe"
drop_caches
rc=0
"$pcshare" dedupe --json "$t" >"$RESULTS_DIR/run.json" || rc=$?
assert_eq 0 "$rc" "exit status"
# It drops the pages it read (all of them: the cache was empty before).
mapfile -t files < <(find "$t" -type f)
left=$(fincore_bytes "${files[@]}")
log "page cache of the tree after the run: $left bytes"
assert_le "$left" 65536 "page cache left behind"
j() { jq -r "$1" "$RESULTS_DIR/run.json"; }
assert_eq pcshare-dedupe-1 "$(j .schema)" "schema"
assert_eq "$nfiles" "$(j .files_scanned)" "files_scanned"
assert_eq 8 "$(j .duplicate_groups)" "duplicate_groups"
assert_eq "$want_group_files" "$(j .duplicate_files)" "duplicate_files"
assert_eq "$want_files" "$(j .files_deduped)" "files_deduped"
assert_eq "$want_bytes" "$(j .bytes_deduped)" "bytes_deduped"
assert_eq 1 "$(j .skipped.hardlink)" "skipped.hardlink"
assert_eq 1 "$(j .skipped.symlink)" "skipped.symlink"
assert_eq 1 "$(j .skipped.special)" "skipped.special"
assert_eq 3 "$(j .skipped.empty)" "skipped.empty"
assert_eq 0 "$(j .skipped.already_shared)" "skipped.already_shared"
assert_eq "$inline" "$(j .skipped.inline)" "skipped.inline"
assert_eq 0 "$(j .errors.total)" "errors.total"
assert_eq "$t/a/g200" "$(j '.groups[] | select(.size == 8192) | .files[0].path')" "g200 source"
assert_eq 199 "$(j '[.groups[] | select(.size == 8192) | .files[] | select(.result == "deduped")] | length')" "g200 deduped"
[[ $(j '[.groups[].files[].path] | map(select(test("/near/|/misc/u"))) | length') == 0 ]] ||
	fail "a near duplicate or unique file is in a group"

log "checking content, times and extents"
fingerprints | diff "$RESULTS_DIR/sums" - || fail "a file's content changed"
find "$t" -type f -print0 | sort -z | xargs -0 stat -c '%n %y %U:%G %s' >"$RESULTS_DIR/stat.after"
diff "$RESULTS_DIR/stat.before" "$RESULTS_DIR/stat.after" || fail "mtime, owner or size changed"
load_maps
shares "$t/a/g2" "$t/b/g2.1"
for f in "$t"/b/g3.*; do shares "$t/a/g3" "$f"; done
for f in "$t"/c/g10.*; do shares "$t/a/g10" "$f"; done
for f in "$t"/c/g200.*; do shares "$t/a/g200" "$f"; done
shares "$t/a/gsp" "$t/b/gsp.1"
shares "$t/a/sd" "$t/b/sd.dense"
shares "$t/hl/a" "$t/hl/c"
[[ $FSTYP == xfs ]] && shares "$t/a/tiny" "$t/b/tiny"
for f in "$t"/near/* "$t"/misc/u*; do not_shared "$f"; done

log "second run: nothing left to do"
"$pcshare" dedupe "$t" >"$RESULTS_DIR/again.txt" || fail "second run failed"
cat "$RESULTS_DIR/again.txt"
grep -q "^Deduped: *0 files, 0 B now shared on disk" "$RESULTS_DIR/again.txt" || fail "second run deduped something"
grep -q "$want_files files already sharing every extent" "$RESULTS_DIR/again.txt" ||
	fail "second run: expected $want_files files already sharing every extent"
grep -q "^Errors: *0$" "$RESULTS_DIR/again.txt" || fail "second run: errors"
fingerprints | diff "$RESULTS_DIR/sums" - || fail "a file's content changed on the second run"

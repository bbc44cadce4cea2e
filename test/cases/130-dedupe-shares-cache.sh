#!/bin/bash
# proves: files made identical by FIDEDUPERANGE share one page cache once the dedupes cover both whole files, whether done by xfs_io in 16 MiB steps (read-only or read-write destination) or by duperemove -d; partial coverage shares nothing.
# groups: quick dedupe memory
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io duperemove
n=4
size=$((32 << 20))
d=$SCRATCH_MNT

make_file "$d/src" $size 3
want=$(sha256_of "$d/src")

# Independent copies: same bytes, separate extents.
plain_copies() {
	local i
	rm -rf "$d/dup"
	mkdir "$d/dup"
	for ((i = 1; i <= n; i++)); do
		cp --reflink=never "$d/src" "$d/dup/$i"
	done
}

dedupe_in_steps() {
	local i opt
	for ((i = 1; i <= n; i++)); do
		# Odd copies through a read-only fd, even ones read-write.
		opt=-r
		((i % 2)) || opt=
		xfs_io $opt -c "dedupe $d/src 0 0 16m" -c "dedupe $d/src 16m 16m 16m" \
			"$d/dup/$i" >/dev/null
	done
}

# Control: without the module.
plain_copies
dedupe_in_steps
without=$(read_cost "$d/src" "$d"/dup/*)
log "without pcshare: src and $n deduped copies cost $without bytes"
assert_near $(((n + 1) * size)) "$without" 10 "page cache without pcshare"

module_load
plain_copies
dedupe_in_steps
with=$(read_cost "$d/src" "$d"/dup/*)
log "with pcshare, xfs_io dedupe: $with bytes; $(pcshare_counter active_members) active"
assert_near $size "$with" 15 "page cache after xfs_io dedupe"
for f in "$d"/dup/*; do
	assert_eq "$want" "$(sha256_of "$f")" "content of $f"
done

# duperemove, the real client.  It dedupes through O_RDWR fds from worker
# threads; the module registers such a pair only when neither file was
# written in the last 2 s (PCSHARE_COLD_SECONDS in module/remap.c).
plain_copies
sleep 3
duperemove -d -r -q "$d" >"$RESULTS_DIR/duperemove.log" 2>&1 ||
	fail "duperemove failed: $(tail -3 "$RESULTS_DIR/duperemove.log")"
with=$(read_cost "$d/src" "$d"/dup/*)
log "with pcshare, duperemove -d: $with bytes; $(pcshare_counter active_members) active"
assert_near $size "$with" 15 "page cache after duperemove"
for f in "$d"/dup/*; do
	assert_eq "$want" "$(sha256_of "$f")" "content of $f"
done

# Partial coverage: only the first half deduped.
make_file "$d/half.a" $size 5
cp --reflink=never "$d/half.a" "$d/half.b"
xfs_io -r -c "dedupe $d/half.a 0 0 16m" "$d/half.b" >/dev/null
cost=$(read_cost "$d/half.a" "$d/half.b")
log "half-deduped pair: $cost bytes"
assert_near $((2 * size)) "$cost" 10 "page cache of a half-deduped pair"

# Deduping members that already share, as a second duperemove pass does,
# returns what it returns without pcshare.
cat "$d/src" "$d"/dup/* >/dev/null
out=$(xfs_io -r -c "dedupe $d/src 0 0 $size" "$d/dup/1" 2>&1) ||
	fail "dedupe between two shared members failed: $out"
[[ $out == *"deduped $size/$size bytes"* ]] || fail "dedupe between two shared members: $out"
for f in "$d"/dup/*; do
	assert_eq "$want" "$(sha256_of "$f")" "content of $f after a second dedupe"
done

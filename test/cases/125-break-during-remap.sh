#!/bin/bash
# proves: a member broken and rewritten while a dedupe or clone that reads it through an fd opened while it was active is already under way is compared and sized by its new content: the dedupe says "differs" and leaves the destination's bytes alone, and the clone copies exactly the new bytes, as without pcshare (the module's test_remap_delay_ms holds the remap open for the writer).
# groups: quick break dedupe clone
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
size=$((1 << 20))
d=$SCRATCH_MNT
delay_ms=3000

# race SIDE WRITER-CMD... -- REMAP-CMD...: with pcshare, start the remap
# (held in the hook for delay_ms) and run the writer 1 s into it; without,
# run them in the order that gives: the writer first.
race() {
	local side=$1 writer=() pid
	shift
	while [[ $1 != -- ]]; do
		writer+=("$1")
		shift
	done
	shift
	if [[ $side == with ]]; then
		"$@" &
		pid=$!
		sleep 1
		"${writer[@]}"
		wait "$pid" || true
	else
		"${writer[@]}"
		"$@" || true
	fi
}

# run SIDE: A and B are clones; xfs_io dedupes A into B (fresh fds, so with
# pcshare both read through the anchor) while a writer overwrites all of A.
# Then A, registered and active again, is cloned whole into C while it is
# cut to half its size.
run() {
	local side=$1 out=$RESULTS_DIR/$1 old new
	mkdir -p "$out"
	rm -f "$d"/a "$d"/b "$d"/c "$d"/d
	make_file "$d/a" $size 125
	cp --reflink=always "$d/a" "$d/b"
	old=$(sha256_of "$d/a")
	cat "$d/a" "$d/b" >/dev/null
	if [[ $side == with ]]; then
		assert_eq 2 "$(pcshare_counter active_members)" "$side: A and B active before the dedupe"
	fi

	race "$side" xfs_io -c "pwrite -q -S 0x5a 0 $size" -c fsync "$d/a" -- \
		xfs_io -r -c "dedupe -q $d/a 0 0 $size" "$d/b" >"$out/dedupe.out" 2>&1
	log "$side: xfs_io dedupe said: $(tr '\n' ' ' <"$out/dedupe.out")"
	new=$(sha256_of "$d/a")
	assert_ne "$old" "$new" "$side: A was rewritten"
	drop_caches
	assert_eq "$old" "$(sha256_of "$d/b")" "$side: B after a dedupe raced by a write to its source"
	assert_eq "$new" "$(sha256_of "$d/a")" "$side: A after the dedupe"
	sha256_of "$d/b" >"$out/b.sum"

	# The clone: A, rewritten, is registered again with a fresh clone D and
	# read (active again); cloning A into C races a truncate of A to half.
	cp --reflink=always "$d/a" "$d/d"
	cat "$d/a" "$d/d" >/dev/null
	make_file "$d/c" $size 521
	race "$side" xfs_io -c "truncate $((size / 2))" -c fsync "$d/a" -- \
		xfs_io -c "reflink -q $d/a 0 0 $size" "$d/c" >"$out/clone.out" 2>&1
	log "$side: xfs_io reflink said: $(tr '\n' ' ' <"$out/clone.out")"
	drop_caches
	sha256_of "$d/c" >"$out/c.sum"
	stat -c %s "$d/c" >"$out/c.size"
}

run without
module_load test_remap_delay_ms=$delay_ms
run with
before=$(pcshare_counter breaks)
assert_ge "$before" 2 "breaks during the run with pcshare"
for f in b.sum c.sum c.size clone.out dedupe.out; do
	assert_eq "$(cat "$RESULTS_DIR/without/$f")" "$(cat "$RESULTS_DIR/with/$f")" \
		"$f with pcshare against without"
done
assert module_unload 60

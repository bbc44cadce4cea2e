#!/bin/bash
# proves: the module never changes an ioctl's result or errno, nor any byte (DESIGN.md 2.5): thousands of random and edge-case FICLONE, FICLONERANGE and FIDEDUPERANGE calls (bad fds, a pipe, a directory, the same file, read-only and append-only fds, unaligned and past-EOF ranges, huge offsets, lengths and counts, non-zero reserved fields), interleaved with read-only opens that activate members and write opens that break them, give a byte-identical transcript with and without pcshare.
# groups: fuzz remap
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
cases=${CASE_FUZZ_CASES:-800}
seeds=${CASE_FUZZ_SEEDS:-"1 2"}

fuzz() {	# fuzz DIR SEED: a fresh pool in DIR, transcript on stdout
	rm -rf "$1"
	mkdir -p "$1"
	"$TEST_BIN/ioctlfuzz" "$1" "$cases" "$2"
}

for seed in $seeds; do
	fuzz "$SCRATCH_MNT/fuzz" "$seed" >"$RESULTS_DIR/without.$seed"
done
# The comparison below can fail: the same seed gives the same transcript,
# another seed a different one.
read -r -a seed_list <<<"$seeds"
first=${seed_list[0]}
fuzz "$SCRATCH_MNT/fuzz" "$first" >"$RESULTS_DIR/again"
cmp -s "$RESULTS_DIR/without.$first" "$RESULTS_DIR/again" ||
	fail "self-check: seed $first gave two different transcripts without the module"
fuzz "$SCRATCH_MNT/fuzz" $((first + 1000)) >"$RESULTS_DIR/other-seed"
cmp -s "$RESULTS_DIR/without.$first" "$RESULTS_DIR/other-seed" &&
	fail "self-check: seeds $first and $((first + 1000)) gave the same transcript"

module_load
for seed in $seeds; do
	fuzz "$SCRATCH_MNT/fuzz" "$seed" >"$RESULTS_DIR/with.$seed"
	if ! diff -u "$RESULTS_DIR/without.$seed" "$RESULTS_DIR/with.$seed" >"$RESULTS_DIR/diff.$seed"; then
		head -20 "$RESULTS_DIR/diff.$seed" >&2
		fail "seed $seed: the transcript with pcshare differs from the one without (diff.$seed)"
	fi
done
regs=$(pcshare_counter registrations) acts=$(pcshare_counter activations) brk=$(pcshare_counter breaks)
ok=$(cat "$RESULTS_DIR"/with.* | grep -c ' = 0$\| = 0 \[')
total=$(cat "$RESULTS_DIR"/with.* | grep -c '^[0-9]* FI')
log "seeds $seeds, $cases cases each: $total ioctls ($ok succeeded), identical with and without; registrations=$regs activations=$acts breaks=$brk"
# Not vacuous: the module must have had something to do.
assert_ge "$regs" 5 "registrations during the fuzz"
assert_ge "$acts" 3 "activations during the fuzz"
assert_ge "$brk" 3 "breaks during the fuzz"
module_unload

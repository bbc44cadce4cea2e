#!/bin/bash
# proves: processes that read every member through random read paths, racing others that break members by writing, re-clone, clone ranges, copy, re-dedupe and replace them, only ever read 512-byte records (stamped with file id, version and offset) that their own file held during the read, with pcshare as without it, while members really were activated and broken.
# groups: stress race clone dedupe break mmap read
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

# stampstress (test/progs/stampstress.c) holds the model and the checker;
# this script runs it three times on fresh files: with foreign pages
# injected on purpose (the check must catch them), without pcshare, and
# with it, on the same seed.

require_reflink
nfiles=8
secs=${STAMPSTRESS_SECONDS:-25}
seed=${STAMPSTRESS_SEED:-$((RANDOM << 15 | RANDOM))}
# 3 readers, 2 writers, 1 cloner, 256 KiB files, drop caches every 3 s.
args=(-r 3 -w 2 -c 1 -k 256 -d 3000)

# stat_of LOG KEY: the number after KEY= in stampstress's summary lines.
stat_of() {
	local line
	while read -r line; do
		if [[ " $line" =~ \ $2=([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
	done < <(grep -E '^(reads_checked|elapsed)=' "$1")
	echo "no $2 in $1" >&2
	return 1
}

# stress NAME SECONDS [OPTION...]: run stampstress in $SCRATCH_MNT/NAME,
# output in $RESULTS_DIR/NAME.log; sets rc to its exit status.
stress() {
	local name=$1 s=$2
	shift 2
	mkdir "$SCRATCH_MNT/$name"
	rc=0
	"$TEST_BIN/stampstress" "${args[@]}" "$@" "$SCRATCH_MNT/$name" \
		"$nfiles" "$s" "$seed" >"$RESULTS_DIR/$name.log" 2>&1 || rc=$?
	rm -rf "${SCRATCH_MNT:?}/$name"
	((rc != 4)) || skip "stampstress: $(tail -n 1 "$RESULTS_DIR/$name.log")"
	((rc != 3)) || fail "$name: a process hung: $(grep -A20 HANG "$RESULTS_DIR/$name.log")"
}

# summary NAME: log the counts of a run, and its first complaints.
summary() {
	local log=$RESULTS_DIR/$1.log
	log "$1: $(tail -n 1 "$log")"
	log "$1: $(grep '^elapsed=' "$log")"
	grep -E '^(MISMATCH|ERROR)' "$log" | head -n 5 || true
}

log "seed $seed, $nfiles files, ${secs}s per run"

# 1. The check must be able to fail: writers stamp some pages with another
# file's id without telling the model.
stress inject 6 -F
summary inject
assert_eq 1 "$rc" "exit status of the run with foreign pages"
assert_ge "$(stat_of "$RESULTS_DIR/inject.log" injected)" 1 "pages injected"
assert_ge "$(stat_of "$RESULTS_DIR/inject.log" mismatches)" 1 "mismatches found in the run with foreign pages"

# 2. Without pcshare: the kernel's own semantics meet the model.
stress without "$secs"
summary without
assert_eq 0 "$rc" "exit status without pcshare"
assert_eq 0 "$(stat_of "$RESULTS_DIR/without.log" mismatches)" "mismatches without pcshare"
reads_without=$(stat_of "$RESULTS_DIR/without.log" reads_checked)
assert_ge "$reads_without" 1 "reads checked without pcshare"

# 3. With pcshare, same seed.
module_load
counters="registrations activations activation_refusals breaks breaks_write_open breaks_remap_dest breaks_changed breaks_detach detaches anchors_created anchor_failures"
stress with "$secs"
summary with
report=
for c in $counters; do
	report+="$c=$(pcshare_counter "$c") "
done
log "pcshare: $report"
pcshare_groups >"$RESULTS_DIR/groups.after" 2>/dev/null || true
assert_eq 0 "$rc" "exit status with pcshare"
assert_eq 0 "$(stat_of "$RESULTS_DIR/with.log" mismatches)" "mismatches with pcshare"
reads_with=$(stat_of "$RESULTS_DIR/with.log" reads_checked)
assert_ge "$reads_with" 1 "reads checked with pcshare"
# Without sharing and breaking, the run proves nothing.
assert_ge "$(pcshare_counter activations)" 2 "activations during the run"
assert_ge "$(pcshare_counter breaks)" 1 "breaks during the run"
assert module_unload 60

log "reads checked: $reads_with (with pcshare), $reads_without (without)"

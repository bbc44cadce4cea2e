#!/bin/bash
# proves: processes reading every member through random read paths, racing others that break members by writing, re-clone, clone ranges, copy, re-dedupe and replace them, only ever read 512-byte records (stamped with file id, version and offset) that their own file held during the read, with pcshare as without it, while members really were activated and broken.
# groups: stress race
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

# The model and the checker live in test/progs/stampstress.c (its top
# comment says what is allowed). This script runs it on fresh files three
# times with one seed: with foreign pages injected on purpose (the check
# must catch them), without pcshare, and with it.

require_reflink
nfiles=8
secs=20
seed=$((RANDOM << 15 | RANDOM))
# 3 readers, 2 writers, 1 cloner, 256 KiB files; drop caches every 3 s.
args=(-r 3 -w 2 -c 1 -k 256 -d 3000)

# stat_of NAME KEY: the number after KEY= in the summary of run NAME.
stat_of() {
	local line
	while read -r line; do
		if [[ " $line" =~ \ $2=([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
	done < <(grep -E '^(reads_checked|elapsed)=' "$RESULTS_DIR/$1.log")
	echo "stat_of: no $2 in $RESULTS_DIR/$1.log" >&2
	return 1
}

# complaints NAME: the first lines of run NAME that say what went wrong.
complaints() {
	grep -E '^(MISMATCH|BAD READ|DIAG|ERROR|HANG)' "$RESULTS_DIR/$1.log" | head -n 8 || true
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
	((rc != 2 && rc != 3)) || fail "$name: stampstress exited with $rc: $(complaints "$name")"
	log "$name: $(tail -n 1 "$RESULTS_DIR/$name.log")"
	log "$name: $(grep '^elapsed=' "$RESULTS_DIR/$name.log")"
}

# clean NAME: fail unless run NAME read nothing wrong and met no error.
clean() {
	local bad errors
	bad=$(stat_of "$1" mismatches)
	errors=$(stat_of "$1" errors)
	((bad == 0)) || fail "$1: $bad records read wrong (seed $seed): $(complaints "$1")"
	((errors == 0)) || fail "$1: $errors unexpected errors (seed $seed): $(complaints "$1")"
	assert_eq 0 "$rc" "$1: exit status of stampstress"
	assert_ge "$(stat_of "$1" reads_checked)" 1 "$1: reads checked"
}

log "seed $seed, $nfiles files, ${secs}s per run"

# 1. The check can fail: writers stamp some pages with another file's id
# without telling the model.
stress inject 6 -F
assert_eq 1 "$rc" "exit status of the run with foreign pages"
assert_ge "$(stat_of inject injected)" 1 "pages injected"
assert_ge "$(stat_of inject mismatches)" 1 "mismatches found in the run with foreign pages"

# 2. Without pcshare: the kernel's own behaviour meets the model.
stress without "$secs"
clean without

# 3. With pcshare, on the same seed.
module_load
stress with "$secs" -s /sys/kernel/debug/pcshare/groups
report=
for c in registrations activations activation_refusals breaks \
	breaks_write_open breaks_remap_dest breaks_changed detaches \
	anchors_created anchor_failures; do
	report+="$c=$(pcshare_counter "$c") "
done
log "pcshare: $report"
clean with
# Without sharing and breaking, the run proves nothing.
assert_ge "$(pcshare_counter activations)" 10 "activations during the run"
assert_ge "$(pcshare_counter breaks_write_open)" 5 "breaks by a write open during the run"
assert module_unload 60

log "reads checked: $(stat_of with reads_checked) (with pcshare), $(stat_of without reads_checked) (without)"

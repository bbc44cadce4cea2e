# shellcheck shell=bash
# Running test/progs/stampstress.c from a case, and judging its summary.
# The caller sets: nfiles, seed, and args (an array of stampstress options
# common to all its runs).
# shellcheck disable=SC2154 # nfiles, seed and args come from the case

# stat_of NAME KEY: the number after KEY= in the summary of run NAME.
stat_of() {
	local line
	while read -r line; do
		if [[ " $line" =~ \ $2=([0-9]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
	done < <(grep -E '^(reads_checked|elapsed|ops_punch)=' "$RESULTS_DIR/$1.log")
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

# stress_can_fail SECONDS: prove the check can fail. Writers stamp some pages
# with another file's id without telling the model (-F); the run must find
# them.
stress_can_fail() {
	stress inject "$1" -F
	assert_eq 1 "$rc" "exit status of the run with foreign pages"
	assert_ge "$(stat_of inject injected)" 1 "pages injected"
	assert_ge "$(stat_of inject mismatches)" 1 "mismatches found in the run with foreign pages"
}

# log_pcshare_counters: log the module's counters that say how much sharing
# and breaking a run did.
log_pcshare_counters() {
	local c report=
	for c in registrations activations activation_refusals breaks \
		breaks_write_open breaks_truncate breaks_setattr_size \
		breaks_remap_dest breaks_changed detaches anchors_created \
		anchor_failures; do
		report+="$c=$(pcshare_counter "$c") "
	done
	log "pcshare: $report"
}

#!/bin/bash
# Guest side of the VM test runner. test/vm/init runs it, chrooted into the
# host's root (read-only 9p), as: guest-run.sh /run/results/run.env
#
# run.env (written by test/vm/run.sh) sets REPO, KVER, PCSHARE_KO, TEST_BIN.
# The plan file it names (PLAN_FILE, next to it) has one line per test run:
#   INDEX <TAB> CASE-FILE <TAB> FS <TAB> RESULT-SUBDIR <TAB> TIMEOUT-SECONDS
#   <TAB> BOOT/BOOTS
# BOOT/BOOTS is 1/1 but for a case that needs several boots ("# boots: N"):
# then the scratch fs is made and mounted in boot 1 only, the case sees
# CASE_BOOT and CASE_BOOTS, and every boot but the last ends in its forced
# reset (vm_reset in test/lib/common.sh prints "# reset: now" first).
#
# For each entry: make and mount the scratch fs (unless FS is none), clear
# dmesg, run the case in its own session with a timeout, kill what it left
# running, unmount, make sure pcshare is unloaded, save output.log and
# dmesg.log, then judge: exit code 0/1/4, new kernel errors in dmesg, new
# taint other than O/E. Prints TAP on the console (and in tap.txt).
#
# Console protocol read by run.sh: "# run INDEX NAME" before a test,
# "ok/not ok INDEX ..." after it, "# harness error: ..." for problems that are
# no single test's fault, "# guest-run: done" at the end.
set -uo pipefail

run_env=${1:?usage: guest-run.sh RUN_ENV}
# shellcheck disable=SC1090
. "$run_env"
results=$(dirname "$run_env")
tap_file=$results/tap.txt
errors_re=$REPO/test/vm/kernel-errors.re
# O (out-of-tree) and E (unsigned) are expected from our module.
readonly TAINT_OK=$((4096 | 8192))

export REPO KVER PCSHARE_KO TEST_BIN VM_KERNEL_DIR

# VM_TRACE=1 (host environment): trace this script, with timestamps, into
# guest-trace.log in the results directory.
if [[ ${VM_TRACE:-0} == 1 ]]; then
	exec {trace_fd}>"$results/guest-trace.log"
	BASH_XTRACEFD=$trace_fd
	PS4='+ ${EPOCHREALTIME} ${LINENO}: '
	set -x
fi

# shellcheck source=test/lib/fs.sh
. "$REPO/test/lib/fs.sh"

tap() {
	echo "$*"
	echo "$*" >>"$tap_file"
}

# diag FILE [LINES]: print the tail of FILE as TAP diagnostics.
diag() {
	tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/#   /' | tee -a "$tap_file"
}

harness_error() {
	tap "# harness error: $*"
}

mapfile -t plan <"$results/${PLAN_FILE:-plan.txt}"

tap "TAP version 13"
tap "1..${#plan[@]}"
tap "# kernel $(uname -r), $(nproc) CPUs, $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
if [[ $(uname -r) != "$KVER" ]]; then
	harness_error "booted kernel $(uname -r), expected $KVER"
fi
taint=$(cat /proc/sys/kernel/tainted)
if ((taint & ~TAINT_OK)); then
	harness_error "kernel already tainted at boot: $taint"
fi
if dmesg | grep -E -f "$errors_re" >"$results/boot-errors.log"; then
	harness_error "kernel errors during boot:"
	diag "$results/boot-errors.log"
else
	rm -f "$results/boot-errors.log"
fi
dmesg >"$results/boot-dmesg.log"

# kill_session SID: kill every process left in the test's session.
kill_session() {
	for _ in 1 2 3 4 5; do
		pkill -KILL -s "$1" 2>/dev/null || return 0
		sleep 0.2
	done
}

for entry in "${plan[@]}"; do
	IFS=$'\t' read -r index casefile fs subdir timeout boot <<<"$entry"
	export CASE_BOOT=${boot%/*} CASE_BOOTS=${boot#*/}
	name=$(basename "$casefile" .sh)
	label=$name
	[[ $fs != none ]] && label+=" [$fs]"
	tdir=$results/$subdir
	mkdir -p "$tdir"
	reasons=()
	skip_reason=
	tap "# run $index $label"

	export RESULTS_DIR=$tdir
	unset FSTYP SCRATCH_DEV SCRATCH_MNT
	if [[ $fs != none ]]; then
		export FSTYP=$fs SCRATCH_MNT=/mnt/scratch
		dev_var=SCRATCH_DEV_$fs
		export SCRATCH_DEV=${!dev_var:?no scratch device for $fs in run.env}
	fi
	dmesg -C
	taint_before=$(cat /proc/sys/kernel/tainted)
	t0=${EPOCHREALTIME//[.,]/}

	setup_ok=1
	if [[ $fs != none && $CASE_BOOT == 1 ]]; then
		if ! { scratch_mkfs && scratch_mount; } >"$tdir/setup.log" 2>&1; then
			setup_ok=0
			reasons+=("cannot make or mount the $fs scratch filesystem")
			diag "$tdir/setup.log"
		fi
	fi

	rc=0
	if ((setup_ok)); then
		# A background job of a non-interactive shell is not a group leader,
		# so setsid(1) calls setsid() without forking: the session id is $!.
		# A case that resets the VM keeps the output of every boot.
		((CASE_BOOT > 1)) || : >"$tdir/output.log"
		((CASE_BOOTS == 1)) || echo "# boot $CASE_BOOT of $CASE_BOOTS" >>"$tdir/output.log"
		(cd "$tdir" && exec setsid timeout -k 10 "$timeout" bash "$casefile") \
			>>"$tdir/output.log" 2>&1 </dev/null &
		sid=$!
		wait "$sid"
		rc=$?
		kill_session "$sid"
	fi
	us=$((${EPOCHREALTIME//[.,]/} - t0))
	secs=$((us / 1000000)).$((us % 1000000 / 100000))

	if [[ $fs != none ]] && mountpoint -q "$SCRATCH_MNT"; then
		if ! umount "$SCRATCH_MNT" 2>>"$tdir/setup.log"; then
			reasons+=("scratch fs still busy after the test; killed its users")
			fuser -k -m "$SCRATCH_MNT" >/dev/null 2>&1
			sleep 0.5
			umount "$SCRATCH_MNT" 2>>"$tdir/setup.log" || umount -l "$SCRATCH_MNT"
		fi
	fi
	if grep -q '^pcshare ' /proc/modules; then
		reasons+=("left pcshare loaded")
		for _ in $(seq 50); do
			rmmod pcshare 2>/dev/null && break
			sleep 0.2
		done
		grep -q '^pcshare ' /proc/modules && harness_error "pcshare cannot be unloaded; later tests may be affected"
	fi

	case $rc in
	0) ;;
	4)
		skip_reason=$(grep '^SKIP:' "$tdir/output.log" | tail -n 1 | sed 's/^SKIP: *//')
		[[ -n $skip_reason ]] || skip_reason="no reason given"
		;;
	124 | 137) reasons+=("timed out after ${timeout}s") ;;
	1) reasons+=("$(grep '^FAIL:' "$tdir/output.log" | tail -n 1 | sed 's/^FAIL: *//' || true)") ;;
	*) reasons+=("exit status $rc") ;;
	esac

	dmesg >"$tdir/dmesg.log"
	if grep -E -f "$errors_re" "$tdir/dmesg.log" >"$tdir/kernel-errors.log"; then
		reasons+=("kernel errors in dmesg")
	else
		rm -f "$tdir/kernel-errors.log"
	fi
	taint=$(cat /proc/sys/kernel/tainted)
	new_taint=$(((taint & ~taint_before) & ~TAINT_OK))
	if ((new_taint)); then
		reasons+=("kernel taint $taint (new bits $new_taint)")
	fi

	# Drop empty reasons (a FAIL without a message).
	real=()
	for r in "${reasons[@]}"; do [[ -n $r ]] && real+=("$r"); done
	if [[ ${#real[@]} -eq 0 && $rc -eq 1 ]]; then
		real=("exit status 1")
	fi

	tap "# took ${secs}s, exit status $rc"
	if [[ ${#real[@]} -gt 0 ]]; then
		tap "not ok $index - $label"
		for r in "${real[@]}"; do
			tap "# reason: $r"
		done
		[[ -f $tdir/kernel-errors.log ]] && diag "$tdir/kernel-errors.log"
		tap "# last lines of $subdir/output.log:"
		diag "$tdir/output.log" 15
	elif [[ $rc -eq 4 ]]; then
		tap "ok $index - $label # SKIP $skip_reason"
	else
		tap "ok $index - $label"
	fi
done

tap "# guest-run: done"

# shellcheck shell=bash
# Common helpers for test cases: pass/fail/skip, logging, asserts, cleanup.
#
# A test case starts with:
#
#   #!/bin/bash
#   # proves: <one sentence>
#   # groups: quick clone ...
#   # fs: xfs btrfs          (or: none)
#   . "$REPO/test/lib/common.sh"
#
# Sourcing this file turns on `set -eEuo pipefail`. Any command that fails
# outside a condition fails the test with exit status 1 and a "FAIL: line N:"
# message (never with the command's own status, which could look like a skip).
#
# Exit codes (kselftest): 0 pass, 1 fail, 4 skip. The last output line that
# starts with "SKIP:" is the skip reason shown in TAP.
#
# Cleanup: register with `on_exit CMD [ARG...]`; do not set an EXIT trap
# yourself. Handlers run in reverse order, even after a failure.
#
# The environment from the runner: REPO, PCSHARE_KO, TEST_BIN, KVER,
# RESULTS_DIR (a writable directory for this test's extra files), and for
# filesystem tests FSTYP, SCRATCH_DEV, SCRATCH_MNT (freshly made and mounted).

set -eEuo pipefail
shopt -s inherit_errexit

: "${REPO:?REPO is not set: run tests through make check}"
export TEST_NAME
TEST_NAME=$(basename "$0" .sh)
RESULTS_DIR=${RESULTS_DIR:-${TMPDIR:-/tmp}}
_TEST_T0=${EPOCHREALTIME//[.,]/}

# Status codes.
readonly KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4

# log MSG...: a timestamped progress line (seconds since the test started).
log() {
	local us=$((${EPOCHREALTIME//[.,]/} - _TEST_T0))
	printf '[%4d.%02d] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$*"
}

# fail MSG...: fail the test now.
# (Messages go to stderr so that a fail inside $(...) is not captured; the
# runner reads both streams.)
fail() {
	echo "FAIL: $*" >&2
	exit "$KSFT_FAIL"
}

# skip REASON...: skip the test now (a missing requirement, never a bug).
skip() {
	echo "SKIP: $*" >&2
	exit "$KSFT_SKIP"
}

# pass [MSG...]: end the test successfully now.
pass() {
	[[ $# -gt 0 ]] && echo "PASS: $*"
	exit "$KSFT_PASS"
}

_on_err() {
	local rc=$1 line=$2 cmd=$3
	echo "FAIL: line $line: '$cmd' exited with status $rc" >&2
	exit "$KSFT_FAIL"
}
trap '_on_err $? $LINENO "$BASH_COMMAND"' ERR

_EXIT_HANDLERS=()

# on_exit CMD [ARG...]: run CMD when the test exits, whatever the reason.
# Handlers run last-registered first, with errexit off.
on_exit() {
	local q
	printf -v q '%q ' "$@"
	_EXIT_HANDLERS+=("$q")
}

_run_exit_handlers() {
	local rc=$? i
	trap - ERR
	set +e
	for ((i = ${#_EXIT_HANDLERS[@]} - 1; i >= 0; i--)); do
		eval "${_EXIT_HANDLERS[i]}"
	done
	exit "$rc"
}
trap _run_exit_handlers EXIT

# stop_pid PID...: kill the processes (TERM) if they still run, and reap them
# if they are our children. Quiet; for use with on_exit.
stop_pid() {
	kill "$@" 2>/dev/null || true
	wait "$@" 2>/dev/null || true
}

# require_cmd CMD...: skip unless every command is available.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "command not found: $c"
	done
}

# require_root: skip unless running as root.
require_root() {
	[[ $(id -u) -eq 0 ]] || skip "needs root"
}

# require_fs: skip unless this run has a scratch filesystem (FSTYP set).
require_fs() {
	[[ -n ${FSTYP:-} && ${FSTYP:-none} != none ]] || skip "needs a scratch filesystem (# fs: xfs btrfs)"
}

# assert CMD [ARG...]: fail unless CMD succeeds.
assert() {
	"$@" || fail "assertion failed: $*"
}

# assert_not CMD [ARG...]: fail if CMD succeeds.
assert_not() {
	if "$@"; then
		fail "expected failure: $*"
	fi
}

# assert_eq EXPECTED ACTUAL [WHAT]: fail unless the strings are equal.
assert_eq() {
	[[ $1 == "$2" ]] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_ne UNEXPECTED ACTUAL [WHAT]
assert_ne() {
	[[ $1 != "$2" ]] || fail "${3:-value}: did not expect '$1'"
}

# assert_le A B [WHAT]: integers, A <= B.
assert_le() {
	(($1 <= $2)) || fail "${3:-value}: expected $1 <= $2"
}

# assert_ge A B [WHAT]: integers, A >= B.
assert_ge() {
	(($1 >= $2)) || fail "${3:-value}: expected $1 >= $2"
}

# retry_until SECONDS CMD [ARG...]: rerun CMD every 0.1 s until it succeeds;
# returns 1 if it never did within SECONDS.
retry_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# dmesg_mark: print a marker for dmesg_since (the current dmesg line count).
dmesg_mark() {
	dmesg | wc -l
}

# dmesg_since MARK: print the dmesg lines logged after dmesg_mark printed MARK.
dmesg_since() {
	dmesg | tail -n "+$(($1 + 1))"
}

# Helpers by topic; all tests get them.
# shellcheck source=test/lib/module.sh
. "$REPO/test/lib/module.sh"
# shellcheck source=test/lib/fs.sh
. "$REPO/test/lib/fs.sh"
# shellcheck source=test/lib/verify.sh
. "$REPO/test/lib/verify.sh"
# shellcheck source=test/lib/reflink.sh
. "$REPO/test/lib/reflink.sh"

# vm_reset: end this boot of a multi-boot case ("# boots: N" in its header)
# as a power cut would: no sync, no unmount, the guest's caches lost (what
# it had already written to its disks stays on the images). The host then
# boots the VM again for boot CASE_BOOT + 1 on the same images. The case's
# own output is on the results share and is already on the host.
vm_reset() {
	((${CASE_BOOT:-1} < ${CASE_BOOTS:-1})) || fail "vm_reset in the last boot of the case"
	# The host looks for this file (on the results share, written through
	# at once); the console line can be lost with the reset.
	echo "$CASE_BOOT" >"$RESULTS_DIR/.reset-$CASE_BOOT"
	echo "# reset: now" >/dev/console
	sleep 1
	echo b >/proc/sysrq-trigger
	sleep 60
	fail "the VM did not reset"
}

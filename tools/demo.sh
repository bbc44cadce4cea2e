#!/bin/bash
# make demo: boot Debian's stock kernel in QEMU, make 32 reflinked copies of a
# 64 MiB file, read them without and with pcshare, print the table.
# Runs the test case test/cases/050-demo.sh through the VM harness.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
"$repo/test/vm/check.sh" --tests 050-demo "$@" >"$log" 2>&1 || rc=$?
results=$(sed -n 's/^# results: //p' "$log" | tail -n 1)
if [[ -n $results && -f $results/050-demo.xfs/table.txt ]]; then
	echo
	cat "$results/050-demo.xfs/table.txt"
	echo
	echo "(full log: $results)"
else
	cat "$log"
	echo "demo: no table produced; see the log above" >&2
	rc=${rc/#0/1}
fi
exit "$rc"

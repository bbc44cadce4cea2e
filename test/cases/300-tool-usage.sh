#!/bin/bash
# proves: pcshare and each of its commands print a --help that documents options and exit statuses, bad usage exits 2 with a message that names the problem, stat reports a missing file or a directory with exit 1, and status works without the module.
# groups: quick tool
# fs: none
. "$REPO/test/lib/common.sh"
require_cmd jq
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

# expect STATUS CMD...: run CMD and check its exit status; stdout in $out,
# stderr in $err.
expect() {
	local want=$1 rc=0
	shift
	out=$("$@" 2>"$RESULTS_DIR/stderr") || rc=$?
	err=$(cat "$RESULTS_DIR/stderr")
	[[ $rc -eq $want ]] || fail "'$*' exited $rc, expected $want; stderr: $err"
}

# says TEXT: stderr contains TEXT.
says() {
	grep -qF -- "$1" <<<"$err" || fail "stderr lacks '$1': $err"
}

expect 0 "$pcshare" --help
grep -q "dedupe PATH" <<<"$out" || fail "--help does not list dedupe"
grep -q "Exit status" <<<"$out" || fail "--help does not give exit statuses"
expect 0 "$pcshare" dedupe --help
for opt in --dry-run --threads --min-size --json --verbose --quiet --progress "Exit status"; do
	grep -q -- "$opt" <<<"$out" || fail "dedupe --help does not mention $opt"
done
expect 0 "$pcshare" status --help
expect 0 "$pcshare" stat --help
expect 0 "$pcshare" --version

expect 2 "$pcshare"
expect 2 "$pcshare" frobnicate
says "unknown command 'frobnicate'"
expect 2 "$pcshare" dedupe
says "no PATH given"
expect 2 "$pcshare" dedupe --bogus /
expect 2 "$pcshare" dedupe -j 0 /
says "--threads"
expect 2 "$pcshare" dedupe --min-size=lots /
says "--min-size"
expect 2 "$pcshare" dedupe /nonexistent/dir
says "/nonexistent/dir: No such file or directory"
says "nothing done"
expect 2 "$pcshare" dedupe /dev/null
says "/dev/null: not a directory or a regular file"
mkdir -p /tmp/pcshare-300
on_exit rm -rf /tmp/pcshare-300
expect 2 "$pcshare" dedupe /tmp/pcshare-300
says "cannot dedupe files; pcshare works on XFS (with reflink) and btrfs"
expect 2 "$pcshare" status extra-argument
expect 2 "$pcshare" stat
says "no FILE given"
expect 1 "$pcshare" stat /nonexistent/file
says "/nonexistent/file: No such file or directory"
expect 1 "$pcshare" stat /tmp/pcshare-300
says "/tmp/pcshare-300: Is a directory"

# Without the module, status says so, in words and in JSON.
if module_loaded; then
	module_unload || fail "cannot unload a leftover pcshare"
fi
expect 0 "$pcshare" status
assert_eq "pcshare module: not loaded" "$out" "status"
expect 0 "$pcshare" status --json
assert_eq false "$(jq .loaded <<<"$out")" "status --json .loaded"
assert_eq pcshare-status-1 "$(jq -r .schema <<<"$out")" "status --json .schema"
echo x >/tmp/pcshare-300/f
expect 0 "$pcshare" stat /tmp/pcshare-300/f
grep -q "page cache not shared (the pcshare module is not loaded)" <<<"$out" || fail "stat: $out"
expect 1 "$pcshare" stat --json /tmp/pcshare-300/f /nonexistent
assert_eq null "$(jq .files[0].error <<<"$out")" "stat --json: first file's error"
assert_eq ENOENT "$(jq -r .files[1].error <<<"$out")" "stat --json: second file's error"

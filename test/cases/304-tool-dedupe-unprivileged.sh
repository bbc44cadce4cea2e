#!/bin/bash
# proves: run by an unprivileged user, pcshare dedupe dedupes the files that user owns, reports files it may not read (EACCES) or not dedupe into (EPERM) by name and kind, and exits 1, without opening anything for write.
# groups: tool dedupe
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd jq setpriv filefrag
require_reflink
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

t=$SCRATCH_MNT/tree
mkdir -p "$t"
chmod 0755 "$SCRATCH_MNT"
chown nobody "$t"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}
# a: nobody's own files, deduped. b: root's, readable, not writable by
# nobody: EPERM. c: c2 is root's and unreadable: EACCES, so c1 stays alone.
# secret/: a directory nobody may not read: EACCES.
as_nobody "$TEST_BIN/mkdata" "$t/a1" 1M 1
as_nobody cp --reflink=never "$t/a1" "$t/a2"
make_file "$t/b1" 1M 2 && cp --reflink=never "$t/b1" "$t/b2" && chmod 0644 "$t/b1" "$t/b2"
as_nobody "$TEST_BIN/mkdata" "$t/c1" 1M 3
cp --reflink=never "$t/c1" "$t/c2" && chmod 0600 "$t/c2"
mkdir -m 0700 "$t/secret" && cp "$t/c1" "$t/secret/c3"
sync
sha256_record "$RESULTS_DIR/sums" "$t"/a? "$t"/b? "$t"/c?

rc=0
as_nobody "$pcshare" dedupe --json "$t" >"$RESULTS_DIR/run.json" 2>"$RESULTS_DIR/stderr" || rc=$?
cat "$RESULTS_DIR/stderr"
assert_eq 1 "$rc" "exit status"
j() { jq -r "$1" "$RESULTS_DIR/run.json"; }
assert_eq 3 "$(j .errors.total)" "errors.total"
assert_eq 2 "$(j .errors.by_kind.EACCES)" "errors.by_kind.EACCES"
assert_eq 1 "$(j .errors.by_kind.EPERM)" "errors.by_kind.EPERM"
assert_eq 1 "$(j .files_deduped)" "files_deduped"
grep -q "$t/c2: open: Permission denied" "$RESULTS_DIR/stderr" || fail "no message for c2"
grep -q "$t/secret: open directory: Permission denied" "$RESULTS_DIR/stderr" || fail "no message for secret/"
grep -q "$t/b2: dedupe: Operation not permitted" "$RESULTS_DIR/stderr" || fail "no message for b2"

filefrag -v "$t/a2" | grep -q shared || fail "a2 was not deduped"
! filefrag -v "$t/b2" | grep -q shared || fail "b2 was deduped"
sha256_verify "$RESULTS_DIR/sums" || fail "content changed"

# The human summary says the same, with a hint for EPERM.
rc=0
out=$(as_nobody "$pcshare" dedupe "$t" 2>/dev/null) || rc=$?
echo "$out"
assert_eq 1 "$rc" "exit status (summary run)"
grep -q "^Errors: *3 (1 EPERM: Operation not permitted, 2 EACCES: Permission denied)" <<<"$out" ||
	fail "summary does not count the errors by kind"
grep -q "dedupe needs the file's owner, write permission, or root" <<<"$out" || fail "no EPERM hint"

#!/bin/bash
# proves: a file that changes between hashing and FIDEDUPERANGE (a destination, the source, or one cut shorter) is left with its new content and reported as "changed" with exit status 1, while the rest of its group is still deduped, against the next file when the source changed.
# groups: tool dedupe
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd jq filefrag
require_reflink
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

t=$SCRATCH_MNT/tree
mkdir -p "$t"
seed=1
for g in d s x; do
	make_file "$t/$g.0" 3M $((seed++))
	for i in 1 2 3; do cp --reflink=never "$t/$g.0" "$t/$g.$i"; done
done
sync

# The hook runs after pcshare opened and checked a group's files and before
# its first FIDEDUPERANGE: change d.2 (a destination), s.0 (the source of
# its group) and cut x.3 short.
# shellcheck disable=SC2016 # expanded by the hook's own shell
hook='for f; do
	case $f in
	*/d.2 | */s.0) printf "\377" | dd of="$f" bs=1 seek=1234567 conv=notrunc status=none ;;
	*/x.3) truncate -s 1M "$f" ;;
	esac
done'
rc=0
PCSHARE_TEST_HOOK_BEFORE_DEDUPE=$hook "$pcshare" dedupe --json "$t" >"$RESULTS_DIR/run.json" 2>"$RESULTS_DIR/stderr" || rc=$?
cat "$RESULTS_DIR/stderr"
assert_eq 1 "$rc" "exit status"
j() { jq -r "$1" "$RESULTS_DIR/run.json"; }
assert_eq 3 "$(j .errors.total)" "errors.total"
assert_eq 3 "$(j .errors.by_kind.changed)" "errors.by_kind.changed"
result() { j ".groups[].files[] | select(.path == \"$t/$1\") | .result"; }
assert_eq changed "$(result d.2)" "d.2"
assert_eq changed "$(result s.0)" "s.0"
assert_eq changed "$(result x.3)" "x.3"
assert_eq source "$(result s.1)" "s.1, the new source"
for f in d.1 d.3 s.2 s.3 x.1 x.2; do
	assert_eq deduped "$(result $f)" "$f"
done
assert_eq 6 "$(j .files_deduped)" "files_deduped"
grep -q "$t/d.2: changed during the run; left as it is" "$RESULTS_DIR/stderr" || fail "no message names d.2"

# The changed files kept their new content and are not shared.
for f in d.2 s.0 x.3; do
	! filefrag -v "$t/$f" | grep -q shared || fail "$f shares extents"
done
assert_eq 1048576 "$(stat -c %s "$t/x.3")" "x.3 size"
same_content "$t/d.0" "$t/d.1" "$t/d.3"
same_content "$t/s.1" "$t/s.2" "$t/s.3"
assert_not same_content "$t/d.0" "$t/d.2"
assert_not same_content "$t/s.0" "$t/s.1"

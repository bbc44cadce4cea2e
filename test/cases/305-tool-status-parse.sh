#!/bin/bash
# proves: pcshare status and stat read the module's counters and debugfs group list tolerantly (unknown keys, lines and counters are ignored or listed, not fatal), say "N groups, M files, X saved" in words, match files to groups by device and inode, and give the same facts in JSON.
# groups: quick tool
# fs: none
. "$REPO/test/lib/common.sh"
require_cmd jq
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

# A fake /sys, as the module will lay it out, plus things a newer module may add.
sys=$RESULTS_DIR/sys
mkdir -p "$sys/module/pcshare" "$sys/kernel/pcshare/breaks_by" "$sys/kernel/debug/pcshare"
c=$sys/kernel/pcshare
echo 2 >"$c/groups"
echo 5 >"$c/members"
echo 3 >"$c/active_members"
echo 17 >"$c/activations"
echo 1 >"$c/breaks"
echo 8388608 >"$c/anchor_bytes"
echo 12582912 >"$c/bytes_saved"
echo 1 >"$c/breaks_by/write"
echo "not a number" >"$c/notes"

f1=$RESULTS_DIR/one && f2=$RESULTS_DIR/two
echo one >"$f1" && echo two >"$f2"
dev=$(stat -c '%Hd:%Ld' "$f1")
ino1=$(stat -c %i "$f1") && ino2=$(stat -c %i "$f2")
cat >"$sys/kernel/debug/pcshare/groups" <<EOT
# a comment line, ignored
group 7 dev $dev size 4 cached 4096 members 3 active 2 flavour mint
  member ino $ino1 active
  member ino $ino2 registered since 12
  member ino 999 broken
group 8 dev 0:99 size 8388608 cached 0 members 2 active 1
  member ino 5 active
  member ino 6 dormant
something else entirely
EOT
export PCSHARE_SYSROOT=$sys

out=$("$pcshare" status)
echo "$out"
grep -q "^pcshare module: loaded$" <<<"$out" || fail "status: not 'loaded'"
grep -q "^  2 groups, 5 files (3 active), 12.0 MiB of page cache saved$" <<<"$out" ||
	fail "status: no summary in words"
grep -q "^  breaks_by/write  *1$" <<<"$out" || fail "status: counter in a subdirectory not listed"
grep -q "notes" <<<"$out" && fail "status: listed a counter that is not a number"
grep -q "^Groups: 2 (use -v to list them)$" <<<"$out" || fail "status: group count"
out=$("$pcshare" status -v)
echo "$out"
grep -q "^  group 7: 3 files of 4 B on $dev, 2 active, 4.0 KiB cached$" <<<"$out" || fail "status -v: group 7"
grep -q "^    ino 6 dormant$" <<<"$out" || fail "status -v: an unknown state is not shown as it is"

js=$("$pcshare" status --json)
assert_eq true "$(jq .loaded <<<"$js")" "loaded"
assert_eq 12582912 "$(jq .counters.bytes_saved <<<"$js")" "counters.bytes_saved"
assert_eq 1 "$(jq '.counters["breaks_by/write"]' <<<"$js")" "counters.breaks_by/write"
assert_eq 2 "$(jq '.groups | length' <<<"$js")" "groups"
assert_eq registered "$(jq -r '.groups[0].files[1].state' <<<"$js")" "state of the second member"
assert_eq null "$(jq .groups_error <<<"$js")" "groups_error"

out=$("$pcshare" stat "$f1" "$f2")
echo "$out"
grep -qF "$f1: page cache shared: group 7 (active), with 2 other files: $f2 (registered), ino 999 (broken)" <<<"$out" ||
	fail "stat: $f1"
grep -qF "$f2: page cache in a group: group 7 (registered)" <<<"$out" || fail "stat: $f2"
js=$("$pcshare" stat --json "$f1")
assert_eq 7 "$(jq .files[0].group.id <<<"$js")" "stat --json group id"
assert_eq active "$(jq -r .files[0].state <<<"$js")" "stat --json state"
assert_eq "$f1" "$(jq -r .files[0].group.files[0].path <<<"$js")" "stat --json member path"

# No group list: said in words, and in JSON.
rm "$sys/kernel/debug/pcshare/groups"
out=$("$pcshare" status)
grep -q "^Groups: not listed: this module has no group list" <<<"$out" || fail "status without a group list: $out"
out=$("$pcshare" stat "$f1")
grep -q "page cache sharing unknown (this module has no group list" <<<"$out" || fail "stat without a group list: $out"
js=$("$pcshare" status --json)
assert_eq null "$(jq .groups <<<"$js")" "groups without a list"

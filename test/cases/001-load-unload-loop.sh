#!/bin/bash
# proves: loading and unloading pcshare 10 times while reflinked copies are made and read never changes what a reader sees and leaves no ftrace hook behind.
# groups: quick lifecycle clone
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink

rounds=${CASE_LOAD_ROUNDS:-10}
copies=8
src=$SCRATCH_MNT/src
make_file "$src" 4M 1
want=$(sha256_of "$src")
stop=$RESULTS_DIR/stop
bad=$RESULTS_DIR/mismatches
count=$RESULTS_DIR/iterations
rm -f "$stop" "$bad" "$count"

# Background: overwrite copies with cp --reflink=always (O_TRUNC + FICLONE on
# an existing file) and read each one back, until told to stop.
(
	i=0
	while [[ ! -e $stop ]]; do
		dst=$SCRATCH_MNT/copy.$((i % copies))
		cp --reflink=always "$src" "$dst"
		got=$(sha256_of "$dst")
		[[ $got == "$want" ]] || echo "round $i: $dst has $got" >>"$bad"
		i=$((i + 1))
		echo "$i" >"$count"
	done
) &
bg=$!
on_exit stop_pid "$bg"

first_hooks=
for ((r = 1; r <= rounds; r++)); do
	module_load || fail "round $r: insmod failed"
	[[ -n $PCSHARE_HOOKS ]] ||
		fail "round $r: no function has a pcshare ftrace callback while loaded; this test proves nothing"
	if [[ -z $first_hooks ]]; then
		first_hooks=$PCSHARE_HOOKS
		log "hooked: $(echo "$PCSHARE_HOOKS" | tr '\n' ' ')"
	fi
	sleep 0.$((RANDOM % 5))
	module_unload 60 || fail "round $r: rmmod failed"
	hooks_absent "$first_hooks" || fail "round $r: ftrace hooks left after rmmod"
done

touch "$stop"
wait "$bg" || fail "the background copy/read loop failed"
n=$(cat "$count" 2>/dev/null || echo 0)
log "background loop made and read $n copies"
((n >= rounds)) || fail "the background loop ran only $n times; too few to prove anything"
[[ ! -s $bad ]] || fail "copies read back wrong: $(head -n 3 "$bad")"

same_content "$src" "$SCRATCH_MNT"/copy.* || fail "copies differ from the source"
drop_caches
same_content "$src" "$SCRATCH_MNT"/copy.* || fail "copies differ from the source after drop_caches"
assert_eq "$want" "$(sha256_of "$src")" "source sha256"

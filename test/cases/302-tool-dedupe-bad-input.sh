#!/bin/bash
# proves: pcshare dedupe refuses missing paths, special files, paths on filesystems that cannot dedupe and unreadable paths with a clear message, exit status 2 and nothing done; takes files as well as directories; and never crosses into another filesystem mounted inside a tree.
# groups: tool dedupe
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd setpriv
require_reflink
pcshare=$REPO/tools/pcshare
[[ -x $pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

expect() {
	local want=$1 rc=0
	shift
	out=$("$@" 2>"$RESULTS_DIR/stderr") || rc=$?
	err=$(cat "$RESULTS_DIR/stderr")
	echo "\$ $* -> $rc"
	echo "$out"
	echo "$err"
	[[ $rc -eq $want ]] || fail "'$*' exited $rc, expected $want"
}

says() {
	grep -qF -- "$1" <<<"$err" || fail "stderr lacks '$1'"
}

untouched() {
	! filefrag -v "$1" | grep -q shared || fail "$1 was deduped"
}

t=$SCRATCH_MNT/tree
mkdir -p "$t"
make_file "$t/a" 1M 7
cp --reflink=never "$t/a" "$t/b"
sync

# A missing path among good ones: nothing is done.
expect 2 "$pcshare" dedupe "$t" "$t/missing"
says "$t/missing: No such file or directory"
says "nothing done"
untouched "$t/b"

# A special file.
mkfifo "$t/fifo"
expect 2 "$pcshare" dedupe "$t" "$t/fifo"
says "$t/fifo: not a directory or a regular file"
untouched "$t/b"

# Mixed filesystems: this one and a tmpfs, which cannot dedupe.
tmp=$RESULTS_DIR/tmpfs
mkdir -p "$tmp" && mount -t tmpfs tmpfs "$tmp" && on_exit umount "$tmp"
expect 2 "$pcshare" dedupe "$t" "$tmp"
says "$tmp: tmpfs cannot dedupe files"
untouched "$t/b"

# No permission: a directory nobody may read, as nobody.
mkdir -m 0700 "$t/private"
chmod 0755 "$t" "$SCRATCH_MNT"
expect 2 setpriv --reuid=nobody --regid=nogroup --clear-groups "$pcshare" dedupe "$t/private"
says "$t/private: Permission denied"

# Files, not only directories, may be named: these two get deduped.
expect 0 "$pcshare" dedupe "$t/a" "$t/b"
grep -q "^Deduped: *1 files" <<<"$out" || fail "naming two files did not dedupe them"
filefrag -v "$t/b" | grep -q shared || fail "$t/b is not shared after naming it"

# A filesystem mounted inside the tree is not entered.
mkdir "$t/mnt"
mount -t tmpfs tmpfs "$t/mnt"
on_exit umount "$t/mnt"
echo same >"$t/mnt/x" && echo same >"$t/mnt/y"
expect 0 "$pcshare" dedupe -v "$t"
grep -q "^Skipped:.*1 mount point of another filesystem" <<<"$out" || fail "the tmpfs inside the tree was not skipped"
says "$t/mnt: skipped: mount point of another filesystem"
grep -q "/mnt/x" <<<"$out" && fail "a file of the inner tmpfs was considered"
true

#!/bin/bash
# proves: pcshare leaves alone what must not share: a partial clone (different sizes), a file held open for write when it is opened, a clone across filesystems, a directory, and a swapfile; and it never changes such an ioctl's result.
# groups: quick clone
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
size=$((4 << 20))
d=$SCRATCH_MNT
module_load

# Different sizes: FICLONERANGE of the first MiB only.
make_file "$d/big" $size 1
xfs_io -f -c "reflink $d/big 0 0 1m" "$d/part" >/dev/null
cost=$(read_cost "$d/big" "$d/part")
assert_near $((size + (1 << 20))) "$cost" 10 "page cache of a partial clone"
assert_eq 0 "$(pcshare_counter groups)" "groups after a partial clone"

# Open for write when opened: the cloner still holds its write fd (FICLONE
# through it), so a reader must not activate the clone until it is closed.
cat >"$RESULTS_DIR/clone_and_hold.py" <<'PY'
import fcntl, os, subprocess, sys
FICLONE = 0x40049409
src = os.open(sys.argv[1], os.O_RDONLY)
dst = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.ioctl(dst, FICLONE, src)
os.close(src)
print(subprocess.check_output(sys.argv[3:], text=True).strip(), flush=True)
os.close(dst)
PY
cost=$(/usr/bin/python3 "$RESULTS_DIR/clone_and_hold.py" "$d/big" "$d/held" \
	bash -c ". $REPO/test/lib/common.sh; read_cost $d/big $d/held")
assert_near $((2 * size)) "$cost" 10 "page cache while the cloner holds its write fd"
# Once closed, it stays unshared until proven identical again: reading it
# while the writer was open may have changed its metadata (atime), which a
# re-verification cannot tell from a write.  A new clone proves it.
cp --reflink=always "$d/big" "$d/held"
cost=$(read_cost "$d/big" "$d/held")
assert_near $size "$cost" 15 "page cache once cloned again"

# Another filesystem: the clone fails the same way with and without us.
groups=$(pcshare_counter groups)
if cp --reflink=always "$d/big" /tmp/other-fs 2>"$RESULTS_DIR/xdev.err"; then
	fail "a reflink from $FSTYP to tmpfs succeeded"
fi
assert_eq "$groups" "$(pcshare_counter groups)" "groups after a cross-filesystem clone"

# A directory as destination: EISDIR from the kernel, nothing registered.
mkdir "$d/dir"
out=$(xfs_io -c "reflink $d/big" "$d/dir" 2>&1 || true)
log "reflink into a directory: $out"
assert_eq "$groups" "$(pcshare_counter groups)" "groups after a clone into a directory"

# A swapfile cannot be cloned from or into; it is never a member.
if [[ $FSTYP == xfs ]]; then
	dd if=/dev/zero of="$d/swap" bs=1M count=16 status=none
	chmod 600 "$d/swap"
	mkswap "$d/swap" >/dev/null
	if swapon "$d/swap" 2>/dev/null; then
		on_exit swapoff "$d/swap"
		assert_not cp --reflink=always "$d/swap" "$d/swap.clone"
		assert_not cp --reflink=always "$d/big" "$d/swap"
		assert_eq "$groups" "$(pcshare_counter groups)" "groups after swapfile clones"
		swapoff "$d/swap"
	else
		log "swapon not possible here; swapfile part not run"
	fi
fi

#!/bin/bash
# proves: the ioctls that rewrite a file through a read-only fd -- btrfs defragment (btrfs filesystem defragment, and BTRFS_IOC_DEFRAG through an ioctl-only O_ACCMODE 3 fd) and FS_IOC_ENABLE_VERITY (fsverity enable) -- and any ioctl-only open break an active member for good before they run: the file gets exactly the bytes, extents and verity digest it gets without pcshare, the rest of the group keeps sharing, and no kernel warning follows, also after an unmount.
# groups: quick break ioctl
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
d=$SCRATCH_MNT
blocks=64

# A file of $blocks 4 KiB extents, none next to the one before it on disk
# (even blocks first, each synced, then odd ones), so that a defragment has
# work to do; then three reflinked copies, all in one group with pcshare.
setup() {
	local i cmds=()
	rm -f "$d"/frag "$d"/frag.*
	for ((i = 0; i < blocks; i += 2)); do
		cmds+=(-c "pwrite -q -S $((i + 1)) $((i * 4096)) 4096" -c fsync)
	done
	for ((i = 1; i < blocks; i += 2)); do
		cmds+=(-c "pwrite -q -S $((i + 1)) $((i * 4096)) 4096" -c fsync)
	done
	xfs_io -f "${cmds[@]}" "$d/frag"
	reflink_copies "$d/frag" 3
	sync
}

extents() {
	xfs_io -r -c fiemap "$1" | { grep -c -E '^[[:space:]]*[0-9]+: ' || true; }
}

# ioctl_only_open FILE [defrag]: open FILE with O_ACCMODE 3 (ioctls only,
# read and write permission checked, neither granted); with "defrag", issue
# BTRFS_IOC_DEFRAG (_IOW(0x94, 2, struct btrfs_ioctl_vol_args)) through it.
ioctl_only_open() {
	/usr/bin/python3 - "$@" <<'EOF'
import fcntl, os, sys
fd = os.open(sys.argv[1], 3)
if sys.argv[2:] == ["defrag"]:
    fcntl.ioctl(fd, 0x50009402, 0)
os.close(fd)
EOF
}

# fs-verity: btrfs with a kernel built with CONFIG_FS_VERITY (Debian's is;
# the debug kernel's small config is not).
have_verity=0
if [[ $FSTYP == btrfs ]]; then
	require_cmd fsverity
	head -c 8192 /dev/urandom >"$d/verity-probe"
	if fsverity enable "$d/verity-probe" 2>"$RESULTS_DIR/verity-probe.err"; then
		have_verity=1
	elif grep -q 'Operation not supported' "$RESULTS_DIR/verity-probe.err"; then
		log "no fs-verity in this kernel: the verity part is not run"
	else
		fail "fsverity enable on a plain file: $(cat "$RESULTS_DIR/verity-probe.err")"
	fi
	rm -f "$d/verity-probe"
fi

# run SIDE: every rewrite on its own member; record contents and facts.
declare -A got
run() {
	local side=$1
	setup
	got[$side.frag_extents_before]=$(extents "$d/frag.1")
	if [[ $FSTYP == btrfs ]]; then
		btrfs filesystem defragment -f "$d/frag.1"
		sync
		got[$side.frag_extents_after]=$(extents "$d/frag.1")
		ioctl_only_open "$d/frag.2" defrag
		sync
		got[$side.frag2_extents_after]=$(extents "$d/frag.2")
	else
		ioctl_only_open "$d/frag.2"
	fi
	sync
	if ((have_verity)); then
		fsverity enable "$d/frag.3"
		got[$side.digest]=$(fsverity measure "$d/frag.3" | cut -d' ' -f1)
	fi
	local f
	for f in "$d"/frag "$d"/frag.*; do
		got[$side.$(basename "$f")]=$(sha256_of "$f")
	done
}

run without
log "without pcshare: frag.1 had ${got[without.frag_extents_before]} extents${got[without.frag_extents_after]:+, ${got[without.frag_extents_after]} after the defragment}${got[without.digest]:+; frag.3 verity digest ${got[without.digest]}}"
if [[ $FSTYP == btrfs ]]; then
	# The control shows the setup gives defrag work to do.
	assert_ge "${got[without.frag_extents_before]}" $((blocks / 2)) "extents before defrag"
	assert_le "${got[without.frag_extents_after]}" 4 "extents after defrag, without pcshare"
fi

module_load
setup
cat "$d"/frag "$d"/frag.* >/dev/null
assert_eq 4 "$(pcshare_counter active_members)" "active members before"
assert_eq 0 "$(pcshare_counter breaks_ioctl)" "ioctl breaks before"
holder_start h "$d/frag"

if [[ $FSTYP == btrfs ]]; then
	btrfs filesystem defragment -f "$d/frag.1"
	sync
	assert_eq "${got[without.frag_extents_after]}" "$(extents "$d/frag.1")" \
		"extents after defrag, as without pcshare"
	assert_eq 1 "$(pcshare_counter breaks_ioctl)" "breaks by a defragment"
	assert_eq 3 "$(pcshare_counter active_members)" "active after a defragment"
	ioctl_only_open "$d/frag.2" defrag
	sync
	assert_eq "${got[without.frag2_extents_after]}" "$(extents "$d/frag.2")" \
		"extents after BTRFS_IOC_DEFRAG through an ioctl-only fd, as without pcshare"
	assert_eq 2 "$(pcshare_counter breaks_ioctl)" "breaks by an ioctl-only open"
else
	ioctl_only_open "$d/frag.2"
	assert_eq 1 "$(pcshare_counter breaks_ioctl)" "breaks by an ioctl-only open"
fi

if ((have_verity)); then
	fsverity enable "$d/frag.3"
	assert_eq 3 "$(pcshare_counter breaks_ioctl)" "breaks by fsverity enable"
	assert_eq "${got[without.digest]}" "$(fsverity measure "$d/frag.3" | cut -d' ' -f1)" \
		"fs-verity digest"
fi

log "with pcshare: $(pcshare_counter breaks_ioctl) ioctl breaks, $(pcshare_counter active_members) members still active"
# Sticky: reading the rewritten files again does not make them share.
cat "$d"/frag "$d"/frag.* >/dev/null
active=$(pcshare_counter active_members)
if [[ $FSTYP == btrfs ]]; then
	assert_eq $((have_verity ? 1 : 2)) "$active" "active members after the rewrites and a reread"
else
	assert_eq 3 "$active" "active members after the ioctl-only open and a reread"
fi
mapfile -t seen < <(holder_check h)
read -r fdsum mapsum _ <<<"${seen[0]:-}"
assert_eq "fd=${got[without.frag]}" "$fdsum" "the donor's fd opened before the rewrites"
assert_eq "map=${got[without.frag]}" "$mapsum" "the donor's mapping made before the rewrites"
holder_stop h

for f in "$d"/frag "$d"/frag.*; do
	b=$(basename "$f")
	assert_eq "${got[without.$b]}" "$(sha256_of "$f")" "$b: content with pcshare"
done
drop_caches
for f in "$d"/frag "$d"/frag.*; do
	b=$(basename "$f")
	assert_eq "${got[without.$b]}" "$(sha256_of "$f")" "$b: content from disk"
done

# Eviction and unmount are where a leaked reservation would warn.
assert module_unload 60
scratch_umount
assert scratch_check
scratch_mount
for f in "$d"/frag "$d"/frag.*; do
	b=$(basename "$f")
	assert_eq "${got[without.$b]}" "$(sha256_of "$f")" "$b: content after a remount"
done
pass

#!/bin/bash
# proves: every break trigger (open for write, O_RDONLY|O_TRUNC, truncate(2), fallocate, clone, dedupe and copy_file_range into a member), on the donor and on a clone, gives the changed file exactly the bytes it gets without pcshare, never shows them through another member, makes fds opened before the break see the new content, leaves mappings made before it on the old content, and keeps the rest of the group sharing.
# groups: quick break clone mmap
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd xfs_io
size=$((2 << 20))
triggers="write_open otrunc_rdonly truncate fpunch clone_into dedupe_into copy_range_into"
d=$SCRATCH_MNT

setup() {
	rm -f "$d"/src "$d"/copy.* "$d"/other
	make_file "$d/src" $size 1
	make_file "$d/other" $size 2
	reflink_copies "$d/src" 3 "$d/copy"
}

trigger() {
	local what=$1 target=$2
	case $what in
	write_open) xfs_io -c "pwrite -q -S 0x5a 4096 8192" "$target" ;;
	otrunc_rdonly)
		/usr/bin/python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC))' "$target" ;;
	truncate)
		/usr/bin/python3 -c 'import os, sys; os.truncate(sys.argv[1], 1 << 20)' "$target" ;;
	fpunch) xfs_io -c "fpunch 65536 65536" "$target" ;;
	clone_into) xfs_io -c "reflink $d/other 0 0 65536" "$target" ;;
	dedupe_into)
		# Identical bytes, from another member: content stays the same.
		local from=$d/copy.3
		[[ $target == "$from" ]] && from=$d/copy.2
		xfs_io -r -c "dedupe $from 0 0 65536" "$target" >/dev/null ;;
	copy_range_into) xfs_io -c "copy_range -s 0 -d 0 -l 65536 $d/other" "$target" ;;
	esac
}

members() {
	echo "$d/src" "$d"/copy.1 "$d"/copy.2 "$d"/copy.3
}

# Control: the same operations without pcshare.
# The donor and a clone hold the same bytes, so one run per trigger.
declare -A control
for t in $triggers; do
	setup
	trigger "$t" "$d/copy.1"
	control[$t]=$(sha256_of "$d/copy.1")
done
orig=$(sha256_of "$d/copy.2")

module_load
for t in $triggers; do
	for target in src copy.1; do
		setup
		# shellcheck disable=SC2046
		cat $(members) >/dev/null
		assert_eq 4 "$(pcshare_counter active_members)" "$t/$target: active before"
		bystander=$d/copy.2
		holder_start h "$d/$target" "$bystander"
		breaks=$(pcshare_counter breaks)

		trigger "$t" "$d/$target"

		want=${control[$t]}
		assert_eq "$want" "$(sha256_of "$d/$target")" "$t/$target: content"
		for f in $(members); do
			[[ $f == "$d/$target" ]] && continue
			assert_eq "$orig" "$(sha256_of "$f")" "$t/$target: bystander $f"
		done
		mapfile -t seen < <(holder_check h)
		read -r fdsum mapsum _ <<<"${seen[0]:-}"
		assert_eq "fd=$want" "$fdsum" "$t/$target: fd opened before the break"
		assert_eq "map=$orig" "$mapsum" "$t/$target: mapping made before the break"
		read -r fdsum mapsum _ <<<"${seen[1]:-}"
		assert_eq "fd=$orig" "$fdsum" "$t/$target: bystander fd"
		assert_eq "map=$orig" "$mapsum" "$t/$target: bystander mapping"
		holder_stop h
		assert_ge "$(pcshare_counter breaks)" $((breaks + 1)) "$t/$target: breaks counted"

		# The other three still share one copy.
		rest=()
		for f in $(members); do
			[[ $f == "$d/$target" ]] || rest+=("$f")
		done
		cost=$(read_cost "${rest[@]}")
		# Three members: 3 x size if they did not share.
		assert_le "$cost" $((size * 3 / 2)) "$t/$target: page cache of the other members"
		log "$t on $target: ok (others cost $cost bytes)"
	done
done

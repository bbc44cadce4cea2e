#!/bin/bash
# proves: rounds of drop_caches 1/2/3, reading everything from inside a 16 MiB memory cgroup, rmmod/insmod, umount/mount with a filesystem check, and (XFS) a forced shutdown without log flush followed by log recovery, each under load (readers checking every file's sha256, a writer re-cloning files with cp --reflink=always), leave every file with bytes it may hold, the filesystem consistent and sharing working again, with pcshare as without it.
# groups: stress lifecycle fault
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

require_reflink
require_cmd fincore
rounds=${CASE_FAULT_ROUNDS:-2}
size=$((4 << 20))
d=$SCRATCH_MNT
copies=6
flips=4
cg=/sys/fs/cgroup/pcshare-155

# The files: src and copy.1..6 (always src's bytes), alt, and flip.0..3,
# which the writer turns into src or alt by cp --reflink=always (O_TRUNC
# then FICLONE), so a reader, and a crash, may also find one empty.
make_file "$d/src" $size 155
make_file "$d/alt" $size 551
want=$(sha256_of "$d/src")
alt=$(sha256_of "$d/alt")
empty=$(sha256sum </dev/null | awk '{ print $1 }')

reclone() {
	local k
	reflink_copies "$d/src" $copies "$d/copy"
	for ((k = 0; k < flips; k++)); do
		cp --reflink=always "$d/src" "$d/flip.$k"
	done
	sync
}

# check_stable WHAT: the files nobody writes hold their bytes.
check_stable() {
	assert_eq "$want" "$(sha256_of "$d/src")" "$1: $d/src"
	same_content "$d/src" "$d"/copy.* || fail "$1: a copy differs from src"
	assert_eq "$alt" "$(sha256_of "$d/alt")" "$1: $d/alt"
}

# check_files WHAT: with the writer stopped, every file holds bytes it may
# hold.
check_files() {
	local f got
	check_stable "$1"
	for f in "$d"/flip.*; do
		got=$(sha256_of "$f")
		[[ $got == "$want" || $got == "$alt" || $got == "$empty" ]] ||
			fail "$1: $f holds neither src, alt nor nothing ($got)"
	done
}

stop=$RESULTS_DIR/stop
bad=$RESULTS_DIR/bad
load_pids=()
# The load: two readers checking the stable files and reading the others
# (a flip read across a rewrite may see parts of both, with or without
# pcshare), and one writer flipping files.
load_start() {
	local i
	rm -f "$stop"
	for i in 1 2; do
		(
			n=0
			while [[ ! -e $stop ]]; do
				for f in "$d/src" "$d"/copy.*; do
					got=$(sha256_of "$f") || exit 1
					[[ $got == "$want" ]] || echo "$f: $got" >>"$bad"
				done
				cat "$d"/flip.* >/dev/null || exit 1
				n=$((n + 1))
			done
			echo "$n" >>"$RESULTS_DIR/reader-passes"
		) &
		load_pids+=($!)
	done
	(
		k=0
		while [[ ! -e $stop ]]; do
			if ((k % 2)); then from=alt; else from=src; fi
			cp --reflink=always "$d/$from" "$d/flip.$((k % flips))" || exit 1
			k=$((k + 1))
		done
		echo "$k" >>"$RESULTS_DIR/writer-flips"
	) &
	load_pids+=($!)
}

load_stop() {
	local p rc=0
	touch "$stop"
	for p in "${load_pids[@]}"; do
		wait "$p" || rc=1
	done
	load_pids=()
	((rc == 0)) || fail "$1: a load process failed (an I/O error?)"
	[[ ! -s $bad ]] || fail "$1: wrong bytes read under load: $(head -n 3 "$bad")"
}
on_exit touch "$stop"

# read_in_cgroup: read every file from a process whose memory cgroup may hold
# 16 MiB (it reads 8 x 4 MiB); nothing may be OOM-killed.
# Without CONFIG_MEMCG (the debug kernel) that part is left out, and said.
have_memcg=1
cgroup_setup() {
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
	if ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
		log "NOTE: this kernel has no memory cgroup controller: the rounds read nothing inside a memory cgroup"
		have_memcg=0
		return 0
	fi
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "$cg"
	echo $((16 << 20)) >"$cg/memory.max"
	on_exit rmdir "$cg"
}

read_in_cgroup() {
	local out=$RESULTS_DIR/cgroup.sums oom
	((have_memcg)) || return 0
	(
		echo "$BASHPID" >"$cg/cgroup.procs"
		sha256sum "$d/src" "$d"/copy.* "$d/alt"
	) >"$out" || fail "$1: reading inside the memory cgroup failed"
	awk -v w="$want" -v a="$alt" -v alt="$d/alt" \
		'($2 == alt && $1 != a) || ($2 != alt && $1 != w) { bad = 1 } END { exit bad }' "$out" ||
		fail "$1: wrong bytes read inside the memory cgroup: $(cat "$out")"
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events")
	assert_eq 0 "$oom" "$1: OOM kills in the memory cgroup"
}

# crash_and_recover: XFS only, a shutdown that loses the unflushed log, as a
# power cut would; the next mount replays the log, then xfs_repair -n.
crash_and_recover() {
	if [[ $FSTYP == xfs ]]; then
		xfs_io -x -c shutdown "$d" || fail "$1: xfs_io shutdown"
		# Not scratch_umount: mountpoint(1) cannot stat a shut-down XFS.
		umount "$SCRATCH_MNT" || fail "$1: umount after the shutdown"
		scratch_mount || fail "$1: mount (log recovery) after the shutdown"
	fi
	scratch_umount
	scratch_check >"$RESULTS_DIR/fsck.log" 2>&1 ||
		fail "$1: $FSTYP check after umount: $(tail -n 5 "$RESULTS_DIR/fsck.log")"
	scratch_mount || fail "$1: mount"
}

# rounds SIDE: the fault loop, with or without the module.
rounds() {
	local side=$1 r what k
	for ((r = 1; r <= rounds; r++)); do
		what="$side round $r"
		reclone
		load_start
		for i in 1 2 3 1 2 3; do
			echo "$i" >/proc/sys/vm/drop_caches
			sleep 0.3
		done
		read_in_cgroup "$what"
		if [[ $side == with ]]; then
			module_unload 60 || fail "$what: rmmod under load"
			check_stable "$what, after rmmod"
			module_load || fail "$what: insmod under load"
			# Register the copies again as a dedupe tool would, under
			# load: FIDEDUPERANGE never changes a byte.
			for ((k = 1; k <= copies; k++)); do
				xfs_io -r -c "dedupe -q $d/src 0 0 $size" "$d/copy.$k" ||
					fail "$what: xfs_io dedupe into copy.$k"
			done
		fi
		sleep 1
		load_stop "$what"
		check_files "$what, load stopped"
		if [[ $side == with ]]; then
			assert_ge "$(pcshare_counter members)" 1 "$what: members before umount"
		fi
		crash_and_recover "$what"
		check_files "$what, after remount"
		if [[ $side == with ]]; then
			assert_eq 0 "$(pcshare_counter members)" "$what: members after umount"
		fi
	done
	# Sharing works again after all that (and not without pcshare).
	reclone
	cost=$(read_cost "$d/src" "$d"/copy.*)
	log "$side: reading src and $copies copies cost $cost bytes of page cache"
	echo "$cost" >"$RESULTS_DIR/cost.$side"
}

cgroup_setup
rounds without
module_load
rounds with
check_files "end"
assert_near $(((copies + 1) * size)) "$(cat "$RESULTS_DIR/cost.without")" 15 "page cache without pcshare"
assert_near $size "$(cat "$RESULTS_DIR/cost.with")" 25 "page cache with pcshare after $rounds fault rounds"
sum() { awk '{ s += $1 } END { print s + 0 }' "$1"; }
log "under load: $(sum "$RESULTS_DIR/reader-passes") reader passes over all files, $(sum "$RESULTS_DIR/writer-flips") flips"
assert module_unload 60

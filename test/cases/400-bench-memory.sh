#!/bin/bash
# proves: (benchmark, not judged) the page cache that reading N cp --reflink=always copies (N = 1..64) of a 4, 64 and 256 MiB file costs, without and with pcshare in the same VM; writes memory.csv for make bench.
# groups: bench memory
# fs: xfs
# timeout: 1200
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"

require_reflink
bench_machine
d=$SCRATCH_MNT/mem
sizes=(4 64 256)
points=(1 2 4 8 16 32 64)
nmax_all=64
csv=$RESULTS_DIR/memory.csv
echo "size_mib,mode,n,cached_bytes,anchor_bytes,read_s,note" >"$csv"

# Without pcshare, N copies need N x size of page cache: read only as many
# as fit in 70% of the VM's RAM, and mark the other points skipped, rather
# than measure the kernel's reclaim.
limit=$(($(mem_total_bytes) * 70 / 100))
meta memory.limit_bytes "$limit"

# run SIZE_MIB MODE: make the copies, read them one after the other, and
# record the growth of the page cache at each point N.
run() {
	local mib=$1 mode=$2 size=$(($1 << 20)) nmax=$nmax_all k base t0 read_s anchor p
	if [[ $mode == without ]]; then
		while ((nmax * size > limit)); do
			nmax=$((nmax / 2))
		done
	fi
	rm -rf "$d"
	mkdir -p "$d"
	make_file "$d/src" "${mib}M" "$mib"
	reflink_copies "$d/src" "$nmax" "$d/copy"
	# Clean pages only: the inodes (and pcshare's records of them) stay.
	drop_caches 1
	base=$(cached_bytes)
	read_s=0
	for ((k = 1; k <= nmax; k++)); do
		t0=$(now_us)
		cat "$d/copy.$k" >/dev/null
		read_s=$(awk -v a="$read_s" -v b="$(secs_since "$t0")" 'BEGIN { printf "%.3f", a + b }')
		for p in "${points[@]}"; do
			((p == k)) || continue
			anchor=
			module_loaded && anchor=$(pcshare_counter anchor_bytes)
			csv_row "$csv" "$mib" "$mode" "$k" $(($(cached_bytes) - base)) "$anchor" "$read_s" ""
		done
	done
	for p in "${points[@]}"; do
		((p > nmax)) || continue
		csv_row "$csv" "$mib" "$mode" "$p" "" "" "" "skipped: $p x $mib MiB exceeds 70% of the VM's RAM"
	done
	log "$mib MiB $mode: read $nmax copies in ${read_s}s, page cache grew by $(($(cached_bytes) - base)) bytes"
}

for mib in "${sizes[@]}"; do
	run "$mib" without
done
module_load
for mib in "${sizes[@]}"; do
	run "$mib" with
	pcshare_counters "with.$mib"
done
rm -rf "$d"
module_unload
cat "$csv"

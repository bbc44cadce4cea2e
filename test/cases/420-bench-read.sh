#!/bin/bash
# proves: (benchmark, not judged) reading copy k of a reflinked 64 MiB file once copy 1 is cached is a disk read without pcshare and a cache hit with it, and an active member's read(2) throughput matches an ordinary cached file's (readbw and fio), without and with pcshare in the same VM; writes read.csv for make bench.
# groups: bench read
# fs: xfs
# timeout: 900
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"

require_reflink
require_cmd fio fincore
bench_machine
d=$SCRATCH_MNT/read
mib=64
copies=8		# copy 1 warms the cache; copies 2..8 are the samples
passes=31		# readbw passes over member and ordinary, interleaved
fio_reps=3
csv=$RESULTS_DIR/read.csv
echo "test,mode,rep,file,bytes,ns,mib_s" >"$csv"
meta read.mib "$mib"

# readbw_rows TEST MODE ARGS...: run readbw, append its lines to the CSV
# (the file column is the file's base name).
readbw_rows() {
	local test=$1 mode=$2 pass file bytes ns mibs
	shift 2
	while read -r pass file bytes ns mibs; do
		csv_row "$csv" "$test" "$mode" "$pass" "${file##*/}" "$bytes" "$ns" "$mibs"
	done < <("$TEST_BIN/readbw" "$@")
}

# fio_row MODE REP FILE NAME: one fio sequential read(2) job over FILE, from
# the page cache (--invalidate=0: fio would drop the file's cache first).
fio_row() {
	local mode=$1 rep=$2 file=$3 name=$4 out bw_kib runtime_ms
	out=$(fio --name=seqread --filename="$file" --rw=read --bs=128k --ioengine=psync \
		--size="${mib}M" --loops=4 --invalidate=0 --output-format=terse --terse-version=3)
	# terse v3: field 7 read bandwidth (KiB/s), field 9 read runtime (ms)
	bw_kib=$(cut -d';' -f7 <<<"$out")
	runtime_ms=$(cut -d';' -f9 <<<"$out")
	csv_row "$csv" fio "$mode" "$rep" "$name" $((4 * mib << 20)) $((runtime_ms * 1000000)) \
		"$(awk -v k="$bw_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
}

run() {
	local mode=$1 k res
	rm -rf "$d"
	mkdir -p "$d"
	make_file "$d/src" "${mib}M" 42
	reflink_copies "$d/src" "$copies" "$d/copy"
	# The ordinary file: same size, other bytes, in no group.
	make_file "$d/plain" "${mib}M" 43
	drop_caches 1

	# 1. Copy k after copy 1 is cached.
	cat "$d/copy.1" >/dev/null
	res=$(fincore_bytes "$d/copy.1")
	meta "read.$mode.copy1_resident_bytes" "$res"
	for ((k = 2; k <= copies; k++)); do
		meta "read.$mode.copy${k}_resident_before" "$(fincore_bytes "$d/copy.$k")"
		readbw_rows copy-k "$mode" "$d/copy.$k"
	done

	# 2. An active member (copy 2, cached) against the ordinary file, both
	# cached: interleaved passes, then fio.
	cat "$d/plain" >/dev/null
	meta "read.$mode.plain_resident_bytes" "$(fincore_bytes "$d/plain")"
	readbw_rows member-vs-plain "$mode" -p "$passes" "$d/copy.2" "$d/plain"
	for ((k = 1; k <= fio_reps; k++)); do
		fio_row "$mode" "$k" "$d/copy.2" copy.2
		fio_row "$mode" "$k" "$d/plain" plain
	done
	if module_loaded; then
		pcshare_counters "read.$mode"
	fi
}

run without
module_load
run with
rm -rf "$d"
module_unload
cat "$csv"

#!/bin/bash
# proves: the headline: 32 copies of a 64 MiB file made with cp --reflink=always cost 33 x 64 MiB of page cache when read without pcshare and about 64 MiB with it, and every copy keeps its checksum (make demo prints the table).
# groups: demo memory
# fs: xfs
. "$REPO/test/lib/common.sh"

require_reflink
n=${DEMO_COPIES:-32}
size=$((${DEMO_MIB:-64} << 20))
d=$SCRATCH_MNT
table=$RESULTS_DIR/table.txt

make_file "$d/model.bin" $size 64
want=$(sha256_of "$d/model.bin")

# run_side LABEL: make the copies, read them all, record the costs.
run_side() {
	local label=$1 f ok=yes cost fin
	rm -rf "$d/copies"
	mkdir "$d/copies"
	for ((i = 1; i <= n; i++)); do
		cp --reflink=always "$d/model.bin" "$d/copies/model.$i.bin"
	done
	cost=$(read_cost "$d/model.bin" "$d/copies"/*)
	fin=$(fincore_bytes "$d/model.bin" "$d/copies"/*)
	for f in "$d/model.bin" "$d/copies"/*; do
		[[ $(sha256_of "$f") == "$want" ]] || ok=no
	done
	printf -v "cost_$label" %s "$cost"
	printf -v "fin_$label" %s "$fin"
	printf -v "sums_$label" %s "$ok"
}

mib() {
	awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}

cost_without='' fin_without='' sums_without='' cost_with='' fin_with='' sums_with=''
run_side without
module_load
run_side with
groups=$(pcshare_counter groups) active=$(pcshare_counter active_members)
module_unload

files=$((n + 1))
# shellcheck disable=SC2154 # cost_*, fin_*, sums_* are set by eval in run_side
{
	echo "pcshare demo: $files files (1 original + $n cp --reflink=always copies of $((size >> 20)) MiB) on XFS, kernel $(uname -r)"
	echo
	printf '%-44s %18s %18s\n' "" "without pcshare" "with pcshare"
	printf '%-44s %18s %18s\n' "page cache used to read all files (Cached)" "$(mib "$cost_without")" "$(mib "$cost_with")"
	printf '%-44s %18s %18s\n' "fincore: resident, summed over the files" "$(mib "$fin_without")" "$(mib "$fin_with")"
	printf '%-44s %18s %18s\n' "every file's sha256 matches the original" "$sums_without" "$sums_with"
	printf '%-44s %18s %18s\n' "groups / active members" "-" "$groups / $active"
	echo
	awk -v a="$cost_without" -v b="$cost_with" -v s="$size" 'BEGIN {
		printf "page cache: %.2f x the file size without pcshare, %.2f x with it; saving %.1f%% (%.1f x less)\n",
			a / s, b / s, 100 * (a - b) / a, a / b }'
	echo "(fincore counts what each file can see resident: with pcshare every copy sees the one shared copy.)"
} >"$table"
cat "$table"

assert_eq yes "$sums_without" "checksums without pcshare"
assert_eq yes "$sums_with" "checksums with pcshare"
assert_near $((files * size)) "$cost_without" 10 "page cache without pcshare"
assert_near "$size" "$cost_with" 15 "page cache with pcshare"

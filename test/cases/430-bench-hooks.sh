#!/bin/bash
# proves: (benchmark, not judged) the cost of pcshare's hooks on files outside any group: open/close and stat+open+read+close loops without the module, with it, with 10,000 live groups, and again without it, in the same VM; writes hooks.csv for make bench.
# groups: bench hooks
# fs: xfs
# timeout: 1200
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"

require_reflink
bench_machine
d=$SCRATCH_MNT
iters=20000
reps=7
ngroups=10000
csv=$RESULTS_DIR/hooks.csv
echo "phase,loop,rep,iterations,ns_per_op" >"$csv"
meta hooks.iterations "$iters"
meta hooks.groups_wanted "$ngroups"

# 100 small files, never cloned: outside any group.
mkdir "$d/plain"
for ((i = 0; i < 100; i++)); do
	printf '%04096d' "$i" >"$d/plain/f$i"
done
files=("$d/plain"/f*)
sync

# loops PHASE: REPS rounds of both loops, interleaved.
loops() {
	local r mode it ns
	for ((r = 1; r <= reps; r++)); do
		for mode in open sorc; do
			read -r mode it _ ns < <("$TEST_BIN/oploop" "$mode" "$iters" "${files[@]}")
			csv_row "$csv" "$1" "$mode" "$r" "$it" "$ns"
		done
	done
	log "phase $1 done"
}

loops no-module
module_load
loops module
mkdir "$d/groups"
t0=$(now_us)
read -r _ ns < <("$TEST_BIN/clonemany" "$d/groups" "$ngroups")
meta hooks.clonemany_s "$(secs_since "$t0")"
meta hooks.groups_live "$(pcshare_counter groups)"
log "$(pcshare_counter groups) groups after $ns ns of clonemany"
loops module-10k-groups
meta hooks.groups_live_after "$(pcshare_counter groups)"
pcshare_counters hooks
t0=$(now_us)
module_unload 120
meta hooks.unload_s "$(secs_since "$t0")"
loops no-module-after
cat "$csv"

#!/bin/bash
# proves: (benchmark, not judged) the cost of pcshare's hooks on files outside any group: open/close and stat+open+read+close loops without the module and with it (alternate rounds), with 10,000 live groups, and again without it, in the same VM; writes hooks.csv for make bench.
# groups: bench hooks
# fs: xfs
# timeout: 1200
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"

require_reflink
bench_machine
d=$SCRATCH_MNT
iters=20000
reps=9
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

# round PHASE R: one round of both loops.
round() {
	local mode it ns
	for mode in open sorc; do
		read -r mode it _ ns < <("$TEST_BIN/oploop" "$mode" "$iters" "${files[@]}")
		csv_row "$csv" "$1" "$mode" "$2" "$it" "$ns"
	done
}

# 1. Without the module and with it (no group), in alternate rounds: drifts
# of the machine (another VM on the host, say) hit both alike.
for ((r = 1; r <= reps; r++)); do
	round no-module "$r"
	module_load
	round module "$r"
	module_unload
done
log "phases no-module and module done"

# 2. With 10,000 live groups, then without the module again.
module_load
mkdir "$d/groups"
t0=$(now_us)
read -r _ ns < <("$TEST_BIN/clonemany" "$d/groups" "$ngroups")
meta hooks.clonemany_s "$(secs_since "$t0")"
meta hooks.groups_live "$(pcshare_counter groups)"
log "$(pcshare_counter groups) groups after $ns ns of clonemany"
for ((r = 1; r <= reps; r++)); do
	round module-10k-groups "$r"
done
meta hooks.groups_live_after "$(pcshare_counter groups)"
pcshare_counters hooks
t0=$(now_us)
module_unload 120
meta hooks.unload_s "$(secs_since "$t0")"
for ((r = 1; r <= reps; r++)); do
	round no-module-after "$r"
done
cat "$csv"

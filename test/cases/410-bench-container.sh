#!/bin/bash
# proves: (benchmark, not judged) 16 containers made with cp -a --reflink=always of a Python tree (interpreter + stdlib), each running the interpreter from its own copy to import a module set: total page cache and wall time without pcshare, then with it (loaded, pcshare dedupe to register the copies), in the same VM; writes container.csv for make bench.
# groups: bench container
# fs: xfs
# timeout: 1500
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"

require_reflink
bench_machine
py=/usr/bin/python3.11
stdlib=/usr/lib/python3.11
[[ -x $py && -d $stdlib ]] || skip "needs $py and $stdlib (Debian 12's python3.11)"
d=$SCRATCH_MNT
copies=16
reps=3
csv=$RESULTS_DIR/container.csv
echo "mode,rep,wall_s,cached_bytes,active_members" >"$csv"

# What each container runs: its own interpreter, which finds its standard
# library next to it (bin/../lib/python3.11), imports a set of modules (many
# .py/.pyc files read, extension modules mapped) and exits. -I: no user or
# environment paths; -B: never write .pyc files.
imports="sys, json, email.parser, http.client, asyncio, xml.etree.ElementTree, sqlite3, decimal, unittest, logging, argparse, csv, ssl, ctypes, concurrent.futures, urllib.request, zipfile, tarfile, lzma, hashlib, pickle, difflib, inspect, dataclasses, typing, statistics"
run_container() {
	"$1/bin/python3.11" -B -I -c "import $imports; assert sys.prefix == '$1', sys.prefix"
}

# The image: the interpreter and its standard library, copied (not
# reflinked: it comes from the host) onto the scratch XFS.
t0=$(now_us)
mkdir -p "$d/image/bin" "$d/image/lib"
cp -a "$py" "$d/image/bin/"
cp -a "$stdlib" "$d/image/lib/"
meta container.image_files "$(find "$d/image" -type f | wc -l)"
meta container.image_bytes "$(du -s -B1 --apparent-size "$d/image" | cut -f1)"
meta container.copies "$copies"
meta container.imports "$imports"
log "image copied in $(secs_since "$t0")s"
run_container "$d/image"

# make_copies: c1..cN with cp -a --reflink=always, two at a time.
make_copies() {
	local i t0
	t0=$(now_us)
	for ((i = 1; i <= copies; i += 2)); do
		cp -a --reflink=always "$d/image" "$d/c$i" &
		if ((i + 1 <= copies)); then
			cp -a --reflink=always "$d/image" "$d/c$((i + 1))"
		fi
		wait
	done
	meta container.copy_s "$(secs_since "$t0")"
}

# pass MODE REP: drop the clean page cache, start the N containers (two at a
# time, as two CPUs allow) and time them all; record the page cache growth.
pass() {
	local mode=$1 rep=$2 base t0 wall active=
	drop_caches 1
	base=$(cached_bytes)
	t0=$(now_us)
	for ((i = 1; i <= copies; i += 2)); do
		run_container "$d/c$i" &
		if ((i + 1 <= copies)); then
			run_container "$d/c$((i + 1))"
		fi
		wait
	done
	wall=$(secs_since "$t0")
	module_loaded && active=$(pcshare_counter active_members)
	csv_row "$csv" "$mode" "$rep" "$wall" $(($(cached_bytes) - base)) "$active"
	log "$mode rep $rep: ${wall}s, page cache +$(($(cached_bytes) - base)) bytes, active members ${active:--}"
}

make_copies
for ((r = 1; r <= reps; r++)); do
	pass without "$r"
done

# pcshare shares files cloned or deduped while it is loaded: load it, and
# let pcshare dedupe register the copies (their extents are already shared:
# it has next to nothing to dedupe on disk, and leaves content and times
# alone).
#
# Not the other way round: copies that cp -a makes while the module is
# loaded are registered at the clone, but cp -a then sets their times and
# mode, so the module takes them as changed and never shares them; and
# pcshare dedupe, seeing them registered, skips them as already shared
# (bench/latest/summary.md has the details).
module_load
t0=$(now_us)
"$REPO/tools/pcshare" dedupe --json --no-progress "$d/image" "$d"/c[0-9]* >"$RESULTS_DIR/dedupe.json" ||
	log "pcshare dedupe exit status $?"
meta with.dedupe_s "$(secs_since "$t0")"
pcshare_counters with.after_dedupe
for ((r = 1; r <= reps; r++)); do
	pass with "$r"
done
pcshare_counters with.end
module_unload
cat "$csv"

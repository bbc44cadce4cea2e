# shellcheck shell=bash
# Measuring the page cache and checking file contents.

# cached_bytes: the Cached: line of /proc/meminfo, in bytes.
cached_bytes() {
	awk '/^Cached:/ { printf "%.0f\n", $2 * 1024; exit }' /proc/meminfo
}

# fincore_bytes FILE...: bytes of the files' own pages in the page cache,
# summed (fincore counts the pages of each file's f_mapping).
fincore_bytes() {
	fincore --bytes --noheadings -o RES "$@" | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# sha256_of FILE: print the file's SHA-256.
sha256_of() {
	sha256sum "$1" | awk '{ print $1 }'
}

# sha256_record LIST FILE...: save the files' SHA-256 sums in LIST.
sha256_record() {
	local list=$1
	shift
	sha256sum "$@" >"$list"
}

# sha256_verify LIST: true if every file in LIST still has its recorded sum.
sha256_verify() {
	sha256sum --quiet -c "$1"
}

# same_content FILE...: true if all files have the same SHA-256 as the first.
same_content() {
	local want f got
	want=$(sha256_of "$1")
	for f in "${@:2}"; do
		got=$(sha256_of "$f")
		if [[ $got != "$want" ]]; then
			echo "same_content: $f differs from $1" >&2
			return 1
		fi
	done
}

# read_cost FILE...: drop the clean page cache (not the inodes: members must
# stay known), read every file once, and print how many bytes the page cache
# grew by.
read_cost() {
	local before after
	sync
	echo 1 >/proc/sys/vm/drop_caches
	before=$(cached_bytes)
	cat "$@" >/dev/null
	after=$(cached_bytes)
	echo $((after - before))
}

# assert_near EXPECTED ACTUAL TOLERANCE_PERCENT [WHAT]: integers within a
# tolerance of EXPECTED.
assert_near() {
	local want=$1 got=$2 pct=$3 what=${4:-value}
	local slack=$((want * pct / 100))
	if ((got < want - slack || got > want + slack)); then
		fail "$what: expected $want +/- $pct%, got $got"
	fi
}

# holder_start NAME FILE...: keep the FILEs open read-only and mapped in a
# background process (test/progs/holder.py) until holder_stop NAME.
holder_start() {
	local name=$1 dir=/tmp/holder.$1 fd
	shift
	mkdir -p "$dir"
	rm -f "$dir/in" "$dir/out"
	mkfifo "$dir/in"
	/usr/bin/python3 "$REPO/test/progs/holder.py" "$@" <"$dir/in" >"$dir/out" 2>"$RESULTS_DIR/holder.$name.err" &
	echo $! >"$dir/pid"
	echo $# >"$dir/count"
	on_exit kill "$!"
	exec {fd}>"$dir/in"
	echo "$fd" >"$dir/fd"
	retry_until 30 grep -q '^ready$' "$dir/out" ||
		fail "holder $name did not start: $(cat "$RESULTS_DIR/holder.$name.err")"
}

_holder_answered() {
	(($(wc -l <"$1") >= $2))
}

# holder_check NAME: print one line "fd=SUM map=SUM size=N" per held file, as
# the holder sees them now.
holder_check() {
	local dir=/tmp/holder.$1 fd lines count
	fd=$(cat "$dir/fd")
	count=$(cat "$dir/count")
	lines=$(wc -l <"$dir/out")
	echo >&"$fd"
	retry_until 30 _holder_answered "$dir/out" $((lines + count)) ||
		fail "holder $1 did not answer: $(cat "$RESULTS_DIR/holder.$1.err")"
	tail -n "$count" "$dir/out"
}

# holder_stop NAME
holder_stop() {
	local dir=/tmp/holder.$1 fd
	fd=$(cat "$dir/fd")
	exec {fd}>&-
	# Other background processes may have inherited the fifo: no EOF.
	kill "$(cat "$dir/pid")" 2>/dev/null || true
	wait "$(cat "$dir/pid")" 2>/dev/null || true
}

# pcshare_groups: print the module's list of groups (debugfs, root only).
pcshare_groups() {
	cat /sys/kernel/debug/pcshare/groups
}

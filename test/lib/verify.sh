# shellcheck shell=bash
# Measuring the page cache and checking file contents.

# cached_bytes: the Cached: line of /proc/meminfo, in bytes.
cached_bytes() {
	awk '/^Cached:/ { print $2 * 1024; exit }' /proc/meminfo
}

# fincore_bytes FILE...: bytes of the files' own pages in the page cache,
# summed (fincore counts the pages of each file's f_mapping).
fincore_bytes() {
	fincore --bytes --noheadings -o RES "$@" | awk '{ s += $1 } END { print s + 0 }'
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

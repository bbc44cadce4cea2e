# shellcheck shell=bash
# Making test files and reflinked copies.

# make_file PATH SIZE [SEED]: write SIZE bytes (suffixes K, M, G: powers of
# 1024) of deterministic pseudo-random data; the same SEED (default 1) always
# gives the same bytes.
make_file() {
	"$TEST_BIN/mkdata" "$1" "$2" "${3:-1}"
}

# reflink_copies SRC N [PREFIX]: make N copies PREFIX.1 .. PREFIX.N (PREFIX
# defaults to SRC) with cp --reflink=always, which fails rather than copy.
reflink_copies() {
	local src=$1 n=$2 prefix=${3:-$1} i
	for ((i = 1; i <= n; i++)); do
		cp --reflink=always "$src" "$prefix.$i"
	done
}

# require_reflink [DIR]: skip unless cp --reflink=always works in DIR
# (default SCRATCH_MNT).
require_reflink() {
	local dir=${1:-$SCRATCH_MNT}
	local probe=$dir/.reflink-probe.$$
	head -c 4096 /dev/zero >"$probe"
	if ! cp --reflink=always "$probe" "$probe.clone" 2>/dev/null; then
		rm -f "$probe" "$probe.clone"
		skip "reflink not supported on ${FSTYP:-$dir}"
	fi
	rm -f "$probe" "$probe.clone"
}

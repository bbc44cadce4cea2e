#!/bin/bash
# make checkpatch: run the kernel's checkpatch.pl (--strict) over the module's
# C sources and headers. checkpatch.pl and its data files come from Debian's
# linux-source-6.1 tarball, extracted once into .cache/checkpatch/.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=$repo/.cache/checkpatch
tarball=/usr/src/linux-source-6.1.tar.xz
wanted=(checkpatch.pl spelling.txt const_structs.checkpatch)

cd "$repo"
# include/pcshare_config.h is generated (kbuild/probe.sh); the probes are
# kernel C like the rest.
mapfile -t files < <(find module include kbuild/probes -name '*.[ch]' ! -name pcshare_config.h 2>/dev/null | LC_ALL=C sort)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "checkpatch: no .c or .h files under module/ or include/ yet"
	exit 0
fi

have_all() {
	local f
	for f in "${wanted[@]}"; do
		[[ -f $cache/$f ]] || return 1
	done
}

if ! have_all; then
	[[ -f $tarball ]] || "$repo/test/vm/deps.sh" --only linux-source-6.1
	[[ -f $tarball ]] || { echo "checkpatch: $tarball missing" >&2; exit 1; }
	echo "checkpatch: extracting ${wanted[*]} from $tarball" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	patterns=()
	for f in "${wanted[@]}"; do
		patterns+=("*/scripts/$f")
	done
	tar -xJf "$tarball" -C "$tmp" --wildcards "${patterns[@]}"
	mkdir -p "$cache"
	for f in "${wanted[@]}"; do
		src=$(find "$tmp" -path "*/scripts/$f" -print -quit)
		[[ -n $src ]] || { echo "checkpatch: $f not in $tarball" >&2; exit 1; }
		cp "$src" "$cache/$f"
	done
	chmod +x "$cache/checkpatch.pl"
fi

# --no-tree: this is not a kernel tree. checkpatch.pl finds spelling.txt and
# const_structs.checkpatch next to itself.
#
# Justified exceptions are listed in test/checkpatch.exceptions, one
# "FILE TYPE  # why" per line; they are ignored for that file only.
rc=0
for f in "${files[@]}"; do
	ignore=$(awk -v f="$f" '$1 == f { printf "%s,", $2 }' "$repo/test/checkpatch.exceptions" 2>/dev/null)
	perl "$cache/checkpatch.pl" --no-tree --strict --color=never --quiet \
		${ignore:+--ignore "${ignore%,}"} -f "$f" || rc=1
done
if ((rc == 0)); then
	echo "checkpatch: ${#files[@]} files clean (exceptions: test/checkpatch.exceptions)"
fi
exit "$rc"

#!/bin/bash
# Print the kernel version (uname -r form) the tests boot by default: the one
# Debian's linux-image-amd64 metapackage depends on today, for example
# 6.1.0-56-amd64. The Makefile and test/vm/check.sh both ask this script, so
# they always agree.
#
# If the package lists are missing (fresh machine) and we are root, run
# `apt-get update` once and ask again. If the query still fails, fall back to
# the version this project was last checked against.
set -euo pipefail

readonly FALLBACK_KVER=6.1.0-56-amd64

query() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*\)$/\1/p' | head -n 1
}

kver=$(query || true)
if [[ -z $kver && $(id -u) -eq 0 ]] && ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	echo "kver.sh: no apt package lists; running apt-get update" >&2
	apt-get update -q >&2 || true
	kver=$(query || true)
fi
if [[ -z $kver ]]; then
	echo "kver.sh: cannot ask apt-cache for linux-image-amd64; using $FALLBACK_KVER" >&2
	kver=$FALLBACK_KVER
fi
echo "$kver"

#!/bin/bash
# Serve a directory tree READ-ONLY over virtiofs.
#
# usage: test/vm/virtiofsd-ro.sh SOCKET DIR MOUNTPOINT [virtiofsd -o options]
#
# QEMU's virtiofsd has no read-only mode. So it runs in a private mount
# namespace in which DIR, and every mount below it, is bind-mounted read-only
# at MOUNTPOINT (an empty directory); virtiofsd serves that. Nothing changes
# in the host's own mount namespace.
set -euo pipefail

if [[ $# -lt 3 ]]; then
	echo "usage: $0 SOCKET DIR MOUNTPOINT [virtiofsd-options]" >&2
	exit 2
fi
sock=$1 dir=$2 mnt=$3
opts=${4:-cache=always}
virtiofsd=/usr/lib/qemu/virtiofsd

if [[ ${_VIRTIOFSD_RO_INNER:-0} != 1 ]]; then
	export _VIRTIOFSD_RO_INNER=1
	exec unshare --mount --propagation private -- "$0" "$@"
fi

mount --rbind "$dir" "$mnt"
# List the mounts before changing any (findmnt -l prints one per line).
mapfile -t mounts < <(findmnt -R -n -l -o TARGET "$mnt")
for m in "${mounts[@]}"; do
	if ! mount -o remount,bind,ro "$m"; then
		echo "virtiofsd-ro.sh: cannot make $m read-only; refusing to share it" >&2
		exit 1
	fi
done
if touch "$mnt/.virtiofsd-ro-probe" 2>/dev/null; then
	rm -f "$mnt/.virtiofsd-ro-probe"
	echo "virtiofsd-ro.sh: $mnt is still writable; refusing to share it" >&2
	exit 1
fi
# sandbox=namespace would pivot_root into the tree: EBUSY for "/".
exec "$virtiofsd" --socket-path="$sock" -o "source=$mnt,$opts,sandbox=chroot" \
	-o announce_submounts -o log_level=warn

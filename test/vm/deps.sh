#!/bin/bash
# Install the Debian packages the VM tests need, idempotently.
#
# usage: test/vm/deps.sh KVER [extra-package...]
#        test/vm/deps.sh --only PACKAGE...
#
# A package counts as present when dpkg says "install ok installed". Only when
# something is missing do we run `apt-get update` (once) and `apt-get install`.
set -euo pipefail

if [[ $# -lt 1 ]]; then
	echo "usage: $0 KVER [extra-package...] | --only PACKAGE..." >&2
	exit 2
fi
kver=$1
shift

if [[ $kver == --only ]]; then
	packages=("$@")
else
	packages=(
		# the VM and its initramfs
		qemu-system-x86 busybox-static cpio kmod xz-utils zstd lz4
		# building the module and the test helpers
		make gcc libc6-dev "linux-headers-$kver" liburing-dev libxxhash-dev
		# used by the tests inside the guest (which sees the host's root)
		xfsprogs btrfs-progs duperemove fio util-linux coreutils psmisc procps
		python3 dkms fsverity
		"$@"
	)
fi

installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run as root, or: apt-get install ${missing[*]}" >&2
	exit 1
fi

echo "deps.sh: installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0 --no-install-recommends)
apt-get "${apt_opts[@]}" update >&2
apt-get "${apt_opts[@]}" install "${missing[@]}" >&2

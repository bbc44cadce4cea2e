#!/bin/bash
# Everything `make check` does, from a fresh clone on a fresh Debian 12:
# install packages, fetch the stock kernel, build the initramfs, the module and
# the test helpers, then boot the VM and run the tests (test/vm/run.sh).
#
# usage: test/vm/check.sh [--kver KVER | --kernel SERIES] [--tests "GLOB..."]
#                         [--groups "GROUP..."] [--ko FILE] [--shell]
#
# --kernel SERIES (e.g. 6.12) boots a kernel built from Debian's
# linux-source-SERIES by build-kernel.sh (cached in $PCSHARE_KERNEL_CACHE,
# default /var/cache/pcshare) instead of a stock Debian image.
# --ko FILE uses an already built module instead of building pcshare.ko.
# See test/vm/run.sh for the VM_* and TEST_TIMEOUT environment variables.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$repo/.cache

kver='' series='' tests='' groups='' ko='' shell=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kernel) series=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--groups) groups=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--shell) shell=(--shell); shift ;;
	*)
		sed -n '6,7p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
done

step() {
	echo "# check: $*"
}

kdir_args=()
if [[ -n $series ]]; then
	step "packages"
	"$here/deps.sh" --only qemu-system-x86 busybox-static cpio kmod xz-utils make gcc \
		libc6-dev liburing-dev libxxhash-dev xfsprogs btrfs-progs duperemove fio \
		util-linux coreutils psmisc procps python3 bc bison flex libelf-dev libssl-dev
	step "kernel built from linux-source-$series (test/vm/build-kernel.sh)"
	kernel_dir=$("$here/build-kernel.sh" "$series" "${PCSHARE_KERNEL_CACHE:-/var/cache/pcshare}")
	kver=$(<"$kernel_dir/.kver")
	kdir_args=(KDIR="$kernel_dir/lib/modules/$kver/build")
	step "kernel $kver"
else
	[[ -n $kver ]] || kver=$("$here/kver.sh")
	step "kernel $kver"

	step "packages"
	"$here/deps.sh" "$kver"

	step "stock kernel"
	kernel_dir=$("$here/fetch-kernel.sh" "$kver" "$cache")
fi

initramfs=$cache/initramfs/$kver.cpio.gz
stale=0
for dep in "$here/init" "$here/mkinitramfs.sh" "$kernel_dir/.complete"; do
	[[ $initramfs -nt $dep ]] || stale=1
done
if ((stale)); then
	step "initramfs"
	"$here/mkinitramfs.sh" "$kver" "$kernel_dir" "$initramfs"
fi

if [[ -z $ko ]]; then
	step "module (make KVER=$kver ${kdir_args[*]})"
	make -C "$repo" --no-print-directory KVER="$kver" "${kdir_args[@]}"
	ko=$repo/pcshare.ko
	[[ -f $ko ]] || { echo "check.sh: the build made no $ko" >&2; exit 1; }
fi

step "test helpers and the pcshare tool"
make -C "$repo" --no-print-directory test-progs tools

step "VM"
exec "$here/run.sh" --kver "$kver" --kernel-dir "$kernel_dir" --initramfs "$initramfs" \
	--ko "$ko" --tests "$tests" --groups "$groups" "${shell[@]}"

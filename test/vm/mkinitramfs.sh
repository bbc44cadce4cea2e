#!/bin/bash
# Build the tiny initramfs for the test VM.
#
# usage: test/vm/mkinitramfs.sh KVER KERNEL_DIR OUT
#
# KERNEL_DIR is what fetch-kernel.sh made (with lib/modules/KVER/modules.dep).
# The image holds busybox-static, test/vm/init, and the kernel's own modules for
# virtio-pci, virtio-blk, 9p over virtio (or virtiofs, for kernels built
# without 9p such as Debian's cloud flavour), xfs and btrfs, with every dependency
# (modules.dep, plus modules.softdep "pre:" entries), listed in load order in
# /etc/vm-modules. `modprobe --show-depends` does the ordering: it walks
# modules.dep depth first, dependencies before users.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 KVER KERNEL_DIR OUT" >&2
	exit 2
fi
kver=$1
kdir=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
moddir=$kdir/lib/modules/$kver

# Wanted in this order; dependencies are pulled in before each. The host's
# files are shared over 9p, or virtiofs where the kernel has no 9p (Debian's
# cloud flavour) or VM_SHARE=virtiofs asks for it: include what exists.
has_module() {
	modprobe -C /dev/null -d "$kdir" -S "$kver" --show-depends "$1" >/dev/null 2>&1
}
wanted=(virtio_pci virtio_blk)
shares=()
if has_module 9p && has_module 9pnet_virtio; then
	wanted+=(9pnet_virtio 9p)
	shares+=(9p)
fi
if has_module virtiofs; then
	wanted+=(virtiofs)
	shares+=(virtiofs)
fi
if [[ ${#shares[@]} -eq 0 ]]; then
	echo "mkinitramfs.sh: $kver has neither 9p nor virtiofs modules" >&2
	exit 1
fi
wanted+=(xfs btrfs)

# busybox-static puts a static binary at /bin/busybox (plain "busybox" would be
# dynamic and useless before the host root is mounted).
busybox=/bin/busybox
if [[ ! -x $busybox ]] || [[ $(LC_ALL=C ldd "$busybox" 2>&1 || true) != *"not a dynamic executable"* ]]; then
	echo "mkinitramfs.sh: $busybox is missing or not static; apt-get install busybox-static" >&2
	exit 1
fi
if [[ ! -f $moddir/modules.dep ]]; then
	echo "mkinitramfs.sh: $moddir/modules.dep missing; run fetch-kernel.sh" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pcshare-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,host,rawhost,results,run,tmp,"lib/modules/$kver"}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 755 "$root/init"

declare -A seen=()
: >"$root/etc/vm-modules"
for m in "${wanted[@]}"; do
	# -C /dev/null: ignore the host's modprobe.d options and blacklists.
	if ! deps=$(modprobe -C /dev/null -d "$kdir" -S "$kver" --show-depends "$m"); then
		echo "mkinitramfs.sh: modprobe --show-depends $m failed for $kver" >&2
		exit 1
	fi
	while read -r verb path _; do
		[[ $verb == insmod ]] || continue # "builtin NAME": nothing to load
		rel=${path#"$moddir"/}
		[[ -n ${seen[$rel]:-} ]] && continue
		seen[$rel]=1
		rel_ko=${rel%.xz}
		rel_ko=${rel_ko%.zst}
		rel_ko=${rel_ko%.gz}
		dst=$root/lib/modules/$kver/$rel_ko
		mkdir -p "$(dirname "$dst")"
		# Decompress, so busybox insmod never has to.
		case $rel in
		*.ko.xz) xz -dc "$path" >"$dst" ;;
		*.ko.zst) zstd -q -dc "$path" >"$dst" ;;
		*.ko.gz) gzip -dc "$path" >"$dst" ;;
		*) cp "$path" "$dst" ;;
		esac
		echo "${dst#"$root"/}" >>"$root/etc/vm-modules"
	done <<<"$deps"
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet -o -H newc -0 --owner=0:0) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs.sh: $out: shares over ${shares[*]}; $(wc -l <"$root/etc/vm-modules") modules:" \
	"$(xargs -n1 basename <"$root/etc/vm-modules" | tr '\n' ' ')" >&2

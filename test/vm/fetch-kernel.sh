#!/bin/bash
# Fetch Debian's stock kernel image for KVER and unpack it into the cache.
#
# usage: test/vm/fetch-kernel.sh KVER CACHE_DIR
#
# Result: CACHE_DIR/kernels/KVER/boot/vmlinuz-KVER and
# CACHE_DIR/kernels/KVER/lib/modules/KVER/ with modules.dep (the .deb does not
# ship it; depmod makes it). Prints that directory. Does nothing if it exists.
#
# Also boot/vmlinux-KVER, the uncompressed kernel, when the kernel has
# CONFIG_PVH: QEMU boots that ELF directly, which saves the guest from
# decompressing an xz kernel under TCG (about 4 s per boot here).
#
# The package is linux-image-KVER-unsigned (same kernel as the signed one,
# without the EFI signature); linux-image-KVER is the fallback.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 KVER CACHE_DIR" >&2
	exit 2
fi
kver=$1
cache=$2
dest=$cache/kernels/$kver

# extract_vmlinux VMLINUZ OUT: find the compressed payload in a bzImage by its
# magic bytes and decompress it (the approach of the kernel's
# scripts/extract-vmlinux). Fails unless OUT is an ELF file. The flavours
# differ: Debian's generic and rt kernels use xz, the cloud kernel lz4.
extract_vmlinux() {
	local in=$1 out=$2 magic tool off
	for magic in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'lz4:\x02\x21\x4c\x18' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		off=$(LC_ALL=C grep -obUaP "${magic#*:}" "$in" | head -n 1 | cut -d: -f1)
		[[ -n $off ]] || continue
		case $tool in
		xz) tail -c "+$((off + 1))" "$in" | xz -dc --single-stream >"$out" 2>/dev/null ;;
		zstd) tail -c "+$((off + 1))" "$in" | zstd -dc -q >"$out" 2>/dev/null ;;
		lz4) tail -c "+$((off + 1))" "$in" | lz4 -dc >"$out" 2>/dev/null ;;
		gzip) tail -c "+$((off + 1))" "$in" | gzip -dc >"$out" 2>/dev/null ;;
		esac
		if [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
			return 0
		fi
	done
	rm -f "$out"
	return 1
}

# make_vmlinux DIR: add DIR/boot/vmlinux-KVER if the kernel supports PVH boot.
make_vmlinux() {
	local dir=$1
	[[ -e $dir/boot/vmlinux-$kver ]] && return 0
	grep -q '^CONFIG_PVH=y' "$dir/boot/config-$kver" 2>/dev/null || return 0
	if ! extract_vmlinux "$dir/boot/vmlinuz-$kver" "$dir/boot/vmlinux-$kver.tmp"; then
		echo "fetch-kernel.sh: cannot extract vmlinux; booting the compressed kernel" >&2
		return 0
	fi
	mv "$dir/boot/vmlinux-$kver.tmp" "$dir/boot/vmlinux-$kver"
}

if [[ -e $dest/.complete ]]; then
	make_vmlinux "$dest"
	echo "$dest"
	exit 0
fi

known() {
	apt-cache show --no-all-versions "$1" >/dev/null 2>&1
}

pick_package() {
	local p
	for p in "linux-image-$kver-unsigned" "linux-image-$kver"; do
		if known "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

if ! pkg=$(pick_package); then
	if [[ $(id -u) -eq 0 ]]; then
		echo "fetch-kernel.sh: linux-image-$kver not in the package lists; running apt-get update" >&2
		apt-get -q update >&2
	fi
	if ! pkg=$(pick_package); then
		echo "fetch-kernel.sh: no package linux-image-$kver-unsigned or linux-image-$kver" >&2
		echo "fetch-kernel.sh: see: apt-cache search --names-only '^linux-image-6'" >&2
		exit 1
	fi
fi

mkdir -p "$cache/kernels"
work=$(mktemp -d "$cache/kernels/.fetch-$kver.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/dl" "$work/root"
# apt-get download drops privileges to _apt, which must be able to write here.
chmod 755 "$work"
if id _apt >/dev/null 2>&1; then
	chown _apt "$work/dl"
fi

echo "fetch-kernel.sh: downloading $pkg" >&2
(cd "$work/dl" && apt-get -q download "$pkg" >&2)
deb=$(find "$work/dl" -name '*.deb' -print -quit)
if [[ -z $deb ]]; then
	echo "fetch-kernel.sh: apt-get download $pkg produced no .deb" >&2
	exit 1
fi
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -f "$deb" Package Version >"$work/root/.package"

if [[ ! -f $work/root/boot/vmlinuz-$kver ]]; then
	echo "fetch-kernel.sh: $pkg has no boot/vmlinuz-$kver" >&2
	exit 1
fi
# Debian 12 packages use /lib/modules; later ones may use /usr/lib/modules.
if [[ ! -d $work/root/lib/modules/$kver && -d $work/root/usr/lib/modules/$kver ]]; then
	mkdir -p "$work/root/lib"
	ln -s ../usr/lib/modules "$work/root/lib/modules"
fi
depmod -b "$work/root" "$kver"
make_vmlinux "$work/root"
touch "$work/root/.complete"

rm -rf "$dest"
mv "$work/root" "$dest"
echo "$dest"

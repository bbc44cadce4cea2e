#!/bin/bash
# Build a small test kernel from Debian's linux-source-SERIES package and lay
# it out like fetch-kernel.sh does for a stock kernel, so that make check can
# boot it and build the module against it.
#
# usage: test/vm/build-kernel.sh SERIES CACHE_DIR      (SERIES: e.g. 6.12)
#        test/vm/build-kernel.sh debug CACHE_DIR       (6.1 with the debug options)
#
# Result (printed on stdout): CACHE_DIR/built/SERIES/root with
#   boot/vmlinuz-KVER, boot/vmlinux-KVER, boot/config-KVER, boot/System.map-KVER
#   lib/modules/KVER/ (modules.dep, modules.builtin) and build -> the kbuild tree
#   .kver (the kernel's uname -r) and .complete
# CACHE_DIR/built/SERIES/build is the O= tree: KDIR for the module.
#
# The config is x86_64_defconfig plus what the tests and the module need,
# matched to Debian's choices where they matter to pcshare (IBT, ftrace with
# regs and args, kprobes, IMA for i_readcount, livepatch). Drivers the VM
# needs are built in. The first build takes long (about an hour on two busy
# cores); it runs at nice 19. Does nothing when the result exists.
#
# "debug" is linux-source-6.1, the source of the stock kernel the suite runs
# on, with KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, DEBUG_VM,
# DEBUG_LIST, DEBUG_OBJECTS, KFENCE and KMEMLEAK (off unless booted with
# kmemleak=on: its reports need a scan and are not all real).  Every report
# they print fails the run (test/vm/kernel-errors.re).
set -euo pipefail

if [[ $# -ne 2 ]]; then
	echo "usage: $0 SERIES CACHE_DIR" >&2
	exit 2
fi
series=$1
cache=$2
case $series in
debug) src_series=6.1 localversion=-pcshare-debug ;;
*) src_series=$series localversion=-pcshare ;;
esac
top=$cache/built/$series
src=$top/src
build=$top/build
root=$top/root
jobs=${KERNEL_JOBS:-2}

if [[ -e $root/.complete ]]; then
	echo "$root"
	exit 0
fi

tarball=/usr/src/linux-source-$src_series.tar.xz
# The source and what building it needs; also when the source is there
# already (installed by hand), or the first kconfig step fails on flex.
need=()
[[ -f $tarball ]] || need+=("linux-source-$src_series")
for pkg in bc bison flex libelf-dev libssl-dev cpio; do
	dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
	echo "build-kernel.sh: installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${need[@]}" >&2
fi
mkdir -p "$top"
if [[ ! -e $src/.unpacked ]]; then
	echo "build-kernel.sh: unpacking $tarball" >&2
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf "$tarball"
	touch "$src/.unpacked"
fi

mkdir -p "$build"
kmake() {
	nice -n 19 make -C "$src" O="$build" -j"$jobs" "$@"
}

if [[ ! -e $build/.config.done ]]; then
	kmake x86_64_defconfig >&2
	cfg=("$src/scripts/config" --file "$build/.config")
	# Ours to recognise, and no signing or debug info: faster, smaller.
	"${cfg[@]}" --set-str LOCALVERSION "$localversion" -d LOCALVERSION_AUTO \
		-d MODULE_SIG -d DEBUG_INFO -d DEBUG_INFO_DWARF5 \
		-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE \
		-d DRM -d SOUND -d WLAN -d WIRELESS -d CFG80211 -d USB_SUPPORT \
		-d NETFILTER -d HID -d INPUT_JOYSTICK -d INPUT_TABLET -d INPUT_TOUCHSCREEN \
		-d AGP -d FB -d ETHERNET -d NET_VENDOR_INTEL
	# What pcshare relies on, as in Debian's config.
	"${cfg[@]}" -e MODULES -e MODULE_UNLOAD -e MODVERSIONS -e KALLSYMS -e KALLSYMS_ALL \
		-e FTRACE -e FUNCTION_TRACER -e DYNAMIC_FTRACE \
		-e DYNAMIC_FTRACE_WITH_REGS -e DYNAMIC_FTRACE_WITH_ARGS \
		-e KPROBES -e KPROBES_ON_FTRACE -e KRETPROBES -e LIVEPATCH \
		-e X86_KERNEL_IBT -e SECURITY -e INTEGRITY -e IMA \
		-e DEBUG_FS -e TMPFS -e DEVTMPFS -e BLK_DEV_INITRD -e RD_GZIP -e PVH \
		-e IO_URING -e DETECT_HUNG_TASK -e FS_POSIX_ACL
	# The test VM: virtio disks, the host's root over 9p and virtiofs, XFS and
	# btrfs (built in).
	"${cfg[@]}" -e VIRTIO -e VIRTIO_PCI -e VIRTIO_BLK -e VIRTIO_CONSOLE \
		-e NET_9P -e NET_9P_VIRTIO -e 9P_FS -e 9P_FS_POSIX_ACL \
		-e FUSE_FS -e VIRTIO_FS -e XFS_FS -e XFS_POSIX_ACL -e BTRFS_FS \
		-e BTRFS_FS_POSIX_ACL -e SERIAL_8250 -e SERIAL_8250_CONSOLE
	debug_opts=()
	if [[ $series == debug ]]; then
		debug_opts=(KASAN KASAN_GENERIC PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_VM
			DEBUG_LIST DEBUG_OBJECTS KFENCE DEBUG_KMEMLEAK)
		"${cfg[@]}" -e DEBUG_KERNEL -e KASAN -e KASAN_GENERIC -e KASAN_INLINE \
			-e PROVE_LOCKING -e DEBUG_LOCKDEP -e DEBUG_ATOMIC_SLEEP \
			-e DEBUG_VM -e DEBUG_LIST -e DEBUG_SG -e DEBUG_NOTIFIERS \
			-e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS \
			-e DEBUG_OBJECTS_WORK -e DEBUG_OBJECTS_RCU_HEAD \
			-e KFENCE -e DEBUG_KMEMLEAK -e DEBUG_KMEMLEAK_DEFAULT_OFF
	fi
	kmake olddefconfig >&2
	for opt in "${debug_opts[@]}" X86_KERNEL_IBT DYNAMIC_FTRACE_WITH_REGS DYNAMIC_FTRACE_WITH_ARGS \
		KPROBES IMA XFS_FS BTRFS_FS VIRTIO_FS 9P_FS PVH; do
		if ! grep -q "^CONFIG_$opt=y" "$build/.config"; then
			echo "build-kernel.sh: CONFIG_$opt did not stick" >&2
			exit 1
		fi
	done
	touch "$build/.config.done"
fi

echo "build-kernel.sh: building (nice 19, -j$jobs)" >&2
kmake bzImage modules >&2
kver=$(kmake -s kernelrelease 2>/dev/null | tail -n 1)

rm -rf "$root"
mkdir -p "$root/boot"
kmake INSTALL_MOD_PATH="$root" modules_install >&2
cp "$build/arch/x86/boot/bzImage" "$root/boot/vmlinuz-$kver"
cp "$build/vmlinux" "$root/boot/vmlinux-$kver"
cp "$build/.config" "$root/boot/config-$kver"
cp "$build/System.map" "$root/boot/System.map-$kver"
rm -f "$root/lib/modules/$kver/build"
ln -s "$build" "$root/lib/modules/$kver/build"
echo "$kver" >"$root/.kver"
# The KASAN kernel resets at once when QEMU starts it through PVH (seen with
# QEMU 7.2): run.sh boots its bzImage instead.
# With 5-level paging (QEMU's -cpu max has LA57), KASAN reports a
# wild-memory-access in the first interrupt of the boot: no5lvl.
if [[ $series == debug ]]; then
	touch "$root/.no-pvh"
	echo no5lvl >"$root/.append"
fi
touch "$root/.complete"
echo "$root"

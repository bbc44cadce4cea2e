#!/bin/bash
# proves: the DKMS package builds pcshare against the stock kernel's headers (feature probes included), installs it where modprobe finds it, and modprobe loads and unloads it.
# groups: dkms install long
# fs: none
# timeout: 1800
#
# The guest sees the host's root read-only, so every DKMS tree lives in the
# guest's /tmp: the source (make dkms-src), the DKMS tree, and an install
# tree used as modprobe's base directory.
. "$REPO/test/lib/common.sh"

require_cmd dkms make gcc depmod modprobe
# /lib/modules/$KVER is the booted kernel's, bound over the host's: its
# build link may be missing, the headers package is in /usr/src.
kdir=/lib/modules/$KVER/build
[[ -f $kdir/include/config/kernel.release ]] || kdir=/usr/src/linux-headers-$KVER
[[ -f $kdir/include/config/kernel.release ]] || skip "no headers for $KVER (apt-get install linux-headers-$KVER)"

work=$(mktemp -d /tmp/dkms.XXXXXX)
root=$work/root
mkdir -p "$work/tree" "$root/lib/modules/$KVER"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
[[ -n $ver ]] || fail "no PACKAGE_VERSION in dkms.conf"
dkms_() {
	dkms --dkmstree "$work/tree" --sourcetree "$work/src" \
		--installtree "$root/lib/modules" "$@"
}

make -C "$REPO" --no-print-directory KVER="$KVER" DKMS_SRC="$work/src" dkms-src
dkms_ add -m pcshare -v "$ver"
# DKMS keeps make.log in build/ while it builds, then under KVER/ARCH/log/.
make_log() {
	find "$work/tree/pcshare/$ver" -name make.log -print -quit
}
dkms_ build -m pcshare -v "$ver" -k "$KVER" --kernelsourcedir "$kdir" ||
	{ cat "$(make_log)" 2>/dev/null; fail "dkms build failed"; }
mlog=$(make_log)
[[ -n $mlog ]] || fail "DKMS kept no make.log"
grep -h -A30 'probing the kernel API' "$mlog" | grep -E 'probing|HAVE_' ||
	fail "the DKMS build did not run the feature probes"
dkms_ install -m pcshare -v "$ver" -k "$KVER" --no-depmod
depmod -b "$root" "$KVER"
dkms_ status -m pcshare | tee "$RESULTS_DIR/dkms-status.txt"
grep -q "pcshare/$ver, $KVER, .*: installed" "$RESULTS_DIR/dkms-status.txt" ||
	fail "dkms status does not say installed"

ko=$(modprobe -d "$root" -S "$KVER" --show-depends pcshare | awk '$1 == "insmod" { print $2 }')
log "modprobe resolves pcshare to $ko"
[[ $ko == "$root/lib/modules/$KVER/updates/dkms/pcshare.ko"* ]] ||
	fail "modprobe finds '$ko', not the DKMS-installed module"
assert_eq "$KVER" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" "vermagic"

assert_not module_loaded
on_exit module_unload 30
modprobe -d "$root" pcshare || fail "modprobe pcshare failed"
assert module_loaded
[[ -r /sys/kernel/pcshare/groups ]] || fail "/sys/kernel/pcshare/groups missing while loaded"
modprobe -d "$root" -r pcshare || fail "modprobe -r pcshare failed"
assert_not module_loaded
hooks_absent || fail "ftrace hooks left after modprobe -r"

dkms_ remove -m pcshare -v "$ver" --all --no-depmod
[[ ! -e $root/lib/modules/$KVER/updates/dkms/pcshare.ko ]] ||
	fail "dkms remove left the module installed"

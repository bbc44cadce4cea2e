#!/bin/bash
# proves: pcshare.ko, built for this kernel, loads, lists its parameters with their defaults, and unloads cleanly.
# groups: quick lifecycle
# fs: none
. "$REPO/test/lib/common.sh"

vermagic=$(modinfo -F vermagic "$PCSHARE_KO")
[[ $vermagic == "$KVER "* ]] || fail "built for '$vermagic', but the VM runs $KVER"

# MODULE_PARM_DESC must name each default (modinfo prints "name:desc (type)").
parms=$(modinfo -F parm "$PCSHARE_KO")
echo "$parms"
grep -Eq '^enable:.*default[^)]*\bY\b.*\(bool\)$' <<<"$parms" ||
	fail "modinfo: no 'enable' bool parameter whose description names its default Y"
grep -Eq '^filesystems:.*default[^)]*xfs,btrfs.*\(charp\)$' <<<"$parms" ||
	fail "modinfo: no 'filesystems' charp parameter whose description names its default xfs,btrfs"

assert_not module_loaded
module_load || fail "insmod $PCSHARE_KO failed"
assert module_loaded
[[ -d /sys/module/pcshare ]] || fail "/sys/module/pcshare missing while loaded"
p=/sys/module/pcshare/parameters
if [[ -r $p/enable ]]; then
	assert_eq Y "$(cat "$p/enable")" "enable"
fi
if [[ -r $p/filesystems ]]; then
	assert_eq xfs,btrfs "$(cat "$p/filesystems")" "filesystems"
fi
log "hooked while loaded: $(echo "$PCSHARE_HOOKS" | tr '\n' ' ')"

module_unload || fail "rmmod pcshare failed"
assert_not module_loaded
[[ ! -e /sys/module/pcshare ]] || fail "/sys/module/pcshare still exists after rmmod"
hooks_absent || fail "ftrace hooks left after rmmod"

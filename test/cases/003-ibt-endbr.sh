#!/bin/bash
# proves: on an X86_KERNEL_IBT kernel, the module's ENDBR check names exactly the hooked originals that the image's .ibt_endbr_seal list and code say an IBT CPU would trap on, and with none of them (Debian's 6.12) the module loads as if the CPU enforced IBT (test_ibt_enforced=1), hooks the filesystem's ->open() at the first clone with its ENDBR intact, and shares (QEMU TCG does not enforce IBT, so only this check shows it).
# groups: quick ibt
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"

vmlinux=${VM_KERNEL_DIR:-}/boot/vmlinux-$KVER
config=${VM_KERNEL_DIR:-}/boot/config-$KVER
[[ -f $config ]] || skip "no kernel config at $config"
grep -q '^CONFIG_X86_KERNEL_IBT=y' "$config" || skip "kernel $KVER is built without X86_KERNEL_IBT"
[[ -f $vmlinux ]] || skip "no uncompressed kernel at $vmlinux"
require_cmd python3

# The image's view, with this boot's addresses.
rc=0
python3 "$REPO/kbuild/ibt-check.py" "$vmlinux" /proc/kallsyms >"$RESULTS_DIR/ibt-check.tap" || rc=$?
cat "$RESULTS_DIR/ibt-check.tap"
((rc <= 1)) || fail "ibt-check.py could not read $vmlinux"
image=$(sed -n 's/^not ok [0-9]* - \([a-z_0-9]*\):.*/\1/p' "$RESULTS_DIR/ibt-check.tap" | sort)

# The module's view, at load.
mark=$(dmesg_mark)
if grep -q ' ibt ' /proc/cpuinfo; then
	# An IBT CPU: the module must refuse a kernel with such an original.
	if [[ -n $image ]]; then
		assert_not module_load
		dmesg_since "$mark" | grep -q 'has no ENDBR on this IBT kernel' ||
			fail "refused, but without naming the function without ENDBR"
		pass
	fi
	module_load || fail "insmod failed"
	module_unload
	pass
fi
module_load || fail "insmod failed"
loaded=$(dmesg_since "$mark" | sed -n 's/.*pcshare: \([a-z_0-9]*\) has no ENDBR.*/\1/p' | sort)
module_unload || fail "rmmod failed"
log "image says not callable: $(echo "$image" | tr '\n' ' ')"
log "module says no ENDBR:   $(echo "$loaded" | tr '\n' ' ')"
assert_eq "$image" "$loaded" "functions without ENDBR"

# What an IBT CPU would do: refuse, name the function, hook nothing.
if [[ -n $image ]]; then
	mark=$(dmesg_mark)
	assert_not module_load test_ibt_enforced=1
	refused=$(dmesg_since "$mark" | sed -n 's/.*pcshare: \([a-z_0-9]*\) has no ENDBR on this IBT kernel.*/\1/p')
	log "refused with test_ibt_enforced=1, naming: $refused"
	if [[ -z $refused ]] || ! grep -qx "$refused" <<<"$image"; then
		fail "the refusal does not name a function without ENDBR"
	fi
	hooks_absent || fail "ftrace hooks left after the refused insmod"
	pass
fi

# Every original is callable: as on an IBT CPU, the module loads, hooks the
# filesystem's ->open() (in its module, so not in the image) at the first
# clone after checking its ENDBR, and shares.
require_reflink
make_file "$SCRATCH_MNT/src" $((1 << 20)) 3
mark=$(dmesg_mark)
module_load test_ibt_enforced=1 || fail "insmod with test_ibt_enforced=1 failed though every original keeps its ENDBR"
reflink_copies "$SCRATCH_MNT/src" 2 "$SCRATCH_MNT/copy"
cat "$SCRATCH_MNT/src" "$SCRATCH_MNT"/copy.* >/dev/null
msgs=$(dmesg_since "$mark")
log "$(grep 'pcshare:' <<<"$msgs")"
# "[xfs]" when the filesystem is a module (Debian), nothing when built in.
grep -Eq "pcshare: hooked ${FSTYP}_file_open( \[$FSTYP\])?\$" <<<"$msgs" ||
	fail "no 'hooked ${FSTYP}_file_open' message after the first clone"
! grep -q 'has no ENDBR\|cannot hook' <<<"$msgs" || fail "a hook was refused: $(grep 'ENDBR\|cannot hook' <<<"$msgs")"
assert_eq 3 "$(pcshare_counter active_members)" "active members with test_ibt_enforced=1"
module_hooks | grep -qx "${FSTYP}_file_open" || fail "${FSTYP}_file_open has no ftrace callback"
module_unload || fail "rmmod failed"
hooks_absent "${FSTYP}_file_open" || fail "the ->open() hook is left after rmmod"

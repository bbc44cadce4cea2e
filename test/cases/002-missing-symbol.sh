#!/bin/bash
# proves: if a symbol pcshare needs cannot be resolved, insmod fails, dmesg gains exactly one pcshare line naming the symbol, and no hook or module is left.
# groups: quick lifecycle
# fs: none
. "$REPO/test/lib/common.sh"

sym=pcshare_no_such_symbol

assert_not module_loaded
hooks_before=$(module_hooks)
mark=$(dmesg_mark)

if module_load "test_fail_symbol=$sym"; then
	fail "insmod test_fail_symbol=$sym succeeded"
fi

assert_not module_loaded
[[ ! -e /sys/module/pcshare ]] || fail "/sys/module/pcshare exists after a failed insmod"

# The module loader itself logs these once per boot for the first unsigned,
# out-of-tree module; they are not the module's messages. On an IBT kernel
# run by a CPU that does not enforce IBT, the module also warns about each
# hooked function without ENDBR (003-ibt-endbr checks those).
lines=$(dmesg_since "$mark" | grep -F 'pcshare:' |
	grep -v -e 'loading out-of-tree module taints kernel' \
		-e 'module verification failed' \
		-e 'has no ENDBR; hooking it only because' || true)
echo "new pcshare lines in dmesg:"
echo "$lines"
n=$(grep -c . <<<"$lines" || true)
assert_eq 1 "$n" "number of new 'pcshare:' lines in dmesg"
grep -qF "$sym" <<<"$lines" || fail "the dmesg line does not name $sym: $lines"

assert_eq "$hooks_before" "$(module_hooks)" "functions with an ftrace callback"
hooks_absent || fail "ftrace hooks left after the failed insmod"

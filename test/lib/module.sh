# shellcheck shell=bash
# Loading and unloading pcshare, and checking its ftrace hooks.
#
# The module's hooks show up in /sys/kernel/tracing/enabled_functions (ftrace
# lists every function that has a callback). module_load records which
# functions gained a callback during insmod (PCSHARE_HOOKS); hooks_absent
# checks that none of them, and nothing naming pcshare, is left.

MODULE_NAME=pcshare
ENABLED_FUNCTIONS=/sys/kernel/tracing/enabled_functions

# Function names that had an ftrace callback when module_load last loaded
# the module, one per line (also saved in $RESULTS_DIR/hooks.loaded).
PCSHARE_HOOKS=

# module_loaded: true if pcshare is in /proc/modules.
module_loaded() {
	grep -q "^$MODULE_NAME " /proc/modules
}

# module_hooks: print the names of all functions that currently have an
# ftrace callback, sorted (empty if none, or if tracefs is missing).
module_hooks() {
	[[ -r $ENABLED_FUNCTIONS ]] || return 0
	awk '{ print $1 }' "$ENABLED_FUNCTIONS" | sort -u
}

_module_cleanup_registered=0

_module_cleanup() {
	if module_loaded; then
		echo "cleanup: unloading $MODULE_NAME"
		module_unload 30 || echo "cleanup: $MODULE_NAME would not unload"
	fi
}

# module_load [PARAM=VALUE...]: insmod $PCSHARE_KO with the parameters.
# Returns insmod's status. On success sets PCSHARE_HOOKS to the functions that
# gained an ftrace callback, and arranges for the module to be unloaded when
# the test exits, if it is still loaded then.
module_load() {
	local before after rc=0
	[[ -f ${PCSHARE_KO:-} ]] || fail "PCSHARE_KO is not a file: '${PCSHARE_KO:-}'"
	before=$(module_hooks)
	insmod "$PCSHARE_KO" "$@" || rc=$?
	if ((rc != 0)); then
		return "$rc"
	fi
	if ((!_module_cleanup_registered)); then
		on_exit _module_cleanup
		_module_cleanup_registered=1
	fi
	after=$(module_hooks)
	PCSHARE_HOOKS=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
	echo "$PCSHARE_HOOKS" >"$RESULTS_DIR/hooks.loaded" 2>/dev/null || true
	return 0
}

# module_unload [TIMEOUT_S]: rmmod pcshare, retrying while it is busy (files
# opened through it may still be open) for up to TIMEOUT_S seconds (default
# 30). Returns 0 once it is gone, 1 if it is still loaded.
module_unload() {
	local timeout=${1:-30} deadline err
	deadline=$((SECONDS + timeout))
	while module_loaded; do
		err=$(rmmod "$MODULE_NAME" 2>&1) && continue
		if ((SECONDS >= deadline)); then
			echo "module_unload: rmmod $MODULE_NAME still fails after ${timeout}s: $err" >&2
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# module_param NAME: print the value of a module parameter (module loaded).
module_param() {
	cat "/sys/module/$MODULE_NAME/parameters/$1"
}

# pcshare_counter NAME: print a counter from /sys/kernel/pcshare/.
pcshare_counter() {
	cat "/sys/kernel/$MODULE_NAME/$1"
}

# hooks_absent [FUNCTION...]: true if no ftrace callback is left on any of the
# functions (default: PCSHARE_HOOKS from the last module_load) and no line of
# enabled_functions names the module. Prints what is left otherwise.
hooks_absent() {
	local funcs=("$@") left f
	[[ -r $ENABLED_FUNCTIONS ]] || fail "$ENABLED_FUNCTIONS is not readable (tracefs not mounted?)"
	if [[ $# -eq 0 && -n $PCSHARE_HOOKS ]]; then
		mapfile -t funcs <<<"$PCSHARE_HOOKS"
	fi
	left=$(grep -E "\\[$MODULE_NAME\\]|$MODULE_NAME" "$ENABLED_FUNCTIONS" || true)
	for f in "${funcs[@]}"; do
		[[ -n $f ]] || continue
		left+=$(awk -v f="$f" '$1 == f' "$ENABLED_FUNCTIONS")
	done
	if [[ -n $left ]]; then
		echo "hooks left in $ENABLED_FUNCTIONS:" >&2
		echo "$left" >&2
		return 1
	fi
	return 0
}

# pcs_counter NAME: print the module counter /sys/kernel/pcshare/NAME.
pcs_counter() {
	cat "/sys/kernel/pcshare/$1"
}

# pcs_groups: print the module's group list (debugfs).
pcs_groups() {
	cat /sys/kernel/debug/pcshare/groups
}

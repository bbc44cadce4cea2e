# shellcheck shell=bash
# Loading and unloading pcshare, and checking its ftrace hooks.
#
# The module's hooks show up in /sys/kernel/tracing/enabled_functions (ftrace
# lists every function that has a callback, one per line, name first).
# module_load records which functions gained a callback during insmod
# (PCSHARE_HOOKS); hooks_absent checks that none of them, and no line naming
# pcshare, is left.
#
# These helpers use shell builtins where they can: under TCG every process
# started in the guest costs tens of milliseconds or more.

MODULE_NAME=pcshare
ENABLED_FUNCTIONS=/sys/kernel/tracing/enabled_functions

# Function names that had an ftrace callback when module_load last loaded
# the module, one per line (also saved in $RESULTS_DIR/hooks.loaded).
PCSHARE_HOOKS=

# module_loaded: true if pcshare is in /proc/modules (in any state).
module_loaded() {
	local name _
	while read -r name _; do
		[[ $name == "$MODULE_NAME" ]] && return 0
	done </proc/modules
	return 1
}

# module_hooks: print the names of all functions that currently have an
# ftrace callback, one per line, in ftrace's order (nothing if none).
module_hooks() {
	local name _
	[[ -r $ENABLED_FUNCTIONS ]] || return 0
	while read -r name _; do
		[[ -n $name ]] && echo "$name"
	done <"$ENABLED_FUNCTIONS"
	return 0
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
	local -A before=()
	local f rc=0
	[[ -f ${PCSHARE_KO:-} ]] || fail "PCSHARE_KO is not a file: '${PCSHARE_KO:-}'"
	while read -r f; do
		before[$f]=1
	done < <(module_hooks)
	insmod "$PCSHARE_KO" "$@" || rc=$?
	if ((rc != 0)); then
		return "$rc"
	fi
	if ((!_module_cleanup_registered)); then
		on_exit _module_cleanup
		_module_cleanup_registered=1
	fi
	PCSHARE_HOOKS=
	while read -r f; do
		[[ -n ${before[$f]:-} ]] || PCSHARE_HOOKS+=$f$'\n'
	done < <(module_hooks)
	PCSHARE_HOOKS=${PCSHARE_HOOKS%$'\n'}
	if [[ -d ${RESULTS_DIR:-} ]]; then
		echo "$PCSHARE_HOOKS" >"$RESULTS_DIR/hooks.loaded"
	fi
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
	local v
	read -r v <"/sys/module/$MODULE_NAME/parameters/$1" && echo "$v"
}

# pcshare_counter NAME: print a counter from /sys/kernel/pcshare/.
pcshare_counter() {
	local v
	read -r v <"/sys/kernel/$MODULE_NAME/$1" && echo "$v"
}

# hooks_absent [FUNCTIONS]: true if none of FUNCTIONS (names separated by
# newlines or blanks; default PCSHARE_HOOKS from the last module_load) has an
# ftrace callback any more and no line of enabled_functions names the module.
# Prints what is left otherwise.
hooks_absent() {
	local -A wanted=()
	local f line left=
	[[ -r $ENABLED_FUNCTIONS ]] ||
		fail "$ENABLED_FUNCTIONS is not readable (tracefs not mounted?)"
	for f in ${1:-$PCSHARE_HOOKS}; do
		wanted[$f]=1
	done
	while IFS= read -r line; do
		f=${line%%[[:space:]]*}
		if [[ -n ${wanted[$f]:-} || $line == *"$MODULE_NAME"* ]]; then
			left+=$line$'\n'
		fi
	done <"$ENABLED_FUNCTIONS"
	if [[ -n $left ]]; then
		echo "hooks left in $ENABLED_FUNCTIONS:" >&2
		printf '%s' "$left" >&2
		return 1
	fi
	return 0
}

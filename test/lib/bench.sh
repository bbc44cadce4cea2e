# shellcheck shell=bash
# Helpers for the benchmark cases (test/cases/4NN-bench-*.sh, make bench).
# Source after common.sh. A bench case writes raw samples as CSV files and
# key=value facts to meta.txt in RESULTS_DIR; tools/bench/report computes
# medians, spreads and ratios on the host and draws the plots.

# now_us: microseconds since the epoch (a shell builtin: no process).
now_us() {
	echo "${EPOCHREALTIME//[.,]/}"
}

# secs_since US: seconds (3 decimals) since now_us printed US.
secs_since() {
	local us=$(($(now_us) - $1))
	printf '%d.%03d\n' $((us / 1000000)) $((us % 1000000 / 1000))
}

# meta KEY VALUE...: record a fact for the report.
meta() {
	local k=$1
	shift
	echo "$k=$*" >>"$RESULTS_DIR/meta.txt"
}

# csv_row FILE FIELD...: append one comma-separated row.
csv_row() {
	local f=$1 IFS=,
	shift
	echo "$*" >>"$f"
}

# pcshare_counters PREFIX: record every counter in /sys/kernel/pcshare as
# meta PREFIX.NAME (nothing if the module is not loaded).
pcshare_counters() {
	local f v
	for f in /sys/kernel/pcshare/*; do
		[[ -f $f ]] || continue
		read -r v <"$f" || continue
		meta "$1.${f##*/}" "$v"
	done
}

# mem_total_bytes: MemTotal of /proc/meminfo in bytes.
mem_total_bytes() {
	awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024; exit }' /proc/meminfo
}

# bench_machine: record the guest's kernel, CPUs and memory.
bench_machine() {
	meta guest.kernel "$(uname -r)"
	meta guest.cpus "$(nproc)"
	meta guest.mem_total_bytes "$(mem_total_bytes)"
	meta guest.fs "${FSTYP:-none}"
}

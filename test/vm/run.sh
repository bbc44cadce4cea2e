#!/bin/bash
# Host side of the VM test runner: boot Debian's stock kernel in QEMU, run the
# selected test cases inside it (test/vm/guest-run.sh), judge the result.
#
# usage: test/vm/run.sh --kver KVER --kernel-dir DIR --initramfs FILE --ko FILE
#                       [--tests "GLOB..."] [--groups "GROUP..."] [--shell]
#        test/vm/run.sh --list [--tests "GLOB..."] [--groups "GROUP..."]
#
# Normally started by test/vm/check.sh (make check), which prepares the
# kernel, the initramfs and the module first.
#
# Environment (all optional):
#   VM_MEM=6G  VM_SMP=2  VM_ACCEL=auto|kvm|tcg  VM_TIMEOUT=2400 (seconds,
#   the whole VM run)  TEST_TIMEOUT=600 (seconds, each test; a case may
#   say "# timeout: SECONDS" in its header instead)
#   VM_APPEND="..." (extra kernel command line)  SCRATCH_SIZE=8G
#   RESULTS_ROOT=<repo>/results  KEEP_IMAGES=1 (keep the scratch images)
#   VM_CPU (QEMU -cpu; default host with KVM, max with TCG)
#   VM_SHARE=auto|virtiofs|9p (how the guest sees the host's files)
#   VM_TRACE=1 (trace guest-run.sh into guest-trace.log)
#   TEST_FS="xfs" (run the cases only on these of their filesystems; a case
#   with "# fs: none" still runs; for a long single-filesystem stress run)
#   CASES_DIR=<repo>/test/cases (where the NNN-name.sh cases are; another
#   directory is handy for experiments that should not be committed)
#
# A case whose header says "# boots: N" (N > 1) runs after the others, in N
# VM boots of its own on the same scratch images: the guest runner makes the
# scratch fs only in the first, and the case sees CASE_BOOT (1..N) and
# CASE_BOOTS. Each boot but the last must end in vm_reset (test/lib/common.sh:
# a forced reset, no sync); the last gives the verdict.
#
# Output: live TAP from the guest, then one closing line
# "N passed, N failed, N skipped". Exit status 0 only if nothing failed, the
# VM finished in time and the serial console shows no kernel error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

kver='' kernel_dir='' initramfs='' ko='' tests='' groups='' shell=0 list=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kernel-dir) kernel_dir=$2; shift 2 ;;
	--initramfs) initramfs=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--tests) tests=$2; shift 2 ;;
	--groups) groups=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--list) list=1; shift ;;
	*) usage ;;
	esac
done
((list)) || [[ -n $kver && -n $kernel_dir && -n $initramfs && -n $ko ]] || usage

VM_MEM=${VM_MEM:-6G}
VM_SMP=${VM_SMP:-2}
VM_ACCEL=${VM_ACCEL:-auto}
VM_TIMEOUT=${VM_TIMEOUT:-2400}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
SCRATCH_SIZE=${SCRATCH_SIZE:-8G}
RESULTS_ROOT=${RESULTS_ROOT:-$repo/results}
CASES_DIR=$(realpath "${CASES_DIR:-$repo/test/cases}")

die() {
	echo "run.sh: $*" >&2
	exit 2
}

# ---- select the test runs ----------------------------------------------------

# header FILE KEY: the value of the "# KEY: value" line in FILE's header.
header() {
	sed -n "s/^# $2: *//p" "$1" | head -n 1
}

# matches WORD PATTERNS: true if WORD matches one of the glob PATTERNS.
matches() {
	local w=$1 p
	shift
	for p in "$@"; do
		# shellcheck disable=SC2053 # glob match on purpose
		[[ $w == $p || $w.sh == $p || $w == $p-* ]] && return 0
	done
	return 1
}

read -r -a test_globs <<<"$tests"
read -r -a group_list <<<"$groups"
read -r -a fs_filter <<<"${TEST_FS:-}"
plan=()
bad_headers=()
for f in "$CASES_DIR"/[0-9][0-9][0-9]-*.sh; do
	[[ -e $f ]] || continue
	name=$(basename "$f" .sh)
	fs_list=$(header "$f" fs)
	if [[ -z $fs_list || -z $(header "$f" proves) || -z $(header "$f" groups) ]]; then
		bad_headers+=("$name")
		continue
	fi
	if [[ ${#test_globs[@]} -gt 0 ]] && ! matches "$name" "${test_globs[@]}"; then
		continue
	fi
	read -r -a tgroups <<<"$(header "$f" groups)"
	if [[ ${#group_list[@]} -eq 0 && ${#test_globs[@]} -eq 0 ]] &&
		{ matches bench "${tgroups[@]}" || matches long "${tgroups[@]}"; }; then
		continue	# run only when asked for: make bench, make stress
	fi
	if [[ ${#group_list[@]} -gt 0 ]]; then
		hit=0
		for g in "${tgroups[@]}"; do
			matches "$g" "${group_list[@]}" && hit=1
		done
		((hit)) || continue
	fi
	timeout=$(header "$f" timeout)
	timeout=${timeout:-$TEST_TIMEOUT}
	[[ $timeout =~ ^[0-9]+$ ]] || die "$name: '# timeout:' must be a number of seconds"
	boots=$(header "$f" boots)
	boots=${boots:-1}
	[[ $boots =~ ^[1-9]$ ]] || die "$name: '# boots:' must be 1 to 9"
	for fs in $fs_list; do
		if [[ ${#fs_filter[@]} -gt 0 && $fs != none ]] && ! matches "$fs" "${fs_filter[@]}"; then
			continue
		fi
		case $fs in
		none) subdir=$name ;;
		xfs | btrfs) subdir=$name.$fs ;;
		*) die "$name: unknown filesystem '$fs' in '# fs:' (xfs, btrfs or none)" ;;
		esac
		plan+=("$f"$'\t'"$fs"$'\t'"$subdir"$'\t'"$timeout"$'\t'"$boots")
	done
done
if [[ ${#bad_headers[@]} -gt 0 ]]; then
	die "test cases without '# proves:', '# groups:' and '# fs:' header lines: ${bad_headers[*]}"
fi
if [[ ${#plan[@]} -eq 0 && $shell -eq 0 ]]; then
	die "no test case matches TESTS='$tests' GROUPS='$groups'"
fi
if ((list)); then
	for p in "${plan[@]}"; do
		IFS=$'\t' read -r f fs _ <<<"$p"
		printf '%-40s %-6s %s\n' "$(basename "$f" .sh)" "$fs" "$(header "$f" groups)"
	done
	exit 0
fi

vmlinuz=$kernel_dir/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || die "no kernel image $vmlinuz"
# The uncompressed ELF boots through PVH, skipping the decompression of the
# kernel, which is slow under TCG (fetch-kernel.sh makes it).
# build-kernel.sh marks kernels that do not boot that way (.no-pvh).
if [[ -f $kernel_dir/boot/vmlinux-$kver && ! -e $kernel_dir/.no-pvh ]]; then
	vmlinuz=$kernel_dir/boot/vmlinux-$kver
fi
[[ -f $initramfs ]] || die "no initramfs $initramfs"
[[ -f $ko ]] || die "no module $ko"
ko=$(realpath "$ko")

# ---- results directory, run.env, plan ---------------------------------------

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$RESULTS_ROOT/$stamp-$kver
n=1
while ! mkdir -p "$RESULTS_ROOT" || ! mkdir "$results" 2>/dev/null; do
	n=$((n + 1))
	results=$RESULTS_ROOT/$stamp-$kver.$n
	((n < 100)) || die "cannot create a results directory in $RESULTS_ROOT"
done

i=0
for p in "${plan[@]}"; do
	i=$((i + 1))
	printf '%d\t%s\n' "$i" "$p"
done >"$results/plan.txt"
# What the first boot runs: every case that needs one boot only. Field 6 of
# a guest plan line is BOOT/BOOTS.
awk -F '\t' -v OFS='\t' '$6 == 1 { $6 = "1/1"; print }' "$results/plan.txt" >"$results/plan-main.txt"

shq() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}
# write_run_env PLAN: run.env for a boot that runs the guest plan file PLAN
# (a name in the results directory).
write_run_env() {
	echo "# written by test/vm/run.sh; read by test/vm/init and guest-run.sh"
	echo "PLAN_FILE=$(shq "$1")"
	echo "REPO=$(shq "$repo")"
	echo "KVER=$(shq "$kver")"
	echo "PCSHARE_KO=$(shq "$ko")"
	echo "TEST_BIN=$(shq "$repo/test/bin")"
	echo "GUEST_RUN=$(shq "$here/guest-run.sh")"
	echo "VM_KERNEL_DIR=$(shq "$(realpath "$kernel_dir")")"
	echo "VM_KEEP_PATHS=$(shq "$repo $(dirname "$ko") $CASES_DIR")"
	echo "VM_SHELL=$shell"
	echo "VM_TRACE=$(shq "${VM_TRACE:-0}")"
	echo "SCRATCH_DEV_xfs=/dev/vda"
	echo "SCRATCH_DEV_btrfs=/dev/vdb"
	# CASE_* variables tune the test cases (longer stress runs: make stress).
	for v in $(compgen -v CASE_); do
		[[ $v =~ ^CASE_[A-Z0-9_]+$ ]] || die "bad variable name $v"
		echo "export $v=$(shq "${!v}")"
	done
}

# ---- scratch images ------------------------------------------------------------

images=$(mktemp -d "${TMPDIR:-/var/tmp}/pcshare-scratch.XXXXXX")
qemu_pid=
virtiofsd_pids=()
cleanup() {
	local p
	for p in $qemu_pid "${virtiofsd_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [[ ${KEEP_IMAGES:-0} == 1 ]]; then
		echo "run.sh: scratch images kept in $images" >&2
	else
		rm -rf "$images"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

truncate -s "$SCRATCH_SIZE" "$images/xfs.img" "$images/btrfs.img"
mkfs.xfs -q -m reflink=1 "$images/xfs.img"
mkfs.btrfs -q "$images/btrfs.img" >/dev/null

# ---- QEMU ----------------------------------------------------------------------

# kvm_usable: true if KVM really runs this kernel. /dev/kvm can open fine and
# still never run a guest (broken nested virtualization: seen on the machine
# this was written on), so boot the kernel to a busybox that powers off at
# once. The answer is cached per host boot in .cache/kvm-usable.
kvm_usable() {
	local cache_file=$repo/.cache/kvm-usable key answer=no
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 1
	key="$(cat /proc/sys/kernel/random/boot_id) $kver"
	if [[ -f $cache_file && $(head -n 1 "$cache_file") == "$key" ]]; then
		[[ $(sed -n 2p "$cache_file") == yes ]]
		return
	fi
	if timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256M -nodefaults \
		-display none -serial none -no-reboot -kernel "$vmlinuz" -initrd "$initramfs" \
		-append "panic=-1 rdinit=/bin/busybox -- poweroff -f" >/dev/null 2>&1; then
		answer=yes
	fi
	mkdir -p "$(dirname "$cache_file")"
	printf '%s\n%s\n' "$key" "$answer" >"$cache_file"
	[[ $answer == yes ]]
}

case $VM_ACCEL in
auto) if kvm_usable; then accel=kvm; else accel=tcg; fi ;;
kvm | tcg) accel=$VM_ACCEL ;;
*) die "VM_ACCEL must be auto, kvm or tcg" ;;
esac
# shellcheck disable=SC2054 # QEMU option values contain commas
if [[ $accel == kvm ]]; then
	accel_opts=(-accel kvm -cpu "${VM_CPU:-host}")
else
	accel_opts=(-accel tcg,thread=multi -cpu "${VM_CPU:-max}")
fi

append="console=ttyS0,115200 panic=-1 printk.time=1 log_buf_len=8M"
# Under TCG the guest can be starved for seconds; do not call that an RCU stall.
[[ $accel == tcg ]] && append+=" rcupdate.rcu_cpu_stall_timeout=120"
# A built kernel may need options of its own (build-kernel.sh: .append).
if [[ -f $kernel_dir/.append ]]; then
	append+=" $(<"$kernel_dir/.append")"
fi
append+=" ${VM_APPEND:-}"

serial=$results/serial.log
# shellcheck disable=SC2054 # QEMU option values contain commas
qemu=(
	qemu-system-x86_64 -name pcshare-test
	"${accel_opts[@]}" -smp "$VM_SMP" -m "$VM_MEM"
	-nodefaults -no-user-config -no-reboot
	-kernel "$vmlinuz" -initrd "$initramfs"
	-drive "file=$images/xfs.img,format=raw,if=virtio,cache=unsafe,discard=unmap"
	-drive "file=$images/btrfs.img,format=raw,if=virtio,cache=unsafe,discard=unmap"
)

# The shares: the host root (read-only) and the results directory, over
# virtiofs or 9p. virtiofs is the default where the kernel has it: under TCG
# it ran the tests here 1.5 to 3 times faster than 9p (program start-up is
# most of a short test). VM_SHARE=9p|virtiofs chooses.
config=$kernel_dir/boot/config-$kver
has_9p=0 has_virtiofs=0
if grep -Eq '^CONFIG_9P_FS=(y|m)' "$config" && grep -Eq '^CONFIG_NET_9P_VIRTIO=(y|m)' "$config"; then
	has_9p=1
fi
if grep -Eq '^CONFIG_VIRTIO_FS=(y|m)' "$config" && [[ -x /usr/lib/qemu/virtiofsd ]]; then
	has_virtiofs=1
fi
share=none
case ${VM_SHARE:-auto} in
auto)
	if ((has_virtiofs)); then
		share=virtiofs
	elif ((has_9p)); then
		share=9p
	fi
	;;
9p)
	((has_9p)) || die "$kver has no 9p over virtio"
	share=9p
	;;
virtiofs)
	((has_virtiofs)) || die "no virtiofs: $kver lacks it or /usr/lib/qemu/virtiofsd is missing"
	share=virtiofs
	;;
*) die "VM_SHARE must be auto, 9p or virtiofs" ;;
esac

if [[ $share == 9p ]]; then
	# shellcheck disable=SC2054 # QEMU option values contain commas
	qemu+=(
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=results,mount_tag=results
	)
elif [[ $share == virtiofs ]]; then
	# One virtiofsd per share; vhost-user needs the guest's memory shared.
	mkdir "$images/rootro"
	# shellcheck disable=SC2054 # QEMU option values contain commas
	for tag in hostroot results; do
		qemu+=(-chardev "socket,id=vfs-$tag,path=$images/$tag.sock"
			-device "vhost-user-fs-pci,chardev=vfs-$tag,tag=$tag")
	done
	qemu+=(-object "memory-backend-memfd,id=mem,size=$VM_MEM,share=on" -machine memory-backend=mem)
else
	die "$kver has neither 9p nor virtiofs; cannot share the host root"
fi

append+=" vm_share=$share"
qemu+=(-append "$append")

# start_shares: (re)start the virtiofs daemons; each serves one boot.
start_shares() {
	local p tag retry
	[[ $share == virtiofs ]] || return 0
	for p in "${virtiofsd_pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	virtiofsd_pids=()
	rm -f "$images/hostroot.sock" "$images/results.sock"
	"$here/virtiofsd-ro.sh" "$images/hostroot.sock" / "$images/rootro" cache=always \
		>>"$results/virtiofsd.log" 2>&1 &
	virtiofsd_pids+=($!)
	/usr/lib/qemu/virtiofsd --socket-path="$images/results.sock" \
		-o "source=$results,cache=none,sandbox=chroot" -o log_level=warn \
		>>"$results/virtiofsd.log" 2>&1 &
	virtiofsd_pids+=($!)
	for tag in hostroot results; do
		retry=0
		until [[ -S $images/$tag.sock ]]; do
			((retry++ < 100)) || die "virtiofsd did not start (see $results/virtiofsd.log)"
			sleep 0.1
		done
	done
}

if ((shell)); then
	write_run_env plan-main.txt >"$results/run.env"
	start_shares
	echo "run.sh: interactive VM ($accel); the host root is at / read-only, results in /run/results" >&2
	"${qemu[@]}" -nographic -serial mon:stdio
	exit 0
fi

# boot_vm PLAN SERIAL [TIMEOUT]: boot the VM once, running the guest plan
# file PLAN, with the console in SERIAL; live progress on stdout. Sets
# qemu_rc (124 or 137: killed after TIMEOUT seconds, default VM_TIMEOUT).
boot_vm() {
	local tail_pid
	write_run_env "$1" >"$results/run.env"
	start_shares
	: >"$2"
	timeout -k 10 "${3:-$VM_TIMEOUT}" "${qemu[@]}" -display none -serial "file:$2" \
		</dev/null >>"$results/qemu.log" 2>&1 &
	qemu_pid=$!
	# Live progress: the guest's TAP lines as they arrive.
	tail -n +1 -F --pid="$qemu_pid" "$2" 2>/dev/null | sed -u 's/\r$//' |
		grep --line-buffered -E '^(TAP version|1\.\.|ok |not ok |# |vm-init: (FATAL|ready))' &
	tail_pid=$!
	qemu_rc=0
	wait "$qemu_pid" || qemu_rc=$?
	qemu_pid=
	wait "$tail_pid" 2>/dev/null || true
}

multi=()	# indices of the cases that need several boots
while IFS=$'\t' read -r idx _ _ _ _ nboots; do
	((nboots > 1)) && multi+=("$idx")
done <"$results/plan.txt"

echo "# results: $results"
echo "# booting $kver in QEMU ($accel, $VM_SMP CPUs, $VM_MEM, $share), ${#plan[@]} test runs"
t0=$SECONDS
serial=$results/serial.log
main_rc=0
if [[ -s $results/plan-main.txt ]]; then
	boot_vm plan-main.txt "$serial"
	main_rc=$qemu_rc
fi
# Each boot of a multi-boot case gets its own plan and console log.
for idx in "${multi[@]}"; do
	line=$(awk -F '\t' -v i="$idx" '$1 == i' "$results/plan.txt")
	nboots=${line##*$'\t'}
	timeout=$(cut -f 5 <<<"$line")
	for ((b = 1; b <= nboots; b++)); do
		awk -F '\t' -v OFS='\t' -v b="$b/$nboots" '{ $6 = b; print }' <<<"$line" \
			>"$results/plan-$idx-$b.txt"
		boot_vm "plan-$idx-$b.txt" "$results/serial-$idx-$b.log" $((timeout + 300))
		echo "$qemu_rc" >"$results/serial-$idx-$b.rc"
		# No point booting again after a boot that did not reset.
		((b == nboots)) || [[ -f $results/$(cut -f 4 <<<"$line")/.reset-$b ]] || break
	done
done
elapsed=$((SECONDS - t0))

# ---- judge -----------------------------------------------------------------------

# From each boot's console log: each run's result, and kernel error lines
# (kernel lines only: they carry a printk timestamp, and the guest's own "#"
# lines are excluded) attributed to the test running at that moment.
declare -A result=() kerr=() early=() multi_why=()
outside_errors=()
started=()
ts_re='\[ *[0-9]+\.[0-9]+\]'
# parse_serial FILE FINAL: read one boot's console. With FINAL=1 its result
# lines are verdicts (the main boot, the last boot of a multi-boot case);
# otherwise they are kept in early[]. Sets boot_done and boot_ready.
parse_serial() {
	local line current=
	boot_done=0 boot_ready=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line =~ ^#\ run\ ([0-9]+)\  ]]; then
			current=${BASH_REMATCH[1]}
			started+=("$current")
		elif [[ $line =~ ^(not\ ok|ok)\ ([0-9]+)\ -\  ]]; then
			if (($2)); then
				result[${BASH_REMATCH[2]}]=$line
			else
				early[${BASH_REMATCH[2]}]=$line
			fi
			current=
		elif [[ $line == "# guest-run: done" ]]; then
			boot_done=1
		elif [[ $line == "vm-init: ready"* ]]; then
			boot_ready=1
		elif [[ $line == "# harness error: "* ]]; then
			outside_errors+=("${line#\# }")
		elif [[ $line != "#"* && $line =~ $ts_re ]] && grep -q -E -f "$here/kernel-errors.re" <<<"$line"; then
			if [[ -n $current ]]; then
				kerr[$current]+="$line"$'\n'
			else
				outside_errors+=("kernel: ${line#*] }")
			fi
		fi
	done < <(tr -d '\r' <"$1" | grep -E -f "$here/kernel-errors.re" -e '^(# run |ok |not ok |# guest-run: done|# harness error: |vm-init: ready)')
}

run_problems=()
timed_out=0
main_ready=1
if [[ -s $results/plan-main.txt ]]; then
	parse_serial "$serial" 1
	main_ready=$boot_ready
	if [[ $main_rc -eq 124 || $main_rc -eq 137 ]]; then
		timed_out=1
		run_problems+=("the VM did not finish within VM_TIMEOUT=${VM_TIMEOUT}s and was killed")
	elif ((!boot_done)); then
		if ((!boot_ready)); then
			run_problems+=("the VM never got ready (see vm-init lines in serial.log)")
		else
			run_problems+=("the guest runner did not finish (kernel panic or crash?)")
		fi
	fi
fi
for idx in "${multi[@]}"; do
	nboots=$(awk -F '\t' -v i="$idx" '$1 == i { print $6 }' "$results/plan.txt")
	for ((b = 1; b <= nboots; b++)); do
		unset "early[$idx]"
		if [[ ! -f $results/serial-$idx-$b.rc ]]; then
			multi_why[$idx]="boot $b of $nboots did not run"
			break
		fi
		parse_serial "$results/serial-$idx-$b.log" $((b == nboots))
		rc=$(<"$results/serial-$idx-$b.rc")
		if [[ $rc -eq 124 || $rc -eq 137 ]]; then
			multi_why[$idx]="boot $b of $nboots timed out"
		elif ((!boot_ready)); then
			multi_why[$idx]="boot $b of $nboots never got ready (serial-$idx-$b.log)"
		elif ((b < nboots)) && [[ -n ${early[$idx]:-} ]]; then
			multi_why[$idx]="boot $b of $nboots ended without a reset: ${early[$idx]}"
		elif ((b < nboots)) && [[ ! -f $results/$(awk -F '\t' -v i="$idx" '$1 == i { print $4 }' "$results/plan.txt")/.reset-$b ]]; then
			multi_why[$idx]="boot $b of $nboots did not reach vm_reset (serial-$idx-$b.log)"
		elif ((b == nboots && !boot_done)) && [[ -z ${result[$idx]:-} ]]; then
			multi_why[$idx]="boot $b of $nboots: the guest runner did not finish (kernel panic or crash?)"
		fi
		[[ -n ${multi_why[$idx]:-} ]] && break
	done
done

passed=0 failed=0 skipped=0
failed_names=()
overrides=()
while IFS=$'\t' read -r idx f fs subdir _; do
	name=$(basename "$f" .sh)
	label=$name
	[[ $fs != none ]] && label+=" [$fs]"
	line=${result[$idx]:-}
	why=${multi_why[$idx]:-}
	if [[ -n $why ]]; then
		:
	elif [[ -z $line ]]; then
		if [[ " ${started[*]} " == *" $idx "* ]]; then
			if ((timed_out)); then
				why="VM timed out (VM_TIMEOUT=${VM_TIMEOUT}s) during this test"
			else
				why="VM died during this test"
			fi
		else
			why="not run: the VM stopped before this test"
		fi
	elif [[ -n ${kerr[$idx]:-} && $line == ok* ]]; then
		why="kernel errors on the serial console"
	fi
	if [[ -n $why ]]; then
		overrides+=("not ok $idx - $label"$'\n'"# reason: $why (host)")
		if [[ -n ${kerr[$idx]:-} ]]; then
			k=${kerr[$idx]%$'\n'}
			overrides+=("#   ${k//$'\n'/$'\n'#   }")
		fi
		failed=$((failed + 1))
		failed_names+=("$label")
	elif [[ $line == not\ ok* ]]; then
		failed=$((failed + 1))
		failed_names+=("$label")
	elif [[ $line == *"# SKIP"* ]]; then
		skipped=$((skipped + 1))
	else
		passed=$((passed + 1))
	fi
done <"$results/plan.txt"

run_problems+=("${outside_errors[@]}")

if [[ ${#overrides[@]} -gt 0 ]]; then
	echo "# host verdicts that replace or add to the guest's:"
	printf '%s\n' "${overrides[@]}"
fi
if [[ ${#run_problems[@]} -gt 0 ]]; then
	echo "# run problems:"
	printf '#   %s\n' "${run_problems[@]}" | head -n 40
	failed=$((failed + 1))
	failed_names+=("(run: ${#run_problems[@]} problem(s), listed above)")
	if ! ((main_ready)); then
		echo "# last lines of serial.log:"
		tail -n 30 "$serial" | tr -d '\r' | sed 's/^/#   /'
		echo "# qemu.log:"
		tail -n 10 "$results/qemu.log" | sed 's/^/#   /'
	fi
fi

{
	echo "VM: $accel, $VM_SMP CPUs, $VM_MEM, $share, kernel $kver, ${elapsed}s, qemu exit $main_rc"
	for p in "${failed_names[@]}"; do echo "FAILED: $p"; done
	echo "$passed passed, $failed failed, $skipped skipped"
} >"$results/summary.txt"

echo "# VM run took ${elapsed}s"
if ((failed > 0)); then
	echo "# results: $results"
	for p in "${failed_names[@]}"; do
		echo "# FAILED: $p"
	done
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))

# SPDX-License-Identifier: GPL-2.0
# Thin wrapper around kbuild (Documentation/kbuild/modules.rst); the objects
# are listed in Kbuild.
#
#   make [KVER=6.1.0-56-amd64]        build pcshare.ko (KDIR= also works)
#   make demo                         the headline table, in QEMU
#   make check [TESTS=..] [GROUPS=..] build, boot the stock kernel in QEMU, test
#   make bench                        benchmarks in QEMU -> bench/results/<date>/
#   make install | uninstall          pcshare.ko into /lib/modules/KREL/updates
#   make dkms-install | dkms-uninstall  the same through DKMS, for every kernel
#
# For make check and make demo, KVER defaults to the kernel Debian's
# linux-image-amd64 depends on today (test/vm/kver.sh); the tests never
# touch the running kernel.

# Without KVER, build for the running kernel when its headers are installed
# (a user's own machine), else for the pinned Debian kernel.
ifeq ($(origin KVER),undefined)
KVER := $(shell test ! -x $(CURDIR)/test/vm/kver.sh || $(CURDIR)/test/vm/kver.sh)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
KDIR ?= /lib/modules/$(shell uname -r)/build
endif
endif
KDIR ?= /usr/src/linux-headers-$(KVER)

# The feature probes (kbuild/probe.sh) answer what the target kernel's
# headers offer, in include/pcshare_config.h; then kbuild builds the module.
PROBED := $(CURDIR)/include/pcshare_config.h

modules: probe
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

probe:
	@kbuild/probe.sh "$(KDIR)" "$(PROBED)"

demo:
	@tools/demo.sh --kver "$(KVER)"

bench:
	@tools/bench/run --kver "$(KVER)"

# --- installing (README.md, "Install") ---
# make install   [KDIR=... | KVER=...] [AUTOLOAD=1] [INSTALL_MOD_PATH=/stage]
# make uninstall [KDIR=... | KVER=...]               [INSTALL_MOD_PATH=/stage]
# make dkms-install   [AUTOLOAD=1]   source to $(DKMS_SRC)/pcshare-VERSION,
#                                   dkms add + install for the running kernel
# make dkms-uninstall               dkms remove --all, source removed
# make dkms-src DKMS_SRC=DIR        only copy the source DKMS needs into DIR
# AUTOLOAD=1 also writes /etc/modules-load.d/pcshare.conf, so the module is
# loaded at boot; without it nothing loads pcshare until you modprobe it.
PCSHARE_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' $(CURDIR)/dkms.conf)
# The release of the kernel KDIR belongs to: where its modules live.
KREL = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
INSTALL_MOD_PATH ?=
MODDIR = $(INSTALL_MOD_PATH)/lib/modules/$(KREL)/updates
AUTOLOAD_CONF = $(INSTALL_MOD_PATH)/etc/modules-load.d/pcshare.conf
DKMS_SRC ?= /usr/src
DKMS_FILES := Kbuild Makefile dkms.conf README.md \
	$(wildcard module/*.c module/*.h) include/pcshare_compat.h \
	kbuild/probe.sh kbuild/supported-kernels kbuild/ibt-check.py \
	kbuild/README.md $(wildcard kbuild/probes/*.c)

install: modules
	@test -n "$(KREL)" || { echo "make install: no kernel release in $(KDIR)" >&2; exit 1; }
	install -D -m 644 pcshare.ko $(MODDIR)/pcshare.ko
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KREL)
	$(if $(filter 1,$(AUTOLOAD)),install -D -m 644 /dev/null $(AUTOLOAD_CONF) && echo pcshare >$(AUTOLOAD_CONF))
	@echo "installed $(MODDIR)/pcshare.ko: sudo modprobe pcshare"

uninstall:
	@test -n "$(KREL)" || { echo "make uninstall: no kernel release in $(KDIR)" >&2; exit 1; }
	rm -f $(MODDIR)/pcshare.ko $(AUTOLOAD_CONF)
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KREL)

dkms-src:
	@test -n "$(PCSHARE_VERSION)" || { echo "no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
	rm -rf $(DKMS_SRC)/pcshare-$(PCSHARE_VERSION)
	mkdir -p $(DKMS_SRC)/pcshare-$(PCSHARE_VERSION)
	cp --parents $(DKMS_FILES) $(DKMS_SRC)/pcshare-$(PCSHARE_VERSION)/

dkms-install: dkms-src
	dkms add -m pcshare -v $(PCSHARE_VERSION)
	dkms install -m pcshare -v $(PCSHARE_VERSION)
	$(if $(filter 1,$(AUTOLOAD)),install -D -m 644 /dev/null $(AUTOLOAD_CONF) && echo pcshare >$(AUTOLOAD_CONF))

dkms-uninstall:
	-dkms remove -m pcshare -v $(PCSHARE_VERSION) --all
	rm -rf $(DKMS_SRC)/pcshare-$(PCSHARE_VERSION) $(AUTOLOAD_CONF)

clean: test-clean tools-clean
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f $(PROBED) $(PROBED:.h=.probe.log)

.PHONY: modules probe clean demo bench install uninstall dkms-src dkms-install dkms-uninstall

# --- test harness ---
# make check       [TESTS="GLOB..."] [GROUPS="GROUP..."] [KVER=...|KERNEL=6.12] [PCSHARE_KO=file]
# make kernel-6.12              build the 6.12 test kernel (see below)
# make check-list  [TESTS=...] [GROUPS=...]  list the test runs make check would do
# make stress      [STRESS_SECONDS=300] [STRESS_READS=N] [FUZZ_CASES=5000] [STRESS_TESTS=...] [KVER=...]  long robustness runs
# make vm-shell    [KVER=...]   boot the test VM with an interactive shell
# make vm-prep     [KVER=...]   packages, stock kernel and initramfs only
# make test-progs               build the C helpers in test/progs/ into test/bin/
# make tools                    build the pcshare command-line tool (tools/pcshare)
# make checkpatch               checkpatch.pl --strict over module/ and include/
# make shellcheck               shellcheck the harness and the test cases
# The VM_MEM, VM_SMP, VM_ACCEL, VM_TIMEOUT, TEST_TIMEOUT environment variables
# are described in test/vm/run.sh.

TEST_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
TEST_LDLIBS ?= -Wl,--as-needed -luring -lxxhash -lpthread
TEST_PROGS := $(patsubst test/progs/%.c,test/bin/%,$(wildcard test/progs/*.c))

# GROUPS and TESTS go to the scripts as arguments: bash ignores a GROUPS
# environment variable (it is bash's list of group ids).
# KERNEL=6.12 boots the kernel built by make kernel-6.12 instead of a stock
# Debian image (KVER is then ignored).
CHECK_ARGS = $(if $(KERNEL),--kernel "$(KERNEL)",--kver "$(KVER)") \
	--tests "$(TESTS)" --groups "$(GROUPS)" \
	$(if $(PCSHARE_KO),--ko "$(PCSHARE_KO)")

check:
	@test/vm/check.sh $(CHECK_ARGS)

# The long robustness runs: the model-based stress test (165) and the race
# test (160) for STRESS_SECONDS per side, the ioctl fuzzer (180) with
# FUZZ_CASES cases for each of 4 seeds, and 50 load/unload rounds (001).
# STRESS_TESTS picks some of them; TEST_FS=xfs (environment) one filesystem.
# STRESS_READS=N ends each side of 165 after N reads checked (STRESS_SECONDS
# is then the upper bound).
STRESS_SECONDS ?= 300
STRESS_READS ?=
STRESS_TESTS ?= 001 155 160 165 180
FUZZ_CASES ?= 5000
stress:
	@CASE_STRESS_SECONDS=$(STRESS_SECONDS) CASE_STRESS_READS=$(STRESS_READS) CASE_FUZZ_CASES=$(FUZZ_CASES) \
	CASE_FUZZ_SEEDS="11 12 13 14" CASE_LOAD_ROUNDS=50 CASE_FAULT_ROUNDS=20 \
	TEST_TIMEOUT=$$((4 * $(STRESS_SECONDS) + 900)) VM_TIMEOUT=$$((20 * $(STRESS_SECONDS) + 7200)) \
	test/vm/check.sh $(if $(KERNEL),--kernel "$(KERNEL)",--kver "$(KVER)") --tests "$(STRESS_TESTS)" --groups "" \
		$(if $(PCSHARE_KO),--ko "$(PCSHARE_KO)")

check-list:
	@test/vm/run.sh --list --tests "$(TESTS)" --groups "$(GROUPS)"

vm-shell:
	@test/vm/check.sh $(CHECK_ARGS) --shell

vm-prep:
	@test/vm/deps.sh "$(KVER)"
	@kdir=$$(test/vm/fetch-kernel.sh "$(KVER)" "$(CURDIR)/.cache") && \
	test/vm/mkinitramfs.sh "$(KVER)" "$$kdir" "$(CURDIR)/.cache/initramfs/$(KVER).cpio.gz"

# make kernel-6.12: a small kernel from Debian's linux-source-6.12, with the
# options that matter to pcshare as Debian sets them (X86_KERNEL_IBT, ftrace
# with regs and args, kprobes, IMA). About an hour on two busy cores, at
# nice 19; cached in PCSHARE_KERNEL_CACHE, outside the repository. Then:
# make KDIR=$(PCSHARE_KERNEL_CACHE)/built/6.12/build, make check KERNEL=6.12.
PCSHARE_KERNEL_CACHE ?= /var/cache/pcshare
export PCSHARE_KERNEL_CACHE

kernel-%:
	@test/vm/build-kernel.sh "$*" "$(PCSHARE_KERNEL_CACHE)"

test-progs: $(TEST_PROGS)

tools:
	$(MAKE) -C tools

tools-clean:
	$(MAKE) -C tools clean

test/bin/%: test/progs/%.c $(wildcard test/progs/*.h)
	@mkdir -p test/bin
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LDLIBS)

test-clean:
	rm -rf test/bin

checkpatch:
	@test/checkpatch.sh

shellcheck:
	@test/vm/deps.sh --only shellcheck
	shellcheck -x -P SCRIPTDIR test/vm/*.sh test/vm/init test/lib/*.sh test/cases/*.sh test/checkpatch.sh kbuild/probe.sh .ci/run tools/demo.sh tools/bench/run tools/bench/dedupe-vs-duperemove tools/bench/fingerprint

.PHONY: check stress check-list vm-shell vm-prep test-progs test-clean tools tools-clean checkpatch shellcheck

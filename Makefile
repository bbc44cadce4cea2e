# SPDX-License-Identifier: GPL-2.0
# Thin wrapper around kbuild (Documentation/kbuild/modules.rst); the objects
# are listed in Kbuild.
#
#   make [KVER=6.1.0-56-amd64]        build pcshare.ko (KDIR= also works)
#   make demo                         the headline table, in QEMU
#   make check [TESTS=..] [GROUPS=..] build, boot the stock kernel in QEMU, test
#
# For make check and make demo, KVER defaults to the kernel Debian's
# linux-image-amd64 depends on today (test/vm/kver.sh); the tests never
# touch the running kernel.

# Without KVER, build for the running kernel when its headers are installed
# (a user's own machine), else for the pinned Debian kernel.
ifeq ($(origin KVER),undefined)
KVER := $(shell $(CURDIR)/test/vm/kver.sh)
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

clean: test-clean
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f $(PROBED) $(PROBED:.h=.probe.log)

.PHONY: modules probe clean demo

# --- test harness ---
# make check       [TESTS="GLOB..."] [GROUPS="GROUP..."] [KVER=...] [PCSHARE_KO=file]
# make check-list  [TESTS=...] [GROUPS=...]  list the test runs make check would do
# make vm-shell    [KVER=...]   boot the test VM with an interactive shell
# make vm-prep     [KVER=...]   packages, stock kernel and initramfs only
# make test-progs               build the C helpers in test/progs/ into test/bin/
# make checkpatch               checkpatch.pl --strict over module/ and include/
# make shellcheck               shellcheck the harness and the test cases
# The VM_MEM, VM_SMP, VM_ACCEL, VM_TIMEOUT, TEST_TIMEOUT environment variables
# are described in test/vm/run.sh.

TEST_CFLAGS ?= -O2 -g -Wall -Wextra -Werror
TEST_LDLIBS ?= -Wl,--as-needed -luring -lxxhash -lpthread
TEST_PROGS := $(patsubst test/progs/%.c,test/bin/%,$(wildcard test/progs/*.c))

# GROUPS and TESTS go to the scripts as arguments: bash ignores a GROUPS
# environment variable (it is bash's list of group ids).
CHECK_ARGS = --kver "$(KVER)" --tests "$(TESTS)" --groups "$(GROUPS)" \
	$(if $(PCSHARE_KO),--ko "$(PCSHARE_KO)")

check:
	@test/vm/check.sh $(CHECK_ARGS)

check-list:
	@test/vm/run.sh --list --tests "$(TESTS)" --groups "$(GROUPS)"

vm-shell:
	@test/vm/check.sh $(CHECK_ARGS) --shell

vm-prep:
	@test/vm/deps.sh "$(KVER)"
	@kdir=$$(test/vm/fetch-kernel.sh "$(KVER)" "$(CURDIR)/.cache") && \
	test/vm/mkinitramfs.sh "$(KVER)" "$$kdir" "$(CURDIR)/.cache/initramfs/$(KVER).cpio.gz"

test-progs: $(TEST_PROGS)

test/bin/%: test/progs/%.c $(wildcard test/progs/*.h)
	@mkdir -p test/bin
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LDLIBS)

test-clean:
	rm -rf test/bin

checkpatch:
	@test/checkpatch.sh

shellcheck:
	@test/vm/deps.sh --only shellcheck
	shellcheck -x -P SCRIPTDIR test/vm/*.sh test/vm/init test/lib/*.sh test/cases/*.sh test/checkpatch.sh .ci/run

.PHONY: check check-list vm-shell vm-prep test-progs test-clean checkpatch shellcheck

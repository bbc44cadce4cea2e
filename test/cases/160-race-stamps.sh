#!/bin/bash
# proves: processes reading every member through random read paths, racing others that break members by writing, re-clone, clone ranges, copy, re-dedupe and replace them, only ever read 512-byte records (stamped with file id, version and offset) that their own file held during the read, with pcshare as without it, while members really were activated and broken.
# groups: stress race
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
# shellcheck source=test/lib/stress.sh
. "$REPO/test/lib/stress.sh"

# The model and the checker live in test/progs/stampstress.c (its top
# comment says what is allowed). This script runs it on fresh files three
# times with one seed: with foreign pages injected on purpose (the check
# must catch them), without pcshare, and with it.

require_reflink
nfiles=8
secs=${CASE_STRESS_SECONDS:-20}
seed=$((RANDOM << 15 | RANDOM))
# 3 readers, 2 writers, 1 cloner, 256 KiB files; drop caches every 3 s.
args=(-r 3 -w 2 -c 1 -k 256 -d 3000)

log "seed $seed, $nfiles files, ${secs}s per run"

# 1. The check can fail: writers stamp some pages with another file's id
# without telling the model.
stress_can_fail 6

# 2. Without pcshare: the kernel's own behaviour meets the model.
stress without "$secs"
clean without

# 3. With pcshare, on the same seed.
module_load
stress with "$secs" -s /sys/kernel/debug/pcshare/groups
log_pcshare_counters
clean with
# Without sharing and breaking, the run proves nothing.
assert_ge "$(pcshare_counter activations)" 10 "activations during the run"
assert_ge "$(pcshare_counter breaks_write_open)" 5 "breaks by a write open during the run"
assert module_unload 60

log "reads checked: $(stat_of with reads_checked) (with pcshare), $(stat_of without reads_checked) (without)"

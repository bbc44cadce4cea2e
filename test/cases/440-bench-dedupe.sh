#!/bin/bash
# proves: (benchmark, not timed) make bench's smaller run of tools/bench/dedupe-vs-duperemove: pcshare dedupe and duperemove -d -r on the same generated tree (scale 10, ~550 files) on XFS in one VM run; both keep every file's content, and bench.json has the times and freed bytes.
# groups: bench tool
# fs: xfs
# timeout: 900
. "$REPO/test/lib/common.sh"
. "$REPO/test/lib/bench.sh"
require_root
require_fs
require_cmd duperemove
[[ -x $REPO/tools/pcshare ]] || skip "tools/pcshare is not built (make -C tools)"
bench_machine

# The bench makes its own filesystems on SCRATCH_DEV; give it the device.
# 390-bench-dedupe-vs-duperemove runs the larger tree (scale 40) on both
# filesystems; this one keeps make bench under 30 minutes.
scratch_umount
"$REPO/tools/bench/dedupe-vs-duperemove" --scale 10 --keep --fs "$FSTYP" "$SCRATCH_DEV" "$SCRATCH_MNT"
cat "$RESULTS_DIR/bench.json"

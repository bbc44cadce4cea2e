#!/bin/bash
# proves: (benchmark, not timed) pcshare dedupe and duperemove -d -r run on the same generated tree in one VM run; both leave every file's content intact, and the wall times, freed bytes and ratios are reported in bench.json.
# groups: bench tool
# fs: xfs btrfs
. "$REPO/test/lib/common.sh"
require_root
require_fs
require_cmd duperemove
[[ -x $REPO/tools/pcshare ]] || skip "tools/pcshare is not built (make -C tools)"

# The bench makes its own filesystems on SCRATCH_DEV; give it the device.
scratch_umount
# Scale 40: ~2000 files, ~1.1 GiB of data, ~6 GiB logical; a run takes about
# 15 minutes under TCG.
"$REPO/tools/bench/dedupe-vs-duperemove" --scale 40 --keep --fs "$FSTYP" "$SCRATCH_DEV" "$SCRATCH_MNT"
cat "$RESULTS_DIR/bench.json"

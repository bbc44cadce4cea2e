#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""holder - keep read-only fds and mappings of files open across events.

usage: holder.py FILE...

Opens each FILE read-only, reads it whole, maps it (MAP_SHARED, PROT_READ),
and prints "ready".  Then, for every line read on stdin, prints one line per
FILE, in order: "fd=<sha256 of a pread of the whole file through the same
fd> map=<sha256 of the mapping's original-size bytes> size=<fstat size>".
Used to prove that fds and mappings made while a file was shared behave as
DESIGN.md 2.3 and 2.4 say after another process breaks the sharing.
"""
import hashlib
import mmap
import os
import sys


def main():
    if len(sys.argv) < 2:
        print("usage: holder.py FILE...", file=sys.stderr)
        return 2
    held = []
    for path in sys.argv[1:]:
        fd = os.open(path, os.O_RDONLY)
        size = os.fstat(fd).st_size
        os.pread(fd, size, 0)
        held.append((fd, size, mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)))
    print("ready", flush=True)
    # readline(), not iteration: iteration reads ahead and would block.
    while sys.stdin.readline():
        for fd, size, mapping in held:
            now = os.fstat(fd).st_size
            fd_sum = hashlib.sha256(os.pread(fd, max(now, 1), 0)).hexdigest()
            map_sum = hashlib.sha256(mapping[:size]).hexdigest()
            print(f"fd={fd_sum} map={map_sum} size={now}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

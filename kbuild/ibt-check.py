#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Which of the functions pcshare calls through a pointer survive IBT?

usage: kbuild/ibt-check.py VMLINUX [SYSTEM_MAP] [FUNCTION...]

On a kernel built with X86_KERNEL_IBT, an indirect call must land on an
ENDBR64 (f3 0f 1e fa). objtool gives none to functions whose address is
never taken, and lists in the .ibt_endbr_seal section the ENDBRs that the
kernel overwrites at boot (apply_seal_endbr(), whatever the CPU). A wrapper
that calls such an original through a pointer oopses on an IBT CPU; QEMU
TCG does not enforce IBT, so the VM tests cannot show it. This check reads
the image instead.

VMLINUX is the uncompressed ELF (fetch-kernel.sh and build-kernel.sh leave
boot/vmlinux-KVER). SYSTEM_MAP is needed when VMLINUX has no symbol table
(Debian's image is stripped); /proc/kallsyms of the running kernel also
works (the KASLR offset is taken from _text). Without FUNCTION arguments the functions are
the originals in module/hooks.c's hook table.

Prints TAP, one line per function: ok when it keeps its ENDBR (or the
kernel has no IBT), not ok when it has none or is sealed. Exit status 0
when all are callable, 1 otherwise, 2 on bad usage or unreadable input.
"""
import os
import re
import struct
import sys


def sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    raw = []
    for i in range(shnum):
        raw.append(struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize))
    strtab = raw[shstrndx]
    out = {}
    for sh in raw:
        start = strtab[4] + sh[0]
        name = data[start:data.index(b"\0", start)].decode()
        # name -> (type, addr, offset, size, link, entsize)
        out[name] = (sh[1], sh[3], sh[4], sh[5], sh[6], sh[9])
    return out


def elf_symbols(data, secs):
    if ".symtab" not in secs:
        return {}
    _, _, off, size, link, entsize = secs[".symtab"]
    # find the string table by index
    names = list(secs)
    stroff = secs[names[link]][2]
    syms = {}
    for i in range(size // entsize):
        st_name, st_info, _, _, st_value, _ = struct.unpack_from(
            "<IBBHQQ", data, off + i * entsize)
        if st_info & 0xF != 2:  # STT_FUNC
            continue
        start = stroff + st_name
        name = data[start:data.index(b"\0", start)].decode()
        syms.setdefault(name, st_value)
    return syms


def map_symbols(path):
    syms = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                syms.setdefault(parts[2], int(parts[0], 16))
    return syms


def read_at(data, secs, addr, n):
    for typ, saddr, off, size, _, _ in secs.values():
        if typ == 1 and saddr and saddr <= addr < saddr + size:  # PROGBITS
            return data[off + addr - saddr: off + addr - saddr + n]
    return None


def hook_functions(repo):
    with open(os.path.join(repo, "module", "hooks.c")) as f:
        text = f.read()
    return re.findall(r'PCSHARE_HOOK\("([A-Za-z0-9_]+)"', text)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    vmlinux = argv[1]
    rest = argv[2:]
    sysmap = None
    if rest and os.path.isfile(rest[0]):
        sysmap, rest = rest[0], rest[1:]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    funcs = rest or hook_functions(repo)
    try:
        with open(vmlinux, "rb") as f:
            data = f.read()
        secs = sections(data)
        syms = map_symbols(sysmap) if sysmap else elf_symbols(data, secs)
    except (OSError, ValueError) as e:
        print(f"ibt-check: {e}", file=sys.stderr)
        return 2
    if not syms:
        print("ibt-check: no symbols: pass the System.map", file=sys.stderr)
        return 2
    # A map of the running kernel (/proc/kallsyms) is shifted by KASLR.
    if "_text" in syms and ".text" in secs:
        shift = syms["_text"] - secs[".text"][1]
        syms = {name: addr - shift for name, addr in syms.items()}

    sealed = set()
    if ".ibt_endbr_seal" in secs:
        _, saddr, off, size, _, _ = secs[".ibt_endbr_seal"]
        for i in range(size // 4):
            rel, = struct.unpack_from("<i", data, off + 4 * i)
            sealed.add(saddr + 4 * i + rel)
        ibt = True
    else:
        ibt = False

    print(f"1..{len(funcs)}")
    print(f"# {vmlinux}: {'X86_KERNEL_IBT, ' + str(len(sealed)) + ' ENDBRs sealed at boot' if ibt else 'no .ibt_endbr_seal: kernel without IBT'}")
    bad = 0
    for n, name in enumerate(funcs, 1):
        addr = syms.get(name)
        if addr is None:
            print(f"not ok {n} - {name}: not in the symbol table")
            bad += 1
            continue
        insn = read_at(data, secs, addr, 4)
        endbr = insn == b"\xf3\x0f\x1e\xfa"
        if not ibt:
            print(f"ok {n} - {name}: callable (no IBT)")
        elif addr in sealed:
            print(f"not ok {n} - {name}: ENDBR sealed at boot")
            bad += 1
        elif not endbr:
            print(f"not ok {n} - {name}: no ENDBR")
            bad += 1
        else:
            print(f"ok {n} - {name}: ENDBR kept")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

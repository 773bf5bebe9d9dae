#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_elf_image to tests/fuzz/corpus/elf/.

Small hand-made images, valid and broken, that reach every stage of the
reader (header, PT_LOAD, PT_INTERP, PT_NOTE, PT_PHDR, entry). Deterministic:
rerunning it rewrites the same bytes. Usage: make_seeds.py [output dir]
"""
import os
import struct
import sys

PT_LOAD, PT_INTERP, PT_NOTE, PT_PHDR, PT_GNU_STACK = 1, 3, 4, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
TP_NOTE_TYPE = 0x54500001


def phdr(ptype, flags, offset, vaddr, filesz, memsz, align):
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, vaddr, filesz, memsz, align)


def note(name, ntype, desc, align=4):
    def pad(b):
        return b + b"\0" * (-len(b) % align)
    name = name + b"\0"
    return pad(struct.pack("<III", len(name), len(desc), ntype) + name) + pad(desc)


def image(phdrs, blobs=(), size=0x1100, etype=3, entry=0x800, ident_class=2, machine=62):
    """An ELF64 file: header, program headers at 0x40, blobs at their offsets."""
    out = bytearray(size)
    ident = b"\x7fELF" + bytes([ident_class, 1, 1]) + b"\0" * 9
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", etype, machine, 1, entry, 0x40, 0, 0,
                               64, 56, len(phdrs), 64, 0, 0)
    out[0:64] = ehdr
    table = b"".join(phdrs)
    out[0x40:0x40 + len(table)] = table
    for offset, data in blobs:
        out[offset:offset + len(data)] = data
    return bytes(out[:size])


TEXT = phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x1000, 0x1000)
DATA = phdr(PT_LOAD, PF_R | PF_W, 0x1000, 0x2000, 0x100, 0x2000, 0x1000)
INTERP = b"/lib64/ld-linux-x86-64.so.2\0"
TP_NOTES = note(b"GNU", 5, bytes(range(16)), 8) + note(b"TPRC", TP_NOTE_TYPE, bytes(range(24)), 8)

SEEDS = {
    "minimal_static_pie": image([TEXT, DATA]),
    "dynamic_pie": image(
        [phdr(PT_PHDR, PF_R, 0x40, 0x40, 5 * 56, 5 * 56, 8),
         phdr(PT_INTERP, PF_R, 0x300, 0x300, len(INTERP), len(INTERP), 1),
         TEXT, DATA, phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16)],
        [(0x300, INTERP)]),
    "tp_note": image(
        [TEXT, DATA, phdr(PT_NOTE, PF_R, 0x400, 0x400, len(TP_NOTES), len(TP_NOTES), 8)],
        [(0x400, TP_NOTES)]),
    "fixed_exec": image(
        [phdr(PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x1000, 0x1000, 0x1000),
         phdr(PT_LOAD, PF_R | PF_W, 0x1000, 0x402000, 0x100, 0x2000, 0x1000)],
        etype=2, entry=0x400800),
    "shared_page": image(
        [phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x800, 0x800, 0x1000),
         phdr(PT_LOAD, PF_R | PF_W, 0xC00, 0xC00, 0x100, 0x1000, 0x1000)],
        entry=0x100),
    "bad_overlap": image(
        [phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x2800, 0x1000), DATA]),
    "bad_note": image(
        [TEXT, DATA, phdr(PT_NOTE, PF_R, 0x400, 0x400, 0x20, 0x20, 4)],
        [(0x400, struct.pack("<III", 0xFF, 4, 1))]),
    "bad_interp": image(
        [phdr(PT_INTERP, PF_R, 0x300, 0x300, 6, 6, 1), TEXT, DATA],
        [(0x300, b"ld.so\0")]),
    "truncated_header": image([TEXT, DATA])[:40],
    "elf32": image([TEXT, DATA], ident_class=1),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "corpus", "elf")
    out_dir = sys.argv[1] if len(sys.argv) > 1 else default
    os.makedirs(out_dir, exist_ok=True)
    for name, data in SEEDS.items():
        assert len(data) < 16 * 1024, name
        with open(os.path.join(out_dir, name + ".elf"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

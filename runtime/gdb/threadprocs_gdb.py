# Threadprocs support for gdb: debug one program (a "threadproc") of a space.
#
# `tp-space debug PID` (or `tp-space debug NAME SLOT`) runs gdb with this file sourced and
# `tp-attach`. By hand:  gdb -q -ex 'source .../threadprocs_gdb.py' -ex 'tp-attach PID'
#   tp-attach [--slot-base ADDR --slot-size SIZE] PID   attach to the threadproc PID
#   tp-reload                                           re-read its libraries now
#   info threadprocs                                    what the extension knows
#   set threadprocs shared-breakpoints convert|refuse   the breakpoint guard (below)
#   set threadprocs auto-reload on|off                  re-read its libraries at every stop
#
# Why plain `gdb -p PID` is not enough: every program of a space shares one address space
# with the space's host, so /proc/PID/exe and /proc/PID/auxv, and the dynamic linker state gdb
# finds through them, describe the host. gdb loads the host's executable and libraries, and
# every frame of the program shows as `??`. tp-attach instead:
#   1. attaches with gdb's OS ABI set to "none", so that gdb's shared-library support, which
#      would follow the host's link map and plant its event breakpoint in the host's ld.so,
#      does not start; it drops the host's executable and symbols;
#   2. reads the program's own auxiliary vector, which the space's host wrote at the top of
#      the program's slot (recognised by its AT_TP_* entries): AT_PHDR gives the program's
#      executable and where it is loaded;
#   3. makes that executable gdb's executable and main symbol file, at its load address (still
#      under the "none" OS ABI), and loads the vDSO's symbols from memory;
#   4. if the program's ld.so has set up its link map (r_debug, found through DT_DEBUG of the
#      program's dynamic section), starts gdb's shared-library support: gdb now finds that
#      link map through its executable, the program's, so it follows the program's libraries
#      (dlopen included), thread-local storage works, and its event breakpoint lies in the
#      program's own ld.so. If not (attached before ld.so ran, or a static program without
#      DT_DEBUG), the extension loads the symbols it finds itself, with add-symbol-file, and
#      again at every stop.
# It also turns displaced stepping off: gdb would copy instructions to the entry point named
# in /proc/PID/auxv, the host's, which every gdb debugging a program of the space would share.
#
# The breakpoint guard: a software breakpoint is an int3 written into the code. Code outside
# the program's slot (and its own image, for a fixed-address program) is shared: the vDSO,
# the host's text, other programs' slots. Any other program of the space that runs that code
# is not traced, and dies of SIGTRAP. So a software breakpoint location outside the program's
# own ranges is disabled at once and replaced by a hardware breakpoint (debug registers are
# per thread: only the debugged program stops there), or just refused with
# `set threadprocs shared-breakpoints refuse`. dprintf locations, which gdb does not show to
# Python, are found in `info breakpoints` before each prompt and refused.
#
# Written for gdb 13 (Python 3, breakpoint locations); see docs/debugging.md.

import os
import re
import struct

import gdb

_EXTENSION_VERSION = "1"

# Auxiliary vector tags (elf.h) and the space's own (crt/include/threadprocs/abi.h).
_AT_NULL, _AT_PHDR, _AT_PHNUM, _AT_BASE = 0, 3, 5, 7
_AT_EXECFN, _AT_SYSINFO_EHDR = 31, 33
_AT_TP_ABI_VERSION = 0x54500000
_AT_TP_SLOT_INDEX = 0x54500001
_AT_TP_SLOT_BASE = 0x54500002
_AT_TP_SLOT_SIZE = 0x54500003
_AT_TP_ARENA_BASE = 0x54500004
_AT_TP_SLOT_COUNT = 0x54500005

_PT_LOAD, _PT_DYNAMIC, _PT_PHDR = 1, 2, 6
_DT_NULL, _DT_DEBUG = 0, 21
_SHT_SYMTAB, _SHT_DYNSYM = 2, 11
_SHF_ALLOC = 0x2
_PAGE = 4096
_PHDR_SIZE = 56

_u32 = struct.Struct("<I")
_u64 = struct.Struct("<Q")
_pair = struct.Struct("<QQ")
_phdr = struct.Struct("<IIQQQQQQ")


def _page_down(v):
    return v & ~(_PAGE - 1)


def _page_up(v):
    return (v + _PAGE - 1) & ~(_PAGE - 1)


def _hex(v):
    return "0x%x" % v


def _quote(path):
    """A file name as gdb's file commands parse it (gdb_buildargv: quotes and backslashes)."""
    if re.fullmatch(r"[A-Za-z0-9_./+:@%,=-]+", path):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message(text):
    gdb.write("threadprocs: " + text + "\n")


def _warning(text):
    gdb.write("threadprocs: warning: " + text + "\n", gdb.STDERR)


# ---- ELF files on disk --------------------------------------------------------------------


class _Phdr:
    __slots__ = ("type", "flags", "offset", "vaddr", "filesz", "memsz", "align")

    def __init__(self, raw):
        (self.type, self.flags, self.offset, self.vaddr, _paddr, self.filesz, self.memsz,
         self.align) = _phdr.unpack(raw)


def _parse_phdrs(data, count):
    return [_Phdr(data[i * _PHDR_SIZE:(i + 1) * _PHDR_SIZE]) for i in range(count)]


def _load_span(phdrs):
    """The page-aligned [low, high) link-time span of the PT_LOAD segments."""
    loads = [p for p in phdrs if p.type == _PT_LOAD]
    if not loads:
        return None
    return (_page_down(min(p.vaddr for p in loads)), _page_up(max(p.vaddr + p.memsz for p in loads)))


class _ElfFile:
    """The parts of a 64-bit little-endian ELF file the extension needs."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            header = f.read(64)
            if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
                raise ValueError("%s is not a 64-bit little-endian ELF file" % path)
            self.type = struct.unpack_from("<H", header, 16)[0]
            self.phoff = struct.unpack_from("<Q", header, 32)[0]
            self.shoff = struct.unpack_from("<Q", header, 40)[0]
            (self.phnum, self.shentsize, self.shnum,
             self.shstrndx) = struct.unpack_from("<HHHH", header, 56)
            f.seek(self.phoff)
            self.phdrs = _parse_phdrs(f.read(self.phnum * _PHDR_SIZE), self.phnum)
        self._symbols = None
        self._section_list = None

    def _read(self, offset, size):
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(size)

    def _sections(self):
        """[(name, type, flags, addr, offset, size, link)] from the section headers."""
        if self._section_list is not None:
            return self._section_list
        self._section_list = []
        if self.shoff == 0 or self.shnum == 0 or self.shentsize < 64:
            return self._section_list
        table = self._read(self.shoff, self.shnum * self.shentsize)
        raw = [struct.unpack_from("<IIQQQQI", table, i * self.shentsize) for i in range(self.shnum)]
        names = b""
        if self.shstrndx < len(raw):
            names = self._read(raw[self.shstrndx][4], raw[self.shstrndx][5])
        for name_off, kind, flags, addr, offset, size, link in raw:
            end = names.find(b"\0", name_off)
            name = names[name_off:end if end >= 0 else len(names)].decode("utf-8", "replace")
            self._section_list.append((name, kind, flags, addr, offset, size, link))
        return self._section_list

    def alloc_sections(self):
        """[(name, link-time address)] of the sections loaded into memory (SHF_ALLOC)."""
        return [(name, addr) for name, kind, flags, addr, _o, _s, _l in self._sections()
                if kind != 0 and flags & _SHF_ALLOC and name]

    def symbols(self):
        """name -> value of the defined symbols of .dynsym and .symtab."""
        if self._symbols is not None:
            return self._symbols
        self._symbols = {}
        sections = self._sections()
        for _name, kind, _flags, _addr, offset, size, link in sections:
            if kind not in (_SHT_SYMTAB, _SHT_DYNSYM) or link >= len(sections):
                continue
            strtab = self._read(sections[link][4], sections[link][5])
            data = self._read(offset, size)
            for pos in range(0, len(data) - 23, 24):
                st_name, _st_info, _st_other, st_shndx, st_value, _st_size = struct.unpack_from(
                    "<IBBHQQ", data, pos)
                if st_shndx == 0 or st_name == 0 or st_name >= len(strtab):
                    continue
                end = strtab.find(b"\0", st_name)
                name = strtab[st_name:end if end >= 0 else len(strtab)].decode("utf-8", "replace")
                self._symbols.setdefault(name, st_value)
        return self._symbols

    def file_offset_to_vaddr(self, offset):
        for p in self.phdrs:
            if p.type == _PT_LOAD and p.offset <= offset < p.offset + max(p.filesz, 1):
                return p.vaddr + (offset - p.offset)
        return None


# ---- the inferior's memory and mappings -------------------------------------------------


def _read_bytes(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def _read_u64(addr):
    return _u64.unpack(_read_bytes(addr, 8))[0]


def _read_u32(addr):
    return _u32.unpack(_read_bytes(addr, 4))[0]


def _read_cstring(addr, limit=4096):
    out = b""
    while len(out) < limit:
        try:
            chunk = _read_bytes(addr + len(out), 256)
        except gdb.MemoryError:
            chunk = b""
            for i in range(256):  # the string ends near the end of a mapping
                try:
                    chunk += _read_bytes(addr + len(out) + i, 1)
                except gdb.MemoryError:
                    break
            if not chunk:
                break
        end = chunk.find(b"\0")
        if end >= 0:
            return (out + chunk[:end]).decode("utf-8", "surrogateescape")
        out += chunk
    return out.decode("utf-8", "surrogateescape")


class _Mapping:
    __slots__ = ("start", "end", "perms", "offset", "inode", "path")

    def __init__(self, line):
        fields = line.split(None, 5)
        start, end = fields[0].split("-")
        self.start, self.end = int(start, 16), int(end, 16)
        self.perms = fields[1]
        self.offset = int(fields[2], 16)
        self.inode = int(fields[4])
        self.path = fields[5].rstrip("\n") if len(fields) > 5 else ""

    def contains(self, addr):
        return self.start <= addr < self.end

    @property
    def deleted(self):
        return self.path.endswith(" (deleted)")


def _read_maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return [_Mapping(line) for line in f if line.strip()]


def _mapping_at(maps, addr):
    for m in maps:
        if m.contains(addr):
            return m
    return None


# ---- the program's own auxiliary vector ---------------------------------------------------


def _valid_tag(tag):
    return 0 < tag <= 64 or _AT_TP_ABI_VERSION <= tag <= _AT_TP_ABI_VERSION + 0xFF


def _auxv_at(data, index):
    """The auxv around the entry at data[index], or None; "more" if it starts below data."""
    entries = {}
    i = index
    while True:
        if i + 16 > len(data):
            return None  # no AT_NULL before the top of the stack: not an auxv
        tag, value = _pair.unpack_from(data, i)
        if tag == _AT_NULL:
            break
        if not _valid_tag(tag):
            return None
        entries.setdefault(tag, value)
        i += 16
    i = index - 16
    while True:
        if i < 0:
            return "more"
        tag, value = _pair.unpack_from(data, i)
        if tag == _AT_NULL or not _valid_tag(tag):
            break
        entries.setdefault(tag, value)
        i -= 16
    return entries


def _find_program_auxv(stack_top, stack_bottom):
    """The auxv the host built for the program, searched down from the top of its slot.

    The host puts the program's initial stack at the very top of its slot: strings, then the
    auxv with the AT_TP_* entries, argv and envp. glibc's getauxval() reads that same array.
    """
    needle = _u64.pack(_AT_TP_SLOT_BASE)
    size = 64 << 10
    while True:
        low = max(stack_top - size, stack_bottom)
        try:
            data = _read_bytes(low, stack_top - low)
        except gdb.MemoryError:
            return None
        end, more = len(data), False
        while not more:
            pos = data.rfind(needle, 0, end)
            if pos < 0:
                break
            end = pos + len(needle) - 1
            if (low + pos) % 8:
                continue
            auxv = _auxv_at(data, pos)
            if auxv == "more":
                more = low > stack_bottom  # it starts below the window: read further down
            elif auxv is not None and _plausible(auxv, stack_top):
                return auxv
        if low <= stack_bottom or size >= (256 << 20):
            return None
        size *= 8


def _plausible(auxv, stack_top):
    need = (_AT_TP_SLOT_BASE, _AT_TP_SLOT_SIZE, _AT_PHDR, _AT_PHNUM)
    if any(tag not in auxv for tag in need):
        return False
    return auxv[_AT_TP_SLOT_BASE] + auxv[_AT_TP_SLOT_SIZE] == stack_top


# ---- the program ------------------------------------------------------------------------


class _LoadedObject:
    """One object whose symbols the extension loaded."""

    __slots__ = ("path", "base", "probe", "main", "vdso")

    def __init__(self, path, base, probe, main=False, vdso=False):
        self.path = path        # file, or "[vdso]"
        self.base = base        # l_addr (the load bias), or the vDSO's address
        self.probe = probe      # an address inside it (remove-symbol-file -a)
        self.main = main
        self.vdso = vdso


class _Threadproc:
    """What the extension knows of the attached program."""

    def __init__(self, pid, auxv, maps, space=None):
        self.pid = pid
        self.auxv = auxv
        self.space = space
        self.slot = auxv.get(_AT_TP_SLOT_INDEX)
        self.slot_base = auxv[_AT_TP_SLOT_BASE]
        self.slot_size = auxv[_AT_TP_SLOT_SIZE]
        self.arena_base = auxv.get(_AT_TP_ARENA_BASE)
        self.slot_count = auxv.get(_AT_TP_SLOT_COUNT)
        self.vdso = auxv.get(_AT_SYSINFO_EHDR, 0)
        self.execfn = None
        if auxv.get(_AT_EXECFN):
            try:
                self.execfn = _read_cstring(auxv[_AT_EXECFN])
            except gdb.MemoryError:
                pass
        self.maps = maps
        phnum = auxv[_AT_PHNUM]
        self.phdrs = _parse_phdrs(_read_bytes(auxv[_AT_PHDR], phnum * _PHDR_SIZE), phnum)
        image = _mapping_at(maps, auxv[_AT_PHDR])
        if image is None or not image.path.startswith("/"):
            raise gdb.GdbError("pid %d: no file is mapped at its program headers (%s)"
                               % (pid, _hex(auxv[_AT_PHDR])))
        self.main_path = image.path[:-len(" (deleted)")] if image.deleted else image.path
        self.main_deleted = image.deleted
        # A program rebuilt (or deleted) since it started: read the file it runs, which
        # /proc/PID/map_files still opens, not the one at its path now.
        self.main_file = self.main_path
        if image.deleted:
            mapped = "/proc/%d/map_files/%x-%x" % (pid, image.start, image.end)
            if os.access(mapped, os.R_OK):
                self.main_file = mapped
            else:
                _warning("%s was replaced or deleted after pid %d started: its symbols may not "
                         "match" % (self.main_path, pid))
        self.bias = self._bias(image)
        span = _load_span(self.phdrs)
        self.main_range = (span[0] + self.bias, span[1] + self.bias) if span else None
        self.loaded = {}  # (path, base) -> LoadedObject

    def _bias(self, image):
        for p in self.phdrs:
            if p.type == _PT_PHDR:
                return self.auxv[_AT_PHDR] - p.vaddr
        # No PT_PHDR: the headers lie in a PT_LOAD; find which through the file.
        elf = _ElfFile(self.main_file)
        vaddr = elf.file_offset_to_vaddr(image.offset + self.auxv[_AT_PHDR] - image.start)
        if vaddr is None:
            raise gdb.GdbError("%s: cannot tell where it is loaded" % self.main_path)
        return self.auxv[_AT_PHDR] - vaddr

    # -- ranges --
    def private_ranges(self):
        """Where only this program's code runs: its slot, and its image if that lies outside."""
        ranges = [(self.slot_base, self.slot_base + self.slot_size, "slot %s" % self.slot)]
        slot_end = self.slot_base + self.slot_size
        if self.main_range and not self.slot_base <= self.main_range[0] < slot_end:
            ranges.append((self.main_range[0], self.main_range[1], "fixed-address image"))
        return ranges

    def is_private(self, addr):
        return any(lo <= addr < hi for lo, hi, _ in self.private_ranges())

    def describe_address(self, addr):
        m = _mapping_at(self.maps, addr)
        if m is not None and m.path in ("[vdso]", "[vsyscall]"):
            return "the " + m.path[1:-1] if m.path == "[vsyscall]" else "the vDSO"
        if self.arena_base is not None and self.slot_count:
            end = self.arena_base + self.slot_count * self.slot_size
            if self.arena_base <= addr < end:
                return "slot %d (another program)" % ((addr - self.arena_base) // self.slot_size)
        if m is not None and m.path:
            return "%s, mapped by the space's host" % m.path
        return "memory outside the program's slot"

    # -- the program's link map --
    def dt_debug(self):
        """(has a DT_DEBUG entry, its value) in the program's own dynamic section."""
        for p in self.phdrs:
            if p.type != _PT_DYNAMIC:
                continue
            try:
                data = _read_bytes(p.vaddr + self.bias, p.memsz)
            except gdb.MemoryError:
                return False, 0
            for pos in range(0, len(data) - 15, 16):
                tag, value = _pair.unpack_from(data, pos)
                if tag == _DT_NULL:
                    break
                if tag == _DT_DEBUG:
                    return True, value
        return False, 0

    def r_debug(self):
        """The program's r_debug: DT_DEBUG of its dynamic section, else ld.so's _r_debug."""
        found, value = self.dt_debug()
        if found and value:
            return value
        base = self.auxv.get(_AT_BASE, 0)
        interp = _mapping_at(self.maps, base) if base else None
        if interp is not None and interp.path.startswith("/"):
            try:
                value = _ElfFile(interp.path).symbols().get("_r_debug")
            except (OSError, ValueError):
                value = None
            if value:
                return base + value
        return 0

    def native_ready(self):
        """Whether gdb's own shared-library support can follow this program (see _go_native).

        gdb finds the link map through DT_DEBUG of its executable, which is now the program's
        (only if it has no DT_DEBUG entry does gdb fall back to /proc/PID/auxv: the host's).
        Its library event breakpoint goes to r_debug.r_brk, the program's own ld.so, once
        ld.so has filled r_debug in (before, gdb would look for ld.so through the auxv too).
        """
        found, r = self.dt_debug()
        if not found or not r:
            return False
        try:
            r_map, r_brk = _read_u64(r + 8), _read_u64(r + 16)
        except gdb.MemoryError:
            return False
        return r_map != 0 and r_brk != 0 and self.is_private(r_brk)

    def link_map(self):
        """[(l_addr, name, l_ld)] of every namespace, or None before ld.so has set it up."""
        r = self.r_debug()
        if not r:
            return None
        objects = []
        seen = set()
        try:
            while r and r not in seen and len(seen) < 64:
                seen.add(r)
                version = _read_u32(r)
                lm = _read_u64(r + 8)
                steps = 0
                while lm and steps < 65536:
                    l_addr, l_name, l_ld, l_next = struct.unpack("<QQQQ", _read_bytes(lm, 32))
                    name = _read_cstring(l_name) if l_name else ""
                    objects.append((l_addr, name, l_ld))
                    lm, steps = l_next, steps + 1
                r = _read_u64(r + 40) if version >= 2 else 0  # r_debug_extended.r_next
        except gdb.MemoryError:
            pass
        return objects or None

    def objects(self):
        """What to load: [(path, base, main)], main image first. Also returns a note."""
        self.maps = _read_maps(self.pid)
        found = [(self.main_path, self.bias, True)]
        entries = self.link_map()
        note = None
        if entries is None:
            base = self.auxv.get(_AT_BASE, 0)
            interp = _mapping_at(self.maps, base) if base else None
            if interp is not None and interp.path.startswith("/") and not interp.deleted:
                found.append((interp.path, base, False))
            note = ("the program has no link map (a static program, or one stopped before its ld.so "
                    "ran): symbols for its executable and ld.so only")
            return found, note
        for l_addr, name, l_ld in entries:
            m = _mapping_at(self.maps, l_ld) if l_ld else None
            if m is not None and m.path == "[vdso]":
                continue
            if self.main_range and self.main_range[0] <= l_ld < self.main_range[1]:
                continue  # the main image: loaded from the auxv's view above
            path = m.path if m is not None and m.path.startswith("/") else name
            if not path:
                continue
            if path.endswith(" (deleted)"):
                _warning("%s was deleted after the program loaded it: no symbols" % path)
                continue
            found.append((path, l_addr, False))
        return found, note


# ---- gdb state helpers -----------------------------------------------------------------


class _Settings:
    """Sets gdb parameters for a while and puts the old values back."""

    def __init__(self, **values):
        self.values = values
        self.saved = {}

    def __enter__(self):
        for name, value in self.values.items():
            gdb_name = name.replace("_", "-")
            self.saved[gdb_name] = gdb.parameter(gdb_name)
            gdb.execute("set %s %s" % (gdb_name, value), to_string=True)
        return self

    def __exit__(self, *exc):
        for gdb_name, old in self.saved.items():
            if isinstance(old, bool):
                old = "on" if old else "off"
            gdb.execute("set %s %s" % (gdb_name, old), to_string=True)
        return False


def _has_parameter(name):
    try:
        gdb.parameter(name)
        return True
    except RuntimeError:
        return False


class _NoOsabi:
    """The "none" OS ABI for a while (see attach), then the previous setting again."""

    def __enter__(self):
        self.old = gdb.parameter("osabi") or "auto"
        if self.old == "none":
            self.old = "auto"
        gdb.execute("set osabi none", to_string=True)
        return self

    def __exit__(self, *exc):
        gdb.execute("set osabi %s" % self.old, to_string=True)
        return False


def _quiet(command):
    """Runs a command of the extension's own: no questions, no output."""
    state = _TP_STATE
    if state is not None:
        state.own_changes += 1
    try:
        with _Settings(confirm="off"):
            return gdb.execute(command, to_string=True)
    finally:
        if state is not None:
            state.own_changes -= 1


# ---- the breakpoint guard ----------------------------------------------------------------


def _hardware_breakpoint(address, temporary):
    kind = getattr(gdb, "BP_HARDWARE_BREAKPOINT", None)
    if kind is not None:
        return gdb.Breakpoint("*" + _hex(address), type=kind, internal=False, temporary=temporary)
    gdb.execute("%s *%s" % ("thbreak" if temporary else "hbreak", _hex(address)), to_string=True)
    return gdb.breakpoints()[-1]


class _BreakpointGuard:
    """Keeps software breakpoints out of code shared with the rest of the space."""

    def __init__(self, state):
        self.state = state
        self.busy = False
        self.replaced = {}  # (breakpoint number, address) -> hardware breakpoint number
        gdb.events.breakpoint_created.connect(self.check)
        gdb.events.breakpoint_modified.connect(self.check)
        # dprintf breakpoints are not given to Python: look for them before each prompt.
        gdb.events.before_prompt.connect(self.check_unlisted)

    def check_all(self):
        for bp in gdb.breakpoints():
            self.check(bp)
        self.check_unlisted()

    def check_unlisted(self):
        """Disables enabled dprintf locations in shared code (read from `info breakpoints`)."""
        program = self.state.program
        if program is None or self.busy:
            return
        try:
            text = gdb.execute("info breakpoints", to_string=True)
        except gdb.error:
            return
        shared = []
        number = None
        for line in text.splitlines():
            head = re.match(r"(\d+)\s+(\S+)\s+\S+\s+[yn]\s+(\S+)", line)
            if head:
                number = head.group(1) if head.group(2) == "dprintf" else None
                if number and head.group(3).startswith("0x"):
                    shared.append((number, int(head.group(3), 16), line))
                continue
            loc = re.match(r"(\d+)\.(\d+)\s+y\S*\s+(0x[0-9a-f]+)", line)
            if loc and number == loc.group(1):
                shared.append(("%s.%s" % (loc.group(1), loc.group(2)), int(loc.group(3), 16), line))
        for loc_id, address, line in shared:
            if program.is_private(address) or re.match(r"\d+\s+\S+\s+\S+\s+n", line):
                continue
            _quiet("disable %s" % loc_id)
            _message("dprintf %s at %s lies in %s, code shared by every program of the space: "
                     "a software breakpoint there would kill the other programs with SIGTRAP; "
                     "refused (disabled)" % (loc_id, _hex(address), program.describe_address(address)))

    def check(self, bp):
        program = self.state.program
        if program is None or self.busy or not bp.is_valid():
            return
        if bp.type != gdb.BP_BREAKPOINT or getattr(bp, "pending", False):
            return  # hardware breakpoints and watchpoints use per-thread debug registers
        self.busy = True
        try:
            for loc_id, address, disable in self._shared_locations(bp, program):
                self._handle(bp, loc_id, address, disable, program)
        finally:
            self.busy = False

    def _shared_locations(self, bp, program):
        """(location id, address, disable function) of each enabled shared location."""
        out = []
        locations = getattr(bp, "locations", None)
        if locations is not None:  # gdb 13
            for i, loc in enumerate(locations, 1):
                if loc.enabled and loc.address is not None and not program.is_private(loc.address):
                    disable = lambda loc=loc: setattr(loc, "enabled", False)  # noqa: E731
                    out.append(("%d.%d" % (bp.number, i), loc.address, disable))
            return out
        if not bp.enabled:
            return out
        # Older gdb: read the locations from `info breakpoints N`; disable the whole breakpoint.
        text = gdb.execute("info breakpoints %d" % bp.number, to_string=True)
        for address in re.findall(r"\s(0x[0-9a-f]+)\s", text):
            address = int(address, 16)
            if not program.is_private(address):
                out.append((str(bp.number), address, lambda: setattr(bp, "enabled", False)))
        return out

    def _handle(self, bp, loc_id, address, disable, program):
        disable()  # first: nothing may insert it, whatever happens next
        where = program.describe_address(address)
        key = (bp.number, address)
        if key in self.replaced:
            _message("breakpoint %s at %s stays disabled: hardware breakpoint %d replaces it"
                     % (loc_id, _hex(address), self.replaced[key]))
            return
        why = ("breakpoint %s at %s lies in %s, code shared by every program of the space: "
               "a software breakpoint there would kill the other programs with SIGTRAP"
               % (loc_id, _hex(address), where))
        if self.state.shared_breakpoints == "refuse":
            _message(why + "; refused (disabled). Use `hbreak *%s` for a hardware breakpoint."
                     % _hex(address))
            return
        try:
            hw = _hardware_breakpoint(address, bp.temporary)
        except (gdb.error, RuntimeError) as e:
            _message(why + "; refused (disabled): no hardware breakpoint (%s)" % e)
            return
        for attr in ("condition", "thread", "ignore_count", "silent", "commands"):
            try:
                value = getattr(bp, attr)
                if value is not None and value != getattr(hw, attr):
                    setattr(hw, attr, value)
            except (gdb.error, AttributeError, RuntimeError, TypeError):
                pass
        self.replaced[key] = hw.number
        _message(why + "; replaced by hardware breakpoint %d (only this program stops there)"
                 % hw.number)


# ---- the extension's state and commands ----------------------------------------------------


class _State:
    def __init__(self):
        self.program = None
        self.native = False     # gdb's own solib support follows the program's link map
        self.auto_solib_add = True  # the user's setting, while the extension holds it off
        self.holding_auto_solib_add = False
        self.shared_breakpoints = "convert"
        self.auto_reload = True
        self.guard = _BreakpointGuard(self)
        self.own_changes = 0    # > 0 while the extension itself replaces symbol files
        self.ready_noted = False  # said that a new tp-attach would let gdb follow the libraries
        gdb.events.stop.connect(self.on_stop)
        gdb.events.exited.connect(self.on_exit)
        gdb.events.clear_objfiles.connect(self.on_clear_objfiles)

    def on_clear_objfiles(self, _event):
        # `file`/`symbol-file` typed by the user, or an exec: the program gdb now sees is no
        # longer (only) the threadproc the extension knows.
        if self.program is not None and not self.own_changes:
            _message("the symbol files of pid %d were replaced (an exec, or `file`/`symbol-file`): "
                     "the extension no longer follows it; tp-attach again to debug a threadproc"
                     % self.program.pid)
            self.program = None
            self.native = False
            self.release_auto_solib_add()

    def on_exit(self, event):
        if self.program is not None and getattr(event, "exit_code", None) is not None:
            _message("pid %d exited with code %d" % (self.program.pid, event.exit_code))
        self.program = None  # exited, killed or detached
        self.native = False
        self.release_auto_solib_add()

    def hold_auto_solib_add(self):
        """auto-solib-add off while gdb's solib support could still find the host."""
        if not self.holding_auto_solib_add:
            self.auto_solib_add = bool(gdb.parameter("auto-solib-add"))
            self.holding_auto_solib_add = True
        gdb.execute("set auto-solib-add off", to_string=True)

    def release_auto_solib_add(self):
        if self.holding_auto_solib_add:
            self.holding_auto_solib_add = False
            gdb.execute("set auto-solib-add %s" % ("on" if self.auto_solib_add else "off"), to_string=True)

    def on_stop(self, _event):
        if self.program is None or self.native or not self.auto_reload:
            return
        try:
            self.sync(verbose=False)
            if not self.ready_noted and self.program.native_ready():
                # gdb's solib support cannot take over objfiles loaded by hand (removing
                # libc's under libthread_db crashes gdb): a new tp-attach can.
                self.ready_noted = True
                _message("pid %d has set up its link map now: `detach` and `tp-attach %d` again "
                         "to let gdb follow its libraries (thread-local variables, dlopen)"
                         % (self.program.pid, self.program.pid))
        except (gdb.error, gdb.MemoryError, OSError, ValueError) as e:
            _warning("cannot re-read the program's libraries: %s" % e)

    def load_program(self):
        """The program's executable as gdb's executable and main symbol file, at its address."""
        program = self.program
        # As gdb's main symbol file it gives gdb the program's entry point (where inferior calls
        # return to) and module 1 of its thread-local storage; as gdb's executable, the dynamic
        # section through which gdb's solib support finds the program's own link map. Loaded
        # under the "none" OS ABI, which keeps that support from starting before it can.
        offset = "" if program.bias == 0 else "-o %s " % _hex(program.bias)
        with _NoOsabi():
            _quiet("exec-file %s" % _quote(program.main_file))
            _quiet("symbol-file %s%s" % (offset, _quote(program.main_file)))
        program.loaded[(program.main_path, program.bias)] = _LoadedObject(
            program.main_path, program.bias, program.bias, main=True)
        if program.vdso:
            try:
                _quiet("add-symbol-file-from-memory %s" % _hex(program.vdso))
                program.loaded[("[vdso]", program.vdso)] = _LoadedObject(
                    "[vdso]", program.vdso, program.vdso, vdso=True)
            except gdb.error as e:
                _warning("no symbols for the vDSO: %s" % e)

    def go_native(self):
        """Starts gdb's own solib support (svr4), now that it can only find the program."""
        program = self.program
        self.native = True
        self.release_auto_solib_add()
        # Setting the search path (to its own value) makes gdb run its solib start-up: read
        # the link map, load the libraries, put its event breakpoint on r_brk.
        path = gdb.parameter("solib-search-path") or ""
        _quiet("set solib-search-path %s" % path)
        for address, what in _internal_breakpoints():
            if not program.is_private(address):
                _warning("gdb put its %s breakpoint at %s, in %s: other programs of the space "
                         "that run that code will die of SIGTRAP; detach now"
                         % (what, _hex(address), program.describe_address(address)))
        if not self.auto_solib_add:
            _message("auto-solib-add is off: load the program's libraries with `sharedlibrary`")

    def sync(self, verbose):
        """Without gdb's solib support: loads the symbols of the program's new libraries, and
        drops those it unloaded."""
        program = self.program
        objects, note = program.objects()
        if note and verbose:
            _message(note)
        wanted = {(path, base) for path, base, main in objects if not main}
        added, removed = [], []
        gone = [k for k, o in program.loaded.items() if k not in wanted and not o.main and not o.vdso]
        for key in gone:
            obj = program.loaded.pop(key)
            try:
                _quiet("remove-symbol-file -a %s" % _hex(obj.probe))
                removed.append(obj.path)
            except gdb.error:
                pass
        for path, base in sorted(wanted - set(program.loaded)):
            try:
                probe = self._add_symbol_file(path, base)
            except (gdb.error, OSError, ValueError) as e:
                _warning("no symbols for %s: %s" % (path, e))
                continue
            program.loaded[(path, base)] = _LoadedObject(path, base, probe)
            added.append(path)
        if not verbose and (added or removed):
            changes = (["loaded " + ", ".join(added)] if added else []) + \
                      (["unloaded " + ", ".join(removed)] if removed else [])
            _message("libraries of pid %d: %s" % (program.pid, "; ".join(changes)))
        return added

    @staticmethod
    def _add_symbol_file(path, base):
        elf = _ElfFile(path)
        text = [p for p in elf.phdrs if p.type == _PT_LOAD and p.flags & 1]
        span = _load_span(elf.phdrs)
        probe = base + (text[0].vaddr if text else span[0] if span else 0)
        # Every section at its address from the start: with -o, gdb relocates the objfile
        # only after announcing it, and libthread_db, which looks at the program's libc at
        # that moment, would read its unrelocated addresses.
        sections = elf.alloc_sections()
        if sections:
            start = dict(sections).get(".text", sections[0][1])
            _quiet("add-symbol-file %s %s%s" % (_quote(path), _hex(base + start), "".join(
                " -s %s %s" % (name, _hex(base + addr)) for name, addr in sections if name != ".text")))
        else:
            _quiet("add-symbol-file %s -o %s" % (_quote(path), _hex(base)))
        return probe


def _internal_breakpoints():
    """(address, kind) of the locations of gdb's own shared-library event breakpoints."""
    out = []
    kind = None
    for line in gdb.execute("maint info breakpoints", to_string=True).splitlines():
        head = re.match(r"(-\d+)\s+(shlib events)\s+\S+\s+[yn]\s+(\S+)", line)
        if head:
            kind = head.group(2)
            if head.group(3).startswith("0x"):
                out.append((int(head.group(3), 16), kind))
            continue
        if re.match(r"-\d+\s+\S", line):
            kind = None
        loc = re.match(r"-\d+\.\d+\s+\S+\s+(0x[0-9a-f]+)", line)
        if loc and kind:
            out.append((int(loc.group(1), 16), kind))
    return out


def _parse_number(text, what):
    try:
        return int(text, 0)
    except ValueError:
        raise gdb.GdbError("tp-attach: %s: %r is not a number" % (what, text))


def _main_thread_stack(pid, maps):
    """Candidate tops of the program's stack: the end of the mapping of each thread's $sp."""
    tops = []
    inferior = gdb.selected_inferior()
    threads = sorted(inferior.threads(), key=lambda t: t.ptid[1] != pid)
    selected = gdb.selected_thread()
    try:
        for thread in threads:
            thread.switch()
            sp = int(gdb.parse_and_eval("$sp")) & 0xFFFFFFFFFFFFFFFF
            m = _mapping_at(maps, sp)
            if m is not None and (m.end, m.start) not in tops:
                tops.append((m.end, m.start))
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()
    return tops


class _TpAttach(gdb.Command):
    """Attach to a threadproc, with the symbols of its own program and libraries.

Usage: tp-attach [--slot-base ADDR --slot-size SIZE] [--space NAME] PID

PID is the threadproc's pid (as `tp-space ps` shows it). The slot's base and size are
optional: without them the extension finds the program's slot from its main thread's stack.
`tp-space debug PID` runs gdb with this command. Use it instead of `attach`, `file` or
`symbol-file`, which would give gdb the space's host. gdb's shared-library support then follows
the program's own link map (`info sharedlibrary`, dlopen, thread-local variables); see
`info threadprocs`."""

    def __init__(self):
        super().__init__("tp-attach", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        pid = slot_base = slot_size = space = None
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("--slot-base", "--slot-size", "--space") and i + 1 < len(args):
                if a == "--slot-base":
                    slot_base = _parse_number(args[i + 1], a)
                elif a == "--slot-size":
                    slot_size = _parse_number(args[i + 1], a)
                else:
                    space = args[i + 1]
                i += 2
            elif pid is None and not a.startswith("-"):
                pid = _parse_number(a, "PID")
                i += 1
            else:
                raise gdb.GdbError("tp-attach: unexpected argument %r (see `help tp-attach`)" % a)
        if pid is None:
            raise gdb.GdbError("usage: tp-attach [--slot-base ADDR --slot-size SIZE] PID")
        if (slot_base is None) != (slot_size is None):
            raise gdb.GdbError("tp-attach: give both --slot-base and --slot-size, or neither")
        if gdb.selected_inferior().pid != 0:
            raise gdb.GdbError("tp-attach: already debugging process %d; detach first"
                               % gdb.selected_inferior().pid)
        if not os.path.isdir("/proc/%d" % pid):
            raise gdb.GdbError("tp-attach: no process %d" % pid)
        _TP_STATE.program = None
        try:
            _attach(pid, slot_base, slot_size, space)
        except gdb.GdbError as e:
            raise gdb.GdbError("tp-attach: %s" % e)
        except (gdb.error, gdb.MemoryError, OSError, ValueError) as e:
            raise gdb.GdbError("tp-attach: pid %d: %s" % (pid, e))


def _attach(pid, slot_base, slot_size, space):
    # gdb's solib support would read the host's auxv and link map, load the host's libraries
    # and plant its shared-library event breakpoint in the host's ld.so. It starts when gdb
    # attaches and when a main symbol file is loaded, and never under the "none" OS ABI; it
    # is started later (go_native), once it can only find the program's link map.
    _TP_STATE.hold_auto_solib_add()
    quiet = {"confirm": "off"}
    if _has_parameter("suppress-cli-notifications"):  # gdb 12: no "0x... in ?? ()" at attach
        quiet["suppress_cli_notifications"] = "on"
    with _Settings(**quiet), _NoOsabi():
        gdb.execute("symbol-file", to_string=True)  # whatever a previous session left
        gdb.execute("exec-file", to_string=True)
        gdb.execute("attach %d" % pid, to_string=True)
        # The "executable" gdb found is the host's (/proc/PID/exe describes the shared mm).
        gdb.execute("symbol-file", to_string=True)
        gdb.execute("exec-file", to_string=True)
    # Displaced stepping copies instructions to the entry point named in /proc/PID/auxv: the
    # host's _start, which two gdbs debugging two programs of one space would share.
    gdb.execute("set displaced-stepping off", to_string=True)
    try:
        program = _locate(pid, slot_base, slot_size, space)
    except gdb.GdbError:
        _quiet("detach")
        raise
    state = _TP_STATE
    state.program = program
    state.native = state.ready_noted = False
    state.load_program()
    if program.native_ready():
        state.go_native()
    else:
        state.sync(verbose=True)
    state.guard.check_all()
    name = os.path.basename(program.execfn or program.main_path)
    threads = len(gdb.selected_inferior().threads())
    objects = len(program.objects()[0]) + (1 if program.vdso else 0)
    where = ("space %s, " % space) if space else ""
    _message("attached to pid %d (%s), %sslot %s at %s; %d thread%s; symbols for %d objects"
             % (pid, name, where, program.slot, _hex(program.slot_base), threads,
                "" if threads == 1 else "s", objects))
    main = [t for t in gdb.selected_inferior().threads() if t.ptid[1] == pid]
    if main:
        main[0].switch()
    gdb.execute("frame")


def _locate(pid, slot_base, slot_size, space):
    maps = _read_maps(pid)
    if slot_base is not None:
        top = slot_base + slot_size
        m = _mapping_at(maps, top - 1)
        candidates = [(top, m.start if m is not None else top - (1 << 20))]
    else:
        candidates = _main_thread_stack(pid, maps)
    for top, bottom in candidates:
        auxv = _find_program_auxv(top, bottom)
        if auxv is not None:
            break
    else:
        if slot_base is not None and _mapping_at(maps, slot_base) is None:
            raise gdb.GdbError(
                "pid %d no longer shares the space's memory: it has exec'd another program, which "
                "runs as an ordinary process now (debug it with `attach %d`)" % (pid, pid))
        if slot_base is not None:
            raise gdb.GdbError(
                "pid %d is not the program of the slot at %s: its auxiliary vector (with AT_TP_* "
                "entries) is not at the top of that slot" % (pid, _hex(slot_base)))
        raise gdb.GdbError(
            "pid %d does not look like a threadproc: no auxiliary vector with AT_TP_* entries "
            "at the top of its stack (for an ordinary process, use `attach %d`)" % (pid, pid))
    return _Threadproc(pid, auxv, maps, space)


class _TpReload(gdb.Command):
    """Re-read the threadproc's libraries now.

When gdb's shared-library support follows the program (see `info threadprocs`), this is
`sharedlibrary`. Otherwise (a program attached before its ld.so had run, or a static program),
the extension loads the symbols of the libraries the program loaded since and drops those it
unloaded; it does so at every stop unless `set threadprocs auto-reload off`."""

    def __init__(self):
        super().__init__("tp-reload", gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        state = _TP_STATE
        if state.program is None:
            raise gdb.GdbError("tp-reload: not attached to a threadproc (use tp-attach)")
        if state.native:
            gdb.execute("sharedlibrary", from_tty)
            return
        added = state.sync(verbose=True)
        _message("%d new object%s" % (len(added), "" if len(added) == 1 else "s"))


class _InfoThreadprocs(gdb.Command):
    """Show the threadproc being debugged: slot, code ranges, its objects, the guard's mode."""

    def __init__(self):
        super().__init__("info threadprocs", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        p = _TP_STATE.program
        gdb.write("threadprocs gdb extension %s\n" % _EXTENSION_VERSION)
        gdb.write("shared-breakpoints: %s; auto-reload: %s\n"
                  % (_TP_STATE.shared_breakpoints, "on" if _TP_STATE.auto_reload else "off"))
        if p is None:
            gdb.write("not attached to a threadproc\n")
            return
        gdb.write("pid %d: %s\n" % (p.pid, p.execfn or p.main_path))
        if p.space:
            gdb.write("space: %s\n" % p.space)
        gdb.write("slot %s: %s-%s (arena %s, %s slots)\n" % (
            p.slot, _hex(p.slot_base), _hex(p.slot_base + p.slot_size),
            _hex(p.arena_base) if p.arena_base is not None else "?", p.slot_count))
        gdb.write("image: %s, load bias %s%s\n" % (p.main_path, _hex(p.bias),
                                                    " (deleted)" if p.main_deleted else ""))
        gdb.write("private code ranges (software breakpoints allowed):\n")
        for lo, hi, what in p.private_ranges():
            gdb.write("  %s-%s  %s\n" % (_hex(lo), _hex(hi), what))
        if _TP_STATE.native:
            gdb.write("libraries: followed by gdb through the program's own link map "
                      "(info sharedlibrary)\n")
        else:
            gdb.write("libraries: loaded by the extension (tp-reload; gdb's solib support waits "
                      "for the program's link map)\n")
        gdb.write("objects (load bias, file):\n")
        objects, _note = p.objects()
        if p.vdso:
            objects.append(("[vdso]", p.vdso, False))
        for path, base, main in objects:
            gdb.write("  %-18s %s%s\n" % (_hex(base), path, "  (executable)" if main else ""))


class _ThreadprocsPrefix(gdb.Command):
    """Settings of the Threadprocs extension."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA, prefix=True)


class _SharedBreakpoints(gdb.Parameter):
    """What becomes of a software breakpoint in code shared by every program of the space
(the vDSO, the space host's code, other programs' slots): `convert` (the default) replaces it by
a hardware breakpoint, `refuse` disables it."""

    set_doc = "Set what becomes of software breakpoints in code shared by the space."
    show_doc = "Show what becomes of software breakpoints in code shared by the space."

    def __init__(self):
        super().__init__("threadprocs shared-breakpoints", gdb.COMMAND_BREAKPOINTS, gdb.PARAM_ENUM,
                         ["convert", "refuse"])
        self.value = "convert"

    def get_set_string(self):
        _TP_STATE.shared_breakpoints = self.value
        return ""

    def get_show_string(self, svalue):
        return "Software breakpoints in shared code: %s." % svalue


class _AutoReload(gdb.Parameter):
    """Whether the extension re-reads the threadproc's libraries at every stop, as long as gdb's
own shared-library support does not follow them yet (see `info threadprocs`)."""

    set_doc = "Set whether the threadproc's libraries are re-read at every stop."
    show_doc = "Show whether the threadproc's libraries are re-read at every stop."

    def __init__(self):
        super().__init__("threadprocs auto-reload", gdb.COMMAND_FILES, gdb.PARAM_BOOLEAN)
        self.value = True

    def get_set_string(self):
        _TP_STATE.auto_reload = bool(self.value)
        return ""

    def get_show_string(self, svalue):
        return "Re-reading the threadproc's libraries at every stop: %s." % svalue


def _register():
    global _TP_STATE
    if _TP_STATE is not None:
        return  # sourced twice
    _TP_STATE = _State()
    _TpAttach()
    _TpReload()
    _InfoThreadprocs()
    _ThreadprocsPrefix("set threadprocs")
    _ThreadprocsPrefix("show threadprocs")
    _SharedBreakpoints()
    _AutoReload()


try:
    _TP_STATE  # set already when this file is sourced a second time
except NameError:
    _TP_STATE = None
_register()

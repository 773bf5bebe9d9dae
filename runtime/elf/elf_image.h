// What the runtime needs to know about an executable before it maps anything.
//
// read_elf_image() reads the ELF header, the program headers, PT_INTERP and the
// notes, and checks every value the loader will later rely on (bionic's
// linker_phdr and Cosmopolitan's ape/loader are the models). Nothing is mapped.
// Each refusal is one diagnostic, "<file>: <reason with the values>", with
// ExitCode::kNotExecutable. "PT_LOAD N" in a diagnostic names program header N
// (its index in the program header table, as readelf's segment mapping does).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "elf/file_view.h"

namespace tp::elf {

enum class ImageKind {
  kDynamicPie,  // ET_DYN with PT_INTERP: its ld.so relocates it
  kStaticPie,   // ET_DYN without PT_INTERP: relocates itself (or is an ld.so)
  kFixedExec,   // ET_EXEC: must load at its link-time addresses
};

struct LoadSegment {
  uint64_t vaddr;
  uint64_t memsz;
  uint64_t offset;
  uint64_t filesz;
  uint64_t align;  // p_align as in the file (0 and 1 mean none)
  uint32_t flags;  // PF_R | PF_W | PF_X
};

struct ImageNote {
  std::vector<uint8_t> desc;  // descriptor bytes of the "TPRC" / TP_NOTE_TYPE note
  uint64_t desc_vaddr = 0;    // link-time address of the descriptor (p_vaddr-based)
};

// The TPRC note, decoded and checked (tp_note_desc_problem of abi.h, and the
// export table inside the image). Addresses are link-time addresses.
struct SlotAwareNote {
  uint32_t abi_version = 0;
  uint32_t flags = 0;
  uint64_t stack_size = 0;     // 0: the launcher's RLIMIT_STACK
  uint64_t min_slot_size = 0;  // 0: any
  int32_t fixed_slot = -1;     // -1: any
  uint64_t exports_begin = 0, exports_end = 0;
  std::string name;            // empty: the file's name
};

struct ElfImage {
  ImageKind kind = ImageKind::kStaticPie;
  uint64_t entry = 0;       // e_entry, a link-time address inside a PF_X PT_LOAD
  uint64_t phdr_vaddr = 0;  // link-time address of the program headers (for AT_PHDR)
  uint16_t phnum = 0;       // e_phnum (for AT_PHNUM)
  std::vector<LoadSegment> loads;  // non-empty PT_LOADs, ascending vaddr, no overlap
  uint64_t span_start = 0;  // page-aligned min vaddr of the loads
  uint64_t span_end = 0;    // page-aligned end of the last load; span <= 1 TiB
  uint64_t max_align = 0;   // largest PT_LOAD p_align, at least 4096
  std::optional<std::string> interpreter;  // PT_INTERP path, without the NUL
  // True only when PT_GNU_STACK has PF_X. Without PT_GNU_STACK this is false:
  // that is what Linux does for 64-bit x86 images since 5.8 (no
  // READ_IMPLIES_EXEC), and the host builds the initial stack as the kernel would.
  bool exec_stack = false;
  bool has_gnu_stack = false;       // whether PT_GNU_STACK was present at all
  std::optional<ImageNote> tp_note;  // present in slot-aware images
  std::optional<SlotAwareNote> slot_aware;  // tp_note, decoded

  std::string describe_kind() const;
};

// Reads and validates everything; nothing is mapped.
Result<ElfImage> read_elf_image(const FileView& file);

// True when the bytes start with \x7f E L F (so a caller can tell "not ELF,
// maybe a #! script" from "a broken ELF file").
bool has_elf_magic(std::span<const uint8_t> first_bytes);

}  // namespace tp::elf

// tp_inspect_core: what an ELF file is to Threadprocs, as a plain value.
//
// inspect_image() reads untrusted bytes and never fails: anything that keeps
// the runtime from loading the file becomes Class::kNotLoadable with the
// reason. Only a file that cannot be read at all is an error (FileError).
// The header exposes no LLVM type; LLVM's libObject stays inside the library.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tp::inspect {

enum class Class {
  kSlotAware,    // ET_DYN PIE or static-PIE with a valid TPRC note
  kOrdinaryPie,  // ET_DYN with PT_INTERP, no note
  kStaticPie,    // ET_DYN without PT_INTERP, with an entry and PT_DYNAMIC, no note
  kFixedExec,    // ET_EXEC: loads only at its link address
  kNotLoadable,  // Report::reason says why
};

// "slot-aware", "ordinary PIE", "static-PIE", "ET_EXEC", "not loadable".
std::string_view class_name(Class c);

// Where a fixed-slot image lies compared with that slot in the default arena
// (TP_DEFAULT_ARENA_BASE, TP_DEFAULT_SLOT_SIZE, TP_DEFAULT_SLOT_COUNT slots;
// the image goes 2 MiB above the slot's base).
struct FixedSlot {
  int32_t slot = 0;
  uint64_t link_address = 0;        // lowest PT_LOAD page of the image
  bool in_default_arena = false;    // slot < TP_DEFAULT_SLOT_COUNT
  uint64_t slot_image_address = 0;  // where slot `slot` puts an image
  bool at_slot_address = false;     // link_address == slot_image_address: zero delta there
};

// The TPRC note's descriptor, decoded (only ever filled from a valid one).
struct Note {
  uint32_t abi_version = 0;
  uint32_t flags = 0;
  uint64_t stack_size = 0;     // 0: the launcher's RLIMIT_STACK
  uint64_t min_slot_size = 0;  // 0: any
  int32_t fixed_slot = -1;     // TP_NOTE_ANY_SLOT (-1): none
  int64_t exports_begin = 0;   // relative to the descriptor, as stored
  int64_t exports_end = 0;
  uint64_t descriptor_address = 0;  // link-time address of the descriptor
  std::string name;                 // as stored; empty: the file's name is used
  std::optional<FixedSlot> fixed;   // when fixed_slot >= 0
};

// One TP_EXPORT record, its pointers resolved to link-time addresses.
struct Export {
  uint64_t record_address = 0;  // link-time address of the record
  std::string name;             // empty when it could not be read
  uint64_t name_address = 0;
  uint64_t address = 0;  // link-time address of the exported object
  uint64_t size = 0;
  std::string problem;  // empty: well-formed
};

struct Report {
  std::string file;
  Class cls = Class::kNotLoadable;
  std::string reason;  // kNotLoadable: why, else empty

  // Facts, filled in as far as the file could be read (also when not loadable).
  bool is_elf = false;             // has the \x7fELF magic and a 64-bit header
  std::optional<uint16_t> e_type;  // ET_*
  bool pie_flag = false;           // DF_1_PIE in DT_FLAGS_1
  bool has_dynamic = false;        // PT_DYNAMIC
  uint64_t entry = 0;
  std::optional<std::string> interpreter;  // PT_INTERP
  std::vector<std::string> needed;         // DT_NEEDED, in order
  std::optional<std::string> soname;       // DT_SONAME
  bool textrel = false;                    // DT_TEXTREL or DF_TEXTREL
  std::optional<std::pair<uint64_t, uint64_t>> load_range;  // page-rounded [start, end)
  std::optional<Note> note;                                 // a valid TPRC note
  std::vector<Export> exports;                              // with a valid note
  std::vector<std::string> warnings;  // odd but not fatal (never affects cls)

  bool loadable() const { return cls != Class::kNotLoadable; }
};

// A file that could not be read (missing, a directory, no permission...).
struct FileError {
  std::string file;
  std::string message;
};

using Inspection = std::variant<Report, FileError>;

// Classifies `bytes`, the contents of `file` (used only to name it).
Report inspect_image(std::string file, std::span<const uint8_t> bytes);

// Reads `path` and classifies it.
Inspection inspect_file(const std::string& path);

// The effective program name: the note's, or "(file name)" when it is empty.
std::string display_name(const Note& note);

// "ET_DYN", "ET_EXEC", ... ("ET_? (N)" for others).
std::string elf_type_name(uint16_t type);

// The note's flags by name ("private-heap"); unknown bits as hex.
std::vector<std::string> flag_names(uint32_t flags);

}  // namespace tp::inspect

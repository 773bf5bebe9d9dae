// The assembly source of an image's Threadprocs note (abi.h: struct
// tp_note_desc). An @note section in an assembly object is what lld puts in
// PT_NOTE (a linker-script BYTE/LONG note is not: see DESIGN.md).
#pragma once

#include <cstdint>
#include <string>

namespace tp::link {

struct NoteSpec {
  std::string name;         // empty: the runtime uses the file's name
  uint64_t stack_size = 0;
  uint64_t min_slot_size = 0;
  int32_t fixed_slot = -1;
  uint32_t flags = 0;
};

std::string note_assembly(const NoteSpec& spec);

// The image address of slot `slot` in the default arena: where the runtime
// puts an image it loads there (slot base + 2 MiB).
uint64_t slot_image_address(uint32_t slot);

}  // namespace tp::link

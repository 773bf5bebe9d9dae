// Decoding the Threadprocs note of a slot-aware image (internal to tp_elf).
#pragma once

#include <string>

#include "common/result.h"
#include "elf/elf_image.h"

namespace tp::elf {

// Checks the descriptor with abi.h's tp_note_desc_problem (the tools apply the
// same check) and that the export table it points at lies inside the image.
Result<SlotAwareNote> decode_tp_note(const ImageNote& note, const ElfImage& image, const std::string& file);

}  // namespace tp::elf

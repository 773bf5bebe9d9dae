// Maps one validated ELF image's PT_LOAD segments at a bias, into memory the
// caller has reserved (MAP_FIXED over the slot's PROT_NONE reservation).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "elf/elf_image.h"

namespace tp {

// `name` is used in messages; `label` names anonymous (bss) mappings.
Status map_segments(const elf::ElfImage& image, int fd, uint64_t bias, const std::string& name,
                    const std::string& label);

}  // namespace tp

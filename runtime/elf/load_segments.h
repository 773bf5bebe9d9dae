// Checking the PT_LOAD segments and the address range they need
// (internal to tp_elf).
#pragma once

#include <elf.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "elf/elf_image.h"

namespace tp::elf {

// Mappings must end below the 47-bit x86_64 user address space (4-level paging).
inline constexpr uint64_t kUserAddressEnd = uint64_t{1} << 47;
// An image larger than this cannot fit a slot (64 GiB by default) and is far
// beyond any real program; refusing it early keeps all span arithmetic small.
inline constexpr uint64_t kMaxImageSpan = uint64_t{1} << 40;  // 1 TiB

struct LoadLayout {
  std::vector<LoadSegment> loads;  // non-empty PT_LOADs, ascending vaddr
  uint64_t span_start = 0;
  uint64_t span_end = 0;
  uint64_t max_align = 0;
};

// Checks every PT_LOAD of `phdrs` against a file of `file_size` bytes so that
// mapping them in order, as the kernel would, cannot fault, overlap or read
// past the file.
Result<LoadLayout> check_load_segments(std::span<const Elf64_Phdr> phdrs, uint64_t file_size,
                                       const std::string& file);

}  // namespace tp::elf

// Where things go inside a slot:
//
//   slot base                                                    slot end
//   | plan page, gap to 2 MiB | image (PT_LOADs) | ... free ... | ld.so | gap | guard | stack |
//
// The image sits low (its break, when emulated, grows up from it), the
// interpreter near the top like the kernel's mmap_base, the main stack at the
// very top with a PROT_NONE guard page below it.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace tp {

struct SlotLayout {
  uint64_t image_bias;   // added to the image's p_vaddr
  uint64_t interp_bias;  // added to ld.so's p_vaddr (0 without interpreter)
  uint64_t stack_low;    // lowest stack address (a guard page lies below)
  uint64_t stack_top;    // one past the highest stack address
};

struct SpanRequest {
  uint64_t start, end, align;  // page-aligned link-time span and its alignment
};

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kImageGap = 2ull << 20;

constexpr uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// Fails with a message naming the values when the pieces do not fit.
Result<SlotLayout> plan_slot_layout(uint64_t slot_base, uint64_t slot_size, const SpanRequest& image,
                                    const SpanRequest* interp, uint64_t stack_size);

}  // namespace tp

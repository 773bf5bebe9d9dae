#include "space/slot_layout.h"

#include <string>

#include "common/hex.h"

namespace tp {

Result<SlotLayout> plan_slot_layout(uint64_t slot_base, uint64_t slot_size, const SpanRequest& image,
                                    const SpanRequest* interp, uint64_t stack_size) {
  SlotLayout layout{};
  const uint64_t slot_end = slot_base + slot_size;
  stack_size = align_up(stack_size, kPageSize);
  if (stack_size + kPageSize + 2 * kImageGap >= slot_size)
    return make_error("a stack of " + hex(stack_size) + " bytes does not fit in a slot of " + hex(slot_size) +
                      " bytes");
  layout.stack_top = slot_end;
  layout.stack_low = slot_end - stack_size;
  const uint64_t guard_low = layout.stack_low - kPageSize;

  uint64_t image_align = image.align < kPageSize ? kPageSize : image.align;
  uint64_t image_low = align_up(slot_base + kImageGap, image_align);
  uint64_t image_len = image.end - image.start;
  layout.image_bias = image_low - image.start;
  uint64_t image_high = image_low + image_len;
  if (image_len >= slot_size || image_high > guard_low)
    return make_error("the image's " + hex(image_len) + " bytes do not fit in a slot of " + hex(slot_size) +
                      " bytes (use a larger --slot-size)");

  if (interp) {
    uint64_t interp_align = interp->align < kPageSize ? kPageSize : interp->align;
    uint64_t interp_len = interp->end - interp->start;
    if (interp_len + kImageGap > guard_low - slot_base)
      return make_error("the interpreter's " + hex(interp_len) + " bytes do not fit in the slot");
    uint64_t interp_low = align_down(guard_low - kImageGap - interp_len, interp_align);
    if (interp_low < image_high + kImageGap)
      return make_error("the image (" + hex(image_len) + " bytes) and its interpreter (" + hex(interp_len) +
                        " bytes) do not fit in a slot of " + hex(slot_size) + " bytes");
    layout.interp_bias = interp_low - interp->start;
  }
  return layout;
}

}  // namespace tp

// plan_slot_layout(): where the image, ld.so and the stack go inside a slot.
#include "space/slot_layout.h"

#include <gtest/gtest.h>

#include <string>

namespace tp {
namespace {

constexpr uint64_t kBase = 0x300000000000ull;
constexpr uint64_t kSlot = 256ull << 20;
constexpr uint64_t kStack = 8ull << 20;
constexpr uint64_t kMiB = 1ull << 20;

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

TEST(SlotLayout, TypicalDynamicProgram) {
  SpanRequest image{0, 0x6000, 0x1000};
  SpanRequest interp{0, 0x2b000, 0x1000};
  auto r = plan_slot_layout(kBase, kSlot, image, &interp, kStack);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The image 2 MiB above the slot base.
  EXPECT_EQ(r->image_bias + image.start, kBase + kImageGap);
  // The stack at the very top.
  EXPECT_EQ(r->stack_top, kBase + kSlot);
  EXPECT_EQ(r->stack_low, kBase + kSlot - kStack);
  // ld.so below the stack guard page with a gap, above the image, page aligned.
  uint64_t interp_low = r->interp_bias + interp.start;
  uint64_t interp_high = interp_low + (interp.end - interp.start);
  uint64_t guard_low = r->stack_low - kPageSize;
  EXPECT_EQ(interp_low % kPageSize, 0u);
  EXPECT_LE(interp_high + kImageGap, guard_low);
  EXPECT_GT(interp_low, r->image_bias + image.end + kImageGap);
  // Near the top, like the kernel's mmap_base: within one alignment of the gap.
  EXPECT_GT(interp_high + kImageGap + kPageSize, guard_low);
}

TEST(SlotLayout, NoInterpreterLeavesInterpBiasZero) {
  SpanRequest image{0, 0x20000, 0x1000};
  auto r = plan_slot_layout(kBase, kSlot, image, nullptr, kStack);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->interp_bias, 0u);
  EXPECT_EQ(r->image_bias, kBase + kImageGap);
}

TEST(SlotLayout, ImageAlignedToItsAlignment) {
  // A 2 MiB aligned image (e.g. -z max-page-size=2M) on a slot whose base is
  // only 2 MiB aligned: base + 2 MiB is already 2 MiB aligned.
  SpanRequest image2m{0, 0x400000, 2 * kMiB};
  auto a = plan_slot_layout(kBase + 2 * kMiB, kSlot, image2m, nullptr, kStack);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->image_bias, kBase + 4 * kMiB);
  // A 64 MiB aligned image goes up to the next 64 MiB boundary.
  SpanRequest image64m{0, 0x400000, 64 * kMiB};
  auto b = plan_slot_layout(kBase + 2 * kMiB, kSlot, image64m, nullptr, kStack);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->image_bias, kBase + 64 * kMiB);
  EXPECT_EQ(b->image_bias % (64 * kMiB), 0u);
  // An alignment below a page counts as a page.
  SpanRequest tiny{0, 0x1000, 0};
  auto c = plan_slot_layout(kBase, kSlot, tiny, nullptr, kStack);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->image_bias, kBase + kImageGap);
}

TEST(SlotLayout, NonZeroLinkAddressIsSubtracted) {
  // A prelinked-looking span starting at 0x10000: the bias maps its start to base + 2 MiB.
  SpanRequest image{0x10000, 0x30000, 0x10000};
  auto r = plan_slot_layout(kBase, kSlot, image, nullptr, kStack);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->image_bias + image.start, kBase + kImageGap);
}

TEST(SlotLayout, InterpreterAlignmentHonoured) {
  SpanRequest image{0, 0x6000, 0x1000};
  SpanRequest interp{0, 0x2b000, 2 * kMiB};
  auto r = plan_slot_layout(kBase, kSlot, image, &interp, kStack + 0x3000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((r->interp_bias + interp.start) % (2 * kMiB), 0u);
  EXPECT_LE(r->interp_bias + interp.end + kImageGap, r->stack_low - kPageSize);
}

TEST(SlotLayout, StackSizeRoundedUpToPages) {
  SpanRequest image{0, 0x6000, 0x1000};
  auto r = plan_slot_layout(kBase, kSlot, image, nullptr, kStack + 1);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stack_top - r->stack_low, kStack + kPageSize);
  EXPECT_EQ(r->stack_low % kPageSize, 0u);
}

TEST(SlotLayout, StackTooLargeIsRefusedWithSizes) {
  SpanRequest image{0, 0x6000, 0x1000};
  auto r = plan_slot_layout(kBase, kSlot, image, nullptr, kSlot);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("stack"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(hex(kSlot)), std::string::npos) << r.error().message;
  // The boundary: stack + guard + two gaps must stay below the slot size.
  uint64_t biggest = kSlot - kPageSize - 2 * kImageGap - kPageSize;
  EXPECT_TRUE(plan_slot_layout(kBase, kSlot, SpanRequest{0, 0x1000, 0x1000}, nullptr, biggest).ok());
  auto at_limit = plan_slot_layout(kBase, kSlot, SpanRequest{0, 0x1000, 0x1000}, nullptr, biggest + kPageSize);
  ASSERT_FALSE(at_limit.ok());
  EXPECT_NE(at_limit.error().message.find(hex(biggest + kPageSize)), std::string::npos) << at_limit.error().message;
}

TEST(SlotLayout, ImageTooLargeIsRefusedWithSizes) {
  // Up to the guard page fits; one page more does not.
  uint64_t room = kSlot - kImageGap - kStack - kPageSize;
  auto fits = plan_slot_layout(kBase, kSlot, SpanRequest{0, room, 0x1000}, nullptr, kStack);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  auto r = plan_slot_layout(kBase, kSlot, SpanRequest{0, room + kPageSize, 0x1000}, nullptr, kStack);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("image"), std::string::npos) << m;
  EXPECT_NE(m.find(hex(room + kPageSize)), std::string::npos) << m;
  EXPECT_NE(m.find(hex(kSlot)), std::string::npos) << m;
  EXPECT_NE(m.find("--slot-size"), std::string::npos) << m;
  // Larger than the slot itself.
  auto huge = plan_slot_layout(kBase, kSlot, SpanRequest{0, 4 * kSlot, 0x1000}, nullptr, kStack);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find(hex(4 * kSlot)), std::string::npos) << huge.error().message;
}

TEST(SlotLayout, AlignmentPushingImagePastTheSlotIsRefused) {
  SpanRequest image{0, 0x1000, 1ull << 30};  // 1 GiB alignment in a 256 MiB slot
  auto r = plan_slot_layout(kBase + 2 * kMiB, kSlot, image, nullptr, kStack);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("image"), std::string::npos) << r.error().message;
}

TEST(SlotLayout, InterpreterTooLargeIsRefusedWithSize) {
  SpanRequest image{0, 0x6000, 0x1000};
  SpanRequest interp{0, kSlot - kStack, 0x1000};
  auto r = plan_slot_layout(kBase, kSlot, image, &interp, kStack);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("interpreter"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(hex(kSlot - kStack)), std::string::npos) << r.error().message;
}

TEST(SlotLayout, ImageAndInterpreterTogetherTooLarge) {
  // Each fits alone, not both with their gaps.
  uint64_t half = 128 * kMiB;
  SpanRequest image{0, half, 0x1000};
  SpanRequest interp{0, half - 12 * kMiB, 0x1000};
  ASSERT_TRUE(plan_slot_layout(kBase, kSlot, image, nullptr, kStack).ok());
  auto r = plan_slot_layout(kBase, kSlot, image, &interp, kStack);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find(hex(half)), std::string::npos) << m;
  EXPECT_NE(m.find(hex(half - 12 * kMiB)), std::string::npos) << m;
  EXPECT_NE(m.find(hex(kSlot)), std::string::npos) << m;

  // The exact boundary: image, gap, interpreter, gap, guard, stack.
  uint64_t interp_len = kSlot - kImageGap - half - kImageGap - kImageGap - kPageSize - kStack;
  SpanRequest exact{0, interp_len, 0x1000};
  auto ok = plan_slot_layout(kBase, kSlot, image, &exact, kStack);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->interp_bias, kBase + kImageGap + half + kImageGap);
  SpanRequest one_more{0, interp_len + kPageSize, 0x1000};
  EXPECT_FALSE(plan_slot_layout(kBase, kSlot, image, &one_more, kStack).ok());
}

}  // namespace
}  // namespace tp

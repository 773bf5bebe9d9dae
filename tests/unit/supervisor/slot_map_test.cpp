// SlotMap against a brute-force model: a page bitmap of a small slot.
#include "supervisor/slot_map.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tp {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBase = 0x200000000000;
constexpr uint64_t kPages = 512;  // a 2 MiB slot in the model

struct Model {
  std::vector<bool> used = std::vector<bool>(kPages, false);
  void set(uint64_t addr, uint64_t len, bool v) {
    for (uint64_t p = (addr - kBase) / kPage; p < (addr + len - kBase) / kPage; ++p) used[p] = v;
  }
  bool overlaps(uint64_t addr, uint64_t len) const {
    for (uint64_t p = (addr - kBase) / kPage; p < (addr + len - kBase) / kPage; ++p)
      if (used[p]) return true;
    return false;
  }
  uint64_t mapped() const { return uint64_t(std::count(used.begin(), used.end(), true)) * kPage; }
};

TEST(SlotMap, AddRemoveMergeAndSplit) {
  SlotMap m(kBase, kBase + kPages * kPage, kBase, kBase + kPages * kPage);
  m.add(kBase, 4 * kPage);
  m.add(kBase + 4 * kPage, 4 * kPage);  // merges with its neighbour
  EXPECT_EQ(m.ranges(), 1u);
  EXPECT_EQ(m.mapped_bytes(), 8 * kPage);
  m.remove(kBase + 2 * kPage, 2 * kPage);  // splits it
  EXPECT_EQ(m.ranges(), 2u);
  EXPECT_EQ(m.mapped_bytes(), 6 * kPage);
  EXPECT_FALSE(m.overlaps(kBase + 2 * kPage, 2 * kPage));
  EXPECT_TRUE(m.overlaps(kBase + kPage, 2 * kPage));
  m.add(kBase + kPage, 6 * kPage);  // overlapping add counts each byte once
  EXPECT_EQ(m.mapped_bytes(), 8 * kPage);
}

TEST(SlotMap, FindFreeIsAlignedInsideTheAllocationAreaAndFree) {
  const uint64_t alloc_lo = kBase + 64 * kPage, alloc_hi = kBase + 448 * kPage;
  SlotMap m(kBase, kBase + kPages * kPage, alloc_lo, alloc_hi);
  auto a = m.find_free(16 * kPage, kPage);
  ASSERT_TRUE(a);
  EXPECT_GE(*a, alloc_lo);
  EXPECT_LE(*a + 16 * kPage, alloc_hi);
  auto b = m.find_free(8 * kPage, 64 * kPage);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b % (64 * kPage), 0u);
  EXPECT_FALSE(m.find_free(385 * kPage, kPage)) << "larger than the whole area";
  m.add(alloc_lo, alloc_hi - alloc_lo);
  EXPECT_FALSE(m.find_free(kPage, kPage)) << "the area is full";
  m.remove(alloc_lo + 10 * kPage, kPage);
  EXPECT_EQ(m.find_free(kPage, kPage), alloc_lo + 10 * kPage) << "the only hole";
}

// Random adds, removes and allocations, checked page by page against the model.
TEST(SlotMap, MatchesABruteForceModel) {
  std::mt19937_64 rng(12345);
  const uint64_t alloc_lo = kBase + 32 * kPage, alloc_hi = kBase + 480 * kPage;
  SlotMap m(kBase, kBase + kPages * kPage, alloc_lo, alloc_hi);
  Model model;
  for (int step = 0; step < 20000; ++step) {
    uint64_t pages = 1 + rng() % 24;
    uint64_t addr = kBase + (rng() % (kPages - pages)) * kPage;
    switch (rng() % 3) {
      case 0:
        m.add(addr, pages * kPage);
        model.set(addr, pages * kPage, true);
        break;
      case 1:
        m.remove(addr, pages * kPage);
        model.set(addr, pages * kPage, false);
        break;
      default: {
        uint64_t align = (rng() % 4 == 0) ? 8 * kPage : kPage;
        auto got = m.find_free(pages * kPage, align);
        if (got) {
          ASSERT_EQ(*got % align, 0u);
          ASSERT_GE(*got, alloc_lo);
          ASSERT_LE(*got + pages * kPage, alloc_hi);
          ASSERT_FALSE(model.overlaps(*got, pages * kPage)) << "step " << step << ": allocated over a mapping";
          m.add(*got, pages * kPage);
          model.set(*got, pages * kPage, true);
        } else {
          // Nothing aligned and free of that size may exist in the area.
          for (uint64_t a = alloc_lo; a + pages * kPage <= alloc_hi; a += align)
            ASSERT_TRUE(model.overlaps(a, pages * kPage)) << "step " << step << ": missed a free range at " << a;
        }
      }
    }
    ASSERT_EQ(m.mapped_bytes(), model.mapped()) << "step " << step;
    uint64_t probe = kBase + (rng() % (kPages - 4)) * kPage;
    ASSERT_EQ(m.overlaps(probe, 4 * kPage), model.overlaps(probe, 4 * kPage)) << "step " << step;
  }
}

}  // namespace
}  // namespace tp

// The slot arena: configuration checks, the reservation, slot bookkeeping and
// the reset of a released slot.
#include "space/arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "threadprocs/abi.h"

namespace tp {
namespace {

// A range no other test of this binary uses, far from the default arena.
constexpr uint64_t kBase = 0x300000000000ull;
constexpr uint64_t kSlotSize = 256ull << 20;
constexpr ArenaConfig kSmall{kBase, kSlotSize, 4};

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The permissions /proc/self/maps shows for the mapping holding addr ("" if none).
std::string maps_perms(uint64_t addr) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo, hi;
    char perms[8];
    if (sscanf(line.c_str(), "%llx-%llx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi) return perms;
  }
  return "";
}

bool resident(uint64_t addr) {
  unsigned char vec = 0;
  EXPECT_EQ(mincore(reinterpret_cast<void*>(addr), 4096, &vec), 0) << strerror(errno);
  return vec & 1;
}

// --- validate_arena_config -------------------------------------------------

TEST(ArenaConfig, DefaultIsValid) {
  ArenaConfig c = default_arena_config();
  EXPECT_EQ(c.base, TP_DEFAULT_ARENA_BASE);
  EXPECT_EQ(c.slot_size, TP_DEFAULT_SLOT_SIZE);
  EXPECT_EQ(c.slot_count, TP_DEFAULT_SLOT_COUNT);
  EXPECT_TRUE(validate_arena_config(c).ok());
  EXPECT_TRUE(validate_arena_config(kSmall).ok());
}

TEST(ArenaConfig, SlotCountOutOfRange) {
  auto zero = validate_arena_config({kBase, kSlotSize, 0});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("slot count 0"), std::string::npos) << zero.error().message;
  auto many = validate_arena_config({0x10000000, 256ull << 20, 65537});
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message.find("65537"), std::string::npos) << many.error().message;
  EXPECT_TRUE(validate_arena_config({0x10000000, 256ull << 20, 65536}).ok());
  EXPECT_TRUE(validate_arena_config({kBase, kSlotSize, 1}).ok());
}

TEST(ArenaConfig, SlotSizeMustBeTwoMiBMultiple) {
  uint64_t odd = kSlotSize + (1ull << 20);
  auto r = validate_arena_config({kBase, odd, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(hex(odd)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("2 MiB"), std::string::npos) << r.error().message;
  EXPECT_FALSE(validate_arena_config({kBase, kSlotSize + 4096, 4}).ok());
  EXPECT_TRUE(validate_arena_config({kBase, kSlotSize + (2ull << 20), 4}).ok());
}

TEST(ArenaConfig, SlotSizeAtLeast256MiB) {
  uint64_t small = 254ull << 20;
  auto r = validate_arena_config({kBase, small, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(hex(small)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("256 MiB"), std::string::npos) << r.error().message;
  EXPECT_FALSE(validate_arena_config({kBase, 0, 4}).ok());
}

TEST(ArenaConfig, BaseMustBeTwoMiBAligned) {
  auto r = validate_arena_config({kBase + 4096, kSlotSize, 4});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(hex(kBase + 4096)), std::string::npos) << r.error().message;
}

TEST(ArenaConfig, BeyondTheFortySevenBitAddressSpace) {
  // 64 slots of 64 GiB = 4 TiB from 0x7e0000000000 runs past 0x7ffffffff000.
  ArenaConfig c{0x7e0000000000ull, 64ull << 30, 64};
  auto r = validate_arena_config(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("47-bit"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(hex(c.base)), std::string::npos) << r.error().message;
  // The last slot ending just below the top of user space is fine.
  EXPECT_TRUE(validate_arena_config({0x7fffe0000000ull - (256ull << 20), 256ull << 20, 1}).ok());
  EXPECT_FALSE(validate_arena_config({0x7fffffe00000ull, 256ull << 20, 1}).ok());
  // A base above 47 bits, and sizes whose product overflows 64 bits.
  EXPECT_FALSE(validate_arena_config({0x800000000000ull, 256ull << 20, 1}).ok());
  EXPECT_FALSE(validate_arena_config({kBase, 1ull << 62, 65536}).ok());
}

// --- Arena -----------------------------------------------------------------

TEST(Arena, ReserveMapsProtNoneAtTheBase) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->slot_base(0), kBase);
  EXPECT_EQ(a->slot_base(3), kBase + 3 * kSlotSize);
  EXPECT_EQ(a->slot_end(3), kBase + 4 * kSlotSize);
  EXPECT_EQ(a->slots_in_use(), 0u);
  EXPECT_EQ(maps_perms(kBase), "---p");
  EXPECT_EQ(maps_perms(kBase + 4 * kSlotSize - 1), "---p");
}

TEST(Arena, ReserveRefusesAnInvalidConfig) {
  auto a = Arena::reserve({kBase, kSlotSize, 0});
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("slot count"), std::string::npos) << a.error().message;
  EXPECT_EQ(maps_perms(kBase), "");
}

TEST(Arena, ReservingTheSameRangeTwiceFails) {
  auto first = Arena::reserve(kSmall);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = Arena::reserve(kSmall);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("already in use"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find(hex(kBase)), std::string::npos) << second.error().message;
  // An overlap counts too, and the failed attempt leaves the first intact.
  auto overlap = Arena::reserve({kBase + 2 * kSlotSize, kSlotSize, 4});
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message.find("already in use"), std::string::npos) << overlap.error().message;
  EXPECT_EQ(maps_perms(kBase + 3 * kSlotSize), "---p");
}

TEST(Arena, DestructionUnmapsTheReservation) {
  {
    auto a = Arena::reserve(kSmall);
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_EQ(maps_perms(kBase), "---p");
  }
  EXPECT_EQ(maps_perms(kBase), "") << "the arena must be unmapped when its owner goes away";
  auto again = Arena::reserve(kSmall);
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST(Arena, MovedFromArenaDoesNotUnmap) {
  auto r = Arena::reserve(kSmall);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::optional<Arena> husk;
  husk.emplace(std::move(*r));
  {
    Arena moved(std::move(*husk));
    EXPECT_EQ(moved.config().base, kBase);
    EXPECT_EQ(maps_perms(kBase), "---p");
  }  // `moved` unmaps here
  EXPECT_EQ(maps_perms(kBase), "");
  // Someone else maps the range; destroying the moved-from husk must leave it alone.
  void* p = mmap(reinterpret_cast<void*>(kBase), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                 -1, 0);
  ASSERT_EQ(p, reinterpret_cast<void*>(kBase)) << strerror(errno);
  husk.reset();
  EXPECT_EQ(maps_perms(kBase), "r--p") << "the moved-from arena unmapped a range it no longer owns";
  munmap(p, 4096);
}

TEST(Arena, AcquireInOrderThenNullWhenFull) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  for (uint32_t i = 0; i < 4; ++i) {
    auto s = a->acquire();
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, i);
    EXPECT_EQ(a->slots_in_use(), i + 1);
  }
  EXPECT_FALSE(a->acquire().has_value());
  EXPECT_EQ(a->slots_in_use(), 4u);
}

TEST(Arena, ReleasedSlotsAreReusedLeastRecentlyUsedFirst) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->acquire(), 0u);
  ASSERT_EQ(a->acquire(), 1u);
  ASSERT_TRUE(a->release(0).ok());
  // Slot 0 was just released: the never-used 2 and 3 come first.
  EXPECT_EQ(a->acquire(), 2u);
  EXPECT_EQ(a->acquire(), 3u);
  EXPECT_EQ(a->acquire(), 0u);
  EXPECT_FALSE(a->acquire().has_value());
  ASSERT_TRUE(a->release(3).ok());
  ASSERT_TRUE(a->release(1).ok());
  ASSERT_TRUE(a->release(2).ok());
  EXPECT_EQ(a->slots_in_use(), 1u);
  EXPECT_EQ(a->acquire(), 3u);
  EXPECT_EQ(a->acquire(), 1u);
  EXPECT_EQ(a->acquire(), 2u);
}

TEST(Arena, AcquireExact) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(a->acquire_exact(2));
  EXPECT_FALSE(a->acquire_exact(2)) << "already in use";
  EXPECT_FALSE(a->acquire_exact(4)) << "out of range";
  EXPECT_FALSE(a->acquire_exact(UINT32_MAX));
  EXPECT_EQ(a->slots_in_use(), 1u);
  // acquire() skips the slot taken exactly.
  EXPECT_EQ(a->acquire(), 0u);
  EXPECT_EQ(a->acquire(), 1u);
  EXPECT_EQ(a->acquire(), 3u);
  EXPECT_FALSE(a->acquire().has_value());
  ASSERT_TRUE(a->release(2).ok());
  EXPECT_TRUE(a->acquire_exact(2));
  EXPECT_FALSE(a->acquire().has_value());
}

TEST(Arena, ReleaseOfASlotNotInUseFails) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto never = a->release(1);
  ASSERT_FALSE(never.ok());
  EXPECT_NE(never.error().message.find("slot 1 is not in use"), std::string::npos) << never.error().message;
  EXPECT_FALSE(a->release(4).ok());
  ASSERT_EQ(a->acquire(), 0u);
  ASSERT_TRUE(a->release(0).ok());
  auto twice = a->release(0);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("slot 0 is not in use"), std::string::npos) << twice.error().message;
  // A failed release does not add the slot to the free list twice.
  for (uint32_t want : {1u, 2u, 3u, 0u}) EXPECT_EQ(a->acquire(), want);
  EXPECT_FALSE(a->acquire().has_value());
}

TEST(Arena, ReleasedSlotIsProtNoneAndEmptyAgain) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->acquire(), 0u);
  ASSERT_EQ(a->acquire(), 1u);
  // What a program would do in its slot: map memory and write into it.
  uint64_t at = a->slot_base(1) + (16ull << 20);
  void* p = mmap(reinterpret_cast<void*>(at), 1 << 20, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(p, reinterpret_cast<void*>(at)) << strerror(errno);
  memset(p, 0x5a, 1 << 20);
  ASSERT_EQ(maps_perms(at), "rw-p");
  ASSERT_TRUE(resident(at));
  // Slot 0 holds data too, which must survive slot 1's release.
  uint64_t at0 = a->slot_base(0) + (16ull << 20);
  ASSERT_EQ(mmap(reinterpret_cast<void*>(at0), 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
            reinterpret_cast<void*>(at0));
  memset(reinterpret_cast<void*>(at0), 0x33, 4096);

  ASSERT_TRUE(a->release(1).ok());
  EXPECT_EQ(maps_perms(at), "---p");
  EXPECT_EQ(maps_perms(a->slot_base(1)), "---p");
  EXPECT_EQ(maps_perms(a->slot_end(1) - 1), "---p");
  EXPECT_FALSE(resident(at)) << "the released slot still holds the program's pages";
  // Made accessible again, the memory reads as fresh zero pages.
  ASSERT_EQ(mprotect(reinterpret_cast<void*>(at), 4096, PROT_READ), 0);
  EXPECT_EQ(*reinterpret_cast<volatile uint8_t*>(at), 0);
  // The neighbour is untouched.
  EXPECT_EQ(maps_perms(at0), "rw-p");
  EXPECT_EQ(*reinterpret_cast<volatile uint8_t*>(at0), 0x33);
}

TEST(Arena, MappingsAreNamed) {
  auto a = Arena::reserve(kSmall);
  ASSERT_TRUE(a.ok()) << a.error().message;
  std::ifstream maps("/proc/self/maps");
  std::stringstream ss;
  ss << maps.rdbuf();
  std::string text = ss.str();
  std::string first = hex(kBase).substr(2) + "-";
  auto line_at = text.find(first);
  ASSERT_NE(line_at, std::string::npos) << text;
  std::string line = text.substr(line_at, text.find('\n', line_at) - line_at);
  if (line.find("[anon:") == std::string::npos) GTEST_SKIP() << "kernel without CONFIG_ANON_VMA_NAME: " << line;
  EXPECT_NE(line.find("[anon:tp:arena]"), std::string::npos) << line;
}

}  // namespace
}  // namespace tp

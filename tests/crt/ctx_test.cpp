// Building a context from the AT_TP_* values, tp_self, tp_owner, and every
// internal function answering TP_ENOSPACE without a context.
#include <gtest/gtest.h>

#include <cstring>

#include "fake_space.h"

namespace tp_test {
namespace {

TEST(CrtCtxInit, BuildsTheViewOfOneSlot) {
  FakeSpace space(8, 16);
  const tp_boot b = space.boot(3);
  tp_ctx c;
  ASSERT_EQ(tpi_ctx_init(&c, &b), TP_OK);
  EXPECT_EQ(c.control, space.header());
  EXPECT_EQ(c.slots, &space.slot(0));
  EXPECT_EQ(c.registry, &space.entry(0));
  EXPECT_EQ(c.holds, &space.holds(0, 0));
  EXPECT_EQ(c.slot_count, 8u);
  EXPECT_EQ(c.registry_capacity, 16u);
  EXPECT_EQ(c.self, 3u);
  EXPECT_EQ(c.tag, TP_OWNER_TAG(3));
  EXPECT_EQ(c.arena_base, kArenaBase);
  EXPECT_EQ(c.slot_size, kSlotSize);
  EXPECT_EQ(c.slot_base, kArenaBase + 3 * kSlotSize);
}

TEST(CrtCtxInit, NoControlRegionIsNotASpace) {
  tp_ctx c;
  tp_boot none{};
  EXPECT_EQ(tpi_ctx_init(&c, &none), TP_ENOSPACE);
  FakeSpace space;
  tp_boot b = space.boot(0);
  b.present &= ~TP_BOOT_HAS_CONTROL;
  EXPECT_EQ(tpi_ctx_init(&c, &b), TP_ENOSPACE);
  b = space.boot(0);
  b.control = 0;
  EXPECT_EQ(tpi_ctx_init(&c, &b), TP_ENOSPACE);
}

TEST(CrtCtxInit, RefusesWhatItCannotTrust) {
  FakeSpace space(8, 16);
  tp_ctx c;
  auto refused = [&](auto change) {
    tp_boot b = space.boot(2);
    const tp_control_header saved = *space.header();
    change(b, *space.header());
    const int rc = tpi_ctx_init(&c, &b);
    *space.header() = saved;
    return rc == TP_EABI;
  };
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.present &= ~TP_BOOT_HAS_SLOT_INDEX; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.abi_version = TP_ABI_VERSION + 1; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.magic ^= 1; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.abi_version = TP_ABI_VERSION + 1; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.slot_count = 9; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.slot_index = 8; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.slot_base += 4096; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.slot_size = 0; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.arena_base = ~0ull - kSlotSize; }));
  EXPECT_TRUE(refused([](tp_boot& b, tp_control_header&) { b.control += 4; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.registry_capacity = 0; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.slots_offset = 8; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.holds_offset = h.total_size; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.registry_offset = ~0ull - 7; }));
  EXPECT_TRUE(refused([](tp_boot&, tp_control_header& h) { h.total_size -= 4; }));
  EXPECT_FALSE(refused([](tp_boot&, tp_control_header&) {}));
}

TEST(CrtSelf, DescribesTheOwnSlot) {
  FakeSpace space;
  space.start_program(2, "worker");
  const tp_ctx c = space.ctx(2);
  tp_self_info s;
  ASSERT_EQ(tpi_self(&c, &s), TP_OK);
  EXPECT_EQ(s.slot, 2u);
  EXPECT_EQ(s.slot_count, space.slot_count());
  EXPECT_EQ(s.slot_base, kArenaBase + 2 * kSlotSize);
  EXPECT_EQ(s.slot_size, kSlotSize);
  EXPECT_EQ(s.arena_base, kArenaBase);
  EXPECT_EQ(s.name, space.slot(2).name);
  EXPECT_STREQ(s.name, "worker");
  EXPECT_EQ(tpi_self(&c, nullptr), TP_EINVAL);
}

TEST(CrtOwner, IsTheSlotIndexOfTheAddress) {
  FakeSpace space(8);
  const tp_ctx c = space.ctx(0);
  auto at = [](std::uint64_t a) { return reinterpret_cast<const void*>(a); };
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase)), 0);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase + kSlotSize - 1)), 0);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase + kSlotSize)), 1);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase + 5 * kSlotSize + 12345)), 5);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase + 8 * kSlotSize - 1)), 7);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase + 8 * kSlotSize)), TP_ENOTARENA);
  EXPECT_EQ(tpi_owner(&c, at(kArenaBase - 1)), TP_ENOTARENA);
  EXPECT_EQ(tpi_owner(&c, nullptr), TP_ENOTARENA);
  EXPECT_EQ(tpi_owner(&c, at(~0ull)), TP_ENOTARENA);
}

TEST(CrtNoContext, EverythingIsNotInASpace) {
  int x = 0;
  void* out = &x;
  std::uint64_t size = 7;
  tp_self_info s;
  EXPECT_EQ(tpi_self(nullptr, &s), TP_ENOSPACE);
  EXPECT_EQ(tpi_owner(nullptr, &x), TP_ENOSPACE);
  EXPECT_EQ(tpi_publish(nullptr, "x", &x, 4), TP_ENOSPACE);
  EXPECT_EQ(tpi_unpublish(nullptr, "x"), TP_ENOSPACE);
  EXPECT_EQ(tpi_registry_find(nullptr, "x", &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tpi_exports_find(nullptr, "p", 1, "x", &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tpi_lookup(nullptr, "x", &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tpi_lookup(nullptr, "p/x", &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tpi_wait(nullptr, "x", -1, &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tpi_hold(nullptr, &x), TP_ENOSPACE);
  EXPECT_EQ(tpi_release(nullptr, &x), TP_ENOSPACE);
  tpi_enter_main(nullptr);  // nothing to mark
  EXPECT_EQ(out, &x);       // outputs untouched
  EXPECT_EQ(size, 7u);
}

TEST(CrtStrerror, EveryCodeHasASentence) {
  for (int code = TP_EABI; code <= TP_OK; ++code) {
    const char* s = tp_strerror(code);
    ASSERT_NE(s, nullptr);
    EXPECT_GT(std::strlen(s), 5u);
    EXPECT_STRNE(s, tp_strerror(1)) << code;
  }
  EXPECT_STREQ(tp_strerror(TP_ENOSPACE), "the program does not run in a Threadprocs space");
}

}  // namespace
}  // namespace tp_test

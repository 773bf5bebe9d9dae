// The host's half of the control region: slot states, lock recovery, holds
// and registry clean-up when a program ends (libtp's half: tests/crt).
#include <gtest/gtest.h>

#include <cstring>

#include "space/control_region.h"

namespace tp {
namespace {

ControlRegion make(uint32_t slots = 8) {
  auto r = ControlRegion::create(slots, 16);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return std::move(r).value();
}

void publish_as(ControlRegion& c, uint32_t entry, uint32_t slot, const char* name) {
  tp_registry_entry& e = c.entry(entry);
  e.seq += 2;
  e.owner = TP_OWNER_TAG(slot);
  e.address = 0x1234;
  std::strcpy(e.name, name);
}

TEST(ControlRegion, HeaderDescribesTheLayout) {
  ControlRegion c = make(8);
  const tp_control_header& h = c.header();
  EXPECT_EQ(h.magic, TP_CONTROL_MAGIC);
  EXPECT_EQ(h.abi_version, TP_ABI_VERSION);
  EXPECT_EQ(h.slot_count, 8u);
  EXPECT_EQ(h.registry_capacity, 16u);
  EXPECT_GE(h.slots_offset, sizeof(tp_control_header));
  EXPECT_GE(h.registry_offset, h.slots_offset + 8 * sizeof(tp_slot_info));
  EXPECT_GE(h.holds_offset, h.registry_offset + 16 * sizeof(tp_registry_entry));
  EXPECT_GE(h.total_size, h.holds_offset + 8 * 8 * sizeof(uint32_t));
  EXPECT_EQ(c.slot(7).state, TP_SLOT_FREE);
}

TEST(ControlRegion, StartFillsTheSlotBeforeRunning) {
  ControlRegion c = make();
  SlotStart s;
  s.pid = 42;
  s.name = std::string(100, 'n');  // cut to the field
  s.load_bias = 0x1000;
  s.exports_begin = 0x2000;
  s.exports_end = 0x2018;
  s.flags = TP_SLOT_SLOT_AWARE;
  c.on_start(2, s);
  const tp_slot_info& i = c.slot(2);
  EXPECT_EQ(i.state, TP_SLOT_RUNNING);
  EXPECT_EQ(i.generation, 1u);
  EXPECT_EQ(i.pid, 42);
  EXPECT_EQ(std::strlen(i.name), sizeof i.name - 1);
  EXPECT_EQ(i.exports_end, 0x2018u);
  EXPECT_EQ(i.flags, uint32_t{TP_SLOT_SLOT_AWARE});
  c.on_start(2, s);
  EXPECT_EQ(c.slot(2).generation, 2u);
}

TEST(ControlRegion, ExitFreesTheRegistryLockOfTheDeadOnly) {
  ControlRegion c = make();
  c.header().registry_lock = TP_OWNER_TAG(3);
  c.on_start(1, {});
  c.on_exit(1);
  EXPECT_EQ(c.header().registry_lock, TP_OWNER_TAG(3)) << "a live program's lock stays";
  c.on_start(3, {});
  c.on_exit(3);
  EXPECT_EQ(c.header().registry_lock, 0u) << "the dead program's lock is freed";
  EXPECT_EQ(c.slot(3).state, TP_SLOT_EXITING);
}

TEST(ControlRegion, HoldsKeepASlotAndDieWithTheirHolder) {
  ControlRegion c = make();
  c.on_start(0, {});
  c.on_start(1, {});
  c.holds(1, 0) = 2;  // slot 1 holds two pointers into slot 0
  c.holds(0, 0) = 1;  // a program's hold on itself does not keep it
  c.on_exit(0);
  EXPECT_EQ(c.holders(0), 2u) << "only slot 1's holds count";
  c.set_state(0, TP_SLOT_HELD);
  EXPECT_TRUE(c.on_exit(1)) << "slot 1 had holds: the caller must re-check";
  EXPECT_EQ(c.holders(0), 0u);
}

TEST(ControlRegion, FreeRemovesOnlyTheEndedProgramsNames) {
  ControlRegion c = make();
  publish_as(c, 0, 4, "mine");
  publish_as(c, 1, 5, "theirs");
  c.entry(2).seq = 7;  // died mid-write: odd sequence
  c.entry(2).owner = TP_OWNER_TAG(4);
  uint32_t gen = c.header().registry_generation;
  c.on_free(4);
  EXPECT_EQ(c.entry(0).owner, 0u);
  EXPECT_EQ(c.entry(0).name[0], '\0');
  EXPECT_EQ(c.entry(0).seq % 2, 0u);
  EXPECT_EQ(c.entry(2).owner, 0u);
  EXPECT_EQ(c.entry(2).seq % 2, 0u) << "a half-written entry becomes readable again";
  EXPECT_STREQ(c.entry(1).name, "theirs");
  EXPECT_EQ(c.slot(4).state, TP_SLOT_FREE);
  EXPECT_GT(c.header().registry_generation, gen) << "waiters are woken to look again";
}

TEST(ControlRegion, DeadWritersHalfWrittenEntriesAreClosed) {
  ControlRegion c = make();
  c.on_start(3, {});
  c.header().registry_lock = TP_OWNER_TAG(3);
  c.entry(5).seq = 9;  // claimed, owner not yet written
  c.entry(6).seq = 11;  // being unpublished: owner already 0
  c.entry(7).seq = 13;  // being written by slot 3
  c.entry(7).owner = TP_OWNER_TAG(3);
  c.entry(8).seq = 15;  // someone else's odd entry: not the dead writer's business
  c.entry(8).owner = TP_OWNER_TAG(4);
  c.on_exit(3);
  EXPECT_EQ(c.header().registry_lock, 0u);
  for (uint32_t i : {5u, 6u, 7u}) {
    EXPECT_EQ(c.entry(i).seq % 2, 0u) << "entry " << i;
    EXPECT_EQ(c.entry(i).owner, 0u) << "entry " << i;
  }
  EXPECT_EQ(c.entry(8).seq, 15u);
}

TEST(ControlRegion, TryUnholdCountsAgainBeforeFreeing) {
  ControlRegion c = make();
  c.on_start(2, {});
  c.on_exit(2);
  c.set_state(2, TP_SLOT_HELD);
  c.holds(5, 2) = 1;
  EXPECT_FALSE(c.try_unhold(2));
  EXPECT_EQ(c.slot(2).state, TP_SLOT_HELD) << "still held: state restored";
  c.holds(5, 2) = 0;
  EXPECT_TRUE(c.try_unhold(2));
  EXPECT_EQ(c.slot(2).state, TP_SLOT_EXITING) << "a racing tp_hold now waits, then sees FREE";
  c.on_free(2);
  EXPECT_EQ(c.slot(2).state, TP_SLOT_FREE);
}

TEST(ControlRegion, AScribbledHeaderDoesNotSteerTheHost) {
  ControlRegion c = make(8);
  publish_as(c, 3, 1, "x");
  // Any program can write the header: offsets and counts to garbage.
  std::memset(&c.header().slots_offset, 0xff, 4 * sizeof(uint64_t));
  c.header().slot_count = ~0u;
  c.header().registry_capacity = ~0u;
  c.on_start(1, {});
  c.on_exit(1);
  EXPECT_EQ(c.holders(1), 0u);
  c.on_free(1);
  EXPECT_EQ(c.entry(3).owner, 0u);
  EXPECT_EQ(c.slot(1).state, TP_SLOT_FREE);
}

}  // namespace
}  // namespace tp

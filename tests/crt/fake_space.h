// A control region laid out as abi.h says, in ordinary memory, for testing
// libtp's logic with explicit contexts (no host, no real space). The arena is
// a range of addresses nobody dereferences: only tp_owner's arithmetic and
// the holds matrix use it.
#pragma once

#include <cstdint>
#include <memory>

#include "tp_internal.h"

namespace tp_test {

inline constexpr std::uint64_t kArenaBase = 0x100000000000ull;
inline constexpr std::uint64_t kSlotSize = 1ull << 30;

class FakeSpace {
 public:
  explicit FakeSpace(std::uint32_t slot_count = 8, std::uint32_t registry_capacity = 16);
  FakeSpace(const FakeSpace&) = delete;
  FakeSpace& operator=(const FakeSpace&) = delete;

  // The AT_TP_* values the host would give the program in `slot`.
  tp_boot boot(std::uint32_t slot) const;
  // The context of the program in `slot` (built with tpi_ctx_init).
  tp_ctx ctx(std::uint32_t slot) const;

  tp_control_header* header() const { return header_; }
  tp_slot_info& slot(std::uint32_t i) const { return slots_[i]; }
  tp_registry_entry& entry(std::uint32_t i) const { return registry_[i]; }
  std::uint32_t& holds(std::uint32_t holder, std::uint32_t owner) const {
    return holds_[holder * slot_count_ + owner];
  }
  std::uint32_t slot_count() const { return slot_count_; }
  std::uint32_t capacity() const { return capacity_; }

  // An address `offset` bytes into slot i (never dereferenced).
  static void* in_slot(std::uint32_t i, std::uint64_t offset = 0x1000) {
    return reinterpret_cast<void*>(kArenaBase + i * kSlotSize + offset);
  }

  // What the host does: a program runs in slot i (named `name`).
  void start_program(std::uint32_t i, const char* name);
  // What the host does when the program in slot `i` ended and its slot is
  // freed: clear its registry entries (seqlock writes, no lock).
  void host_clear_entries(std::uint32_t i);
  // Sets slot i's state and wakes waiters on it (as the host does).
  void set_state(std::uint32_t i, std::uint32_t state);
  // Points slot i's export table at records [begin, end).
  void set_exports(std::uint32_t i, const tp_export_record* begin, const tp_export_record* end);

  std::uint32_t registry_generation() const {
    return __atomic_load_n(&header_->registry_generation, __ATOMIC_SEQ_CST);
  }
  std::uint32_t release_generation() const {
    return __atomic_load_n(&header_->release_generation, __ATOMIC_SEQ_CST);
  }

 private:
  std::uint32_t slot_count_;
  std::uint32_t capacity_;
  std::unique_ptr<std::uint64_t[]> memory_;  // 8-byte aligned
  tp_control_header* header_;
  tp_slot_info* slots_;
  tp_registry_entry* registry_;
  std::uint32_t* holds_;
};

}  // namespace tp_test

#include "fake_space.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <stdexcept>

namespace tp_test {

FakeSpace::FakeSpace(std::uint32_t slot_count, std::uint32_t registry_capacity)
    : slot_count_(slot_count), capacity_(registry_capacity) {
  const tp_control_header layout = tp_control_layout(slot_count, registry_capacity);
  memory_ = std::make_unique<std::uint64_t[]>((layout.total_size + 7) / 8);  // zeroed
  auto* base = reinterpret_cast<unsigned char*>(memory_.get());
  header_ = reinterpret_cast<tp_control_header*>(base);
  *header_ = layout;
  slots_ = reinterpret_cast<tp_slot_info*>(base + layout.slots_offset);
  registry_ = reinterpret_cast<tp_registry_entry*>(base + layout.registry_offset);
  holds_ = reinterpret_cast<std::uint32_t*>(base + layout.holds_offset);
}

tp_boot FakeSpace::boot(std::uint32_t slot) const {
  tp_boot b{};
  b.abi_version = TP_ABI_VERSION;
  b.slot_index = slot;
  b.slot_base = kArenaBase + slot * kSlotSize;
  b.slot_size = kSlotSize;
  b.arena_base = kArenaBase;
  b.slot_count = slot_count_;
  b.control = reinterpret_cast<std::uintptr_t>(header_);
  b.present = TP_BOOT_HAS_ALL;
  return b;
}

tp_ctx FakeSpace::ctx(std::uint32_t slot) const {
  tp_ctx c;
  const tp_boot b = boot(slot);
  if (tpi_ctx_init(&c, &b) != TP_OK) throw std::logic_error("the fake space is not valid");
  return c;
}

void FakeSpace::start_program(std::uint32_t i, const char* name) {
  tp_slot_info& s = slots_[i];
  __atomic_add_fetch(&s.generation, 1u, __ATOMIC_SEQ_CST);
  std::memset(s.name, 0, sizeof s.name);
  std::strncpy(s.name, name, sizeof s.name - 1);
  __atomic_store_n(&s.flags, 0u, __ATOMIC_SEQ_CST);
  set_state(i, TP_SLOT_RUNNING);
}

void FakeSpace::host_clear_entries(std::uint32_t i) {
  const std::uint32_t tag = TP_OWNER_TAG(i);
  for (std::uint32_t k = 0; k < capacity_; ++k) {
    tp_registry_entry& e = registry_[k];
    if (__atomic_load_n(&e.owner, __ATOMIC_RELAXED) != tag) continue;
    const std::uint32_t odd = __atomic_load_n(&e.seq, __ATOMIC_RELAXED) | 1u;
    __atomic_store_n(&e.seq, odd, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&e.owner, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&e.address, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&e.size, 0u, __ATOMIC_RELAXED);
    using word = std::uint64_t __attribute__((may_alias));
    auto* w = reinterpret_cast<word*>(e.name);
    for (unsigned j = 0; j < sizeof e.name / 8; ++j) __atomic_store_n(&w[j], 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&e.seq, odd + 1u, __ATOMIC_RELEASE);
  }
}

void FakeSpace::set_state(std::uint32_t i, std::uint32_t state) {
  __atomic_store_n(&slots_[i].state, state, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &slots_[i].state, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

void FakeSpace::set_exports(std::uint32_t i, const tp_export_record* begin, const tp_export_record* end) {
  __atomic_store_n(&slots_[i].exports_begin, reinterpret_cast<std::uintptr_t>(begin), __ATOMIC_SEQ_CST);
  __atomic_store_n(&slots_[i].exports_end, reinterpret_cast<std::uintptr_t>(end), __ATOMIC_SEQ_CST);
}

}  // namespace tp_test

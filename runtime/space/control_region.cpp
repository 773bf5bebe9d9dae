#include "space/control_region.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "common/errno_text.h"
#include "space/arena.h"
#include "space/slot_layout.h"

namespace tp {
namespace {

void wake_all(uint32_t* word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

}  // namespace

Result<ControlRegion> ControlRegion::create(uint32_t slot_count, uint32_t registry_capacity) {
  const uint64_t slots_offset = align_up(sizeof(tp_control_header), 64);
  const uint64_t registry_offset = align_up(slots_offset + uint64_t{slot_count} * sizeof(tp_slot_info), 64);
  const uint64_t holds_offset = align_up(registry_offset + uint64_t{registry_capacity} * sizeof(tp_registry_entry), 64);
  const uint64_t size = align_up(holds_offset + uint64_t{slot_count} * slot_count * sizeof(uint32_t), kPageSize);
  // NORESERVE: a large space's holds matrix is mostly never touched.
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return make_error("cannot map the space's control region (" + std::to_string(size) + " bytes): " +
                      errno_text(errno));
  name_mapping(reinterpret_cast<uint64_t>(base), size, "tp:control");
  auto* h = static_cast<tp_control_header*>(base);
  h->magic = TP_CONTROL_MAGIC;
  h->abi_version = TP_ABI_VERSION;
  h->slot_count = slot_count;
  h->registry_capacity = registry_capacity;
  h->slots_offset = slots_offset;
  h->registry_offset = registry_offset;
  h->holds_offset = holds_offset;
  h->total_size = size;
  return ControlRegion(base, size);
}

ControlRegion::ControlRegion(ControlRegion&& other) noexcept : base_(other.base_), size_(other.size_) {
  other.base_ = nullptr;
}

ControlRegion::~ControlRegion() {
  if (base_) munmap(base_, size_);
}

tp_slot_info& ControlRegion::slot(uint32_t index) const {
  return reinterpret_cast<tp_slot_info*>(static_cast<char*>(base_) + header().slots_offset)[index];
}

tp_registry_entry& ControlRegion::entry(uint32_t index) const {
  return reinterpret_cast<tp_registry_entry*>(static_cast<char*>(base_) + header().registry_offset)[index];
}

uint32_t& ControlRegion::holds(uint32_t holder, uint32_t owner) const {
  auto* m = reinterpret_cast<uint32_t*>(static_cast<char*>(base_) + header().holds_offset);
  return m[uint64_t{holder} * header().slot_count + owner];
}

void ControlRegion::bump_registry_generation() {
  __atomic_add_fetch(&header().registry_generation, 1, __ATOMIC_RELEASE);
  wake_all(&header().registry_generation);
}

void ControlRegion::on_start(uint32_t index, const SlotStart& start) {
  tp_slot_info& s = slot(index);
  __atomic_add_fetch(&s.generation, 1, __ATOMIC_RELAXED);
  // Readers compare the generation before and after reading the fields.
  __atomic_thread_fence(__ATOMIC_RELEASE);
  s.pid = start.pid;
  s.load_bias = start.load_bias;
  s.exports_begin = start.exports_begin;
  s.exports_end = start.exports_end;
  std::memset(s.name, 0, sizeof s.name);
  std::memcpy(s.name, start.name.data(), std::min(start.name.size(), sizeof s.name - 1));
  __atomic_store_n(&s.flags, start.flags, __ATOMIC_RELAXED);
  // Release: whoever sees RUNNING sees the fields above.
  __atomic_store_n(&s.state, TP_SLOT_RUNNING, __ATOMIC_RELEASE);
  wake_all(&s.state);
}

bool ControlRegion::on_exit(uint32_t index) {
  // A program killed inside tp_publish leaves the lock with its tag on it.
  uint32_t tag = TP_OWNER_TAG(index);
  if (__atomic_compare_exchange_n(&header().registry_lock, &tag, 0u, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
    wake_all(&header().registry_lock);
  // Its own holds go: the program that held can no longer release.
  bool had_holds = false;
  // Read before writing: rows of programs that never held anything stay
  // untouched zero pages (a 1024-slot space has a 4 MiB matrix).
  for (uint32_t owner = 0; owner < header().slot_count; ++owner)
    if (__atomic_load_n(&holds(index, owner), __ATOMIC_RELAXED) != 0 &&
        __atomic_exchange_n(&holds(index, owner), 0u, __ATOMIC_SEQ_CST) != 0)
      had_holds = true;
  // Sequentially consistent against tp_hold: it increments and then reads the
  // state; here the state is written and then the increments are read. One of
  // the two sees the other (docs/api.md).
  tp_slot_info& s = slot(index);
  __atomic_fetch_and(&s.flags, ~uint32_t{TP_SLOT_IN_MAIN}, __ATOMIC_RELAXED);
  __atomic_store_n(&s.state, TP_SLOT_EXITING, __ATOMIC_SEQ_CST);
  wake_all(&s.state);
  return had_holds;
}

uint64_t ControlRegion::holders(uint32_t owner) const {
  uint64_t n = 0;
  for (uint32_t holder = 0; holder < header().slot_count; ++holder)
    n += __atomic_load_n(&holds(holder, owner), __ATOMIC_SEQ_CST);
  return n;
}

void ControlRegion::set_state(uint32_t index, uint32_t state) {
  __atomic_store_n(&slot(index).state, state, __ATOMIC_SEQ_CST);
  wake_all(&slot(index).state);
}

void ControlRegion::on_free(uint32_t index) {
  const uint32_t tag = TP_OWNER_TAG(index);
  for (uint32_t i = 0; i < header().registry_capacity; ++i) {
    tp_registry_entry& e = entry(i);
    if (__atomic_load_n(&e.owner, __ATOMIC_ACQUIRE) != tag) continue;
    // The same seqlock write as libtp's, without the lock: nobody else writes
    // an entry that belongs to a program that has ended.
    uint32_t seq = __atomic_load_n(&e.seq, __ATOMIC_RELAXED);
    __atomic_store_n(&e.seq, seq | 1u, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&e.owner, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&e.address, uint64_t{0}, __ATOMIC_RELAXED);
    __atomic_store_n(&e.size, uint64_t{0}, __ATOMIC_RELAXED);
    __atomic_store_n(&e.name[0], '\0', __ATOMIC_RELAXED);
    __atomic_store_n(&e.seq, (seq | 1u) + 1u, __ATOMIC_RELEASE);
  }
  tp_slot_info& s = slot(index);
  __atomic_store_n(&s.flags, 0u, __ATOMIC_RELAXED);
  __atomic_store_n(&s.state, TP_SLOT_FREE, __ATOMIC_SEQ_CST);
  wake_all(&s.state);
  // Waiters re-check: names went, and "program/var" no longer finds it.
  bump_registry_generation();
}

}  // namespace tp

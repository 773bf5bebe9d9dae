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

// The registry lock's value while the host closes a dead writer's entries
// (never a program's tag: slot indices stay far below it).
constexpr uint32_t kHostLockTag = 0xffffffffu;

void wake_all(uint32_t* word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0); }

}  // namespace

Result<ControlRegion> ControlRegion::create(uint32_t slot_count, uint32_t registry_capacity) {
  tp_control_header layout = tp_control_layout(slot_count, registry_capacity);
  const uint64_t size = align_up(layout.total_size, kPageSize);
  // NORESERVE: a large space's holds matrix is mostly never touched.
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return make_error("cannot map the space's control region (" + std::to_string(size) + " bytes): " +
                      errno_text(errno));
  name_mapping(reinterpret_cast<uint64_t>(base), size, "tp:control");
  layout.total_size = size;
  *static_cast<tp_control_header*>(base) = layout;
  return ControlRegion(base, size);
}

ControlRegion::ControlRegion(void* base, uint64_t size) : base_(base), size_(size) {
  const tp_control_header& h = header();
  auto* bytes = static_cast<char*>(base);
  slots_ = reinterpret_cast<tp_slot_info*>(bytes + h.slots_offset);
  registry_ = reinterpret_cast<tp_registry_entry*>(bytes + h.registry_offset);
  holds_ = reinterpret_cast<uint32_t*>(bytes + h.holds_offset);
  slot_count_ = h.slot_count;
  registry_capacity_ = h.registry_capacity;
}

ControlRegion::ControlRegion(ControlRegion&& other) noexcept
    : base_(other.base_),
      size_(other.size_),
      slots_(other.slots_),
      registry_(other.registry_),
      holds_(other.holds_),
      slot_count_(other.slot_count_),
      registry_capacity_(other.registry_capacity_) {
  other.base_ = nullptr;
}

ControlRegion::~ControlRegion() {
  if (base_) munmap(base_, size_);
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
  // Relaxed atomic stores: readers may race with them (they discard what they
  // read when the generation changed), which plain stores would make a data race.
  __atomic_store_n(&s.pid, start.pid, __ATOMIC_RELAXED);
  __atomic_store_n(&s.load_bias, start.load_bias, __ATOMIC_RELAXED);
  __atomic_store_n(&s.exports_begin, start.exports_begin, __ATOMIC_RELAXED);
  __atomic_store_n(&s.exports_end, start.exports_end, __ATOMIC_RELAXED);
  uint64_t words[sizeof s.name / 8] = {};
  std::memcpy(words, start.name.data(), std::min(start.name.size(), sizeof s.name - 1));
  auto* name_words = reinterpret_cast<uint64_t*>(s.name);
  for (size_t i = 0; i < sizeof s.name / 8; ++i) __atomic_store_n(&name_words[i], words[i], __ATOMIC_RELAXED);
  __atomic_store_n(&s.flags, start.flags, __ATOMIC_RELAXED);
  // Release: whoever sees RUNNING sees the fields above.
  __atomic_store_n(&s.state, TP_SLOT_RUNNING, __ATOMIC_RELEASE);
  wake_all(&s.state);
}

bool ControlRegion::on_exit(uint32_t index) {
  // A program killed inside tp_publish or tp_unpublish leaves the lock with its
  // tag on it, and possibly an entry half-written (odd sequence, owner 0 or its
  // tag). The host takes the lock over, closes such entries, then frees it:
  // writers only write under the lock, so nobody else writes meanwhile.
  uint32_t tag = TP_OWNER_TAG(index);
  if (__atomic_compare_exchange_n(&header().registry_lock, &tag, kHostLockTag, false, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED)) {
    for (uint32_t i = 0; i < registry_capacity_; ++i) {
      tp_registry_entry& e = entry(i);
      const uint32_t owner = __atomic_load_n(&e.owner, __ATOMIC_RELAXED);
      if ((__atomic_load_n(&e.seq, __ATOMIC_RELAXED) & 1u) && (owner == 0 || owner == TP_OWNER_TAG(index)))
        clear_entry(e);
    }
    __atomic_store_n(&header().registry_lock, 0u, __ATOMIC_RELEASE);
    wake_all(&header().registry_lock);
  }
  // Its own holds go: the program that held can no longer release.
  bool had_holds = false;
  // Read before writing: rows of programs that never held anything stay
  // untouched zero pages (a 1024-slot space has a 4 MiB matrix).
  for (uint32_t owner = 0; owner < slot_count_; ++owner)
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
  for (uint32_t holder = 0; holder < slot_count_; ++holder)
    n += __atomic_load_n(&holds(holder, owner), __ATOMIC_SEQ_CST);
  return n;
}

bool ControlRegion::try_unhold(uint32_t index) {
  tp_slot_info& s = slot(index);
  const uint32_t was = __atomic_load_n(&s.state, __ATOMIC_RELAXED);
  __atomic_store_n(&s.state, TP_SLOT_EXITING, __ATOMIC_SEQ_CST);
  if (holders(index) == 0) return true;  // the caller frees it (on_free wakes the waiters)
  __atomic_store_n(&s.state, was, __ATOMIC_SEQ_CST);
  wake_all(&s.state);
  return false;
}

void ControlRegion::set_state(uint32_t index, uint32_t state) {
  __atomic_store_n(&slot(index).state, state, __ATOMIC_SEQ_CST);
  wake_all(&slot(index).state);
}

void ControlRegion::clear_entry(tp_registry_entry& e) {
  // The same seqlock write as libtp's: odd while it changes, even after.
  const uint32_t seq = __atomic_load_n(&e.seq, __ATOMIC_RELAXED) | 1u;
  __atomic_store_n(&e.seq, seq, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&e.owner, 0u, __ATOMIC_RELAXED);
  __atomic_store_n(&e.address, uint64_t{0}, __ATOMIC_RELAXED);
  __atomic_store_n(&e.size, uint64_t{0}, __ATOMIC_RELAXED);
  __atomic_store_n(reinterpret_cast<uint64_t*>(e.name), uint64_t{0}, __ATOMIC_RELAXED);
  __atomic_store_n(&e.seq, seq + 1u, __ATOMIC_RELEASE);
}

void ControlRegion::on_free(uint32_t index) {
  // Without the lock: nobody else writes an entry that belongs to a program
  // that has ended.
  const uint32_t tag = TP_OWNER_TAG(index);
  for (uint32_t i = 0; i < registry_capacity_; ++i)
    if (__atomic_load_n(&entry(i).owner, __ATOMIC_ACQUIRE) == tag) clear_entry(entry(i));
  tp_slot_info& s = slot(index);
  __atomic_store_n(&s.flags, 0u, __ATOMIC_RELAXED);
  __atomic_store_n(&s.state, TP_SLOT_FREE, __ATOMIC_SEQ_CST);
  wake_all(&s.state);
  // Waiters re-check: names went, and "program/var" no longer finds it.
  bump_registry_generation();
}

}  // namespace tp

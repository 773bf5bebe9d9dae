// The supervisor's record of what a program has mapped in its slot, and the
// allocator that picks addresses for its mappings (top-down, like the
// kernel's mmap layout). Pure bookkeeping: it maps nothing itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace tp {

class SlotMap {
 public:
  // `lo`..`hi`: the slot. Allocation happens in [alloc_lo, alloc_hi).
  SlotMap(uint64_t lo, uint64_t hi, uint64_t alloc_lo, uint64_t alloc_hi)
      : lo_(lo), hi_(hi), alloc_lo_(alloc_lo), alloc_hi_(alloc_hi) {}

  bool contains(uint64_t addr, uint64_t len) const { return addr >= lo_ && len <= hi_ - addr && addr < hi_; }
  bool overlaps(uint64_t addr, uint64_t len) const;
  void add(uint64_t addr, uint64_t len);     // marks mapped, merging neighbours
  void remove(uint64_t addr, uint64_t len);  // marks free, splitting as needed
  // The highest free, aligned range of `len` bytes in the allocation area.
  std::optional<uint64_t> find_free(uint64_t len, uint64_t align) const;
  uint64_t mapped_bytes() const;
  size_t ranges() const { return used_.size(); }

 private:
  uint64_t lo_, hi_, alloc_lo_, alloc_hi_;
  std::map<uint64_t, uint64_t> used_;  // start -> end; disjoint, merged
};

}  // namespace tp

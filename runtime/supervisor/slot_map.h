// The supervisor's record of what a program has mapped in its slot, and the
// allocator that picks addresses for its mappings. Pure bookkeeping: it maps
// nothing itself.
//
// Every operation is O(log n) in the number of mappings: the used ranges and
// the free gaps of the allocation area are both kept, the gaps also indexed
// by size, and the mapped total is updated as ranges come and go (a program
// with 20,000 live mappings must not pay for walking them on every mmap).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace tp {

class SlotMap {
 public:
  // `lo`..`hi`: the slot. Allocation happens in [alloc_lo, alloc_hi).
  SlotMap(uint64_t lo, uint64_t hi, uint64_t alloc_lo, uint64_t alloc_hi);

  bool contains(uint64_t addr, uint64_t len) const { return addr >= lo_ && addr < hi_ && len <= hi_ - addr; }
  bool overlaps(uint64_t addr, uint64_t len) const;
  void add(uint64_t addr, uint64_t len);     // marks mapped, merging neighbours
  void remove(uint64_t addr, uint64_t len);  // marks free, splitting as needed
  // A free, `align`-aligned range of `len` bytes in the allocation area: the
  // top of the smallest gap that surely fits (best fit), or nullopt.
  std::optional<uint64_t> find_free(uint64_t len, uint64_t align) const;
  uint64_t mapped_bytes() const { return mapped_; }
  size_t ranges() const { return used_.size(); }

 private:
  using Ranges = std::map<uint64_t, uint64_t>;  // start -> end; disjoint, merged
  // Inserts [start, end) into `r`, merging; returns how many of its bytes were new.
  static uint64_t insert(Ranges& r, uint64_t start, uint64_t end, std::set<std::pair<uint64_t, uint64_t>>* index);
  // Removes [start, end) from `r`; returns how many bytes were removed.
  static uint64_t erase(Ranges& r, uint64_t start, uint64_t end, std::set<std::pair<uint64_t, uint64_t>>* index);

  uint64_t lo_, hi_, alloc_lo_, alloc_hi_;
  Ranges used_;
  Ranges gaps_;                                     // free parts of [alloc_lo, alloc_hi)
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // (length, start) of each gap
  uint64_t mapped_ = 0;
};

}  // namespace tp

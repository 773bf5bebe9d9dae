#include "supervisor/slot_map.h"

#include <algorithm>

namespace tp {

SlotMap::SlotMap(uint64_t lo, uint64_t hi, uint64_t alloc_lo, uint64_t alloc_hi)
    : lo_(lo), hi_(hi), alloc_lo_(alloc_lo), alloc_hi_(std::max(alloc_lo, alloc_hi)) {
  if (alloc_hi_ > alloc_lo_) insert(gaps_, alloc_lo_, alloc_hi_, &by_size_);
}

uint64_t SlotMap::insert(Ranges& r, uint64_t start, uint64_t end, std::set<std::pair<uint64_t, uint64_t>>* index) {
  if (start >= end) return 0;
  uint64_t covered = 0;  // bytes of [start, end) that were already present
  uint64_t s = start, e = end;
  auto it = r.upper_bound(start);
  if (it != r.begin() && std::prev(it)->second >= start) --it;
  while (it != r.end() && it->first <= end) {
    covered += std::min(end, it->second) > std::max(start, it->first)
                   ? std::min(end, it->second) - std::max(start, it->first)
                   : 0;
    s = std::min(s, it->first);
    e = std::max(e, it->second);
    if (index) index->erase({it->second - it->first, it->first});
    it = r.erase(it);
  }
  r.emplace(s, e);
  if (index) index->insert({e - s, s});
  return (end - start) - covered;
}

uint64_t SlotMap::erase(Ranges& r, uint64_t start, uint64_t end, std::set<std::pair<uint64_t, uint64_t>>* index) {
  if (start >= end) return 0;
  uint64_t removed = 0;
  auto it = r.upper_bound(start);
  if (it != r.begin() && std::prev(it)->second > start) --it;
  while (it != r.end() && it->first < end) {
    uint64_t s = it->first, e = it->second;
    if (index) index->erase({e - s, s});
    it = r.erase(it);
    removed += std::min(e, end) - std::max(s, start);
    if (s < start) {
      r.emplace(s, start);
      if (index) index->insert({start - s, s});
    }
    if (e > end) {
      r.emplace(end, e);
      if (index) index->insert({e - end, end});
      break;
    }
  }
  return removed;
}

bool SlotMap::overlaps(uint64_t addr, uint64_t len) const {
  uint64_t end = addr + len;
  auto it = used_.upper_bound(addr);
  if (it != used_.begin() && std::prev(it)->second > addr) return true;
  return it != used_.end() && it->first < end;
}

void SlotMap::add(uint64_t addr, uint64_t len) {
  mapped_ += insert(used_, addr, addr + len, nullptr);
  erase(gaps_, std::max(addr, alloc_lo_), std::min(addr + len, alloc_hi_), &by_size_);
}

void SlotMap::remove(uint64_t addr, uint64_t len) {
  mapped_ -= erase(used_, addr, addr + len, nullptr);
  insert(gaps_, std::max(addr, alloc_lo_), std::min(addr + len, alloc_hi_), &by_size_);
}

std::optional<uint64_t> SlotMap::find_free(uint64_t len, uint64_t align) const {
  if (len == 0 || align == 0) return std::nullopt;
  auto place = [&](uint64_t start, uint64_t length) -> std::optional<uint64_t> {
    uint64_t end = start + length;
    if (length < len) return std::nullopt;
    uint64_t candidate = (end - len) & ~(align - 1);
    if (candidate >= start) return candidate;
    return std::nullopt;
  };
  // Any gap of len + (align - 1) bytes fits whatever its alignment: the smallest such.
  uint64_t sure = len + (align > 1 ? align - 1 : 0);
  if (sure >= len) {
    auto it = by_size_.lower_bound({sure, 0});
    if (it != by_size_.end()) return place(it->second, it->first);
  }
  // Gaps between len and that size fit only if their alignment happens to suit.
  for (auto it = by_size_.lower_bound({len, 0}); it != by_size_.end() && it->first < sure; ++it)
    if (auto c = place(it->second, it->first)) return c;
  return std::nullopt;
}

}  // namespace tp

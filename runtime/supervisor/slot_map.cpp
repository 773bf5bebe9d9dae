#include "supervisor/slot_map.h"

#include <algorithm>

namespace tp {

bool SlotMap::overlaps(uint64_t addr, uint64_t len) const {
  uint64_t end = addr + len;
  auto it = used_.upper_bound(addr);
  if (it != used_.begin() && std::prev(it)->second > addr) return true;
  return it != used_.end() && it->first < end;
}

void SlotMap::add(uint64_t addr, uint64_t len) {
  uint64_t start = addr, end = addr + len;
  auto it = used_.upper_bound(start);
  if (it != used_.begin() && std::prev(it)->second >= start) {
    --it;
    start = it->first;
    end = std::max(end, it->second);
    it = used_.erase(it);
  }
  while (it != used_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = used_.erase(it);
  }
  used_.emplace(start, end);
}

void SlotMap::remove(uint64_t addr, uint64_t len) {
  uint64_t end = addr + len;
  auto it = used_.upper_bound(addr);
  if (it != used_.begin()) --it;
  while (it != used_.end() && it->first < end) {
    uint64_t s = it->first, e = it->second;
    if (e <= addr) {
      ++it;
      continue;
    }
    it = used_.erase(it);
    if (s < addr) used_.emplace(s, addr);
    if (e > end) {
      used_.emplace(end, e);
      break;
    }
  }
}

std::optional<uint64_t> SlotMap::find_free(uint64_t len, uint64_t align) const {
  if (len == 0 || len > alloc_hi_ - alloc_lo_) return std::nullopt;
  uint64_t gap_end = alloc_hi_;
  auto fits = [&](uint64_t gap_start, uint64_t end) -> std::optional<uint64_t> {
    if (end < gap_start + len) return std::nullopt;
    uint64_t candidate = (end - len) & ~(align - 1);
    if (candidate >= gap_start) return candidate;
    return std::nullopt;
  };
  // Walk the used ranges from the top down, looking at the gap above each.
  auto it = used_.lower_bound(alloc_hi_);
  while (it != used_.begin()) {
    --it;
    uint64_t s = it->first, e = it->second;
    if (e <= alloc_lo_) break;
    if (e < gap_end)
      if (auto c = fits(std::max(e, alloc_lo_), gap_end)) return c;
    gap_end = std::min(gap_end, s);
    if (gap_end <= alloc_lo_) return std::nullopt;
  }
  return fits(alloc_lo_, gap_end);
}

uint64_t SlotMap::mapped_bytes() const {
  uint64_t total = 0;
  for (const auto& [s, e] : used_) total += e - s;
  return total;
}

}  // namespace tp

// Overflow-checked arithmetic for values read from a file (internal to tp_elf).
//
// Every sum or product of file-controlled numbers goes through these, so a
// hostile header can never wrap an offset back into range.
#pragma once

#include <cstdint>
#include <optional>

namespace tp::elf {

// The page size the loader maps with; x86_64 Linux has no other.
inline constexpr uint64_t kPageSize = 4096;

inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

inline constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// `align` must be a power of two.
inline constexpr uint64_t align_down(uint64_t v, uint64_t align) { return v & ~(align - 1); }

// `align` must be a power of two; nullopt when rounding up passes 2^64.
inline std::optional<uint64_t> align_up(uint64_t v, uint64_t align) {
  auto bumped = checked_add(v, align - 1);
  if (!bumped) return std::nullopt;
  return align_down(*bumped, align);
}

inline constexpr uint64_t page_down(uint64_t v) { return align_down(v, kPageSize); }
inline std::optional<uint64_t> page_up(uint64_t v) { return align_up(v, kPageSize); }

// True when [offset, offset + len) lies inside a file of `file_size` bytes.
inline bool range_in_file(uint64_t offset, uint64_t len, uint64_t file_size) {
  auto end = checked_add(offset, len);
  return end && *end <= file_size;
}

}  // namespace tp::elf

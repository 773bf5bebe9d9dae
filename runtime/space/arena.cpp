#include "space/arena.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstdio>

#include "common/errno_text.h"
#include "common/hex.h"
#include "threadprocs/abi.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

namespace tp {
namespace {
constexpr uint64_t kUserSpaceEnd = 0x7ffffffff000ull;  // 47-bit user space
constexpr uint64_t kSlotAlign = 2ull << 20;            // slots start on 2 MiB
constexpr uint64_t kMinSlotSize = 256ull << 20;        // image + ld.so + stack

}  // namespace

ArenaConfig default_arena_config() {
  return ArenaConfig{TP_DEFAULT_ARENA_BASE, TP_DEFAULT_SLOT_SIZE, TP_DEFAULT_SLOT_COUNT};
}

Status validate_arena_config(const ArenaConfig& c) {
  if (c.slot_count == 0 || c.slot_count > 65536)
    return make_error("slot count " + std::to_string(c.slot_count) + " is out of range (1 to 65536)");
  if (c.slot_size < kMinSlotSize || c.slot_size % kSlotAlign != 0)
    return make_error("slot size " + hex(c.slot_size) +
                      " must be a multiple of 2 MiB and at least 256 MiB");
  if (c.base % kSlotAlign != 0) return make_error("arena base " + hex(c.base) + " is not 2 MiB aligned");
  uint64_t total = 0, end = 0;
  if (__builtin_mul_overflow(c.slot_size, uint64_t(c.slot_count), &total) ||
      __builtin_add_overflow(c.base, total, &end) || end > kUserSpaceEnd)
    return make_error(std::to_string(c.slot_count) + " slots of " + hex(c.slot_size) +
                      " bytes at " + hex(c.base) + " do not fit in the 47-bit address space");
  return ok_status();
}

Arena::Arena(const ArenaConfig& config) : config_(config), in_use_(config.slot_count, false) {
  for (uint32_t i = 0; i < config.slot_count; ++i) free_.push_back(i);
}

Arena::Arena(Arena&& other) noexcept
    : config_(other.config_),
      free_(std::move(other.free_)),
      in_use_(std::move(other.in_use_)),
      owns_reservation_(std::exchange(other.owns_reservation_, false)) {}

Arena::~Arena() {
  if (owns_reservation_) munmap(reinterpret_cast<void*>(config_.base), config_.slot_size * config_.slot_count);
}

Result<Arena> Arena::reserve(const ArenaConfig& config) {
  TP_TRY(validate_arena_config(config));
  uint64_t total = config.slot_size * config.slot_count;
  void* want = reinterpret_cast<void*>(config.base);
  void* got = mmap(want, total, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == MAP_FAILED) {
    int err = errno;
    return make_error("cannot reserve the arena " + hex(config.base) + "-" + hex(config.base + total) +
                      ": " + errno_text(err) +
                      (err == EEXIST ? " (the range is already in use in this process)" : ""));
  }
  if (got != want) {  // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
    munmap(got, total);
    return make_error("cannot reserve the arena at " + hex(config.base) + ": the kernel placed it elsewhere");
  }
  name_mapping(config.base, total, "tp:arena");
  Arena arena(config);
  arena.owns_reservation_ = true;
  return arena;
}

std::optional<uint32_t> Arena::acquire() {
  if (free_.empty()) return std::nullopt;
  uint32_t slot = free_.front();
  free_.pop_front();
  in_use_[slot] = true;
  return slot;
}

bool Arena::acquire_exact(uint32_t slot) {
  if (slot >= config_.slot_count || in_use_[slot]) return false;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (*it == slot) {
      free_.erase(it);
      break;
    }
  }
  in_use_[slot] = true;
  return true;
}

Status Arena::release(uint32_t slot) {
  if (slot >= config_.slot_count || !in_use_[slot])
    return make_error("slot " + std::to_string(slot) + " is not in use");
  void* base = reinterpret_cast<void*>(slot_base(slot));
  // One fixed re-reservation replaces every mapping the program had in its slot.
  if (mmap(base, config_.slot_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
           -1, 0) == MAP_FAILED)
    return make_error("cannot reset slot " + std::to_string(slot) + ": " + errno_text(errno));
  name_mapping(slot_base(slot), config_.slot_size, "tp:arena");
  in_use_[slot] = false;
  free_.push_back(slot);
  return ok_status();
}

void name_mapping(uint64_t addr, uint64_t len, const char* name) {
  prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name);
}

}  // namespace tp

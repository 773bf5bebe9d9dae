// The slot arena: one PROT_NONE reservation at a fixed address, cut into
// equal slots. Everything a program maps lives in its slot, so the owner of an
// address is (addr - base) / slot_size, and resetting a slot frees it all.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/result.h"

namespace tp {

struct ArenaConfig {
  uint64_t base;
  uint64_t slot_size;
  uint32_t slot_count;
};

ArenaConfig default_arena_config();

// Checks a configuration before anything is reserved (sizes, alignment, the
// arena inside the 47-bit user address space).
Status validate_arena_config(const ArenaConfig& config);

class Arena {
 public:
  static Result<Arena> reserve(const ArenaConfig& config);
  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&&) = delete;
  Arena(const Arena&) = delete;
  ~Arena();

  const ArenaConfig& config() const { return config_; }
  uint64_t slot_base(uint32_t slot) const { return config_.base + uint64_t(slot) * config_.slot_size; }
  uint64_t slot_end(uint32_t slot) const { return slot_base(slot) + config_.slot_size; }
  uint32_t slots_in_use() const { return config_.slot_count - uint32_t(free_.size()); }

  // Takes the free slot that was released longest ago, so that a stale
  // pointer into an exited program is unlikely to land in a new one.
  std::optional<uint32_t> acquire();
  // Takes a specific free slot, if it is free.
  bool acquire_exact(uint32_t slot);
  // Re-reserves the slot as PROT_NONE (freeing all it held) and makes it free.
  Status release(uint32_t slot);

 private:
  explicit Arena(const ArenaConfig& config);
  ArenaConfig config_;
  std::deque<uint32_t> free_;   // front = released longest ago
  std::vector<bool> in_use_;
  bool owns_reservation_ = false;
};

// Names an anonymous mapping so /proc/PID/maps of a space stays readable
// (PR_SET_VMA_ANON_NAME; silently nothing on kernels without it).
void name_mapping(uint64_t addr, uint64_t len, const char* name);

}  // namespace tp

// Memory of each slot, from the host's /proc/self/smaps: the bytes mapped
// (anything but the PROT_NONE reservation) and the bytes resident.
#pragma once

#include <cstdint>
#include <vector>

namespace tp {

struct SlotUsage {
  uint64_t mapped = 0;
  uint64_t resident = 0;
};

// One entry per slot of the arena [base, base + slot_size * count).
std::vector<SlotUsage> measure_slots(uint64_t base, uint64_t slot_size, uint32_t count);

}  // namespace tp

#include "host/slot_usage.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace tp {

std::vector<SlotUsage> measure_slots(uint64_t base, uint64_t slot_size, uint32_t count) {
  std::vector<SlotUsage> usage(count);
  FILE* f = fopen("/proc/self/smaps", "re");
  if (!f) return usage;
  const uint64_t end = base + slot_size * count;
  char line[512];
  SlotUsage* current = nullptr;  // the slot of the mapping whose fields follow
  while (fgets(line, sizeof line, f)) {
    uint64_t lo, hi;
    char perms[8];
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
      current = nullptr;
      if (lo >= base && lo < end && strcmp(perms, "---p") != 0) {
        current = &usage[(lo - base) / slot_size];
        current->mapped += hi - lo;
      }
      continue;
    }
    uint64_t kb;
    if (current && sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1) current->resident += kb << 10;
  }
  fclose(f);
  return usage;
}

}  // namespace tp

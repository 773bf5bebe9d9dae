// Performs a program's memory-mapping syscalls inside its slot, on its behalf.
// The host shares the program's mm, so mapping at an address here maps it for
// the program. Every function returns what the syscall would: a value, or
// -errno.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "supervisor/slot_map.h"

namespace tp {

// What one program has in its slot, and outside it where the kernel insists
// (MAP_32BIT, io_uring and AIO rings): such side mappings are removed at exit.
struct SlotState {
  SlotState(uint64_t lo, uint64_t hi, uint64_t alloc_lo, uint64_t alloc_hi, uint64_t break_start,
            uint64_t break_limit)
      : map(lo, hi, alloc_lo, alloc_hi), brk_start(break_start), brk_cur(break_start), brk_limit(break_limit) {}
  SlotMap map;
  uint64_t brk_start, brk_cur, brk_limit;
  std::map<uint64_t, uint64_t> side;       // addr -> len, outside the slot
  std::map<uint64_t, uint64_t> shm;        // shmat address -> len
  std::vector<uint64_t> aio_contexts;      // io_setup contexts to destroy at exit
};

// Obtains the host's copy of the program's fd, or -errno.
using FdFetcher = std::function<int(int program_fd)>;

int64_t supervised_mmap(SlotState& s, const uint64_t args[6], const FdFetcher& fetch_fd);
int64_t supervised_munmap(SlotState& s, uint64_t addr, uint64_t len);
int64_t supervised_mremap(SlotState& s, const uint64_t args[6]);
int64_t supervised_brk(SlotState& s, uint64_t addr);
int64_t supervised_shmat(SlotState& s, const uint64_t args[6]);
int64_t supervised_shmdt(SlotState& s, uint64_t addr);
int64_t supervised_io_setup(SlotState& s, const uint64_t args[6]);

// Removes the side mappings and AIO contexts (the slot itself is reset by the
// arena with one re-reservation).
void release_side_mappings(SlotState& s);

// Re-reserves [addr, addr+len) as PROT_NONE inside the slot (what "unmapped"
// means in the arena).
bool reserve_range(uint64_t addr, uint64_t len);

}  // namespace tp

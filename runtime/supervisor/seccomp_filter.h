// The memory supervisor's seccomp filter: SECCOMP_RET_USER_NOTIF for the
// memory-mapping syscalls when the calling instruction lies in one of the
// given ranges (the arena), SECCOMP_RET_ALLOW for everything else. Code of a
// process that exec'd another binary never lies there, so it is never stopped.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"

namespace tp {

struct BpfInsn {  // layout of struct sock_filter
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};

struct IpRange {
  uint64_t lo, hi;  // [lo, hi)
};

// The syscalls the supervisor performs for a program.
const std::vector<uint32_t>& supervised_syscalls();

// Builds the filter; fails if it would exceed `max_insns`.
Result<std::vector<BpfInsn>> build_supervisor_filter(const std::vector<IpRange>& ranges, size_t max_insns);

}  // namespace tp

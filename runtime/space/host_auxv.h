// The host's own auxiliary vector, the template of every program's auxv.
// Copying it (rather than building one by hand) keeps everything glibc reads
// from it true: AT_HWCAP2, AT_MINSIGSTKSZ, AT_SYSINFO_EHDR, AT_RSEQ_*, ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace tp {

struct AuxEntry {
  uint64_t type;
  uint64_t value;
};

struct HostAuxv {
  std::vector<AuxEntry> entries;  // without the terminating AT_NULL
  std::string platform;           // AT_PLATFORM's string ("" if absent)
  std::string base_platform;      // AT_BASE_PLATFORM's string ("" if absent)
};

Result<HostAuxv> read_host_auxv();

}  // namespace tp

// Builds a program's initial stack exactly as execve(2) lays it out:
//   sp -> argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL,
//         padding, AT_RANDOM bytes, platform strings,
//         argv strings, env strings, execfn, 8 zero bytes <- top
// The result is plain bytes plus the address they belong at, so it can be
// built and checked without mapping anything.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "space/host_auxv.h"

namespace tp {

struct StackInputs {
  const std::vector<std::string>* argv;
  const std::vector<std::string>* env;
  std::string execfn;
  // The host's auxv; AT_PHDR/PHENT/PHNUM/ENTRY/BASE/RANDOM/EXECFN/PLATFORM/
  // BASE_PLATFORM are replaced, `extra` entries are appended.
  const HostAuxv* host_auxv;
  uint64_t phdr, phent, phnum, entry, interp_base;
  std::vector<AuxEntry> extra;
  std::array<uint8_t, 16> random;
};

struct BuiltStack {
  uint64_t sp;                 // where argc lies; 16-byte aligned
  std::vector<uint8_t> bytes;  // the contents of [sp, top)
};

// `limit` bounds the argument and environment strings (the kernel's rule: a
// quarter of RLIMIT_STACK, each string at most 128 KiB).
Result<BuiltStack> build_initial_stack(uint64_t top, uint64_t limit, const StackInputs& in);

}  // namespace tp

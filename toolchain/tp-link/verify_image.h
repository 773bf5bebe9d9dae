// Checks a linked image with LLVM's libObject before tp-link calls it done.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "llvm/Support/Error.h"

namespace tp::link {

struct Expectations {
  bool static_pie = false;                  // no PT_INTERP expected
  std::optional<uint64_t> link_address;     // --slot: the lowest PT_LOAD's address
};

// ET_DYN for x86-64, exactly one valid Threadprocs note, no text relocations,
// an interpreter (dynamic) or none (static-PIE), linked where --slot asked.
llvm::Error verify_image(const std::string& path, const Expectations& want);

}  // namespace tp::link

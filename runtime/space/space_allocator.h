// The allocator every dynamically linked program of a space uses, so that a
// block allocated by one program can be freed by another: Debian's
// mimalloc 2.0.9 (libmimalloc2.0). Its free() finds the block's segment by
// masking the pointer and hands a block owned by another thread (in another
// program) to the owner's atomic free list. That works only when every
// program runs the same release build: v3.x, MI_SECURE builds and two
// versions in one space break it, so the host checks the version.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace tp {

constexpr const char* kMimallocPath = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0";
constexpr int kMimallocVersion = 209;  // mi_version() of 2.0.9

// Finds mimalloc and the environment-restoring shim (beside the tool in
// `tool_dir`), checks mimalloc's version, and returns the LD_PRELOAD value
// the host uses: "<mimalloc>:<shim>".
Result<std::string> locate_space_allocator(const std::string& tool_dir);

// The environment a dynamically linked program starts with: the launcher's,
// with the space's allocator added to LD_PRELOAD (the shim removes it again
// before the program's own code runs).
std::vector<std::string> with_space_allocator(const std::vector<std::string>& env, const std::string& preload);

}  // namespace tp

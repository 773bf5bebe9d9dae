// Addresses and sizes in messages: "0x1f000".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace tp {

inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace tp

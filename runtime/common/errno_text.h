// strerror for messages, without the thread-safety trap of strerror().
#pragma once

#include <cstring>
#include <string>

namespace tp {

inline std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns a pointer that may or may not be buf.
  return std::string(strerror_r(err, buf, sizeof buf));
}

}  // namespace tp

// Parses human sizes ("64G", "512MiB", "4096") for --slot-size and friends.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tp {

inline Result<uint64_t> parse_size(std::string_view text, std::string_view what) {
  auto fail = [&] {
    return make_error(std::string(what) + ": '" + std::string(text) +
                      "' is not a size (use e.g. 4096, 512M, 64G, 1T)");
  };
  if (text.empty()) return fail();
  uint64_t value = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, uint64_t(text[i] - '0'), &value))
      return fail();
  }
  if (i == 0) return fail();
  std::string_view suffix = text.substr(i);
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") shift = 0;
  else if (suffix == "K" || suffix == "KiB" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "MiB" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "GiB" || suffix == "g") shift = 30;
  else if (suffix == "T" || suffix == "TiB" || suffix == "t") shift = 40;
  else return fail();
  if (shift && value > (UINT64_MAX >> shift)) return fail();
  return value << shift;
}

}  // namespace tp

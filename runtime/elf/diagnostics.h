// How the ELF reader words a refusal (internal to tp_elf).
//
// Every refusal is "<file>: <reason with the values>" and maps to exit code 126
// (found, but cannot be run), like a shell refusing a bad executable.
#pragma once

#include "common/hex.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tp::elf {

using tp::hex;

inline std::string dec(uint64_t v) { return std::to_string(v); }

// Quotes bytes from the file for a message: printable ASCII as is, anything
// else (newlines, escapes, UTF-8) as \xNN, so a path cannot forge output.
inline std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += '"';
  return out;
}

inline Error elf_error(const std::string& file, const std::string& reason) {
  return make_error(file + ": " + reason, ExitCode::kNotExecutable);
}

}  // namespace tp::elf

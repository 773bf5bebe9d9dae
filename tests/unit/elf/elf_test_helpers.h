// Runs the reader on a built image and returns its verdict, for the tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "elf/elf_image.h"
#include "elf/file_view.h"
#include "elf_builder.h"

namespace tp::elf::testing {

// Every diagnostic must start with this name.
inline constexpr char kTestFile[] = "/test/bad.elf";

inline Result<ElfImage> parse(const std::vector<uint8_t>& bytes) {
  MemoryFileView view(bytes, kTestFile);
  return read_elf_image(view);
}

inline Result<ElfImage> parse(const ElfBuilder& b) { return parse(b.build()); }

// The refusal message, or "<accepted>" when the image was accepted.
inline std::string refusal(const std::vector<uint8_t>& bytes) {
  auto r = parse(bytes);
  if (r.ok()) return "<accepted>";
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable) << r.error().message;
  return r.error().message;
}

inline std::string refusal(const ElfBuilder& b) { return refusal(b.build()); }

// kTestFile + ": " + reason, so expectations read like the diagnostic.
inline std::string msg(const std::string& reason) { return std::string(kTestFile) + ": " + reason; }

}  // namespace tp::elf::testing

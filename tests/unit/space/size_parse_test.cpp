// parse_size(): the sizes of --slot-size and friends (runtime/common/size_parse.h).
#include "common/size_parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace tp {
namespace {

uint64_t parsed(const char* text) {
  auto r = parse_size(text, "--slot-size");
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message;
  return r.ok() ? *r : ~uint64_t{0};
}

TEST(ParseSize, PlainNumbers) {
  EXPECT_EQ(parsed("4096"), 4096u);
  EXPECT_EQ(parsed("0"), 0u);
  EXPECT_EQ(parsed("007"), 7u);
  EXPECT_EQ(parsed("10B"), 10u);
}

TEST(ParseSize, Suffixes) {
  EXPECT_EQ(parsed("1K"), 1024u);
  EXPECT_EQ(parsed("1k"), 1024u);
  EXPECT_EQ(parsed("3KiB"), 3u << 10);
  EXPECT_EQ(parsed("512M"), 512ull << 20);
  EXPECT_EQ(parsed("512MiB"), 512ull << 20);
  EXPECT_EQ(parsed("64G"), 64ull << 30);
  EXPECT_EQ(parsed("16GiB"), 16ull << 30);
  EXPECT_EQ(parsed("1T"), 1ull << 40);
  EXPECT_EQ(parsed("2TiB"), 2ull << 40);
}

TEST(ParseSize, LargestValues) {
  EXPECT_EQ(parsed("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parsed("16777215T"), 16777215ull << 40);
  EXPECT_EQ(parsed("17179869183G"), 17179869183ull << 30);
}

TEST(ParseSize, OverflowIsRefused) {
  for (const char* text : {"18446744073709551616", "99999999999999999999999", "16777216T", "17179869184G",
                           "17592186044416M", "18014398509481984K"}) {
    auto r = parse_size(text, "--slot-size");
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  }
}

TEST(ParseSize, BadInputsAreRefusedWithTheText) {
  for (const char* text : {"", "G", "KiB", "-1", "+1", " 1", "1 ", "1 G", "1.5G", "12X", "1GB", "1Gi", "0x10",
                           "1e6", "64GiBs", "one"}) {
    auto r = parse_size(text, "--slot-size");
    ASSERT_FALSE(r.ok()) << "'" << text << "' parsed as " << *r;
    EXPECT_NE(r.error().message.find("--slot-size"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(std::string("'") + text + "'"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().code, ExitCode::kRuntime);
  }
}

}  // namespace
}  // namespace tp

#include "protocol/wire.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tp::proto {
namespace {

using testing::fails_with;

TEST(WireTest, WritesLittleEndianFixedWidth) {
  WireWriter w;
  w.u8(0x01);
  w.u16(0x0302);
  w.u32(0x07060504);
  w.u64(0x0f0e0d0c0b0a0908);
  w.str("hi");
  w.str_list({"a", ""});
  std::vector<uint8_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                               2, 0, 0, 0, 'h', 'i',
                               2, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0};
  EXPECT_EQ(std::move(w).take(), want);
}

TEST(WireTest, ReadsBackWhatWasWritten) {
  WireWriter w;
  w.u8(0xff);
  w.u16(0xfffe);
  w.u32(0xfffffffd);
  w.u64(0xfffffffffffffffc);
  w.str(std::string("with\0nul", 8));
  w.str_list({"x", "yz"});
  std::vector<uint8_t> bytes = std::move(w).take();
  WireReader r(bytes, "Test");
  EXPECT_EQ(r.u8({"a"}).value(), 0xff);
  EXPECT_EQ(r.u16({"b"}).value(), 0xfffe);
  EXPECT_EQ(r.u32({"c"}).value(), 0xfffffffdu);
  EXPECT_EQ(r.u64({"d"}).value(), 0xfffffffffffffffcu);
  // The reader keeps bytes as they are; NUL policy belongs to validation.
  EXPECT_EQ(r.str({"e"}).value(), std::string("with\0nul", 8));
  EXPECT_EQ(r.str_list({"f"}).value(), (std::vector<std::string>{"x", "yz"}));
  EXPECT_TRUE(r.finish().ok());
}

TEST(WireTest, TruncatedReadNamesTheField) {
  std::vector<uint8_t> bytes = {1, 2, 3};
  WireReader r(bytes, "Test");
  EXPECT_TRUE(fails_with(r.u32({"umask"}), "Test: truncated at umask: needs 4 bytes, 3 left"));
}

TEST(WireTest, TruncatedStringBodyNamesTheIndex) {
  WireWriter w;
  w.u32(2);       // count
  w.str("ok");
  w.u32(100);     // second string claims 100 bytes
  w.u32(0);       // but only 4 follow
  std::vector<uint8_t> bytes = std::move(w).take();
  WireReader r(bytes, "Test");
  EXPECT_TRUE(fails_with(r.str_list({"argv"}), "truncated at argv[1]: needs 100 bytes, 4 left"));
}

TEST(WireTest, CountLargerThanRemainingBytesIsRejectedBeforeAllocating) {
  WireWriter w;
  w.u32(0xffffffff);
  w.u32(0);
  std::vector<uint8_t> bytes = std::move(w).take();
  WireReader r(bytes, "Test");
  EXPECT_TRUE(fails_with(r.str_list({"env"}),
                         "env count 4294967295 is larger than the 4 bytes left can hold"));
}

TEST(WireTest, CountAtExactlyTheLimitIsAccepted) {
  WireWriter w;
  w.str_list({"", "", ""});  // 3 empty strings: exactly 12 bytes after the count
  std::vector<uint8_t> bytes = std::move(w).take();
  WireReader r(bytes, "Test");
  EXPECT_EQ(r.str_list({"l"}).value().size(), 3u);
  EXPECT_TRUE(r.finish().ok());
}

TEST(WireTest, FinishRejectsTrailingBytes) {
  std::vector<uint8_t> bytes = {0, 0, 0, 0, 9};
  WireReader r(bytes, "Test");
  ASSERT_TRUE(r.u32({"x"}).ok());
  EXPECT_TRUE(fails_with(r.finish(), "Test: 1 trailing bytes after the last field"));
}

TEST(WireTest, ScopePrefixesFieldNames) {
  std::vector<uint8_t> bytes = {};
  WireReader r(bytes, "PsReply");
  r.set_scope("entries[2].");
  EXPECT_TRUE(fails_with(r.u64({"uptime_ms"}), "PsReply: truncated at entries[2].uptime_ms"));
}

}  // namespace
}  // namespace tp::proto

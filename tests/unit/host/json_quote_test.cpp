// json_quote(): strings in the tools' --json output (runtime/common/json.h).
#include "common/json.h"

#include <gtest/gtest.h>

#include <string>

namespace tp {
namespace {

TEST(JsonQuote, PlainText) {
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("demo"), "\"demo\"");
  EXPECT_EQ(json_quote("/usr/bin/sleep 10"), "\"/usr/bin/sleep 10\"");
}

TEST(JsonQuote, QuoteAndBackslash) {
  EXPECT_EQ(json_quote("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(json_quote("C:\\dir\\"), R"("C:\\dir\\")");
  EXPECT_EQ(json_quote("\\\""), R"("\\\"")");
  // A slash needs no escape.
  EXPECT_EQ(json_quote("a/b"), R"("a/b")");
}

TEST(JsonQuote, NamedControlCharacters) {
  EXPECT_EQ(json_quote("a\nb"), R"("a\nb")");
  EXPECT_EQ(json_quote("a\tb"), R"("a\tb")");
  EXPECT_EQ(json_quote("a\rb"), R"("a\rb")");
}

TEST(JsonQuote, OtherControlCharactersAsUnicodeEscapes) {
  EXPECT_EQ(json_quote(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(json_quote(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(json_quote("\b\f"), R"("\u0008\u000c")");
  EXPECT_EQ(json_quote("\x1b[0m"), R"("\u001b[0m")");
  EXPECT_EQ(json_quote("\x1f"), R"("\u001f")");
  // Every byte below 0x20 is escaped, nothing raw is left.
  for (int c = 0; c < 0x20; ++c) {
    std::string q = json_quote(std::string(1, char(c)));
    for (char ch : q) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << "byte " << c << " -> " << q;
  }
}

TEST(JsonQuote, DelAndUtf8PassThrough) {
  EXPECT_EQ(json_quote("\x7f"), "\"\x7f\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
}

}  // namespace
}  // namespace tp

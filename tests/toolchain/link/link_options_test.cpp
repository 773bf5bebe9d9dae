// tp-link's command line: its own options, what goes to the driver, refusals.
#include <gtest/gtest.h>

#include "link_options.h"

namespace tp::link {
namespace {

std::string error_of(llvm::Expected<LinkOptions> r) {
  if (r) return "<accepted>";
  return llvm::toString(r.takeError());
}

TEST(LinkOptions, OwnOptionsThenDriverArguments) {
  auto r = parse_link_options({"--name", "server", "--stack-size=1M", "--slot", "3", "--private-heap", "-o", "x",
                               "a.o", "--name"});
  ASSERT_TRUE(bool(r)) << llvm::toString(r.takeError());
  EXPECT_EQ(r->name, "server");
  EXPECT_EQ(r->stack_size, 1u << 20);
  EXPECT_EQ(r->slot, 3u);
  EXPECT_TRUE(r->private_heap);
  // Everything from the first unknown argument on is the driver's, even a
  // later "--name".
  EXPECT_EQ(r->driver_args, (std::vector<std::string>{"-o", "x", "a.o", "--name"}));
}

TEST(LinkOptions, CcTakesTheDriverAndEndsOptions) {
  auto r = parse_link_options({"--cc", "/usr/bin/c++", "--verbose", "main.o"});
  ASSERT_TRUE(bool(r));
  EXPECT_EQ(r->cc, "/usr/bin/c++");
  EXPECT_FALSE(r->verbose) << "--verbose after the driver belongs to the driver";
  EXPECT_EQ(r->driver_args, (std::vector<std::string>{"--verbose", "main.o"}));
}

TEST(LinkOptions, Refusals) {
  EXPECT_EQ(error_of(parse_link_options({})), "nothing to link");
  EXPECT_EQ(error_of(parse_link_options({"--name"})), "--name needs a value");
  EXPECT_EQ(error_of(parse_link_options({"--name", "a b", "x.o"})),
            "--name: 'a b' has a space, a slash or a control character");
  EXPECT_EQ(error_of(parse_link_options({"--name", std::string(32, 'x'), "x.o"})),
            "--name: '" + std::string(32, 'x') + "' must have 1 to 31 bytes");
  EXPECT_EQ(error_of(parse_link_options({"--stack-size", "lots", "x.o"})),
            "--stack-size: 'lots' is not a size (a number of bytes, or with K, M or G)");
  EXPECT_EQ(error_of(parse_link_options({"--min-slot-size", "1000", "x.o"})),
            "--min-slot-size: '1000' is not a multiple of 4096");
  EXPECT_EQ(error_of(parse_link_options({"--slot", "-1", "x.o"})), "--slot: '-1' is not a slot number from 0 to 1535");
  EXPECT_EQ(error_of(parse_link_options({"--slot", "1536", "x.o"})),
            "--slot: '1536' is not a slot number from 0 to 1535");
}

TEST(LinkOptions, Sizes) {
  EXPECT_EQ(*parse_size("s", "4096"), 4096u);
  EXPECT_EQ(*parse_size("s", "64K"), 65536u);
  EXPECT_EQ(*parse_size("s", "2G"), 2ull << 30);
  auto big = parse_size("s", "99999999999999999999G");
  ASSERT_FALSE(bool(big));
  EXPECT_EQ(llvm::toString(big.takeError()), "s: '99999999999999999999G' is too large");
}

TEST(DriverArgs, Classification) {
  auto link = classify_driver_args({"main.o", "-o", "out/prog", "-lm"});
  ASSERT_TRUE(bool(link));
  EXPECT_TRUE(link->links_executable);
  EXPECT_FALSE(link->static_pie);
  EXPECT_EQ(link->output, "out/prog");
  EXPECT_FALSE(classify_driver_args({"-c", "a.c", "-o", "a.o"})->links_executable);
  EXPECT_FALSE(classify_driver_args({"-shared", "a.o", "-o", "liba.so"})->links_executable);
  EXPECT_TRUE(classify_driver_args({"-static", "a.o"})->static_pie);
  EXPECT_EQ(classify_driver_args({"a.o", "-oprog"})->output, "prog");
  EXPECT_EQ(classify_driver_args({"a.o"})->output, "a.out");
  auto nopie = classify_driver_args({"-no-pie", "a.o"});
  ASSERT_FALSE(bool(nopie));
  EXPECT_EQ(llvm::toString(nopie.takeError()), "-no-pie: a slot-aware image is position-independent; drop -no-pie");
}

}  // namespace
}  // namespace tp::link

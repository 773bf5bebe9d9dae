// "program/var": TP_EXPORT records found through the slot table.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "fake_space.h"

namespace tp_test {
namespace {

using namespace std::chrono_literals;

long counter = 1;
double table[4];
long other_counter = 2;

const tp_export_record kRecords[] = {
    {"counter", &counter, sizeof counter},
    {"ns::table", table, sizeof table},
};
const tp_export_record kOtherRecords[] = {{"counter", &other_counter, sizeof other_counter}};

class CrtExports : public ::testing::Test {
 protected:
  void SetUp() override {
    space.start_program(3, "prog");
    space.set_exports(3, kRecords, kRecords + 2);
    space.slot(3).flags |= TP_SLOT_IN_MAIN;
  }
  int find(const char* name, void** out = nullptr, std::uint64_t* size = nullptr) {
    return tpi_lookup(&me, name, size, out);
  }
  FakeSpace space{8, 16};
  tp_ctx me = space.ctx(1);
};

TEST_F(CrtExports, FindsTheRecordOfARunningProgram) {
  void* out = nullptr;
  std::uint64_t size = 0;
  ASSERT_EQ(find("prog/counter", &out, &size), TP_OK);
  EXPECT_EQ(out, &counter);
  EXPECT_EQ(size, sizeof counter);
  ASSERT_EQ(find("prog/ns::table", &out, &size), TP_OK);
  EXPECT_EQ(out, table);
  EXPECT_EQ(size, sizeof table);
  EXPECT_EQ(find("prog/missing"), TP_ENOTFOUND);
  EXPECT_EQ(find("prog/count"), TP_ENOTFOUND);
  EXPECT_EQ(find("prog/counterx"), TP_ENOTFOUND);
  EXPECT_EQ(find("other/counter"), TP_ENOTFOUND);
  EXPECT_EQ(find("pro/counter"), TP_ENOTFOUND);
}

TEST_F(CrtExports, ReadingTakesAndReturnsAHold) {
  const std::uint32_t g = space.release_generation();
  ASSERT_EQ(find("prog/counter"), TP_OK);
  EXPECT_EQ(space.holds(1, 3), 0u);
  EXPECT_EQ(space.release_generation(), g + 1);  // the hold went back to 0
  // A hold the program had before stays.
  space.holds(1, 3) = 2;
  ASSERT_EQ(find("prog/counter"), TP_OK);
  EXPECT_EQ(space.holds(1, 3), 2u);
}

TEST_F(CrtExports, OnlyOnceInMainAndWhileTheMemoryIsThere) {
  space.slot(3).flags = 0;
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  space.slot(3).flags = TP_SLOT_IN_MAIN;
  for (std::uint32_t st : {TP_SLOT_RUNNING, TP_SLOT_HELD, TP_SLOT_KEPT}) {
    space.set_state(3, st);
    EXPECT_EQ(find("prog/counter"), TP_OK) << st;
  }
  for (std::uint32_t st : {TP_SLOT_FREE, TP_SLOT_EXITING, 99u}) {
    space.set_state(3, st);
    EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND) << st;
  }
  EXPECT_EQ(space.holds(1, 3), 0u);
}

TEST_F(CrtExports, TheLowestSlotRunningTheProgramAnswers) {
  space.start_program(6, "prog");
  space.set_exports(6, kOtherRecords, kOtherRecords + 1);
  space.slot(6).flags |= TP_SLOT_IN_MAIN;
  void* out = nullptr;
  ASSERT_EQ(find("prog/counter", &out), TP_OK);
  EXPECT_EQ(out, &counter);
  EXPECT_EQ(find("prog/ns::table"), TP_OK);
  space.set_state(3, TP_SLOT_FREE);
  ASSERT_EQ(find("prog/counter", &out), TP_OK);
  EXPECT_EQ(out, &other_counter);
  EXPECT_EQ(find("prog/ns::table"), TP_ENOTFOUND);
}

TEST_F(CrtExports, OwnExportsNeedNoHold) {
  space.start_program(1, "me");
  space.set_exports(1, kOtherRecords, kOtherRecords + 1);
  space.slot(1).flags |= TP_SLOT_IN_MAIN;
  const std::uint32_t g = space.release_generation();
  void* out = nullptr;
  ASSERT_EQ(find("me/counter", &out), TP_OK);
  EXPECT_EQ(out, &other_counter);
  EXPECT_EQ(space.release_generation(), g);
}

TEST_F(CrtExports, TablesTheHostCouldNotHaveWrittenFindNothing) {
  auto base = reinterpret_cast<std::uintptr_t>(kRecords);
  auto set = [&](std::uint64_t b, std::uint64_t e) {
    space.slot(3).exports_begin = b;
    space.slot(3).exports_end = e;
  };
  set(0, 0);
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  set(base, base);  // empty table
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  set(base + 24, base);
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  set(base, base + 20);
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  set(base + 4, base + 28);
  EXPECT_EQ(find("prog/counter"), TP_ENOTFOUND);
  EXPECT_EQ(space.holds(1, 3), 0u);
}

TEST_F(CrtExports, MalformedNames) {
  const std::string long_program(64, 'p');
  for (const std::string& bad : {std::string("/counter"), std::string("prog/"), std::string("a/b/c"),
                                 std::string("pr og/counter"), long_program + "/counter",
                                 std::string("prog/\ttab")})
    EXPECT_EQ(find(bad.c_str()), TP_EINVAL) << bad;
  space.start_program(5, std::string(63, 'p').c_str());
  space.set_exports(5, kRecords, kRecords + 1);
  space.slot(5).flags |= TP_SLOT_IN_MAIN;
  EXPECT_EQ(find((std::string(63, 'p') + "/counter").c_str()), TP_OK);
}

TEST_F(CrtExports, ASlotReusedWhileReadingIsReadAgain) {
  // Another thread keeps bumping slot 3's generation (as if programs came and
  // went) with the same contents: every lookup still answers correctly.
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop) {
      __atomic_add_fetch(&space.slot(3).generation, 1u, __ATOMIC_SEQ_CST);
      std::this_thread::sleep_for(std::chrono::microseconds(10));
    }
  });
  int ok = 0;
  for (int i = 0; i < 2000; ++i) {
    void* out = nullptr;
    if (find("prog/counter", &out) == TP_OK && out == &counter) ++ok;
  }
  stop = true;
  churn.join();
  EXPECT_EQ(ok, 2000);
  EXPECT_EQ(space.holds(1, 3), 0u);
}

}  // namespace
}  // namespace tp_test

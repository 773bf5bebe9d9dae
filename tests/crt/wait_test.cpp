// tp_wait: timing out, and being woken by a publish or by a program reaching main().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_space.h"

namespace tp_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(CrtWait, TimesOut) {
  FakeSpace space;
  const tp_ctx c = space.ctx(0);
  void* out = nullptr;
  const auto t0 = Clock::now();
  EXPECT_EQ(tpi_wait(&c, "never", 50'000'000, nullptr, &out), TP_ETIMEDOUT);
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(out, nullptr);
}

TEST(CrtWait, ZeroTimeoutLooksOnce) {
  FakeSpace space;
  const tp_ctx c = space.ctx(0);
  EXPECT_EQ(tpi_wait(&c, "x", 0, nullptr, nullptr), TP_ETIMEDOUT);
  ASSERT_EQ(tpi_publish(&c, "x", reinterpret_cast<void*>(8), 4), TP_OK);
  void* out = nullptr;
  std::uint64_t size = 0;
  EXPECT_EQ(tpi_wait(&c, "x", 0, &size, &out), TP_OK);
  EXPECT_EQ(out, reinterpret_cast<void*>(8));
  EXPECT_EQ(size, 4u);
}

TEST(CrtWait, MalformedNamesReturnAtOnce) {
  FakeSpace space;
  const tp_ctx c = space.ctx(0);
  EXPECT_EQ(tpi_wait(&c, "a/b/c", -1, nullptr, nullptr), TP_EINVAL);
  EXPECT_EQ(tpi_wait(&c, "", -1, nullptr, nullptr), TP_EINVAL);
  EXPECT_EQ(tpi_wait(&c, nullptr, -1, nullptr, nullptr), TP_EINVAL);
}

TEST(CrtWait, HugeTimeoutsDoNotOverflow) {
  FakeSpace space;
  const tp_ctx c = space.ctx(0);
  ASSERT_EQ(tpi_publish(&c, "x", reinterpret_cast<void*>(8), 0), TP_OK);
  EXPECT_EQ(tpi_wait(&c, "x", INT64_MAX, nullptr, nullptr), TP_OK);
}

TEST(CrtWait, WokenByAPublishFromAnotherProgram) {
  FakeSpace space;
  const tp_ctx waiter = space.ctx(1), publisher = space.ctx(2);
  std::atomic<int> rc{1};
  void* out = nullptr;
  std::thread t([&] { rc = tpi_wait(&waiter, "late", -1, nullptr, &out); });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rc.load(), 1);
  ASSERT_EQ(tpi_publish(&publisher, "other", reinterpret_cast<void*>(16), 0), TP_OK);  // not it
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rc.load(), 1);
  const auto t0 = Clock::now();
  ASSERT_EQ(tpi_publish(&publisher, "late", reinterpret_cast<void*>(32), 0), TP_OK);
  t.join();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(rc.load(), TP_OK);
  EXPECT_EQ(out, reinterpret_cast<void*>(32));
}

TEST(CrtWait, WithATimeoutWokenBeforeIt) {
  FakeSpace space;
  const tp_ctx waiter = space.ctx(1), publisher = space.ctx(2);
  std::atomic<int> rc{1};
  std::thread t([&] { rc = tpi_wait(&waiter, "soon", 10'000'000'000, nullptr, nullptr); });
  std::this_thread::sleep_for(30ms);
  const auto t0 = Clock::now();
  ASSERT_EQ(tpi_publish(&publisher, "soon", reinterpret_cast<void*>(32), 0), TP_OK);
  t.join();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(rc.load(), TP_OK);
}

TEST(CrtWait, WokenByAProgramEnteringMain) {
  FakeSpace space;
  static long exported_value = 5;
  static const tp_export_record records[] = {{"value", &exported_value, sizeof exported_value}};
  space.start_program(4, "producer");
  space.set_exports(4, records, records + 1);
  const tp_ctx waiter = space.ctx(1), producer = space.ctx(4);
  std::atomic<int> rc{1};
  void* out = nullptr;
  std::uint64_t size = 0;
  std::thread t([&] { rc = tpi_wait(&waiter, "producer/value", -1, &size, &out); });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rc.load(), 1) << "found before the producer reached main()";
  const std::uint32_t g = space.registry_generation();
  tpi_enter_main(&producer);  // what crt0's __wrap_main does
  EXPECT_EQ(space.registry_generation(), g + 1);
  EXPECT_TRUE(space.slot(4).flags & TP_SLOT_IN_MAIN);
  t.join();
  EXPECT_EQ(rc.load(), TP_OK);
  EXPECT_EQ(out, &exported_value);
  EXPECT_EQ(size, sizeof exported_value);
}

}  // namespace
}  // namespace tp_test

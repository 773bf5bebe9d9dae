// libtp in an ordinary process (this test, run directly): no AT_TP_* entries,
// so every call answers TP_ENOSPACE and nothing crashes.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "threadprocs/tp.h"
#include "threadprocs/tp.hpp"

namespace {

using namespace std::chrono_literals;

TEST(CrtOutsideASpace, CApi) {
  int x = 0;
  void* out = &x;
  std::uint64_t size = 3;
  tp_self_info s;
  EXPECT_EQ(tp_in_space(), 0);
  EXPECT_EQ(tp_self(&s), TP_ENOSPACE);
  EXPECT_EQ(tp_self(nullptr), TP_ENOSPACE);
  EXPECT_EQ(tp_owner(&x), TP_ENOSPACE);
  EXPECT_EQ(tp_publish("x", &x), TP_ENOSPACE);
  EXPECT_EQ(tp_publish_sized("x", &x, 4), TP_ENOSPACE);
  EXPECT_EQ(tp_unpublish("x"), TP_ENOSPACE);
  EXPECT_EQ(tp_lookup("x", &out), TP_ENOSPACE);
  EXPECT_EQ(tp_lookup("prog/x", &out), TP_ENOSPACE);
  EXPECT_EQ(tp_lookup_sized("x", &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tp_wait("x", -1, &out), TP_ENOSPACE);  // never blocks
  EXPECT_EQ(tp_wait_sized("x", -1, &size, &out), TP_ENOSPACE);
  EXPECT_EQ(tp_hold(&x), TP_ENOSPACE);
  EXPECT_EQ(tp_release(&x), TP_ENOSPACE);
  EXPECT_EQ(out, &x);
  EXPECT_EQ(size, 3u);
}

TEST(CrtOutsideASpace, CppApi) {
  int x = 0;
  EXPECT_FALSE(tp::in_space());
  EXPECT_FALSE(tp::self().has_value());
  EXPECT_EQ(tp::owner(&x).error(), TP_ENOSPACE);
  EXPECT_EQ(tp::publish("x", &x).error(), TP_ENOSPACE);
  EXPECT_EQ(tp::unpublish("x").error(), TP_ENOSPACE);
  EXPECT_EQ(tp::lookup<int>("x").error(), TP_ENOSPACE);
  EXPECT_EQ(tp::wait<int>("x").error(), TP_ENOSPACE);
  EXPECT_EQ(tp::wait<int>("x", 1h).error(), TP_ENOSPACE);
  tp::hold h(&x);
  EXPECT_FALSE(h);
  EXPECT_EQ(h.error(), TP_ENOSPACE);
  EXPECT_EQ(tp::error(TP_ENOSPACE).error_code().message(), tp_strerror(TP_ENOSPACE));
}

TEST(CrtOutsideASpace, FirstUseFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (tp_in_space() != 0 || tp_lookup("x", nullptr) != TP_ENOSPACE) ++wrong;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace

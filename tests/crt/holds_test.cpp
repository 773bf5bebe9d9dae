// Holds: counting, the race with an ending owner, and waking the host on the last release.
#include <gtest/gtest.h>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "fake_space.h"

namespace tp_test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class CrtHolds : public ::testing::Test {
 protected:
  void SetUp() override { space.start_program(4, "owner"); }
  FakeSpace space{8, 16};
  tp_ctx me = space.ctx(1);
  void* p = FakeSpace::in_slot(4, 0x12345);
};

TEST_F(CrtHolds, CountAndRelease) {
  ASSERT_EQ(tpi_hold(&me, p), TP_OK);
  EXPECT_EQ(space.holds(1, 4), 1u);
  ASSERT_EQ(tpi_hold(&me, FakeSpace::in_slot(4, 0)), TP_OK);  // any address of the slot
  EXPECT_EQ(space.holds(1, 4), 2u);
  EXPECT_EQ(space.holds(4, 1), 0u);  // [holder][owner], not the other way
  const std::uint32_t g = space.release_generation();
  ASSERT_EQ(tpi_release(&me, p), TP_OK);
  EXPECT_EQ(space.holds(1, 4), 1u);
  EXPECT_EQ(space.release_generation(), g);  // not the last one
  ASSERT_EQ(tpi_release(&me, p), TP_OK);
  EXPECT_EQ(space.holds(1, 4), 0u);
  EXPECT_EQ(space.release_generation(), g + 1);
  EXPECT_EQ(tpi_release(&me, p), TP_ENOTHELD);
  EXPECT_EQ(space.holds(1, 4), 0u);
  EXPECT_EQ(space.release_generation(), g + 1);
}

TEST_F(CrtHolds, HeldAndKeptSlotsCanBeHeld) {
  for (std::uint32_t st : {TP_SLOT_HELD, TP_SLOT_KEPT}) {
    space.set_state(4, st);
    EXPECT_EQ(tpi_hold(&me, p), TP_OK);
  }
  EXPECT_EQ(space.holds(1, 4), 2u);
}

TEST_F(CrtHolds, AFreeSlotIsGoneAndTheCountUndone) {
  space.set_state(4, TP_SLOT_FREE);
  EXPECT_EQ(tpi_hold(&me, p), TP_EGONE);
  EXPECT_EQ(space.holds(1, 4), 0u);
}

TEST_F(CrtHolds, WaitsWhileTheHostDecidesThenHolds) {
  space.set_state(4, TP_SLOT_EXITING);
  const auto t0 = Clock::now();
  std::thread host([&] {
    std::this_thread::sleep_for(50ms);
    // The host summed the column, saw our count: the memory stays.
    EXPECT_EQ(__atomic_load_n(&space.holds(1, 4), __ATOMIC_SEQ_CST), 1u);
    space.set_state(4, TP_SLOT_HELD);
  });
  EXPECT_EQ(tpi_hold(&me, p), TP_OK);
  EXPECT_GE(Clock::now() - t0, 50ms);
  host.join();
  EXPECT_EQ(space.holds(1, 4), 1u);
}

TEST_F(CrtHolds, WaitsWhileTheHostDecidesThenGone) {
  space.set_state(4, TP_SLOT_EXITING);
  std::thread host([&] {
    std::this_thread::sleep_for(30ms);
    space.set_state(4, TP_SLOT_FREE);
  });
  EXPECT_EQ(tpi_hold(&me, p), TP_EGONE);
  host.join();
  EXPECT_EQ(space.holds(1, 4), 0u);
}

TEST_F(CrtHolds, AddressesOutsideTheArena) {
  int local = 0;
  EXPECT_EQ(tpi_hold(&me, &local), TP_ENOTARENA);
  EXPECT_EQ(tpi_hold(&me, FakeSpace::in_slot(8, 0)), TP_ENOTARENA);
  EXPECT_EQ(tpi_release(&me, FakeSpace::in_slot(8, 0)), TP_ENOTARENA);
  EXPECT_EQ(tpi_hold(&me, nullptr), TP_ENOTARENA);
}

TEST_F(CrtHolds, TheLastReleaseWakesTheHost) {
  ASSERT_EQ(tpi_hold(&me, p), TP_OK);
  std::atomic<bool> woke{false};
  std::atomic<bool> sleeping{false};
  std::thread host([&] {
    const std::uint32_t g = space.release_generation();
    sleeping = true;
    // Sleeps on release_generation as the host does (5 s at most).
    timespec ts{5, 0};
    while (space.release_generation() == g) {
      syscall(SYS_futex, &space.header()->release_generation, FUTEX_WAIT_PRIVATE, g, &ts, nullptr, 0);
    }
    woke = true;
  });
  while (!sleeping) std::this_thread::yield();
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(woke.load());
  const auto t0 = Clock::now();
  ASSERT_EQ(tpi_release(&me, p), TP_OK);
  host.join();
  EXPECT_TRUE(woke.load());
  EXPECT_LT(Clock::now() - t0, 1s);
}

TEST_F(CrtHolds, ConcurrentReleasesNeverGoBelowZero) {
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(tpi_hold(&me, p), TP_OK);
  std::atomic<int> ok{0}, not_held{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) (tpi_release(&me, p) == TP_OK ? ok : not_held)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1000);
  EXPECT_EQ(not_held.load(), 200);
  EXPECT_EQ(space.holds(1, 4), 0u);
}

}  // namespace
}  // namespace tp_test

// The registry: publish, lookup, unpublish, their refusals, the seqlock under
// racing readers, and a lock left by a program that died.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fake_space.h"

namespace tp_test {
namespace {

using namespace std::chrono_literals;

void* addr(std::uint64_t a) { return reinterpret_cast<void*>(a); }

TEST(CrtRegistry, PublishLookupUnpublish) {
  FakeSpace space;
  const tp_ctx a = space.ctx(1), b = space.ctx(2);
  const std::uint32_t g0 = space.registry_generation();
  ASSERT_EQ(tpi_publish(&a, "answer", addr(0x1234), 8), TP_OK);
  EXPECT_EQ(space.registry_generation(), g0 + 1);
  EXPECT_EQ(__atomic_load_n(&space.header()->registry_lock, __ATOMIC_SEQ_CST), 0u);

  void* out = nullptr;
  std::uint64_t size = 0;
  ASSERT_EQ(tpi_lookup(&b, "answer", &size, &out), TP_OK);
  EXPECT_EQ(out, addr(0x1234));
  EXPECT_EQ(size, 8u);
  EXPECT_EQ(tpi_lookup(&b, "answer", nullptr, nullptr), TP_OK);  // outputs optional
  EXPECT_EQ(tpi_lookup(&b, "answe", &size, &out), TP_ENOTFOUND);
  EXPECT_EQ(tpi_lookup(&b, "answers", &size, &out), TP_ENOTFOUND);

  EXPECT_EQ(tpi_publish(&b, "answer", addr(0x99), 0), TP_EEXIST);
  EXPECT_EQ(tpi_publish(&a, "answer", addr(0x99), 0), TP_EEXIST);
  EXPECT_EQ(tpi_unpublish(&b, "answer"), TP_ENOTFOUND);  // not b's name
  EXPECT_EQ(space.registry_generation(), g0 + 1);
  ASSERT_EQ(tpi_unpublish(&a, "answer"), TP_OK);
  EXPECT_EQ(space.registry_generation(), g0 + 2);
  EXPECT_EQ(tpi_lookup(&b, "answer", &size, &out), TP_ENOTFOUND);
  EXPECT_EQ(tpi_unpublish(&a, "answer"), TP_ENOTFOUND);

  // The name is free again, for anyone; the entry's seq is even after each write.
  ASSERT_EQ(tpi_publish(&b, "answer", addr(0x42), 0), TP_OK);
  ASSERT_EQ(tpi_lookup(&a, "answer", &size, &out), TP_OK);
  EXPECT_EQ(out, addr(0x42));
  EXPECT_EQ(size, 0u);
  for (std::uint32_t i = 0; i < space.capacity(); ++i) EXPECT_EQ(space.entry(i).seq % 2, 0u);
}

TEST(CrtRegistry, EntriesAreWrittenAsTheAbiSays) {
  FakeSpace space;
  const tp_ctx a = space.ctx(5);
  ASSERT_EQ(tpi_publish(&a, "x", addr(0xabc), 3), TP_OK);
  const tp_registry_entry& e = space.entry(0);
  EXPECT_EQ(e.seq, 2u);
  EXPECT_EQ(e.owner, TP_OWNER_TAG(5));
  EXPECT_EQ(e.address, 0xabcu);
  EXPECT_EQ(e.size, 3u);
  EXPECT_STREQ(e.name, "x");
  ASSERT_EQ(tpi_unpublish(&a, "x"), TP_OK);
  EXPECT_EQ(e.seq, 4u);
  EXPECT_EQ(e.owner, 0u);
  EXPECT_EQ(e.address, 0u);
  EXPECT_STREQ(e.name, "");
}

TEST(CrtRegistry, FullRegistry) {
  FakeSpace space(4, 16);
  const tp_ctx a = space.ctx(0);
  for (int i = 0; i < 16; ++i)
    ASSERT_EQ(tpi_publish(&a, ("n" + std::to_string(i)).c_str(), addr(0x1000 + i), 0), TP_OK);
  EXPECT_EQ(tpi_publish(&a, "one-more", addr(1), 0), TP_EFULL);
  EXPECT_EQ(tpi_publish(&a, "n3", addr(1), 0), TP_EEXIST);  // the name is checked first
  ASSERT_EQ(tpi_unpublish(&a, "n7"), TP_OK);
  ASSERT_EQ(tpi_publish(&a, "one-more", addr(1), 0), TP_OK);
  void* out;
  for (int i = 0; i < 16; ++i) {
    if (i == 7) continue;
    ASSERT_EQ(tpi_lookup(&a, ("n" + std::to_string(i)).c_str(), nullptr, &out), TP_OK);
    EXPECT_EQ(out, addr(0x1000 + i));
  }
}

TEST(CrtRegistry, InvalidNamesAndArguments) {
  FakeSpace space;
  const tp_ctx a = space.ctx(0);
  const std::string longest(TP_REGISTRY_NAME_MAX - 1, 'n');
  const std::string too_long(TP_REGISTRY_NAME_MAX, 'n');
  for (const char* bad : {"", "a/b", "/", "with space", "tab\there", "bell\a", "del\x7f", "\xc3\xa9t\xc3\xa9"}) {
    EXPECT_EQ(tpi_publish(&a, bad, addr(1), 0), TP_EINVAL) << bad;
    EXPECT_EQ(tpi_unpublish(&a, bad), TP_EINVAL) << bad;
  }
  EXPECT_EQ(tpi_publish(&a, nullptr, addr(1), 0), TP_EINVAL);
  EXPECT_EQ(tpi_publish(&a, "null", nullptr, 0), TP_EINVAL);
  EXPECT_EQ(tpi_publish(&a, too_long.c_str(), addr(1), 0), TP_EINVAL);
  EXPECT_EQ(tpi_lookup(&a, too_long.c_str(), nullptr, nullptr), TP_EINVAL);
  ASSERT_EQ(tpi_publish(&a, longest.c_str(), addr(1), 0), TP_OK);
  EXPECT_EQ(tpi_lookup(&a, longest.c_str(), nullptr, nullptr), TP_OK);
  ASSERT_EQ(tpi_publish(&a, "ns::odd-but_fine.~!@#$%^&*()[]{}<>?", addr(2), 0), TP_OK);
  EXPECT_EQ(tpi_lookup(&a, nullptr, nullptr, nullptr), TP_EINVAL);
  EXPECT_EQ(tpi_lookup(&a, "", nullptr, nullptr), TP_EINVAL);
  EXPECT_EQ(tpi_lookup(&a, "a/b/c", nullptr, nullptr), TP_EINVAL);
  EXPECT_EQ(tpi_lookup(&a, std::string(TP_NAME_MAX, 'x').c_str(), nullptr, nullptr), TP_EINVAL);
}

TEST(CrtRegistry, HostClearsTheEntriesOfAnEndedProgram) {
  FakeSpace space;
  const tp_ctx a = space.ctx(1), b = space.ctx(2);
  ASSERT_EQ(tpi_publish(&a, "a1", addr(1), 0), TP_OK);
  ASSERT_EQ(tpi_publish(&b, "b1", addr(2), 0), TP_OK);
  ASSERT_EQ(tpi_publish(&a, "a2", addr(3), 0), TP_OK);
  space.host_clear_entries(1);
  EXPECT_EQ(tpi_lookup(&b, "a1", nullptr, nullptr), TP_ENOTFOUND);
  EXPECT_EQ(tpi_lookup(&b, "a2", nullptr, nullptr), TP_ENOTFOUND);
  EXPECT_EQ(tpi_lookup(&b, "b1", nullptr, nullptr), TP_OK);
  // A new program in slot 1 publishes the same names.
  EXPECT_EQ(tpi_publish(&a, "a1", addr(4), 0), TP_OK);
}

TEST(CrtRegistry, EntriesLeftMidWriteAreSkippedOrHealed) {
  FakeSpace space(4, 4);
  const tp_ctx a = space.ctx(1), b = space.ctx(2);
  // Entry 0: a writer died between making seq odd and writing the owner.
  space.entry(0).seq = 7;
  // Entry 1: a writer (slot 3) died mid-write, after writing its tag.
  space.entry(1).seq = 3;
  space.entry(1).owner = TP_OWNER_TAG(3);
  std::strcpy(space.entry(1).name, "half");
  EXPECT_EQ(tpi_lookup(&b, "half", nullptr, nullptr), TP_ENOTFOUND);  // odd: not readable
  ASSERT_EQ(tpi_publish(&a, "x", addr(1), 0), TP_OK);                  // skips 0 and 1
  EXPECT_EQ(space.entry(2).owner, a.tag);
  // The host clears slot 3's entries: seq | 1 then + 1, so the entry becomes even (usable).
  space.host_clear_entries(3);
  EXPECT_EQ(space.entry(1).seq, 4u);
  ASSERT_EQ(tpi_publish(&a, "y", addr(2), 0), TP_OK);
  ASSERT_EQ(tpi_publish(&a, "z", addr(3), 0), TP_OK);
  EXPECT_EQ(space.entry(1).owner, a.tag);
  EXPECT_EQ(tpi_publish(&a, "w", addr(4), 0), TP_EFULL);  // entry 0 stays lost
}

TEST(CrtRegistry, LockHeldByADeadProgramIsReleasedByTheHost) {
  FakeSpace space;
  const tp_ctx a = space.ctx(1);
  const std::uint32_t dead = TP_OWNER_TAG(5);
  __atomic_store_n(&space.header()->registry_lock, dead, __ATOMIC_SEQ_CST);
  std::atomic<int> rc{1};
  std::thread publisher([&] { rc = tpi_publish(&a, "after", addr(1), 0); });
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(rc.load(), 1) << "published while the lock was taken";
  // The host, seeing program 5 end: CAS its tag to 0, wake.
  std::uint32_t expected = dead;
  ASSERT_TRUE(__atomic_compare_exchange_n(&space.header()->registry_lock, &expected, 0u, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  const auto t0 = std::chrono::steady_clock::now();
  publisher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(rc.load(), TP_OK);
  EXPECT_EQ(tpi_lookup(&a, "after", nullptr, nullptr), TP_OK);
  EXPECT_EQ(__atomic_load_n(&space.header()->registry_lock, __ATOMIC_SEQ_CST), 0u);
}

TEST(CrtRegistry, LockIsMutualExclusion) {
  FakeSpace space(8, 512);
  // Four programs publish and unpublish their own names at once: every
  // publish of a distinct name succeeds exactly once, none is lost.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::uint32_t slot = 0; slot < 4; ++slot) {
    threads.emplace_back([&, slot] {
      const tp_ctx c = space.ctx(slot);
      for (int round = 0; round < 200; ++round) {
        const std::string name = "s" + std::to_string(slot) + "-" + std::to_string(round % 50);
        if (round < 50) {
          if (tpi_publish(&c, name.c_str(), addr(1 + slot), slot) != TP_OK) ++failures;
        } else if (round < 100) {
          if (tpi_unpublish(&c, name.c_str()) != TP_OK) ++failures;
        } else if (tpi_publish(&c, "shared", addr(1), 0) == TP_OK) {
          if (tpi_unpublish(&c, "shared") != TP_OK) ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (std::uint32_t i = 0; i < space.capacity(); ++i) EXPECT_EQ(space.entry(i).owner, 0u) << i;
}

TEST(CrtRegistry, ReadersRacingAWriterSeeOnlyWholeEntries) {
  FakeSpace space(4, 8);
  const tp_ctx writer = space.ctx(0);
  std::atomic<bool> stop{false};
  std::atomic<long> seen{0}, torn{0};
  // "x" always has address 16 * size, "y" 16 * size + 8: a mixed read shows.
  std::thread w([&] {
    for (std::uint64_t k = 1; !stop; ++k) {
      tpi_publish(&writer, "x", addr(16 * k), k);
      tpi_publish(&writer, "y", addr(16 * k + 8), k);
      tpi_unpublish(&writer, "x");
      tpi_unpublish(&writer, "y");
    }
  });
  std::vector<std::thread> readers;
  for (std::uint32_t r = 1; r < 4; ++r) {
    readers.emplace_back([&, r] {
      const tp_ctx c = space.ctx(r);
      while (!stop) {
        void* out;
        std::uint64_t size;
        if (tpi_lookup(&c, "x", &size, &out) == TP_OK) {
          ++seen;
          if (reinterpret_cast<std::uint64_t>(out) != 16 * size) ++torn;
        }
        if (tpi_lookup(&c, "y", &size, &out) == TP_OK) {
          ++seen;
          if (reinterpret_cast<std::uint64_t>(out) != 16 * size + 8) ++torn;
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  w.join();
  for (auto& t : readers) t.join();
  EXPECT_GT(seen.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

// A writer following the ABI's seqlock protocol (as the host does when it
// clears entries) that pauses between fields: readers must never return an
// address of one write with the size of another.
void pause(int n) {
  for (int i = 0; i < n; ++i) __builtin_ia32_pause();
}

TEST(CrtRegistry, ReadersRetryAroundASlowWriter) {
  FakeSpace space(4, 4);
  tp_registry_entry& e = space.entry(2);
  std::strcpy(e.name, "x");
  e.owner = TP_OWNER_TAG(0);
  e.address = 16;
  e.size = 1;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::uint64_t k = 2; !stop; ++k) {
      const std::uint32_t odd = __atomic_load_n(&e.seq, __ATOMIC_RELAXED) | 1u;
      __atomic_store_n(&e.seq, odd, __ATOMIC_RELAXED);
      __atomic_thread_fence(__ATOMIC_RELEASE);
      __atomic_store_n(&e.address, 16 * k, __ATOMIC_RELAXED);
      pause(200);
      __atomic_store_n(&e.size, k, __ATOMIC_RELAXED);
      __atomic_store_n(&e.seq, odd + 1, __ATOMIC_RELEASE);
      pause(200);
    }
  });
  const tp_ctx c = space.ctx(1);
  long found = 0, torn = 0;
  const auto end = std::chrono::steady_clock::now() + 200ms;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 1000; ++i) {
      void* out;
      std::uint64_t size;
      if (tpi_lookup(&c, "x", &size, &out) != TP_OK) continue;
      ++found;
      if (reinterpret_cast<std::uint64_t>(out) != 16 * size) ++torn;
    }
  }
  stop = true;
  writer.join();
  EXPECT_GT(found, 0);
  EXPECT_EQ(torn, 0);
}

}  // namespace
}  // namespace tp_test

// threads4: four std::threads count primes in four quarters of a range, each keeping its
// own thread_local tally; the main thread joins them and prints the results in a fixed
// order, so the output is the same on every run.
#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr std::uint32_t kLimit = 1'000'000;
constexpr int kThreads = 4;

thread_local std::uint64_t tally = 0;  // per-thread: exercises TLS of every thread

bool is_prime(std::uint32_t n) {
  if (n < 2)
    return false;
  for (std::uint32_t d = 2; d * d <= n; ++d)
    if (n % d == 0)
      return false;
  return true;
}

}  // namespace

int main() {
  std::array<std::uint64_t, kThreads> primes{};
  std::array<std::uint64_t, kThreads> sums{};
  std::mutex finished_lock;
  std::vector<int> finished;  // filled in completion order, which varies: only its size is printed

  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([t, &primes, &sums, &finished_lock, &finished] {
      const std::uint32_t begin = kLimit / kThreads * static_cast<std::uint32_t>(t);
      const std::uint32_t end = begin + kLimit / kThreads;
      std::uint64_t sum = 0;
      for (std::uint32_t n = begin; n < end; ++n) {
        if (is_prime(n)) {
          ++tally;
          sum += n;
        }
      }
      primes[static_cast<std::size_t>(t)] = tally;
      sums[static_cast<std::size_t>(t)] = sum;
      std::lock_guard<std::mutex> guard(finished_lock);
      finished.push_back(t);
    });
  }
  for (auto& worker : workers)
    worker.join();

  std::uint64_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::printf("thread %d: %llu primes, sum %llu\n", t,
                static_cast<unsigned long long>(primes[static_cast<std::size_t>(t)]),
                static_cast<unsigned long long>(sums[static_cast<std::size_t>(t)]));
    total += primes[static_cast<std::size_t>(t)];
  }
  std::printf("total: %llu primes below %u, %zu threads finished, main tally %llu\n",
              static_cast<unsigned long long>(total), kLimit, finished.size(),
              static_cast<unsigned long long>(tally));
  return 0;
}

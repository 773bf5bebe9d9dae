// The memory supervisor's bookkeeping per trapped call, as the slot fills with
// live mappings: micro-benchmarks (Google Benchmark) of tp::SlotMap, the
// per-slot record that every trapped mmap/munmap/mremap consults. The slot is
// laid out like bench_mmap's "fragmented" mode: N live 64 KiB mappings
// separated by 64 KiB holes, so a 128 KiB request fits only below all of them.
// Prints one Markdown table: one row per operation, one column per N, side by
// side. The kernel's own bookkeeping (maple tree) is O(log N); anything here
// that grows linearly with N is paid on every trapped call.
//
// usage: slot_map_micro [--benchmark_min_time=SECONDS ...]  (Google Benchmark flags)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "supervisor/slot_map.h"

namespace {

constexpr uint64_t kKiB = 1024, kGiB = kKiB * kKiB * kKiB;
constexpr uint64_t kSlotLo = 0x200000000000, kSlotSize = 64 * kGiB;
constexpr uint64_t kAllocLo = kSlotLo + kSlotSize / 8, kAllocHi = kSlotLo + kSlotSize - kGiB;
const std::vector<int64_t> kLive{1, 100, 1000, 5000, 20000};

tp::SlotMap fragmented(int64_t live) {
  tp::SlotMap m(kSlotLo, kSlotLo + kSlotSize, kAllocLo, kAllocHi);
  for (int64_t i = 0; i < live; ++i) m.add(kAllocHi - uint64_t(2 * i + 1) * 64 * kKiB, 64 * kKiB);
  return m;
}

// What a trapped mmap(128 KiB) looks up: the highest free range that fits.
void find_free_128k(benchmark::State& state) {
  tp::SlotMap m = fragmented(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(m.find_free(128 * kKiB, 4096));
  state.counters["live"] = double(state.range(0));
}

// Recomputed after every trapped call (the slot's mapped total).
void mapped_bytes(benchmark::State& state) {
  tp::SlotMap m = fragmented(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(m.mapped_bytes());
  state.counters["live"] = double(state.range(0));
}

// All the bookkeeping of one mmap(128 KiB)+munmap pair, as the supervisor does
// it today: find_free, add, mapped_bytes; remove, mapped_bytes.
void mmap_munmap_pair(benchmark::State& state) {
  tp::SlotMap m = fragmented(state.range(0));
  for (auto _ : state) {
    auto at = m.find_free(128 * kKiB, 4096);
    m.add(*at, 128 * kKiB);
    benchmark::DoNotOptimize(m.mapped_bytes());
    m.remove(*at, 128 * kKiB);
    benchmark::DoNotOptimize(m.mapped_bytes());
  }
  state.counters["live"] = double(state.range(0));
}

void with_live_counts(benchmark::internal::Benchmark* b) {
  for (int64_t n : kLive) b->Arg(n);
}

BENCHMARK(find_free_128k)->Apply(with_live_counts);
BENCHMARK(mapped_bytes)->Apply(with_live_counts);
BENCHMARK(mmap_munmap_pair)->Apply(with_live_counts);

// Collects every run, prints the pivoted Markdown table at the end.
class MarkdownReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      auto live = r.counters.find("live");
      if (live == r.counters.end()) continue;
      std::string op = r.run_name.function_name;
      if (!ns_.count(op)) order_.push_back(op);
      // CPU time in the benchmark's unit (ns): steadier than wall time on a busy machine.
      ns_[op][int64_t(live->second.value)] = r.GetAdjustedCPUTime();
    }
  }
  void Finalize() override {
    printf("| SlotMap operation (CPU ns per call; columns: live mappings in the slot) |");
    for (int64_t n : kLive) printf(" %lld |", static_cast<long long>(n));
    printf("\n|---|");
    for (size_t i = 0; i < kLive.size(); ++i) printf("---:|");
    printf("\n");
    for (const auto& op : order_) {
      printf("| %s |", op.c_str());
      for (int64_t n : kLive) {
        auto it = ns_[op].find(n);
        if (it == ns_[op].end()) printf(" - |");
        else printf(" %.0f |", it->second);
      }
      printf("\n");
    }
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, std::map<int64_t, double>> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  MarkdownReporter md;
  benchmark::RunSpecifiedBenchmarks(&md);
  benchmark::Shutdown();
  return 0;
}

// Finds "producer/table", reads every entry, frees the table (memory the
// producer allocated), and tells the producer.
#include <threadprocs/tp.h>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <unordered_map>

using Table = std::unordered_map<std::string, std::string>;

static int done_marker;

int main() {
  void* slot = nullptr;
  uint64_t size = 0;
  int rc = tp_wait_sized("producer/table", 60'000'000'000, &size, &slot);
  if (rc != TP_OK) {
    std::fprintf(stderr, "consumer: waiting for producer/table: %s\n", tp_strerror(rc));
    return 1;
  }
  if (size != sizeof(Table*)) {
    std::fprintf(stderr, "consumer: producer/table has %llu bytes, not %zu\n", (unsigned long long)size, sizeof(Table*));
    return 1;
  }
  Table* table = *static_cast<Table**>(slot);
  const int owner = tp_owner(table), self = [] { tp_self_info s{}; tp_self(&s); return int(s.slot); }();
  size_t entries = 0, bad = 0;
  for (const auto& [k, v] : *table) {
    ++entries;
    if (v != "value-" + std::to_string(std::stoi(k.substr(4)) * 7)) ++bad;
  }
  delete table;  // memory of the producer, freed here
  std::printf("consumer (slot %d): read %zu entries (%zu wrong) in the producer's memory (slot %d), freed them\n",
              self, entries, bad, owner);
  if ((rc = tp_publish("consumer-done", &done_marker)) != TP_OK) {
    std::fprintf(stderr, "consumer: publish: %s\n", tp_strerror(rc));
    return 1;
  }
  // Stay until the producer has seen it (our name goes when we end).
  for (int i = 0; i < 60000 && tp_lookup("producer/table", &slot) == TP_OK; ++i) usleep(1000);
  return entries == 100000 && bad == 0 && owner != self && owner >= 0 ? 0 : 1;
}

// Builds a table before main() and exports a pointer to it as "producer/table".
// Waits until the consumer says it took it, then ends.
#include <threadprocs/tp.h>

#include <cstdio>
#include <string>
#include <unordered_map>

using Table = std::unordered_map<std::string, std::string>;

static Table* build() {
  auto* t = new Table;
  for (int i = 0; i < 100000; ++i) t->emplace("key-" + std::to_string(i), "value-" + std::to_string(i * 7));
  return t;
}

// Built by a constructor: crt0 marks the program "in main" only after this
// ran, so the consumer never sees a half-built table.
Table* table = build();
TP_EXPORT(table);

int main() {
  void* done = nullptr;
  int rc = tp_wait("consumer-done", 60'000'000'000, &done);
  if (rc != TP_OK) {
    std::fprintf(stderr, "producer: waiting for consumer-done: %s\n", tp_strerror(rc));
    return 1;
  }
  std::printf("producer: the consumer took the table\n");
  return 0;
}

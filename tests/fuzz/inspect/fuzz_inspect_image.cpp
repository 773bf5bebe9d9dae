// libFuzzer target for tp-inspect's analysis (toolchain/tp-inspect): any bytes
// go in; a Report always comes out, consistent with itself, and both of its
// renderings are well-formed (the text has no control character but newlines,
// the JSON passes a strict reader).
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "format.h"
#include "inspect.h"
#include "json.h"

namespace {

// Crashes with the broken promise, so libFuzzer keeps the input.
#define FUZZ_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "broken promise: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

using tp::inspect::Class;

void check_report(const tp::inspect::Report& r, size_t size) {
  FUZZ_CHECK(r.loadable() == r.reason.empty());
  if (r.loadable()) {
    FUZZ_CHECK(r.is_elf && r.e_type && r.load_range);
    FUZZ_CHECK(r.load_range->first <= r.entry && r.entry < r.load_range->second);
    FUZZ_CHECK(!r.textrel);
  }
  FUZZ_CHECK((r.cls == Class::kSlotAware) <= r.note.has_value());
  if (r.cls == Class::kOrdinaryPie || r.cls == Class::kStaticPie) FUZZ_CHECK(!r.note);
  if (r.note) {
    FUZZ_CHECK(r.note->name.size() < 32);
    FUZZ_CHECK(r.note->fixed.has_value() == (r.note->fixed_slot >= 0));
  } else {
    FUZZ_CHECK(r.exports.empty());
  }
  // Every record lies in the file, so there are no more of them than bytes / 24.
  FUZZ_CHECK(r.exports.size() <= size / 24);
  for (const auto& e : r.exports) FUZZ_CHECK(e.name.size() <= 4096);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tp::inspect::Report r = tp::inspect::inspect_image("fuzz.elf", std::span(data, size));
  check_report(r, size);

  const std::string text = tp::inspect::format_text(r);
  FUZZ_CHECK(!text.empty() && text.back() == '\n');
  for (char c : text) FUZZ_CHECK(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));

  const std::string json = tp::inspect::format_json({r});
  std::string error;
  auto doc = tpit::parse_json(json, &error);
  if (!doc) std::fprintf(stderr, "invalid JSON: %s\n%s\n", error.c_str(), json.c_str());
  FUZZ_CHECK(doc && doc->items.size() == 1);
  FUZZ_CHECK((*doc)[0]["class"].text == tp::inspect::class_name(r.cls));
  return 0;
}

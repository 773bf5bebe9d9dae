// Unit tests of the text and JSON renderings. The JSON is read back with a
// strict reader (tests/support/json.h), which rejects anything not RFC 8259.
#include <gtest/gtest.h>

#include "format.h"
#include "inspect.h"
#include "json.h"
#include "test_files.h"
#include "threadprocs/abi.h"

namespace tp::inspect {
namespace {

using testing::contains;
using testing::image_path;
using testing::inspect_path;
using tpit::Json;
using tpit::parse_json;

Json parse(const std::string& text) {
  std::string error;
  std::optional<Json> v = parse_json(text, &error);
  if (!v) {
    ADD_FAILURE() << error << "\n" << text;
    return Json();
  }
  return std::move(*v);
}

// The member names of an object, in document order.
std::vector<std::string> member_names(const Json& object) {
  std::vector<std::string> names;
  for (const auto& [name, value] : object.fields) names.push_back(name);
  return names;
}

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// The checks below are only as good as the reader is strict.
TEST(StrictJsonReader, RejectsMalformedJson) {
  for (const char* bad : {"", "[", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[01]", "[1.]", "\"\\x\"",
                          "\"\x01\"", "\"\xff\"", "\"\\ud800\"", "\"\\udc00\"", "\"\xc0\xaf\"",
                          "\"\xed\xa0\x80\"", "\"\xe2\x82\"", "[] []", "{\"a\":1,\"a\":2}", "nul",
                          "[-]"})
    EXPECT_FALSE(parse_json(bad, nullptr)) << bad;
  std::optional<Json> ok = parse_json(
      " {\"a\": [1, -2.5e3, true, false, null], \"b\": \"\\u00e9\\ud83d\\ude00\\n\xe2\x82\xac\"} ",
      nullptr);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["a"].items.size(), 5u);
  EXPECT_EQ((*ok)["a"][0].integer(), 1);
  EXPECT_EQ((*ok)["b"].text, "\xc3\xa9\xf0\x9f\x98\x80\n\xe2\x82\xac");
}

TEST(JsonString, Escapes) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_string("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
  EXPECT_EQ(json_string(std::string("\x01\x1f\x00", 3)), "\"\\u0001\\u001f\\u0000\"");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");
}

TEST(JsonString, Utf8) {
  EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(json_string("\xff"), "\"\\ufffd\"");                 // never a UTF-8 byte
  EXPECT_EQ(json_string("\xc3"), "\"\\ufffd\"");                 // cut short
  EXPECT_EQ(json_string("\xc3x"), "\"\\ufffdx\"");               // bad continuation
  EXPECT_EQ(json_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"");      // overlong '/'
  EXPECT_EQ(json_string("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");  // overlong
  EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
  // Whatever the bytes, the result parses.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  Json v = parse(json_string(all));
  EXPECT_TRUE(v.is_string());
  EXPECT_EQ(v.text.substr(0, 32), all.substr(0, 32));
}

TEST(Printable, EscapesWhatATerminalWouldRun) {
  EXPECT_EQ(printable("counter_1"), "counter_1");
  EXPECT_EQ(printable("\x1b[2Jx"), "\\x1b[2Jx");
  EXPECT_EQ(printable("a\nb\x7f\xc3\xa9"), "a\\x0ab\\x7f\\xc3\\xa9");
}

TEST(HumanSize, ExactUnits) {
  EXPECT_EQ(human_size(0), "0 bytes");
  EXPECT_EQ(human_size(1), "1 byte");
  EXPECT_EQ(human_size(4095), "4095 bytes");
  EXPECT_EQ(human_size(4096), "4 KiB");
  EXPECT_EQ(human_size(8u << 20), "8 MiB");
  EXPECT_EQ(human_size(TP_DEFAULT_SLOT_SIZE), "64 GiB");
  EXPECT_EQ(human_size(3ull << 40), "3 TiB");
  EXPECT_EQ(human_size((1u << 20) + 1024), "1025 KiB");
}

TEST(FormatText, SlotAwareForSlot3) {
  const std::string text = format_text(inspect_path("slot_aware_slot3"));
  EXPECT_TRUE(contains(text, ": slot-aware (dynamic PIE)\n")) << text;
  EXPECT_TRUE(contains(text, "program name     slot3\n")) << text;
  EXPECT_TRUE(contains(text, "fixed slot       3\n")) << text;
  EXPECT_TRUE(contains(text, "link address     0x203000200000\n")) << text;
  EXPECT_TRUE(contains(text, "slot 3 image     0x203000200000 in the default arena")) << text;
  EXPECT_TRUE(contains(text, "zero relocation delta when slot 3 is free, relocated otherwise"))
      << text;
  EXPECT_TRUE(contains(text, "exports (2)\n")) << text;
  EXPECT_TRUE(contains(text, "counter  0x2030002")) << text;
  EXPECT_TRUE(contains(text, "4 bytes\n")) << text;
  EXPECT_TRUE(contains(text, "64 bytes\n")) << text;
}

TEST(FormatText, OtherClasses) {
  EXPECT_TRUE(contains(format_text(inspect_path("slot_aware_static")),
                       ": slot-aware (static-PIE)\n"));
  EXPECT_TRUE(contains(format_text(inspect_path("slot_aware_fields")),
                       "program name     (file name)\n"));
  EXPECT_TRUE(contains(format_text(inspect_path("slot_aware_fields")),
                       "flags            0x1 private-heap\n"));
  EXPECT_TRUE(contains(format_text(inspect_path("slot_aware_slot3_unplaced")),
                       "not linked at slot 3's image address: always relocated"));
  const std::string exec = format_text(inspect_path("fixed_exec"));
  EXPECT_TRUE(contains(exec, ": ET_EXEC (fixed-address: loads only at [0x")) << exec;
  const std::string empty = format_text(inspect_path("empty"));
  EXPECT_EQ(empty, image_path("empty") + ": not loadable: empty file\n");
}

TEST(FormatText, HostileNamesArePrintable) {
  Report r = inspect_path("slot_aware");
  r.exports[0].name = "evil\x1b]0;title\x07";
  const std::string text = format_text(r);
  EXPECT_TRUE(contains(text, "evil\\x1b]0;title\\x07")) << text;
  EXPECT_FALSE(contains(text, "\x1b"));
}

// Every object has the same keys, in the same order, whatever the class;
// values have fixed types.
TEST(FormatJson, StableKeysAndTypes) {
  std::vector<Inspection> all;
  for (const char* name : {"slot_aware", "slot_aware_slot3", "slot_aware_static", "ordinary_pie",
                           "static_pie", "fixed_exec", "libinspect_library.so", "object.o",
                           "text.txt", "empty", "bad_abi", "textrel"})
    all.push_back(inspect_path(name));
  all.push_back(FileError{"/no/such \"file\"", "No such file or directory"});
  Json doc = parse(format_json(all));
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.items.size(), all.size());

  const std::vector<std::string> keys = {
      "file",     "class", "loadable",    "reason", "elf_type", "linkage",
      "pie_flag", "entry", "interpreter", "needed", "soname",   "textrel",
      "load_range", "note", "exports",    "warnings"};
  for (const Json& o : doc.items) {
    ASSERT_TRUE(o.is_object());
    EXPECT_EQ(member_names(o), keys);
    EXPECT_TRUE(o["file"].is_string());
    EXPECT_TRUE(o["class"].is_string());
    EXPECT_TRUE(o["loadable"].is_bool());
    EXPECT_TRUE(o["pie_flag"].is_bool());
    EXPECT_TRUE(o["textrel"].is_bool());
    EXPECT_TRUE(o["needed"].is_array());
    EXPECT_TRUE(o["exports"].is_array());
    EXPECT_TRUE(o["warnings"].is_array());
    for (const char* k : {"reason", "elf_type", "linkage", "entry", "interpreter", "soname"})
      EXPECT_TRUE(o[k].is_null() || o[k].is_string()) << k;
    EXPECT_TRUE(o["load_range"].is_null() || o["load_range"].is_object());
    EXPECT_TRUE(o["note"].is_null() || o["note"].is_object());
    EXPECT_EQ(o["loadable"].boolean, o["reason"].is_null());
  }
  auto cls = [&](size_t i) { return doc[i]["class"].text; };
  EXPECT_EQ(cls(0), "slot-aware");
  EXPECT_EQ(cls(3), "ordinary PIE");
  EXPECT_EQ(cls(4), "static-PIE");
  EXPECT_EQ(cls(5), "ET_EXEC");
  EXPECT_EQ(cls(6), "not loadable");
  EXPECT_EQ(cls(12), "unreadable");
  EXPECT_EQ(doc[12]["file"].text, "/no/such \"file\"");
  EXPECT_EQ(doc[12]["reason"].text, "No such file or directory");
  EXPECT_EQ(doc[5]["elf_type"].text, "ET_EXEC");
  EXPECT_EQ(doc[10]["reason"].text,
            "bad TPRC note: it was linked for a newer Threadprocs ABI than this one");
}

TEST(FormatJson, NoteAndExports) {
  const Report report = inspect_path("slot_aware_slot3");
  Json doc = parse(format_json({report}));
  const Json& o = doc[0];
  EXPECT_EQ(o["linkage"].text, "dynamic");
  EXPECT_EQ(o["elf_type"].text, "ET_DYN");
  EXPECT_EQ(o["entry"].text, hex(report.entry));
  EXPECT_EQ(o["load_range"]["start"].text, "0x203000200000");
  const Json& note = o["note"];
  ASSERT_TRUE(note.is_object());
  EXPECT_EQ(note["abi_version"].integer(), 1);
  EXPECT_EQ(note["name"].text, "slot3");
  EXPECT_EQ(note["program_name"].text, "slot3");
  EXPECT_EQ(note["fixed_slot"].integer(), 3);
  EXPECT_EQ(note["stack_size"].integer(), 0);
  EXPECT_EQ(note["descriptor_address"].text, hex(report.note->descriptor_address));
  const Json& layout = note["fixed_slot_layout"];
  EXPECT_EQ(layout["slot"].integer(), 3);
  EXPECT_EQ(layout["link_address"].text, "0x203000200000");
  EXPECT_EQ(layout["slot_image_address"].text, "0x203000200000");
  EXPECT_EQ(layout["default_arena_base"].text, "0x200000000000");
  EXPECT_TRUE(layout["in_default_arena"].boolean);
  EXPECT_TRUE(layout["at_slot_address"].boolean);
  EXPECT_EQ(layout["default_slot_size"].integer(), static_cast<int64_t>(TP_DEFAULT_SLOT_SIZE));
  const Json& exports = o["exports"];
  ASSERT_EQ(exports.items.size(), 2u);
  for (const Json& e : exports.items) {
    const std::string name = e["name"].text;
    EXPECT_EQ(e["size"].integer(), name == "counter" ? 4 : 64) << name;
    EXPECT_TRUE(e["problem"].is_null());
    EXPECT_EQ(e["address"].text.rfind("0x2030002", 0), 0u);
  }

  Json fields = parse(format_json({inspect_path("slot_aware_fields")}));
  const Json& n = fields[0]["note"];
  EXPECT_EQ(n["name"].text, "");
  EXPECT_EQ(n["program_name"].text, "(file name)");
  EXPECT_EQ(n["flags"].integer(), 1);
  ASSERT_EQ(n["flag_names"].items.size(), 1u);
  EXPECT_EQ(n["flag_names"][0].text, "private-heap");
  EXPECT_EQ(n["stack_size"].integer(), 8 << 20);
  EXPECT_EQ(n["min_slot_size"].integer(), 1 << 30);
  EXPECT_TRUE(n["fixed_slot"].is_null());
  EXPECT_TRUE(n["fixed_slot_layout"].is_null());
}

TEST(FormatJson, EmptyList) { EXPECT_EQ(format_json({}), "[\n]\n"); }

}  // namespace
}  // namespace tp::inspect

// Decoding the Threadprocs note: fields, export-table addresses, refusals.
#include <gtest/gtest.h>

#include <cstring>

#include "elf_builder.h"
#include "elf_test_helpers.h"
#include "threadprocs/abi.h"

namespace tp::elf::testing {
namespace {

// The minimal image's note lies at offset/vaddr 0x400: the descriptor
// follows the 12-byte header and "TPRC\0" padded to 8, at 0x414.
constexpr uint64_t kDescVaddr = 0x400 + 12 + 8;

ElfBuilder with_desc(const std::vector<uint8_t>& desc) {
  auto b = ElfBuilder::minimal();
  b.add_notes(make_note(TP_NOTE_NAME, TP_NOTE_TYPE, desc));
  return b;
}

std::vector<uint8_t> patched(std::vector<uint8_t> desc, size_t offset, const void* value, size_t len) {
  std::memcpy(desc.data() + offset, value, len);
  return desc;
}

TEST(TpNote, DecodesEveryField) {
  tp_note_desc d{};
  d.abi_version = TP_ABI_VERSION;
  d.flags = TP_NOTE_FLAG_PRIVATE_HEAP;
  d.stack_size = 1 << 20;
  d.min_slot_size = 1ull << 32;
  d.fixed_slot = 3;
  // A two-record table at 0x2000 (inside the writable PT_LOAD).
  d.exports_begin = int64_t(0x2000 - kDescVaddr);
  d.exports_end = int64_t(0x2000 + 2 * sizeof(tp_export_record) - kDescVaddr);
  std::strcpy(d.name, "server");
  std::vector<uint8_t> desc(sizeof d);
  std::memcpy(desc.data(), &d, sizeof d);
  auto r = parse(with_desc(desc));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->slot_aware.has_value());
  const SlotAwareNote& n = *r->slot_aware;
  EXPECT_EQ(r->tp_note->desc_vaddr, kDescVaddr);
  EXPECT_EQ(n.abi_version, TP_ABI_VERSION);
  EXPECT_EQ(n.flags, TP_NOTE_FLAG_PRIVATE_HEAP);
  EXPECT_EQ(n.stack_size, 1u << 20);
  EXPECT_EQ(n.min_slot_size, 1ull << 32);
  EXPECT_EQ(n.fixed_slot, 3);
  EXPECT_EQ(n.exports_begin, 0x2000u);
  EXPECT_EQ(n.exports_end, 0x2000u + 48);
  EXPECT_EQ(n.name, "server");
}

TEST(TpNote, OrdinaryImageHasNoNote) {
  auto r = parse(ElfBuilder::minimal());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->slot_aware.has_value());
}

TEST(TpNote, RefusesNewerAbi) {
  uint32_t v = TP_ABI_VERSION + 1;
  EXPECT_EQ(refusal(with_desc(patched(valid_desc(), 0, &v, 4))),
            msg("its Threadprocs note is malformed: it was linked for a newer Threadprocs ABI than this one"));
}

TEST(TpNote, RefusesUnknownFlags) {
  uint32_t flags = 0x80;
  EXPECT_EQ(refusal(with_desc(patched(valid_desc(), 4, &flags, 4))),
            msg("its Threadprocs note is malformed: it sets flags this version does not know"));
}

TEST(TpNote, RefusesWrongSize) {
  auto desc = valid_desc();
  desc.resize(72);
  EXPECT_EQ(refusal(with_desc(desc)), msg("its Threadprocs note is malformed: the descriptor is not 80 bytes"));
}

TEST(TpNote, RefusesUnterminatedOrOddNames) {
  auto desc = valid_desc();
  std::memset(desc.data() + offsetof(tp_note_desc, name), 'a', TP_NOTE_NAME_MAX);
  EXPECT_EQ(refusal(with_desc(desc)),
            msg("its Threadprocs note is malformed: its program name is not NUL-terminated"));
  EXPECT_EQ(refusal(with_desc(valid_desc("a/b"))),
            msg("its Threadprocs note is malformed: its program name has a space, a slash or a control character"));
}

TEST(TpNote, RefusesNegativeFixedSlot) {
  EXPECT_EQ(refusal(with_desc(valid_desc("p", -2))), msg("its Threadprocs note is malformed: its fixed slot is negative"));
}

TEST(TpNote, RefusesExportTableOutsideTheImage) {
  // Past the end of the image (span ends at 0x4000).
  EXPECT_EQ(refusal(with_desc(valid_desc("p", -1, 0x10000, 0x10000 + 24))),
            msg("its Threadprocs note places the export table at [0x10414, 0x1042c), outside the image "
                "[0x0, 0x4000)"));
  // Offsets that wrap around the address space.
  EXPECT_NE(refusal(with_desc(valid_desc("p", -1, INT64_MIN, INT64_MIN + 24))), "<accepted>");
  // A length that is not a whole number of records.
  EXPECT_EQ(refusal(with_desc(valid_desc("p", -1, 0x100, 0x100 + 20))),
            msg("its Threadprocs note is malformed: its export table bounds are inconsistent"));
}

}  // namespace
}  // namespace tp::elf::testing

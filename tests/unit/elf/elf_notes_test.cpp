// PT_NOTE: finding the TPRC note and refusing malformed note segments.
#include <gtest/gtest.h>

#include "elf_builder.h"
#include "elf_test_helpers.h"
#include "threadprocs/abi.h"

namespace tp::elf::testing {
namespace {

// A well-formed descriptor (the reader decodes it: see tp_note_test.cpp).
const std::vector<uint8_t> kDesc = valid_desc();
// The descriptor of some other note.
const std::vector<uint8_t> kOther = {1, 2, 3, 4, 5, 6, 7, 8, 9};

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(ElfNoteValid, TpNoteAmongOthers) {
  auto b = ElfBuilder::minimal();
  b.add_notes(concat(make_note("GNU", NT_GNU_BUILD_ID, {0xaa, 0xbb, 0xcc, 0xdd}),
                     make_note(TP_NOTE_NAME, TP_NOTE_TYPE, kDesc)));
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->tp_note.has_value());
  EXPECT_EQ(r->tp_note->desc, kDesc);
}

TEST(ElfNoteValid, TpNoteInEightByteAlignedSegment) {
  auto b = ElfBuilder::minimal();
  b.add_notes(concat(make_note("GNU", NT_GNU_PROPERTY_TYPE_0, {1, 2, 3, 4, 5, 6, 7, 8}, 8),
                     make_note(TP_NOTE_NAME, TP_NOTE_TYPE, kDesc, 8)),
              0x400, 8);
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->tp_note.has_value());
  EXPECT_EQ(r->tp_note->desc, kDesc);
}

TEST(ElfNoteValid, SimilarNotesAreNotTheTpNote) {
  auto b = ElfBuilder::minimal();
  b.add_notes(concat(make_note(TP_NOTE_NAME, TP_NOTE_TYPE + 1, kDesc),
                     make_note("TPRCX", TP_NOTE_TYPE, kDesc)));
  b.add_notes(make_note("TPR", TP_NOTE_TYPE, kDesc), 0x500);
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->tp_note.has_value());
}

TEST(ElfNoteValid, PaddingAfterLastNoteMayBeCutOff) {
  auto b = ElfBuilder::minimal();
  auto notes = concat(make_note(TP_NOTE_NAME, TP_NOTE_TYPE, kDesc), make_note("XYZ", 1, {7, 7, 7}));
  notes.pop_back();  // the last descriptor's one byte of padding
  b.add_notes(notes);
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->tp_note.has_value());
  EXPECT_EQ(r->tp_note->desc, kDesc);
}

TEST(ElfNoteValid, EmptySegment) {
  auto b = ElfBuilder::minimal();
  b.add_notes({});
  EXPECT_EQ(refusal(b), "<accepted>");
}

TEST(ElfNoteRefusal, PastEndOfFile) {
  auto b = ElfBuilder::minimal();
  size_t i = b.add_notes(make_note("GNU", 1, kOther));
  b.phdrs[i].p_offset = 0x10f0;
  EXPECT_EQ(refusal(b), msg("p_offset + p_filesz (0x110c) of PT_NOTE 2 is past the end of the "
                            "file (0x1100 bytes)"));
}

TEST(ElfNoteRefusal, FileRangeOverflows) {
  auto b = ElfBuilder::minimal();
  size_t i = b.add_notes(make_note("GNU", 1, kOther));
  b.phdrs[i].p_offset = 0xfffffffffffffff0;
  EXPECT_EQ(refusal(b), msg("p_offset 0xfffffffffffffff0 + p_filesz 0x1c of PT_NOTE 2 "
                            "overflows"));
}

TEST(ElfNoteRefusal, SegmentTooLarge) {
  auto b = ElfBuilder::minimal();
  b.file_size = 0x101000;
  size_t i = b.add_notes(make_note("GNU", 1, kOther));
  b.phdrs[i].p_filesz = 0x100001;
  EXPECT_EQ(refusal(b), msg("PT_NOTE 2 is 0x100001 bytes, more than the limit of 0x100000"));
}

TEST(ElfNoteRefusal, UnsupportedAlignment) {
  auto b = ElfBuilder::minimal();
  b.add_notes(make_note("GNU", 1, kDesc), 0x400, 16);
  EXPECT_EQ(refusal(b), msg("p_align 0x10 of PT_NOTE 2 is not 4 or 8"));
}

TEST(ElfNoteRefusal, TruncatedHeader) {
  auto b = ElfBuilder::minimal();
  b.add_notes({4, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(refusal(b), msg("malformed note at offset 0x400 of PT_NOTE 2: 8 bytes left, less "
                            "than a 12-byte note header"));
}

TEST(ElfNoteRefusal, NamePastSegmentEnd) {
  auto b = ElfBuilder::minimal();
  auto note = make_note("GNU", 1, {});
  note[0] = 0xff;  // namesz 255
  b.add_notes(note);
  EXPECT_EQ(refusal(b), msg("malformed note at offset 0x400 of PT_NOTE 2: namesz 255 and "
                            "descsz 0 run past the end of the segment (0x10 bytes left)"));
}

TEST(ElfNoteRefusal, HugeSizesDoNotWrap) {
  auto b = ElfBuilder::minimal();
  auto note = make_note("GNU", 1, {});
  for (int k = 0; k < 8; ++k) note[k] = 0xff;  // namesz and descsz 0xffffffff
  b.add_notes(note);
  EXPECT_EQ(refusal(b), msg("malformed note at offset 0x400 of PT_NOTE 2: namesz 4294967295 "
                            "and descsz 4294967295 run past the end of the segment (0x10 "
                            "bytes left)"));
}

TEST(ElfNoteRefusal, DescriptorPastSegmentEnd) {
  auto b = ElfBuilder::minimal();
  auto note = make_note("GNU", 1, {1, 2, 3, 4});
  note[4] = 8;  // descsz 8, but the segment holds 4
  b.add_notes(note);
  EXPECT_EQ(refusal(b), msg("malformed note at offset 0x400 of PT_NOTE 2: namesz 4 and descsz "
                            "8 run past the end of the segment (0x14 bytes left)"));
}

TEST(ElfNoteRefusal, SecondNoteMalformed) {
  auto b = ElfBuilder::minimal();
  auto notes = make_note("GNU", 1, kOther);  // 0x1c bytes
  notes.insert(notes.end(), {1, 2, 3});
  b.add_notes(notes);
  EXPECT_EQ(refusal(b), msg("malformed note at offset 0x41c of PT_NOTE 2: 3 bytes left, less "
                            "than a 12-byte note header"));
}

TEST(ElfNoteRefusal, TwoTpNotes) {
  auto b = ElfBuilder::minimal();
  b.add_notes(make_note(TP_NOTE_NAME, TP_NOTE_TYPE, kDesc));
  b.add_notes(make_note(TP_NOTE_NAME, TP_NOTE_TYPE, kDesc), 0x500);
  EXPECT_EQ(refusal(b), msg("second TPRC note at offset 0x500 of PT_NOTE 3 (an image carries at "
                            "most one)"));
}

}  // namespace
}  // namespace tp::elf::testing

// The PT_LOAD rules: each segment alone, then against the one before it, then
// the span of the whole image.
#include <gtest/gtest.h>

#include "elf_builder.h"
#include "elf_test_helpers.h"

namespace tp::elf::testing {
namespace {

TEST(LoadSegmentRefusal, FileSizeLargerThanMemorySize) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_filesz = 0x3000;
  EXPECT_EQ(refusal(b), msg("p_filesz 0x3000 of PT_LOAD 1 is larger than its p_memsz 0x2000"));
}

TEST(LoadSegmentRefusal, FileRangeOverflows) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_offset = 0xffffffffffffff00;
  EXPECT_EQ(refusal(b),
            msg("p_offset 0xffffffffffffff00 + p_filesz 0x100 of PT_LOAD 1 overflows"));
}

TEST(LoadSegmentRefusal, FileRangePastEnd) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_filesz = 0x200;
  EXPECT_EQ(refusal(b), msg("p_offset + p_filesz (0x1200) of PT_LOAD 1 is past the end of the "
                            "file (0x1100 bytes)"));
}

// "PT_LOAD N" is the index in the program header table, not among PT_LOADs.
TEST(LoadSegmentRefusal, IndexIsProgramHeaderIndex) {
  auto b = ElfBuilder::minimal();
  b.phdrs.insert(b.phdrs.begin(), make_phdr(PT_NULL, 0, 0, 0, 0, 0, 0));
  b.phdrs[2].p_filesz = 0x200;
  EXPECT_EQ(refusal(b), msg("p_offset + p_filesz (0x1200) of PT_LOAD 2 is past the end of the "
                            "file (0x1100 bytes)"));
}

TEST(LoadSegmentRefusal, MemorySizeAboveLimit) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_memsz = 0x10000000001;
  EXPECT_EQ(refusal(b), msg("memory size 0x10000000001 of PT_LOAD 1 exceeds the limit of "
                            "0x10000000000 (1 TiB)"));
}

TEST(LoadSegmentRefusal, AddressRangeOverflows) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_vaddr = 0xfffffffffffff000;
  EXPECT_EQ(refusal(b),
            msg("p_vaddr 0xfffffffffffff000 + p_memsz 0x2000 of PT_LOAD 1 overflows"));
}

TEST(LoadSegmentRefusal, AboveUserAddressSpace) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_vaddr = 0x7ffffffff000;
  EXPECT_EQ(refusal(b), msg("PT_LOAD 1 [0x7ffffffff000, 0x800000001000) ends above the 47-bit "
                            "user address space (0x800000000000)"));
}

TEST(LoadSegmentRefusal, AlignmentNotPowerOfTwo) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_align = 0x3000;
  EXPECT_EQ(refusal(b), msg("p_align 0x3000 of PT_LOAD 0 is not a power of two"));
}

TEST(LoadSegmentRefusal, AlignmentAboveLimit) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_align = uint64_t{1} << 41;
  EXPECT_EQ(refusal(b), msg("p_align 0x20000000000 of PT_LOAD 0 exceeds the limit of "
                            "0x10000000000 (1 TiB)"));
}

TEST(LoadSegmentRefusal, NotPageCongruent) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_vaddr = 0x2010;
  EXPECT_EQ(refusal(b), msg("p_vaddr 0x2010 and p_offset 0x1000 of PT_LOAD 1 differ modulo "
                            "the page size (4096)"));
}

TEST(LoadSegmentRefusal, NotAscending) {
  auto b = ElfBuilder::minimal();
  std::swap(b.phdrs[0], b.phdrs[1]);
  EXPECT_EQ(refusal(b), msg("p_vaddr 0x0 of PT_LOAD 1 is below p_vaddr 0x2000 of the previous "
                            "PT_LOAD 0 (PT_LOADs must ascend)"));
}

TEST(LoadSegmentRefusal, Overlap) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_memsz = 0x2800;
  EXPECT_EQ(refusal(b), msg("PT_LOAD 1 [0x2000, 0x4000) overlaps PT_LOAD 0 [0x0, 0x2800)"));
}

TEST(LoadSegmentRefusal, SharedPageFromDifferentOffsets) {
  auto b = ElfBuilder::minimal();
  b.file_size = 0x2000;
  b.phdrs[0].p_filesz = b.phdrs[0].p_memsz = 0x800;
  b.phdrs[1] = make_phdr(PT_LOAD, PF_R | PF_W, 0x1c00, 0xc00, 0x100, 0x100, 0x1000);
  EXPECT_EQ(refusal(b), msg("PT_LOAD 0 and PT_LOAD 1 share the page at 0x0 but map it from "
                            "different file offsets (p_vaddr - p_offset 0x0 vs "
                            "0xfffffffffffff000)"));
}

TEST(LoadSegmentRefusal, SharedPageClearedByZeroFill) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_filesz = 0x400;
  b.phdrs[0].p_memsz = 0x800;
  b.phdrs[1] = make_phdr(PT_LOAD, PF_R | PF_W, 0xc00, 0xc00, 0x100, 0x100, 0x1000);
  EXPECT_EQ(refusal(b), msg("PT_LOAD 0 and PT_LOAD 1 share the page at 0x0 but the zero fill "
                            "of PT_LOAD 0 (p_filesz 0x400 < p_memsz 0x800) would clear it"));
}

TEST(LoadSegmentRefusal, NoLoadSegment) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_type = PT_NULL;
  b.phdrs[1].p_type = PT_NOTE + 0x100;  // an unknown type is ignored
  EXPECT_EQ(refusal(b), msg("has no non-empty PT_LOAD segment"));
}

TEST(LoadSegmentRefusal, OnlyEmptyLoadSegments) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_filesz = b.phdrs[0].p_memsz = 0;
  b.phdrs[1].p_filesz = b.phdrs[1].p_memsz = 0;
  EXPECT_EQ(refusal(b), msg("has no non-empty PT_LOAD segment"));
}

TEST(LoadSegmentRefusal, SpanAboveLimit) {
  auto b = ElfBuilder::minimal();
  b.phdrs[1].p_vaddr = 0x20000000000;  // 2 TiB above the first segment
  EXPECT_EQ(refusal(b), msg("the PT_LOAD segments span 0x20000002000 bytes [0x0, "
                            "0x20000002000), more than the limit of 0x10000000000 (1 TiB)"));
}

TEST(LoadSegmentValid, SharedPageFromSameOffsets) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_entry = 0x100;
  b.phdrs[0].p_filesz = b.phdrs[0].p_memsz = 0x800;
  b.phdrs[1] = make_phdr(PT_LOAD, PF_R | PF_W, 0xc00, 0xc00, 0x100, 0x1000, 0x1000);
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->span_start, 0u);
  EXPECT_EQ(r->span_end, 0x2000u);
}

TEST(LoadSegmentValid, EmptyLoadSegmentIsSkipped) {
  auto b = ElfBuilder::minimal();
  b.phdrs.insert(b.phdrs.begin() + 1, make_phdr(PT_LOAD, PF_R, 0, 0x100000, 0, 0, 0x1000));
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->loads.size(), 2u);
  EXPECT_EQ(r->span_end, 0x4000u);
}

TEST(LoadSegmentValid, UnalignedStartIsRoundedDown) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_offset = 0x40;
  b.phdrs[0].p_vaddr = 0x10040;
  b.phdrs[0].p_filesz = b.phdrs[0].p_memsz = 0xfc0;
  b.phdrs[1].p_vaddr = 0x12000;
  b.phdrs[1].p_memsz = 0x1001;
  b.ehdr.e_entry = 0x10800;
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->span_start, 0x10000u);
  EXPECT_EQ(r->span_end, 0x14000u);
  EXPECT_EQ(r->phdr_vaddr, 0x10040u);
}

}  // namespace
}  // namespace tp::elf::testing

// read_elf_image(): valid images, the ELF header, PT_INTERP, PT_PHDR, the
// entry point and PT_GNU_STACK. PT_LOAD and PT_NOTE have their own files.
#include "elf/elf_image.h"

#include <gtest/gtest.h>

#include "elf_builder.h"
#include "elf_test_helpers.h"

namespace tp::elf::testing {
namespace {

TEST(ElfImageValid, MinimalStaticPie) {
  auto r = parse(ElfBuilder::minimal());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ElfImage& img = *r;
  EXPECT_EQ(img.kind, ImageKind::kStaticPie);
  EXPECT_EQ(img.describe_kind(), "static PIE");
  EXPECT_EQ(img.entry, 0x800u);
  EXPECT_EQ(img.phdr_vaddr, 0x40u);
  EXPECT_EQ(img.phnum, 2u);
  ASSERT_EQ(img.loads.size(), 2u);
  EXPECT_EQ(img.loads[0].vaddr, 0u);
  EXPECT_EQ(img.loads[0].flags, uint32_t{PF_R | PF_X});
  EXPECT_EQ(img.loads[1].vaddr, 0x2000u);
  EXPECT_EQ(img.loads[1].offset, 0x1000u);
  EXPECT_EQ(img.loads[1].filesz, 0x100u);
  EXPECT_EQ(img.loads[1].memsz, 0x2000u);
  EXPECT_EQ(img.span_start, 0u);
  EXPECT_EQ(img.span_end, 0x4000u);
  EXPECT_EQ(img.max_align, 0x1000u);
  EXPECT_FALSE(img.interpreter.has_value());
  EXPECT_FALSE(img.exec_stack);
  EXPECT_FALSE(img.has_gnu_stack);
  EXPECT_FALSE(img.tp_note.has_value());
}

TEST(ElfImageValid, DynamicPieWithInterpreter) {
  auto b = ElfBuilder::minimal();
  b.add_interp(std::string_view("/lib64/ld-linux-x86-64.so.2\0", 28));
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kDynamicPie);
  EXPECT_EQ(r->describe_kind(), "dynamic PIE");
  EXPECT_EQ(r->interpreter, "/lib64/ld-linux-x86-64.so.2");
}

TEST(ElfImageValid, FixedAddressExecutable) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_type = ET_EXEC;
  b.ehdr.e_entry = 0x400800;
  b.phdrs[0].p_vaddr = 0x400000;
  b.phdrs[1].p_vaddr = 0x402000;
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kFixedExec);
  EXPECT_EQ(r->describe_kind(), "fixed-address executable (ET_EXEC)");
  EXPECT_EQ(r->span_start, 0x400000u);
  EXPECT_EQ(r->span_end, 0x404000u);
  EXPECT_EQ(r->phdr_vaddr, 0x400040u);
}

TEST(ElfImageValid, PtPhdrGivesPhdrAddress) {
  auto b = ElfBuilder::minimal();
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x40, 3 * 56, 3 * 56, 8));
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->phdr_vaddr, 0x40u);
  EXPECT_EQ(r->phnum, 3u);
}

TEST(ElfImageValid, GnuStackFlagsAreRecorded) {
  auto b = ElfBuilder::minimal();
  size_t i = b.add(make_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16));
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->has_gnu_stack);
  EXPECT_FALSE(r->exec_stack);
  b.phdrs[i].p_flags = PF_R | PF_W | PF_X;
  r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->exec_stack);
}

TEST(ElfImageValid, LargestAlignmentIsKept) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_align = 0x200000;
  auto r = parse(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->max_align, 0x200000u);
  EXPECT_EQ(r->loads[0].align, 0x200000u);
}

TEST(ElfImageValid, ElfMagic) {
  const uint8_t elf[] = {0x7f, 'E', 'L', 'F', 2};
  const uint8_t script[] = {'#', '!', '/', 'b'};
  EXPECT_TRUE(has_elf_magic(elf));
  EXPECT_FALSE(has_elf_magic(script));
  EXPECT_FALSE(has_elf_magic(std::span<const uint8_t>(elf, 3)));
  EXPECT_FALSE(has_elf_magic({}));
}

// --- The ELF header -------------------------------------------------------

TEST(ElfHeaderRefusal, EmptyFile) {
  EXPECT_EQ(refusal(std::vector<uint8_t>{}), msg("not an ELF file (no \\x7fELF magic)"));
}

TEST(ElfHeaderRefusal, Script) {
  std::string text = "#!/bin/sh\necho hi\n";
  EXPECT_EQ(refusal(std::vector<uint8_t>(text.begin(), text.end())),
            msg("not an ELF file (no \\x7fELF magic)"));
}

TEST(ElfHeaderRefusal, FileShorterThanHeader) {
  auto bytes = ElfBuilder::minimal().build();
  bytes.resize(20);
  EXPECT_EQ(refusal(bytes), msg("file is too small for an ELF header (20 bytes, need 64)"));
}

TEST(ElfHeaderRefusal, Class32) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_EQ(refusal(b), msg("ELF class 1 (32-bit) is not supported"));
}

TEST(ElfHeaderRefusal, ClassInvalid) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ident[EI_CLASS] = 7;
  EXPECT_EQ(refusal(b), msg("ELF class 7 is invalid (expected 2, 64-bit)"));
}

TEST(ElfHeaderRefusal, BigEndian) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ident[EI_DATA] = ELFDATA2MSB;
  EXPECT_EQ(refusal(b), msg("big-endian ELF (EI_DATA 2) is not supported"));
}

TEST(ElfHeaderRefusal, DataInvalid) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ident[EI_DATA] = 0;
  EXPECT_EQ(refusal(b), msg("EI_DATA 0 is invalid (expected 1, little-endian)"));
}

TEST(ElfHeaderRefusal, IdentVersion) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ident[EI_VERSION] = 2;
  EXPECT_EQ(refusal(b), msg("EI_VERSION 2 is not EV_CURRENT (1)"));
}

TEST(ElfHeaderRefusal, HeaderVersion) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_version = 0;
  EXPECT_EQ(refusal(b), msg("e_version 0 is not EV_CURRENT (1)"));
}

TEST(ElfHeaderRefusal, RelocatableObject) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_type = ET_REL;
  EXPECT_EQ(refusal(b), msg("is a relocatable object (ET_REL), not an executable"));
}

TEST(ElfHeaderRefusal, CoreDump) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_type = ET_CORE;
  EXPECT_EQ(refusal(b), msg("is a core dump (ET_CORE), not an executable"));
}

TEST(ElfHeaderRefusal, UnknownType) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_type = 0xfe00;
  EXPECT_EQ(refusal(b), msg("e_type 65024 is not an executable type (ET_EXEC or ET_DYN)"));
}

TEST(ElfHeaderRefusal, OtherMachine) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_machine = EM_AARCH64;
  EXPECT_EQ(refusal(b), msg("e_machine 183 (AArch64) is not x86-64 (62)"));
  b.ehdr.e_machine = 9999;
  EXPECT_EQ(refusal(b), msg("e_machine 9999 is not x86-64 (62)"));
}

TEST(ElfHeaderRefusal, HeaderSizeTooSmall) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_ehsize = 52;
  EXPECT_EQ(refusal(b), msg("e_ehsize 52 is smaller than an ELF64 header (64 bytes)"));
}

TEST(ElfHeaderRefusal, ProgramHeaderEntrySize) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_phentsize = 32;
  EXPECT_EQ(refusal(b), msg("e_phentsize 32 is not the size of an ELF64 program header (56)"));
}

TEST(ElfHeaderRefusal, NoProgramHeaders) {
  auto b = ElfBuilder::minimal();
  b.phnum_override = 0;
  EXPECT_EQ(refusal(b), msg("has no program headers (e_phnum 0)"));
}

TEST(ElfHeaderRefusal, ExtendedNumbering) {
  auto b = ElfBuilder::minimal();
  b.phnum_override = PN_XNUM;
  EXPECT_EQ(refusal(b), msg("e_phnum 0xffff (PN_XNUM, extended numbering) is not supported"));
}

TEST(ElfHeaderRefusal, TooManyProgramHeaders) {
  auto b = ElfBuilder::minimal();
  b.phnum_override = 1171;
  EXPECT_EQ(refusal(b), msg("e_phnum 1171 exceeds the limit of 1170 program headers (64 KiB)"));
}

TEST(ElfHeaderRefusal, ProgramHeaderOffsetOverflows) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_phoff = 0xffffffffffffffc0;
  EXPECT_EQ(refusal(b),
            msg("e_phoff 0xffffffffffffffc0 + 112 bytes of program headers overflows"));
}

TEST(ElfHeaderRefusal, ProgramHeadersPastEnd) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_phoff = 0x10d0;
  EXPECT_EQ(refusal(b),
            msg("program headers [0x10d0, 0x1140) are past the end of the file (0x1100 bytes)"));
}

// --- Entry point ----------------------------------------------------------

TEST(ElfEntryRefusal, EntryOutsideEverySegment) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_entry = 0x1000;  // the gap between the two PT_LOADs
  EXPECT_EQ(refusal(b), msg("entry 0x1000 is not inside an executable segment"));
}

TEST(ElfEntryRefusal, EntryInDataSegment) {
  auto b = ElfBuilder::minimal();
  b.ehdr.e_entry = 0x2010;
  EXPECT_EQ(refusal(b), msg("entry 0x2010 is not inside an executable segment"));
}

// --- PT_INTERP ------------------------------------------------------------

TEST(ElfInterpRefusal, TwoInterpreters) {
  auto b = ElfBuilder::minimal();
  b.add_interp(std::string_view("/lib/ld.so\0", 11));
  b.add_interp(std::string_view("/lib/ld.so\0", 11), 0x340);
  EXPECT_EQ(refusal(b), msg("more than one PT_INTERP (program headers 2 and 3)"));
}

TEST(ElfInterpRefusal, PastEndOfFile) {
  auto b = ElfBuilder::minimal();
  size_t i = b.add_interp(std::string_view("/lib/ld.so\0", 11));
  b.phdrs[i].p_offset = 0x10fa;
  EXPECT_EQ(refusal(b),
            msg("p_offset + p_filesz (0x1105) of PT_INTERP is past the end of the file "
                "(0x1100 bytes)"));
}

TEST(ElfInterpRefusal, OffsetOverflows) {
  auto b = ElfBuilder::minimal();
  size_t i = b.add_interp(std::string_view("/lib/ld.so\0", 11));
  b.phdrs[i].p_offset = 0xfffffffffffffffa;
  EXPECT_EQ(refusal(b),
            msg("p_offset 0xfffffffffffffffa + p_filesz 0xb of PT_INTERP overflows"));
}

TEST(ElfInterpRefusal, TooShort) {
  auto b = ElfBuilder::minimal();
  b.add_interp(std::string_view("\0", 1));
  EXPECT_EQ(refusal(b), msg("PT_INTERP size 1 is not between 2 and 4096 bytes"));
}

TEST(ElfInterpRefusal, TooLong) {
  auto b = ElfBuilder::minimal();
  b.file_size = 0x3000;
  size_t i = b.add_interp(std::string_view("/\0", 2));
  b.phdrs[i].p_filesz = 4097;
  EXPECT_EQ(refusal(b), msg("PT_INTERP size 4097 is not between 2 and 4096 bytes"));
}

TEST(ElfInterpRefusal, NotNulTerminated) {
  auto b = ElfBuilder::minimal();
  b.add_interp("/lib/ld.so");
  EXPECT_EQ(refusal(b), msg("PT_INTERP \"/lib/ld.so\" is not NUL-terminated"));
}

TEST(ElfInterpRefusal, EmbeddedNul) {
  auto b = ElfBuilder::minimal();
  b.add_interp(std::string_view("/lib\0/ld.so\0", 12));
  EXPECT_EQ(refusal(b), msg("PT_INTERP \"/lib\\x00/ld.so\" has a NUL at byte 4 before its end"));
}

TEST(ElfInterpRefusal, RelativePath) {
  auto b = ElfBuilder::minimal();
  b.add_interp(std::string_view("ld\n.so\0", 7));
  EXPECT_EQ(refusal(b), msg("PT_INTERP \"ld\\x0a.so\" is not an absolute path"));
}

// --- Where the program headers are mapped ---------------------------------

TEST(ElfPhdrRefusal, TwoPtPhdr) {
  auto b = ElfBuilder::minimal();
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x40, 4 * 56, 4 * 56, 8));
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x40, 4 * 56, 4 * 56, 8));
  EXPECT_EQ(refusal(b), msg("more than one PT_PHDR (program headers 2 and 3)"));
}

TEST(ElfPhdrRefusal, PtPhdrOutsideLoads) {
  auto b = ElfBuilder::minimal();
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x9000, 3 * 56, 3 * 56, 8));
  EXPECT_EQ(refusal(b),
            msg("PT_PHDR at 0x9000 (168 bytes) is not inside the file-backed part of any "
                "PT_LOAD"));
}

TEST(ElfPhdrRefusal, PtPhdrInZeroFilledPart) {
  auto b = ElfBuilder::minimal();
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x2800, 3 * 56, 3 * 56, 8));
  EXPECT_EQ(refusal(b),
            msg("PT_PHDR at 0x2800 (168 bytes) is not inside the file-backed part of any "
                "PT_LOAD"));
}

TEST(ElfPhdrRefusal, PtPhdrMapsOtherBytes) {
  auto b = ElfBuilder::minimal();
  b.add(make_phdr(PT_PHDR, PF_R, 0x40, 0x80, 3 * 56, 3 * 56, 8));
  EXPECT_EQ(refusal(b),
            msg("PT_PHDR at 0x80 maps file offset 0x80, not the program headers at e_phoff "
                "0x40"));
}

TEST(ElfPhdrRefusal, ProgramHeadersNotLoaded) {
  auto b = ElfBuilder::minimal();
  b.phdrs[0].p_filesz = 0x800;  // the table at 0x900 is in the file but not mapped
  b.ehdr.e_phoff = 0x900;
  EXPECT_EQ(refusal(b), msg("program headers [0x900, 0x970) are not inside any PT_LOAD"));
}

}  // namespace
}  // namespace tp::elf::testing

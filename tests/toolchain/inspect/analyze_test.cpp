// Unit tests of tp_inspect_core's analysis: the images of images/ as built,
// and copies patched in memory to reach each refusal.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "inspect.h"
#include "test_files.h"
#include "threadprocs/abi.h"

namespace tp::inspect {
namespace {

using testing::contains;
using testing::find_tp_note;
using testing::get;
using testing::image_path;
using testing::inspect_path;
using testing::put;
using testing::read_bytes;

const Export* find_export(const Report& r, const std::string& name) {
  for (const Export& e : r.exports)
    if (e.name == name) return &e;
  return nullptr;
}

// The two exports of exports.c, well-formed and inside the image.
void expect_test_exports(const Report& r) {
  ASSERT_EQ(r.exports.size(), 2u);
  const Export* counter = find_export(r, "counter");
  const Export* message = find_export(r, "message");
  ASSERT_NE(counter, nullptr);
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(counter->size, 4u);
  EXPECT_EQ(message->size, 64u);
  for (const Export* e : {counter, message}) {
    EXPECT_EQ(e->problem, "") << e->name;
    ASSERT_TRUE(r.load_range);
    EXPECT_GE(e->address, r.load_range->first);
    EXPECT_LT(e->address, r.load_range->second);
  }
  // Two distinct objects that do not overlap.
  EXPECT_TRUE(message->address + 64 <= counter->address || counter->address + 4 <= message->address);
}

// ---------------------------------------------------------------------------
// The images as linked

TEST(InspectImages, SlotAwareDynamicPie) {
  Report r = inspect_path("slot_aware");
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  EXPECT_TRUE(r.loadable());
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.e_type, ET_DYN);
  EXPECT_TRUE(r.pie_flag);
  EXPECT_EQ(r.interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_NE(std::find(r.needed.begin(), r.needed.end(), "libc.so.6"), r.needed.end());
  EXPECT_FALSE(r.textrel);
  ASSERT_TRUE(r.load_range);
  EXPECT_EQ(r.load_range->first, 0u);
  ASSERT_TRUE(r.note);
  EXPECT_EQ(r.note->abi_version, 1u);
  EXPECT_EQ(r.note->name, "hello");
  EXPECT_EQ(display_name(*r.note), "hello");
  EXPECT_EQ(r.note->flags, 0u);
  EXPECT_EQ(r.note->stack_size, 0u);
  EXPECT_EQ(r.note->min_slot_size, 0u);
  EXPECT_EQ(r.note->fixed_slot, TP_NOTE_ANY_SLOT);
  EXPECT_FALSE(r.note->fixed);
  expect_test_exports(r);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
}

TEST(InspectImages, SlotAwareStaticPie) {
  Report r = inspect_path("slot_aware_static");
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  EXPECT_FALSE(r.interpreter);
  EXPECT_TRUE(r.needed.empty());
  EXPECT_TRUE(r.has_dynamic);
  ASSERT_TRUE(r.note);
  EXPECT_EQ(r.note->name, "hello");
  expect_test_exports(r);
}

TEST(InspectImages, SlotAwareLinkedForSlot3) {
  Report r = inspect_path("slot_aware_slot3");
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  ASSERT_TRUE(r.note);
  EXPECT_EQ(r.note->name, "slot3");
  EXPECT_EQ(r.note->fixed_slot, 3);
  ASSERT_TRUE(r.note->fixed);
  const FixedSlot& f = *r.note->fixed;
  EXPECT_EQ(f.slot, 3);
  EXPECT_TRUE(f.in_default_arena);
  EXPECT_EQ(f.slot_image_address, TP_DEFAULT_ARENA_BASE + 3 * TP_DEFAULT_SLOT_SIZE + (2u << 20));
  EXPECT_EQ(f.slot_image_address, 0x203000200000u);
  EXPECT_EQ(f.link_address, 0x203000200000u);
  EXPECT_TRUE(f.at_slot_address);
  EXPECT_EQ(r.entry >> 20, 0x203000200000u >> 20);
  expect_test_exports(r);
  for (const Export& e : r.exports) EXPECT_GE(e.address, 0x203000200000u);
}

TEST(InspectImages, SlotAwareAskingForSlot3ButLinkedAtZero) {
  Report r = inspect_path("slot_aware_slot3_unplaced");
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  ASSERT_TRUE(r.note && r.note->fixed);
  EXPECT_EQ(r.note->fixed->link_address, 0u);
  EXPECT_EQ(r.note->fixed->slot_image_address, 0x203000200000u);
  EXPECT_FALSE(r.note->fixed->at_slot_address);
}

// --apply-dynamic-relocs writes the link-time values into the file as well;
// RELR leaves only them (no RELA entry): both read from the file's bytes.
TEST(InspectImages, ExportPointersFromTheFileBytes) {
  Report plain = inspect_path("slot_aware");
  for (const char* name : {"slot_aware_applied", "slot_aware_relr"}) {
    SCOPED_TRACE(name);
    Report r = inspect_path(name);
    EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
    expect_test_exports(r);
  }
  Report applied = inspect_path("slot_aware_applied");
  ASSERT_EQ(applied.exports.size(), plain.exports.size());
  for (size_t i = 0; i < plain.exports.size(); ++i) {
    EXPECT_EQ(applied.exports[i].name, plain.exports[i].name);
    EXPECT_EQ(applied.exports[i].address, plain.exports[i].address);
  }
}

TEST(InspectImages, EveryNoteField) {
  Report r = inspect_path("slot_aware_fields");
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  ASSERT_TRUE(r.note);
  EXPECT_EQ(r.note->name, "");
  EXPECT_EQ(display_name(*r.note), "(file name)");
  EXPECT_EQ(r.note->flags, TP_NOTE_FLAG_PRIVATE_HEAP);
  EXPECT_EQ(flag_names(r.note->flags), std::vector<std::string>{"private-heap"});
  EXPECT_EQ(r.note->stack_size, 8u << 20);
  EXPECT_EQ(r.note->min_slot_size, 1u << 30);
  EXPECT_TRUE(r.exports.empty());
  EXPECT_TRUE(r.warnings.empty());
}

TEST(InspectImages, OrdinaryImages) {
  Report pie = inspect_path("ordinary_pie");
  EXPECT_EQ(pie.cls, Class::kOrdinaryPie) << pie.reason;
  EXPECT_TRUE(pie.interpreter);
  EXPECT_FALSE(pie.note);

  Report spie = inspect_path("static_pie");
  EXPECT_EQ(spie.cls, Class::kStaticPie) << spie.reason;
  EXPECT_FALSE(spie.interpreter);
  EXPECT_TRUE(spie.needed.empty());

  Report exec = inspect_path("fixed_exec");
  EXPECT_EQ(exec.cls, Class::kFixedExec) << exec.reason;
  EXPECT_TRUE(exec.loadable());
  EXPECT_EQ(exec.e_type, ET_EXEC);
  ASSERT_TRUE(exec.load_range);
  EXPECT_GT(exec.load_range->first, 0u);  // a fixed link address
  EXPECT_GE(exec.entry, exec.load_range->first);
}

TEST(InspectImages, NotLoadable) {
  struct Case {
    const char* file;
    const char* reason;
  } cases[] = {
      {"libinspect_library.so", "a shared library (ET_DYN with no entry point and no DF_1_PIE"},
      {"object.o", "a relocatable object (ET_REL)"},
      {"text.txt", "not an ELF file"},
      {"empty", "empty file"},
      {"truncated", "truncated: PT_LOAD"},
      {"bad_abi", "bad TPRC note: it was linked for a newer Threadprocs ABI than this one"},
      {"bad_name", "bad TPRC note: its program name is not NUL-terminated"},
      {"two_notes", "bad TPRC note: a second TPRC note"},
      {"textrel", "text relocations (DT_TEXTREL)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Report r = inspect_path(c.file);
    EXPECT_EQ(r.cls, Class::kNotLoadable);
    EXPECT_FALSE(r.loadable());
    EXPECT_TRUE(contains(r.reason, c.reason)) << r.reason;
    EXPECT_FALSE(r.note);
  }
  EXPECT_TRUE(inspect_path("textrel").textrel);
  EXPECT_EQ(inspect_path("libinspect_library.so").soname, "libinspect_library.so");
}

// ld.so is a shared library that is also a program (an entry point, no
// DF_1_PIE): run like a static-PIE, with a warning.
TEST(InspectImages, LibraryWithAnEntryPoint) {
  const std::string ldso = "/lib64/ld-linux-x86-64.so.2";
  std::vector<uint8_t> bytes;
  try {
    bytes = read_bytes(ldso);
  } catch (const std::exception&) {
    GTEST_SKIP() << "no " << ldso;
  }
  Report r = inspect_image(ldso, bytes);
  EXPECT_EQ(r.cls, Class::kStaticPie) << r.reason;
  EXPECT_FALSE(r.pie_flag);
  ASSERT_TRUE(r.soname);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0], "a shared library (DT_SONAME")) << r.warnings[0];
}

// Cutting only the section table off leaves a loadable image and a warning.
TEST(InspectImages, TruncatedSectionTableIsAWarning) {
  Report r = inspect_path("truncated_tail");
  EXPECT_EQ(r.cls, Class::kOrdinaryPie) << r.reason;
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0], "section header")) << r.warnings[0];
}

TEST(InspectFile, ReadErrorsAreValues) {
  Inspection missing = inspect_file(image_path("no-such-file"));
  ASSERT_TRUE(std::holds_alternative<FileError>(missing));
  EXPECT_EQ(std::get<FileError>(missing).file, image_path("no-such-file"));
  EXPECT_EQ(std::get<FileError>(missing).message, "No such file or directory");

  Inspection dir = inspect_file(TP_INSPECT_IMAGES_DIR);
  ASSERT_TRUE(std::holds_alternative<FileError>(dir));
  EXPECT_EQ(std::get<FileError>(dir).message, "Is a directory");

  Inspection ok = inspect_file(image_path("slot_aware"));
  ASSERT_TRUE(std::holds_alternative<Report>(ok));
  EXPECT_EQ(std::get<Report>(ok).cls, Class::kSlotAware);
}

// ---------------------------------------------------------------------------
// Patched copies

class Patched : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes = read_bytes(image_path("slot_aware"));
    note = find_tp_note(bytes);
    ASSERT_NE(note, SIZE_MAX);
    desc = note + testing::kDescFromNote;
  }
  Report inspect() const { return inspect_image("patched", bytes); }
  // The reason the runtime and the tool share for this descriptor.
  std::string desc_problem() const {
    const char* p = tp_note_desc_problem(bytes.data() + desc, TP_NOTE_DESC_SIZE);
    return p ? p : "";
  }
  Elf64_Ehdr ehdr() const { return get<Elf64_Ehdr>(bytes, 0); }
  size_t phdr_offset(uint32_t type) const {
    const Elf64_Ehdr eh = ehdr();
    for (size_t i = 0; i < eh.e_phnum; ++i) {
      const size_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
      if (get<Elf64_Phdr>(bytes, at).p_type == type) return at;
    }
    return SIZE_MAX;
  }

  std::vector<uint8_t> bytes;
  size_t note = 0, desc = 0;
};

TEST_F(Patched, HeaderRefusals) {
  struct Case {
    size_t offset;
    uint8_t value;
    const char* reason;
  } cases[] = {
      {EI_CLASS, ELFCLASS32, "a 32-bit ELF file (ELFCLASS32)"},
      {EI_CLASS, 7, "invalid ELF class 7"},
      {EI_DATA, ELFDATA2MSB, "a big-endian ELF file"},
      {EI_VERSION, 0, "EI_VERSION 0 is not EV_CURRENT"},
      {offsetof(Elf64_Ehdr, e_type), ET_CORE, "a core file (ET_CORE)"},
      {offsetof(Elf64_Ehdr, e_type), ET_REL, "a relocatable object"},
      {offsetof(Elf64_Ehdr, e_type), 9, "e_type 9 is not an executable type"},
      {offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, "e_machine 183 (AArch64), not x86-64"},
      {offsetof(Elf64_Ehdr, e_phentsize), 32, "e_phentsize 32"},
  };
  const std::vector<uint8_t> original = bytes;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    bytes = original;
    bytes[c.offset] = c.value;
    Report r = inspect();
    EXPECT_EQ(r.cls, Class::kNotLoadable);
    EXPECT_TRUE(contains(r.reason, c.reason)) << r.reason;
  }
}

TEST_F(Patched, ShortFiles) {
  for (size_t size : {size_t{1}, size_t{4}, size_t{15}, size_t{16}, size_t{63}}) {
    SCOPED_TRACE(size);
    Report r = inspect_image("short", std::span(bytes).first(size));
    EXPECT_EQ(r.cls, Class::kNotLoadable);
    EXPECT_TRUE(contains(r.reason, "truncated") || contains(r.reason, "not an ELF"))
        << r.reason;
  }
}

TEST_F(Patched, ProgramHeadersPastTheEnd) {
  put<uint64_t>(bytes, offsetof(Elf64_Ehdr, e_phoff), bytes.size() - 8);
  EXPECT_TRUE(contains(inspect().reason, "truncated: the program headers")) << inspect().reason;
  put<uint64_t>(bytes, offsetof(Elf64_Ehdr, e_phoff), ~uint64_t{0} - 8);  // overflows
  EXPECT_TRUE(contains(inspect().reason, "truncated: the program headers")) << inspect().reason;
}

TEST_F(Patched, EntryOutsideExecutableSegment) {
  put<uint64_t>(bytes, offsetof(Elf64_Ehdr, e_entry), 0x10);  // in the R-only first PT_LOAD
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kNotLoadable);
  EXPECT_EQ(r.reason, "entry 0x10 is not inside an executable segment");
}

TEST_F(Patched, LoadSegmentChecks) {
  const size_t load = phdr_offset(PT_LOAD);
  ASSERT_NE(load, SIZE_MAX);
  const std::vector<uint8_t> original = bytes;
  put<uint64_t>(bytes, load + offsetof(Elf64_Phdr, p_filesz), 0x100000);
  EXPECT_TRUE(contains(inspect().reason, "p_filesz 0x100000 is larger than p_memsz"))
      << inspect().reason;
  bytes = original;
  put<uint64_t>(bytes, load + offsetof(Elf64_Phdr, p_vaddr), 0x123);
  EXPECT_TRUE(contains(inspect().reason, "differ modulo the page size")) << inspect().reason;
  bytes = original;
  put<uint64_t>(bytes, load + offsetof(Elf64_Phdr, p_align), 0x3000);
  EXPECT_TRUE(contains(inspect().reason, "is not a power of two")) << inspect().reason;
}

// Every problem tp_note_desc_problem() knows is reported with its words.
TEST_F(Patched, BadNoteDescriptors) {
  const std::vector<uint8_t> original = bytes;
  auto expect_bad = [&](const char* what) {
    SCOPED_TRACE(what);
    Report r = inspect();
    const std::string problem = desc_problem();
    ASSERT_NE(problem, "");
    EXPECT_EQ(r.cls, Class::kNotLoadable);
    EXPECT_EQ(r.reason, "bad TPRC note: " + problem);
    bytes = original;
  };
  put<uint32_t>(bytes, desc + testing::kAbiVersion, 0);
  expect_bad("abi 0");
  put<uint32_t>(bytes, desc + testing::kFlags, 2);
  expect_bad("unknown flag");
  put<int32_t>(bytes, desc + testing::kFixedSlot, -2);
  expect_bad("negative slot");
  put<uint32_t>(bytes, desc + testing::kReserved, 1);
  expect_bad("reserved");
  put<uint64_t>(bytes, desc + testing::kMinSlotSize, 4097);
  expect_bad("min slot size");
  put<uint64_t>(bytes, desc + testing::kStackSize, (1ull << 40) + 1);
  expect_bad("stack size");
  put<int64_t>(bytes, desc + testing::kExportsEnd,
               get<int64_t>(bytes, desc + testing::kExportsBegin) + 25);
  expect_bad("export bounds");
  bytes[desc + testing::kName] = ' ';
  expect_bad("name with a space");
  bytes[desc + testing::kName + 1] = '/';
  expect_bad("name with a slash");
  put<uint32_t>(bytes, note + 4, 81);  // descsz: also runs into the next note
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kNotLoadable);
}

TEST_F(Patched, MalformedNoteSegment) {
  put<uint32_t>(bytes, note, 0x7fffffff);  // namesz far past the segment
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kNotLoadable);
  EXPECT_TRUE(contains(r.reason, "malformed note at offset")) << r.reason;
  EXPECT_TRUE(contains(r.reason, "run past the end of the segment")) << r.reason;
}

TEST_F(Patched, FixedSlotOutsideTheDefaultArena) {
  put<int32_t>(bytes, desc + testing::kFixedSlot, TP_DEFAULT_SLOT_COUNT);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  ASSERT_TRUE(r.note && r.note->fixed);
  EXPECT_FALSE(r.note->fixed->in_default_arena);
  EXPECT_FALSE(r.note->fixed->at_slot_address);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0], "does not exist in the default arena")) << r.warnings[0];
}

TEST_F(Patched, LargeMinimumSlotIsAWarning) {
  put<uint64_t>(bytes, desc + testing::kMinSlotSize, TP_DEFAULT_SLOT_SIZE * 2);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0], "larger than the default arena's")) << r.warnings[0];
}

// As the runtime: an export table outside the image's span refuses the image.
TEST_F(Patched, ExportTableOutsideTheImage) {
  put<int64_t>(bytes, desc + testing::kExportsBegin, int64_t{1} << 40);
  put<int64_t>(bytes, desc + testing::kExportsEnd, (int64_t{1} << 40) + 48);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kNotLoadable);
  EXPECT_TRUE(contains(r.reason, "bad TPRC note: it places the export table at [0x"))
      << r.reason;
  EXPECT_TRUE(contains(r.reason, "outside the image [0x0, 0x")) << r.reason;
  EXPECT_FALSE(r.note);
  EXPECT_TRUE(r.exports.empty());
  // Wrapping around: end below begin.
  put<int64_t>(bytes, desc + testing::kExportsBegin, 48);
  put<int64_t>(bytes, desc + testing::kExportsEnd, -48);
  EXPECT_EQ(inspect().cls, Class::kNotLoadable);
}

// Inside the span but in no PT_LOAD's file bytes (the gap after the first,
// read-only one): loadable, the records cannot be read, a warning says so.
TEST_F(Patched, ExportTableNotInTheFile) {
  const Report before = inspect();
  ASSERT_TRUE(before.note);
  const Elf64_Phdr first_load = get<Elf64_Phdr>(bytes, phdr_offset(PT_LOAD));
  const uint64_t gap = first_load.p_vaddr + first_load.p_memsz + 8;
  const int64_t rel = static_cast<int64_t>(gap - before.note->descriptor_address);
  put<int64_t>(bytes, desc + testing::kExportsBegin, rel);
  put<int64_t>(bytes, desc + testing::kExportsEnd, rel + 48);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kSlotAware) << r.reason;
  EXPECT_TRUE(r.exports.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_TRUE(contains(r.warnings[0], "is not inside the file-backed part of one PT_LOAD"))
      << r.warnings[0];
}

// One record's name pointer cleared, in the relocation (its addend) and the file.
TEST_F(Patched, BadExportRecord) {
  Report before = inspect();
  ASSERT_EQ(before.exports.size(), 2u);
  const uint64_t name_field = before.exports[0].record_address;
  // .rela.dyn: find the R_X86_64_RELATIVE entry for that field and point it at 0.
  bool patched = false;
  for (size_t at = 0; at + sizeof(Elf64_Rela) <= bytes.size(); at += 8) {
    Elf64_Rela rela = get<Elf64_Rela>(bytes, at);
    if (rela.r_offset == name_field && rela.r_info == R_X86_64_RELATIVE &&
        static_cast<uint64_t>(rela.r_addend) == before.exports[0].name_address) {
      rela.r_addend = 0;
      put(bytes, at, rela);
      patched = true;
      break;
    }
  }
  ASSERT_TRUE(patched);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kSlotAware);
  ASSERT_EQ(r.exports.size(), 2u);
  EXPECT_EQ(r.exports[0].problem, "its name pointer is null");
  EXPECT_EQ(r.exports[1].problem, "");
}

TEST_F(Patched, WithoutInterpreterItIsStatic) {
  bytes = read_bytes(image_path("ordinary_pie"));
  const size_t interp = phdr_offset(PT_INTERP);
  ASSERT_NE(interp, SIZE_MAX);
  put<uint32_t>(bytes, interp, PT_NULL);
  Report r = inspect();
  EXPECT_EQ(r.cls, Class::kStaticPie) << r.reason;
  // ... and without PT_DYNAMIC either, nothing would relocate it.
  put<uint32_t>(bytes, phdr_offset(PT_DYNAMIC), PT_NULL);
  r = inspect();
  EXPECT_EQ(r.cls, Class::kNotLoadable);
  EXPECT_TRUE(contains(r.reason, "neither PT_INTERP nor PT_DYNAMIC")) << r.reason;
}

// Every prefix and thousands of random corruptions: always a report, never a
// crash (the sanitizer build checks every access).
TEST_F(Patched, AnyBytesGiveAReport) {
  for (const char* name : {"slot_aware", "slot_aware_static"}) {
    const std::vector<uint8_t> original = read_bytes(image_path(name));
    const size_t step = std::max<size_t>(1, original.size() / 3000);
    for (size_t size = 0; size <= original.size(); size += step) {
      Report r = inspect_image(name, std::span(original).first(size));
      EXPECT_EQ(r.loadable(), r.reason.empty());
    }
    std::mt19937_64 rng(42);
    // Corrupt the headers, notes and data the analysis reads (the first pages).
    const size_t hot = std::min<size_t>(original.size(), 0x4000);
    for (int round = 0; round < 3000; ++round) {
      std::vector<uint8_t> b = original;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) b[rng() % hot] = static_cast<uint8_t>(rng());
      Report r = inspect_image(name, b);
      EXPECT_EQ(r.loadable(), r.reason.empty());
    }
  }
}

}  // namespace
}  // namespace tp::inspect

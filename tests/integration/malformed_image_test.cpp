// Malformed images: a corpus of crafted files, generated into the test's temp dir, each
// refused by tp-run with its own exit code (126 found but not runnable, 127 not found, 125
// for an image too large for the space's slots), nothing on stdout and "tp-run: " lines on
// stderr that name the bad file and say why. In a named space the host logs every refusal
// it made, keeps serving, and holds exactly the descriptors, mappings and threads it held
// before.
//
// The files are made from two bases: `tiny`, a 13-instruction static PIE written here byte by
// byte (so every field is known), and the real tests/programs/hello (a dynamic PIE with
// PT_INTERP and PT_PHDR). Each case breaks one thing. The unbroken bases run (natively and
// through tp-run), so a refusal is the broken field's doing.
#include <elf.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <sstream>

#include "fixture.h"

namespace tpit {
namespace {


// --- The bytes of an ELF file, with typed access to its header and program headers ---------

class ElfBytes {
 public:
  explicit ElfBytes(std::string bytes) : bytes_(std::move(bytes)) {}

  Elf64_Ehdr ehdr() const {
    Elf64_Ehdr header{};
    std::memcpy(&header, bytes_.data(), std::min(bytes_.size(), sizeof header));
    return header;
  }
  ElfBytes& edit_ehdr(const std::function<void(Elf64_Ehdr&)>& edit) {
    Elf64_Ehdr header = ehdr();
    edit(header);
    std::memcpy(bytes_.data(), &header, sizeof header);
    return *this;
  }
  size_t phnum() const { return ehdr().e_phnum; }
  Elf64_Phdr phdr(size_t index) const {
    Elf64_Phdr header{};
    std::memcpy(&header, bytes_.data() + ehdr().e_phoff + index * sizeof header, sizeof header);
    return header;
  }
  ElfBytes& edit_phdr(size_t index, const std::function<void(Elf64_Phdr&)>& edit) {
    Elf64_Phdr header = phdr(index);
    edit(header);
    std::memcpy(bytes_.data() + ehdr().e_phoff + index * sizeof header, &header, sizeof header);
    return *this;
  }
  // Indexes of the program headers of `type`, in table order.
  std::vector<size_t> of_type(uint32_t type) const {
    std::vector<size_t> found;
    for (size_t i = 0; i < phnum(); ++i)
      if (phdr(i).p_type == type)
        found.push_back(i);
    return found;
  }
  // Appends `data` at the end of the file; returns its offset.
  uint64_t append(std::string_view data) {
    const uint64_t offset = bytes_.size();
    bytes_.append(data);
    return offset;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

Elf64_Phdr make_phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                     uint64_t filesz, uint64_t memsz, uint64_t align) {
  Elf64_Phdr header{};
  header.p_type = type;
  header.p_flags = flags;
  header.p_offset = offset;
  header.p_vaddr = header.p_paddr = vaddr;
  header.p_filesz = filesz;
  header.p_memsz = memsz;
  header.p_align = align;
  return header;
}

// `tiny`: a static PIE of 0x2000 bytes that writes "hello, world\n" and exits 0.
//   phdr 0  PT_LOAD  R+X  offset 0       vaddr 0       filesz 0x1000  memsz 0x1000
//   phdr 1  PT_LOAD  R+W  offset 0x1000  vaddr 0x2000  filesz 0x100   memsz 0x2000
//   phdr 2  PT_GNU_STACK R+W
//   phdr 3  PT_NULL (a spare entry the cases turn into PT_PHDR or PT_INTERP)
// The program headers lie at offset 0x40, inside phdr 0; the code at 0x800 (the entry).
constexpr uint64_t kTinyEntry = 0x800;
constexpr uint64_t kTinySize = 0x2000;

ElfBytes tiny_image() {
  std::string bytes(kTinySize, '\0');
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_DYN;
  header.e_machine = EM_X86_64;
  header.e_version = EV_CURRENT;
  header.e_entry = kTinyEntry;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_ehsize = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 4;
  std::memcpy(bytes.data(), &header, sizeof header);
  const Elf64_Phdr phdrs[4] = {
      make_phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x1000, 0x1000),
      make_phdr(PT_LOAD, PF_R | PF_W, 0x1000, 0x2000, 0x100, 0x2000, 0x1000),
      make_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16),
      make_phdr(PT_NULL, 0, 0, 0, 0, 0, 0),
  };
  std::memcpy(bytes.data() + header.e_phoff, phdrs, sizeof phdrs);
  // write(1, message, 13); exit_group(0); message: everything position-independent.
  static const unsigned char code[] = {
      0xb8, 0x01, 0x00, 0x00, 0x00,              // mov eax, 1 (write)
      0xbf, 0x01, 0x00, 0x00, 0x00,              // mov edi, 1
      0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00,  // lea rsi, [rip + 0x10] (the message)
      0xba, 0x0d, 0x00, 0x00, 0x00,              // mov edx, 13
      0x0f, 0x05,                                // syscall
      0xb8, 0xe7, 0x00, 0x00, 0x00,              // mov eax, 231 (exit_group)
      0x31, 0xff,                                // xor edi, edi
      0x0f, 0x05,                                // syscall
      'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd', '\n'};
  std::memcpy(bytes.data() + kTinyEntry, code, sizeof code);
  return ElfBytes(std::move(bytes));
}

// --- The corpus ------------------------------------------------------------------------------

struct Case {
  std::string file;                  // the path given to tp-run
  int code = 126;                    // expected exit status
  std::vector<std::string> reasons;  // each must appear in the message
  std::string names;                 // the path the message must name (default: `file`)
  bool by_host = false;              // refused by the space's host (logged), not by tp-run
  bool without_dac_override = false; // run without CAP_DAC_OVERRIDE (root reads anything)
};

class MalformedImage : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    char resolved[PATH_MAX];
    ASSERT_NE(realpath(work_dir_.c_str(), resolved), nullptr);
    dir_ = std::string(resolved) + "/corpus";
    ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `bytes` as corpus file `name` and records the case.
  void add(const std::string& name, std::string_view bytes, int code,
           std::vector<std::string> reasons, bool by_host, mode_t mode = 0755) {
    write_file(path(name), bytes, mode);
    cases_.push_back(Case{path(name), code, std::move(reasons), "", by_host, false});
  }
  // A broken copy of `base`, refused by the host.
  void add_elf(const std::string& name, ElfBytes image, std::vector<std::string> reasons,
               int code = 126) {
    add(name, image.bytes(), code, std::move(reasons), true);
  }
  // `tiny` with its spare program header (3) made PT_INTERP of `interp` (the bytes as
  // stored, NUL included or not), placed at the end of the file.
  static ElfBytes tiny_with_interp(std::string_view interp) {
    ElfBytes image = tiny_image();
    const uint64_t offset = image.append(interp);
    image.edit_phdr(3, [&](Elf64_Phdr& ph) {
      ph = make_phdr(PT_INTERP, PF_R, offset, 0, interp.size(), interp.size(), 1);
    });
    return image;
  }
  static std::string with_nul(const std::string& text) { return text + '\0'; }

  void write_corpus() {
    const ElfBytes tiny = tiny_image();
    const ElfBytes hello(read_file(program("hello")));
    ASSERT_EQ(hello.of_type(PT_INTERP).size(), 1u) << "hello must be a dynamic PIE";
    ASSERT_GE(hello.of_type(PT_LOAD).size(), 2u);
    const std::string tiny_bytes = tiny.bytes();

    // Not an image at all, or not one tp-run may open: refused before any space is asked.
    add("empty", "", 126, {"empty file"}, false);
    ASSERT_EQ(mkdir(path("a_directory").c_str(), 0755), 0);
    cases_.push_back({path("a_directory"), 126, {"Is a directory"}, "", false, false});
    add("no_exec_bit", tiny_bytes, 126, {"Permission denied"}, false, 0644);
    add("no_permissions", tiny_bytes, 126, {"Permission denied"}, false, 0000);
    add("binary_garbage", std::string("\x00\x01\x02\x03\xff\xfe garbage\n", 16), 126,
        {"cannot execute", "not an ELF executable or a script"}, false);
    ASSERT_EQ(mkfifo(path("fifo").c_str(), 0755), 0);
    cases_.push_back({path("fifo"), 126, {"not a regular file"}, "", false, false});
    ASSERT_EQ(symlink(path("symlink_loop").c_str(), path("symlink_loop").c_str()), 0);
    cases_.push_back({path("symlink_loop"), 126, {"Too many levels of symbolic links"}, "", false, false});
    cases_.push_back({path("missing"), 127, {"No such file or directory"}, "", false, false});
    add("exec_only_unreadable", tiny_bytes, 126, {"not readable"}, false, 0111);
    cases_.back().without_dac_override = true;

    // The ELF header.
    add("magic_only", "\x7f" "ELF", 126, {"too small for an ELF header"}, true);
    add("truncated_header", tiny_bytes.substr(0, 40), 126, {"too small for an ELF header"}, true);
    add("truncated_phdrs", tiny_bytes.substr(0, sizeof(Elf64_Ehdr)), 126,
        {"program headers", "past the end of the file"}, true);
    auto ident = [&](int index, unsigned char value) {
      return ElfBytes(tiny).edit_ehdr([=](Elf64_Ehdr& h) { h.e_ident[index] = value; });
    };
    add_elf("class32", ident(EI_CLASS, ELFCLASS32), {"32-bit"});
    add_elf("class_invalid", ident(EI_CLASS, 7), {"ELF class 7"});
    add_elf("big_endian", ident(EI_DATA, ELFDATA2MSB), {"big-endian"});
    add_elf("data_invalid", ident(EI_DATA, 0), {"EI_DATA 0"});
    add_elf("ident_version", ident(EI_VERSION, 0), {"EI_VERSION 0"});
    auto header = [&](const std::function<void(Elf64_Ehdr&)>& edit) {
      return ElfBytes(tiny).edit_ehdr(edit);
    };
    add_elf("e_version", header([](Elf64_Ehdr& h) { h.e_version = 2; }), {"e_version 2"});
    add_elf("type_rel", header([](Elf64_Ehdr& h) { h.e_type = ET_REL; }), {"ET_REL"});
    add_elf("type_core", header([](Elf64_Ehdr& h) { h.e_type = ET_CORE; }), {"ET_CORE"});
    add_elf("type_unknown", header([](Elf64_Ehdr& h) { h.e_type = 0x1234; }), {"e_type 4660"});
    add_elf("machine_aarch64", header([](Elf64_Ehdr& h) { h.e_machine = EM_AARCH64; }),
            {"AArch64", "not x86-64"});
    add_elf("machine_i386", header([](Elf64_Ehdr& h) { h.e_machine = EM_386; }), {"(i386)"});
    add_elf("ehsize_small", header([](Elf64_Ehdr& h) { h.e_ehsize = 32; }), {"e_ehsize 32"});
    add_elf("phentsize_32", header([](Elf64_Ehdr& h) { h.e_phentsize = 32; }),
            {"e_phentsize 32"});
    add_elf("phnum_zero", header([](Elf64_Ehdr& h) { h.e_phnum = 0; }), {"e_phnum 0"});
    add_elf("phnum_xnum", header([](Elf64_Ehdr& h) { h.e_phnum = PN_XNUM; }), {"PN_XNUM"});
    add_elf("phnum_huge", header([](Elf64_Ehdr& h) { h.e_phnum = 60000; }),
            {"e_phnum 60000", "exceeds the limit"});
    add_elf("phnum_past_end", header([](Elf64_Ehdr& h) { h.e_phnum = 1000; }),
            {"program headers", "past the end of the file"});
    add_elf("phoff_past_end", header([](Elf64_Ehdr& h) { h.e_phoff = kTinySize + 0x1000; }),
            {"program headers", "past the end of the file"});
    add_elf("phoff_overflow", header([](Elf64_Ehdr& h) { h.e_phoff = ~uint64_t{0} - 0x20; }),
            {"e_phoff", "overflows"});

    // The PT_LOAD segments: phdr 0 is the code, phdr 1 the data and bss.
    auto segment = [&](size_t index, const std::function<void(Elf64_Phdr&)>& edit) {
      return ElfBytes(tiny).edit_phdr(index, edit);
    };
    add_elf("filesz_gt_memsz", segment(1, [](Elf64_Phdr& p) { p.p_memsz = 0x80; }),
            {"p_filesz 0x100 of PT_LOAD 1 is larger than its p_memsz 0x80"});
    add_elf("load_past_eof", segment(1, [](Elf64_Phdr& p) { p.p_offset = 0x1f80; }),
            {"PT_LOAD 1 is past the end of the file"});
    add_elf("load_offset_overflow",
            segment(1, [](Elf64_Phdr& p) { p.p_offset = ~uint64_t{0} - 0xff; }), {"overflows"});
    add_elf("bss_4tib", segment(1, [](Elf64_Phdr& p) { p.p_memsz = uint64_t{4} << 40; }),
            {"memory size 0x40000000000 of PT_LOAD 1", "1 TiB"});
    // Fine as an image (under 1 TiB), but not in a slot of the default 64 GiB: the space's
    // limit, 125 as for a full space (the last test shows it runs in larger slots).
    add_elf("bss_100gib", segment(1, [](Elf64_Phdr& p) { p.p_memsz = uint64_t{100} << 30; }),
            {"do not fit in a slot", "--slot-size"}, 125);
    add_elf("span_2tib", segment(1, [](Elf64_Phdr& p) { p.p_vaddr = (uint64_t{2} << 40) + 0x2000; }),
            {"span", "more than the limit"});
    add_elf("above_47_bits",
            segment(1, [](Elf64_Phdr& p) { p.p_vaddr = (uint64_t{1} << 47) - 0x1000; }),
            {"47-bit"});
    add_elf("align_not_power_of_two", segment(1, [](Elf64_Phdr& p) { p.p_align = 0x3000; }),
            {"p_align 0x3000", "not a power of two"});
    add_elf("align_huge", segment(1, [](Elf64_Phdr& p) { p.p_align = uint64_t{1} << 42; }),
            {"p_align 0x40000000000", "exceeds the limit"});
    add_elf("incongruent_offset", segment(1, [](Elf64_Phdr& p) { p.p_offset = 0x1010; }),
            {"differ modulo the page size"});
    {
      ElfBytes swapped(tiny);
      const Elf64_Phdr code = swapped.phdr(0), data = swapped.phdr(1);
      swapped.edit_phdr(0, [&](Elf64_Phdr& p) { p = data; });
      swapped.edit_phdr(1, [&](Elf64_Phdr& p) { p = code; });
      add_elf("descending_loads", swapped, {"must ascend"});
    }
    add_elf("overlapping_loads", segment(1, [](Elf64_Phdr& p) {
              p.p_vaddr = 0x800;
              p.p_offset = 0x1800;
            }),
            {"PT_LOAD 1 [0x800, 0x2800) overlaps PT_LOAD 0 [0x0, 0x1000)"});
    {
      // Two segments in one page, from different file offsets.
      ElfBytes image(tiny);
      image.edit_phdr(0, [](Elf64_Phdr& p) { p.p_filesz = p.p_memsz = 0xa00; });
      image.edit_phdr(1, [](Elf64_Phdr& p) {
        p.p_vaddr = 0xc00;
        p.p_offset = 0x1c00;
        p.p_filesz = p.p_memsz = 0x100;
      });
      add_elf("shared_page_two_offsets", image, {"share the page", "different file offsets"});
    }
    {
      // Two segments in one page, the first one's zero fill over the second's bytes.
      ElfBytes image(tiny);
      image.edit_phdr(0, [](Elf64_Phdr& p) {
        p.p_filesz = 0x900;
        p.p_memsz = 0xa00;
      });
      image.edit_phdr(1, [](Elf64_Phdr& p) {
        p.p_vaddr = p.p_offset = 0xc00;
        p.p_filesz = p.p_memsz = 0x100;
      });
      add_elf("shared_page_zero_fill", image, {"share the page", "zero fill"});
    }
    {
      ElfBytes image(tiny);
      for (size_t i : {0, 1})
        image.edit_phdr(i, [](Elf64_Phdr& p) { p.p_type = PT_NULL; });
      add_elf("no_load", image, {"no non-empty PT_LOAD"});
      ElfBytes empty(tiny);
      for (size_t i : {0, 1})
        empty.edit_phdr(i, [](Elf64_Phdr& p) { p.p_filesz = p.p_memsz = 0; });
      add_elf("empty_loads", empty, {"no non-empty PT_LOAD"});
    }

    // The entry point.
    add_elf("entry_in_data", header([](Elf64_Ehdr& h) { h.e_entry = 0x2010; }),
            {"entry 0x2010 is not inside an executable segment"});
    add_elf("entry_outside", header([](Elf64_Ehdr& h) { h.e_entry = 0x10000000; }),
            {"entry 0x10000000 is not inside an executable segment"});
    add_elf("no_executable_segment", segment(0, [](Elf64_Phdr& p) { p.p_flags = PF_R; }),
            {"entry 0x800 is not inside an executable segment"});

    // Where the program headers are once mapped (AT_PHDR).
    {
      ElfBytes image(tiny);
      std::string bytes = image.bytes();
      const size_t table = 4 * sizeof(Elf64_Phdr);
      bytes.replace(0x1800, table, bytes.substr(sizeof(Elf64_Ehdr), table));
      ElfBytes moved(bytes);
      moved.edit_ehdr([](Elf64_Ehdr& h) { h.e_phoff = 0x1800; });
      add_elf("phdrs_outside_loads", moved, {"program headers [0x1800, 0x18e0)",
                                             "not inside any PT_LOAD"});
    }
    const uint64_t table_size = 4 * sizeof(Elf64_Phdr);
    add_elf("pt_phdr_outside", segment(3, [&](Elf64_Phdr& p) {
              p = make_phdr(PT_PHDR, PF_R, 0x5000, 0x5000, table_size, table_size, 8);
            }),
            {"PT_PHDR at 0x5000", "not inside the file-backed part"});
    add_elf("pt_phdr_elsewhere", segment(3, [&](Elf64_Phdr& p) {
              p = make_phdr(PT_PHDR, PF_R, 0x80, 0x80, table_size, table_size, 8);
            }),
            {"PT_PHDR at 0x80", "not the program headers at e_phoff 0x40"});
    {
      ElfBytes image(tiny);
      for (size_t i : {2, 3})
        image.edit_phdr(i, [&](Elf64_Phdr& p) {
          p = make_phdr(PT_PHDR, PF_R, 0x40, 0x40, table_size, table_size, 8);
        });
      add_elf("two_pt_phdr", image, {"more than one PT_PHDR"});
    }

    // The interpreter (PT_INTERP): missing, not an ELF file, not a self-contained one,
    // a bad path.
    write_file(path("interp_text.txt"), "not an ELF file\n", 0644);
    add_elf("interp_missing", tiny_with_interp(with_nul("/nonexistent/ld-linux-x86-64.so.2")),
            {"cannot open its interpreter /nonexistent/ld-linux-x86-64.so.2",
             "No such file or directory"},
            127);
    add_elf("interp_not_elf", tiny_with_interp(with_nul(path("interp_text.txt"))),
            {"its interpreter " + path("interp_text.txt"), "not an ELF file"});
    add_elf("interp_directory", tiny_with_interp(with_nul("/tmp")),
            {"its interpreter /tmp", "is a directory"});
    add_elf("interp_dynamic_pie", tiny_with_interp(with_nul(program("hello"))),
            {"its interpreter " + program("hello") + " is a dynamic PIE"});
    add_elf("interp_fixed_address", tiny_with_interp(with_nul(program("hello_nopie"))),
            {"its interpreter " + program("hello_nopie") + " is a fixed-address executable"});
    add_elf("interp_32bit", tiny_with_interp(with_nul(path("class32"))),
            {"its interpreter " + path("class32"), "32-bit"});
    add_elf("interp_empty_file", tiny_with_interp(with_nul(path("empty"))),
            {"its interpreter " + path("empty"), "not an ELF file"});
    add_elf("interp_too_long", tiny_with_interp(with_nul("/" + std::string(5000, 'a'))),
            {"PT_INTERP size 5002 is not between 2 and 4096 bytes"});
    add_elf("interp_one_byte", tiny_with_interp(std::string(1, '\0')),
            {"PT_INTERP size 1 is not between 2 and 4096 bytes"});
    add_elf("interp_unterminated", tiny_with_interp("/lib64/ld-linux-x86-64.so.2"),
            {"is not NUL-terminated"});
    add_elf("interp_relative", tiny_with_interp(with_nul("lib64/ld-linux-x86-64.so.2")),
            {"is not an absolute path"});
    add_elf("interp_embedded_nul", tiny_with_interp(std::string("/lib64\0/ld.so\0", 14)),
            {"has a NUL at byte 6"});
    {
      ElfBytes image = tiny_with_interp(with_nul("/lib64/ld-linux-x86-64.so.2"));
      image.edit_phdr(3, [](Elf64_Phdr& p) { p.p_filesz = 0x100; });
      add_elf("interp_past_eof", image, {"of PT_INTERP is past the end of the file"});
      ElfBytes twice(image);
      twice.edit_phdr(3, [](Elf64_Phdr& p) { p.p_filesz = 28; });
      twice.edit_phdr(2, [&](Elf64_Phdr& p) { p = twice.phdr(3); });
      add_elf("two_interps", twice, {"more than one PT_INTERP"});
    }

    // The same kinds of damage in a real dynamic PIE (tests/programs/hello).
    {
      ElfBytes image(hello);
      const uint64_t offset = image.append(with_nul("/nonexistent/ld.so"));
      image.edit_phdr(image.of_type(PT_INTERP)[0], [&](Elf64_Phdr& p) {
        p.p_offset = offset;
        p.p_filesz = p.p_memsz = 19;
      });
      add_elf("hello_interp_missing", image, {"cannot open its interpreter /nonexistent/ld.so"},
              127);
      ElfBytes huge(hello);
      huge.edit_phdr(huge.of_type(PT_LOAD).back(),
                     [](Elf64_Phdr& p) { p.p_memsz = uint64_t{16} << 40; });
      add_elf("hello_bss_16tib", huge, {"exceeds the limit of 0x10000000000 (1 TiB)"});
      add_elf("hello_entry_zero", ElfBytes(hello).edit_ehdr([](Elf64_Ehdr& h) { h.e_entry = 0; }),
              {"entry 0x0 is not inside an executable segment"});
      add_elf("hello_machine_riscv",
              ElfBytes(hello).edit_ehdr([](Elf64_Ehdr& h) { h.e_machine = EM_RISCV; }),
              {"RISC-V"});
    }

    // #! scripts whose interpreter is missing, unusable or malformed. The kernel's errors:
    // ENOENT (127), EACCES or ENOEXEC (126).
    add("shebang_missing_interp", "#!/nonexistent/interp\necho unreachable\n", 127,
        {"No such file or directory"}, false);
    cases_.back().names = "/nonexistent/interp";
    add("shebang_too_long", "#!/" + std::string(300, 'a'), 126, {"longer than 256 bytes"}, false);
    // execvp would run this one with /bin/sh (the kernel says ENOEXEC); tp-run refuses it.
    add("shebang_no_interp", "#!   \necho unreachable\n", 126, {"names no interpreter"}, false);
    add("shebang_directory", "#!/tmp\n", 126, {"Is a directory"}, false);
    cases_.back().names = "/tmp";
    add("shebang_not_executable", "#!" + path("no_exec_bit") + "\n", 126, {"Permission denied"},
        false);
    cases_.back().names = path("no_exec_bit");
    add("shebang_malformed_elf", "#!" + path("class32") + "\n", 126, {"32-bit"}, true);
    cases_.back().names = path("class32");
    add("shebang_loop", "#!" + path("shebang_loop") + "\n", 126, {"too many levels"}, false);
  }

  // Runs `argv` (a tp-run command line for `c`) and checks the refusal.
  void expect_refused(const Case& c, std::vector<std::string> argv) {
    if (c.without_dac_override && geteuid() == 0) {
      // Root reads any file: drop the capabilities that let it, as a normal user is.
      argv.insert(argv.begin(), {"setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"});
    }
    const Result result = run(argv);
    const std::string& names = c.names.empty() ? c.file : c.names;
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == c.code)
        << "expected exit " << c.code << ": " << describe(result);
    EXPECT_EQ(result.out, "") << "tp-run must never write to stdout";
    ASSERT_FALSE(result.err.empty()) << "a refusal must say why on stderr";
    EXPECT_EQ(result.err.back(), '\n') << result.err;
    std::istringstream lines(result.err);
    for (std::string line; std::getline(lines, line);)
      EXPECT_EQ(line.rfind("tp-run: ", 0), 0u) << "stderr line without \"tp-run: \": " << line;
    EXPECT_NE(result.err.find(names), std::string::npos)
        << "the message must name " << names << ": " << result.err;
    for (const auto& reason : c.reasons)
      EXPECT_NE(result.err.find(reason), std::string::npos)
          << "the message must say \"" << reason << "\": " << result.err;
  }

  // Cases that need setpriv to be meaningful are left out when it is missing.
  bool runnable(const Case& c) const {
    if (!c.without_dac_override || geteuid() != 0)
      return true;
    static const bool have_setpriv = find_in_path("setpriv", env_).has_value();
    if (!have_setpriv)
      std::cout << "skipping " << c.file << ": root without setpriv cannot be denied a read\n";
    return have_setpriv;
  }

  std::string dir_;
  std::vector<Case> cases_;
};

TEST_F(MalformedImage, TheUnbrokenBasesRun) {
  write_file(path("tiny"), tiny_image().bytes(), 0755);
  const Result native = run({path("tiny")});
  ASSERT_TRUE(WIFEXITED(native.status) && WEXITSTATUS(native.status) == 0 &&
              native.out == "hello, world\n")
      << "the tiny base must run natively: " << describe(native);
  // A text file without #! runs with /bin/sh, as execvp runs it.
  write_file(path("plain_text"), "echo from sh\nexit 3\n", 0755);
  TP_REQUIRE_RUNTIME("compares tp-run with native runs");

  for (const bool named : {false, true}) {
    SCOPED_TRACE(named ? "named space" : "private space");
    auto through = [&](const std::vector<std::string>& argv) {
      return run(named ? launch_in("bases", argv) : launch(argv));
    };
    const Result tiny = through({path("tiny")});
    EXPECT_TRUE(WIFEXITED(tiny.status) && WEXITSTATUS(tiny.status) == 0 &&
                tiny.out == "hello, world\n" && tiny.err.empty())
        << describe(tiny);
    const Result text = through({path("plain_text")});
    EXPECT_TRUE(WIFEXITED(text.status) && WEXITSTATUS(text.status) == 3 &&
                text.out == "from sh\n" && text.err.empty())
        << describe(text);
  }
  // 100 GiB of bss is refused in 64 GiB slots (see the corpus), but runs in larger ones.
  write_file(path("bss_100gib"),
             tiny_image().edit_phdr(1, [](Elf64_Phdr& p) { p.p_memsz = uint64_t{100} << 30; }).bytes(),
             0755);
  const Result big = run(launch({path("bss_100gib")}, {"--slots", "4", "--slot-size", "256G"}));
  EXPECT_TRUE(WIFEXITED(big.status) && WEXITSTATUS(big.status) == 0 &&
              big.out == "hello, world\n" && big.err.empty())
      << describe(big);
}

TEST_F(MalformedImage, EveryCraftedFileIsRefusedAndTheNamedSpaceKeepsServing) {
  write_corpus();
  ASSERT_GE(cases_.size(), 30u);
  TP_REQUIRE_SPACE();
  use_space("malformed");
  const Result started = tp_space({"start", "malformed"});
  ASSERT_TRUE(WIFEXITED(started.status) && WEXITSTATUS(started.status) == 0) << describe(started);
  const pid_t host = host_pid("malformed");
  ASSERT_GT(host, 0);
  const std::string proc = "/proc/" + std::to_string(host);
  const auto fds = [&] { return static_cast<long>(count_entries(proc + "/fd")); };
  const auto maps = [&] { return static_cast<long>(count_lines(proc + "/maps")); };
  const auto threads = [&] { return static_cast<long>(count_entries(proc + "/task")); };
  auto expect_hello = [&] {
    const Result hello = run(launch_in("malformed", {program("hello")}));
    EXPECT_TRUE(WIFEXITED(hello.status) && WEXITSTATUS(hello.status) == 0 &&
                hello.out == "hello, world\n" && hello.err.empty())
        << describe(hello);
  };
  expect_hello();  // the host's first launch sets up what stays (supervisor threads...)
  const long fds_before = stable(fds), maps_before = stable(maps);
  const long threads_before = stable(threads);

  size_t ran = 0;
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.file);
    if (!runnable(c))
      continue;
    expect_refused(c, launch_in("malformed", {c.file, "an argument"}));
    ++ran;
  }
  std::cout << ran << " crafted files refused in a named space\n";

  expect_hello();
  EXPECT_EQ(process_state(host).empty(), false) << "the host is gone";
  EXPECT_EQ(settle_to(fds, fds_before), fds_before) << "the host's fd count changed";
  if (!kSanitized) {
    EXPECT_EQ(settle_to(maps, maps_before), maps_before) << "the host's maps count changed";
  }
  EXPECT_EQ(settle_to(threads, threads_before), threads_before)
      << "the host's thread count changed";

  // The host logged each refusal it made, naming the file.
  const std::string log = read_file(runtime_dir_ + "/malformed.log");
  for (const Case& c : cases_) {
    if (!c.by_host)
      continue;
    const std::string& names = c.names.empty() ? c.file : c.names;
    EXPECT_NE(log.find("refused: " + names + ": "), std::string::npos)
        << "no \"refused: " << names << ": ...\" line in the host's log";
  }
}

TEST_F(MalformedImage, EveryCraftedFileIsRefusedInAPrivateSpace) {
  write_corpus();
  TP_REQUIRE_RUNTIME("the refusals are tp-run's");
  for (const Case& c : cases_) {
    SCOPED_TRACE(c.file);
    if (runnable(c))
      expect_refused(c, launch({c.file}));
  }
}

}  // namespace
}  // namespace tpit

// inspect_image(): classifies an ELF file the way the runtime will treat it.
//
// LLVM's libObject reads the header, the program headers, the dynamic section
// and the section table; everything it does not bound-check itself (PT_DYNAMIC,
// the PT_LOADs behind toMappedAddr, note segments, strings and tables reached
// through link-time addresses) is checked here first. The load and note checks
// mirror the runtime's ELF reader (runtime/elf), so a file this tool calls
// loadable is one the runtime accepts, with the same reasons when it is not.
#include <llvm/BinaryFormat/ELF.h>
#include <llvm/BinaryFormat/Magic.h>
#include <llvm/Object/ELF.h>
#include <llvm/Object/ELFTypes.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>

#include "inspect.h"
#include "threadprocs/abi.h"

namespace tp::inspect {
namespace {

using ELFT = llvm::object::ELF64LE;
using ElfFile = llvm::object::ELFFile<ELFT>;
using Phdr = ELFT::Phdr;
using Dyn = ELFT::Dyn;
using Rela = ELFT::Rela;
using Sym = ELFT::Sym;
namespace E = llvm::ELF;

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kImageGap = 2ull << 20;                // image sits 2 MiB above the slot base
constexpr uint64_t kMaxImageSpan = uint64_t{1} << 40;     // as runtime/elf (1 TiB)
constexpr uint64_t kUserAddressEnd = uint64_t{1} << 47;   // x86-64 user space
constexpr uint64_t kMaxNoteSegment = uint64_t{1} << 20;   // as runtime/elf
constexpr uint64_t kMaxInterpSize = 4096;                 // as runtime/elf
constexpr uint64_t kMaxPhnum = 65536 / sizeof(Phdr);      // as runtime/elf
constexpr uint64_t kMaxStringLength = 4096;               // names read through addresses
constexpr size_t kMaxExports = 1u << 20;                  // records listed at most

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string dec(uint64_t v) { return std::to_string(v); }

std::string range(uint64_t start, uint64_t end) {
  return "[" + hex(start) + ", " + hex(end) + ")";
}

std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }

std::string message_of(llvm::Error e) { return llvm::toString(std::move(e)); }

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case E::EM_386: return " (i386)";
    case E::EM_ARM: return " (ARM)";
    case E::EM_AARCH64: return " (AArch64)";
    case E::EM_RISCV: return " (RISC-V)";
    case E::EM_PPC64: return " (PowerPC64)";
    case E::EM_S390: return " (s390)";
    default: return "";
  }
}

// What a file that is not ELF looks like, to say more than "not ELF".
std::string not_elf_reason(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 2 && bytes[0] == '#' && bytes[1] == '!')
    return "not an ELF file: a #! script (tp-run runs it by loading its interpreter)";
  llvm::StringRef text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  switch (llvm::identify_magic(text)) {
    case llvm::file_magic::archive: return "not an ELF file: an ar archive (a static library)";
    case llvm::file_magic::bitcode: return "not an ELF file: LLVM bitcode";
    case llvm::file_magic::macho_object:
    case llvm::file_magic::macho_executable:
    case llvm::file_magic::macho_dynamically_linked_shared_lib:
    case llvm::file_magic::macho_universal_binary: return "not an ELF file: a Mach-O file";
    case llvm::file_magic::pecoff_executable: return "not an ELF file: a PE (Windows) executable";
    case llvm::file_magic::wasm_object: return "not an ELF file: a WebAssembly module";
    default: return "not an ELF file (no \\x7fELF magic)";
  }
}

struct Load {
  size_t index;
  uint64_t vaddr, memsz, offset, filesz;
  uint32_t flags;
};

struct DynamicInfo {
  std::vector<uint64_t> needed;  // string table offsets
  std::optional<uint64_t> soname, strtab, strsz, rela, relasz, relaent, symtab;
  uint64_t flags = 0, flags_1 = 0;
  bool textrel = false;
};

// One relocation that applies to an export record's pointer.
struct Reloc {
  uint32_t type;
  uint32_t sym;
  int64_t addend;
};

class Analyzer {
 public:
  Analyzer(std::string file, std::span<const uint8_t> bytes) : bytes_(bytes) {
    r_.file = std::move(file);
  }

  Report run() {
    if (!analyze()) r_.cls = Class::kNotLoadable;
    return std::move(r_);
  }

 private:
  // Each step returns false once it has made the file not loadable.
  bool fail(std::string reason) {
    r_.cls = Class::kNotLoadable;
    r_.reason = std::move(reason);
    return false;
  }
  void warn(std::string w) { r_.warnings.push_back(std::move(w)); }

  bool analyze();
  bool check_ident();
  bool check_program_header_table(const ElfFile& obj);
  bool check_loads();
  bool read_interpreter();
  void read_dynamic(const ElfFile& obj);
  bool read_notes();
  bool classify();
  void check_sections(const ElfFile& obj);
  bool decode_note(const std::vector<uint8_t>& desc, uint64_t desc_vaddr);
  void read_exports();
  std::map<uint64_t, Reloc> relocations_in(uint64_t begin, uint64_t end);
  std::optional<uint64_t> resolve_pointer(uint64_t at, const std::map<uint64_t, Reloc>& relocs,
                                          std::string& problem);

  // The file-backed bytes [vaddr, vaddr + len) inside one PT_LOAD.
  std::optional<std::span<const uint8_t>> map(uint64_t vaddr, uint64_t len) const;
  // A NUL-terminated string at `vaddr` (at most `limit` bytes before the NUL).
  std::optional<std::string> cstring_at(uint64_t vaddr, uint64_t limit) const;
  std::optional<std::string> dynstr(uint64_t offset) const;
  bool in_memory_image(uint64_t vaddr) const;

  std::span<const uint8_t> bytes_;
  Report r_;
  llvm::object::ELFFile<ELFT>::Elf_Phdr_Range phdrs_;
  std::vector<Load> loads_;
  DynamicInfo dyn_;
  uint64_t pt_dynamic_count_ = 0;
};

bool Analyzer::analyze() {
  if (bytes_.empty()) return fail("empty file");
  if (bytes_.size() < 4 || std::memcmp(bytes_.data(), "\x7f" "ELF", 4) != 0)
    return fail(not_elf_reason(bytes_));
  if (!check_ident()) return false;

  llvm::StringRef data(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  llvm::Expected<ElfFile> created = ElfFile::create(data);
  if (!created) return fail("malformed ELF: " + message_of(created.takeError()));
  const ElfFile& obj = *created;
  const auto& eh = obj.getHeader();
  r_.is_elf = true;
  r_.e_type = eh.e_type;
  r_.entry = eh.e_entry;

  switch (eh.e_type) {
    case E::ET_EXEC:
    case E::ET_DYN: break;
    case E::ET_REL:
      return fail("a relocatable object (ET_REL), not an executable: link it first");
    case E::ET_CORE: return fail("a core file (ET_CORE), not an executable");
    default:
      return fail("e_type " + dec(eh.e_type) + " is not an executable type (ET_EXEC or ET_DYN)");
  }
  if (eh.e_machine != E::EM_X86_64)
    return fail("built for e_machine " + dec(eh.e_machine) + machine_name(eh.e_machine) +
                ", not x86-64 (62)");
  if (eh.e_version != E::EV_CURRENT)
    return fail("e_version " + dec(eh.e_version) + " is not EV_CURRENT (1)");

  check_sections(obj);
  if (!check_program_header_table(obj)) return false;
  if (!check_loads()) return false;
  if (!read_interpreter()) return false;
  read_dynamic(obj);
  if (!read_notes()) return false;
  return classify();
}

bool Analyzer::check_ident() {
  if (bytes_.size() < E::EI_NIDENT)
    return fail("truncated: " + dec(bytes_.size()) + " bytes, less than an ELF identification (16)");
  switch (bytes_[E::EI_CLASS]) {
    case E::ELFCLASS64: break;
    case E::ELFCLASS32: return fail("a 32-bit ELF file (ELFCLASS32): only x86-64 images load");
    default: return fail("invalid ELF class " + dec(bytes_[E::EI_CLASS]) + " (expected 2, 64-bit)");
  }
  switch (bytes_[E::EI_DATA]) {
    case E::ELFDATA2LSB: break;
    case E::ELFDATA2MSB: return fail("a big-endian ELF file: only x86-64 images load");
    default:
      return fail("invalid EI_DATA " + dec(bytes_[E::EI_DATA]) + " (expected 1, little-endian)");
  }
  if (bytes_[E::EI_VERSION] != E::EV_CURRENT)
    return fail("EI_VERSION " + dec(bytes_[E::EI_VERSION]) + " is not EV_CURRENT (1)");
  if (bytes_.size() < sizeof(ELFT::Ehdr))
    return fail("truncated: " + dec(bytes_.size()) + " bytes, less than an ELF64 header (64)");
  return true;
}

// The section table is not needed to load an image; a broken one is only
// worth a warning (often the sign of a truncated file).
void Analyzer::check_sections(const ElfFile& obj) {
  auto sections = obj.sections();
  if (!sections) warn("section headers: " + message_of(sections.takeError()));
}

bool Analyzer::check_program_header_table(const ElfFile& obj) {
  const auto& eh = obj.getHeader();
  if (eh.e_phnum == 0) return fail("no program headers (e_phnum 0)");
  if (eh.e_phentsize != sizeof(Phdr))
    return fail("e_phentsize " + dec(eh.e_phentsize) +
                " is not the size of an ELF64 program header (56)");
  if (eh.e_phnum == 0xffff)
    return fail("e_phnum 0xffff (PN_XNUM, extended numbering) is not supported");
  if (eh.e_phnum > kMaxPhnum)
    return fail("e_phnum " + dec(eh.e_phnum) + " exceeds the limit of " + dec(kMaxPhnum));
  const uint64_t size = uint64_t{eh.e_phnum} * sizeof(Phdr);
  auto end = checked_add(eh.e_phoff, size);
  if (!end || *end > bytes_.size())
    return fail("truncated: the program headers " + range(eh.e_phoff, eh.e_phoff + size) +
                " lie past the end of the file (" + hex(bytes_.size()) + " bytes)");
  auto phdrs = obj.program_headers();
  if (!phdrs) return fail("malformed program headers: " + message_of(phdrs.takeError()));
  phdrs_ = *phdrs;
  return true;
}

bool Analyzer::check_loads() {
  const Load* prev = nullptr;
  for (size_t i = 0; i < phdrs_.size(); ++i) {
    const Phdr& ph = phdrs_[i];
    if (ph.p_type != E::PT_LOAD) continue;
    const std::string seg = "PT_LOAD " + dec(i);
    const uint64_t vaddr = ph.p_vaddr, memsz = ph.p_memsz, offset = ph.p_offset,
                   filesz = ph.p_filesz, align = ph.p_align;
    if (filesz > memsz)
      return fail(seg + ": p_filesz " + hex(filesz) + " is larger than p_memsz " + hex(memsz));
    auto file_end = checked_add(offset, filesz);
    if (!file_end || *file_end > bytes_.size())
      return fail("truncated: " + seg + " (file bytes " + range(offset, offset + filesz) +
                  ") runs past the end of the file (" + hex(bytes_.size()) + " bytes)");
    if (memsz > kMaxImageSpan)
      return fail(seg + ": memory size " + hex(memsz) + " exceeds the limit of 1 TiB");
    auto mem_end = checked_add(vaddr, memsz);
    if (!mem_end || *mem_end > kUserAddressEnd)
      return fail(seg + " at " + hex(vaddr) + " ends above the 47-bit user address space");
    if (align > 1 && !is_power_of_two(align))
      return fail(seg + ": p_align " + hex(align) + " is not a power of two");
    if (align > kMaxImageSpan)
      return fail(seg + ": p_align " + hex(align) + " exceeds the limit of 1 TiB");
    if (vaddr % kPageSize != offset % kPageSize)
      return fail(seg + ": p_vaddr " + hex(vaddr) + " and p_offset " + hex(offset) +
                  " differ modulo the page size (4096)");
    if (memsz == 0) continue;  // maps nothing, as in the kernel
    if (prev != nullptr) {
      const uint64_t prev_end = prev->vaddr + prev->memsz;
      if (vaddr < prev->vaddr)
        return fail(seg + " at " + hex(vaddr) + " is below PT_LOAD " + dec(prev->index) +
                    " (PT_LOADs must ascend)");
      if (vaddr < prev_end)
        return fail(seg + " " + range(vaddr, *mem_end) + " overlaps PT_LOAD " +
                    dec(prev->index) + " " + range(prev->vaddr, prev_end));
      if (page_down(vaddr) < page_down(prev_end + kPageSize - 1) &&
          (prev->vaddr - prev->offset != vaddr - offset || prev->memsz != prev->filesz))
        return fail("PT_LOAD " + dec(prev->index) + " and " + seg + " share the page at " +
                    hex(page_down(vaddr)) + " but cannot both be mapped there");
    }
    loads_.push_back(Load{i, vaddr, memsz, offset, filesz, static_cast<uint32_t>(ph.p_flags)});
    prev = &loads_.back();
  }
  if (loads_.empty()) return fail("no non-empty PT_LOAD segment");
  const uint64_t start = page_down(loads_.front().vaddr);
  const uint64_t end = page_down(loads_.back().vaddr + loads_.back().memsz + kPageSize - 1);
  if (end - start > kMaxImageSpan)
    return fail("the PT_LOAD segments span " + range(start, end) + ", more than 1 TiB");
  r_.load_range = {start, end};
  return true;
}

bool Analyzer::read_interpreter() {
  std::optional<size_t> found;
  for (size_t i = 0; i < phdrs_.size(); ++i) {
    const Phdr& ph = phdrs_[i];
    if (ph.p_type == E::PT_GNU_STACK && (ph.p_flags & E::PF_X))
      warn("PT_GNU_STACK asks for an executable stack");
    if (ph.p_type == E::PT_DYNAMIC) ++pt_dynamic_count_;
    if (ph.p_type != E::PT_INTERP) continue;
    if (found)
      return fail("more than one PT_INTERP (program headers " + dec(*found) + " and " + dec(i) +
                  ")");
    found = i;
    const uint64_t offset = ph.p_offset, size = ph.p_filesz;
    auto end = checked_add(offset, size);
    if (!end || *end > bytes_.size())
      return fail("truncated: PT_INTERP " + range(offset, offset + size) +
                  " runs past the end of the file (" + hex(bytes_.size()) + " bytes)");
    if (size < 2 || size > kMaxInterpSize)
      return fail("PT_INTERP size " + dec(size) + " is not between 2 and 4096 bytes");
    std::string path(reinterpret_cast<const char*>(bytes_.data() + offset), size);
    if (path.back() != '\0') return fail("PT_INTERP is not NUL-terminated");
    path.pop_back();
    if (path.find('\0') != std::string::npos) return fail("PT_INTERP has a NUL before its end");
    if (path.front() != '/') return fail("PT_INTERP \"" + path + "\" is not an absolute path");
    r_.interpreter = std::move(path);
  }
  return true;
}

// ld.so reads PT_DYNAMIC (it never looks at sections); so does this. A broken
// dynamic section is reported as a warning: the runtime does not read it.
void Analyzer::read_dynamic(const ElfFile& obj) {
  const Phdr* dynamic = nullptr;
  for (const Phdr& ph : phdrs_)
    if (ph.p_type == E::PT_DYNAMIC) {
      dynamic = &ph;
      break;
    }
  if (dynamic == nullptr) return;
  r_.has_dynamic = true;
  if (pt_dynamic_count_ > 1) warn("more than one PT_DYNAMIC; the first one is read");
  const uint64_t offset = dynamic->p_offset, size = dynamic->p_filesz;
  auto end = checked_add(offset, size);
  if (!end || *end > bytes_.size()) {
    warn("PT_DYNAMIC " + range(offset, offset + size) + " runs past the end of the file");
    return;
  }
  if (size < sizeof(Dyn)) {
    warn("PT_DYNAMIC is empty");
    return;
  }
  // Bounds checked above: libObject reads PT_DYNAMIC by its offset as it is.
  auto entries = obj.dynamicEntries();
  if (!entries) {
    warn("dynamic section: " + message_of(entries.takeError()));
    return;
  }
  for (const Dyn& d : *entries) {
    const int64_t tag = d.d_tag;
    const uint64_t val = d.d_un.d_val;
    if (tag == E::DT_NULL) break;
    switch (tag) {
      case E::DT_NEEDED: dyn_.needed.push_back(val); break;
      case E::DT_SONAME: dyn_.soname = val; break;
      case E::DT_STRTAB: dyn_.strtab = val; break;
      case E::DT_STRSZ: dyn_.strsz = val; break;
      case E::DT_RELA: dyn_.rela = val; break;
      case E::DT_RELASZ: dyn_.relasz = val; break;
      case E::DT_RELAENT: dyn_.relaent = val; break;
      case E::DT_SYMTAB: dyn_.symtab = val; break;
      case E::DT_FLAGS: dyn_.flags |= val; break;
      case E::DT_FLAGS_1: dyn_.flags_1 |= val; break;
      case E::DT_TEXTREL: dyn_.textrel = true; break;
      default: break;
    }
  }
  r_.pie_flag = (dyn_.flags_1 & E::DF_1_PIE) != 0;
  r_.textrel = dyn_.textrel || (dyn_.flags & E::DF_TEXTREL) != 0;
  for (uint64_t off : dyn_.needed) {
    if (auto name = dynstr(off))
      r_.needed.push_back(*name);
    else
      warn("DT_NEEDED at string table offset " + hex(off) + " cannot be read");
  }
  if (dyn_.soname) {
    if (auto name = dynstr(*dyn_.soname))
      r_.soname = *name;
    else
      warn("DT_SONAME cannot be read");
  }
}

// Notes are scanned as the runtime scans them (4- or 8-byte alignment, one
// TPRC note at most, any malformed note refuses the image).
bool Analyzer::read_notes() {
  std::optional<std::pair<std::vector<uint8_t>, uint64_t>> found;  // descriptor, its address
  for (size_t i = 0; i < phdrs_.size(); ++i) {
    const Phdr& ph = phdrs_[i];
    if (ph.p_type != E::PT_NOTE) continue;
    const uint64_t seg_offset = ph.p_offset, seg_size = ph.p_filesz, seg_vaddr = ph.p_vaddr;
    const std::string seg = "PT_NOTE " + dec(i);
    auto end = checked_add(seg_offset, seg_size);
    if (!end || *end > bytes_.size())
      return fail("truncated: " + seg + " " + range(seg_offset, seg_offset + seg_size) +
                  " runs past the end of the file (" + hex(bytes_.size()) + " bytes)");
    if (seg_size > kMaxNoteSegment)
      return fail(seg + " is " + hex(seg_size) + " bytes, more than the limit of 1 MiB");
    uint64_t align;
    if (ph.p_align <= 4)
      align = 4;
    else if (ph.p_align == 8)
      align = 8;
    else
      return fail(seg + ": p_align " + hex(ph.p_align) + " is not 4 or 8");
    auto notes = bytes_.subspan(seg_offset, seg_size);
    uint64_t pos = 0;
    while (pos < notes.size()) {
      const uint64_t left = notes.size() - pos;
      auto malformed = [&](const std::string& why) {
        return fail("malformed note at offset " + hex(seg_offset + pos) + " of " + seg + ": " +
                    why);
      };
      ELFT::Nhdr nh;
      if (left < sizeof nh)
        return malformed(dec(left) + " bytes left, less than a 12-byte note header");
      std::memcpy(&nh, notes.data() + pos, sizeof nh);
      const uint64_t namesz = nh.n_namesz, descsz = nh.n_descsz;
      const uint64_t name_end = sizeof nh + namesz;  // < 2^33, no overflow below
      const uint64_t desc_start = (name_end + align - 1) / align * align;
      const uint64_t desc_end = desc_start + descsz;
      if (desc_end > left)
        return malformed("namesz " + dec(namesz) + " and descsz " + dec(descsz) +
                         " run past the end of the segment (" + hex(left) + " bytes left)");
      auto name = notes.subspan(pos + sizeof nh, namesz);
      if (nh.n_type == TP_NOTE_TYPE && name.size() == sizeof TP_NOTE_NAME &&
          std::memcmp(name.data(), TP_NOTE_NAME, sizeof TP_NOTE_NAME) == 0) {
        if (found)
          return fail("bad TPRC note: a second TPRC note at offset " + hex(seg_offset + pos) +
                      " of " + seg + " (an image carries at most one)");
        auto desc = notes.subspan(pos + desc_start, descsz);
        found.emplace(std::vector<uint8_t>(desc.begin(), desc.end()),
                      seg_vaddr + pos + desc_start);
      }
      const uint64_t next = (desc_end + align - 1) / align * align;
      pos = next < left ? pos + next : notes.size();
    }
  }
  if (!found) return true;
  if (const char* problem = tp_note_desc_problem(found->first.data(), found->first.size()))
    return fail(std::string("bad TPRC note: ") + problem);
  return decode_note(found->first, found->second);
}

bool Analyzer::decode_note(const std::vector<uint8_t>& desc, uint64_t desc_vaddr) {
  tp_note_desc d;
  std::memcpy(&d, desc.data(), sizeof d);  // 80 bytes, checked by tp_note_desc_problem
  Note n;
  n.abi_version = d.abi_version;
  n.flags = d.flags;
  n.stack_size = d.stack_size;
  n.min_slot_size = d.min_slot_size;
  n.fixed_slot = d.fixed_slot;
  n.exports_begin = d.exports_begin;
  n.exports_end = d.exports_end;
  n.descriptor_address = desc_vaddr;
  n.name.assign(d.name, strnlen(d.name, sizeof d.name));
  // As the runtime: a non-empty export table must lie inside the image's span
  // (unsigned arithmetic, so a crafted offset wraps and is refused here).
  const uint64_t begin = desc_vaddr + static_cast<uint64_t>(d.exports_begin);
  const uint64_t end = desc_vaddr + static_cast<uint64_t>(d.exports_end);
  const auto [span_start, span_end] = *r_.load_range;
  if (begin != end && (begin < span_start || end > span_end || begin > end))
    return fail("bad TPRC note: it places the export table at " + range(begin, end) +
                ", outside the image " + range(span_start, span_end));
  if (n.fixed_slot >= 0) {
    FixedSlot f;
    f.slot = n.fixed_slot;
    f.link_address = r_.load_range->first;
    f.in_default_arena = static_cast<uint32_t>(n.fixed_slot) < TP_DEFAULT_SLOT_COUNT;
    f.slot_image_address = TP_DEFAULT_ARENA_BASE +
                           static_cast<uint64_t>(n.fixed_slot) * TP_DEFAULT_SLOT_SIZE + kImageGap;
    f.at_slot_address = f.in_default_arena && f.link_address == f.slot_image_address;
    n.fixed = f;
    if (!f.in_default_arena)
      warn("fixed slot " + dec(f.slot) + " does not exist in the default arena (" +
           dec(TP_DEFAULT_SLOT_COUNT) + " slots)");
  }
  if (n.min_slot_size > TP_DEFAULT_SLOT_SIZE)
    warn("it needs slots of at least " + hex(n.min_slot_size) + " bytes, larger than the " +
         "default arena's " + hex(TP_DEFAULT_SLOT_SIZE));
  r_.note = std::move(n);
  read_exports();
  return true;
}

bool Analyzer::classify() {
  const bool dynamic_pie = r_.interpreter.has_value();
  if (*r_.e_type == E::ET_EXEC) {
    r_.cls = Class::kFixedExec;
    if (r_.note)
      warn("it carries a TPRC note, but an ET_EXEC image loads only at its link address "
           "(link it as a PIE)");
  } else {
    // ET_DYN: an executable, or a shared library? Like the runtime, anything
    // with an entry point is run (ld.so and libc.so.6 are programs too); a
    // library without DF_1_PIE only gets a warning.
    const bool has_entry = r_.entry != 0;
    if (!has_entry && !r_.pie_flag) {
      std::string what = "a shared library (ET_DYN with no entry point and no DF_1_PIE";
      if (r_.soname) what += "; DT_SONAME " + *r_.soname;
      return fail(what + "), not an executable");
    }
    if (!dynamic_pie && !r_.has_dynamic)
      return fail("ET_DYN with neither PT_INTERP nor PT_DYNAMIC: not a PIE or static-PIE");
    if (r_.soname && !r_.pie_flag)
      warn("a shared library (DT_SONAME " + *r_.soname +
           ") with an entry point: it runs as a program only if it was made to, like ld.so");
    if (r_.note)
      r_.cls = Class::kSlotAware;
    else
      r_.cls = dynamic_pie ? Class::kOrdinaryPie : Class::kStaticPie;
  }
  bool entry_ok = false;
  for (const Load& l : loads_)
    if ((l.flags & E::PF_X) && l.vaddr <= r_.entry && r_.entry - l.vaddr < l.memsz)
      entry_ok = true;
  if (!entry_ok) return fail("entry " + hex(r_.entry) + " is not inside an executable segment");
  if (r_.textrel)
    return fail(std::string("text relocations (") + (dyn_.textrel ? "DT_TEXTREL" : "DF_TEXTREL") +
                "): the runtime maps images with read-only text; rebuild with -fPIC/-fPIE");
  return true;
}

// Pointer-sized words in export records are relocated at run time: read the
// relocations that apply to [begin, end).
std::map<uint64_t, Reloc> Analyzer::relocations_in(uint64_t begin, uint64_t end) {
  std::map<uint64_t, Reloc> out;
  if (!dyn_.rela || !dyn_.relasz || *dyn_.relasz == 0) return out;
  if (dyn_.relaent && *dyn_.relaent != sizeof(Rela)) {
    warn("DT_RELAENT " + dec(*dyn_.relaent) + " is not 24: relocations not read");
    return out;
  }
  auto table = map(*dyn_.rela, *dyn_.relasz);
  if (!table) {
    warn("the DT_RELA table " + range(*dyn_.rela, *dyn_.rela + *dyn_.relasz) +
         " is not inside the file-backed part of one PT_LOAD: relocations not read");
    return out;
  }
  const size_t count = table->size() / sizeof(Rela);
  for (size_t i = 0; i < count; ++i) {
    Rela rela;
    std::memcpy(&rela, table->data() + i * sizeof(Rela), sizeof rela);
    const uint64_t offset = rela.r_offset;
    if (offset < begin || offset >= end) continue;
    out[offset] = Reloc{rela.getType(false), rela.getSymbol(false),
                        static_cast<int64_t>(rela.r_addend)};
  }
  return out;
}

// The link-time value of the pointer at `at`: from its relocation (the addend
// of R_X86_64_RELATIVE), else from the file's bytes (--apply-dynamic-relocs,
// RELR, or a pointer that is not relocated at all).
std::optional<uint64_t> Analyzer::resolve_pointer(uint64_t at,
                                                  const std::map<uint64_t, Reloc>& relocs,
                                                  std::string& problem) {
  auto word = map(at, 8);
  if (!word) {
    problem = "the pointer at " + hex(at) + " cannot be read";
    return std::nullopt;
  }
  uint64_t value;
  std::memcpy(&value, word->data(), 8);
  auto it = relocs.find(at);
  if (it == relocs.end()) return value;
  const Reloc& rel = it->second;
  if (rel.type == E::R_X86_64_RELATIVE) return static_cast<uint64_t>(rel.addend);
  if (rel.type == E::R_X86_64_64 || rel.type == E::R_X86_64_GLOB_DAT) {
    const int64_t addend = rel.type == E::R_X86_64_64 ? rel.addend : 0;
    if (rel.sym == 0) return static_cast<uint64_t>(addend);
    std::optional<std::span<const uint8_t>> entry;
    if (dyn_.symtab) entry = map(*dyn_.symtab + uint64_t{rel.sym} * sizeof(Sym), sizeof(Sym));
    if (!entry) {
      problem = "the pointer at " + hex(at) + " refers to dynamic symbol " + dec(rel.sym) +
                ", which cannot be read";
      return std::nullopt;
    }
    Sym sym;
    std::memcpy(&sym, entry->data(), sizeof sym);
    if (sym.st_shndx != E::SHN_UNDEF) return sym.st_value + static_cast<uint64_t>(addend);
    auto name = dynstr(sym.st_name);
    problem = "the pointer at " + hex(at) + " refers to " +
              (name ? "\"" + *name + "\"" : "a symbol") + " defined in another object";
    return std::nullopt;
  }
  problem = "the pointer at " + hex(at) + " has relocation " +
            llvm::object::getELFRelocationTypeName(E::EM_X86_64, rel.type).str() + " (type " +
            dec(rel.type) + ")";
  return std::nullopt;
}

void Analyzer::read_exports() {
  const Note& n = *r_.note;
  const uint64_t begin = n.descriptor_address + static_cast<uint64_t>(n.exports_begin);
  const uint64_t len = static_cast<uint64_t>(n.exports_end) - static_cast<uint64_t>(n.exports_begin);
  if (len == 0) return;  // tp_note_desc_problem checked len <= 4 GiB, a multiple of 24
  if (!map(begin, len)) {
    warn("the export table " + range(begin, begin + len) +
         " is not inside the file-backed part of one PT_LOAD: exports not read");
    return;
  }
  const auto relocs = relocations_in(begin, begin + len);
  const uint64_t count = len / sizeof(tp_export_record);
  if (count > kMaxExports) warn("only the first " + dec(kMaxExports) + " exports are listed");
  for (uint64_t i = 0; i < count && i < kMaxExports; ++i) {
    Export e;
    e.record_address = begin + i * sizeof(tp_export_record);
    const uint64_t name_at = e.record_address + offsetof(tp_export_record, name);
    const uint64_t address_at = e.record_address + offsetof(tp_export_record, address);
    const uint64_t size_at = e.record_address + offsetof(tp_export_record, size);
    std::string problem, address_problem;
    auto name_address = resolve_pointer(name_at, relocs, problem);
    auto address = resolve_pointer(address_at, relocs, address_problem);
    if (problem.empty()) problem = std::move(address_problem);
    std::memcpy(&e.size, map(size_at, 8)->data(), 8);  // inside the table, mapped above
    if (relocs.count(size_at) && problem.empty())
      problem = "its size field is relocated (" + hex(size_at) + ")";
    if (name_address) {
      e.name_address = *name_address;
      if (*name_address == 0) {
        if (problem.empty()) problem = "its name pointer is null";
      } else if (auto name = cstring_at(*name_address, kMaxStringLength)) {
        e.name = std::move(*name);
        if (e.name.empty() && problem.empty()) problem = "its name is empty";
      } else if (problem.empty()) {
        problem = "its name at " + hex(*name_address) +
                  " is not a NUL-terminated string in the file-backed part of a PT_LOAD";
      }
    }
    if (address) {
      e.address = *address;
      if (!in_memory_image(*address) && problem.empty())
        problem = "its address " + hex(*address) + " is outside every PT_LOAD";
    }
    e.problem = std::move(problem);
    r_.exports.push_back(std::move(e));
  }
}

std::optional<std::span<const uint8_t>> Analyzer::map(uint64_t vaddr, uint64_t len) const {
  for (const Load& l : loads_) {
    if (vaddr < l.vaddr || vaddr - l.vaddr >= l.filesz) continue;
    const uint64_t delta = vaddr - l.vaddr;
    if (len > l.filesz - delta) return std::nullopt;
    return bytes_.subspan(l.offset + delta, len);  // offset + filesz <= size, checked
  }
  return std::nullopt;
}

std::optional<std::string> Analyzer::cstring_at(uint64_t vaddr, uint64_t limit) const {
  for (const Load& l : loads_) {
    if (vaddr < l.vaddr || vaddr - l.vaddr >= l.filesz) continue;
    const uint64_t delta = vaddr - l.vaddr;
    auto rest = bytes_.subspan(l.offset + delta, std::min(l.filesz - delta, limit + 1));
    auto nul = std::find(rest.begin(), rest.end(), uint8_t{0});
    if (nul == rest.end()) return std::nullopt;
    return std::string(rest.begin(), nul);
  }
  return std::nullopt;
}

std::optional<std::string> Analyzer::dynstr(uint64_t offset) const {
  if (!dyn_.strtab) return std::nullopt;
  if (dyn_.strsz && offset >= *dyn_.strsz) return std::nullopt;
  auto at = checked_add(*dyn_.strtab, offset);
  if (!at) return std::nullopt;
  uint64_t limit = kMaxStringLength;
  if (dyn_.strsz) limit = std::min(limit, *dyn_.strsz - offset);
  return cstring_at(*at, limit);
}

bool Analyzer::in_memory_image(uint64_t vaddr) const {
  for (const Load& l : loads_)
    if (vaddr >= l.vaddr && vaddr - l.vaddr <= l.memsz) return true;  // one past the end too
  return false;
}

}  // namespace

std::string_view class_name(Class c) {
  switch (c) {
    case Class::kSlotAware: return "slot-aware";
    case Class::kOrdinaryPie: return "ordinary PIE";
    case Class::kStaticPie: return "static-PIE";
    case Class::kFixedExec: return "ET_EXEC";
    case Class::kNotLoadable: return "not loadable";
  }
  return "not loadable";
}

std::string display_name(const Note& note) {
  return note.name.empty() ? "(file name)" : note.name;
}

std::string elf_type_name(uint16_t type) {
  switch (type) {
    case E::ET_NONE: return "ET_NONE";
    case E::ET_REL: return "ET_REL";
    case E::ET_EXEC: return "ET_EXEC";
    case E::ET_DYN: return "ET_DYN";
    case E::ET_CORE: return "ET_CORE";
    default: return "ET_? (" + std::to_string(type) + ")";
  }
}

std::vector<std::string> flag_names(uint32_t flags) {
  std::vector<std::string> out;
  if (flags & TP_NOTE_FLAG_PRIVATE_HEAP) out.emplace_back("private-heap");
  if (uint32_t unknown = flags & ~TP_NOTE_FLAGS_KNOWN) out.push_back(hex(unknown));
  return out;
}

Report inspect_image(std::string file, std::span<const uint8_t> bytes) {
  return Analyzer(std::move(file), bytes).run();
}

Inspection inspect_file(const std::string& path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) return FileError{path, buffer.getError().message()};
  const llvm::MemoryBuffer& b = **buffer;
  return inspect_image(path, std::span<const uint8_t>(
                                 reinterpret_cast<const uint8_t*>(b.getBufferStart()),
                                 b.getBufferSize()));
}

}  // namespace tp::inspect

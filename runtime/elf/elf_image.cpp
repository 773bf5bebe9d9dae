// read_elf_image(): the pipeline of small checks, each failing with one exact
// diagnostic. The header and load checks live in their own files.
#include "elf/elf_image.h"

#include <cstring>

#include "elf/checked_math.h"
#include "elf/diagnostics.h"
#include "elf/elf_header.h"
#include "elf/elf_notes.h"
#include "elf/tp_note.h"
#include "elf/load_segments.h"

namespace tp::elf {
namespace {

// Longer interpreter paths than this are corrupt, not real (PATH_MAX is 4096).
constexpr uint64_t kMaxInterpSize = 4096;

Result<std::optional<std::string>> read_interpreter(const FileView& file,
                                                    std::span<const Elf64_Phdr> phdrs) {
  const std::string& name = file.name();
  const Elf64_Phdr* interp = nullptr;
  size_t interp_index = 0;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    if (phdrs[i].p_type != PT_INTERP) continue;
    if (interp != nullptr)
      return elf_error(name, "more than one PT_INTERP (program headers " + dec(interp_index) +
                                 " and " + dec(i) + ")");
    interp = &phdrs[i];
    interp_index = i;
  }
  if (interp == nullptr) return std::optional<std::string>();

  const uint64_t size = interp->p_filesz;
  auto end = checked_add(interp->p_offset, size);
  if (!end)
    return elf_error(name, "p_offset " + hex(interp->p_offset) + " + p_filesz " + hex(size) +
                               " of PT_INTERP overflows");
  if (*end > file.size())
    return elf_error(name, "p_offset + p_filesz (" + hex(*end) +
                               ") of PT_INTERP is past the end of the file (" +
                               hex(file.size()) + " bytes)");
  if (size < 2 || size > kMaxInterpSize)
    return elf_error(name, "PT_INTERP size " + dec(size) +
                               " is not between 2 and 4096 bytes");
  std::string path(size, '\0');
  TP_TRY(file.read(interp->p_offset, path.data(), path.size()));
  if (path.back() != '\0')
    return elf_error(name, "PT_INTERP " + quoted(path) + " is not NUL-terminated");
  path.pop_back();
  // An embedded NUL would make the path the kernel or we open differ from the
  // one printed.
  if (size_t nul = path.find('\0'); nul != std::string::npos)
    return elf_error(name, "PT_INTERP " + quoted(path) + " has a NUL at byte " + dec(nul) +
                               " before its end");
  if (path.front() != '/')
    return elf_error(name, "PT_INTERP " + quoted(path) + " is not an absolute path");
  return std::optional<std::string>(std::move(path));
}

const LoadSegment* file_backed_load_containing_vaddr(const std::vector<LoadSegment>& loads,
                                                     uint64_t start, uint64_t end) {
  for (const LoadSegment& l : loads)
    if (l.vaddr <= start && end <= l.vaddr + l.filesz) return &l;
  return nullptr;
}

const LoadSegment* load_containing_offset(const std::vector<LoadSegment>& loads, uint64_t start,
                                          uint64_t end) {
  for (const LoadSegment& l : loads)
    if (l.offset <= start && end <= l.offset + l.filesz) return &l;
  return nullptr;
}

// Where the program headers are once mapped: ld.so and libc read them through
// AT_PHDR, so that address must hold the very bytes validated here.
Result<uint64_t> find_phdr_vaddr(const std::string& name, const Elf64_Ehdr& eh,
                                 std::span<const Elf64_Phdr> phdrs,
                                 const std::vector<LoadSegment>& loads) {
  const uint64_t table_size = eh.e_phnum * kPhdrSize;
  const uint64_t table_end = eh.e_phoff + table_size;  // checked by read_elf_header
  const Elf64_Phdr* pt_phdr = nullptr;
  size_t pt_phdr_index = 0;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    if (phdrs[i].p_type != PT_PHDR) continue;
    if (pt_phdr != nullptr)
      return elf_error(name, "more than one PT_PHDR (program headers " + dec(pt_phdr_index) +
                                 " and " + dec(i) + ")");
    pt_phdr = &phdrs[i];
    pt_phdr_index = i;
  }

  if (pt_phdr == nullptr) {
    const LoadSegment* l = load_containing_offset(loads, eh.e_phoff, table_end);
    if (l == nullptr)
      return elf_error(name, "program headers [" + hex(eh.e_phoff) + ", " + hex(table_end) +
                                 ") are not inside any PT_LOAD");
    return l->vaddr + (eh.e_phoff - l->offset);
  }

  const uint64_t vaddr = pt_phdr->p_vaddr;
  auto vend = checked_add(vaddr, table_size);
  const LoadSegment* l =
      vend ? file_backed_load_containing_vaddr(loads, vaddr, *vend) : nullptr;
  if (l == nullptr)
    return elf_error(name, "PT_PHDR at " + hex(vaddr) + " (" + dec(table_size) +
                               " bytes) is not inside the file-backed part of any PT_LOAD");
  const uint64_t maps_offset = l->offset + (vaddr - l->vaddr);
  if (maps_offset != eh.e_phoff)
    return elf_error(name, "PT_PHDR at " + hex(vaddr) + " maps file offset " +
                               hex(maps_offset) + ", not the program headers at e_phoff " +
                               hex(eh.e_phoff));
  return vaddr;
}

Status check_entry(const std::string& name, uint64_t entry,
                   const std::vector<LoadSegment>& loads) {
  for (const LoadSegment& l : loads)
    if ((l.flags & PF_X) != 0 && l.vaddr <= entry && entry - l.vaddr < l.memsz)
      return ok_status();
  return elf_error(name, "entry " + hex(entry) + " is not inside an executable segment");
}

}  // namespace

bool has_elf_magic(std::span<const uint8_t> first_bytes) {
  return first_bytes.size() >= SELFMAG && std::memcmp(first_bytes.data(), ELFMAG, SELFMAG) == 0;
}

std::string ElfImage::describe_kind() const {
  switch (kind) {
    case ImageKind::kDynamicPie: return "dynamic PIE";
    case ImageKind::kStaticPie: return "static PIE";
    case ImageKind::kFixedExec: return "fixed-address executable (ET_EXEC)";
  }
  return "unknown";
}

Result<ElfImage> read_elf_image(const FileView& file) {
  TP_ASSIGN_OR_RETURN(const Elf64_Ehdr eh, read_elf_header(file));
  TP_ASSIGN_OR_RETURN(const std::vector<Elf64_Phdr> phdrs, read_program_headers(file, eh));
  TP_ASSIGN_OR_RETURN(LoadLayout layout, check_load_segments(phdrs, file.size(), file.name()));

  ElfImage image;
  image.entry = eh.e_entry;
  image.phnum = eh.e_phnum;
  image.loads = std::move(layout.loads);
  image.span_start = layout.span_start;
  image.span_end = layout.span_end;
  image.max_align = layout.max_align;
  TP_TRY(check_entry(file.name(), image.entry, image.loads));
  TP_ASSIGN_OR_RETURN(image.phdr_vaddr, find_phdr_vaddr(file.name(), eh, phdrs, image.loads));
  TP_ASSIGN_OR_RETURN(image.interpreter, read_interpreter(file, phdrs));
  TP_ASSIGN_OR_RETURN(image.tp_note, read_tp_note(file, phdrs));
  if (image.tp_note) {
    TP_ASSIGN_OR_RETURN(image.slot_aware, decode_tp_note(*image.tp_note, image, file.name()));
  }
  for (const Elf64_Phdr& ph : phdrs) {
    // The kernel lets the last PT_GNU_STACK win; so do we.
    if (ph.p_type != PT_GNU_STACK) continue;
    image.has_gnu_stack = true;
    image.exec_stack = (ph.p_flags & PF_X) != 0;
  }
  if (eh.e_type == ET_EXEC)
    image.kind = ImageKind::kFixedExec;
  else
    image.kind = image.interpreter ? ImageKind::kDynamicPie : ImageKind::kStaticPie;
  return image;
}

}  // namespace tp::elf

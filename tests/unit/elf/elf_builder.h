// Builds small ELF images in memory for the reader's tests.
//
// A test starts from ElfBuilder::minimal() (a valid static PIE), breaks one
// field, builds the bytes and checks the one diagnostic that names it.
#pragma once

#include "threadprocs/abi.h"

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace tp::elf::testing {

inline Elf64_Phdr make_phdr(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
                            uint64_t filesz, uint64_t memsz, uint64_t align) {
  Elf64_Phdr ph{};
  ph.p_type = type;
  ph.p_flags = flags;
  ph.p_offset = offset;
  ph.p_vaddr = vaddr;
  ph.p_paddr = vaddr;
  ph.p_filesz = filesz;
  ph.p_memsz = memsz;
  ph.p_align = align;
  return ph;
}

// One note record: header, name (with its NUL) and descriptor, each padded.
// Sized up front and filled with memcpy (GCC 12 misreads vector::insert here
// as an out-of-bounds copy under -Warray-bounds).
inline std::vector<uint8_t> make_note(std::string_view name, uint32_t type,
                                      const std::vector<uint8_t>& desc, uint64_t align = 4) {
  auto padded = [align](size_t n) { return (n + align - 1) / align * align; };
  Elf64_Nhdr nh{static_cast<uint32_t>(name.size() + 1), static_cast<uint32_t>(desc.size()), type};
  const size_t desc_at = padded(sizeof nh + name.size() + 1);
  std::vector<uint8_t> out(padded(desc_at + desc.size()), 0);
  std::memcpy(out.data(), &nh, sizeof nh);
  if (!name.empty()) std::memcpy(out.data() + sizeof nh, name.data(), name.size());
  if (!desc.empty()) std::memcpy(out.data() + desc_at, desc.data(), desc.size());
  return out;
}

// A Threadprocs note descriptor (abi.h), well-formed unless a test changes it.
inline std::vector<uint8_t> valid_desc(const char* name = "prog", int32_t fixed_slot = TP_NOTE_ANY_SLOT,
                                       int64_t exports_begin = 0, int64_t exports_end = 0) {
  tp_note_desc d{};
  d.abi_version = TP_ABI_VERSION;
  d.fixed_slot = fixed_slot;
  d.exports_begin = exports_begin;
  d.exports_end = exports_end;
  std::strncpy(d.name, name, sizeof d.name);
  std::vector<uint8_t> out(sizeof d);
  std::memcpy(out.data(), &d, sizeof d);
  return out;
}

class ElfBuilder {
 public:
  Elf64_Ehdr ehdr{};
  std::vector<Elf64_Phdr> phdrs;
  uint64_t file_size = 0;
  std::optional<uint16_t> phnum_override;  // else e_phnum = phdrs.size()
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> blobs;  // bytes placed at offsets

  // A valid static PIE of 0x1100 bytes:
  //   phdr 0: PT_LOAD R+X  offset 0      vaddr 0      filesz 0x1000 memsz 0x1000
  //   phdr 1: PT_LOAD R+W  offset 0x1000 vaddr 0x2000 filesz 0x100  memsz 0x2000
  // entry 0x800, program headers at offset 0x40 (inside phdr 0).
  static ElfBuilder minimal() {
    ElfBuilder b;
    std::memcpy(b.ehdr.e_ident, ELFMAG, SELFMAG);
    b.ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    b.ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    b.ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    b.ehdr.e_type = ET_DYN;
    b.ehdr.e_machine = EM_X86_64;
    b.ehdr.e_version = EV_CURRENT;
    b.ehdr.e_entry = 0x800;
    b.ehdr.e_phoff = sizeof(Elf64_Ehdr);
    b.ehdr.e_ehsize = sizeof(Elf64_Ehdr);
    b.ehdr.e_phentsize = sizeof(Elf64_Phdr);
    b.phdrs.push_back(make_phdr(PT_LOAD, PF_R | PF_X, 0, 0, 0x1000, 0x1000, 0x1000));
    b.phdrs.push_back(make_phdr(PT_LOAD, PF_R | PF_W, 0x1000, 0x2000, 0x100, 0x2000, 0x1000));
    b.file_size = 0x1100;
    return b;
  }

  // Appends a program header; returns its index.
  size_t add(const Elf64_Phdr& ph) {
    phdrs.push_back(ph);
    return phdrs.size() - 1;
  }

  void put(uint64_t offset, std::vector<uint8_t> bytes) {
    blobs.emplace_back(offset, std::move(bytes));
  }

  // A PT_INTERP whose contents are exactly `bytes` (include the NUL yourself).
  size_t add_interp(std::string_view bytes, uint64_t offset = 0x300) {
    put(offset, std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return add(make_phdr(PT_INTERP, PF_R, offset, offset, bytes.size(), bytes.size(), 1));
  }

  // A PT_NOTE holding `notes` (one or more make_note() records).
  size_t add_notes(const std::vector<uint8_t>& notes, uint64_t offset = 0x400,
                   uint64_t align = 4) {
    put(offset, notes);
    return add(make_phdr(PT_NOTE, PF_R, offset, offset, notes.size(), notes.size(), align));
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out(file_size, 0);
    auto write = [&out](uint64_t offset, const void* data, size_t len) {
      // Whatever falls outside the file is dropped: tests truncate on purpose.
      for (size_t i = 0; i < len; ++i)
        if (offset + i < out.size()) out[offset + i] = static_cast<const uint8_t*>(data)[i];
    };
    Elf64_Ehdr eh = ehdr;
    eh.e_phnum = phnum_override ? *phnum_override : static_cast<uint16_t>(phdrs.size());
    write(0, &eh, sizeof eh);
    if (eh.e_phoff < file_size)
      write(eh.e_phoff, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
    for (const auto& [offset, bytes] : blobs) write(offset, bytes.data(), bytes.size());
    return out;
  }
};

}  // namespace tp::elf::testing

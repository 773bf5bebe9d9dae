#include "elf/elf_header.h"

#include <algorithm>
#include <cstring>

#include "elf/checked_math.h"
#include "elf/diagnostics.h"
#include "elf/elf_image.h"

namespace tp::elf {
namespace {

// A few well-known machines by name, so "e_machine 183" reads as AArch64.
std::string machine_name(uint16_t machine) {
  switch (machine) {
    case EM_386: return " (i386)";
    case EM_ARM: return " (ARM)";
    case EM_AARCH64: return " (AArch64)";
    case EM_RISCV: return " (RISC-V)";
    case EM_PPC64: return " (PowerPC64)";
    case EM_S390: return " (s390)";
    default: return "";
  }
}

Status check_ident(const std::string& file, const unsigned char* ident) {
  switch (ident[EI_CLASS]) {
    case ELFCLASS64: break;
    case ELFCLASS32: return elf_error(file, "ELF class 1 (32-bit) is not supported");
    default:
      return elf_error(file, "ELF class " + dec(ident[EI_CLASS]) +
                                 " is invalid (expected 2, 64-bit)");
  }
  switch (ident[EI_DATA]) {
    case ELFDATA2LSB: break;
    case ELFDATA2MSB: return elf_error(file, "big-endian ELF (EI_DATA 2) is not supported");
    default:
      return elf_error(file, "EI_DATA " + dec(ident[EI_DATA]) +
                                 " is invalid (expected 1, little-endian)");
  }
  if (ident[EI_VERSION] != EV_CURRENT)
    return elf_error(file, "EI_VERSION " + dec(ident[EI_VERSION]) + " is not EV_CURRENT (1)");
  return ok_status();
}

Status check_type_and_machine(const std::string& file, const Elf64_Ehdr& eh) {
  if (eh.e_version != EV_CURRENT)
    return elf_error(file, "e_version " + dec(eh.e_version) + " is not EV_CURRENT (1)");
  switch (eh.e_type) {
    case ET_EXEC:
    case ET_DYN: break;
    case ET_REL:
      return elf_error(file, "is a relocatable object (ET_REL), not an executable");
    case ET_CORE: return elf_error(file, "is a core dump (ET_CORE), not an executable");
    default:
      return elf_error(file, "e_type " + dec(eh.e_type) +
                                 " is not an executable type (ET_EXEC or ET_DYN)");
  }
  if (eh.e_machine != EM_X86_64)
    return elf_error(file, "e_machine " + dec(eh.e_machine) + machine_name(eh.e_machine) +
                               " is not x86-64 (62)");
  return ok_status();
}

Status check_phdr_table(const FileView& file, const Elf64_Ehdr& eh) {
  const std::string& name = file.name();
  if (eh.e_ehsize < sizeof(Elf64_Ehdr))
    return elf_error(name, "e_ehsize " + dec(eh.e_ehsize) +
                               " is smaller than an ELF64 header (64 bytes)");
  if (eh.e_phentsize != kPhdrSize)
    return elf_error(name, "e_phentsize " + dec(eh.e_phentsize) +
                               " is not the size of an ELF64 program header (56)");
  if (eh.e_phnum == 0) return elf_error(name, "has no program headers (e_phnum 0)");
  // PN_XNUM moves the count into section 0; executables never need it.
  if (eh.e_phnum == PN_XNUM)
    return elf_error(name, "e_phnum 0xffff (PN_XNUM, extended numbering) is not supported");
  if (eh.e_phnum > kMaxPhnum)
    return elf_error(name, "e_phnum " + dec(eh.e_phnum) + " exceeds the limit of " +
                               dec(kMaxPhnum) + " program headers (64 KiB)");
  const uint64_t table_size = eh.e_phnum * kPhdrSize;  // <= 64 KiB, cannot overflow
  auto table_end = checked_add(eh.e_phoff, table_size);
  if (!table_end)
    return elf_error(name, "e_phoff " + hex(eh.e_phoff) + " + " + dec(table_size) +
                               " bytes of program headers overflows");
  if (*table_end > file.size())
    return elf_error(name, "program headers [" + hex(eh.e_phoff) + ", " + hex(*table_end) +
                               ") are past the end of the file (" + hex(file.size()) +
                               " bytes)");
  return ok_status();
}

}  // namespace

Result<Elf64_Ehdr> read_elf_header(const FileView& file) {
  unsigned char bytes[sizeof(Elf64_Ehdr)] = {};
  const size_t have = static_cast<size_t>(std::min<uint64_t>(file.size(), sizeof bytes));
  TP_TRY(file.read(0, bytes, have));
  // "Not ELF at all" first: the caller may then try it as a #! script.
  if (!has_elf_magic(std::span<const uint8_t>(bytes, have)))
    return elf_error(file.name(), "not an ELF file (no \\x7fELF magic)");
  if (have < sizeof(Elf64_Ehdr))
    return elf_error(file.name(), "file is too small for an ELF header (" + dec(file.size()) +
                                      " bytes, need 64)");
  TP_TRY(check_ident(file.name(), bytes));
  // Only now are the multi-byte fields known to be little-endian, like the host.
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes, sizeof eh);
  TP_TRY(check_type_and_machine(file.name(), eh));
  TP_TRY(check_phdr_table(file, eh));
  return eh;
}

Result<std::vector<Elf64_Phdr>> read_program_headers(const FileView& file,
                                                     const Elf64_Ehdr& ehdr) {
  std::vector<Elf64_Phdr> phdrs(ehdr.e_phnum);
  TP_TRY(file.read(ehdr.e_phoff, phdrs.data(), phdrs.size() * kPhdrSize));
  return phdrs;
}

}  // namespace tp::elf

// Reading and checking the ELF header and the program header table
// (internal to tp_elf): the first two reads of read_elf_image().
#pragma once

#include <elf.h>

#include <vector>

#include "common/result.h"
#include "elf/file_view.h"

namespace tp::elf {

// sizeof(Elf64_Phdr); e_phentsize must be exactly this.
inline constexpr uint64_t kPhdrSize = sizeof(Elf64_Phdr);
// Linux refuses a program header table larger than 64 KiB (ELF_MIN_ALIGN * 16
// in binfmt_elf); so do we, which also bounds what we read.
inline constexpr uint64_t kMaxPhnum = 65536 / kPhdrSize;

// One read of at most 64 bytes; refuses anything that is not a little-endian
// ELF64 x86-64 executable (ET_EXEC or ET_DYN) with a sane program header table
// that lies inside the file.
Result<Elf64_Ehdr> read_elf_header(const FileView& file);

// One read of e_phnum entries at e_phoff; `ehdr` must come from read_elf_header.
Result<std::vector<Elf64_Phdr>> read_program_headers(const FileView& file,
                                                     const Elf64_Ehdr& ehdr);

}  // namespace tp::elf

#include "elf/elf_notes.h"

#include <cstring>
#include <vector>

#include "elf/checked_math.h"
#include "elf/diagnostics.h"
#include "threadprocs/abi.h"

namespace tp::elf {
namespace {

// namesz counts the terminating NUL.
constexpr char kTpNoteName[] = TP_NOTE_NAME;

bool is_tp_note(const Elf64_Nhdr& nh, std::span<const uint8_t> name) {
  return nh.n_type == TP_NOTE_TYPE && name.size() == sizeof kTpNoteName &&
         std::memcmp(name.data(), kTpNoteName, sizeof kTpNoteName) == 0;
}

// Notes are aligned to 4 bytes, or to 8 when the segment says so (GNU
// property notes); other alignments are not produced by any linker.
Result<uint64_t> note_alignment(const Elf64_Phdr& ph, size_t index, const std::string& file) {
  if (ph.p_align <= 4) return uint64_t{4};
  if (ph.p_align == 8) return uint64_t{8};
  return elf_error(file, "p_align " + hex(ph.p_align) + " of PT_NOTE " + dec(index) +
                             " is not 4 or 8");
}

}  // namespace

Status scan_note_segment(std::span<const uint8_t> notes, uint64_t align, uint64_t segment_offset,
                         uint64_t segment_vaddr, size_t index, const std::string& file,
                         std::optional<ImageNote>& found) {
  uint64_t pos = 0;
  while (pos < notes.size()) {
    const uint64_t left = notes.size() - pos;
    auto malformed = [&](const std::string& why) {
      return elf_error(file, "malformed note at offset " + hex(segment_offset + pos) +
                                 " of PT_NOTE " + dec(index) + ": " + why);
    };
    Elf64_Nhdr nh;
    if (left < sizeof nh)
      return malformed(dec(left) + " bytes left, less than a 12-byte note header");
    std::memcpy(&nh, notes.data() + pos, sizeof nh);
    // Offsets within this note; namesz and descsz are 32-bit, so these sums
    // stay far below 2^64, but they go through the checked helpers all the same.
    const uint64_t name_end = sizeof nh + uint64_t{nh.n_namesz};
    auto desc_start = align_up(name_end, align);
    auto desc_end = desc_start ? checked_add(*desc_start, nh.n_descsz) : std::nullopt;
    if (!desc_end || *desc_end > left)
      return malformed("namesz " + dec(nh.n_namesz) + " and descsz " + dec(nh.n_descsz) +
                       " run past the end of the segment (" + hex(left) + " bytes left)");
    auto name = notes.subspan(pos + sizeof nh, nh.n_namesz);
    if (is_tp_note(nh, name)) {
      if (found)
        return elf_error(file, "second TPRC note at offset " + hex(segment_offset + pos) +
                                   " of PT_NOTE " + dec(index) + " (an image carries at most one)");
      auto desc = notes.subspan(pos + *desc_start, nh.n_descsz);
      // p_vaddr was checked against the PT_LOADs by nobody yet: the sum may wrap,
      // and the decoder checks the addresses it derives against the image's span.
      found = ImageNote{std::vector<uint8_t>(desc.begin(), desc.end()), segment_vaddr + pos + *desc_start};
    }
    // The padding after the last note may be cut off by the segment's end.
    auto next = align_up(*desc_end, align);
    pos = (next && *next < left) ? pos + *next : notes.size();
  }
  return ok_status();
}

Result<std::optional<ImageNote>> read_tp_note(const FileView& file,
                                              std::span<const Elf64_Phdr> phdrs) {
  std::optional<ImageNote> found;
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type != PT_NOTE) continue;
    auto end = checked_add(ph.p_offset, ph.p_filesz);
    if (!end)
      return elf_error(file.name(), "p_offset " + hex(ph.p_offset) + " + p_filesz " +
                                        hex(ph.p_filesz) + " of PT_NOTE " + dec(i) +
                                        " overflows");
    if (*end > file.size())
      return elf_error(file.name(), "p_offset + p_filesz (" + hex(*end) + ") of PT_NOTE " +
                                        dec(i) + " is past the end of the file (" +
                                        hex(file.size()) + " bytes)");
    if (ph.p_filesz > kMaxNoteSegment)
      return elf_error(file.name(), "PT_NOTE " + dec(i) + " is " + hex(ph.p_filesz) +
                                        " bytes, more than the limit of " +
                                        hex(kMaxNoteSegment));
    TP_ASSIGN_OR_RETURN(uint64_t align, note_alignment(ph, i, file.name()));
    buffer.resize(ph.p_filesz);
    TP_TRY(file.read(ph.p_offset, buffer.data(), buffer.size()));
    TP_TRY(scan_note_segment(buffer, align, ph.p_offset, ph.p_vaddr, i, file.name(), found));
  }
  return found;
}

}  // namespace tp::elf

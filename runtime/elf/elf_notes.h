// Walking PT_NOTE segments and finding the Threadprocs note (internal to tp_elf).
#pragma once

#include <elf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "elf/elf_image.h"
#include "elf/file_view.h"

namespace tp::elf {

// A note segment larger than this is refused rather than read into memory;
// real ones (build-id, ABI tag, GNU properties, ours) are a few hundred bytes.
inline constexpr uint64_t kMaxNoteSegment = uint64_t{1} << 20;

// Reads every PT_NOTE of `phdrs` and checks that its notes are well formed.
// Returns the descriptor of the note named "TPRC" with type TP_NOTE_TYPE, if
// any; two such notes are refused, as the image's wishes would be ambiguous.
Result<std::optional<ImageNote>> read_tp_note(const FileView& file,
                                              std::span<const Elf64_Phdr> phdrs);

// The walk itself, over one note segment already in memory. `segment_offset`
// and `index` only serve the diagnostics; `found` carries the TPRC note across
// segments.
Status scan_note_segment(std::span<const uint8_t> notes, uint64_t align, uint64_t segment_offset,
                         uint64_t segment_vaddr,
                         size_t index, const std::string& file, std::optional<ImageNote>& found);

}  // namespace tp::elf

#include "elf/tp_note.h"

#include <cstring>

#include "elf/diagnostics.h"
#include "threadprocs/abi.h"

namespace tp::elf {

Result<SlotAwareNote> decode_tp_note(const ImageNote& note, const ElfImage& image, const std::string& file) {
  if (const char* problem = tp_note_desc_problem(note.desc.data(), note.desc.size()))
    return elf_error(file, std::string("its Threadprocs note is malformed: ") + problem);
  tp_note_desc d;
  std::memcpy(&d, note.desc.data(), sizeof d);
  SlotAwareNote out;
  out.abi_version = d.abi_version;
  out.flags = d.flags;
  out.stack_size = d.stack_size;
  out.min_slot_size = d.min_slot_size;
  out.fixed_slot = d.fixed_slot;
  out.name = d.name;  // NUL-terminated: checked above
  // Unsigned arithmetic: a crafted offset wraps instead of overflowing, and
  // the span check below refuses whatever it wrapped to.
  out.exports_begin = note.desc_vaddr + uint64_t(d.exports_begin);
  out.exports_end = note.desc_vaddr + uint64_t(d.exports_end);
  if (out.exports_end != out.exports_begin &&
      (out.exports_begin < image.span_start || out.exports_end > image.span_end ||
       out.exports_begin > out.exports_end))
    return elf_error(file, "its Threadprocs note places the export table at [" + hex(out.exports_begin) + ", " +
                               hex(out.exports_end) + "), outside the image [" + hex(image.span_start) + ", " +
                               hex(image.span_end) + ")");
  return out;
}

}  // namespace tp::elf

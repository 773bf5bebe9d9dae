#include "elf/load_segments.h"

#include <algorithm>

#include "elf/checked_math.h"
#include "elf/diagnostics.h"

namespace tp::elf {
namespace {

std::string load_name(size_t index) { return "PT_LOAD " + dec(index); }

std::string range(uint64_t start, uint64_t end) {
  return "[" + hex(start) + ", " + hex(end) + ")";
}

// The checks that need only the segment itself.
Status check_one(const Elf64_Phdr& ph, size_t index, uint64_t file_size,
                 const std::string& file) {
  const std::string seg = load_name(index);
  if (ph.p_filesz > ph.p_memsz)
    return elf_error(file, "p_filesz " + hex(ph.p_filesz) + " of " + seg +
                               " is larger than its p_memsz " + hex(ph.p_memsz));
  auto file_end = checked_add(ph.p_offset, ph.p_filesz);
  if (!file_end)
    return elf_error(file, "p_offset " + hex(ph.p_offset) + " + p_filesz " + hex(ph.p_filesz) +
                               " of " + seg + " overflows");
  if (*file_end > file_size)
    return elf_error(file, "p_offset + p_filesz (" + hex(*file_end) + ") of " + seg +
                               " is past the end of the file (" + hex(file_size) + " bytes)");
  if (ph.p_memsz > kMaxImageSpan)
    return elf_error(file, "memory size " + hex(ph.p_memsz) + " of " + seg +
                               " exceeds the limit of " + hex(kMaxImageSpan) + " (1 TiB)");
  auto mem_end = checked_add(ph.p_vaddr, ph.p_memsz);
  if (!mem_end)
    return elf_error(file, "p_vaddr " + hex(ph.p_vaddr) + " + p_memsz " + hex(ph.p_memsz) +
                               " of " + seg + " overflows");
  if (*mem_end > kUserAddressEnd)
    return elf_error(file, seg + " " + range(ph.p_vaddr, *mem_end) +
                               " ends above the 47-bit user address space (" +
                               hex(kUserAddressEnd) + ")");
  // 0 and 1 both mean "no alignment" in the ELF spec.
  if (ph.p_align > 1 && !is_power_of_two(ph.p_align))
    return elf_error(file, "p_align " + hex(ph.p_align) + " of " + seg +
                               " is not a power of two");
  // The loader aligns the whole image to the largest p_align; one larger than
  // any image could be is a corrupt header, not a request.
  if (ph.p_align > kMaxImageSpan)
    return elf_error(file, "p_align " + hex(ph.p_align) + " of " + seg +
                               " exceeds the limit of " + hex(kMaxImageSpan) + " (1 TiB)");
  // mmap maps whole pages: file offset and address must agree within a page.
  if (ph.p_vaddr % kPageSize != ph.p_offset % kPageSize)
    return elf_error(file, "p_vaddr " + hex(ph.p_vaddr) + " and p_offset " + hex(ph.p_offset) +
                               " of " + seg + " differ modulo the page size (4096)");
  return ok_status();
}

// The checks between a segment and the one mapped before it.
Status check_against_previous(const Elf64_Phdr& prev, size_t prev_index, const Elf64_Phdr& ph,
                              size_t index, const std::string& file) {
  const uint64_t prev_end = prev.p_vaddr + prev.p_memsz;  // checked by check_one
  const uint64_t end = ph.p_vaddr + ph.p_memsz;
  if (ph.p_vaddr < prev.p_vaddr)
    return elf_error(file, "p_vaddr " + hex(ph.p_vaddr) + " of " + load_name(index) +
                               " is below p_vaddr " + hex(prev.p_vaddr) + " of the previous " +
                               load_name(prev_index) + " (PT_LOADs must ascend)");
  if (ph.p_vaddr < prev_end)
    return elf_error(file, load_name(index) + " " + range(ph.p_vaddr, end) + " overlaps " +
                               load_name(prev_index) + " " + range(prev.p_vaddr, prev_end));
  const uint64_t prev_last_page_end = *page_up(prev_end);  // prev_end <= 2^47
  if (page_down(ph.p_vaddr) >= prev_last_page_end) return ok_status();
  // The two share a page, which can only be mapped once: from one file offset,
  // and without the first one's zero fill clearing the second one's bytes.
  const uint64_t prev_delta = prev.p_vaddr - prev.p_offset;  // modulo 2^64 on purpose
  const uint64_t delta = ph.p_vaddr - ph.p_offset;
  if (prev_delta != delta)
    return elf_error(file, load_name(prev_index) + " and " + load_name(index) +
                               " share the page at " + hex(page_down(ph.p_vaddr)) +
                               " but map it from different file offsets (p_vaddr - p_offset " +
                               hex(prev_delta) + " vs " + hex(delta) + ")");
  if (prev.p_memsz != prev.p_filesz)
    return elf_error(file, load_name(prev_index) + " and " + load_name(index) +
                               " share the page at " + hex(page_down(ph.p_vaddr)) +
                               " but the zero fill of " + load_name(prev_index) + " (p_filesz " +
                               hex(prev.p_filesz) + " < p_memsz " + hex(prev.p_memsz) +
                               ") would clear it");
  return ok_status();
}

}  // namespace

Result<LoadLayout> check_load_segments(std::span<const Elf64_Phdr> phdrs, uint64_t file_size,
                                       const std::string& file) {
  LoadLayout layout;
  layout.max_align = kPageSize;
  const Elf64_Phdr* prev = nullptr;
  size_t prev_index = 0;
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    if (ph.p_type != PT_LOAD) continue;
    TP_TRY(check_one(ph, i, file_size, file));
    // An empty PT_LOAD maps nothing (the kernel skips it too); it is checked
    // above but takes no part in ordering or the span.
    if (ph.p_memsz == 0) continue;
    if (prev != nullptr) TP_TRY(check_against_previous(*prev, prev_index, ph, i, file));
    prev = &ph;
    prev_index = i;
    layout.loads.push_back(LoadSegment{ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz,
                                       ph.p_align, ph.p_flags});
    layout.max_align = std::max<uint64_t>(layout.max_align, ph.p_align);
  }
  if (layout.loads.empty()) return elf_error(file, "has no non-empty PT_LOAD segment");
  // Ascending and disjoint, so the last segment ends highest; every end is
  // below 2^47, so page rounding cannot overflow.
  const LoadSegment& last = layout.loads.back();
  layout.span_start = page_down(layout.loads.front().vaddr);
  layout.span_end = *page_up(last.vaddr + last.memsz);
  const uint64_t span = layout.span_end - layout.span_start;
  if (span > kMaxImageSpan)
    return elf_error(file, "the PT_LOAD segments span " + hex(span) + " bytes " +
                               range(layout.span_start, layout.span_end) +
                               ", more than the limit of " + hex(kMaxImageSpan) + " (1 TiB)");
  return layout;
}

}  // namespace tp::elf

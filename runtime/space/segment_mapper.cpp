#include "space/segment_mapper.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>

#include "common/errno_text.h"
#include "space/arena.h"
#include "space/slot_layout.h"

namespace tp {
namespace {
int prot_of(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

Status map_error(const std::string& name, size_t index, const char* what, uint64_t addr, int err) {
  char buf[64];
  snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(addr));
  return make_error(name + ": cannot map " + what + " of PT_LOAD " + std::to_string(index) + " at " + buf + ": " +
                    errno_text(err));
}
}  // namespace

Status map_segments(const elf::ElfImage& image, int fd, uint64_t bias, const std::string& name,
                    const std::string& label) {
  for (size_t i = 0; i < image.loads.size(); ++i) {
    const auto& seg = image.loads[i];
    const int prot = prot_of(seg.flags);
    const uint64_t start = bias + seg.vaddr;
    const uint64_t page = align_down(start, kPageSize);
    const uint64_t file_end = start + seg.filesz;
    const uint64_t mem_end = start + seg.memsz;
    // The rest of the last file page must read as zeros, to the page's end as
    // the kernel does: ld.so's early malloc hands out the memory past its _end
    // in that page and relies on it being zero.
    const bool zero_tail = seg.memsz > seg.filesz && seg.filesz > 0 && file_end % kPageSize != 0;
    if (seg.filesz > 0) {
      uint64_t len = align_up(file_end, kPageSize) - page;
      int map_prot = zero_tail ? (prot | PROT_WRITE) : prot;
      void* got = mmap(reinterpret_cast<void*>(page), len, map_prot, MAP_PRIVATE | MAP_FIXED, fd,
                       off_t(align_down(seg.offset, kPageSize)));
      if (got == MAP_FAILED) return map_error(name, i, "the file part", page, errno);
      if (zero_tail) {
        uint64_t zero_end = align_up(file_end, kPageSize);
        memset(reinterpret_cast<void*>(file_end), 0, zero_end - file_end);
        if (map_prot != prot && mprotect(reinterpret_cast<void*>(page), len, prot) != 0)
          return map_error(name, i, "the file part", page, errno);
      }
    }
    uint64_t anon_start = seg.filesz > 0 ? align_up(file_end, kPageSize) : page;
    uint64_t anon_end = align_up(mem_end, kPageSize);
    if (anon_end > anon_start) {
      void* got = mmap(reinterpret_cast<void*>(anon_start), anon_end - anon_start, prot,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
      if (got == MAP_FAILED) return map_error(name, i, "the zero-filled part", anon_start, errno);
      name_mapping(anon_start, anon_end - anon_start, label.c_str());
    }
  }
  return ok_status();
}

}  // namespace tp

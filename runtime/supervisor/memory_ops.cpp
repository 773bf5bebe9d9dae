#include "supervisor/memory_ops.h"

#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace tp {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kHuge = 2ull << 20;
constexpr int kMapType = 0x0f;  // MAP_TYPE

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

// Alignment for a new mapping: 2 MiB for large ones (transparent huge pages),
// else that of the hint when it had one.
uint64_t alignment_for(uint64_t len, uint64_t hint) {
  if (len >= kHuge) return kHuge;
  if (hint) {
    uint64_t a = hint & -hint;  // lowest set bit
    if (a >= kPage && a <= kHuge) return a;
  }
  return kPage;
}

int64_t neg_errno() { return -int64_t(errno); }

}  // namespace

bool reserve_range(uint64_t addr, uint64_t len) {
  return mmap(reinterpret_cast<void*>(addr), len, PROT_NONE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED;
}

int64_t supervised_mmap(SlotState& s, const uint64_t args[6], const FdFetcher& fetch_fd) {
  uint64_t addr = args[0], len = args[1];
  int prot = int(args[2]), flags = int(args[3]), fd = int(args[4]);
  uint64_t off = args[5];
  if (len == 0 || off % kPage) return -EINVAL;
  if (len > (1ull << 47)) return -ENOMEM;
  len = page_up(len);
  int type = flags & kMapType;
  if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) return -EINVAL;

  UniqueFd host_fd;
  if (!(flags & MAP_ANONYMOUS)) {
    int got = fetch_fd(fd);
    if (got < 0) return got;
    host_fd.reset(got);
  }
  const bool fixed = flags & MAP_FIXED, noreplace = flags & MAP_FIXED_NOREPLACE;

  // MAP_32BIT cannot live in a slot: map it where the kernel wants, remember it.
  if ((flags & MAP_32BIT) && !fixed && !noreplace) {
    void* p = mmap(nullptr, len, prot, flags, host_fd.get(), off_t(off));
    if (p == MAP_FAILED) return neg_errno();
    s.side[reinterpret_cast<uint64_t>(p)] = len;
    return int64_t(reinterpret_cast<uint64_t>(p));
  }

  uint64_t target;
  if (fixed || noreplace) {
    if (addr % kPage) return -EINVAL;
    // Outside its slot lie other programs and the host: as if occupied.
    if (!s.map.contains(addr, len)) return noreplace && !fixed ? -EEXIST : -ENOMEM;
    if (noreplace && !fixed && s.map.overlaps(addr, len)) return -EEXIST;
    target = addr;
  } else {
    uint64_t hint = addr & ~(kPage - 1);
    if (hint && s.map.contains(hint, len) && !s.map.overlaps(hint, len)) {
      target = hint;
    } else {
      auto found = s.map.find_free(len, alignment_for(len, hint));
      if (!found) return -ENOMEM;
      target = *found;
    }
  }
  const bool was_mapped = s.map.overlaps(target, len);
  int host_flags = (flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED;
  void* p = mmap(reinterpret_cast<void*>(target), len, prot, host_flags, host_fd.get(), off_t(off));
  if (p == MAP_FAILED) {
    int err = errno;
    // A failed MAP_FIXED may have removed what was there: put the reservation back.
    reserve_range(target, len);
    if (was_mapped) s.map.remove(target, len);
    if (!fixed && !noreplace && host_fd.valid() && (err == EINVAL || err == ENODEV)) {
      // Some files (io_uring rings) refuse a chosen address: let the kernel pick.
      void* q = mmap(nullptr, len, prot, flags, host_fd.get(), off_t(off));
      if (q == MAP_FAILED) return neg_errno();
      s.side[reinterpret_cast<uint64_t>(q)] = len;
      return int64_t(reinterpret_cast<uint64_t>(q));
    }
    return -int64_t(err);
  }
  s.map.add(target, len);
  return int64_t(target);
}

int64_t supervised_munmap(SlotState& s, uint64_t addr, uint64_t len) {
  if (addr % kPage || len == 0) return -EINVAL;
  len = page_up(len);
  if (auto it = s.side.find(addr); it != s.side.end()) {
    if (munmap(reinterpret_cast<void*>(addr), len) != 0) return neg_errno();
    if (len >= it->second) s.side.erase(it);
    else {
      uint64_t rest = it->second - len;
      s.side.erase(it);
      s.side[addr + len] = rest;
    }
    return 0;
  }
  if (!s.map.contains(addr, len)) return -EINVAL;
  if (!reserve_range(addr, len)) return neg_errno();
  s.map.remove(addr, len);
  return 0;
}

int64_t supervised_mremap(SlotState& s, const uint64_t args[6]) {
  uint64_t old = args[0], old_len = page_up(args[1]), new_len = page_up(args[2]);
  int flags = int(args[3]);
  uint64_t new_addr = args[4];
  if (old % kPage || new_len == 0) return -EINVAL;
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return -EINVAL;
  if (s.side.count(old)) {
    // Outside the slot: let it be done as asked, unless it would move into the arena.
    if ((flags & MREMAP_FIXED) && !s.map.contains(new_addr, new_len)) return -EINVAL;
    void* p = mremap(reinterpret_cast<void*>(old), old_len, new_len, flags, reinterpret_cast<void*>(new_addr));
    if (p == MAP_FAILED) return neg_errno();
    s.side.erase(old);
    uint64_t at = reinterpret_cast<uint64_t>(p);
    if (s.map.contains(at, new_len)) s.map.add(at, new_len);
    else s.side[at] = new_len;
    return int64_t(at);
  }
  if (!s.map.contains(old, old_len ? old_len : kPage)) return -EFAULT;
  const bool keep_old = flags & MREMAP_DONTUNMAP;

  auto move_to = [&](uint64_t target) -> int64_t {
    void* p = mremap(reinterpret_cast<void*>(old), old_len, new_len, flags | MREMAP_MAYMOVE | MREMAP_FIXED,
                     reinterpret_cast<void*>(target));
    if (p == MAP_FAILED) return neg_errno();
    if (!keep_old && old_len) {
      reserve_range(old, old_len);  // the old range is a hole now
      s.map.remove(old, old_len);
    }
    s.map.add(target, new_len);
    return int64_t(target);
  };

  if (flags & MREMAP_FIXED) {
    if (new_addr % kPage) return -EINVAL;
    if (!s.map.contains(new_addr, new_len)) return -ENOMEM;
    return move_to(new_addr);
  }
  if (old_len && new_len <= old_len && !keep_old) {
    if (new_len < old_len) {
      void* p = mremap(reinterpret_cast<void*>(old), old_len, new_len, 0);
      if (p == MAP_FAILED) return neg_errno();
      reserve_range(old + new_len, old_len - new_len);
      s.map.remove(old + new_len, old_len - new_len);
    }
    return int64_t(old);
  }
  // Grow in place when the range after it is free in the slot: drop our
  // reservation there so the kernel can extend the mapping into it.
  if (old_len && !keep_old) {
    uint64_t tail = old + old_len, tail_len = new_len - old_len;
    if (s.map.contains(tail, tail_len) && !s.map.overlaps(tail, tail_len) &&
        munmap(reinterpret_cast<void*>(tail), tail_len) == 0) {
      void* p = mremap(reinterpret_cast<void*>(old), old_len, new_len, 0);
      if (p != MAP_FAILED) {
        s.map.add(tail, tail_len);
        return int64_t(old);
      }
      reserve_range(tail, tail_len);
    }
  }
  if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
  auto found = s.map.find_free(new_len, alignment_for(new_len, 0));
  if (!found) return -ENOMEM;
  return move_to(*found);
}

int64_t supervised_brk(SlotState& s, uint64_t addr) {
  // As the kernel: a request it cannot satisfy returns the current break.
  if (addr < s.brk_start || addr > s.brk_limit) return int64_t(s.brk_cur);
  uint64_t cur_top = page_up(s.brk_cur), new_top = page_up(addr);
  if (new_top > cur_top) {
    if (mmap(reinterpret_cast<void*>(cur_top), new_top - cur_top, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
      reserve_range(cur_top, new_top - cur_top);
      return int64_t(s.brk_cur);
    }
    s.map.add(cur_top, new_top - cur_top);
  } else if (new_top < cur_top) {
    reserve_range(new_top, cur_top - new_top);
    s.map.remove(new_top, cur_top - new_top);
  }
  s.brk_cur = addr;
  return int64_t(addr);
}

int64_t supervised_shmat(SlotState& s, const uint64_t args[6]) {
  int id = int(args[0]), shmflg = int(args[2]);
  uint64_t addr = args[1];
  shmid_ds ds{};
  if (shmctl(id, IPC_STAT, &ds) != 0) return neg_errno();
  uint64_t len = page_up(ds.shm_segsz);
  uint64_t target;
  if (addr) {
    if (shmflg & SHM_RND) addr &= ~(uint64_t(SHMLBA) - 1);
    if (addr % kPage) return -EINVAL;
    if (!s.map.contains(addr, len)) return -EINVAL;
    if (!(shmflg & SHM_REMAP) && s.map.overlaps(addr, len)) return -EINVAL;
    target = addr;
  } else {
    auto found = s.map.find_free(len, kPage);
    if (!found) return -ENOMEM;
    target = *found;
  }
  void* p = shmat(id, reinterpret_cast<void*>(target), (shmflg & ~SHM_RND) | SHM_REMAP);
  if (p == reinterpret_cast<void*>(-1)) return neg_errno();
  s.map.add(target, len);
  s.shm[target] = len;
  return int64_t(target);
}

int64_t supervised_shmdt(SlotState& s, uint64_t addr) {
  auto it = s.shm.find(addr);
  if (it == s.shm.end()) return -EINVAL;
  if (shmdt(reinterpret_cast<void*>(addr)) != 0) return neg_errno();
  reserve_range(addr, it->second);
  s.map.remove(addr, it->second);
  s.shm.erase(it);
  return 0;
}

int64_t supervised_io_setup(SlotState& s, const uint64_t args[6]) {
  // The context belongs to the mm, which the host shares: set it up here, and
  // read the id the kernel wrote to the program's pointer.
  auto* ctxp = reinterpret_cast<aio_context_t*>(args[1]);
  long r = syscall(SYS_io_setup, unsigned(args[0]), ctxp);
  if (r != 0) return neg_errno();
  s.aio_contexts.push_back(uint64_t(*ctxp));
  return 0;
}

void release_side_mappings(SlotState& s) {
  for (const auto& [addr, len] : s.side) munmap(reinterpret_cast<void*>(addr), len);
  s.side.clear();
  // EINVAL for contexts the program destroyed itself, which is fine.
  for (uint64_t ctx : s.aio_contexts) syscall(SYS_io_destroy, aio_context_t(ctx));
  s.aio_contexts.clear();
}

}  // namespace tp

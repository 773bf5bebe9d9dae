// slot_check: a 4-thread C++ program that records addresses it knows it owns and checks
// that each lies in its slot, [AT_TP_SLOT_BASE, AT_TP_SLOT_BASE + AT_TP_SLOT_SIZE).
// /proc/self/maps cannot tell: all programs of a space (and the host) share one mm.
//
// Recorded, with all threads alive (they wait on a barrier while main checks):
//   - every thread's stack (pthread_getattr_np: lowest and highest byte), main's too;
//   - every thread's TLS (&errno and a thread_local) and its own 1 MiB malloc block
//     (over the 128 KiB mmap threshold: glibc maps it; threads use their own arenas;
//     with the space's allocator preloaded, mimalloc's segments instead);
//   - a block grown with realloc from 4 KiB to 64 MiB (or to argv[1] bytes), every
//     intermediate address (glibc grows a mapped chunk with mremap);
//   - a small malloc block (main arena, brk) and sbrk(0);
//   - libm from dlopen (link_map l_addr) and dlsym("cos");
//   - every loaded object's PT_LOAD segments (dl_iterate_phdr), except the vDSO, which the
//     kernel maps once for the whole mm;
//   - a page of the program's own file, mapped with mmap (a file mapping);
//   - a static global and the address of main.
// Prints "all N addresses in slot" and exits 0; prints the first offender and exits 1.
// Outside a space (no AT_TP_SLOT_BASE: getauxval returns 0) it does the same work and
// prints "not in a space".
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "threadprocs/abi.h"

namespace {

constexpr int kThreads = 4;

struct Owned {
  std::uintptr_t address;
  std::string what;
};

std::mutex owned_lock;
std::vector<Owned> owned;  // reserved up front: no reallocation while threads record
int static_global = 42;
thread_local int thread_value = 7;

void record(const void* address, std::string what) {
  std::lock_guard<std::mutex> guard(owned_lock);
  owned.push_back({reinterpret_cast<std::uintptr_t>(address), std::move(what)});
}

bool record_stack(pthread_t thread, const std::string& who) {
  pthread_attr_t attr;
  if (pthread_getattr_np(thread, &attr) != 0) {
    std::fprintf(stderr, "slot_check: pthread_getattr_np failed for %s\n", who.c_str());
    return false;
  }
  void* low = nullptr;
  size_t size = 0;
  pthread_attr_getstack(&attr, &low, &size);
  pthread_attr_destroy(&attr);
  record(low, who + " stack (lowest byte)");
  record(static_cast<char*>(low) + size - 1, who + " stack (highest byte)");
  return true;
}

// Both ends of a block.
void record_block(const void* block, size_t size, const std::string& what) {
  record(block, what + " (first byte)");
  record(static_cast<const char*>(block) + size - 1, what + " (last byte)");
}

pthread_barrier_t recorded;  // all threads have recorded
pthread_barrier_t checked;   // main has checked: threads may end

void worker(int index) {
  const std::string who = "thread " + std::to_string(index);
  record_stack(pthread_self(), who);
  int local = index;
  record(&local, who + " local variable");
  record(&errno, who + " &errno (TLS)");
  record(&thread_value, who + " thread_local");
  void* block = std::malloc(1 << 20);
  if (block != nullptr) {
    std::memset(block, index, 1 << 20);
    record_block(block, 1 << 20, who + " malloc(1 MiB)");
  } else {
    record(nullptr, who + " malloc(1 MiB) failed");
  }
  pthread_barrier_wait(&recorded);
  pthread_barrier_wait(&checked);
  std::free(block);
}

struct PhdrContext {
  std::uintptr_t vdso;
};

int record_object(dl_phdr_info* info, size_t, void* data) {
  const auto* context = static_cast<const PhdrContext*>(data);
  const std::string name = info->dlpi_name[0] != '\0' ? info->dlpi_name : "(main program)";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD)
      continue;
    const std::uintptr_t start = info->dlpi_addr + phdr.p_vaddr;
    if (context->vdso != 0 && start <= context->vdso && context->vdso < start + phdr.p_memsz)
      return 0;  // the vDSO: one for the whole mm, the kernel's
    record_block(reinterpret_cast<const void*>(start), phdr.p_memsz,
                 name + " PT_LOAD " + std::to_string(i));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Optional: the size the realloc'd block grows to (default 64 MiB; a power of two).
  const size_t grow_to = argc > 1 ? std::strtoull(argv[1], nullptr, 0) : (64u << 20);
  if (grow_to < 8192) {
    std::fprintf(stderr, "usage: slot_check [REALLOC_BYTES >= 8192]\n");
    return 2;
  }
  const std::uintptr_t base = getauxval(AT_TP_SLOT_BASE);
  const std::uintptr_t size = getauxval(AT_TP_SLOT_SIZE);
  owned.reserve(4096);

  pthread_barrier_init(&recorded, nullptr, kThreads + 1);
  pthread_barrier_init(&checked, nullptr, kThreads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(worker, t);

  record_stack(pthread_self(), "main thread");
  record(&errno, "main &errno (TLS)");
  record(&thread_value, "main thread_local");
  record(&static_global, "static global");
  record(reinterpret_cast<const void*>(&main), "main()");

  // realloc from 4 KiB to 64 MiB, doubling.
  void* grown = std::malloc(4096);
  std::memset(grown, 0xa5, 4096);
  record_block(grown, 4096, "realloc block at 4 KiB");
  for (size_t bytes = 8192; bytes <= grow_to; bytes *= 2) {
    void* bigger = std::realloc(grown, bytes);
    if (bigger == nullptr) {
      std::printf("realloc to %zu bytes failed\n", bytes);
      return 1;
    }
    grown = bigger;
    const auto* first = static_cast<const unsigned char*>(grown);
    if (first[0] != 0xa5 || first[4095] != 0xa5) {
      std::printf("realloc to %zu bytes lost the block's contents\n", bytes);
      return 1;
    }
    std::memset(static_cast<char*>(grown) + bytes / 2, 0x5a, bytes / 2);
    record_block(grown, bytes, "realloc block at " + std::to_string(bytes) + " bytes");
  }

  void* big = std::malloc(1 << 20);
  record_block(big, 1 << 20, "main malloc(1 MiB)");
  void* small = std::malloc(100);
  record_block(small, 100, "main malloc(100) (main arena)");
  record(static_cast<char*>(sbrk(0)) - 1, "sbrk(0) - 1");

  void* libm = dlopen("libm.so.6", RTLD_NOW);
  if (libm == nullptr) {
    std::printf("dlopen libm.so.6: %s\n", dlerror());
    return 1;
  }
  record(reinterpret_cast<const void*>(static_cast<link_map*>(libm)->l_addr), "libm l_addr");
  record(dlsym(libm, "cos"), "libm cos()");

  const char* file = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  const int self = file != nullptr ? open(file, O_RDONLY | O_CLOEXEC) : -1;
  void* file_page = self >= 0 ? mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, self, 0) : MAP_FAILED;
  if (file_page == MAP_FAILED || std::memcmp(file_page, "\177ELF", 4) != 0) {
    std::printf("mapping a page of %s failed\n", file != nullptr ? file : "(no AT_EXECFN)");
    return 1;
  }
  record_block(file_page, 4096, "file mapping of the program");

  PhdrContext context{getauxval(AT_SYSINFO_EHDR)};
  dl_iterate_phdr(record_object, &context);

  pthread_barrier_wait(&recorded);  // every thread alive and recorded
  int status = 0;
  if (base == 0 || size == 0) {
    std::printf("not in a space\n");
  } else {
    std::lock_guard<std::mutex> guard(owned_lock);
    for (const auto& [address, what] : owned) {
      if (address < base || address - base >= size) {
        std::printf("%s at 0x%" PRIxPTR " is outside the slot [0x%" PRIxPTR ", 0x%" PRIxPTR ")\n",
                    what.c_str(), address, base, base + size);
        status = 1;
        break;
      }
    }
    if (status == 0)
      std::printf("all %zu addresses in slot\n", owned.size());
  }
  pthread_barrier_wait(&checked);
  for (auto& thread : threads)
    thread.join();
  munmap(file_page, 4096);
  close(self);
  dlclose(libm);
  std::free(big);
  std::free(small);
  std::free(grown);
  return status;
}

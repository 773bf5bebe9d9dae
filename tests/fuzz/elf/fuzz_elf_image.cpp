// libFuzzer target for the runtime's ELF reader: any bytes go in; the reader
// must either refuse them with a diagnostic naming the file, or accept an
// image that keeps every promise elf_image.h makes to the loader.
#include <elf.h>

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "elf/elf_image.h"
#include "elf/file_view.h"

namespace {

constexpr char kName[] = "fuzz.elf";

// Crashes with the broken promise, so libFuzzer keeps the input.
#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "broken promise: %s (line %d)\n", #cond, __LINE__);   \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

bool inside_x_load(const tp::elf::ElfImage& img, uint64_t addr) {
  for (const auto& l : img.loads)
    if ((l.flags & PF_X) != 0 && l.vaddr <= addr && addr - l.vaddr < l.memsz) return true;
  return false;
}

bool file_backed(const tp::elf::ElfImage& img, uint64_t start, uint64_t len) {
  for (const auto& l : img.loads)
    if (l.vaddr <= start && start - l.vaddr <= l.filesz && len <= l.filesz - (start - l.vaddr))
      return true;
  return false;
}

void check_image(const tp::elf::ElfImage& img, uint64_t file_size) {
  constexpr uint64_t kPage = 4096;
  FUZZ_CHECK(!img.loads.empty());
  uint64_t prev_end = 0;
  for (size_t i = 0; i < img.loads.size(); ++i) {
    const auto& l = img.loads[i];
    FUZZ_CHECK(l.memsz > 0);
    FUZZ_CHECK(l.filesz <= l.memsz);
    FUZZ_CHECK(l.offset <= file_size && l.filesz <= file_size - l.offset);
    FUZZ_CHECK(l.vaddr <= (uint64_t{1} << 47) && l.memsz <= (uint64_t{1} << 47) - l.vaddr);
    FUZZ_CHECK(l.vaddr % kPage == l.offset % kPage);
    FUZZ_CHECK(i == 0 || l.vaddr >= prev_end);
    prev_end = l.vaddr + l.memsz;
  }
  FUZZ_CHECK(img.span_start % kPage == 0 && img.span_end % kPage == 0);
  FUZZ_CHECK(img.span_start <= img.loads.front().vaddr);
  FUZZ_CHECK(img.span_end >= prev_end && img.span_end - prev_end < kPage);
  FUZZ_CHECK(img.span_end - img.span_start <= (uint64_t{1} << 40));
  FUZZ_CHECK(img.max_align >= kPage && (img.max_align & (img.max_align - 1)) == 0);
  FUZZ_CHECK(inside_x_load(img, img.entry));
  FUZZ_CHECK(img.phnum >= 1 && img.phnum <= 65536 / 56);
  FUZZ_CHECK(file_backed(img, img.phdr_vaddr, uint64_t{img.phnum} * 56));
  if (img.interpreter) {
    FUZZ_CHECK(!img.interpreter->empty() && img.interpreter->front() == '/');
    FUZZ_CHECK(img.interpreter->find('\0') == std::string::npos);
  }
  FUZZ_CHECK((img.kind == tp::elf::ImageKind::kDynamicPie) ==
             (img.interpreter.has_value() && img.kind != tp::elf::ImageKind::kFixedExec));
  FUZZ_CHECK(!img.exec_stack || img.has_gnu_stack);
  FUZZ_CHECK(!img.tp_note || img.tp_note->desc.size() <= file_size);
  FUZZ_CHECK(!img.describe_kind().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tp::elf::MemoryFileView view(std::span<const uint8_t>(data, size), kName);
  auto result = tp::elf::read_elf_image(view);
  if (result.ok()) {
    check_image(*result, size);
  } else {
    const std::string& message = result.error().message;
    FUZZ_CHECK(message.rfind(std::string(kName) + ": ", 0) == 0);
    FUZZ_CHECK(message.size() > sizeof kName + 1);
    FUZZ_CHECK(result.error().code == tp::ExitCode::kNotExecutable);
  }
  // Must agree with the reader on "is this ELF at all".
  if (!tp::elf::has_elf_magic(std::span<const uint8_t>(data, size)))
    FUZZ_CHECK(!result.ok());
  return 0;
}

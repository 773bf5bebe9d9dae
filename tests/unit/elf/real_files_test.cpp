// The reader on real executables: what Debian ships and a static PIE built
// with this project's toolchain (TP_TEST_STATIC_PIE, set by CMake).
#include <gtest/gtest.h>
#include <unistd.h>

#include "elf/elf_image.h"
#include "elf/file_view.h"

namespace tp::elf {
namespace {

Result<ElfImage> read_path(const std::string& path) {
  TP_ASSIGN_OR_RETURN(UniqueFd fd, open_readonly(path));
  TP_ASSIGN_OR_RETURN(FdFileView view, FdFileView::open(fd.get(), path));
  return read_elf_image(view);
}

// What holds for any image the reader accepts.
void expect_consistent(const ElfImage& img) {
  ASSERT_FALSE(img.loads.empty());
  EXPECT_EQ(img.span_start % 4096, 0u);
  EXPECT_EQ(img.span_end % 4096, 0u);
  EXPECT_LE(img.span_start, img.loads.front().vaddr);
  EXPECT_GE(img.span_end, img.loads.back().vaddr + img.loads.back().memsz);
  EXPECT_GE(img.max_align, 4096u);
  EXPECT_GE(img.phdr_vaddr, img.span_start);
  EXPECT_LT(img.phdr_vaddr, img.span_end);
  EXPECT_GE(img.entry, img.span_start);
  EXPECT_LT(img.entry, img.span_end);
  EXPECT_GT(img.phnum, 0u);
  EXPECT_FALSE(img.exec_stack);  // Debian builds with a non-executable stack
  EXPECT_TRUE(img.has_gnu_stack);
  EXPECT_FALSE(img.tp_note.has_value());
}

TEST(RealFiles, BinTrueIsDynamicPie) {
  auto r = read_path("/bin/true");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kDynamicPie);
  EXPECT_EQ(r->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(r->span_start, 0u);
  expect_consistent(*r);
}

TEST(RealFiles, EnvIsDynamicPie) {
  auto r = read_path("/usr/bin/env");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kDynamicPie);
  EXPECT_EQ(r->interpreter, "/lib64/ld-linux-x86-64.so.2");
  expect_consistent(*r);
}

TEST(RealFiles, DynamicLoaderIsEtDynWithoutInterpreter) {
  auto r = read_path("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kStaticPie);
  EXPECT_FALSE(r->interpreter.has_value());
  expect_consistent(*r);
}

TEST(RealFiles, StaticPieBuiltHere) {
  auto r = read_path(TP_TEST_STATIC_PIE);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, ImageKind::kStaticPie);
  EXPECT_FALSE(r->interpreter.has_value());
  EXPECT_EQ(r->span_start, 0u);
  expect_consistent(*r);
}

// Debian's python3.11 is ET_EXEC (see DESIGN.md); skipped where it is absent.
TEST(RealFiles, FixedAddressExecutable) {
  const char* path = "/usr/bin/python3.11";
  if (::access(path, R_OK) != 0) GTEST_SKIP() << path << " is not installed";
  auto r = read_path(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  if (r->kind != ImageKind::kFixedExec) GTEST_SKIP() << path << " is a PIE here";
  EXPECT_EQ(r->span_start, 0x400000u);
  expect_consistent(*r);
}

TEST(RealFiles, Directory) {
  auto r = read_path("/usr/bin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/usr/bin: is a directory");
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
}

TEST(RealFiles, MissingFile) {
  auto r = read_path("/usr/bin/tp-no-such-program");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/usr/bin/tp-no-such-program: No such file or directory");
  EXPECT_EQ(r.error().code, ExitCode::kNotFound);
}

TEST(RealFiles, ShellScriptIsNotElf) {
  // /usr/bin/ldd is a bash script on Debian.
  if (::access("/usr/bin/ldd", R_OK) != 0) GTEST_SKIP() << "no /usr/bin/ldd";
  auto r = read_path("/usr/bin/ldd");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/usr/bin/ldd: not an ELF file (no \\x7fELF magic)");
}

}  // namespace
}  // namespace tp::elf

// FdFileView and MemoryFileView: bounds, refusals of non-files, short reads.
#include "elf/file_view.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace tp::elf {
namespace {

// A temporary file holding `size` bytes 0, 1, 2, ... removed at the end.
class TempFile {
 public:
  explicit TempFile(size_t size) {
    char tmpl[] = "/tmp/tp_elf_test_XXXXXX";
    fd_ = UniqueFd(::mkstemp(tmpl));
    path_ = tmpl;
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(::write(fd_.get(), bytes.data(), size), static_cast<ssize_t>(size));
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  UniqueFd fd_;
  std::string path_;
};

TEST(MemoryFileView, ReadsInsideBounds) {
  std::vector<uint8_t> bytes = {1, 2, 3, 4};
  MemoryFileView view(bytes, "mem");
  uint8_t out[2] = {};
  ASSERT_TRUE(view.read(2, out, 2).ok());
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 4);
  EXPECT_TRUE(view.read(4, out, 0).ok());
  EXPECT_EQ(view.size(), 4u);
  EXPECT_EQ(view.name(), "mem");
}

TEST(MemoryFileView, RefusesPastEnd) {
  std::vector<uint8_t> bytes(0x100);
  MemoryFileView view(bytes, "mem");
  uint8_t out[8];
  auto s = view.read(0xfc, out, 8);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "mem: read of 8 bytes at offset 0xfc is past the end of the file (0x100 bytes)");
  EXPECT_EQ(s.error().code, ExitCode::kNotExecutable);
}

TEST(MemoryFileView, RefusesWrappingOffset) {
  std::vector<uint8_t> bytes(0x100);
  MemoryFileView view(bytes, "mem");
  uint8_t out[8];
  auto s = view.read(0xfffffffffffffffc, out, 8);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "mem: read of 8 bytes at offset 0xfffffffffffffffc is past the end of the file "
            "(0x100 bytes)");
}

TEST(FdFileView, ReadsRegularFile) {
  TempFile file(300);
  auto view = FdFileView::open(file.fd(), file.path());
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->size(), 300u);
  EXPECT_EQ(view->name(), file.path());
  uint8_t out[4];
  ASSERT_TRUE(view->read(296, out, 4).ok());
  EXPECT_EQ(out[0], 296 % 256);
  auto s = view->read(297, out, 4);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, file.path() + ": read of 4 bytes at offset 0x129 is past the end "
                                             "of the file (0x12c bytes)");
}

TEST(FdFileView, FileThatShrankIsAShortRead) {
  TempFile file(300);
  auto view = FdFileView::open(file.fd(), file.path());
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_EQ(::ftruncate(file.fd(), 10), 0);
  uint8_t out[50];
  auto s = view->read(0, out, 50);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, file.path() + ": unexpected end of file reading 50 bytes at "
                                             "offset 0x0 (the file shrank to 0xa bytes)");
}

TEST(FdFileView, RefusesDirectory) {
  auto fd = open_readonly("/tmp");
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  auto view = FdFileView::open(fd->get(), "/tmp");
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().message, "/tmp: is a directory");
  EXPECT_EQ(view.error().code, ExitCode::kNotExecutable);
}

TEST(FdFileView, RefusesCharacterDevice) {
  auto fd = open_readonly("/dev/null");
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  auto view = FdFileView::open(fd->get(), "/dev/null");
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().message, "/dev/null: not a regular file");
  EXPECT_EQ(view.error().code, ExitCode::kNotExecutable);
}

TEST(FdFileView, RefusesBadDescriptor) {
  auto view = FdFileView::open(-1, "/x/prog");
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error().message, "/x/prog: cannot stat: Bad file descriptor");
}

TEST(OpenReadonly, MissingFile) {
  auto fd = open_readonly("/nonexistent/tp_elf_test");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().message, "/nonexistent/tp_elf_test: No such file or directory");
  EXPECT_EQ(fd.error().code, ExitCode::kNotFound);
}

}  // namespace
}  // namespace tp::elf

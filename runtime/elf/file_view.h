// Read-only, bounds-checked access to the bytes of an executable.
//
// The ELF reader sees a file only through FileView, so the same validation runs
// on a real file (FdFileView, pread) and on bytes in memory (MemoryFileView,
// for unit tests and the fuzzer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace tp::elf {

class FileView {
 public:
  virtual ~FileView() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly len bytes at offset into out; the error names the file, the
  // offset and len. A range past size() is refused without reading.
  virtual Status read(uint64_t offset, void* out, size_t len) const = 0;
  // The name used in every diagnostic about this file (usually its path).
  virtual const std::string& name() const = 0;
};

// pread()s an fd it does not own; the caller keeps the fd open while the view
// is used. The size is taken once, by fstat at open(): the runtime validates a
// file once and maps it from the same fd, so a later change of size shows up
// as a short read, never as an out-of-bounds one.
class FdFileView final : public FileView {
 public:
  // Refuses a directory ("<name>: is a directory") and any other non-regular
  // file ("<name>: not a regular file") with ExitCode::kNotExecutable.
  static Result<FdFileView> open(int fd, std::string name);

  uint64_t size() const override { return size_; }
  Status read(uint64_t offset, void* out, size_t len) const override;
  const std::string& name() const override { return name_; }
  int fd() const { return fd_; }

 private:
  FdFileView(int fd, uint64_t size, std::string name)
      : fd_(fd), size_(size), name_(std::move(name)) {}

  int fd_;
  uint64_t size_;
  std::string name_;
};

// Opens `path` read-only and close-on-exec, for handing to FdFileView::open.
// ENOENT/ENOTDIR map to ExitCode::kNotFound, anything else to kNotExecutable.
Result<UniqueFd> open_readonly(const std::string& path);

// A view of bytes the caller keeps alive.
class MemoryFileView final : public FileView {
 public:
  explicit MemoryFileView(std::span<const uint8_t> bytes, std::string name = "<memory>")
      : bytes_(bytes), name_(std::move(name)) {}

  uint64_t size() const override { return bytes_.size(); }
  Status read(uint64_t offset, void* out, size_t len) const override;
  const std::string& name() const override { return name_; }

 private:
  std::span<const uint8_t> bytes_;
  std::string name_;
};

}  // namespace tp::elf

#include "elf/file_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errno_text.h"
#include "elf/checked_math.h"
#include "elf/diagnostics.h"

namespace tp::elf {
namespace {

// The same refusal for both views, so tests of one hold for the other.
Status check_range(const FileView& file, uint64_t offset, size_t len) {
  if (range_in_file(offset, len, file.size())) return ok_status();
  return elf_error(file.name(), "read of " + dec(len) + " bytes at offset " + hex(offset) +
                                    " is past the end of the file (" + hex(file.size()) +
                                    " bytes)");
}

}  // namespace

Result<FdFileView> FdFileView::open(int fd, std::string name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    return make_error(name + ": cannot stat: " + errno_text(err), ExitCode::kNotExecutable);
  }
  if (S_ISDIR(st.st_mode)) return elf_error(name, "is a directory");
  if (!S_ISREG(st.st_mode)) return elf_error(name, "not a regular file");
  return FdFileView(fd, static_cast<uint64_t>(st.st_size), std::move(name));
}

Status FdFileView::read(uint64_t offset, void* out, size_t len) const {
  TP_TRY(check_range(*this, offset, len));
  auto* dst = static_cast<uint8_t*>(out);
  size_t done = 0;
  while (done < len) {
    // offset + len <= size_ <= INT64_MAX (an st_size), so the off_t cannot wrap.
    ssize_t n = ::pread(fd_, dst + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return elf_error(name_, "cannot read " + dec(len) + " bytes at offset " + hex(offset) +
                                  ": " + errno_text(err));
    }
    if (n == 0) {
      // The file shrank after open(): refuse rather than use stale zeroes.
      return elf_error(name_, "unexpected end of file reading " + dec(len) +
                                  " bytes at offset " + hex(offset) + " (the file shrank to " +
                                  hex(offset + done) + " bytes)");
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Result<UniqueFd> open_readonly(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    ExitCode code =
        (err == ENOENT || err == ENOTDIR) ? ExitCode::kNotFound : ExitCode::kNotExecutable;
    return make_error(path + ": " + errno_text(err), code);
  }
  return UniqueFd(fd);
}

Status MemoryFileView::read(uint64_t offset, void* out, size_t len) const {
  TP_TRY(check_range(*this, offset, len));
  if (len != 0) std::memcpy(out, bytes_.data() + offset, len);
  return ok_status();
}

}  // namespace tp::elf

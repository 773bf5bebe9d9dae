#include "launcher/resolve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstring>

#include "common/errno_text.h"
#include "elf/elf_image.h"

namespace tp {
namespace {

constexpr size_t kShebangBytes = 256;  // the kernel's BINPRM_BUF_SIZE
// Scripts whose interpreter is a script: Linux 6.x runs a chain of 5 and refuses 6
// (measured), its BINPRM_MAX_RECURSION counted from the first interpreter.
constexpr int kMaxInterpreterDepth = 5;
constexpr const char* kDefaultPath = "/bin:/usr/bin";  // glibc's execvp default

Error not_found(const std::string& name) {
  return make_error(name + ": No such file or directory", ExitCode::kNotFound);
}

// Checks what execve would check, then opens the file for reading (the
// host reads the image through this fd).
Result<UniqueFd> open_executable(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    return make_error(path + ": " + errno_text(err),
                      err == ENOENT || err == ENOTDIR ? ExitCode::kNotFound : ExitCode::kNotExecutable);
  }
  if (S_ISDIR(st.st_mode)) return make_error(path + ": Is a directory", ExitCode::kNotExecutable);
  if (!S_ISREG(st.st_mode)) return make_error(path + ": Permission denied (not a regular file)", ExitCode::kNotExecutable);
  if (access(path.c_str(), X_OK) != 0) return make_error(path + ": Permission denied", ExitCode::kNotExecutable);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return make_error(path + ": " + errno_text(err) +
                          (err == EACCES ? " (the file is executable but not readable; threadprocs must read it)" : ""),
                      ExitCode::kNotExecutable);
  }
  struct statvfs vfs;
  if (fstatvfs(fd.get(), &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
    return make_error(path + ": Permission denied (its file system is mounted noexec)", ExitCode::kNotExecutable);
  return fd;
}

Result<std::string> read_head(int fd, const std::string& path) {
  char buf[kShebangBytes];
  ssize_t n;
  do n = pread(fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return make_error(path + ": cannot read: " + errno_text(errno), ExitCode::kNotExecutable);
  return std::string(buf, size_t(n));
}

// Like execvp: a name with a slash is used as is; otherwise each PATH entry is
// tried in turn, remembering a permission problem if nothing runnable is found.
Result<std::string> search_path(const std::string& program, const char* path_env) {
  if (program.empty()) return not_found("''");
  if (program.find('/') != std::string::npos) return program;
  std::string path = path_env ? path_env : kDefaultPath;
  std::optional<Error> denied;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0) return dir.empty() ? program : candidate;
      if (!denied) denied = make_error(candidate + ": Permission denied", ExitCode::kNotExecutable);
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (denied) return *denied;
  return make_error(program + ": command not found", ExitCode::kNotFound);
}

bool looks_like_text(std::string_view head) {
  if (head.empty()) return false;
  size_t line_end = head.find('\n');
  return head.substr(0, line_end).find('\0') == std::string_view::npos;
}

}  // namespace

Result<Shebang> parse_shebang(const std::string& file, std::string_view head) {
  size_t eol = head.find('\n');
  if (eol == std::string_view::npos) {
    if (head.size() >= kShebangBytes)
      return make_error(file + ": the #! line is longer than " + std::to_string(kShebangBytes) + " bytes",
                        ExitCode::kNotExecutable);
    eol = head.size();
  }
  std::string_view line = head.substr(2, eol - 2);
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  size_t name_end = i;
  while (name_end < line.size() && !is_space(line[name_end]) && line[name_end] != '\0') ++name_end;
  if (name_end == i) return make_error(file + ": the #! line names no interpreter", ExitCode::kNotExecutable);
  Shebang s;
  s.interpreter = std::string(line.substr(i, name_end - i));
  size_t arg = name_end;
  while (arg < line.size() && is_space(line[arg])) ++arg;
  size_t arg_end = line.size();
  while (arg_end > arg && (is_space(line[arg_end - 1]) || line[arg_end - 1] == '\0'))
    --arg_end;
  if (arg_end > arg) {
    s.argument = std::string(line.substr(arg, arg_end - arg));
    s.has_argument = true;
  }
  return s;
}

Result<ResolvedProgram> resolve_program(const std::string& program, std::vector<std::string> argv,
                                        const char* path_env) {
  ResolvedProgram out;
  TP_ASSIGN_OR_RETURN(out.exec_path, search_path(program, path_env));
  std::string current = out.exec_path;
  // `filename` as the kernel passes it to the next interpreter: the path given to execve.
  for (int depth = 0;; ++depth) {
    TP_ASSIGN_OR_RETURN(UniqueFd fd, open_executable(current));
    TP_ASSIGN_OR_RETURN(std::string head, read_head(fd.get(), current));
    auto bytes = std::span(reinterpret_cast<const uint8_t*>(head.data()), head.size());
    if (elf::has_elf_magic(bytes)) {
      out.image_fd = std::move(fd);
      out.argv = std::move(argv);
      return out;
    }
    // As the kernel's load_script: argv becomes [interpreter, (argument),
    // the file being executed, the previous argv[1..]], at every level.
    std::vector<std::string> rewritten;
    std::string next;
    if (head.size() >= 2 && head[0] == '#' && head[1] == '!') {
      if (depth == kMaxInterpreterDepth)
        return make_error(out.exec_path + ": too many levels of #! interpreters", ExitCode::kNotExecutable);
      TP_ASSIGN_OR_RETURN(Shebang sb, parse_shebang(current, head));
      rewritten.push_back(sb.interpreter);
      if (sb.has_argument) rewritten.push_back(sb.argument);
      next = sb.interpreter;
    } else if (depth == 0 && looks_like_text(head)) {
      rewritten.push_back("/bin/sh");  // execvp's fallback for a script without #!
      next = "/bin/sh";
    } else {
      return make_error(current + ": cannot execute: " +
                            (head.empty() ? std::string("empty file") : std::string("not an ELF executable or a script")),
                        ExitCode::kNotExecutable);
    }
    rewritten.push_back(current);
    for (size_t i = 1; i < argv.size(); ++i) rewritten.push_back(std::move(argv[i]));
    current = std::move(next);
    argv = std::move(rewritten);
  }
}

}  // namespace tp

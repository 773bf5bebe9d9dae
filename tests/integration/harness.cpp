#include "harness.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

namespace tpit {
namespace {

std::string errno_text(int error) { return std::string(strerror(error)); }

// Milliseconds until `deadline` for poll(), rounded up, at least 0.
int poll_timeout(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero())
    return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

std::string shorten(const std::string& text, size_t limit = 4000) {
  std::string shown;
  for (char c : text.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7f)) {
      shown += c;
    } else {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      shown += escaped;
    }
  }
  if (text.size() > limit)
    shown += "... (" + std::to_string(text.size()) + " bytes in all)";
  return shown;
}

void close_fd(int& fd) {
  if (fd >= 0)
    close(fd);
  fd = -1;
}

}  // namespace

std::string describe_status(int status) {
  if (status == -1)
    return "never reaped";
  if (WIFEXITED(status))
    return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    std::string text = "killed by SIG" + std::string(name ? name : "?") + " (" +
                       std::to_string(WTERMSIG(status)) + ")";
    if (WCOREDUMP(status))
      text += " (core dumped)";
    return text;
  }
  std::ostringstream text;
  text << "wait status 0x" << std::hex << status;
  return text.str();
}

std::string describe_command(const std::vector<std::string>& argv) {
  std::string line;
  const size_t shown = std::min<size_t>(argv.size(), 12);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0)
      line += ' ';
    line += shorten(argv[i], 200);
  }
  if (shown < argv.size())
    line += " ... (" + std::to_string(argv.size()) + " arguments)";
  return line;
}

std::string describe(const Result& result) {
  return describe_status(result.status) + (result.timed_out ? " (timed out)" : "") +
         "\n--- stdout ---\n" + shorten(result.out) + "\n--- stderr ---\n" + shorten(result.err);
}

std::optional<std::string> find_in_path(const std::string& name,
                                        const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos)
    return name;
  std::string path = "/bin:/usr/bin";  // execvp's default when PATH is unset
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) {
      path = entry.substr(5);
      break;
    }
  }
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat info {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

Child::Child(const Command& command) : command_(command) {
  deadline_ = Clock::now() + command.timeout;
  if (command.argv.empty()) {
    ADD_FAILURE() << "empty command";
    return;
  }
  const std::string file = find_in_path(command.argv[0], command.env).value_or(command.argv[0]);

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << errno_text(errno);
    return;
  }
  in_fd_ = in_pipe[1];
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  fcntl(in_fd_, F_SETFL, O_NONBLOCK);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  int first_closed = 3;
  if (command.inherit_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, command.inherit_fd, 3);
    first_closed = 4;
  }
  // Nothing else of the test process reaches the command.
  posix_spawn_file_actions_addclosefrom_np(&actions, first_closed);
  if (!command.cwd.empty())
    posix_spawn_file_actions_addchdir_np(&actions, command.cwd.c_str());

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, so a timeout can kill whatever it started too; default signal
  // dispositions and an empty mask whatever the test runner had.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);

  std::vector<char*> argv, envp;
  for (const auto& arg : command.argv)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  for (const auto& entry : command.env)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int error = posix_spawn(&pid, file.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (error != 0) {
    ADD_FAILURE() << "cannot run " << describe_command(command.argv) << ": " << errno_text(error);
    close_fds();
    return;
  }
  pid_ = pid;
  pidfd_ = open_pidfd(pid);
  if (pidfd_ < 0)
    ADD_FAILURE() << "pidfd_open(" << pid << "): " << errno_text(errno);
  if (command_.stdin_data.empty())
    close_fd(in_fd_);
}

Child::Child(Child&& other) noexcept
    : command_(std::move(other.command_)),
      pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      in_fd_(std::exchange(other.in_fd_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      stdin_written_(other.stdin_written_),
      exited_(other.exited_),
      deadline_(other.deadline_),
      result_(std::move(other.result_)) {}

Child::~Child() {
  if (pid_ > 0 && !exited_)
    kill_and_reap(nullptr);
  close_fds();
}

void Child::close_fds() {
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
  close_fd(pidfd_);
}

bool Child::done() const { return pid_ <= 0 || (exited_ && out_fd_ < 0 && err_fd_ < 0); }

bool Child::signal(int signal) const {
  if (pidfd_ < 0 || exited_)
    return false;
  return syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0) == 0;
}

void Child::add_poll_fds(std::vector<pollfd>& fds) {
  fds.push_back({in_fd_, POLLOUT, 0});
  fds.push_back({out_fd_, POLLIN, 0});
  fds.push_back({err_fd_, POLLIN, 0});
  fds.push_back({exited_ ? -1 : pidfd_, POLLIN, 0});
}

void Child::handle_poll_fds(const pollfd* fds) {
  if (fds[0].revents != 0 && in_fd_ >= 0) {
    const std::string& data = command_.stdin_data;
    const size_t chunk = std::min<size_t>(data.size() - stdin_written_, 1 << 16);
    const ssize_t put = write(in_fd_, data.data() + stdin_written_, chunk);
    if (put > 0)
      stdin_written_ += static_cast<size_t>(put);
    // EPIPE: the command closed its stdin; what it did not read is its business.
    if ((put < 0 && errno != EAGAIN && errno != EINTR) || stdin_written_ == data.size())
      close_fd(in_fd_);
  }
  int* const readers[2] = {&out_fd_, &err_fd_};
  std::string* const sinks[2] = {&result_.out, &result_.err};
  for (int i = 0; i < 2; ++i) {
    if (fds[1 + i].revents == 0 || *readers[i] < 0)
      continue;
    char buffer[1 << 16];
    const ssize_t got = read(*readers[i], buffer, sizeof buffer);
    if (got > 0)
      sinks[i]->append(buffer, static_cast<size_t>(got));
    else if (got == 0 || errno != EINTR)
      close_fd(*readers[i]);
  }
  if (fds[3].revents != 0 && !exited_) {
    int status = 0;
    const pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) {
      exited_ = true;
      result_.status = status;
    } else if (reaped < 0) {
      ADD_FAILURE() << "waitpid(" << pid_ << "): " << errno_text(errno);
      exited_ = true;
    }
  }
}

void Child::pump(Clock::duration max_wait) {
  if (done())
    return;
  if (Clock::now() >= deadline_) {
    kill_and_reap(exited_ ? "exited, but its stdout/stderr stayed open (a process it left "
                            "behind holds them)"
                          : "still running");
    return;
  }
  std::vector<pollfd> fds;
  add_poll_fds(fds);
  const int timeout = std::min(poll_timeout(deadline_), poll_timeout(Clock::now() + max_wait));
  if (poll(fds.data(), fds.size(), timeout) > 0)
    handle_poll_fds(fds.data());
}

void Child::kill_and_reap(const char* why) {
  if (why != nullptr) {
    result_.timed_out = true;
    ADD_FAILURE() << "timed out after "
                  << std::chrono::duration_cast<std::chrono::seconds>(command_.timeout).count()
                  << " s, killed: " << describe_command(command_.argv) << "\n(" << why << ")"
                  << "\n--- stdout so far ---\n" << shorten(result_.out)
                  << "\n--- stderr so far ---\n" << shorten(result_.err);
  }
  // The group first: it may hold a background process the command started.
  kill(-pid_, SIGKILL);
  if (!exited_) {
    signal(SIGKILL);
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_)
      result_.status = status;
    exited_ = true;
  }
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

bool Child::wait_for_output(std::string_view needle, Clock::duration timeout) {
  const auto until = std::min(deadline_, Clock::now() + timeout);
  while (result_.out.find(needle) == std::string::npos) {
    if (done()) {
      ADD_FAILURE() << describe_command(command_.argv) << " ended before printing \"" << needle
                    << "\": " << describe(result_);
      return false;
    }
    if (Clock::now() >= until) {
      ADD_FAILURE() << describe_command(command_.argv) << " did not print \"" << needle
                    << "\" in time; so far: " << describe(result_);
      return false;
    }
    pump(until - Clock::now());
  }
  return true;
}

Result Child::finish() {
  while (!done())
    pump(deadline_ - Clock::now() + 1ms);
  return result_;
}

Result run(const Command& command) {
  Child child(command);
  return child.finish();
}

std::vector<Result> finish_all(std::vector<Child>& children) {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    auto earliest = Clock::time_point::max();
    for (auto& child : children) {
      if (!child.done() && Clock::now() >= child.deadline_)
        child.pump(0ms);  // kills it and fails the test
      child.add_poll_fds(fds);
      if (!child.done())
        earliest = std::min(earliest, child.deadline_);
    }
    if (earliest == Clock::time_point::max())
      break;
    if (poll(fds.data(), fds.size(), poll_timeout(earliest) + 1) > 0) {
      for (size_t i = 0; i < children.size(); ++i)
        children[i].handle_poll_fds(&fds[4 * i]);
    }
  }
  std::vector<Result> results;
  for (auto& child : children)
    results.push_back(child.result_);
  return results;
}

pid_t wait_for_pid_file(const std::string& path, Child& child, Clock::duration timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    std::ifstream file(path);
    std::string line;
    if (file && std::getline(file, line) && !file.eof()) {  // a complete line
      char* end = nullptr;
      const long pid = strtol(line.c_str(), &end, 10);
      if (pid > 0 && *end == '\0')
        return static_cast<pid_t>(pid);
      ADD_FAILURE() << path << " holds no pid: \"" << line << "\"";
      return -1;
    }
    if (child.done()) {
      ADD_FAILURE() << "the command ended before writing " << path << ": "
                    << describe(child.finish());
      return -1;
    }
    if (Clock::now() >= until) {
      ADD_FAILURE() << "no pid in " << path << " after "
                    << std::chrono::duration_cast<std::chrono::seconds>(timeout).count()
                    << " s; stdout/stderr so far:\n" << child.out() << "\n" << child.err();
      return -1;
    }
    child.pump(5ms);  // also the pause between looks
  }
}

int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

bool wait_until_gone(int pidfd, Clock::duration timeout) {
  pollfd fd{pidfd, POLLIN, 0};
  const auto until = Clock::now() + timeout;
  for (;;) {
    const int ready = poll(&fd, 1, poll_timeout(until));
    if (ready > 0)
      return true;
    if (ready == 0)
      return false;
    if (errno != EINTR) {
      ADD_FAILURE() << "poll(pidfd): " << errno_text(errno);
      return false;
    }
  }
}

std::string process_state(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size())
    return "";
  return stat.substr(paren + 2, 1);
}

std::optional<ElfSummary> read_elf(const std::string& path) {
  const std::string image = read_file(path);
  Elf64_Ehdr header;
  if (image.size() < sizeof header)
    return std::nullopt;
  memcpy(&header, image.data(), sizeof header);
  if (memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr))
    return std::nullopt;
  ElfSummary summary;
  summary.type = header.e_type;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    const size_t offset = header.e_phoff + i * sizeof(Elf64_Phdr);
    if (offset + sizeof(Elf64_Phdr) > image.size())
      return std::nullopt;
    Elf64_Phdr phdr;
    memcpy(&phdr, image.data() + offset, sizeof phdr);
    summary.has_interp |= phdr.p_type == PT_INTERP;
  }
  return summary;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

void write_file(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << "open " << path << ": " << errno_text(errno);
  const bool written = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  fchmod(fd, mode);  // exactly `mode`, whatever the umask
  close(fd);
  ASSERT_TRUE(written) << "write " << path;
}

void remove_tree(const std::string& path) {
  nftw(
      path.c_str(),
      [](const char* name, const struct stat*, int, struct FTW*) {
        remove(name);  // best effort: keep going, a leftover only wastes /tmp
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS);
}

std::string make_temp_dir(const std::string& prefix) {
  std::string templ = "/tmp/" + prefix + "XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << errno_text(errno);
    return "";
  }
  return templ;
}

size_t count_entries(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr)
    return 0;
  size_t count = 0;
  while (const dirent* entry = readdir(handle))
    count += entry->d_name[0] != '.';
  closedir(handle);
  return count;
}

size_t count_lines(const std::string& path) {
  const std::string content = read_file(path);
  return static_cast<size_t>(std::count(content.begin(), content.end(), '\n'));
}

}  // namespace tpit

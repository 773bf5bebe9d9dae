// tp-space: starts, stops and inspects named spaces.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/errno_text.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/size_parse.h"
#include "host/event_log.h"
#include "host/runtime_dir.h"
#include "host/space_host.h"
#include "launcher/space_client.h"
#include "protocol/channel.h"
#include "space/space_allocator.h"

namespace tp {
namespace {

constexpr const char* kReady = "ready";
constexpr const char* kAlreadyRunning = "running";

[[noreturn]] void fail(const std::string& message, int code = 1) {
  fprintf(stderr, "tp-space: %s\n", message.c_str());
  std::exit(code);
}

// ---- start ----------------------------------------------------------------

struct StartOptions {
  std::string name;
  bool foreground = false;
  bool quiet = false;  // no note when the space already runs (tp-run's auto-start)
  uint32_t slots = 0;
  std::string slot_size;
};

Result<UniqueFd> listen_on(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error("socket path " + path + " is too long; set TP_RUNTIME_DIR to a shorter directory");
  memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) return make_error("socket: " + errno_text(errno));
  unlink(path.c_str());  // a stale socket: we hold the space's lock, so its host is dead
  mode_t old = umask(077);
  int rc = bind(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int err = errno;
  umask(old);
  if (rc != 0) return make_error("cannot bind " + path + ": " + errno_text(err));
  if (listen(sock.get(), 4096) != 0) return make_error("listen on " + path + ": " + errno_text(errno));
  return sock;
}

// Tells the waiting parent how the start went (nothing in the foreground).
void report(int fd, const std::string& what) {
  if (fd < 0) return;
  ssize_t ignored = write(fd, what.data(), what.size());
  (void)ignored;
}

int serve(const StartOptions& o, int report_fd) {
  std::string dir = runtime_dir();
  auto fail_start = [&](const std::string& msg) {
    if (report_fd >= 0) report(report_fd, msg);
    else fprintf(stderr, "tp-space: %s\n", msg.c_str());
    return 125;
  };
  if (auto st = ensure_runtime_dir(dir); !st.ok()) return fail_start(st.error().message);
  SpacePaths paths = space_paths(dir, o.name);

  // The lock is held for the host's whole life: it is what makes a space "running".
  UniqueFd lock(open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) return fail_start("cannot open " + paths.lock + ": " + errno_text(errno));
  if (flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail_start("cannot lock " + paths.lock + ": " + errno_text(errno));
    if (report_fd >= 0) report(report_fd, kAlreadyRunning);
    else if (!o.quiet) fprintf(stderr, "tp-space: space %s is already running\n", o.name.c_str());
    return 0;
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(lock.get(), 0) == 0) (void)!pwrite(lock.get(), pid.data(), pid.size(), 0);

  ArenaConfig config = default_arena_config();
  if (o.slots) config.slot_count = o.slots;
  if (!o.slot_size.empty()) {
    auto size = parse_size(o.slot_size, "--slot-size");
    if (!size.ok()) return fail_start(size.error().message);
    config.slot_size = *size;
  }
  // The host holds about four descriptors per program (its connection, its pidfd, the
  // supervisor's listener and pidfd): under the usual soft limit of 1024 a space would fail
  // at ~250 programs. Programs get their launcher's limits, not the host's.
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  auto listener = listen_on(paths.socket);
  if (!listener.ok()) return fail_start(listener.error().message);
  SpaceOptions options;
  auto allocator = locate_space_allocator(own_directory());
  if (!allocator.ok()) return fail_start("space " + o.name + ": " + allocator.error().message);
  options.allocator_preload = *allocator;
  auto space = Space::create(o.name, config, options);
  if (!space.ok()) return fail_start("space " + o.name + ": " + space.error().message);
  auto host = SpaceHost::create(std::move(space).value(), std::move(listener).value());
  if (!host.ok()) return fail_start(host.error().message);

  if (report_fd >= 0) {
    // In the background: nothing of the terminal stays with the host.
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = open(paths.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      close(null);
    }
    if (log >= 0) {
      dup2(log, 2);
      close(log);
    }
    report(report_fd, kReady);
    close(report_fd);
  }
  int rc = (*host)->run();
  unlink(paths.socket.c_str());
  return rc;
}

int start(const StartOptions& o) {
  if (auto st = validate_space_name(o.name); !st.ok()) fail(st.error().message);
  if (!o.slot_size.empty() || o.slots) {
    ArenaConfig config = default_arena_config();
    if (o.slots) config.slot_count = o.slots;
    if (!o.slot_size.empty()) {
      auto size = parse_size(o.slot_size, "--slot-size");
      if (!size.ok()) fail(size.error().message);
      config.slot_size = *size;
    }
    if (auto st = validate_arena_config(config); !st.ok()) fail(st.error().message);
  }
  if (o.foreground) return serve(o, -1);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) fail("pipe: " + errno_text(errno));
  pid_t child = fork();
  if (child < 0) fail("fork: " + errno_text(errno));
  if (child == 0) {
    close(pipefd[0]);
    setsid();  // no controlling terminal: programs of the space never get the terminal's signals
    if (chdir("/") != 0) _exit(125);
    _exit(serve(o, pipefd[1]));
  }
  close(pipefd[1]);
  std::string answer;
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) answer.append(buf, size_t(n));
  close(pipefd[0]);
  if (answer == kReady) return 0;
  if (answer == kAlreadyRunning) {
    if (!o.quiet) fprintf(stderr, "tp-space: space %s is already running\n", o.name.c_str());
    return 0;
  }
  fail(answer.empty() ? "the space host ended before it was ready" : answer, 125);
}

// ---- queries ----------------------------------------------------------------

Result<proto::PsReply> query_ps(const std::string& name) {
  TP_ASSIGN_OR_RETURN(UniqueFd sock, connect_space({name, runtime_dir()}));
  TP_TRY(proto::send_message(sock.get(), proto::PsRequest{}));
  proto::MessageAssembler assembler;
  bool eof = false;
  TP_ASSIGN_OR_RETURN(std::optional<proto::Received> reply, proto::recv_message(sock.get(), assembler, &eof));
  if (!reply) return make_error("space " + name + " closed the connection");
  if (const auto* err = std::get_if<proto::ErrorReply>(&reply->msg)) return make_error(err->message);
  if (const auto* ps = std::get_if<proto::PsReply>(&reply->msg)) return *ps;
  return make_error("space " + name + " sent an unexpected answer");
}

// Names of the spaces whose socket exists in the runtime directory.
std::vector<std::string> socket_names() {
  std::vector<std::string> names;
  DIR* d = opendir(runtime_dir().c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".sock") == 0) names.push_back(f.substr(0, f.size() - 5));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string format_uptime(uint64_t ms) {
  uint64_t s = ms / 1000;
  char buf[32];
  if (s < 60) snprintf(buf, sizeof buf, "%llu.%01llus", (unsigned long long)s, (unsigned long long)(ms % 1000 / 100));
  else if (s < 3600) snprintf(buf, sizeof buf, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
  else snprintf(buf, sizeof buf, "%lluh%02llum", (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60));
  return buf;
}

std::string format_bytes(uint64_t b) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", v, units[u]);
  return buf;
}

uint64_t slot_base(const proto::PsReply& ps, uint32_t slot) { return ps.arena_base + uint64_t(slot) * ps.slot_size; }

std::string ps_json(const proto::PsReply& ps) {
  std::string out = "{\"space\":" + json_quote(ps.space_name) + ",\"slots\":" + std::to_string(ps.slot_count) +
                    ",\"slot_size\":" + std::to_string(ps.slot_size) +
                    ",\"arena_base\":" + std::to_string(ps.arena_base) + ",\"programs\":[";
  for (size_t i = 0; i < ps.entries.size(); ++i) {
    const auto& e = ps.entries[i];
    out += (i ? "," : "");
    out += "{\"slot\":" + std::to_string(e.slot) + ",\"slot_base\":" + std::to_string(slot_base(ps, e.slot)) +
           ",\"pid\":" + std::to_string(e.pid) +
           ",\"state\":" + json_quote(e.state) + ",\"uptime_ms\":" + std::to_string(e.uptime_ms) +
           ",\"program\":" + json_quote(e.program) + ",\"mapped_bytes\":" + std::to_string(e.mapped_bytes) +
           ",\"resident_bytes\":" + std::to_string(e.resident_bytes) + ",\"flags\":" + json_quote(e.flags) +
           ",\"args\":[";
    for (size_t j = 0; j < e.args.size(); ++j) out += (j ? "," : "") + json_quote(e.args[j]);
    out += "]}";
  }
  return out + "]}";
}

int ps(const std::string& name, bool json, bool long_format) {
  std::vector<std::string> names = name.empty() ? socket_names() : std::vector<std::string>{name};
  std::vector<proto::PsReply> replies;
  for (const auto& n : names) {
    auto r = query_ps(n);
    if (!r.ok()) {
      if (!name.empty()) fail(r.error().message);
      continue;  // a stale socket of a dead space
    }
    replies.push_back(std::move(r).value());
  }
  if (json) {
    if (!name.empty()) {
      printf("%s\n", ps_json(replies.front()).c_str());
    } else {
      printf("[");
      for (size_t i = 0; i < replies.size(); ++i) printf("%s%s", i ? "," : "", ps_json(replies[i]).c_str());
      printf("]\n");
    }
    return 0;
  }
  printf("%-16s %5s %8s %-8s %9s %9s %9s  %s%s\n", "SPACE", "SLOT", "PID", "STATE", "UPTIME", "MAPPED", "RSS",
         long_format ? "FLAGS  " : "", "COMMAND");
  for (const auto& r : replies) {
    for (const auto& e : r.entries) {
      std::string cmd = e.program;
      for (const auto& a : e.args) cmd += " " + a;
      // --long: the flags (heap, slot-aware, at-link-address / relocated, holds...) before the command.
      std::string flags = long_format ? e.flags + "  " : "";
      printf("%-16s %5u %8u %-8s %9s %9s %9s  %s%s\n", r.space_name.c_str(), e.slot, e.pid, e.state.c_str(),
             format_uptime(e.uptime_ms).c_str(), format_bytes(e.mapped_bytes).c_str(),
             format_bytes(e.resident_bytes).c_str(), flags.c_str(), cmd.c_str());
    }
  }
  return 0;
}

int list(bool json) {
  struct Row {
    std::string name;
    pid_t pid;
    size_t programs;
    uint32_t slots;
  };
  std::vector<Row> rows;
  for (const auto& n : socket_names()) {
    auto sock = connect_space({n, runtime_dir()});
    if (!sock.ok()) continue;
    auto pid = peer_pid(sock->get());
    auto r = query_ps(n);
    if (!pid.ok() || !r.ok()) continue;
    rows.push_back({n, *pid, r->entries.size(), r->slot_count});
  }
  if (json) {
    printf("[");
    for (size_t i = 0; i < rows.size(); ++i)
      printf("%s{\"name\":%s,\"pid\":%d,\"programs\":%zu,\"slots\":%u}", i ? "," : "", json_quote(rows[i].name).c_str(),
             rows[i].pid, rows[i].programs, rows[i].slots);
    printf("]\n");
    return 0;
  }
  printf("%-16s %8s %9s %6s\n", "SPACE", "PID", "PROGRAMS", "SLOTS");
  for (const auto& r : rows) printf("%-16s %8d %9zu %6u\n", r.name.c_str(), r.pid, r.programs, r.slots);
  return 0;
}

// ---- stop -------------------------------------------------------------------

bool wait_gone(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

int stop(const std::string& name, double grace_seconds) {
  if (auto st = validate_space_name(name); !st.ok()) fail(st.error().message);
  auto sock = connect_space({name, runtime_dir()});
  if (!sock.ok()) fail(sock.error().message);
  auto pid = peer_pid(sock->get());
  if (!pid.ok()) fail(pid.error().message);
  UniqueFd pidfd(int(syscall(SYS_pidfd_open, *pid, 0)));
  if (!pidfd.valid()) fail("space " + name + ": host pid " + std::to_string(*pid) + ": " + errno_text(errno));
  sock->reset();
  syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0);
  if (wait_gone(pidfd.get(), int(grace_seconds * 1000))) return 0;
  fprintf(stderr, "tp-space: space %s did not stop within %.1f s; killing its host\n", name.c_str(), grace_seconds);
  syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
  if (wait_gone(pidfd.get(), 5000)) return 0;
  fail("space " + name + ": host pid " + std::to_string(*pid) + " is still alive after SIGKILL");
}

int release(const std::string& name, uint32_t slot) {
  auto sock = connect_space({name, runtime_dir()});
  if (!sock.ok()) fail(sock.error().message);
  if (auto st = proto::send_message(sock->get(), proto::ReleaseRequest{slot}); !st.ok()) fail(st.error().message);
  proto::MessageAssembler assembler;
  bool eof = false;
  auto reply = proto::recv_message(sock->get(), assembler, &eof);
  if (!reply.ok()) fail(reply.error().message);
  if (!*reply) fail("space " + name + " closed the connection");
  if (const auto* err = std::get_if<proto::ErrorReply>(&(*reply)->msg)) fail(err->message);
  return 0;
}

// ---- log --------------------------------------------------------------------

bool write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDOUT_FILENO, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

// Copies what `fd` holds from `*offset` on to stdout; false if stdout is gone.
bool copy_from(int fd, off_t* offset) {
  char buf[65536];
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, *offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    if (!write_all(buf, size_t(n))) return false;
    *offset += n;
  }
}

// Where the last `lines` lines of the file begin (a final newline ends the last line).
off_t start_of_last_lines(int fd, const std::string& path, int lines) {
  struct stat st{};
  if (fstat(fd, &st) != 0) fail("cannot stat " + path + ": " + errno_text(errno));
  if (lines == 0) return st.st_size;
  int seen = 0;
  char buf[4096];
  for (off_t end = st.st_size; end > 0;) {
    off_t begin = std::max<off_t>(0, end - off_t(sizeof buf));
    ssize_t n = pread(fd, buf, size_t(end - begin), begin);
    if (n != end - begin) fail("cannot read " + path + ": " + errno_text(errno));
    for (off_t i = end - 1; i >= begin; --i)
      if (buf[i - begin] == '\n' && i != st.st_size - 1 && ++seen == lines) return i + 1;
    end = begin;
  }
  return 0;
}

int show_log(const std::string& name, bool follow, int lines) {
  if (auto st = validate_space_name(name); !st.ok()) fail(st.error().message);
  const std::string path = space_paths(runtime_dir(), name).log;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) fail("space " + name + " has no log: " + path + " does not exist (no space " + name +
                              " has run with this runtime directory)");
    fail("cannot open " + path + ": " + errno_text(errno));
  }
  off_t offset = 0;
  if (lines >= 0) offset = start_of_last_lines(fd.get(), path, lines);
  if (!copy_from(fd.get(), &offset)) return 0;
  while (follow) {
    poll(nullptr, 0, 200);
    struct stat now{}, open_st{};
    // A log replaced (rotated) or truncated is read again from its start.
    if (stat(path.c_str(), &now) == 0 && fstat(fd.get(), &open_st) == 0 &&
        (now.st_ino != open_st.st_ino || now.st_dev != open_st.st_dev)) {
      UniqueFd again(open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (again.valid()) {
        if (!copy_from(fd.get(), &offset)) return 0;  // the rest of the old file first
        fd = std::move(again);
        offset = 0;
      }
    } else if (fstat(fd.get(), &open_st) == 0 && open_st.st_size < offset) {
      offset = 0;
    }
    if (!copy_from(fd.get(), &offset)) return 0;
  }
  return 0;
}

// ---- debug ------------------------------------------------------------------

// The program `tp-space debug` attaches gdb to.
struct DebugTarget {
  std::string space;  // empty: not a program of a named space (a private space, or not ours)
  pid_t pid = 0;
  uint32_t slot = 0;
  uint64_t slot_base = 0, slot_size = 0;
};

std::optional<uint64_t> parse_decimal(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(s);
}

// The thread group a pid or thread id belongs to; nullopt if there is no such task.
std::optional<pid_t> thread_group_of(pid_t pid) {
  FILE* f = fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "re");
  if (!f) return std::nullopt;
  char line[256];
  std::optional<pid_t> tgid;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Tgid:", 5) == 0) tgid = pid_t(strtol(line + 5, nullptr, 10));
  fclose(f);
  return tgid;
}

DebugTarget target_of(const proto::PsReply& ps, const proto::PsEntry& e) {
  return DebugTarget{ps.space_name, pid_t(e.pid), e.slot, slot_base(ps, e.slot), ps.slot_size};
}

DebugTarget find_pid(pid_t pid) {
  std::optional<pid_t> tgid = thread_group_of(pid);
  if (!tgid) fail("debug: there is no process " + std::to_string(pid));
  for (const auto& n : socket_names()) {
    auto r = query_ps(n);
    if (!r.ok()) continue;
    for (const auto& e : r->entries)
      if (e.pid != 0 && pid_t(e.pid) == *tgid) return target_of(*r, e);
  }
  return DebugTarget{"", *tgid, 0, 0, 0};
}

DebugTarget find_slot(const std::string& name, const std::string& slot_text) {
  if (auto st = validate_space_name(name); !st.ok()) fail(st.error().message);
  auto slot = parse_decimal(slot_text);
  if (!slot) fail("debug: " + slot_text + " is not a slot number (see tp-space ps " + name + ")");
  auto r = query_ps(name);
  if (!r.ok()) fail(r.error().message);
  for (const auto& e : r->entries) {
    if (e.slot != *slot) continue;
    if (e.pid == 0)
      fail("debug: slot " + slot_text + " of space " + name + " holds the memory of a program that has ended (" +
           e.state + "); there is no process to attach to");
    return target_of(*r, e);
  }
  fail("debug: space " + name + " has no program in slot " + slot_text + " (see tp-space ps " + name + ")");
}

std::string gdb_extension_path() {
  const std::string dir = own_directory();
  std::vector<std::string> candidates;
#ifdef TP_GDB_INSTALL_REL
  candidates.push_back(dir + "/" TP_GDB_INSTALL_REL "/threadprocs_gdb.py");
#endif
  candidates.push_back(dir + "/../share/threadprocs/gdb/threadprocs_gdb.py");
  for (const auto& c : candidates) {
    char real[4096];
    if (access(c.c_str(), R_OK) == 0) return realpath(c.c_str(), real) ? real : c;
  }
  fail("debug: the gdb extension threadprocs_gdb.py is not installed beside tp-space (looked in " +
       candidates.back() + ")");
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=/.,:@%") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}


int debug(const std::vector<std::string>& target, const std::vector<std::string>& gdb_args, bool print_only) {
  DebugTarget t;
  if (target.size() == 1) {
    auto pid = parse_decimal(target[0]);
    if (!pid || *pid == 0 || *pid > uint64_t(INT32_MAX))
      fail("debug: " + target[0] + " is not a pid (tp-space debug PID, or tp-space debug NAME SLOT)");
    t = find_pid(pid_t(*pid));
    if (t.space.empty())
      fprintf(stderr,
              "tp-space: pid %d is not a program of a running named space; the gdb extension looks for its "
              "slot itself (a program of a private space)\n",
              int(t.pid));
  } else if (target.size() == 2) {
    t = find_slot(target[0], target[1]);
  } else {
    fail("debug: expected PID, or NAME SLOT");
  }

  std::string attach = "tp-attach";
  if (!t.space.empty())
    attach += " --space " + t.space + " --slot-base " + hex(t.slot_base) + " --slot-size " + hex(t.slot_size);
  attach += " " + std::to_string(t.pid);
  const char* gdb_env = getenv("TP_GDB");
  std::string gdb = gdb_env && *gdb_env ? gdb_env : "gdb";
  std::vector<std::string> args{gdb, "-q", "-iex", "source " + gdb_extension_path(), "-ex", attach};
  args.insert(args.end(), gdb_args.begin(), gdb_args.end());
  if (print_only) {
    std::string line;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + shell_quote(a);
    printf("%s\n", line.c_str());
    return 0;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  int err = errno;
  if (err == ENOENT)
    fail("debug: " + gdb + " not found: install gdb (or set TP_GDB to the debugger to run)", 127);
  fail("debug: cannot run " + gdb + ": " + errno_text(err), 126);
}

int run(int argc, char** argv) {
  CLI::App app{"Start, stop and inspect Threadprocs spaces.", "tp-space"};
  app.set_version_flag("--version", std::string("tp-space ") + TP_VERSION);
  app.require_subcommand(1);

  StartOptions so;
  auto* start_cmd = app.add_subcommand("start", "Start the host of space NAME (in the background)");
  start_cmd->add_option("NAME", so.name, "Space name")->required();
  start_cmd->add_flag("--foreground", so.foreground, "Serve in the foreground, logging to stderr");
  start_cmd->add_flag("--quiet", so.quiet, "Say nothing when the space already runs");
  start_cmd->add_option("--slots", so.slots, "Number of slots (default 64)");
  start_cmd->add_option("--slot-size", so.slot_size, "Size of each slot (default 64G)");

  std::string stop_name;
  double grace = 5.0;
  auto* stop_cmd = app.add_subcommand("stop", "Stop space NAME: SIGTERM to its programs, SIGKILL after a grace period");
  stop_cmd->add_option("NAME", stop_name, "Space name")->required();
  stop_cmd->add_option("--grace", grace, "Seconds to wait before SIGKILL (default 5)");

  bool json = false;
  auto* list_cmd = app.add_subcommand("list", "List running spaces");
  list_cmd->add_flag("--json", json, "JSON output");

  std::string ps_name;
  auto* ps_cmd = app.add_subcommand("ps", "List the programs of space NAME (or of every space)");
  ps_cmd->add_option("NAME", ps_name, "Space name");
  ps_cmd->add_flag("--json", json, "JSON output");
  bool ps_long = false;
  ps_cmd->add_flag("-l,--long", ps_long,
                   "Show each program's flags: heap, slot-aware and name, at-link-address or relocated, holds");

  std::string release_name;
  uint32_t release_slot = 0;
  auto* release_cmd = app.add_subcommand("release", "Free slot SLOT of space NAME, kept by 'tp-run --keep'");
  release_cmd->add_option("NAME", release_name, "Space name")->required();
  release_cmd->add_option("SLOT", release_slot, "Slot number (see tp-space ps)")->required();

  std::vector<std::string> debug_target;
  bool debug_print = false;
  auto* debug_cmd =
      app.add_subcommand("debug", "Run gdb on one program (PID, or NAME SLOT) with its own symbols");
  debug_cmd->add_option("TARGET", debug_target, "The program's pid, or its space's name and its slot")
      ->required()
      ->expected(1, 2)
      ->type_name("PID | NAME SLOT");
  debug_cmd->footer(
      "Arguments after -- go to gdb: tp-space debug 4242 -- -batch -ex 'thread apply all bt'.\n"
      "TP_GDB names the debugger to run (default: gdb). See docs/debugging.md.");
  debug_cmd->add_flag("--print-command", debug_print, "Print the gdb command line instead of running it");

  std::string log_name;
  bool log_follow = false;
  int log_lines = -1;
  auto* log_cmd = app.add_subcommand("log", "Show the event log of space NAME (launches, exits, reclaims, refusals)");
  log_cmd->add_option("NAME", log_name, "Space name")->required();
  log_cmd->add_flag("-f,--follow", log_follow, "Keep printing what the host logs (until interrupted)");
  log_cmd->add_option("-n,--lines", log_lines, "Print only the last N lines first")->check(CLI::NonNegativeNumber);

  // Everything after "--" belongs to gdb (tp-space debug); CLI11 would take it as positionals.
  std::vector<std::string> gdb_args;
  std::vector<char*> own_args(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) {
      gdb_args.assign(argv + i + 1, argv + argc);
      own_args.resize(size_t(i));
      break;
    }
  }

  try {
    app.parse(int(own_args.size()), own_args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!gdb_args.empty() && !debug_cmd->parsed()) fail("arguments after -- are for tp-space debug only");
  if (start_cmd->parsed()) return start(so);
  if (release_cmd->parsed()) return release(release_name, release_slot);
  if (stop_cmd->parsed()) return stop(stop_name, grace);
  if (list_cmd->parsed()) return list(json);
  if (ps_cmd->parsed()) return ps(ps_name, json, ps_long);
  if (debug_cmd->parsed()) return debug(debug_target, gdb_args, debug_print);
  if (log_cmd->parsed()) return show_log(log_name, log_follow, log_lines);
  return 1;
}

}  // namespace
}  // namespace tp

int main(int argc, char** argv) { return tp::run(argc, argv); }

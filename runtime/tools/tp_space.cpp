// tp-space: starts, stops and inspects named spaces.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/errno_text.h"
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

std::string ps_json(const proto::PsReply& ps) {
  std::string out = "{\"space\":" + json_quote(ps.space_name) + ",\"slots\":" + std::to_string(ps.slot_count) +
                    ",\"slot_size\":" + std::to_string(ps.slot_size) + ",\"programs\":[";
  for (size_t i = 0; i < ps.entries.size(); ++i) {
    const auto& e = ps.entries[i];
    out += (i ? "," : "");
    out += "{\"slot\":" + std::to_string(e.slot) + ",\"pid\":" + std::to_string(e.pid) +
           ",\"state\":" + json_quote(e.state) + ",\"uptime_ms\":" + std::to_string(e.uptime_ms) +
           ",\"program\":" + json_quote(e.program) + ",\"mapped_bytes\":" + std::to_string(e.mapped_bytes) +
           ",\"resident_bytes\":" + std::to_string(e.resident_bytes) + ",\"flags\":" + json_quote(e.flags) +
           ",\"args\":[";
    for (size_t j = 0; j < e.args.size(); ++j) out += (j ? "," : "") + json_quote(e.args[j]);
    out += "]}";
  }
  return out + "]}";
}

int ps(const std::string& name, bool json) {
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
  printf("%-16s %5s %8s %-8s %9s %9s %9s  %s\n", "SPACE", "SLOT", "PID", "STATE", "UPTIME", "MAPPED", "RSS",
         "COMMAND");
  for (const auto& r : replies) {
    for (const auto& e : r.entries) {
      std::string cmd = e.program;
      for (const auto& a : e.args) cmd += " " + a;
      printf("%-16s %5u %8u %-8s %9s %9s %9s  %s\n", r.space_name.c_str(), e.slot, e.pid, e.state.c_str(),
             format_uptime(e.uptime_ms).c_str(), format_bytes(e.mapped_bytes).c_str(),
             format_bytes(e.resident_bytes).c_str(), cmd.c_str());
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

  std::string release_name;
  uint32_t release_slot = 0;
  auto* release_cmd = app.add_subcommand("release", "Free slot SLOT of space NAME, kept by 'tp-run --keep'");
  release_cmd->add_option("NAME", release_name, "Space name")->required();
  release_cmd->add_option("SLOT", release_slot, "Slot number (see tp-space ps)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (start_cmd->parsed()) return start(so);
  if (release_cmd->parsed()) return release(release_name, release_slot);
  if (stop_cmd->parsed()) return stop(stop_name, grace);
  if (list_cmd->parsed()) return list(json);
  if (ps_cmd->parsed()) return ps(ps_name, json);
  return 1;
}

}  // namespace
}  // namespace tp

int main(int argc, char** argv) { return tp::run(argc, argv); }

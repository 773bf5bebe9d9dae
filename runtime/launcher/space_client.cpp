#include "launcher/space_client.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "common/errno_text.h"
#include "host/runtime_dir.h"

extern char** environ;

namespace tp {
namespace {
constexpr const char* kNotRunning = "is not running";
constexpr int kStartWaitMs = 10000;

// Runs `tp-space start --quiet NAME ...`: it returns once the space's host
// listens, or at once when another host holds the space (started by a racing
// launcher). Its stderr is captured, so that a refusal reaches the user as
// tp-run's own message, not as another tool's.
Status start_host(const std::string& path, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return make_error("pipe: " + errno_text(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // tp-run never writes to stdout, and neither may what it starts.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid;
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(err_pipe[1]);
  UniqueFd err_read(err_pipe[0]);
  if (rc != 0) return make_error("cannot start the space host " + path + ": " + errno_text(rc));
  // The background host drops this pipe before it says it is ready, so EOF comes
  // when `tp-space start` has exited.
  std::string message;
  char buf[512];
  for (ssize_t n; (n = read(err_read.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    message.append(buf, size_t(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok_status();
  while (!message.empty() && message.back() == '\n') message.pop_back();
  for (const char* prefix : {"tp-space: "})
    if (message.rfind(prefix, 0) == 0) message.erase(0, strlen(prefix));
  if (message.empty())
    message = WIFSIGNALED(status) ? std::string("the space host ") + path + " was killed by " + sigabbrev_np(WTERMSIG(status))
                                  : "the space host " + path + " failed with exit code " + std::to_string(WEXITSTATUS(status));
  return make_error(message);
}
}  // namespace

bool is_not_running(const Error& e) { return e.message.find(kNotRunning) != std::string::npos; }

Result<UniqueFd> connect_space(const SpaceAddress& addr) {
  TP_TRY(validate_space_name(addr.name));
  std::string path = space_paths(addr.dir, addr.name).socket;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error("socket path " + path + " is longer than " + std::to_string(sizeof sa.sun_path - 1) +
                      " bytes; set TP_RUNTIME_DIR to a shorter directory");
  memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return make_error("socket: " + errno_text(errno));
  while (connect(sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return make_error("space " + addr.name + " " + kNotRunning + " (" + path + ": " + errno_text(err) + ")");
    return make_error("cannot connect to space " + addr.name + " at " + path + ": " + errno_text(err));
  }
  // The launch request carries the environment and the stdio fds: only a host of our own
  // uid may have them (the runtime directory, e.g. /tmp/threadprocs-UID, may be another's).
  struct ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return make_error("cannot check the host of space " + addr.name + " at " + path + ": SO_PEERCRED: " +
                      errno_text(errno));
  if (cred.uid != geteuid())
    return make_error("refusing space " + addr.name + " at " + path + ": its host runs as uid " +
                      std::to_string(cred.uid) + ", not as you (uid " + std::to_string(geteuid()) + ")");
  return sock;
}

Result<UniqueFd> connect_or_start_space(const SpaceAddress& addr, const std::string& tp_space_path,
                                        const std::vector<std::string>& start_args) {
  auto first = connect_space(addr);
  if (first.ok() || !is_not_running(first.error())) return first;
  std::vector<std::string> args{tp_space_path, "start", "--quiet", addr.name};
  args.insert(args.end(), start_args.begin(), start_args.end());
  TP_TRY(start_host(tp_space_path, args));
  // Another launcher may have won the race to start it: give its host time to listen.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int delay_us = 200;; delay_us = std::min(delay_us * 2, 50000)) {
    auto again = connect_space(addr);
    if (again.ok() || !is_not_running(again.error())) return again;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed_ms > kStartWaitMs) return again.take_error();
    usleep(useconds_t(delay_us));
  }
}

Result<pid_t> peer_pid(int sock) {
  struct ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return make_error("SO_PEERCRED: " + errno_text(errno));
  return cred.pid;
}

std::string own_directory() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, size_t(n));
  return path.substr(0, path.rfind('/'));
}

}  // namespace tp

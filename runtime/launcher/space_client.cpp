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

Result<std::optional<Error>> spawn_and_wait(const std::string& path, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // tp-run never writes to stdout, and neither may what it starts.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
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
  if (rc != 0) return make_error("cannot start the space host " + path + ": " + errno_text(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::optional<Error>();
  return std::optional<Error>(make_error("the space host " + path + " failed to start (status " +
                                         std::to_string(status) + ")"));
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
  return sock;
}

Result<UniqueFd> connect_or_start_space(const SpaceAddress& addr, const std::string& tp_space_path,
                                        const std::vector<std::string>& start_args) {
  auto first = connect_space(addr);
  if (first.ok() || !is_not_running(first.error())) return first;
  std::vector<std::string> args{tp_space_path, "start", "--quiet", addr.name};
  args.insert(args.end(), start_args.begin(), start_args.end());
  TP_ASSIGN_OR_RETURN(std::optional<Error> failed, spawn_and_wait(tp_space_path, args));
  // Another launcher may have won the race to start it: give its host time to listen.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int delay_us = 200;; delay_us = std::min(delay_us * 2, 50000)) {
    auto again = connect_space(addr);
    if (again.ok() || !is_not_running(again.error())) return again;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed_ms > kStartWaitMs) return failed ? *failed : again.take_error();
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

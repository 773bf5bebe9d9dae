// Security of a named space's control socket: the runtime directory and the socket are the
// owner's only, whatever the umask; another uid cannot connect through the 0700 directory,
// and if the directory is opened up on purpose the host still refuses it (SO_PEERCRED),
// with a reason, and logs it; a launcher never talks to a host of another uid; oversized
// messages are refused with a reason. A second uid is real: tests/programs/sock_probe runs
// as uid 65534 under setpriv (root only; the tests say why they skip otherwise).
//
// Covered elsewhere: garbled messages (control_protocol_test.cpp), only stdio fds reaching a
// program (launch_test.cpp, OnlyStdioReachesProgram), one trust domain (docs/limitations.md).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "fixture.h"
#include "protocol/channel.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

namespace tpit {
namespace {

constexpr uid_t kStranger = 65534;  // nobody

std::string octal(mode_t mode) {
  char text[16];
  snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Sets the process umask for what this test spawns from now on; restores it on scope exit.
class Umask {
 public:
  explicit Umask(mode_t mask) : saved_(umask(mask)) {}
  ~Umask() { umask(saved_); }

 private:
  mode_t saved_;
};

class Security : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
  }

  // Points TP_RUNTIME_DIR of every later command (and of teardown) at `dir`.
  void use_runtime_dir(const std::string& dir) {
    runtime_dir_ = dir;
    for (auto& entry : env_)
      if (entry.rfind("TP_RUNTIME_DIR=", 0) == 0)
        entry = "TP_RUNTIME_DIR=" + dir;
  }

  // Skips unless a real second uid is available: root, with setpriv.
  bool can_be_a_stranger() {
    if (geteuid() != 0) {
      std::cout << "needs root to run a program as uid " << kStranger << "\n";
      return false;
    }
    if (!find_in_path("setpriv", env_)) {
      std::cout << "needs setpriv (util-linux) to run a program as uid " << kStranger << "\n";
      return false;
    }
    return true;
  }

  // `argv` as uid/gid 65534 with no supplementary groups.
  static std::vector<std::string> as_stranger(std::vector<std::string> argv) {
    const std::string id = std::to_string(kStranger);
    argv.insert(argv.begin(), {"setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"});
    return argv;
  }

  // sock_probe where uid 65534 can run it: the test's root dir, made traversable (0711).
  std::string stranger_probe() {
    EXPECT_EQ(chmod(root_.c_str(), 0711), 0);
    const std::string copy = root_ + "/sock_probe";
    write_file(copy, read_file(program("sock_probe")), 0755);
    return copy;
  }


  void expect_space_serves(const std::string& name) {
    const Result hello = run(launch_in(name, {program("hello")}));
    EXPECT_TRUE(WIFEXITED(hello.status) && WEXITSTATUS(hello.status) == 0 &&
                hello.out == "hello, world\n")
        << describe(hello);
  }

  // A raw connection to the socket of space `name`.
  int connect_raw(const std::string& name) const {
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string path = runtime_dir_ + "/" + name + ".sock";
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
        << path << ": " << strerror(errno);
    return fd;
  }
};

std::vector<uint8_t> frame(uint16_t type, size_t payload_bytes, uint32_t flags,
                           uint32_t length_field) {
  std::vector<uint8_t> datagram(16 + payload_bytes, 0x41);
  const uint32_t magic = tp::proto::kFrameMagic;
  const uint16_t version = tp::proto::kProtocolVersion;
  std::memcpy(&datagram[0], &magic, 4);
  std::memcpy(&datagram[4], &version, 2);
  std::memcpy(&datagram[6], &type, 2);
  std::memcpy(&datagram[8], &flags, 4);
  std::memcpy(&datagram[12], &length_field, 4);
  return datagram;
}

// --- Modes --------------------------------------------------------------------------------

TEST_F(Security, RuntimeDirAndSocketAreOwnerOnlyWhateverTheUmask) {
  const Umask permissive(0);  // the modes must not come from the caller's umask
  // Created by `tp-space start`, and by tp-run starting a space on its own.
  for (const bool by_tp_run : {false, true}) {
    SCOPED_TRACE(by_tp_run ? "started by tp-run --space" : "started by tp-space start");
    const std::string dir = root_ + (by_tp_run ? "/auto-run" : "/fresh-run");
    use_runtime_dir(dir);
    if (by_tp_run)
      expect_space_serves("modes");
    else
      ASSERT_GT(start_space("modes"), 0);

    struct stat info {};
    ASSERT_EQ(lstat(dir.c_str(), &info), 0) << dir;
    EXPECT_TRUE(S_ISDIR(info.st_mode));
    EXPECT_EQ(info.st_uid, geteuid());
    EXPECT_EQ(octal(info.st_mode), "0700") << dir;
    std::cout << dir << ": " << octal(info.st_mode);
    for (const char* suffix : {".sock", ".lock", ".log"}) {
      const std::string file = dir + "/modes" + suffix;
      ASSERT_EQ(lstat(file.c_str(), &info), 0) << file;
      EXPECT_EQ(info.st_uid, geteuid()) << file;
      EXPECT_EQ(info.st_mode & 077, 0u) << file << " has mode " << octal(info.st_mode);
      if (std::string(suffix) == ".sock") {
        EXPECT_TRUE(S_ISSOCK(info.st_mode)) << file;
      }
      std::cout << ", " << suffix << " " << octal(info.st_mode);
    }
    std::cout << "\n";
    const Result stopped = tp_space({"stop", "modes"});
    EXPECT_TRUE(WIFEXITED(stopped.status) && WEXITSTATUS(stopped.status) == 0) << describe(stopped);
  }
}

TEST_F(Security, RuntimeDirThatIsNotPrivateOrNotOwnIsRefused) {
  const std::string loose = root_ + "/loose";
  ASSERT_EQ(mkdir(loose.c_str(), 0755), 0);
  ASSERT_EQ(chmod(loose.c_str(), 0755), 0);
  use_runtime_dir(loose);
  const Result refused = tp_space({"start", "loose"});
  EXPECT_TRUE(WIFEXITED(refused.status) && WEXITSTATUS(refused.status) == 125) << describe(refused);
  EXPECT_NE(refused.err.find("has mode 0755; it must be private (0700)"), std::string::npos)
      << refused.err;
  EXPECT_FALSE(find_space("loose").has_value());

  if (geteuid() != 0)
    GTEST_SKIP() << "a directory of another uid needs root to make";
  const std::string foreign = root_ + "/foreign";
  ASSERT_EQ(mkdir(foreign.c_str(), 0700), 0);
  ASSERT_EQ(chown(foreign.c_str(), kStranger, kStranger), 0);
  use_runtime_dir(foreign);
  const Result not_ours = tp_space({"start", "foreign"});
  EXPECT_TRUE(WIFEXITED(not_ours.status) && WEXITSTATUS(not_ours.status) == 125)
      << describe(not_ours);
  EXPECT_NE(not_ours.err.find("belongs to uid " + std::to_string(kStranger)), std::string::npos)
      << not_ours.err;
  use_runtime_dir(root_ + "/run");
}

// --- Another uid --------------------------------------------------------------------------

TEST_F(Security, AnotherUidCannotConnectThroughThePrivateRuntimeDir) {
  if (!can_be_a_stranger())
    GTEST_SKIP() << "no second uid available (see stdout)";
  const pid_t host = start_space("guarded");
  ASSERT_GT(host, 0);
  const std::string probe = stranger_probe();  // also makes the dir above world-traversable
  struct stat info {};
  ASSERT_EQ(stat(runtime_dir_.c_str(), &info), 0);
  ASSERT_EQ(octal(info.st_mode), "0700");

  const Result probed = run(as_stranger({probe, "connect", runtime_dir_ + "/guarded.sock"}));
  EXPECT_TRUE(WIFEXITED(probed.status) && WEXITSTATUS(probed.status) == 1) << describe(probed);
  EXPECT_EQ(probed.out, "connect: Permission denied\n") << describe(probed);
  // The host never saw it.
  EXPECT_EQ(read_file(runtime_dir_ + "/guarded.log").find("refused a connection"), std::string::npos);
  expect_space_serves("guarded");
}

TEST_F(Security, HostRefusesAnotherUidEvenThroughAnOpenedDirectory) {
  if (!can_be_a_stranger())
    GTEST_SKIP() << "no second uid available (see stdout)";
  const pid_t host = start_space("opened");
  ASSERT_GT(host, 0);
  expect_space_serves("opened");
  const std::string fd_dir = "/proc/" + std::to_string(host) + "/fd";
  const long fds_before = stable([&] { return static_cast<long>(count_entries(fd_dir)); });
  const std::string probe = stranger_probe();
  // Deliberately opened up: the directory traversable and the socket writable by anyone,
  // so that the connection reaches the host and only SO_PEERCRED stands in the way.
  const std::string socket_path = runtime_dir_ + "/opened.sock";
  ASSERT_EQ(chmod(runtime_dir_.c_str(), 0711), 0);
  ASSERT_EQ(chmod(socket_path.c_str(), 0777), 0);

  const Result probed = run(as_stranger({probe, "connect", socket_path}));
  EXPECT_TRUE(WIFEXITED(probed.status) && WEXITSTATUS(probed.status) == 0) << describe(probed);
  EXPECT_EQ(probed.out.rfind("connected\nreply: ", 0), 0u) << describe(probed);
  const std::string reason = "permission denied: space opened belongs to uid " +
                             std::to_string(geteuid()) + ", the connection comes from uid " +
                             std::to_string(kStranger);
  EXPECT_NE(probed.out.find(reason), std::string::npos) << describe(probed);
  EXPECT_TRUE(probed.out.ends_with("\neof\n")) << "the host must close the connection: "
                                                << describe(probed);
  EXPECT_NE(read_file(runtime_dir_ + "/opened.log").find("refused a connection: " + reason),
            std::string::npos)
      << "the refusal must be logged";

  expect_space_serves("opened");
  EXPECT_EQ(settle_to([&] { return static_cast<long>(count_entries(fd_dir)); }, fds_before),
            fds_before)
      << "the host kept the refused connection's descriptor";
  ASSERT_EQ(chmod(runtime_dir_.c_str(), 0700), 0);
}

TEST_F(Security, LauncherNeverTalksToAHostOfAnotherUid) {
  if (!can_be_a_stranger())
    GTEST_SKIP() << "no second uid available (see stdout)";
  // A runtime dir the stranger owns (as /tmp/threadprocs-UID could be, made by someone else
  // first), where the stranger listens as space "bait".
  const std::string probe = stranger_probe();
  const std::string dir = root_ + "/stranger-run";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chown(dir.c_str(), kStranger, kStranger), 0);
  Child fake_host(command(as_stranger({probe, "serve", dir + "/bait.sock"})));
  ASSERT_TRUE(fake_host.wait_for_output("listening\n"));

  Command launch = command(launch_in("bait", {program("hello")}));
  for (auto& entry : launch.env)
    if (entry.rfind("TP_RUNTIME_DIR=", 0) == 0)
      entry = "TP_RUNTIME_DIR=" + dir;
  launch.env.push_back("TP_IT_SECRET=not for strangers");
  const Result refused = tpit::run(launch);
  EXPECT_TRUE(WIFEXITED(refused.status) && WEXITSTATUS(refused.status) == 125) << describe(refused);
  EXPECT_EQ(refused.out, "");
  EXPECT_NE(refused.err.find("its host runs as uid " + std::to_string(kStranger)),
            std::string::npos)
      << refused.err;
  // The stranger saw a connection and nothing on it: no argv, environment or descriptors.
  const Result seen = fake_host.finish();
  EXPECT_EQ(seen.out, "listening\npeer uid " + std::to_string(geteuid()) + "\neof\n")
      << describe(seen);
}

// --- Oversized messages ---------------------------------------------------------------------

TEST_F(Security, OversizedMessagesAreRefusedWithAReason) {
  const pid_t host = start_space("big-messages");
  ASSERT_GT(host, 0);
  expect_space_serves("big-messages");
  const std::string fd_dir = "/proc/" + std::to_string(host) + "/fd";
  const long fds_before = stable([&] { return static_cast<long>(count_entries(fd_dir)); });
  constexpr uint16_t kLaunch = static_cast<uint16_t>(tp::proto::MsgType::kLaunchRequest);
  constexpr size_t kChunk = tp::proto::kMaxFramePayload;

  // Sends `datagrams` (stopping when the host has closed), then expects one ErrorReply that
  // contains `reason`, then EOF.
  auto expect_refused = [&](const std::function<bool(int)>& send_all, const std::string& reason) {
    const int fd = connect_raw("big-messages");
    ASSERT_GE(fd, 0);
    send_all(fd);
    tp::proto::MessageAssembler assembler;
    bool eof = false;
    auto reply = tp::proto::recv_message(fd, assembler, &eof);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(reply->has_value()) << "no reply before EOF";
    const auto* error = std::get_if<tp::proto::ErrorReply>(&(*reply)->msg);
    ASSERT_NE(error, nullptr) << "the reply is not an ErrorReply";
    EXPECT_NE(error->message.find(reason), std::string::npos) << error->message;
    std::cout << "refused: " << error->message << "\n";
    char byte;
    EXPECT_EQ(recv(fd, &byte, 1, 0), 0) << "the host kept the connection open";
    close(fd);
  };
  auto send_one = [](int fd, const std::vector<uint8_t>& datagram) {
    return send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(datagram.size());
  };

  {
    SCOPED_TRACE("a message of more than 16 MiB in frames of 60 KiB");
    const auto part = frame(kLaunch, kChunk, tp::proto::kFrameMore, kChunk);
    size_t sent = 0;
    expect_refused(
        [&](int fd) {
          // 16 MiB / 60 KiB = 273.07: the 274th frame crosses the limit. Sending stops
          // when the host hangs up (EPIPE or ECONNRESET).
          for (int i = 0; i < 400 && send_one(fd, part); ++i)
            sent += kChunk;
          return true;
        },
        "LaunchRequest message exceeds " + std::to_string(tp::proto::kMaxMessageBytes) + " bytes");
    EXPECT_GT(sent, tp::proto::kMaxMessageBytes) << "the host hung up before the limit";
  }
  {
    SCOPED_TRACE("a frame header announcing more than the frame limit");
    expect_refused([&](int fd) { return send_one(fd, frame(kLaunch, 0, 0, 1 << 20)); },
                   "frame payload length 1048576 exceeds " + std::to_string(kChunk));
  }
  {
    SCOPED_TRACE("one datagram larger than the host reads");
    for (const size_t payload : {kChunk + 1, size_t{200} << 10}) {
      SCOPED_TRACE(std::to_string(payload) + " bytes of payload");
      int fd_buffer = 0;
      expect_refused(
          [&](int fd) {
            fd_buffer = static_cast<int>(payload + 4096);
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &fd_buffer, sizeof fd_buffer);
            return send_one(fd, frame(kLaunch, payload, 0, static_cast<uint32_t>(payload)));
          },
          "datagram larger than " + std::to_string(tp::proto::kMaxDatagramBytes) +
              " bytes was truncated");
    }
  }
  expect_space_serves("big-messages");
  EXPECT_EQ(settle_to([&] { return static_cast<long>(count_entries(fd_dir)); }, fds_before),
            fds_before)
      << "the host kept descriptors of refused connections";
}

}  // namespace
}  // namespace tpit

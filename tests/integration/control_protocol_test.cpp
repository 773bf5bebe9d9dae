// The host of a named space faced with malformed control messages: each gets
// an error reply naming what is wrong, its connection is closed, and the space
// goes on serving with no fd left behind.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "fixture.h"
#include "protocol/channel.h"
#include "protocol/framing.h"
#include "protocol/messages.h"

namespace tpit {
namespace {

class ControlProtocol : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
    use_space("proto");
    Result started = tp_space({"start", "proto"});
    ASSERT_TRUE(WIFEXITED(started.status) && WEXITSTATUS(started.status) == 0) << describe(started);
    host_ = host_pid("proto");
    ASSERT_GT(host_, 0);
  }

  int connect_raw() const {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string path = runtime_dir_ + "/proto.sock";
    memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << strerror(errno);
    return fd;
  }

  // Sends raw datagrams; expects one ErrorReply whose message contains `expect`, then EOF.
  void expect_refused(const std::vector<std::vector<uint8_t>>& datagrams, const std::string& expect) {
    int fd = connect_raw();
    for (const auto& d : datagrams) send(fd, d.data(), d.size(), MSG_NOSIGNAL);
    tp::proto::MessageAssembler assembler;
    bool eof = false;
    auto reply = tp::proto::recv_message(fd, assembler, &eof);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(reply->has_value()) << "no reply before EOF";
    const auto* err = std::get_if<tp::proto::ErrorReply>(&(*reply)->msg);
    ASSERT_NE(err, nullptr) << "the reply is not an ErrorReply";
    EXPECT_NE(err->message.find(expect), std::string::npos) << err->message;
    char byte;
    EXPECT_EQ(recv(fd, &byte, 1, 0), 0) << "the host kept the connection open";
    close(fd);
  }

  void expect_space_serves() {
    Result r = run(launch_in("proto", {program("hello")}));
    EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && r.out == "hello, world\n") << describe(r);
  }

  long host_fds() const { return long(count_entries("/proc/" + std::to_string(host_) + "/fd")); }

  pid_t host_ = -1;
};

std::vector<uint8_t> frame(uint16_t type, const std::vector<uint8_t>& payload, uint32_t flags = 0,
                           uint32_t magic = tp::proto::kFrameMagic, uint16_t version = tp::proto::kProtocolVersion) {
  std::vector<uint8_t> d(16 + payload.size());
  auto put32 = [&](size_t at, uint32_t v) { memcpy(&d[at], &v, 4); };
  put32(0, magic);
  memcpy(&d[4], &version, 2);
  memcpy(&d[6], &type, 2);
  put32(8, flags);
  put32(12, uint32_t(payload.size()));
  if (!payload.empty()) memcpy(d.data() + 16, payload.data(), payload.size());
  return d;
}

TEST_F(ControlProtocol, MalformedMessagesAreRefusedAndTheSpaceGoesOn) {
  expect_space_serves();
  const long fds_before = stable([&] { return host_fds(); });

  expect_refused({{'g', 'a', 'r', 'b', 'a', 'g', 'e', '!', 0, 1, 2, 3, 4, 5, 6, 7, 8}}, "magic");
  expect_refused({frame(1, {}, 0, tp::proto::kFrameMagic, 9)}, "version 9");
  expect_refused({frame(99, {1, 2, 3})}, "type");
  expect_refused({frame(1, {1, 2, 3})}, "LaunchRequest");       // truncated payload
  expect_refused({frame(2, {0}, 0x80)}, "flags");               // unknown flag bit
  expect_refused({frame(17, {1, 0, 0, 0, 0, 0, 0, 0})}, "");     // Started, from a client
  // A LaunchRequest that is well formed but carries no file descriptors.
  tp::proto::LaunchRequest req;
  req.exec_path = "/bin/true";
  req.argv = {"true"};
  expect_refused({frame(1, tp::proto::encode_payload(req))}, "file descriptors");

  expect_space_serves();
  EXPECT_EQ(settle_to([&] { return host_fds(); }, fds_before), fds_before)
      << "the host kept descriptors of refused connections";
}

TEST_F(ControlProtocol, AClientThatSendsHalfAMessageAndLeavesCostsNothing) {
  const long fds_before = stable([&] { return host_fds(); });
  for (int i = 0; i < 50; ++i) {
    int fd = connect_raw();
    auto d = frame(1, std::vector<uint8_t>(100, 0), tp::proto::kFrameMore);
    send(fd, d.data(), d.size(), MSG_NOSIGNAL);
    close(fd);
  }
  expect_space_serves();
  EXPECT_EQ(settle_to([&] { return host_fds(); }, fds_before), fds_before);
}

}  // namespace
}  // namespace tpit

// Socket I/O over a real socketpair(AF_UNIX, SOCK_SEQPACKET).
#include "protocol/channel.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "protocol/framing.h"
#include "test_support.h"

namespace tp::proto {
namespace {

using testing::dev_null_fds;
using testing::fails_with;
using testing::open_fd_count;
using testing::same_file;

struct SocketPair {
  UniqueFd a, b;
};

SocketPair make_pair(int extra_flags = 0) {
  int sv[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | extra_flags, 0, sv), 0);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

// Sends one datagram exactly as given, bypassing every sender-side check.
void send_raw(int sock, const std::vector<uint8_t>& bytes, const std::vector<int>& fds = {}) {
  struct iovec iov = {const_cast<uint8_t*>(bytes.data()), bytes.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ASSERT_EQ(sendmsg(sock, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()))
      << strerror(errno);
}

std::vector<int> raw(const std::vector<UniqueFd>& fds) {
  std::vector<int> out;
  for (const UniqueFd& f : fds) out.push_back(f.get());
  return out;
}

// Reads one message from a blocking socket, failing the test on error or EOF.
Received recv_one(int sock) {
  MessageAssembler a;
  bool eof = true;
  auto r = recv_message(sock, a, &eof);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return {PsRequest{}, {}};
  EXPECT_FALSE(eof);
  EXPECT_TRUE(r->has_value());
  if (!r->has_value()) return {PsRequest{}, {}};
  return std::move(**r);
}

TEST(ChannelTest, EveryTypeRoundTripsWithFds) {
  SocketPair p = make_pair();
  for (auto& [msg, nfds] : testing::one_of_each()) {
    SCOPED_TRACE(type_name(type_of(msg)));
    std::vector<UniqueFd> fds = dev_null_fds(nfds);
    ASSERT_TRUE(send_message(p.a.get(), msg, raw(fds)).ok());
    Received got = recv_one(p.b.get());
    EXPECT_EQ(got.msg, msg);
    ASSERT_EQ(got.fds.size(), nfds);
    for (size_t i = 0; i < nfds; ++i) EXPECT_TRUE(same_file(got.fds[i].get(), fds[i].get()));
  }
}

TEST(ChannelTest, ReceivedFdsAreCloseOnExec) {
  SocketPair p = make_pair();
  std::vector<UniqueFd> fds = dev_null_fds(1);
  ASSERT_TRUE(send_message(p.a.get(), Started{9, 0}, raw(fds)).ok());
  Received got = recv_one(p.b.get());
  ASSERT_EQ(got.fds.size(), 1u);
  EXPECT_TRUE(fcntl(got.fds[0].get(), F_GETFD) & FD_CLOEXEC);
}

// 100,000 argv entries and 64 KiB of env: many frames, fds on the first,
// each fd identified on the other side by its inode.
TEST(ChannelTest, HugeLaunchRequestOverManyFramesKeepsFdOrder) {
  LaunchRequest m = testing::sample_launch();
  m.stdio_mask = 0x7;
  m.argv.clear();
  for (int i = 0; i < 100000; ++i) m.argv.push_back("argument-" + std::to_string(i));
  m.env.clear();
  for (int i = 0; i < 1024; ++i) {
    std::string e = "VAR" + std::to_string(i) + "=";
    e.resize(64, 'v');
    m.env.push_back(e);
  }
  size_t payload = encode_payload(m).size();
  ASSERT_GT(payload / kMaxFramePayload, 10u);

  // Five distinct files: the test binary, the cwd, two socket ends (a
  // pipe's two ends would share one inode), a temp file.
  int pipefd[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipefd), 0);
  char tmpl[] = "/tmp/tp-proto-test-XXXXXX";
  UniqueFd tmp(mkstemp(tmpl));
  ASSERT_TRUE(tmp.valid());
  unlink(tmpl);
  std::vector<UniqueFd> fds;
  fds.emplace_back(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));  // image
  fds.emplace_back(open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // cwd
  fds.emplace_back(pipefd[0]);
  fds.emplace_back(pipefd[1]);
  fds.push_back(std::move(tmp));
  for (auto& f : fds) ASSERT_TRUE(f.valid());

  SocketPair p = make_pair();
  Status sent = ok_status();
  std::vector<int> raw_fds = raw(fds);
  // The frames exceed the socket buffer, so the sender must run concurrently.
  std::thread sender([&] { sent = send_message(p.a.get(), m, raw_fds); });
  Received got = recv_one(p.b.get());
  sender.join();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_TRUE(got.msg == Message(m));
  ASSERT_EQ(got.fds.size(), 5u);
  for (size_t i = 0; i < fds.size(); ++i) {
    EXPECT_TRUE(same_file(got.fds[i].get(), fds[i].get())) << "fd " << i;
    for (size_t j = 0; j < fds.size(); ++j) {
      if (j == i) continue;
      EXPECT_FALSE(same_file(got.fds[i].get(), fds[j].get())) << i << " vs " << j;
    }
  }
}

TEST(ChannelTest, OrderlyEofBetweenMessages) {
  SocketPair p = make_pair();
  ASSERT_TRUE(send_message(p.a.get(), PsRequest{}).ok());
  p.a.reset();
  MessageAssembler a;
  bool eof = true;
  auto r = recv_message(p.b.get(), a, &eof);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has_value());
  EXPECT_FALSE(eof);
  r = recv_message(p.b.get(), a, &eof);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(eof);
}

TEST(ChannelTest, EofInsideAMessageIsAnError) {
  SocketPair p = make_pair();
  auto frames = encode_frames(MsgType::kErrorReply,
                              encode_payload(ErrorReply{1, std::string(kMaxFramePayload, 'x')}));
  ASSERT_EQ(frames.size(), 2u);
  send_raw(p.a.get(), frames[0]);
  p.a.reset();
  MessageAssembler a;
  bool eof = false;
  EXPECT_TRUE(fails_with(recv_message(p.b.get(), a, &eof),
                         "the peer closed the control socket in the middle of a ErrorReply "
                         "message (61440 bytes received)"));
}

TEST(ChannelTest, NonBlockingSocketReturnsWhenNoData) {
  SocketPair p = make_pair(SOCK_NONBLOCK);
  MessageAssembler a;
  bool eof = true;
  auto r = recv_message(p.b.get(), a, &eof);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(eof);

  // Half a message: still nothing, and the assembler keeps the part.
  ErrorReply m{3, std::string(kMaxFramePayload + 100, 'y')};
  auto frames = encode_frames(MsgType::kErrorReply, encode_payload(m));
  send_raw(p.a.get(), frames[0]);
  r = recv_message(p.b.get(), a, &eof);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->has_value());
  EXPECT_FALSE(eof);
  EXPECT_TRUE(a.in_progress());

  send_raw(p.a.get(), frames[1]);
  r = recv_message(p.b.get(), a, &eof);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->msg, Message(m));
}

TEST(ChannelTest, NonBlockingSenderWaitsForRoom) {
  SocketPair p = make_pair(SOCK_NONBLOCK);
  LaunchRequest m = testing::sample_launch();
  m.stdio_mask = 0;
  m.env.push_back("BIG=" + std::string(40 * kMaxFramePayload, 'z'));  // far above SO_SNDBUF
  Status sent = ok_status();
  std::thread sender([&] {
    std::vector<UniqueFd> fds = dev_null_fds(2);
    sent = send_message(p.a.get(), m, raw(fds));
  });
  MessageAssembler a;
  bool eof = false;
  std::optional<Received> got;
  while (!got) {
    auto r = recv_message(p.b.get(), a, &eof);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_FALSE(eof);
    if (r->has_value()) {
      got = std::move(*r);
    } else {
      usleep(1000);
    }
  }
  sender.join();
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(got->msg, Message(m));
}

TEST(ChannelTest, SenderRefusesInvalidMessages) {
  SocketPair p = make_pair();
  LaunchRequest m = testing::sample_launch();
  m.env = {"A=1", "B=2", "C=3", "D"};
  std::vector<UniqueFd> fds = dev_null_fds(4);
  EXPECT_TRUE(
      fails_with(send_message(p.a.get(), m, raw(fds)), "LaunchRequest: env entry 3 has no '='"));
  std::vector<int> one = {fds[0].get()};
  EXPECT_TRUE(fails_with(send_message(p.a.get(), testing::sample_launch(), one),
                         "LaunchRequest: expected 4 file descriptors, got 1"));
  std::vector<int> bad = {-1};
  EXPECT_TRUE(
      fails_with(send_message(p.a.get(), Started{1, 1}, bad), "cannot send file descriptor -1"));
  std::vector<UniqueFd> nine = dev_null_fds(9);
  EXPECT_TRUE(fails_with(send_message(p.a.get(), PsRequest{}, raw(nine)),
                         "9 file descriptors on one message exceed 8"));
}

TEST(ChannelTest, SenderRefusesOversizeMessage) {
  SocketPair p = make_pair();
  ErrorReply m{1, std::string(kMaxMessageBytes, 'x')};
  EXPECT_TRUE(fails_with(send_message(p.a.get(), m),
                         "ErrorReply of 16777224 bytes exceeds the 16777216-byte message limit"));
}

TEST(ChannelTest, SendToClosedPeerIsAnErrorNotSigpipe) {
  SocketPair p = make_pair();
  p.b.reset();
  EXPECT_TRUE(
      fails_with(send_message(p.a.get(), PsRequest{}), "the peer closed the control socket"));
}

// ---- malformed input from the peer; every fd that arrived must be closed ----

class ChannelLeakTest : public ::testing::Test {
 protected:
  void SetUp() override { before_ = open_fd_count(); }
  void TearDown() override {

    EXPECT_EQ(open_fd_count(), before_) << "file descriptors leaked";
  }
  // Receives from pair_.b and expects an error containing `needle`.
  void expect_recv_error(const std::string& needle) {
    MessageAssembler a;
    bool eof = false;
    auto r = recv_message(pair_.b.get(), a, &eof);
    EXPECT_TRUE(fails_with(r, needle));
  }
  size_t before_ = 0;
  SocketPair pair_ = make_pair();
};

TEST_F(ChannelLeakTest, BadMessageWithFdsAttached) {
  LaunchRequest m = testing::sample_launch();
  m.env[1] = "NOEQUALS";
  {
    std::vector<UniqueFd> fds = dev_null_fds(4);
    send_raw(pair_.a.get(), encode_frames(MsgType::kLaunchRequest, encode_payload(m))[0], raw(fds));
  }
  expect_recv_error("LaunchRequest: env entry 1 has no '='");
}

TEST_F(ChannelLeakTest, BadMagicWithFdsAttached) {
  auto frame = encode_frames(MsgType::kStarted, encode_payload(Started{1, 1}))[0];
  frame[0] = 'X';
  {
    std::vector<UniqueFd> fds = dev_null_fds(3);
    send_raw(pair_.a.get(), frame, raw(fds));
  }
  expect_recv_error("bad frame magic");
}

TEST_F(ChannelLeakTest, WrongFdCount) {
  {
    std::vector<UniqueFd> fds = dev_null_fds(2);
    send_raw(pair_.a.get(), encode_frames(MsgType::kStarted, encode_payload(Started{1, 1}))[0],
             raw(fds));
  }
  expect_recv_error("Started: expected 1 file descriptors, got 2");
}

TEST_F(ChannelLeakTest, FdsOnANonFirstFrame) {
  auto frames = encode_frames(MsgType::kErrorReply,
                              encode_payload(ErrorReply{1, std::string(kMaxFramePayload, 'x')}));
  {
    std::vector<UniqueFd> fds = dev_null_fds(2);
    send_raw(pair_.a.get(), frames[0]);
    send_raw(pair_.a.get(), frames[1], raw(fds));
  }
  expect_recv_error("2 file descriptors on frame 2 of a ErrorReply message");
}

TEST_F(ChannelLeakTest, TooManyFdsTruncatesControlData) {
  {
    std::vector<UniqueFd> fds = dev_null_fds(40);
    send_raw(pair_.a.get(), encode_frames(MsgType::kPsRequest, {})[0], raw(fds));
  }
  expect_recv_error("control data of a datagram was truncated");
}

TEST_F(ChannelLeakTest, NineFdsFitTheBufferButAreRefused) {
  {
    std::vector<UniqueFd> fds = dev_null_fds(9);
    send_raw(pair_.a.get(), encode_frames(MsgType::kPsRequest, {})[0], raw(fds));
  }
  expect_recv_error("9 file descriptors on one message exceed 8");
}

TEST_F(ChannelLeakTest, OversizeDatagramIsTruncated) {
  std::vector<uint8_t> big(kMaxDatagramBytes + 1, 0);
  {
    std::vector<UniqueFd> fds = dev_null_fds(1);
    send_raw(pair_.a.get(), big, raw(fds));
  }
  expect_recv_error("datagram larger than 61456 bytes was truncated");
}

}  // namespace
}  // namespace tp::proto

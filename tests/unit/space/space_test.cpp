// Space end to end in one process: create, launch real programs into slots,
// collect their exit, reclaim the slot. Each Space reserves its arena at a
// fixed address, so this binary creates its two spaces once, at bases no
// other test here uses.
#include "space/space.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace tp {
namespace {

constexpr uint64_t kSlotSize = 256ull << 20;
constexpr ArenaConfig kTwoSlots{0x310000000000ull, kSlotSize, 2};
constexpr ArenaConfig kOneSlot{0x318000000000ull, kSlotSize, 1};

struct Launch {
  std::string image = "/bin/true";
  std::string exec_path;  // default: image
  std::vector<std::string> argv{"true"};
  std::vector<std::string> env;
  std::array<int, 3> stdio{0, 1, 2};
  int cwd_fd = -1;
};

Result<LaunchedProgram> start(Space& space, const Launch& l) {
  UniqueFd image(open(l.image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!image.valid()) return make_error("test: cannot open " + l.image + ": " + strerror(errno));
  LaunchSpec spec;
  spec.image_fd = image.get();
  spec.exec_path = l.exec_path.empty() ? l.image : l.exec_path;
  spec.argv = l.argv;
  spec.env = l.env;
  spec.stdio = l.stdio;
  spec.cwd_fd = l.cwd_fd;
  return space.launch(spec);
}

// Collects the program and always reclaims its slot, so that every test
// leaves the space empty.
Result<ExitStatus> finish(Space& space, LaunchedProgram& p) {
  auto status = space.collect(p);
  auto reclaimed = space.reclaim(p);
  EXPECT_TRUE(reclaimed.ok()) << reclaimed.error().message;
  return status;
}

struct Pipe {
  UniqueFd r, w;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
  std::string read_all() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(r.get(), buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    return out;
  }
};

// Lines of /proc/self/maps lying inside [lo, hi).
std::vector<std::string> maps_within(uint64_t lo, uint64_t hi) {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long a, b;
    if (sscanf(line.c_str(), "%llx-%llx", &a, &b) == 2 && a >= lo && b <= hi) out.push_back(line);
  }
  return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

class SpaceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto two = Space::create("unit-two", kTwoSlots);
    ASSERT_TRUE(two.ok()) << two.error().message;
    two_ = std::move(*two);
    auto one = Space::create("unit-one", kOneSlot);
    ASSERT_TRUE(one.ok()) << one.error().message;
    one_ = std::move(*one);
  }
  static void TearDownTestSuite() {
    two_.reset();
    one_.reset();
  }
  void SetUp() override {
    ASSERT_NE(two_, nullptr);
    ASSERT_NE(one_, nullptr);
    ASSERT_EQ(two_->arena().slots_in_use(), 0u) << "an earlier test left a slot in use";
    ASSERT_EQ(one_->arena().slots_in_use(), 0u) << "an earlier test left a slot in use";
  }

  static inline std::unique_ptr<Space> two_, one_;
};

TEST_F(SpaceTest, CreateReservesTheArena) {
  EXPECT_EQ(two_->name(), "unit-two");
  EXPECT_EQ(two_->arena().config().base, kTwoSlots.base);
  EXPECT_EQ(two_->arena().config().slot_count, 2u);
  // A second space over the same range is refused.
  auto again = Space::create("clash", kTwoSlots);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already in use"), std::string::npos) << again.error().message;
}

TEST_F(SpaceTest, TrueExitsWithZero) {
  auto p = start(*two_, Launch{});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_GT(p->pid, 0);
  EXPECT_TRUE(p->pidfd.valid());
  EXPECT_LT(p->slot, 2u);
  EXPECT_EQ(two_->arena().slots_in_use(), 1u);
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->signaled);
  EXPECT_EQ(status->value, 0);
  EXPECT_FALSE(status->core_dumped);
  EXPECT_EQ(two_->arena().slots_in_use(), 0u);
}

TEST_F(SpaceTest, ExitCodeThree) {
  Launch l;
  l.image = "/bin/sh";
  l.argv = {"sh", "-c", "exit 3"};
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->signaled);
  EXPECT_EQ(status->value, 3);
}

TEST_F(SpaceTest, KilledBySignal) {
  Launch l;
  l.image = "/bin/sh";
  l.argv = {"sh", "-c", "kill -KILL $$"};
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->signaled);
  EXPECT_EQ(status->value, SIGKILL);
}

// Least-recently-used reuse: with two slots, consecutive programs alternate.
TEST_F(SpaceTest, SlotsAreReused) {
  std::vector<uint32_t> slots;
  for (int i = 0; i < 4; ++i) {
    auto p = start(*two_, Launch{});
    ASSERT_TRUE(p.ok()) << p.error().message;
    slots.push_back(p->slot);
    auto status = finish(*two_, *p);
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(status->value, 0);
  }
  EXPECT_NE(slots[0], slots[1]);
  EXPECT_EQ(slots[2], slots[0]);
  EXPECT_EQ(slots[3], slots[1]);
  // In a one-slot space the same slot serves every program.
  for (int i = 0; i < 2; ++i) {
    auto p = start(*one_, Launch{});
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->slot, 0u);
    auto status = finish(*one_, *p);
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(status->value, 0);
  }
}

TEST_F(SpaceTest, ProgramLivesInItsSlotUntilReclaimed) {
  auto p = start(*two_, Launch{});
  ASSERT_TRUE(p.ok()) << p.error().message;
  uint64_t lo = two_->arena().slot_base(p->slot), hi = two_->arena().slot_end(p->slot);
  auto status = two_->collect(*p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  auto before = maps_within(lo, hi);
  EXPECT_TRUE(any_contains(before, "/true")) << "the image is not mapped inside its slot";
  EXPECT_TRUE(any_contains(before, "ld-linux-x86-64")) << "ld.so is not mapped inside the slot";
  // With the memory supervisor (the default), what ld.so maps lands in the slot too.
  EXPECT_TRUE(any_contains(before, "libc.so.6")) << "libc was mapped outside the slot";
  ASSERT_TRUE(two_->reclaim(*p).ok());
  auto after = maps_within(lo, hi);
  EXPECT_FALSE(any_contains(after, "/true"));
  EXPECT_FALSE(any_contains(after, "ld-linux"));
  for (const auto& line : after) EXPECT_NE(line.find(" ---p "), std::string::npos) << line;
}

TEST_F(SpaceTest, ArgvEnvAndStdoutReachTheProgram) {
  Pipe out;
  Launch l;
  l.image = "/bin/sh";
  l.argv = {"sh", "-c", "echo \"$GREETING\" \"$0\" \"$1\"", "zero", "one two"};
  l.env = {"GREETING=hello", "PATH=/usr/bin:/bin"};
  l.stdio = {0, out.w.get(), 2};
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  out.w.reset();  // the program has its own copy
  EXPECT_EQ(out.read_all(), "hello zero one two\n");
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->value, 0);
}

TEST_F(SpaceTest, ClosedStdinAndOnlyStdioInherited) {
  Pipe out;
  Launch l;
  l.image = "/bin/sh";
  l.argv = {"sh", "-c",
            "[ -e /proc/self/fd/0 ] && echo in || echo noin; "
            "[ -e /proc/self/fd/1 ] && echo out; "
            "[ -e /proc/self/fd/2 ] && echo err || echo noerr; "
            "[ -e /proc/self/fd/3 ] && echo leak3 || echo no3"};
  l.stdio = {-1, out.w.get(), -1};
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  out.w.reset();
  EXPECT_EQ(out.read_all(), "noin\nout\nnoerr\nno3\n");
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
}

TEST_F(SpaceTest, CwdAndCommFromTheSpec) {
  char tmpl[] = "/tmp/tp-space-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir_fd.valid());
  Pipe out;
  Launch l;
  l.image = "/bin/sh";
  // comm is the basename of exec_path, cut to 15 characters.
  l.exec_path = "/opt/somewhere/averyveryverylongname";
  l.argv = {"sh", "-c", "pwd; read c < /proc/self/comm; echo \"$c\""};
  l.stdio = {0, out.w.get(), 2};
  l.cwd_fd = dir_fd.get();
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  out.w.reset();
  EXPECT_EQ(out.read_all(), dir + "\naveryveryverylo\n");
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->value, 0);
  rmdir(dir.c_str());
}

TEST_F(SpaceTest, FullSpaceRefusesTheNextLaunch) {
  Launch sleeper;
  sleeper.image = "/bin/sleep";
  sleeper.argv = {"sleep", "1"};
  auto running = start(*one_, sleeper);
  ASSERT_TRUE(running.ok()) << running.error().message;
  EXPECT_EQ(running->slot, 0u);

  auto refused = start(*one_, Launch{});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("is full (1 slots)"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("unit-one"), std::string::npos) << refused.error().message;
  EXPECT_EQ(one_->arena().slots_in_use(), 1u);

  auto status = finish(*one_, *running);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->signaled);
  EXPECT_EQ(status->value, 0);

  // Reclaimed, the slot takes the next program.
  auto next = start(*one_, Launch{});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->slot, 0u);
  auto next_status = finish(*one_, *next);
  ASSERT_TRUE(next_status.ok()) << next_status.error().message;
  EXPECT_EQ(next_status->value, 0);
}

int unused_fd() {
  int fd = 900;
  while (fcntl(fd, F_GETFD) != -1) ++fd;
  return fd;
}

// A step of the trampoline that fails comes back as an Error naming the step,
// not as exit status 125.
TEST_F(SpaceTest, TrampolineFailureIsReportedAsAnError) {
  Launch bad_stdio;
  bad_stdio.stdio = {unused_fd(), 1, 2};
  auto p = start(*two_, bad_stdio);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto status = finish(*two_, *p);
  ASSERT_FALSE(status.ok()) << "exit value " << status->value;
  EXPECT_NE(status.error().message.find("stdin/stdout/stderr"), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("Bad file descriptor"), std::string::npos) << status.error().message;

  Launch bad_cwd;
  bad_cwd.cwd_fd = unused_fd();
  auto q = start(*two_, bad_cwd);
  ASSERT_TRUE(q.ok()) << q.error().message;
  auto q_status = finish(*two_, *q);
  ASSERT_FALSE(q_status.ok()) << "exit value " << q_status->value;
  EXPECT_NE(q_status.error().message.find("working directory"), std::string::npos) << q_status.error().message;
}

// A program that itself exits with 125 is not mistaken for a trampoline failure.
TEST_F(SpaceTest, ProgramExitingWith125IsAnExitStatus) {
  Launch l;
  l.image = "/bin/sh";
  l.argv = {"sh", "-c", "exit 125"};
  auto p = start(*two_, l);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto status = finish(*two_, *p);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->value, 125);
}

TEST_F(SpaceTest, RefusalsLeaveNoSlotInUse) {
  Launch no_argv;
  no_argv.argv = {};
  auto a = start(*two_, no_argv);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(a.error().message.find("empty argument list"), std::string::npos) << a.error().message;
  EXPECT_EQ(two_->arena().slots_in_use(), 0u);

  Launch text;
  text.image = "/etc/passwd";
  text.argv = {"passwd"};
  auto b = start(*two_, text);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(b.error().message.find("/etc/passwd"), std::string::npos) << b.error().message;
  EXPECT_EQ(two_->arena().slots_in_use(), 0u);

  // Arguments beyond the limit (a quarter of the 8 MiB default stack).
  Launch big;
  big.argv = {"true", std::string(100 << 10, 'a')};
  for (int i = 0; i < 25; ++i) big.env.push_back("V" + std::to_string(i) + "=" + std::string(100 << 10, 'b'));
  auto c = start(*two_, big);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(c.error().message.find("too long"), std::string::npos) << c.error().message;
  EXPECT_EQ(two_->arena().slots_in_use(), 0u);
  // The failed launch had mapped the image and the stack: all reset again.
  for (const auto& line : maps_within(kTwoSlots.base, kTwoSlots.base + 2 * kSlotSize))
    EXPECT_NE(line.find(" ---p "), std::string::npos) << "a refused launch left a mapping: " << line;
}

// A fixed-address (ET_EXEC) image loads at its link address, outside the slot;
// while it runs, a second image needing that range is refused, naming the holder.
TEST_F(SpaceTest, FixedAddressExecutableRunsAndHoldsItsRange) {
  const char* path = "/usr/bin/python3.11";
  if (access(path, R_OK) != 0) GTEST_SKIP() << path << " is not installed";
  Launch holder_launch;
  holder_launch.image = path;
  holder_launch.argv = {"python3", "-c", "import time; time.sleep(0.5)"};
  auto holder = start(*two_, holder_launch);
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  EXPECT_NE(holder->fixed_hi, 0u);

  Launch second;
  second.image = path;
  second.argv = {"python3", "-c", "pass"};
  auto refused = start(*two_, second);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(refused.error().message.find("holds that range"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("pid " + std::to_string(holder->pid)), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(two_->arena().slots_in_use(), 1u) << "the refused launch must give its slot back";

  auto status = finish(*two_, *holder);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->signaled);
  EXPECT_EQ(status->value, 0);
  // The range is free again.
  auto again = start(*two_, second);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto again_status = finish(*two_, *again);
  ASSERT_TRUE(again_status.ok());
  EXPECT_EQ(again_status->value, 0);
  EXPECT_EQ(two_->arena().slots_in_use(), 0u);
}

}  // namespace
}  // namespace tp

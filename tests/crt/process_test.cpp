// The process-wide side: crt0's auxv walk, __wrap_main, and the public C and
// C++ APIs running on a context installed from a fake space.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "fake_space.h"
#include "threadprocs/tp.hpp"

extern "C" int __wrap_main(int argc, char** argv, char** envp);

namespace {
int real_main_calls = 0;
int real_main_argc = 0;
char** real_main_argv = nullptr;
char** real_main_envp = nullptr;
}  // namespace

// What --wrap=main makes of the program's main.
extern "C" int __real_main(int argc, char** argv, char** envp) {
  ++real_main_calls;
  real_main_argc = argc;
  real_main_argv = argv;
  real_main_envp = envp;
  return 42;
}

namespace tp_test {
namespace {

using namespace std::chrono_literals;

// An initial stack: argc, argv, NULL, envp, NULL (plus `extra_nulls`), auxv, AT_NULL.
std::vector<std::uint64_t> initial_stack(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& auxv,
                                         int extra_nulls = 0) {
  static char arg0[] = "prog", arg1[] = "x", env0[] = "A=1";
  std::vector<std::uint64_t> s{2, reinterpret_cast<std::uintptr_t>(arg0),
                               reinterpret_cast<std::uintptr_t>(arg1), 0,
                               reinterpret_cast<std::uintptr_t>(env0), 0};
  for (int i = 0; i < extra_nulls; ++i) s.push_back(0);
  for (auto [type, value] : auxv) {
    s.push_back(type);
    s.push_back(value);
  }
  s.push_back(0);
  s.push_back(0);
  return s;
}

class Crt0Record : public ::testing::Test {
 protected:
  void TearDown() override { tpi_process.boot = tp_boot{}; }
};

TEST_F(Crt0Record, RecordsTheSpaceEntries) {
  const auto stack = initial_stack({{6 /* AT_PAGESZ */, 4096},
                                    {AT_TP_ABI_VERSION, 1},
                                    {AT_TP_SLOT_INDEX, 0},
                                    {AT_TP_SLOT_BASE, 0x200000000000},
                                    {AT_TP_SLOT_SIZE, 1ull << 36},
                                    {AT_TP_ARENA_BASE, 0x200000000000},
                                    {AT_TP_SLOT_COUNT, 64},
                                    {AT_TP_CONTROL, 0x7f0000001000},
                                    {25 /* AT_RANDOM */, 0x1234}});
  tpi_crt0_record(stack.data());
  const tp_boot& b = tpi_process.boot;
  EXPECT_EQ(b.recorded, 1u);
  EXPECT_EQ(b.present, TP_BOOT_HAS_ALL);
  EXPECT_EQ(b.abi_version, 1u);
  EXPECT_EQ(b.slot_index, 0u);
  EXPECT_EQ(b.slot_base, 0x200000000000u);
  EXPECT_EQ(b.slot_size, 1ull << 36);
  EXPECT_EQ(b.arena_base, 0x200000000000u);
  EXPECT_EQ(b.slot_count, 64u);
  EXPECT_EQ(b.control, 0x7f0000001000u);
}

TEST_F(Crt0Record, SkipsNullsAPreloadLeftAfterTheEnvironment) {
  const auto stack = initial_stack({{33, 0x7fff0000}, {AT_TP_SLOT_INDEX, 7}, {AT_TP_CONTROL, 0x1000}}, 2);
  tpi_crt0_record(stack.data());
  EXPECT_EQ(tpi_process.boot.present, TP_BOOT_HAS_SLOT_INDEX | TP_BOOT_HAS_CONTROL);
  EXPECT_EQ(tpi_process.boot.slot_index, 7u);
}

TEST_F(Crt0Record, OutsideASpaceRecordsNothing) {
  const auto stack = initial_stack({{6, 4096}, {25, 0x1234}});
  tpi_crt0_record(stack.data());
  EXPECT_EQ(tpi_process.boot.recorded, 1u);
  EXPECT_EQ(tpi_process.boot.present, 0u);
  EXPECT_EQ(tpi_process.boot.control, 0u);
}

// Everything below runs with the fake space installed as the process's.
class CrtInSpace : public ::testing::Test {
 protected:
  void SetUp() override {
    space.start_program(2, "tester");
    space.start_program(5, "peer");
    ctx = space.ctx(2);
    tpi_process_install(&ctx);
  }
  void TearDown() override { tpi_process_install(nullptr); }
  FakeSpace space{8, 32};
  tp_ctx ctx;
};

TEST_F(CrtInSpace, WrapMainMarksTheSlotThenCallsMain) {
  char arg0[] = "prog";
  char* argv[] = {arg0, nullptr};
  char* envp[] = {nullptr};
  const std::uint32_t g = space.registry_generation();
  real_main_calls = 0;
  EXPECT_EQ(__wrap_main(1, argv, envp), 42);
  EXPECT_EQ(real_main_calls, 1);
  EXPECT_EQ(real_main_argc, 1);
  EXPECT_EQ(real_main_argv, argv);
  EXPECT_EQ(real_main_envp, envp);
  EXPECT_EQ(space.slot(2).flags & TP_SLOT_IN_MAIN, TP_SLOT_IN_MAIN);
  EXPECT_EQ(space.slot(5).flags & TP_SLOT_IN_MAIN, 0u);
  EXPECT_EQ(space.registry_generation(), g + 1);
}

TEST_F(CrtInSpace, CApi) {
  EXPECT_EQ(tp_in_space(), 1);
  tp_self_info s;
  ASSERT_EQ(tp_self(&s), TP_OK);
  EXPECT_EQ(s.slot, 2u);
  EXPECT_STREQ(s.name, "tester");
  EXPECT_EQ(tp_owner(FakeSpace::in_slot(5)), 5);
  int x = 0;
  ASSERT_EQ(tp_publish("x", &x), TP_OK);
  ASSERT_EQ(tp_publish_sized("xs", &x, sizeof x), TP_OK);
  void* out = nullptr;
  std::uint64_t size = 9;
  ASSERT_EQ(tp_lookup("x", &out), TP_OK);
  EXPECT_EQ(out, &x);
  ASSERT_EQ(tp_lookup_sized("x", &size, &out), TP_OK);
  EXPECT_EQ(size, 0u);
  ASSERT_EQ(tp_lookup_sized("xs", &size, &out), TP_OK);
  EXPECT_EQ(size, sizeof x);
  EXPECT_EQ(tp_wait("xs", 0, &out), TP_OK);
  EXPECT_EQ(tp_wait_sized("nope", 1'000'000, &size, &out), TP_ETIMEDOUT);
  EXPECT_EQ(tp_unpublish("x"), TP_OK);
  EXPECT_EQ(tp_lookup("x", &out), TP_ENOTFOUND);
  EXPECT_EQ(tp_hold(FakeSpace::in_slot(5)), TP_OK);
  EXPECT_EQ(space.holds(2, 5), 1u);
  EXPECT_EQ(tp_release(FakeSpace::in_slot(5)), TP_OK);
  EXPECT_EQ(tp_release(FakeSpace::in_slot(5)), TP_ENOTHELD);
  EXPECT_EQ(tp_hold(&x), TP_ENOTARENA);
}

struct Point {
  double x, y;
};

TEST_F(CrtInSpace, CppTypedRegistry) {
  EXPECT_TRUE(tp::in_space());
  static Point point{1, 2};
  ASSERT_TRUE(tp::publish("point", &point));
  tp::result<void> again = tp::publish("point", &point);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), TP_EEXIST);
  EXPECT_EQ(again.error().error_code(), std::error_code(TP_EEXIST, tp::error_category()));

  tp::result<Point*> p = tp::lookup<Point>("point");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, &point);
  EXPECT_EQ((*p)->y, 2);
  tp::result<const Point*> cp = tp::lookup<const Point>("point");
  ASSERT_TRUE(cp.has_value());
  tp::result<double*> wrong = tp::lookup<double>("point");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), TP_ESIZE);
  EXPECT_STREQ(wrong.error().message(), tp_strerror(TP_ESIZE));
  EXPECT_TRUE(tp::lookup<void>("point"));
  EXPECT_EQ(tp::lookup<Point>("none").error(), TP_ENOTFOUND);
  EXPECT_EQ(tp::lookup<Point>("none").value_or(nullptr), nullptr);
  EXPECT_EQ(tp::lookup<Point>(std::string(TP_NAME_MAX, 'n')).error(), TP_EINVAL);

  // Published without a size (C API): typed lookups cannot check, and accept.
  ASSERT_EQ(tp_publish("unsized", &point), TP_OK);
  EXPECT_TRUE(tp::lookup<double>("unsized"));

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(tp::wait<Point>("later", 20ms).error(), TP_ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  EXPECT_TRUE(tp::wait<Point>("point", 0s));
  EXPECT_TRUE(tp::wait<Point>("point"));
  EXPECT_TRUE(tp::wait<Point>("point", std::chrono::hours(24 * 365 * 1000)));

  EXPECT_TRUE(tp::unpublish("point"));
  EXPECT_EQ(tp::unpublish("point").error(), TP_ENOTFOUND);
}

TEST_F(CrtInSpace, CppSelfAndOwner) {
  std::optional<tp::self_info> s = tp::self();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->slot, 2u);
  EXPECT_EQ(s->name, "tester");
  EXPECT_EQ(s->slot_base, kArenaBase + 2 * kSlotSize);
  tp::result<std::uint32_t> o = tp::owner(FakeSpace::in_slot(7));
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, 7u);
  int local;
  EXPECT_EQ(tp::owner(&local).error(), TP_ENOTARENA);
}

TEST_F(CrtInSpace, CppHoldReleasesInItsDestructor) {
  void* p = FakeSpace::in_slot(5);
  {
    tp::hold h(p);
    ASSERT_TRUE(h);
    EXPECT_EQ(h.get(), p);
    EXPECT_EQ(space.holds(2, 5), 1u);
    tp::hold moved(std::move(h));
    EXPECT_FALSE(h.held());  // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_TRUE(moved.held());
    EXPECT_EQ(space.holds(2, 5), 1u);
    tp::hold other(FakeSpace::in_slot(5, 8));
    EXPECT_EQ(space.holds(2, 5), 2u);
    other = std::move(moved);  // releases other's hold, takes moved's
    EXPECT_EQ(space.holds(2, 5), 1u);
  }
  EXPECT_EQ(space.holds(2, 5), 0u);
  {
    tp::hold h(p);
    h.reset();
    EXPECT_EQ(space.holds(2, 5), 0u);
    h.reset();  // nothing more to release
  }
  space.set_state(6, TP_SLOT_FREE);
  tp::hold gone(FakeSpace::in_slot(6));
  EXPECT_FALSE(gone);
  EXPECT_EQ(gone.error(), TP_EGONE);
  tp::hold outside(&p);
  EXPECT_EQ(outside.error(), TP_ENOTARENA);
  EXPECT_EQ(space.holds(2, 6), 0u);
}

TEST_F(CrtInSpace, AForkedChildIsOutsideTheSpace) {
  int x = 0;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Its own mm: publishing into a private copy of the registry would mislead.
    const bool outside = tp_in_space() == 0 && tp_publish("child", &x) == TP_ENOSPACE &&
                         tp_wait("never", -1, nullptr) == TP_ENOSPACE;
    _exit(outside ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(tp_in_space(), 1);  // the parent still is
  EXPECT_EQ(tp_lookup("child", nullptr), TP_ENOTFOUND);
}

TEST_F(CrtInSpace, CppErrorCategory) {
  const std::error_code ec = tp::error(TP_EFULL).error_code();
  EXPECT_STREQ(ec.category().name(), "threadprocs");
  EXPECT_EQ(ec.message(), tp_strerror(TP_EFULL));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(tp::error().error_code());
}

TEST(CrtNotInSpace, AfterUninstalling) {
  tpi_process_install(nullptr);
  EXPECT_EQ(tp_in_space(), 0);
  EXPECT_EQ(tp_publish("x", &real_main_calls), TP_ENOSPACE);
  EXPECT_FALSE(tp::self());
}

}  // namespace
}  // namespace tp_test

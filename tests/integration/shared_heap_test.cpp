// One allocator for the space (Debian's mimalloc 2.0.9, preloaded by the host into every
// dynamically linked program), kept slots (tp-run --keep, tp-space release) and what
// tp-space ps says about each program's memory. Programs: tests/programs/{heap_pair,
// cross_free, heap_leave, sleeper, sleeper_static, sleeper_nopie, print_env,
// print_env_static, hello}.
//
//   SharedHeap.*     cross-program delete both ways (and the crash without a shared heap),
//                    1M concurrent cross-frees each way with bounded memory, ps memory and
//                    flags, the program's environment exactly the launcher's.
//   KeepSlot.*       a stale pointer into an exited program faults; with --keep it does not
//                    until tp-space release; release refuses slots that are not kept.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "fixture.h"

namespace tpit {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;


// "a,b,c" as a set.
std::set<std::string> split_flags(const std::string& flags) {
  std::set<std::string> out;
  std::istringstream in(flags);
  for (std::string flag; std::getline(in, flag, ',');)
    out.insert(flag);
  return out;
}

// The first line of `out` if it is an address the programs print ("0x..."), else "".
std::string address_line(const std::string& out) {
  const size_t newline = out.find('\n');
  if (newline == std::string::npos || out.rfind("0x", 0) != 0)
    return "";
  return out.substr(0, newline);
}

const std::string kLibm = "/lib/x86_64-linux-gnu/libm.so.6";
const std::string kLibdl = "/lib/x86_64-linux-gnu/libdl.so.2";

// The lines of two print_env outputs that differ, position by position (the whole
// environment would drown the difference).
std::string env_difference(const std::string& expected, const std::string& actual) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  };
  const auto want = lines(expected), got = lines(actual);
  std::ostringstream out;
  out << "environment differs (" << want.size() << " entries expected, " << got.size()
      << " printed):";
  for (size_t i = 0; i < std::max(want.size(), got.size()); ++i) {
    const std::string w = i < want.size() ? want[i] : "<none>";
    const std::string g = i < got.size() ? got[i] : "<none>";
    if (w != g)
      out << "\n  entry " << i << ": expected " << w << "\n  entry " << i << ": printed  " << g;
  }
  return out.str();
}

class SharedHeapTest : public TpTest {
 protected:
  void SetUp() override {
    TpTest::SetUp();
    TP_REQUIRE_SPACE();
  }


  // The entries of `tp-space ps SPACE --json`; empty (and a failure) on bad output.
  std::vector<Json> ps_entries(const std::string& space) const {
    const auto listed = ps(space);
    if (!listed)
      return {};
    const Json* programs = listed->find("programs");
    if (programs == nullptr || !programs->is_array()) {
      ADD_FAILURE() << "tp-space ps --json has no \"programs\" array";
      return {};
    }
    return programs->items;
  }
  // The first ps entry for which `match` holds.
  std::optional<Json> ps_entry_where(const std::string& space,
                                     const std::function<bool(const Json&)>& match) const {
    for (const auto& entry : ps_entries(space))
      if (match(entry))
        return entry;
    return std::nullopt;
  }
  std::optional<Json> ps_entry_of_pid(const std::string& space, pid_t pid) const {
    return ps_entry_where(space, [&](const Json& e) { return integer_field(e, "pid") == pid; });
  }
  std::optional<Json> ps_entry_of_slot(const std::string& space, std::int64_t slot) const {
    return ps_entry_where(space, [&](const Json& e) { return integer_field(e, "slot") == slot; });
  }
  // The program of this entry runs with argv[1] == `first_arg` and its path ends in `/name`.
  static bool runs(const Json& entry, const std::string& name, const std::string& first_arg) {
    const Json* path = entry.find("program");
    const Json* args = entry.find("args");
    return path != nullptr && path->is_string() && path->text.ends_with("/" + name) &&
           args != nullptr && args->is_array() && !args->items.empty() &&
           args->items[0].is_string() && args->items[0].text == first_arg;
  }

  static std::optional<std::int64_t> integer_field(const Json& entry, const char* key) {
    const Json* value = entry.find(key);
    return value != nullptr ? value->integer() : std::nullopt;
  }
  static std::string string_field(const Json& entry, const char* key) {
    const Json* value = entry.find(key);
    return value != nullptr && value->is_string() ? value->text : "<missing>";
  }

  // Polls `good` (every 10 ms, 10 s at most); returns whether it held in the end. Waiting
  // for the host to process an exit is not a timing assertion: only the final answer counts.
  static bool settle(const std::function<bool()>& good) {
    const auto until = Clock::now() + 10s;
    while (!good()) {
      if (Clock::now() >= until)
        return good();
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  // Starts `tests/programs/sleeper[_variant]` in `space` and returns its pid (-1 on failure).
  pid_t start_sleeper(std::optional<Child>& child, const std::string& space,
                      const std::string& name, const std::vector<std::string>& options = {}) {
    const std::string pid_file = work_dir_ + "/" + name + std::to_string(++sleepers_) + ".pid";
    child.emplace(command(launch_in(space, {program(name), pid_file}, options)));
    if (!child->started())
      return -1;
    return wait_for_pid_file(pid_file, *child);
  }

  void expect_user_preload_works(const std::vector<std::string>& env, const std::string& space);

 private:
  int sleepers_ = 0;
};

using SharedHeap = SharedHeapTest;
using KeepSlot = SharedHeapTest;

// --- 1. Cross-program delete, both ways -----------------------------------------------------

// a allocates a 5000-char std::string, a std::vector<int> of 1M and an unordered_map of
// 100,000 string pairs; b (started separately with the control block's address) checks
// and deletes them, allocates its own set; a checks and deletes b's.
TEST_F(SharedHeap, TwoProgramsDeleteEachOthersContainers) {
  ASSERT_GT(start_space("pair"), 0);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Command a_command = command(launch_in("pair", {program("heap_pair"), "a"}));
    a_command.timeout = 120s;
    Child a(a_command);
    ASSERT_TRUE(a.started());
    ASSERT_TRUE(a.wait_for_output("\n", 60s));
    const std::string address = address_line(a.out());
    ASSERT_FALSE(address.empty()) << "heap_pair a printed no address: " << a.out();

    Command b_command = command(launch_in("pair", {program("heap_pair"), "b", address}));
    b_command.timeout = 120s;
    const Result b = tpit::run(b_command);
    EXPECT_TRUE(exited_with(b, 0)) << describe(b);
    EXPECT_EQ(b.out, "b: checked and deleted a's set\n");
    EXPECT_EQ(b.err, "");

    const Result a_result = a.finish();
    EXPECT_TRUE(exited_with(a_result, 0)) << describe(a_result);
    EXPECT_EQ(a_result.out, address + "\na: checked and deleted b's set\n");
    EXPECT_EQ(a_result.err, "");
  }
}

// The same pair with b on its own heap (--private-heap): b's glibc free() is handed a's
// mimalloc blocks and the program dies (glibc's heap checks abort, or it faults).
TEST_F(SharedHeap, PeerWithPrivateHeapCrashesDeletingForeignContainers) {
  ASSERT_GT(start_space("pairpriv"), 0);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Child a(command(launch_in("pairpriv", {program("heap_pair"), "a"})));
    ASSERT_TRUE(a.started());
    ASSERT_TRUE(a.wait_for_output("\n", 60s));
    const std::string address = address_line(a.out());
    ASSERT_FALSE(address.empty()) << "heap_pair a printed no address: " << a.out();

    const Result b = run(
        launch_in("pairpriv", {program("heap_pair"), "b", address}, {"--private-heap"}));
    EXPECT_TRUE(killed_by(b, SIGABRT) || killed_by(b, SIGSEGV))
        << "b freed a's blocks with its own glibc malloc and did not crash: " << describe(b);
    EXPECT_EQ(b.out, "");

    // a waits for b's set, which never comes: stop it.
    ASSERT_TRUE(a.signal(SIGTERM));
    const Result a_result = a.finish();
    EXPECT_TRUE(killed_by(a_result, SIGTERM)) << describe(a_result);
  }
}

// --- 2. 1,000,000 concurrent cross-frees each way, memory reused -----------------------------

// a and b each allocate 1M blocks of 16..1024 bytes (about 520 MB each in all) and pass them
// to the other through lock-free rings of 4096 entries; the other checks and frees them.
// a's slot's resident memory is read from `tp-space ps --json` half way and at the end,
// while a is paused: it must stay under 64 MiB. What a needs: its image, libc, libstdc++
// and mimalloc (about 4 MiB resident), the control block (64 KiB), at most 4096 of its
// blocks in flight (4 MiB) plus as many of b's not yet freed, and mimalloc's pages with
// free blocks not yet reused. If freed blocks were never reused (b's frees lost or never
// collected by a), a would hold ~500 MiB at the end and ~250 MiB half way.
TEST_F(SharedHeap, MillionConcurrentCrossFreesEachWayKeepMemoryBounded) {
  constexpr std::int64_t kBound = 64 * kMiB;
  ASSERT_GT(start_space("xfree"), 0);
  const std::string pause = work_dir_ + "/pause";
  Command a_command = command(launch_in("xfree", {program("cross_free"), "a", pause}));
  a_command.timeout = 300s;
  Child a(a_command);
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(a.wait_for_output("\n", 60s));
  const std::string address = address_line(a.out());
  ASSERT_FALSE(address.empty()) << "cross_free a printed no address: " << a.out();

  Command b_command = command(launch_in("xfree", {program("cross_free"), "b", address}));
  b_command.timeout = 300s;
  Child b(b_command);
  ASSERT_TRUE(b.started());

  auto a_resident = [&](const char* when) -> std::int64_t {
    const auto entry =
        ps_entry_where("xfree", [](const Json& e) { return runs(e, "cross_free", "a"); });
    if (!entry) {
      ADD_FAILURE() << when << ": cross_free a is not in tp-space ps";
      return -1;
    }
    const auto resident = integer_field(*entry, "resident_bytes");
    const auto mapped = integer_field(*entry, "mapped_bytes");
    if (!resident || !mapped) {
      ADD_FAILURE() << when << ": ps entry lacks resident_bytes or mapped_bytes";
      return -1;
    }
    std::cout << "[ info     ] cross_free a " << when << ": resident " << *resident / 1024
              << " KiB, mapped " << *mapped / 1024 << " KiB\n";
    return *resident;
  };

  ASSERT_TRUE(a.wait_for_output("half\n", 240s));
  const std::int64_t half = a_resident("half way");
  write_file(pause + ".half", "");
  ASSERT_TRUE(a.wait_for_output("end\n", 240s));
  const std::int64_t end = a_resident("at the end");
  write_file(pause + ".end", "");

  EXPECT_GT(half, 0);
  EXPECT_LE(half, kBound) << "a's resident memory half way";
  EXPECT_GT(end, 0);
  EXPECT_LE(end, kBound) << "a's resident memory at the end";

  const Result b_result = b.finish();
  EXPECT_TRUE(exited_with(b_result, 0)) << describe(b_result);
  EXPECT_EQ(b_result.out, "b: freed 1000000 blocks of a\n");
  EXPECT_EQ(b_result.err, "");
  const Result a_result = a.finish();
  EXPECT_TRUE(exited_with(a_result, 0)) << describe(a_result);
  EXPECT_EQ(a_result.out, address + "\nhalf\nend\na: freed 1000000 blocks of b\n");
  EXPECT_EQ(a_result.err, "");
}

// --- 3. Objects of exited programs: stale pointers fault; --keep; tp-space release -----------

TEST_F(KeepSlot, PointerIntoAProgramThatExitedFaults) {
  ASSERT_GT(start_space("leave"), 0);
  const Result put = run(launch_in("leave", {program("heap_leave"), "put"}));
  ASSERT_TRUE(exited_with(put, 0)) << describe(put);
  const std::string address = address_line(put.out);
  ASSERT_FALSE(address.empty()) << "heap_leave put printed no address: " << put.out;
  // Its slot is reset (the host handles the exit before the next request on its socket;
  // settle anyway): nothing is listed.
  EXPECT_TRUE(settle([&] { return ps_entries("leave").empty(); }))
      << "the ended program's slot is still listed";

  const Result take = run(launch_in("leave", {program("heap_leave"), "take", address}));
  EXPECT_TRUE(killed_by(take, SIGSEGV)) << describe(take);
  EXPECT_EQ(take.out, "");
}

TEST_F(KeepSlot, KeptSlotOutlivesItsProgramUntilReleased) {
  // Two slots: while one is kept, every other launch must use the other one, so the kept
  // memory is certainly not reused.
  ASSERT_GT(start_space("kept", {"--slots", "2"}), 0);
  const Result put = run(launch_in("kept", {program("heap_leave"), "put"}, {"--keep"}));
  ASSERT_TRUE(exited_with(put, 0)) << describe(put);
  EXPECT_EQ(put.err, "");
  const std::string address = address_line(put.out);
  ASSERT_FALSE(address.empty()) << "heap_leave put printed no address: " << put.out;

  // Listed as kept, pid 0, before anyone reads it.
  std::optional<Json> kept;
  EXPECT_TRUE(settle([&] {
    kept = ps_entry_where("kept", [](const Json& e) { return runs(e, "heap_leave", "put"); });
    return kept && string_field(*kept, "state") == "kept";
  })) << "heap_leave put is not listed as kept";
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(string_field(*kept, "state"), "kept");
  EXPECT_EQ(integer_field(*kept, "pid"), 0);
  const auto flags = split_flags(string_field(*kept, "flags"));
  EXPECT_TRUE(flags.count("keep") && flags.count("shared-heap"))
      << "flags: " << string_field(*kept, "flags");
  EXPECT_GT(integer_field(*kept, "resident_bytes").value_or(0), 0) << "kept memory resident";
  const auto slot = integer_field(*kept, "slot");
  ASSERT_TRUE(slot.has_value());

  // Other programs come and go in the other slot.
  for (int i = 0; i < 5; ++i) {
    const Result hello = run(launch_in("kept", {program("hello")}));
    ASSERT_TRUE(exited_with(hello, 0)) << describe(hello);
  }

  // The object is intact and can be freed by another program.
  const Result take = run(launch_in("kept", {program("heap_leave"), "take", address}));
  EXPECT_TRUE(exited_with(take, 0)) << describe(take);
  EXPECT_EQ(take.out, "took 3000 bytes and 100000 numbers\n");
  EXPECT_EQ(take.err, "");
  const auto still = ps_entry_of_slot("kept", *slot);
  ASSERT_TRUE(still.has_value()) << "the kept slot went away before tp-space release";
  EXPECT_EQ(string_field(*still, "state"), "kept");

  // Released: gone from ps, and the memory with it.
  const Result released = tp_space({"release", "kept", std::to_string(*slot)});
  EXPECT_TRUE(exited_with(released, 0)) << describe(released);
  EXPECT_EQ(released.err, "");
  EXPECT_TRUE(settle([&] { return !ps_entry_of_slot("kept", *slot).has_value(); }))
      << "slot " << *slot << " still listed after tp-space release";
  const Result stale = run(launch_in("kept", {program("heap_leave"), "take", address}));
  EXPECT_TRUE(killed_by(stale, SIGSEGV)) << "after release: " << describe(stale);

  // Released twice: refused.
  const Result again = tp_space({"release", "kept", std::to_string(*slot)});
  EXPECT_FALSE(exited_with(again, 0)) << describe(again);
  EXPECT_NE(again.err.find("not kept"), std::string::npos) << describe(again);
}

TEST_F(KeepSlot, ReleasingASlotThatIsNotKeptFails) {
  ASSERT_GT(start_space("notkept", {"--slots", "4"}), 0);
  std::optional<Child> sleeper;
  const pid_t pid = start_sleeper(sleeper, "notkept", "sleeper");
  ASSERT_GT(pid, 0);
  const auto entry = ps_entry_of_pid("notkept", pid);
  ASSERT_TRUE(entry.has_value());
  const auto slot = integer_field(*entry, "slot");
  ASSERT_TRUE(slot.has_value());

  {
    SCOPED_TRACE("the slot of a running program");
    const Result refused = tp_space({"release", "notkept", std::to_string(*slot)});
    EXPECT_FALSE(exited_with(refused, 0)) << describe(refused);
    EXPECT_NE(refused.err.find("not kept"), std::string::npos) << describe(refused);
    EXPECT_EQ(refused.out, "");
    const auto after = ps_entry_of_pid("notkept", pid);
    EXPECT_TRUE(after && string_field(*after, "state") == "running")
        << "the running program was disturbed by a refused release";
  }
  {
    SCOPED_TRACE("a free slot");
    const std::string free_slot = std::to_string((*slot + 1) % 4);
    const Result refused = tp_space({"release", "notkept", free_slot});
    EXPECT_FALSE(exited_with(refused, 0)) << describe(refused);
    EXPECT_NE(refused.err.find("not kept"), std::string::npos) << describe(refused);
  }
  {
    SCOPED_TRACE("a slot beyond the space");
    const Result refused = tp_space({"release", "notkept", "1000"});
    EXPECT_FALSE(exited_with(refused, 0)) << describe(refused);
    EXPECT_NE(refused.err.find("has no slot 1000 (it has 4)"), std::string::npos) << describe(refused);
  }
  {
    SCOPED_TRACE("a space that does not run");
    const Result refused = tp_space({"release", "nosuchspace", "0"});
    EXPECT_FALSE(exited_with(refused, 0)) << describe(refused);
    EXPECT_FALSE(refused.err.empty()) << describe(refused);
  }

  ASSERT_TRUE(sleeper->signal(SIGTERM));
  const Result ended = sleeper->finish();
  EXPECT_TRUE(killed_by(ended, SIGTERM)) << describe(ended);
}

TEST_F(KeepSlot, KeepNeedsANamedSpace) {
  const Result refused = run(launch({program("hello")}, {"--keep"}));
  EXPECT_FALSE(exited_with(refused, 0)) << describe(refused);
  EXPECT_EQ(refused.out, "") << "the program ran";
  EXPECT_NE(refused.err.find("--space"), std::string::npos) << describe(refused);
}

TEST_F(KeepSlot, StoppingASpaceFreesItsKeptSlots) {
  ASSERT_GT(start_space("keepstop"), 0);
  const Result put = run(launch_in("keepstop", {program("heap_leave"), "put"}, {"--keep"}));
  ASSERT_TRUE(exited_with(put, 0)) << describe(put);
  ASSERT_TRUE(settle([&] { return ps_entries("keepstop").size() == 1; }));
  const auto started = Clock::now();
  const Result stopped = tp_space({"stop", "keepstop"});
  EXPECT_TRUE(exited_with(stopped, 0)) << describe(stopped);
  // No program runs: the host has nobody to wait for, so the grace period (5 s) is not used.
  EXPECT_LT(Clock::now() - started, 4s) << "tp-space stop waited for a kept slot";
  EXPECT_FALSE(find_space("keepstop").has_value());
}

// --- 4. ps: memory and flags -----------------------------------------------------------------

TEST_F(SharedHeap, PsShowsMemoryAndHeapFlagsOfEachProgram) {
  ASSERT_GT(start_space("psmem", {"--slots", "8"}), 0);
  struct Case {
    const char* name;
    std::vector<std::string> options;
    std::set<std::string> flags;
  };
  const std::vector<Case> cases = {
      {"sleeper", {}, {"shared-heap"}},
      {"sleeper", {"--private-heap"}, {"private-heap"}},
      {"sleeper_static", {}, {"private-heap"}},
      {"sleeper_static", {"--private-heap"}, {"private-heap"}},
      {"sleeper", {"--keep"}, {"shared-heap", "keep"}},
      {"sleeper_nopie", {}, {"shared-heap", "fixed-address"}},
  };
  for (const auto& c : cases) {
    std::string options;
    for (const auto& o : c.options)
      options += " " + o;
    SCOPED_TRACE(std::string(c.name) + options);
    std::optional<Child> child;
    const pid_t pid = start_sleeper(child, "psmem", c.name, c.options);
    ASSERT_GT(pid, 0) << (child ? describe(child->finish()) : "");
    const auto entry = ps_entry_of_pid("psmem", pid);
    ASSERT_TRUE(entry.has_value()) << "pid " << pid << " not in tp-space ps --json";
    EXPECT_EQ(string_field(*entry, "state"), "running");
    EXPECT_EQ(split_flags(string_field(*entry, "flags")), c.flags)
        << "flags: " << string_field(*entry, "flags");
    const auto mapped = integer_field(*entry, "mapped_bytes");
    const auto resident = integer_field(*entry, "resident_bytes");
    ASSERT_TRUE(mapped && resident) << "no mapped_bytes or resident_bytes";
    EXPECT_GT(*mapped, 0);
    EXPECT_GT(*resident, 0);
    EXPECT_GE(*mapped, *resident);
    // A sleeper is small: its libraries (and, with mimalloc, its first segment) only.
    EXPECT_LT(*resident, 64 * kMiB);
    std::cout << "[ info     ] " << c.name << options << ": flags "
              << string_field(*entry, "flags") << ", mapped " << *mapped / 1024
              << " KiB, resident " << *resident / 1024 << " KiB\n";

    ASSERT_TRUE(child->signal(SIGTERM));
    const Result ended = child->finish();
    EXPECT_TRUE(killed_by(ended, SIGTERM)) << describe(ended);
    if (std::find(c.options.begin(), c.options.end(), "--keep") != c.options.end()) {
      std::optional<Json> kept;
      EXPECT_TRUE(settle([&] {
        kept = ps_entry_of_slot("psmem", integer_field(*entry, "slot").value_or(-1));
        return kept && string_field(*kept, "state") == "kept";
      }));
      ASSERT_TRUE(kept.has_value());
      EXPECT_EQ(integer_field(*kept, "pid"), 0);
      EXPECT_EQ(split_flags(string_field(*kept, "flags")), c.flags);
      EXPECT_GT(integer_field(*kept, "resident_bytes").value_or(0), 0);
      const Result released = tp_space(
          {"release", "psmem", std::to_string(integer_field(*kept, "slot").value_or(-1))});
      EXPECT_TRUE(exited_with(released, 0)) << describe(released);
    }
    EXPECT_TRUE(settle([&] { return ps_entries("psmem").empty(); }))
        << "the slot is still listed after its program ended";
  }
}

// --- 5. The program's environment is exactly the launcher's -----------------------------------

// print_env through tp-run (private space, named space, with and without --private-heap;
// dynamic and static) prints exactly what it prints natively, with and without an
// LD_PRELOAD of the user's own. Run through the harness (posix_spawn): a shell would add
// "_" itself.
TEST_F(SharedHeap, ProgramSeesExactlyTheLaunchersEnvironment) {
  const std::string& libm = kLibm;
  const std::string& libdl = kLibdl;
  ASSERT_EQ(access(libm.c_str(), R_OK), 0) << libm;
  std::vector<std::string> base = env_;
  std::erase_if(base, [](const std::string& e) { return e.rfind("LD_PRELOAD=", 0) == 0; });
  // LD_PRELOAD in the middle of the environment: its place must not change either.
  auto with = [&](const std::vector<std::string>& preloads) {
    std::vector<std::string> env = base;
    auto at = env.begin() + static_cast<std::ptrdiff_t>(env.size() / 2);
    for (const auto& p : preloads)
      at = env.insert(at, "LD_PRELOAD=" + p) + 1;
    env.push_back("TP_IT_LAST=after the preload");
    return env;
  };
  const std::vector<std::pair<std::string, std::vector<std::string>>> environments = {
      {"no LD_PRELOAD", base},
      {"LD_PRELOAD=libm", with({libm})},
      {"LD_PRELOAD=libm:libdl", with({libm + ":" + libdl})},
      {"LD_PRELOAD='libm libdl'", with({libm + " " + libdl})},
      {"LD_PRELOAD empty", with({""})},
  };
  ASSERT_GT(start_space("env"), 0);

  for (const auto& [what, env] : environments) {
    SCOPED_TRACE(what);
    std::string expected;
    for (const auto& entry : env)
      expected += entry + "\n";
    for (const char* name : {"print_env", "print_env_static"}) {
      SCOPED_TRACE(name);
      Command native = command({program(name)});
      native.env = env;
      const Result native_result = tpit::run(native);
      ASSERT_TRUE(exited_with(native_result, 0)) << describe(native_result);
      ASSERT_TRUE(native_result.out == expected)
          << "natively: " << env_difference(expected, native_result.out);

      const std::vector<std::pair<std::string, std::vector<std::string>>> launches = {
          {"private space", launch({program(name)})},
          {"private space, --private-heap", launch({program(name)}, {"--private-heap"})},
          {"named space", launch_in("env", {program(name)})},
          {"named space, --private-heap", launch_in("env", {program(name)}, {"--private-heap"})},
      };
      for (const auto& [where, argv] : launches) {
        SCOPED_TRACE(where);
        Command through = command(argv);
        through.env = env;
        const Result result = tpit::run(through);
        EXPECT_TRUE(exited_with(result, 0)) << describe(result);
        EXPECT_TRUE(result.out == native_result.out)
            << env_difference(native_result.out, result.out);
        EXPECT_EQ(result.err, "");
      }
    }
  }
}

// With a user's LD_PRELOAD in the launcher's environment, print_env (private and named
// space) prints exactly `env`, and heap_pair's two programs, both started with `env`, still
// delete each other's containers (the space's allocator was loaded).
void SharedHeapTest::expect_user_preload_works(const std::vector<std::string>& env,
                                               const std::string& space) {
  std::string expected;
  for (const auto& entry : env)
    expected += entry + "\n";
  for (const bool named : {false, true}) {
    SCOPED_TRACE(named ? "named space" : "private space");
    Command printed = command(named ? launch_in(space, {program("print_env")})
                                    : launch({program("print_env")}));
    printed.env = env;
    const Result result = tpit::run(printed);
    EXPECT_TRUE(exited_with(result, 0)) << describe(result);
    EXPECT_TRUE(result.out == expected) << env_difference(expected, result.out);
  }

  Command a_command = command(launch_in(space, {program("heap_pair"), "a"}));
  a_command.env = env;
  Child a(a_command);
  ASSERT_TRUE(a.started());
  ASSERT_TRUE(a.wait_for_output("\n", 60s));
  const std::string address = address_line(a.out());
  ASSERT_FALSE(address.empty()) << "heap_pair a printed no address: " << a.out();
  Command b_command = command(launch_in(space, {program("heap_pair"), "b", address}));
  b_command.env = env;
  const Result b = tpit::run(b_command);
  EXPECT_TRUE(exited_with(b, 0)) << "b did not get the space's allocator: " << describe(b);
  if (!exited_with(b, 0))
    a.signal(SIGTERM);  // a waits for b's set, which will not come
  const Result a_result = a.finish();
  if (exited_with(b, 0)) {
    EXPECT_TRUE(exited_with(a_result, 0)) << describe(a_result);
  }
}

TEST_F(SharedHeap, UserLdPreloadKeepsTheSharedHeapAndTheEnvironment) {
  std::vector<std::string> env = env_;
  std::erase_if(env, [](const std::string& e) { return e.rfind("LD_PRELOAD=", 0) == 0; });
  env.insert(env.begin() + static_cast<std::ptrdiff_t>(env.size() / 2), "LD_PRELOAD=" + kLibm);
  ASSERT_GT(start_space("userpre"), 0);
  expect_user_preload_works(env, "userpre");
}

// LD_PRELOAD twice in an envp is legal (posix_spawn/execve take any array); ld.so uses the
// last one, getenv() returns the first. The space's allocator must still be loaded and the
// environment still restored exactly.
TEST_F(SharedHeap, TwoLdPreloadEntriesKeepTheSharedHeapAndTheEnvironment) {
  std::vector<std::string> env = env_;
  std::erase_if(env, [](const std::string& e) { return e.rfind("LD_PRELOAD=", 0) == 0; });
  env.insert(env.begin() + static_cast<std::ptrdiff_t>(env.size() / 2), "LD_PRELOAD=" + kLibm);
  env.push_back("LD_PRELOAD=" + kLibdl);
  ASSERT_GT(start_space("twopre"), 0);
  expect_user_preload_works(env, "twopre");
}

// What a program execs gets the launcher's environment too (the space's LD_PRELOAD was
// removed before main, so the space's allocator does not follow into a new process).
TEST_F(SharedHeap, ExecedChildrenGetTheLaunchersEnvironmentAndNoSpaceAllocator) {
  const std::string& libm = kLibm;
  std::vector<std::string> base = env_;
  std::erase_if(base, [](const std::string& e) { return e.rfind("LD_PRELOAD=", 0) == 0; });
  std::vector<std::string> with_libm = base;
  with_libm.push_back("LD_PRELOAD=" + libm);
  ASSERT_GT(start_space("envexec"), 0);
  for (const auto& env : {base, with_libm}) {
    const bool user_preload = env.size() != base.size();
    SCOPED_TRACE(user_preload ? "LD_PRELOAD=libm" : "no LD_PRELOAD");
    std::string expected;
    for (const auto& entry : env)
      expected += entry + "\n";
    for (const bool named : {false, true}) {
      SCOPED_TRACE(named ? "named space" : "private space");
      auto through = [&](const std::vector<std::string>& argv) {
        Command c = command(named ? launch_in("envexec", argv) : launch(argv));
        c.env = env;
        return tpit::run(c);
      };
      // /usr/bin/env (a dynamic PIE) runs in the space and execs print_env in a new process.
      const Result printed = through({"/usr/bin/env", program("print_env")});
      EXPECT_TRUE(exited_with(printed, 0)) << describe(printed);
      EXPECT_TRUE(printed.out == expected) << env_difference(expected, printed.out);

      // The exec'd cat's own maps: no mimalloc, no shim; the user's libm if asked for.
      const Result maps = through({"/usr/bin/env", "/bin/cat", "/proc/self/maps"});
      EXPECT_TRUE(exited_with(maps, 0)) << describe(maps);
      EXPECT_EQ(maps.out.find("mimalloc"), std::string::npos) << maps.out;
      EXPECT_EQ(maps.out.find("tp_preload"), std::string::npos) << maps.out;
      EXPECT_EQ(maps.out.find("libm.so.6") != std::string::npos, user_preload) << maps.out;
    }
  }
}

}  // namespace
}  // namespace tpit

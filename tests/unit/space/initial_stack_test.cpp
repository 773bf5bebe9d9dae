// build_initial_stack(): the bytes are read back as memory at `sp`, the way a
// program's ld.so and libc read them, and compared with the x86-64 ABI layout.
#include "space/initial_stack.h"

#include <elf.h>
#include <sys/auxv.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "space/host_auxv.h"

namespace tp {
namespace {

constexpr uint64_t kTop = 0x300040000000ull;  // a slot end: 16-byte aligned
constexpr uint64_t kLimit = 2ull << 20;
constexpr uint64_t kMaxArgStrlen = 128 * 1024;

// The stack as the program sees it: addresses in [sp, top).
class StackView {
 public:
  StackView(const BuiltStack& s, uint64_t top) : sp_(s.sp), top_(top), bytes_(s.bytes) {}

  bool contains(uint64_t addr, uint64_t len) const {
    return addr >= sp_ && addr <= top_ && len <= top_ - addr;
  }
  uint64_t word(uint64_t addr) const {
    if (!contains(addr, 8)) {
      ADD_FAILURE() << "word at 0x" << std::hex << addr << " lies outside [sp, top)";
      return 0;
    }
    uint64_t v;
    memcpy(&v, &bytes_[addr - sp_], 8);
    return v;
  }
  // The NUL-terminated string at addr, which must end before top.
  std::string str(uint64_t addr) const {
    if (!contains(addr, 1)) {
      ADD_FAILURE() << "string at 0x" << std::hex << addr << " lies outside [sp, top)";
      return {};
    }
    const uint8_t* p = &bytes_[addr - sp_];
    const void* nul = memchr(p, 0, top_ - addr);
    if (!nul) {
      ADD_FAILURE() << "string at 0x" << std::hex << addr << " has no NUL before top";
      return {};
    }
    return std::string(reinterpret_cast<const char*>(p), static_cast<const uint8_t*>(nul) - p);
  }
  std::vector<uint8_t> raw(uint64_t addr, size_t len) const {
    if (!contains(addr, len)) {
      ADD_FAILURE() << len << " bytes at 0x" << std::hex << addr << " lie outside [sp, top)";
      return {};
    }
    return {bytes_.begin() + long(addr - sp_), bytes_.begin() + long(addr - sp_ + len)};
  }
  uint64_t sp() const { return sp_; }

 private:
  uint64_t sp_, top_;
  const std::vector<uint8_t>& bytes_;
};

// The vector part parsed as _start does: argc, argv[], NULL, envp[], NULL, auxv.
struct ParsedStack {
  uint64_t argc = 0;
  std::vector<uint64_t> argv_ptrs, env_ptrs;
  std::vector<AuxEntry> auxv;  // including the final AT_NULL
};

ParsedStack parse(const StackView& v) {
  ParsedStack p;
  uint64_t at = v.sp();
  p.argc = v.word(at);
  at += 8;
  for (uint64_t i = 0; i < p.argc; ++i, at += 8) p.argv_ptrs.push_back(v.word(at));
  EXPECT_EQ(v.word(at), 0u) << "argv[argc] must be NULL";
  at += 8;
  for (;; at += 8) {
    uint64_t w = v.word(at);
    if (w == 0 || !v.contains(at, 8)) break;
    p.env_ptrs.push_back(w);
  }
  at += 8;
  for (;; at += 16) {
    if (!v.contains(at, 16)) {
      ADD_FAILURE() << "auxv runs past top without AT_NULL";
      break;
    }
    AuxEntry e{v.word(at), v.word(at + 8)};
    p.auxv.push_back(e);
    if (e.type == AT_NULL) break;
  }
  return p;
}

const AuxEntry* find_aux(const ParsedStack& p, uint64_t type) {
  for (const auto& e : p.auxv)
    if (e.type == type) return &e;
  return nullptr;
}

int count_aux(const ParsedStack& p, uint64_t type) {
  int n = 0;
  for (const auto& e : p.auxv) n += e.type == type;
  return n;
}

// A host auxv with entries to keep, entries to replace, and platform strings.
HostAuxv sample_host_auxv() {
  HostAuxv h;
  h.entries = {
      {AT_SYSINFO_EHDR, 0x7ffff7fc1000}, {AT_MINSIGSTKSZ, 3376},   {AT_HWCAP, 0x178bfbff},
      {AT_PAGESZ, 4096},                 {AT_CLKTCK, 100},         {AT_PHDR, 0x555555554040},
      {AT_PHENT, 56},                    {AT_PHNUM, 13},           {AT_BASE, 0x7ffff7fc3000},
      {AT_FLAGS, 0},                     {AT_ENTRY, 0x555555556000}, {AT_UID, 1000},
      {AT_EUID, 1000},                   {AT_GID, 1000},           {AT_EGID, 1000},
      {AT_SECURE, 0},                    {AT_RANDOM, 0x7fffffffe3b9}, {AT_HWCAP2, 2},
      {AT_EXECFN, 0x7fffffffefe0},       {AT_PLATFORM, 0x7fffffffe3c9}, {AT_EXECFD, 3},
      {AT_BASE_PLATFORM, 0x7fffffffe3d0}, {27 /*AT_RSEQ_FEATURE_SIZE*/, 28},
  };
  h.platform = "x86_64";
  h.base_platform = "x86_64-base";
  return h;
}

struct Fixture {
  std::vector<std::string> argv{"prog", "first arg", "", "last"};
  std::vector<std::string> env{"PATH=/usr/bin:/bin", "EMPTY=", "A=b=c"};
  HostAuxv host = sample_host_auxv();
  StackInputs in{};

  Fixture() {
    in.argv = &argv;
    in.env = &env;
    in.execfn = "/usr/local/bin/prog";
    in.host_auxv = &host;
    in.phdr = 0x300000200040;
    in.phent = 56;
    in.phnum = 11;
    in.entry = 0x300000201230;
    in.interp_base = 0x30003f000000;
    in.extra = {{0x54500000, 1}, {0x54500001, 7}, {0x54500002, 0x300000000000}};
    for (int i = 0; i < 16; ++i) in.random[i] = uint8_t(0xa0 + i);
  }
};

TEST(InitialStack, SpIsAlignedAndBytesCoverSpToTop) {
  Fixture f;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sp % 16, 0u);
  EXPECT_LT(r->sp, kTop);
  EXPECT_EQ(r->bytes.size(), kTop - r->sp);
  // The kernel leaves 8 zero bytes at the very top.
  StackView v(*r, kTop);
  EXPECT_EQ(v.word(kTop - 8), 0u);
}

TEST(InitialStack, ArgvAndEnvPointToTheirStrings) {
  Fixture f;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  ASSERT_EQ(p.argc, f.argv.size());
  ASSERT_EQ(p.argv_ptrs.size(), f.argv.size());
  ASSERT_EQ(p.env_ptrs.size(), f.env.size());
  for (size_t i = 0; i < f.argv.size(); ++i) {
    EXPECT_TRUE(v.contains(p.argv_ptrs[i], f.argv[i].size() + 1));
    EXPECT_GT(p.argv_ptrs[i], v.sp());
    EXPECT_EQ(v.str(p.argv_ptrs[i]), f.argv[i]) << "argv[" << i << "]";
  }
  for (size_t i = 0; i < f.env.size(); ++i) {
    EXPECT_TRUE(v.contains(p.env_ptrs[i], f.env[i].size() + 1));
    EXPECT_EQ(v.str(p.env_ptrs[i]), f.env[i]) << "envp[" << i << "]";
  }
}

// setproctitle() and friends overwrite argv[0] up to the end of the last env
// string, assuming one contiguous block: argv strings, then env strings.
TEST(InitialStack, ArgvStringsAreContiguousAndFollowedByEnvStrings) {
  Fixture f;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  ASSERT_EQ(p.argv_ptrs.size(), f.argv.size());
  ASSERT_EQ(p.env_ptrs.size(), f.env.size());
  std::vector<uint64_t> all = p.argv_ptrs;
  all.insert(all.end(), p.env_ptrs.begin(), p.env_ptrs.end());
  std::vector<std::string> strings = f.argv;
  strings.insert(strings.end(), f.env.begin(), f.env.end());
  for (size_t i = 0; i + 1 < all.size(); ++i)
    EXPECT_EQ(all[i + 1], all[i] + strings[i].size() + 1) << "string " << i << " -> " << i + 1;
  // The whole block is one run of NUL-separated strings.
  uint64_t len = all.back() + strings.back().size() + 1 - all.front();
  std::vector<uint8_t> block = v.raw(all.front(), len);
  std::string expected;
  for (const auto& s : strings) expected += s + '\0';
  EXPECT_EQ(std::string(block.begin(), block.end()), expected);
}

TEST(InitialStack, ProgramSpecificAuxvEntriesAreReplaced) {
  Fixture f;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  struct Want {
    uint64_t type, value;
  };
  for (Want w : {Want{AT_PHDR, f.in.phdr}, Want{AT_PHENT, f.in.phent}, Want{AT_PHNUM, f.in.phnum},
                 Want{AT_ENTRY, f.in.entry}, Want{AT_BASE, f.in.interp_base}}) {
    EXPECT_EQ(count_aux(p, w.type), 1) << "type " << w.type;
    const AuxEntry* e = find_aux(p, w.type);
    ASSERT_NE(e, nullptr) << "type " << w.type;
    EXPECT_EQ(e->value, w.value) << "type " << w.type;
  }
  for (uint64_t t : {uint64_t(AT_RANDOM), uint64_t(AT_EXECFN), uint64_t(AT_PLATFORM), uint64_t(AT_BASE_PLATFORM)})
    EXPECT_EQ(count_aux(p, t), 1) << "type " << t;
  // The host's own AT_EXECFD says nothing about the program.
  EXPECT_EQ(count_aux(p, AT_EXECFD), 0);

  const AuxEntry* execfn = find_aux(p, AT_EXECFN);
  ASSERT_NE(execfn, nullptr);
  EXPECT_EQ(v.str(execfn->value), f.in.execfn);

  const AuxEntry* random = find_aux(p, AT_RANDOM);
  ASSERT_NE(random, nullptr);
  std::vector<uint8_t> got = v.raw(random->value, 16);
  EXPECT_EQ(got, std::vector<uint8_t>(f.in.random.begin(), f.in.random.end()));

  const AuxEntry* platform = find_aux(p, AT_PLATFORM);
  ASSERT_NE(platform, nullptr);
  EXPECT_NE(platform->value, 0x7fffffffe3c9u) << "must point at a copy, not at the host's string";
  EXPECT_EQ(v.str(platform->value), "x86_64");
  const AuxEntry* base_platform = find_aux(p, AT_BASE_PLATFORM);
  ASSERT_NE(base_platform, nullptr);
  EXPECT_EQ(v.str(base_platform->value), "x86_64-base");
}

TEST(InitialStack, HostEntriesKeptInOrderThenExtrasThenNull) {
  Fixture f;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ParsedStack p = parse(StackView(*r, kTop));
  ASSERT_FALSE(p.auxv.empty());
  EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
  EXPECT_EQ(count_aux(p, AT_NULL), 1);

  // The host's entries of other types, with their values, in the host's order.
  std::vector<std::pair<uint64_t, uint64_t>> kept_want, kept_got;
  for (const auto& e : f.host.entries) {
    switch (e.type) {
      case AT_PHDR: case AT_PHENT: case AT_PHNUM: case AT_ENTRY: case AT_BASE: case AT_RANDOM:
      case AT_EXECFN: case AT_PLATFORM: case AT_BASE_PLATFORM: case AT_EXECFD:
        break;
      default:
        kept_want.push_back({e.type, e.value});
    }
  }
  for (const auto& e : p.auxv)
    for (const auto& k : kept_want)
      if (e.type == k.first) kept_got.push_back({e.type, e.value});
  EXPECT_EQ(kept_got, kept_want);

  // Every extra entry is present with its value, once, in the given order.
  std::vector<std::pair<uint64_t, uint64_t>> extra_want, extra_got;
  for (const auto& e : f.in.extra) extra_want.push_back({e.type, e.value});
  for (const auto& e : p.auxv)
    if (e.type >= 0x54500000 && e.type <= 0x545000ff) extra_got.push_back({e.type, e.value});
  EXPECT_EQ(extra_got, extra_want);
}

TEST(InitialStack, NoPlatformEntryWhenTheHostHasNone) {
  Fixture f;
  f.host.platform.clear();
  f.host.base_platform.clear();
  std::erase_if(f.host.entries,
                [](const AuxEntry& e) { return e.type == AT_PLATFORM || e.type == AT_BASE_PLATFORM; });
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ParsedStack p = parse(StackView(*r, kTop));
  EXPECT_EQ(count_aux(p, AT_PLATFORM), 0);
  EXPECT_EQ(count_aux(p, AT_BASE_PLATFORM), 0);
  EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
}

// Every parity of argc, envc and auxv length must still give an aligned sp
// and a well-formed stack.
TEST(InitialStack, AlignedForEveryParity) {
  for (size_t argc = 0; argc < 4; ++argc) {
    for (size_t envc = 0; envc < 4; ++envc) {
      for (size_t extras = 0; extras < 3; ++extras) {
        for (size_t execfn_len : {0, 1, 7, 8, 15}) {
          Fixture f;
          f.argv.assign(argc, "x");
          f.env.assign(envc, "E=1");
          f.in.extra.resize(extras, AuxEntry{0x54500003, 42});
          f.in.execfn = std::string(execfn_len, 'p');
          auto r = build_initial_stack(kTop, kLimit, f.in);
          ASSERT_TRUE(r.ok()) << r.error().message;
          SCOPED_TRACE(testing::Message() << "argc " << argc << " envc " << envc << " extras " << extras
                                          << " execfn " << execfn_len);
          EXPECT_EQ(r->sp % 16, 0u);
          StackView v(*r, kTop);
          ParsedStack p = parse(v);
          EXPECT_EQ(p.argc, argc);
          ASSERT_EQ(p.env_ptrs.size(), envc);
          for (size_t i = 0; i < envc; ++i) EXPECT_EQ(v.str(p.env_ptrs[i]), "E=1");
          const AuxEntry* execfn = find_aux(p, AT_EXECFN);
          ASSERT_NE(execfn, nullptr);
          EXPECT_EQ(v.str(execfn->value), f.in.execfn);
          EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
        }
      }
    }
  }
}

// The kernel's rule: strings plus one pointer each (and the two NULLs) must
// fit in the limit.
TEST(InitialStack, LimitCountsStringsAndPointers) {
  Fixture f;
  uint64_t strings = 0;
  for (const auto& s : f.argv) strings += s.size() + 1;
  for (const auto& s : f.env) strings += s.size() + 1;
  uint64_t need = strings + (f.argv.size() + f.env.size() + 2) * 8;

  auto exact = build_initial_stack(kTop, need, f.in);
  EXPECT_TRUE(exact.ok()) << exact.error().message;

  auto over = build_initial_stack(kTop, need - 1, f.in);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(over.error().message.find("too long"), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find(std::to_string(need)), std::string::npos) << over.error().message;
  EXPECT_NE(over.error().message.find(std::to_string(need - 1)), std::string::npos) << over.error().message;
}

TEST(InitialStack, OneStringAtMostMaxArgStrlen) {
  Fixture f;
  // 128 KiB including the NUL is allowed, as by the kernel.
  f.argv[1] = std::string(kMaxArgStrlen - 1, 'a');
  auto fits = build_initial_stack(kTop, 64ull << 20, f.in);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  ParsedStack p = parse(StackView(*fits, kTop));
  ASSERT_EQ(p.argv_ptrs.size(), f.argv.size());
  EXPECT_EQ(StackView(*fits, kTop).str(p.argv_ptrs[1]).size(), kMaxArgStrlen - 1);

  f.argv[1] = std::string(kMaxArgStrlen, 'a');
  auto too_long = build_initial_stack(kTop, 64ull << 20, f.in);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ExitCode::kNotExecutable);
  const std::string& m = too_long.error().message;
  EXPECT_NE(m.find("argument 1"), std::string::npos) << m;
  EXPECT_NE(m.find(std::to_string(kMaxArgStrlen + 1)), std::string::npos) << m;
  EXPECT_NE(m.find(std::to_string(kMaxArgStrlen)), std::string::npos) << m;
}

TEST(InitialStack, OneEnvironmentEntryAtMostMaxArgStrlen) {
  Fixture f;
  f.env[2] = "X=" + std::string(kMaxArgStrlen, 'v');
  auto r = build_initial_stack(kTop, 64ull << 20, f.in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find("environment entry 2"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(std::to_string(kMaxArgStrlen + 3)), std::string::npos) << r.error().message;
}

TEST(InitialStack, HundredThousandArguments) {
  Fixture f;
  f.argv.clear();
  for (int i = 0; i < 100000; ++i) f.argv.push_back("arg" + std::to_string(i));
  auto r = build_initial_stack(kTop, 64ull << 20, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sp % 16, 0u);
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  ASSERT_EQ(p.argc, 100000u);
  ASSERT_EQ(p.argv_ptrs.size(), 100000u);
  for (size_t i = 0; i < f.argv.size(); ++i) {
    ASSERT_EQ(v.str(p.argv_ptrs[i]), f.argv[i]) << "argv[" << i << "]";
    if (i + 1 < f.argv.size()) {
      ASSERT_EQ(p.argv_ptrs[i + 1], p.argv_ptrs[i] + f.argv[i].size() + 1);
    }
  }
  ASSERT_EQ(p.env_ptrs.size(), f.env.size());
  EXPECT_EQ(p.env_ptrs[0], p.argv_ptrs.back() + f.argv.back().size() + 1);
  EXPECT_EQ(v.str(p.env_ptrs[0]), f.env[0]);
  EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
}

TEST(InitialStack, EmptyArgvAndEnv) {
  Fixture f;
  f.argv.clear();
  f.env.clear();
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sp % 16, 0u);
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  EXPECT_EQ(p.argc, 0u);
  EXPECT_TRUE(p.env_ptrs.empty());
  EXPECT_EQ(v.word(v.sp() + 8), 0u);   // argv[0] == NULL
  EXPECT_EQ(v.word(v.sp() + 16), 0u);  // envp[0] == NULL
  EXPECT_EQ(p.auxv.back().type, uint64_t(AT_NULL));
}

// With the host's real auxv: what glibc reads from it stays true.
TEST(InitialStack, RealHostAuxvKeepsWhatGlibcReads) {
  auto host = read_host_auxv();
  ASSERT_TRUE(host.ok()) << host.error().message;
  const char* platform = reinterpret_cast<const char*>(getauxval(AT_PLATFORM));
  ASSERT_NE(platform, nullptr);
  EXPECT_EQ(host->platform, platform);
  Fixture f;
  f.in.host_auxv = &*host;
  auto r = build_initial_stack(kTop, kLimit, f.in);
  ASSERT_TRUE(r.ok()) << r.error().message;
  StackView v(*r, kTop);
  ParsedStack p = parse(v);
  // (Not AT_HWCAP: glibc's getauxval() returns its own x86 value for it.)
  for (uint64_t t : {uint64_t(AT_SYSINFO_EHDR), uint64_t(AT_PAGESZ), uint64_t(AT_CLKTCK),
                     uint64_t(AT_MINSIGSTKSZ), uint64_t(AT_SECURE), uint64_t(AT_UID), uint64_t(AT_EGID)}) {
    errno = 0;
    unsigned long want = getauxval(t);
    if (want == 0 && errno == ENOENT) continue;  // this kernel does not give it
    const AuxEntry* e = find_aux(p, t);
    ASSERT_NE(e, nullptr) << "type " << t;
    EXPECT_EQ(e->value, want) << "type " << t;
  }
  const AuxEntry* pl = find_aux(p, AT_PLATFORM);
  ASSERT_NE(pl, nullptr);
  EXPECT_EQ(v.str(pl->value), platform);
  EXPECT_EQ(find_aux(p, AT_ENTRY)->value, f.in.entry);
}

}  // namespace
}  // namespace tp

#include "space/initial_stack.h"

#include <elf.h>

#include <cstring>

namespace tp {
namespace {
constexpr uint64_t kMaxArgStrlen = 32 * 4096;  // the kernel's MAX_ARG_STRLEN

// Writes downwards from the top of the stack into a buffer that mirrors it.
class DownWriter {
 public:
  DownWriter(uint64_t top, size_t capacity) : top_(top), buf_(capacity), pos_(capacity) {}
  uint64_t push_bytes(const void* data, size_t len) {
    pos_ -= len;
    memcpy(buf_.data() + pos_, data, len);
    return address();
  }
  uint64_t push_string(const std::string& s) { return push_bytes(s.c_str(), s.size() + 1); }
  void align_down(uint64_t alignment) {
    uint64_t addr = address();
    uint64_t aligned = addr & ~(alignment - 1);
    pos_ -= size_t(addr - aligned);
  }
  uint64_t address() const { return top_ - (buf_.size() - pos_); }
  BuiltStack finish() && {
    uint64_t sp = address();
    buf_.erase(buf_.begin(), buf_.begin() + long(pos_));
    return BuiltStack{sp, std::move(buf_)};
  }

 private:
  uint64_t top_;
  std::vector<uint8_t> buf_;
  size_t pos_;
};

bool replaced_type(uint64_t type) {
  switch (type) {
    case AT_PHDR: case AT_PHENT: case AT_PHNUM: case AT_ENTRY: case AT_BASE:
    case AT_RANDOM: case AT_EXECFN: case AT_PLATFORM: case AT_BASE_PLATFORM:
    case AT_EXECFD:
      return true;
    default:
      return false;
  }
}
}  // namespace

Result<BuiltStack> build_initial_stack(uint64_t top, uint64_t limit, const StackInputs& in) {
  const auto& argv = *in.argv;
  const auto& env = *in.env;
  uint64_t strings = 0;
  for (const auto* list : {&argv, &env}) {
    for (size_t i = 0; i < list->size(); ++i) {
      uint64_t len = (*list)[i].size() + 1;
      if (len > kMaxArgStrlen)
        return make_error(std::string(list == &argv ? "argument " : "environment entry ") + std::to_string(i) +
                              " is " + std::to_string(len) + " bytes long; the kernel's limit is " +
                              std::to_string(kMaxArgStrlen),
                          ExitCode::kNotExecutable);
      strings += len;
    }
  }
  // The kernel also counts the pointers against the limit.
  uint64_t pointers = (argv.size() + env.size() + 2) * sizeof(uint64_t);
  if (strings + pointers > limit)
    return make_error("argument list too long: " + std::to_string(strings + pointers) +
                          " bytes of arguments and environment; the limit is " + std::to_string(limit),
                      ExitCode::kNotExecutable);

  size_t auxv_count = in.host_auxv->entries.size() + in.extra.size() + 12;
  size_t capacity = 16 + in.execfn.size() + 1 + strings + in.host_auxv->platform.size() +
                    in.host_auxv->base_platform.size() + 2 + 16 + 64 +
                    (argv.size() + env.size() + 3) * 8 + auxv_count * 16 + 64;
  DownWriter w(top, capacity);

  uint64_t zero = 0;
  w.push_bytes(&zero, sizeof zero);
  uint64_t execfn_addr = w.push_string(in.execfn);
  // env strings above argv strings, each list contiguous (setproctitle relies on it).
  std::vector<uint64_t> env_addrs(env.size()), argv_addrs(argv.size());
  for (size_t i = env.size(); i-- > 0;) env_addrs[i] = w.push_string(env[i]);
  for (size_t i = argv.size(); i-- > 0;) argv_addrs[i] = w.push_string(argv[i]);
  uint64_t platform_addr = in.host_auxv->platform.empty() ? 0 : w.push_string(in.host_auxv->platform);
  uint64_t base_platform_addr =
      in.host_auxv->base_platform.empty() ? 0 : w.push_string(in.host_auxv->base_platform);
  w.align_down(16);
  uint64_t random_addr = w.push_bytes(in.random.data(), in.random.size());

  std::vector<AuxEntry> auxv;
  auxv.reserve(auxv_count);
  for (const auto& e : in.host_auxv->entries)
    if (!replaced_type(e.type)) auxv.push_back(e);
  auxv.push_back({AT_PHDR, in.phdr});
  auxv.push_back({AT_PHENT, in.phent});
  auxv.push_back({AT_PHNUM, in.phnum});
  auxv.push_back({AT_ENTRY, in.entry});
  auxv.push_back({AT_BASE, in.interp_base});
  auxv.push_back({AT_RANDOM, random_addr});
  auxv.push_back({AT_EXECFN, execfn_addr});
  if (platform_addr) auxv.push_back({AT_PLATFORM, platform_addr});
  if (base_platform_addr) auxv.push_back({AT_BASE_PLATFORM, base_platform_addr});
  for (const auto& e : in.extra) auxv.push_back(e);
  auxv.push_back({AT_NULL, 0});

  // The vector part: argc + argv + NULL + envp + NULL + auxv, ending 16-aligned at sp.
  size_t words = 1 + argv.size() + 1 + env.size() + 1 + auxv.size() * 2;
  w.align_down(16);
  if (words % 2) w.push_bytes(&zero, 8);  // so that sp itself is 16-byte aligned
  std::vector<uint64_t> vec;
  vec.reserve(words);
  vec.push_back(argv.size());
  vec.insert(vec.end(), argv_addrs.begin(), argv_addrs.end());
  vec.push_back(0);
  vec.insert(vec.end(), env_addrs.begin(), env_addrs.end());
  vec.push_back(0);
  for (const auto& e : auxv) {
    vec.push_back(e.type);
    vec.push_back(e.value);
  }
  w.push_bytes(vec.data(), vec.size() * 8);
  return std::move(w).finish();
}

}  // namespace tp

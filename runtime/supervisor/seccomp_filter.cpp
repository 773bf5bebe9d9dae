#include "supervisor/seccomp_filter.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cstddef>

namespace tp {
namespace {

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT
constexpr uint32_t kOffNr = offsetof(seccomp_data, nr);
constexpr uint32_t kOffArch = offsetof(seccomp_data, arch);
constexpr uint32_t kOffIpLo = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t kOffIpHi = kOffIpLo + 4;

// A tiny assembler with forward labels, so the jumps are computed, not counted.
class Assembler {
 public:
  enum Label : int { kAllow = -1, kNotify = -2 };
  void load(uint32_t off) { code_.push_back({BPF_LD | BPF_W | BPF_ABS, 0, 0, off}); jumps_.push_back({}); }
  // if (A <op> k) goto t else goto f; targets are instruction indices or labels.
  void jump(uint16_t op, uint32_t k, int t, int f) {
    code_.push_back({uint16_t(BPF_JMP | op | BPF_K), 0, 0, k});
    jumps_.push_back({t, f});
  }
  int next() const { return int(code_.size()); }
  Result<std::vector<BpfInsn>> finish(size_t max_insns) {
    int allow = next(), notify = next() + 1;
    code_.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW});
    code_.push_back({BPF_RET | BPF_K, 0, 0, SECCOMP_RET_USER_NOTIF});
    jumps_.push_back({});
    jumps_.push_back({});
    if (code_.size() > max_insns)
      return make_error("the supervisor filter needs " + std::to_string(code_.size()) + " instructions; at most " +
                        std::to_string(max_insns) + " fit");
    for (size_t i = 0; i < code_.size(); ++i) {
      if (!jumps_[i].used) continue;
      auto resolve = [&](int target) { return target == kAllow ? allow : target == kNotify ? notify : target; };
      int t = resolve(jumps_[i].t) - int(i) - 1, f = resolve(jumps_[i].f) - int(i) - 1;
      if (t < 0 || t > 255 || f < 0 || f > 255) return make_error("supervisor filter jump out of range");
      code_[i].jt = uint8_t(t);
      code_[i].jf = uint8_t(f);
    }
    return std::move(code_);
  }

 private:
  struct Jump {
    Jump() = default;
    Jump(int t_, int f_) : t(t_), f(f_), used(true) {}
    int t = 0, f = 0;
    bool used = false;
  };
  std::vector<BpfInsn> code_;
  std::vector<Jump> jumps_;
};

}  // namespace

const std::vector<uint32_t>& supervised_syscalls() {
  static const std::vector<uint32_t> nrs{SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk,
                                         SYS_shmat, SYS_shmdt, SYS_io_setup};
  return nrs;
}

Result<std::vector<BpfInsn>> build_supervisor_filter(const std::vector<IpRange>& ranges, size_t max_insns) {
  Assembler a;
  // Another ABI (i386 int 0x80) or x32: not supervised (docs/limitations.md).
  a.load(kOffArch);
  a.jump(BPF_JEQ, AUDIT_ARCH_X86_64, a.next() + 1, Assembler::kAllow);
  a.load(kOffNr);
  a.jump(BPF_JGE, kX32Bit, Assembler::kAllow, a.next() + 1);
  const auto& nrs = supervised_syscalls();
  int check_ip = a.next() + int(nrs.size());
  for (size_t i = 0; i < nrs.size(); ++i) {
    bool last = i + 1 == nrs.size();
    a.jump(BPF_JEQ, nrs[i], check_ip, last ? Assembler::kAllow : a.next() + 1);
  }
  // For each range [lo, hi): notify when lo <= ip < hi (64-bit compares on two words).
  for (size_t r = 0; r < ranges.size(); ++r) {
    const uint32_t lo_hi = uint32_t(ranges[r].lo >> 32), lo_lo = uint32_t(ranges[r].lo);
    const uint32_t hi_hi = uint32_t(ranges[r].hi >> 32), hi_lo = uint32_t(ranges[r].hi);
    const bool last = r + 1 == ranges.size();
    // Instructions of this block: 0 ld hi; 1 jgt lo_hi; 2 jeq lo_hi; 3 ld lo; 4 jge lo_lo;
    // 5 ld hi; 6 jgt hi_hi; 7 jeq hi_hi; 8 ld lo; 9 jge hi_lo. Next block at +10.
    const int base = a.next(), below = last ? Assembler::kAllow : base + 10, upper = base + 5;
    a.load(kOffIpHi);
    a.jump(BPF_JGT, lo_hi, upper, base + 2);
    a.jump(BPF_JEQ, lo_hi, base + 3, below);
    a.load(kOffIpLo);
    a.jump(BPF_JGE, lo_lo, upper, below);
    a.load(kOffIpHi);
    a.jump(BPF_JGT, hi_hi, below, base + 7);
    a.jump(BPF_JEQ, hi_hi, base + 8, Assembler::kNotify);
    a.load(kOffIpLo);
    a.jump(BPF_JGE, hi_lo, below, Assembler::kNotify);
  }
  if (ranges.empty()) a.jump(BPF_JEQ, 0, Assembler::kAllow, Assembler::kAllow);
  return a.finish(max_insns);
}

}  // namespace tp

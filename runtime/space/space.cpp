#include "space/space.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/errno_text.h"
#include "elf/elf_image.h"
#include "elf/file_view.h"
#include "space/initial_stack.h"
#include "space/segment_mapper.h"
#include "space/space_allocator.h"
#include "space/slot_layout.h"
#include "supervisor/seccomp_filter.h"
#include "threadprocs/abi.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace tp {
namespace {

constexpr uint64_t kDefaultStack = 8ull << 20;
constexpr uint64_t kTrampolineStack = 64ull << 10;  // below the initial stack, for the trampoline
constexpr uint64_t kPlanBytes = align_up(sizeof(tp_child_plan), kPageSize);

std::string fd_path(int fd) {
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return "fd " + std::to_string(fd);
  return std::string(target, size_t(n));
}

uint64_t host_ignored_signals() {
  uint64_t mask = 0;
  for (int sig = 1; sig <= 64; ++sig) {
    struct sigaction sa;
    if (sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) mask |= 1ull << (sig - 1);
  }
  return mask;
}

std::string hex_range(const elf::ElfImage& e) {
  char buf[64];
  snprintf(buf, sizeof buf, "[%#llx, %#llx)", static_cast<unsigned long long>(e.span_start),
           static_cast<unsigned long long>(e.span_end));
  return buf;
}

// Unmaps a fixed image's reserved range if the launch fails after reserving it.
class FixedImageGuard {
 public:
  FixedImageGuard(uint64_t lo, uint64_t hi) : lo_(lo), hi_(hi) {}
  ~FixedImageGuard() {
    if (armed_) munmap(reinterpret_cast<void*>(lo_), hi_ - lo_);
  }
  void arm() { armed_ = true; }
  void disarm() { armed_ = false; }

 private:
  uint64_t lo_, hi_;
  bool armed_ = false;
};

Result<ReadImageRef> read_image(int fd, std::string name) {
  TP_ASSIGN_OR_RETURN(auto view, elf::FdFileView::open(fd, name));
  TP_ASSIGN_OR_RETURN(auto image, elf::read_elf_image(view));
  return ReadImageRef{std::move(image), std::move(name)};
}

// The program's stack size: the launcher's RLIMIT_STACK, as the kernel would use.
uint64_t stack_rlimit(const LaunchSpec& spec) {
  for (const auto& r : spec.rlimits)
    if (r.resource == RLIMIT_STACK && r.cur != RLIM_INFINITY && r.cur > 0) return r.cur;
  return kDefaultStack;
}

std::string comm_of(const std::string& exec_path) {
  auto slash = exec_path.rfind('/');
  return slash == std::string::npos ? exec_path : exec_path.substr(slash + 1);
}

const char* step_name(int step) {
  switch (step) {
    case TP_STEP_PDEATHSIG: return "prctl(PR_SET_PDEATHSIG)";
    case TP_STEP_PARENT_GONE: return "the launching host ended before the program started";
    case TP_STEP_SETSID: return "setsid";
    case TP_STEP_STDIO: return "installing stdin/stdout/stderr";
    case TP_STEP_CHDIR: return "changing to the working directory";
    case TP_STEP_CLOSE_RANGE: return "close_range";
    case TP_STEP_SIGNALS: return "setting signal dispositions";
    case TP_STEP_NO_NEW_PRIVS: return "prctl(PR_SET_NO_NEW_PRIVS)";
    case TP_STEP_SECCOMP: return "installing the memory supervisor's seccomp filter";
    default: return "an unknown step";
  }
}

// Releases the slot if a launch fails half-way.
class SlotGuard {
 public:
  SlotGuard(Arena& arena, ControlRegion& control, uint32_t slot) : arena_(arena), control_(control), slot_(slot) {}
  ~SlotGuard() {
    if (!armed_) return;
    control_.on_free(slot_);
    (void)arena_.release(slot_);
  }
  void disarm() { armed_ = false; }

 private:
  Arena& arena_;
  ControlRegion& control_;
  uint32_t slot_;
  bool armed_ = true;
};

}  // namespace

Status fence_program_break() {
  uint64_t brk_now = reinterpret_cast<uint64_t>(sbrk(0));
  uint64_t guard = align_up(brk_now, kPageSize);
  void* got = mmap(reinterpret_cast<void*>(guard), kPageSize, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (got == MAP_FAILED) {
    if (errno == EEXIST) return ok_status();  // something already fences it
    return make_error("cannot map a guard page at the program break: " + errno_text(errno));
  }
  name_mapping(guard, kPageSize, "tp:brk-guard");
  return ok_status();
}

Space::Space(std::string name, Arena arena, ControlRegion control, HostAuxv auxv, uint64_t host_ignored,
             SpaceOptions options)
    : name_(std::move(name)),
      arena_(std::move(arena)),
      control_(std::move(control)),
      auxv_(std::move(auxv)),
      host_ignored_(host_ignored),
      options_(options) {}

Result<std::unique_ptr<Space>> Space::create(std::string name, const ArenaConfig& config, SpaceOptions options) {
  TP_TRY(fence_program_break());
  TP_ASSIGN_OR_RETURN(auto arena, Arena::reserve(config));
  TP_ASSIGN_OR_RETURN(auto control, ControlRegion::create(config.slot_count));
  TP_ASSIGN_OR_RETURN(auto auxv, read_host_auxv());
  std::unique_ptr<Space> space(new Space(std::move(name), std::move(arena), std::move(control), std::move(auxv),
                                         host_ignored_signals(), options));
  if (options.supervise) {
    TP_ASSIGN_OR_RETURN(space->filter_, space->make_filter(std::nullopt));
    TP_ASSIGN_OR_RETURN(space->supervisors_, SupervisorPool::create(options.supervisor_threads));
  }
  return space;
}

Status Space::reclaim(LaunchedProgram& program) {
  // The supervisor stops acting on the slot before the slot is reset.
  if (program.supervisor) program.supervisor->detach_slot();
  if (program.fixed_hi > program.fixed_lo) {
    munmap(reinterpret_cast<void*>(program.fixed_lo), program.fixed_hi - program.fixed_lo);
    fixed_images_.erase(program.fixed_lo);
    program.fixed_lo = program.fixed_hi = 0;
  }
  control_.on_free(program.slot);
  return arena_.release(program.slot);
}

Result<std::vector<tp_bpf_insn>> Space::make_filter(std::optional<std::pair<uint64_t, uint64_t>> extra) const {
  const ArenaConfig& c = arena_.config();
  std::vector<IpRange> ranges{{c.base, c.base + c.slot_size * c.slot_count}};
  if (extra) ranges.push_back({extra->first, extra->second});
  TP_ASSIGN_OR_RETURN(auto insns, build_supervisor_filter(ranges, TP_PLAN_MAX_FILTER));
  std::vector<tp_bpf_insn> out;
  for (const auto& insn : insns) out.push_back({insn.code, insn.jt, insn.jf, insn.k});
  return out;
}

Status Space::check_fixed_range(const ReadImageRef& image) const {
  const elf::ElfImage& e = image.image;
  const ArenaConfig& c = arena_.config();
  uint64_t arena_end = c.base + c.slot_size * c.slot_count;
  if (e.span_start < arena_end && e.span_end > c.base)
    return make_error(image.name + ": its fixed address range " + hex_range(e) + " lies inside the space's arena",
                      ExitCode::kNotExecutable);
  for (const auto& [lo, f] : fixed_images_)
    if (e.span_start < f.hi && e.span_end > lo)
      return make_error(image.name + ": cannot load it at its fixed address " + hex_range(e) + ": " + f.name +
                            " (pid " + std::to_string(f.pid) + ", slot " + std::to_string(f.slot) +
                            ") holds that range; a fixed-address program runs once per space at a time",
                        ExitCode::kNotExecutable);
  return ok_status();
}

Status Space::hand_over_listener(LaunchedProgram& program, uint64_t alloc_lo,
                                 uint64_t alloc_hi, uint64_t brk_start, uint64_t brk_limit,
                                 const std::vector<std::pair<uint64_t, uint64_t>>& in_use) {
  tp_child_plan* plan = program.plan;
  // Wait for the child's listener (or its death).
  for (;;) {
    if (__atomic_load_n(&plan->handshake, __ATOMIC_ACQUIRE) == TP_HANDSHAKE_LISTENER_READY) break;
    struct timespec timeout{0, 20 * 1000 * 1000};
    syscall(SYS_futex, &plan->handshake, FUTEX_WAIT_PRIVATE, 0, &timeout, nullptr, 0);
    pollfd p{program.pidfd.get(), POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      auto status = collect(program);
      if (!status.ok()) return status.take_error();
      return make_error("the program ended before its memory supervisor started");
    }
  }
  UniqueFd listener(int(syscall(SYS_pidfd_getfd, program.pidfd.get(), plan->listener_fd, 0)));
  int err = errno;
  // Let the child go on either way; without a listener its trapped calls would fail.
  if (!listener.valid()) {
    syscall(SYS_pidfd_send_signal, program.pidfd.get(), SIGKILL, nullptr, 0);
    __atomic_store_n(&plan->handshake, TP_HANDSHAKE_LISTENER_TAKEN, __ATOMIC_RELEASE);
    (void)collect(program);
    return make_error("cannot take the memory supervisor's listener from the program: " + errno_text(err));
  }
  __atomic_store_n(&plan->handshake, TP_HANDSHAKE_LISTENER_TAKEN, __ATOMIC_RELEASE);
  syscall(SYS_futex, &plan->handshake, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);

  uint64_t lo = arena_.slot_base(program.slot), hi = arena_.slot_end(program.slot);
  SlotState state(lo, hi, alloc_lo, alloc_hi, brk_start, brk_limit);
  for (const auto& [start, end] : in_use) state.map.add(start, end - start);
  UniqueFd pidfd(fcntl(program.pidfd.get(), F_DUPFD_CLOEXEC, 3));
  auto supervised = supervisors_->supervise(std::move(listener), std::move(pidfd), std::move(state));
  if (!supervised.ok()) {
    // The child already runs: it must not outlive the slot the caller frees.
    syscall(SYS_pidfd_send_signal, program.pidfd.get(), SIGKILL, nullptr, 0);
    (void)collect(program);
    return supervised.take_error();
  }
  program.supervisor = std::move(supervised).value();
  return ok_status();
}

Result<LaunchedProgram> Space::launch(const LaunchSpec& spec) {
  if (spec.argv.empty()) return make_error(spec.exec_path + ": empty argument list", ExitCode::kNotExecutable);
  TP_ASSIGN_OR_RETURN(ReadImageRef main, read_image(spec.image_fd, fd_path(spec.image_fd)));
  const bool fixed = main.image.kind == elf::ImageKind::kFixedExec;
  if (fixed) TP_TRY(check_fixed_range(main));

  UniqueFd interp_fd;
  std::optional<ReadImageRef> interp;
  if (main.image.interpreter) {
    const std::string& path = *main.image.interpreter;
    interp_fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!interp_fd.valid()) {
      // As execve: a missing interpreter is ENOENT, which a shell reports as 127.
      const int err = errno;
      return make_error(main.name + ": cannot open its interpreter " + path + ": " + errno_text(err),
                        err == ENOENT || err == ENOTDIR ? ExitCode::kNotFound : ExitCode::kNotExecutable);
    }
    auto read_interp = read_image(interp_fd.get(), path);
    // Its message names the interpreter only: say which program it belongs to.
    if (!read_interp.ok())
      return make_error(main.name + ": its interpreter " + read_interp.error().message, read_interp.error().code);
    ReadImageRef i = std::move(read_interp).value();
    if (i.image.kind != elf::ImageKind::kStaticPie)
      return make_error(main.name + ": its interpreter " + path + " is a " + i.image.describe_kind() +
                            ", not a self-contained shared object",
                        ExitCode::kNotExecutable);
    interp = std::move(i);
  }

  const std::optional<elf::SlotAwareNote>& note = main.image.slot_aware;
  if (note && note->min_slot_size > arena_.config().slot_size)
    return make_error(main.name + ": it needs slots of at least " + std::to_string(note->min_slot_size >> 20) +
                          " MiB; space " + name_ + " has slots of " +
                          std::to_string(arena_.config().slot_size >> 20) + " MiB",
                      ExitCode::kNotExecutable);
  // The slot the image was linked for, when it is free: it then loads with a
  // zero relocation delta. Otherwise any slot; ld.so relocates it as usual.
  std::optional<uint32_t> slot;
  if (note && note->fixed_slot >= 0 && uint32_t(note->fixed_slot) < arena_.config().slot_count &&
      arena_.acquire_exact(uint32_t(note->fixed_slot)))
    slot = uint32_t(note->fixed_slot);
  else
    slot = arena_.acquire();
  if (!slot)
    return make_error("space " + name_ + " is full (" + std::to_string(arena_.config().slot_count) + " slots)");
  SlotGuard guard(arena_, control_, *slot);
  const uint64_t base = arena_.slot_base(*slot);
  const std::string label = "tp:slot" + std::to_string(*slot);

  // Room for the arguments, the trampoline and a usable stack even under a tiny ulimit -s.
  uint64_t arg_limit = std::max<uint64_t>(stack_rlimit(spec) / 4, 128 << 10);
  const uint64_t wanted_stack = note && note->stack_size ? note->stack_size : stack_rlimit(spec);
  uint64_t stack_size = std::max<uint64_t>(wanted_stack, arg_limit + kTrampolineStack + (256 << 10));
  stack_size = std::min<uint64_t>(stack_size, arena_.config().slot_size / 4);

  // A fixed-address image lies at its link address, outside the slot; the
  // slot still holds everything else (its break starts where an image would).
  SpanRequest image_span{main.image.span_start, main.image.span_end, main.image.max_align};
  if (fixed) image_span = {0, 0, kPageSize};
  SpanRequest interp_span{};
  if (interp) interp_span = {interp->image.span_start, interp->image.span_end, interp->image.max_align};
  auto planned = plan_slot_layout(base, arena_.config().slot_size, image_span, interp ? &interp_span : nullptr,
                                  stack_size);
  if (!planned.ok()) return make_error(main.name + ": " + planned.error().message, planned.error().code);
  const SlotLayout layout = *planned;

  const uint64_t image_bias = fixed ? 0 : layout.image_bias;
  FixedImageGuard fixed_guard(fixed ? main.image.span_start : 0, fixed ? main.image.span_end : 0);
  if (fixed) {
    // Reserve the link-time range first: MAP_FIXED_NOREPLACE fails instead of clobbering the host.
    void* want = reinterpret_cast<void*>(main.image.span_start);
    if (mmap(want, main.image.span_end - main.image.span_start, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0) != want)
      return make_error(main.name + ": cannot load it at its fixed address " + hex_range(main.image) +
                            ": the range is in use in the space's host",
                        ExitCode::kNotExecutable);
    fixed_guard.arm();
  }
  TP_TRY(map_segments(main.image, spec.image_fd, image_bias, main.name, label + ":bss"));
  if (interp) TP_TRY(map_segments(interp->image, interp_fd.get(), layout.interp_bias, interp->name, label + ":ld-bss"));
  if (mmap(reinterpret_cast<void*>(layout.stack_low), layout.stack_top - layout.stack_low, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE | MAP_STACK, -1, 0) == MAP_FAILED)
    return make_error("cannot map the stack of slot " + std::to_string(*slot) + ": " + errno_text(errno));
  name_mapping(layout.stack_low, layout.stack_top - layout.stack_low, (label + ":stack").c_str());

  // Dynamically linked programs share the space's allocator (cross-program free).
  const bool private_heap = spec.private_heap || (note && (note->flags & TP_NOTE_FLAG_PRIVATE_HEAP));
  const bool shared_heap = interp && !private_heap && !options_.allocator_preload.empty();
  std::vector<std::string> env_with_allocator;
  if (shared_heap) env_with_allocator = with_space_allocator(spec.env, options_.allocator_preload);

  StackInputs in{};
  in.argv = &spec.argv;
  in.env = shared_heap ? &env_with_allocator : &spec.env;
  in.execfn = spec.exec_path;
  in.host_auxv = &auxv_;
  in.phdr = image_bias + main.image.phdr_vaddr;
  in.phent = sizeof(Elf64_Phdr);
  in.phnum = main.image.phnum;
  in.entry = image_bias + main.image.entry;
  in.interp_base = interp ? layout.interp_bias : 0;
  in.extra = {{AT_TP_ABI_VERSION, TP_ABI_VERSION},
              {AT_TP_SLOT_INDEX, *slot},
              {AT_TP_SLOT_BASE, base},
              {AT_TP_SLOT_SIZE, arena_.config().slot_size},
              {AT_TP_ARENA_BASE, arena_.config().base},
              {AT_TP_SLOT_COUNT, arena_.config().slot_count},
              {AT_TP_CONTROL, control_.address()}};
  if (getrandom(in.random.data(), in.random.size(), 0) != ssize_t(in.random.size()))
    return make_error("getrandom failed: " + errno_text(errno));
  TP_ASSIGN_OR_RETURN(BuiltStack stack, build_initial_stack(layout.stack_top, arg_limit, in));
  if (stack.sp < layout.stack_low + kTrampolineStack + sizeof(tp_child_plan) + 256)
    return make_error(spec.exec_path + ": arguments and environment do not fit the stack", ExitCode::kNotExecutable);
  memcpy(reinterpret_cast<void*>(stack.sp), stack.bytes.data(), stack.bytes.size());

  // The plan lives in the first page of the slot, which nothing of the
  // program uses: what the trampoline reports there survives the program.
  const uint64_t plan_addr = base;
  if (mmap(reinterpret_cast<void*>(plan_addr), kPlanBytes, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
    return make_error("cannot map the launch plan of slot " + std::to_string(*slot) + ": " + errno_text(errno));
  name_mapping(plan_addr, kPlanBytes, (label + ":plan").c_str());
  auto* plan = new (reinterpret_cast<void*>(plan_addr)) tp_child_plan{};
  plan->entry = interp ? layout.interp_bias + interp->image.entry : in.entry;
  plan->initial_sp = stack.sp;
  for (int i = 0; i < 3; ++i) plan->stdio_src[i] = spec.stdio[i];
  plan->cwd_fd = spec.cwd_fd;
  plan->parent_pid = getpid();
  plan->flags = spec.new_session ? TP_PLAN_NEW_SESSION : 0;
  plan->umask = spec.umask & 0777;
  for (const auto& r : spec.rlimits) {
    if (plan->rlimit_count == TP_PLAN_MAX_RLIMITS) break;
    plan->rlimits[plan->rlimit_count++] = {r.resource, 0, r.cur, r.max};
  }
  plan->blocked = spec.blocked;
  plan->ignored = spec.ignored;
  plan->defaulted = host_ignored_ & ~spec.ignored;
  std::string comm = comm_of(spec.exec_path).substr(0, 15);
  memcpy(plan->comm, comm.c_str(), comm.size() + 1);
  std::vector<tp_bpf_insn> own_filter;
  if (fixed && options_.supervise) {
    // This program's own code also lies outside the arena: supervise that range too.
    TP_ASSIGN_OR_RETURN(own_filter, make_filter(std::make_pair(main.image.span_start, main.image.span_end)));
  }
  const std::vector<tp_bpf_insn>& filter = fixed ? own_filter : filter_;
  plan->filter_len = uint32_t(filter.size());
  std::copy(filter.begin(), filter.end(), plan->filter);

  // The slot table is complete before the program can look at it.
  SlotStart start;
  start.name = note && !note->name.empty() ? note->name : comm_of(spec.exec_path);
  start.load_bias = image_bias;
  if (note) {
    start.exports_begin = image_bias + note->exports_begin;
    start.exports_end = image_bias + note->exports_end;
    start.flags |= TP_SLOT_SLOT_AWARE;
  }
  if (image_bias == 0) start.flags |= TP_SLOT_AT_LINK_ADDRESS;
  control_.on_start(*slot, start);

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  // The trampoline runs on the program's stack, below its initial frame.
  args.stack = align_down(stack.sp - 256, 16) - kTrampolineStack;
  args.stack_size = kTrampolineStack;

  // The child starts with every signal blocked; the trampoline installs the
  // launcher's mask as its last step.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = tp_clone3(&args, sizeof args, plan);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return make_error("clone3 failed: " + errno_text(int(-pid)));

  LaunchedProgram program;
  program.pid = pid_t(pid);
  program.pidfd.reset(pidfd);
  program.slot = *slot;
  program.plan = plan;
  program.shared_heap = shared_heap;
  program.name = start.name;
  program.slot_aware = note.has_value();
  program.at_link_address = image_bias == 0;
  program.wanted_slot = note ? note->fixed_slot : -1;
  __atomic_store_n(&control_.slot(*slot).pid, int32_t(pid), __ATOMIC_RELAXED);
  if (fixed) {
    program.fixed_lo = main.image.span_start;
    program.fixed_hi = main.image.span_end;
    fixed_images_[program.fixed_lo] = {program.fixed_hi, *slot, program.pid, main.name};
  }
  if (!filter.empty()) {
    // The break grows up from the image's end; mappings go top-down below ld.so.
    uint64_t image_high = fixed ? layout.image_bias : align_up(layout.image_bias + main.image.span_end, kPageSize);
    uint64_t brk_limit = image_high + arena_.config().slot_size / 8;
    uint64_t alloc_hi = interp ? layout.interp_bias + interp->image.span_start : layout.stack_low - kPageSize;
    std::vector<std::pair<uint64_t, uint64_t>> in_use{
        {plan_addr, plan_addr + kPlanBytes},
        {fixed ? image_high : layout.image_bias + main.image.span_start, image_high},
        {layout.stack_low - kPageSize, layout.stack_top}};
    if (interp)
      in_use.push_back({layout.interp_bias + interp->image.span_start, layout.interp_bias + interp->image.span_end});
    auto handed = hand_over_listener(program, brk_limit, alloc_hi, image_high, brk_limit, in_use);
    if (!handed.ok()) {
      fixed_images_.erase(program.fixed_lo);
      return handed.take_error();  // the guards release the slot and the fixed range
    }
  }
  guard.disarm();
  fixed_guard.disarm();
  return program;
}

Result<ExitStatus> Space::collect(LaunchedProgram& program) {
  siginfo_t info{};
  for (;;) {
    if (waitid(idtype_t(P_PIDFD), id_t(program.pidfd.get()), &info, WEXITED) == 0) break;
    if (errno != EINTR) return make_error("waitid on program " + std::to_string(program.pid) + ": " + errno_text(errno));
  }
  ExitStatus status = exit_status_from(info);
  if (!status.signaled && status.value == TP_PLAN_FAILURE_EXIT && program.plan && program.plan->failed_step != 0)
    return make_error("cannot start the program: " + std::string(step_name(program.plan->failed_step)) + ": " +
                      errno_text(program.plan->failed_errno));
  return status;
}

}  // namespace tp

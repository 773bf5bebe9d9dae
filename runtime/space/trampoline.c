/* The clone trampoline: runs in a new threadproc between clone3 and the jump
 * to the program's entry.
 *
 * What it may use: raw syscalls, its own stack (below the plan), the plan.
 * What it may NOT use: libc (no function calls at all: errno and every libc
 * function touch the host's TLS, which this task must not use), globals of
 * the host, the host's heap (may be freed already), stack protector (FS is
 * the host thread's), sanitizers. CMake compiles this file freestanding. */
#include <stddef.h>
#include <stdint.h>

#include "space/child_plan.h"

#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_dup2 33
#define NR_getppid 110
#define NR_setsid 112
#define NR_umask 95
#define NR_fchdir 81
#define NR_close 3
#define NR_prctl 157
#define NR_arch_prctl 158
#define NR_exit_group 231
#define NR_prlimit64 302
#define NR_close_range 436
#define NR_futex 202
#define NR_seccomp 317

#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1u << 3)
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1u << 5)
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define PR_SET_PDEATHSIG 1
#define PR_SET_NAME 15
#define ARCH_SET_FS 0x1002
#define SIG_SETMASK 2
#define SIGKILL 9
#define SIGSTOP 19

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

struct kernel_sigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

__attribute__((noreturn)) static void fail(struct tp_child_plan* plan, int step, long ret) {
  plan->failed_errno = (int32_t)-ret;
  plan->failed_step = step;
  for (;;) sys(NR_exit_group, TP_PLAN_FAILURE_EXIT, 0, 0, 0);
}

/* The memory supervisor's filter, and the handoff of its listener: the host
 * takes a copy with pidfd_getfd while we wait, then ours is closed. No call
 * the filter traps may happen before the host has the listener (they would
 * fail with ENOSYS), and none happens here: this code is outside the arena. */
static void install_supervisor_filter(struct tp_child_plan* plan) {
  long r;
  if ((r = sys(NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0)) < 0) fail(plan, TP_STEP_NO_NEW_PRIVS, r);
  struct {
    uint16_t len;
    uint16_t pad[3];
    void* filter;
  } prog = {(uint16_t)plan->filter_len, {0, 0, 0}, plan->filter};
  r = sys(NR_seccomp, SECCOMP_SET_MODE_FILTER,
          SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog, 0);
  if (r < 0) fail(plan, TP_STEP_SECCOMP, r);
  plan->listener_fd = (int32_t)r;
  __atomic_store_n(&plan->handshake, TP_HANDSHAKE_LISTENER_READY, __ATOMIC_RELEASE);
  sys6(NR_futex, (long)&plan->handshake, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
  while (__atomic_load_n(&plan->handshake, __ATOMIC_ACQUIRE) == TP_HANDSHAKE_LISTENER_READY)
    sys6(NR_futex, (long)&plan->handshake, FUTEX_WAIT_PRIVATE, TP_HANDSHAKE_LISTENER_READY, 0, 0, 0);
  sys(NR_close, r, 0, 0, 0);
}

void tp_enter_program(uint64_t sp, uint64_t entry) __attribute__((noreturn));
void tp_trampoline_main(struct tp_child_plan* plan) __attribute__((noreturn, used));

void tp_trampoline_main(struct tp_child_plan* plan) {
  long r;
  /* First, so that a host dying from here on takes this program with it. */
  if ((r = sys(NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0)) < 0) fail(plan, TP_STEP_PDEATHSIG, r);
  if (sys(NR_getppid, 0, 0, 0, 0) != plan->parent_pid) fail(plan, TP_STEP_PARENT_GONE, -3 /*ESRCH*/);

  if (plan->filter_len) install_supervisor_filter(plan);

  if ((plan->flags & TP_PLAN_NEW_SESSION) && (r = sys(NR_setsid, 0, 0, 0, 0)) < 0)
    fail(plan, TP_STEP_SETSID, r);

  for (int fd = 0; fd < 3; ++fd) {
    int src = plan->stdio_src[fd];
    if (src == fd) continue;
    r = src < 0 ? sys(NR_close, fd, 0, 0, 0) : sys(NR_dup2, src, fd, 0, 0);
    if (r < 0 && !(src < 0 && r == -9 /*EBADF: already closed*/)) fail(plan, TP_STEP_STDIO, r);
  }
  if (plan->cwd_fd >= 0 && (r = sys(NR_fchdir, plan->cwd_fd, 0, 0, 0)) < 0) fail(plan, TP_STEP_CHDIR, r);
  /* Only stdio reaches the program: not the host's sockets, pidfds, images. */
  if ((r = sys(NR_close_range, 3, ~0u, 0, 0)) < 0) fail(plan, TP_STEP_CLOSE_RANGE, r);

  sys(NR_umask, plan->umask, 0, 0, 0);
  for (uint32_t i = 0; i < plan->rlimit_count && i < TP_PLAN_MAX_RLIMITS; ++i) {
    /* Best effort, like a shell's ulimit: a hard limit above the host's cannot be raised. */
    uint64_t lim[2] = {plan->rlimits[i].cur, plan->rlimits[i].max};
    sys(NR_prlimit64, 0, plan->rlimits[i].resource, lim, 0);
  }
  sys(NR_prctl, PR_SET_NAME, plan->comm, 0, 0);

  /* Dispositions: CLONE_CLEAR_SIGHAND reset handled signals; now make ignored
   * exactly what the launcher had ignored. */
  for (int sig = 1; sig <= 64; ++sig) {
    uint64_t bit = 1ull << (sig - 1);
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (!((plan->ignored | plan->defaulted) & bit)) continue;
    struct kernel_sigaction sa = {(plan->ignored & bit) ? 1u /*SIG_IGN*/ : 0u /*SIG_DFL*/, 0, 0, 0};
    if ((r = sys(NR_rt_sigaction, sig, &sa, 0, 8)) < 0 && sig < 32) fail(plan, TP_STEP_SIGNALS, r);
  }
  uint64_t mask = plan->blocked;
  sys(NR_rt_sigprocmask, SIG_SETMASK, &mask, 0, 8);

  /* As at execve: no TLS until the program's own ld.so or libc sets one. */
  sys(NR_arch_prctl, ARCH_SET_FS, 0, 0, 0);
  tp_enter_program(plan->initial_sp, plan->entry);
}

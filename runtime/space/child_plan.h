/* What the clone trampoline does in a new threadproc, written by the host in
 * the first page of the child's slot before clone3. The child reads only this
 * (memory of its own slot) until it jumps to the program: the host's copies
 * of anything may be freed the moment clone3 returns in the parent. The page
 * outlives the program's start, so a failure reported in it can be read after
 * the child exits. Plain C so the freestanding trampoline can include it. */
#ifndef TP_CHILD_PLAN_H
#define TP_CHILD_PLAN_H

#include <stdint.h>

#define TP_PLAN_NEW_SESSION 1u /* setsid(): a program of a named space */
#define TP_PLAN_MAX_RLIMITS 16
#define TP_PLAN_MAX_FILTER 64

/* plan.handshake: the listener handoff between the child and the host. */
#define TP_HANDSHAKE_LISTENER_READY 1 /* child: listener_fd is set */
#define TP_HANDSHAKE_LISTENER_TAKEN 2 /* host: it has its own copy now */

/* Steps that can fail, reported through failed_step. */
enum tp_plan_step {
  TP_STEP_NONE = 0,
  TP_STEP_PDEATHSIG,
  TP_STEP_PARENT_GONE,
  TP_STEP_SETSID,
  TP_STEP_STDIO,
  TP_STEP_CHDIR,
  TP_STEP_CLOSE_RANGE,
  TP_STEP_SIGNALS,
  TP_STEP_NO_NEW_PRIVS,
  TP_STEP_SECCOMP,
};

struct tp_bpf_insn { /* struct sock_filter */
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};

struct tp_plan_rlimit {
  uint32_t resource;
  uint32_t pad;
  uint64_t cur, max;
};

struct tp_child_plan {
  uint64_t entry;       /* ld.so's or the static program's entry */
  uint64_t initial_sp;  /* points at argc */
  int32_t stdio_src[3]; /* fd to install as 0/1/2; -1: leave it closed */
  int32_t cwd_fd;       /* fchdir target; -1: keep the host's cwd */
  int32_t parent_pid;   /* to close the PR_SET_PDEATHSIG race */
  uint32_t flags;       /* TP_PLAN_* */
  uint32_t umask;
  uint32_t rlimit_count;
  uint64_t blocked;     /* signal mask to install (bit n-1 = signal n) */
  uint64_t ignored;     /* signals to set to SIG_IGN */
  uint64_t defaulted;   /* signals the host ignores that must be SIG_DFL */
  struct tp_plan_rlimit rlimits[TP_PLAN_MAX_RLIMITS];
  char comm[16];        /* PR_SET_NAME, NUL-terminated */
  /* The memory supervisor's seccomp filter (none when filter_len is 0). */
  uint32_t filter_len;
  int32_t listener_fd;  /* set by the child */
  volatile int32_t handshake;
  struct tp_bpf_insn filter[TP_PLAN_MAX_FILTER];
  /* Written by the child (shared memory) when a step fails; read by the host
   * after the child exited with TP_PLAN_FAILURE_EXIT. */
  volatile int32_t failed_step;
  volatile int32_t failed_errno;
};

#define TP_PLAN_FAILURE_EXIT 125

#ifdef __cplusplus
extern "C" {
#endif
/* clone3(args) whose child runs the trampoline on `plan`, on the stack given
 * in args.
 * Returns like the syscall: child pid (> 0) or -errno. */
long tp_clone3(void* clone_args, unsigned long size, struct tp_child_plan* plan);
#ifdef __cplusplus
}
#endif

#endif /* TP_CHILD_PLAN_H */

#include "supervisor/supervisor.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/errno_text.h"

// Linux 6.6 (Debian 12's headers are 6.1).
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace tp {
namespace {

constexpr unsigned kMaxWorkers = 64;
constexpr int kLingerMs = 1;       // how long a worker waits on a listener it just served
constexpr int kCallsPerTurn = 64;  // calls of one program a worker serves before the others

bool same_mm(pid_t tid) {
  // 0: the caller uses the host's mm: the threadproc itself (or its vfork child).
  return syscall(SYS_kcmp, getpid(), tid, KCMP_VM, 0, 0) == 0;
}

int fetch_fd(SupervisedProgram& p, pid_t tid, uint64_t id, int program_fd) {
  int fd = int(syscall(SYS_pidfd_getfd, p.pidfd.get(), program_fd, 0));
  if (fd < 0 && errno != EBADF) {
    // The leader may be gone while other threads live: ask the calling thread.
    UniqueFd thread(int(syscall(SYS_pidfd_open, tid, PIDFD_THREAD)));
    if (thread.valid()) fd = int(syscall(SYS_pidfd_getfd, thread.get(), program_fd, 0));
  }
  if (fd < 0) return -errno;
  // The notification must still be live, or the fd may not be the one the call named.
  if (ioctl(p.listener.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) {
    close(fd);
    return -ENOENT;
  }
  return fd;
}

int64_t perform(SupervisedProgram& p, const seccomp_notif& n) {
  const uint64_t* a = reinterpret_cast<const uint64_t*>(n.data.args);
  SlotState& slot = p.slot;
  switch (n.data.nr) {
    case SYS_mmap:
      return supervised_mmap(slot, a, [&](int fd) { return fetch_fd(p, pid_t(n.pid), n.id, fd); });
    case SYS_munmap: return supervised_munmap(slot, a[0], a[1]);
    case SYS_mremap: return supervised_mremap(slot, a);
    case SYS_brk: return supervised_brk(slot, a[0]);
    case SYS_shmat: return supervised_shmat(slot, a);
    case SYS_shmdt: return supervised_shmdt(slot, a[0]);
    case SYS_io_setup: return supervised_io_setup(slot, a);
    default: return -ENOSYS;
  }
}

size_t notif_size(bool resp) {
  static const seccomp_notif_sizes sizes = [] {
    seccomp_notif_sizes s{};
    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s);
    return s;
  }();
  return resp ? std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp))
              : std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif));
}

}  // namespace

Result<std::unique_ptr<SupervisorPool>> SupervisorPool::create(unsigned workers) {
  if (workers == 0 || workers > kMaxWorkers)
    return make_error("the memory supervisor needs 1 to " + std::to_string(kMaxWorkers) + " threads, not " +
                      std::to_string(workers));
  std::unique_ptr<SupervisorPool> pool(new SupervisorPool());
  pool->epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  pool->wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!pool->epoll_.valid() || !pool->wake_.valid())
    return make_error("cannot create the memory supervisor's event loop: " + errno_text(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered: wakes every worker at shutdown
  ev.data.fd = pool->wake_.get();
  epoll_ctl(pool->epoll_.get(), EPOLL_CTL_ADD, pool->wake_.get(), &ev);
  // Workers take no signals: the host's loop handles them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    for (unsigned i = 0; i < workers; ++i) {
      pool->workers_.emplace_back([p = pool.get()] { p->work(); });
      pthread_setname_np(pool->workers_.back().native_handle(), ("tp-sup-" + std::to_string(i)).c_str());
    }
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return make_error(std::string("cannot start the memory supervisor's threads: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return pool;
}

SupervisorPool::~SupervisorPool() {
  stopping_ = true;
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof one);
  for (auto& t : workers_) t.join();
}

Result<std::unique_ptr<Supervisor>> SupervisorPool::supervise(UniqueFd listener, UniqueFd pidfd, SlotState slot) {
  // The caller and the worker hand the CPU back and forth on every trapped call:
  // wake each on the waker's CPU (Linux 6.6+; ignored where unsupported).
  // The flag is passed by value, not by pointer.
  ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
  auto p = std::make_shared<SupervisedProgram>(std::move(listener), std::move(pidfd), std::move(slot));
  p->mapped = p->slot.map.mapped_bytes();
  int fd = p->listener.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    programs_[fd] = p;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    std::lock_guard<std::mutex> lock(mu_);
    programs_.erase(fd);
    return make_error("cannot watch the memory supervisor's listener: " + errno_text(err));
  }
  return std::make_unique<Supervisor>(std::move(p));
}

void SupervisorPool::work() {
  // glibc gives a thread its malloc arena at its first allocation; take it now,
  // so the host's mappings do not grow later when this worker first allocates.
  void* volatile warm = malloc(64);
  free(warm);
  for (;;) {
    epoll_event ev;
    int n = epoll_wait(epoll_.get(), &ev, 1, -1);
    if (stopping_) return;
    if (n <= 0) continue;
    std::shared_ptr<SupervisedProgram> p;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = programs_.find(ev.data.fd);
      if (it == programs_.end()) continue;
      p = it->second;
    }
    if (ev.events & (EPOLLHUP | EPOLLERR)) {
      // No task uses the filter any more: this program's supervision is over.
      epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, ev.data.fd, nullptr);
      std::lock_guard<std::mutex> lock(mu_);
      programs_.erase(ev.data.fd);
      continue;
    }
    // A program's calls come in bursts (ld.so loading libraries, an allocator
    // growing): stay on this listener for the next one, waiting on its own
    // wait queue so that the kernel's same-CPU wake-up applies both ways.
    // A turn is bounded, so that a few busy programs cannot keep every worker
    // from the others: then the listener goes back to the shared epoll set.
    for (int served = 0; !stopping_;) {
      handle(p);
      if (++served == kCallsPerTurn) break;
      pollfd next{ev.data.fd, POLLIN, 0};
      if (poll(&next, 1, kLingerMs) <= 0 || (next.revents & (POLLHUP | POLLERR))) break;
    }
    epoll_event rearm{};
    rearm.events = EPOLLIN | EPOLLONESHOT;
    rearm.data.fd = ev.data.fd;
    epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, ev.data.fd, &rearm);
  }
}

void SupervisorPool::handle(const std::shared_ptr<SupervisedProgram>& p) {
  alignas(8) uint8_t req_buf[256], resp_buf[64];
  if (notif_size(false) > sizeof req_buf || notif_size(true) > sizeof resp_buf) return;
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf);
  memset(req_buf, 0, sizeof req_buf);
  if (ioctl(p->listener.get(), SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return;  // ENOENT: the caller died
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf);
  memset(resp_buf, 0, sizeof resp_buf);
  resp->id = req->id;
  if (!same_mm(pid_t(req->pid))) {
    // A forked child runs the program's code in a copy of the space: let the
    // kernel do it natively there.
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    std::lock_guard<std::mutex> lock(p->mu);
    int64_t r = p->detached ? -ENOMEM : perform(*p, *req);
    p->calls.fetch_add(1, std::memory_order_relaxed);
    p->mapped.store(p->slot.map.mapped_bytes(), std::memory_order_relaxed);
    if (r < 0 && r > -4096) resp->error = int32_t(r);
    else resp->val = r;
  }
  // ENOENT here: the caller was killed meanwhile (WAIT_KILLABLE_RECV keeps other signals out).
  ioctl(p->listener.get(), SECCOMP_IOCTL_NOTIF_SEND, resp);
}

void Supervisor::detach_slot() {
  std::lock_guard<std::mutex> lock(p_->mu);
  if (p_->detached) return;
  p_->detached = true;
  release_side_mappings(p_->slot);
}

}  // namespace tp

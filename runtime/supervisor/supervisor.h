// The memory supervisor: host threads that answer the seccomp user
// notifications of every program's mmap/munmap/mremap/brk/shmat/shmdt/
// io_setup by performing each call inside the program's slot.
//
// A fixed pool of workers shares one epoll set of listeners (one per
// program). Each listener is armed one-shot, so one program's calls are
// handled by one worker at a time, in order, while the other workers serve
// the other programs: an mmap storm in one program never stalls another.
// A listener stays registered after its program ends while forked
// descendants (own mm, same filter) still use it; they get CONTINUE.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "supervisor/memory_ops.h"

namespace tp {

// One program's supervision, shared by the pool and the program's launch record.
struct SupervisedProgram {
  SupervisedProgram(UniqueFd l, UniqueFd p, SlotState s)
      : listener(std::move(l)), pidfd(std::move(p)), slot(std::move(s)) {}
  UniqueFd listener, pidfd;
  std::mutex mu;  // guards slot and detached
  SlotState slot;
  bool detached = false;
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> mapped{0};
};

class Supervisor;  // the handle a launch keeps

class SupervisorPool {
 public:
  static Result<std::unique_ptr<SupervisorPool>> create(unsigned workers);
  ~SupervisorPool();

  // Takes the listener and a pidfd of the program (its own copy).
  Result<std::unique_ptr<Supervisor>> supervise(UniqueFd listener, UniqueFd pidfd, SlotState slot);

 private:
  SupervisorPool() = default;
  void work();
  void handle(const std::shared_ptr<SupervisedProgram>& p);

  UniqueFd epoll_, wake_;
  std::mutex mu_;  // guards programs_
  std::unordered_map<int, std::shared_ptr<SupervisedProgram>> programs_;  // by listener fd
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
};

class Supervisor {
 public:
  explicit Supervisor(std::shared_ptr<SupervisedProgram> p) : p_(std::move(p)) {}
  ~Supervisor() { detach_slot(); }
  // Called once the program has ended and before its slot is reset: removes
  // its side mappings; from then on no call is performed in the slot.
  void detach_slot();
  uint64_t mapped_bytes() const { return p_->mapped.load(std::memory_order_relaxed); }
  uint64_t trapped_calls() const { return p_->calls.load(std::memory_order_relaxed); }

 private:
  std::shared_ptr<SupervisedProgram> p_;
};

}  // namespace tp

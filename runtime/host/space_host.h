// The host of a named space: accepts launchers on the space's socket, starts
// their programs, reports each exit to its launcher and reclaims the slot.
// One epoll loop on one long-lived thread (the thread that clones programs
// must outlive them: PR_SET_PDEATHSIG follows the cloning thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <map>
#include <unordered_map>

#include "common/result.h"
#include "common/unique_fd.h"
#include "protocol/framing.h"
#include "protocol/messages.h"
#include "space/space.h"

namespace tp {

class SpaceHost {
 public:
  // Takes a bound, listening socket. Blocks SIGTERM/SIGINT/SIGHUP for the
  // loop's signalfd.
  static Result<std::unique_ptr<SpaceHost>> create(std::unique_ptr<Space> space, UniqueFd listener);
  ~SpaceHost();

  // Serves until SIGTERM (or SIGINT/SIGHUP): then it stops accepting, sends
  // SIGTERM to every program, and returns once all have ended (a second
  // signal sends SIGKILL).
  int run();

 private:
  struct Connection {
    UniqueFd sock;
    proto::MessageAssembler assembler;
    int program_pidfd = -1;  // the program this launcher waits for
  };
  struct Program {
    LaunchedProgram launched;
    int conn_fd = -1;  // -1 once its launcher is gone
    uint64_t started_ms = 0;
    std::string exec_path;
    std::vector<std::string> argv;
    bool keep = false;  // tp-run --keep: the slot outlives the program
  };
  // A slot kept after its program ended, until tp-space release or the space stops.
  // Also a slot held by other programs (tp_hold) after its program ended,
  // until the last hold is released.
  struct Kept {
    Program program;
    uint64_t exited_ms = 0;
    bool held = false;  // held (tp_hold), rather than kept (--keep)
  };

  SpaceHost(std::unique_ptr<Space> space, UniqueFd listener, UniqueFd epoll, UniqueFd signals);
  void accept_all();
  void on_connection(int fd);
  void on_message(Connection& conn, proto::Received received);
  void on_program_exit(int pidfd);
  void on_signal();
  void launch(Connection& conn, proto::LaunchRequest req, std::vector<UniqueFd> fds);
  void release(Connection& conn, uint32_t slot);
  // Frees held slots nobody holds any more (or keeps them, under --keep).
  void recheck_held();
  bool any_held() const;
  // Resets the slot of an ended program and logs it.
  void reclaim(Program& p, const std::string& why);
  proto::PsReply ps() const;
  void drop_connection(int fd);
  // Answers with the error, logs "refused: REASON (WHAT)", and drops the connection.
  void refuse(Connection& conn, const Error& error, const std::string& what);
  void watch(int fd, uint64_t tag);

  std::unique_ptr<Space> space_;
  UniqueFd listener_, epoll_, signals_;
  std::unordered_map<int, Connection> conns_;
  std::unordered_map<int, Program> programs_;  // by pidfd
  std::map<uint32_t, Kept> kept_;              // by slot
  bool stopping_ = false;
  int stop_signals_ = 0;
};

}  // namespace tp

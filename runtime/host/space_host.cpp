#include "host/space_host.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>

#include "common/errno_text.h"
#include "host/event_log.h"
#include "host/slot_usage.h"
#include "protocol/channel.h"
#include "threadprocs/abi.h"

namespace tp {
namespace {

enum Kind : uint64_t { kListener = 1, kSignals = 2, kConnection = 3, kProgram = 4 };
uint64_t tag(Kind kind, int fd) { return (uint64_t(kind) << 32) | uint32_t(fd); }

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

int pidfd_signal(int pidfd, int sig) { return int(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

std::string describe(const ExitStatus& s) {
  if (!s.signaled) return "exited with code " + std::to_string(s.value);
  return std::string("killed by signal ") + std::to_string(s.value) + " (" + sigabbrev_np(s.value) + ")" +
         (s.core_dumped ? ", core dumped" : "");
}

}  // namespace

SpaceHost::SpaceHost(std::unique_ptr<Space> space, UniqueFd listener, UniqueFd epoll, UniqueFd signals)
    : space_(std::move(space)), listener_(std::move(listener)), epoll_(std::move(epoll)), signals_(std::move(signals)) {}

SpaceHost::~SpaceHost() = default;

Result<std::unique_ptr<SpaceHost>> SpaceHost::create(std::unique_ptr<Space> space, UniqueFd listener) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return make_error("cannot block signals");
  UniqueFd signals(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals.valid()) return make_error("signalfd: " + errno_text(errno));
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return make_error("epoll_create1: " + errno_text(errno));
  std::unique_ptr<SpaceHost> host(
      new SpaceHost(std::move(space), std::move(listener), std::move(epoll), std::move(signals)));
  host->watch(host->listener_.get(), tag(kListener, host->listener_.get()));
  host->watch(host->signals_.get(), tag(kSignals, host->signals_.get()));
  return host;
}

void SpaceHost::watch(int fd, uint64_t t) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = t;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
}

int SpaceHost::run() {
  log_event("space " + space_->name() + " serving (pid " + std::to_string(getpid()) + ", " +
            std::to_string(space_->arena().config().slot_count) + " slots)");
  epoll_event events[64];
  while (!(stopping_ && programs_.empty())) {
    // While a slot is held, look every 20 ms whether its holders let go (a
    // column of counters to sum per held slot: cheap).
    int n = epoll_wait(epoll_.get(), events, 64, any_held() ? 20 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_event("epoll_wait: " + errno_text(errno));
      return 1;
    }
    if (any_held()) recheck_held();
    for (int i = 0; i < n; ++i) {
      int fd = int(uint32_t(events[i].data.u64));
      switch (Kind(events[i].data.u64 >> 32)) {
        case kListener: accept_all(); break;
        case kSignals: on_signal(); break;
        case kConnection: on_connection(fd); break;
        case kProgram: on_program_exit(fd); break;
      }
    }
  }
  log_event("space " + space_->name() + " stopped");
  return 0;
}

void SpaceHost::accept_all() {
  while (listener_.valid()) {
    UniqueFd sock(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!sock.valid()) {
      if (errno != EAGAIN && errno != EINTR) log_event("accept4: " + errno_text(errno));
      return;
    }
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
      std::string msg = "permission denied: space " + space_->name() + " belongs to uid " +
                        std::to_string(geteuid()) + ", the connection comes from uid " + std::to_string(cred.uid);
      log_event("refused a connection: " + msg);
      (void)proto::send_message(sock.get(), proto::ErrorReply{125, msg});
      continue;
    }
    int fd = sock.get();
    Connection conn;
    conn.sock = std::move(sock);
    conns_.emplace(fd, std::move(conn));
    watch(fd, tag(kConnection, fd));
  }
}

void SpaceHost::on_connection(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  for (;;) {
    bool eof = false;
    auto got = proto::recv_message(fd, it->second.assembler, &eof);
    if (!got.ok()) {
      log_event("closing a connection after a bad message: " + got.error().message);
      (void)proto::send_message(fd, proto::ErrorReply{125, "bad message: " + got.error().message});
      drop_connection(fd);
      return;
    }
    if (!got->has_value()) {
      if (eof) drop_connection(fd);
      return;
    }
    on_message(it->second, std::move(**got));
    it = conns_.find(fd);  // on_message may drop it
    if (it == conns_.end()) return;
  }
}

void SpaceHost::on_message(Connection& conn, proto::Received received) {
  if (auto* req = std::get_if<proto::LaunchRequest>(&received.msg)) {
    if (conn.program_pidfd >= 0 || stopping_) {
      refuse(conn, make_error(stopping_ ? "space " + space_->name() + " is stopping"
                                        : "this connection already launched a program"),
             "launch of " + req->exec_path);
      return;
    }
    launch(conn, std::move(*req), std::move(received.fds));
  } else if (const auto* rel = std::get_if<proto::ReleaseRequest>(&received.msg)) {
    release(conn, rel->slot);
  } else if (std::holds_alternative<proto::PsRequest>(received.msg)) {
    if (auto st = proto::send_message(conn.sock.get(), ps()); !st.ok()) drop_connection(conn.sock.get());
  } else {
    refuse(conn, make_error("unexpected " + proto::type_name(proto::type_of(received.msg)) + " from a client"),
           "a client's request");
  }
}

void SpaceHost::refuse(Connection& conn, const Error& error, const std::string& what) {
  log_event("refused: " + error.message + " (" + what + ")");
  (void)proto::send_message(conn.sock.get(), proto::ErrorReply{uint32_t(error.code), error.message});
  drop_connection(conn.sock.get());
}

void SpaceHost::launch(Connection& conn, proto::LaunchRequest req, std::vector<UniqueFd> fds) {
  // The decoder checked that the fds match: image, cwd, then one per stdio bit.
  LaunchSpec spec;
  spec.image_fd = fds.at(0).get();
  spec.cwd_fd = fds.at(1).get();
  size_t next = 2;
  for (int i = 0; i < 3; ++i) spec.stdio[i] = (req.stdio_mask & (1u << i)) ? fds.at(next++).get() : -1;
  spec.exec_path = req.exec_path;
  spec.argv = req.argv;
  spec.env = std::move(req.env);
  spec.blocked = req.sigmask;
  spec.ignored = req.ignored;
  spec.umask = req.umask;
  for (const auto& r : req.rlimits) spec.rlimits.push_back({r.resource, r.cur, r.max});
  spec.new_session = true;
  spec.private_heap = req.flags & proto::LaunchRequest::kPrivateHeap;

  auto launched = space_->launch(spec);
  if (!launched.ok()) {
    refuse(conn, launched.error(), "launch of " + req.exec_path);
    return;
  }
  LaunchedProgram program = std::move(launched).value();
  int pidfd = program.pidfd.get();
  int conn_fd = conn.sock.get();
  auto sent = proto::send_message(conn_fd, proto::Started{uint32_t(program.pid), program.slot},
                                  std::span<const int>(&pidfd, 1));
  log_event("launched " + req.exec_path + " as pid " + std::to_string(program.pid) + " in slot " +
            std::to_string(program.slot));
  Program record{std::move(program), conn_fd, now_ms(), std::move(req.exec_path), std::move(req.argv),
                 (req.flags & proto::LaunchRequest::kKeepSlot) != 0};
  programs_.emplace(pidfd, std::move(record));
  watch(pidfd, tag(kProgram, pidfd));
  conn.program_pidfd = pidfd;
  if (!sent.ok()) drop_connection(conn_fd);  // the launcher is gone: so goes its program
}

void SpaceHost::on_program_exit(int pidfd) {
  auto it = programs_.find(pidfd);
  if (it == programs_.end()) return;
  Program& p = it->second;
  auto status = space_->collect(p.launched);
  std::string what = p.exec_path + " (pid " + std::to_string(p.launched.pid) + ", slot " +
                     std::to_string(p.launched.slot) + ")";
  if (p.conn_fd >= 0) {
    proto::Message reply = proto::ErrorReply{125, status.ok() ? "" : status.error().message};
    if (status.ok()) {
      const ExitStatus& s = *status;
      reply = proto::Exited{s.signaled ? proto::Exited::How::kSignaled : proto::Exited::How::kExited,
                            uint32_t(s.value), s.core_dumped};
    }
    (void)proto::send_message(p.conn_fd, reply);
    if (auto c = conns_.find(p.conn_fd); c != conns_.end()) c->second.program_pidfd = -1;
  }
  log_event(what + (status.ok() ? " " + describe(*status) : " failed: " + status.error().message));
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
  const uint32_t slot = p.launched.slot;
  const bool had_holds = space_->forget(p.launched);
  const uint64_t holders = space_->holders(slot);
  if (holders > 0 || p.keep) {
    // Its memory stays for others to read: until its holders release it, or
    // until tp-space release (or until the space stops).
    if (p.launched.supervisor) p.launched.supervisor->detach_slot();
    space_->mark_slot(slot, holders > 0 ? TP_SLOT_HELD : TP_SLOT_KEPT);
    log_event("keeping slot " + std::to_string(slot) + " of " + what +
              (holders > 0 ? ": other programs hold it (" + std::to_string(holders) + " hold(s))" : ""));
    p.launched.pidfd.reset();
    kept_.emplace(slot, Kept{std::move(p), now_ms(), holders > 0});
  } else {
    reclaim(p, "");
  }
  programs_.erase(it);
  if (had_holds) recheck_held();
}

void SpaceHost::reclaim(Program& p, const std::string& why) {
  const uint32_t slot = p.launched.slot;
  std::string what = p.exec_path + " (pid " + std::to_string(p.launched.pid) + ", slot " + std::to_string(slot) + ")";
  auto st = space_->reclaim(p.launched);
  log_event(st.ok() ? why + "reclaimed slot " + std::to_string(slot) + " of " + what
                    : "cannot reclaim slot " + std::to_string(slot) + " of " + what + ": " + st.error().message);
}

bool SpaceHost::any_held() const {
  return std::any_of(kept_.begin(), kept_.end(), [](const auto& k) { return k.second.held; });
}

void SpaceHost::recheck_held() {
  for (auto it = kept_.begin(); it != kept_.end();) {
    Kept& k = it->second;
    if (!k.held || space_->holders(it->first) > 0) {
      ++it;
    } else if (k.program.keep) {
      k.held = false;
      space_->mark_slot(it->first, TP_SLOT_KEPT);
      log_event("slot " + std::to_string(it->first) + " is no longer held; kept (--keep) until tp-space release");
      ++it;
    } else if (!space_->try_unhold(it->first)) {
      ++it;  // a tp_hold came in meanwhile
    } else {
      reclaim(k.program, "the last hold was released; ");
      it = kept_.erase(it);
    }
  }
}

void SpaceHost::release(Connection& conn, uint32_t slot) {
  auto it = kept_.find(slot);
  if (it == kept_.end()) {
    uint32_t count = space_->arena().config().slot_count;
    refuse(conn, make_error(slot >= count ? "space " + space_->name() + " has no slot " + std::to_string(slot) +
                                                " (it has " + std::to_string(count) + ")"
                                          : "slot " + std::to_string(slot) + " of space " + space_->name() +
                                                " is not kept"),
           "release of slot " + std::to_string(slot));
    return;
  }
  if (!space_->try_unhold(slot)) {
    const uint64_t holders = space_->holders(slot);
    // Other programs still hold it: it goes when they release it.
    it->second.held = true;
    it->second.program.keep = false;
    space_->mark_slot(slot, TP_SLOT_HELD);
    log_event("released kept slot " + std::to_string(slot) + "; other programs still hold it (" +
              std::to_string(holders) + " hold(s))");
  } else {
    reclaim(it->second.program, "released kept slot " + std::to_string(slot) + "; ");
    kept_.erase(it);
  }
  if (!proto::send_message(conn.sock.get(), ps()).ok()) drop_connection(conn.sock.get());
}

void SpaceHost::drop_connection(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (int pidfd = it->second.program_pidfd; pidfd >= 0) {
    // A program never outlives its launcher: Ctrl-C or kill -9 of tp-run ends it.
    if (auto p = programs_.find(pidfd); p != programs_.end()) {
      p->second.conn_fd = -1;
      log_event("launcher of pid " + std::to_string(p->second.launched.pid) + " is gone; killing the program");
      pidfd_signal(pidfd, SIGKILL);
    }
  }
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  conns_.erase(it);
}

void SpaceHost::on_signal() {
  signalfd_siginfo si;
  while (read(signals_.get(), &si, sizeof si) == ssize_t(sizeof si)) {
    ++stop_signals_;
    int sig = stop_signals_ > 1 ? SIGKILL : SIGTERM;
    log_event(std::string("received ") + sigabbrev_np(int(si.ssi_signo)) + "; sending " + sigabbrev_np(sig) +
              " to " + std::to_string(programs_.size()) + " program(s)");
    stopping_ = true;
    if (listener_.valid()) {
      epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
      listener_.reset();
    }
    for (auto& [pidfd, p] : programs_) pidfd_signal(pidfd, sig);
  }
}

proto::PsReply SpaceHost::ps() const {
  proto::PsReply reply;
  reply.space_name = space_->name();
  reply.slot_count = space_->arena().config().slot_count;
  reply.slot_size = space_->arena().config().slot_size;
  reply.arena_base = space_->arena().config().base;
  uint64_t now = now_ms();
  const ArenaConfig& c = space_->arena().config();
  std::vector<SlotUsage> usage = measure_slots(c.base, c.slot_size, c.slot_count);
  auto entry = [&](const Program& p, const char* state, uint32_t pid) {
    proto::PsEntry e;
    e.slot = p.launched.slot;
    e.pid = pid;
    e.state = state;
    e.uptime_ms = now - p.started_ms;
    e.program = p.exec_path;
    e.args.assign(p.argv.begin() + (p.argv.empty() ? 0 : 1), p.argv.end());  // argv[1..]
    e.mapped_bytes = usage[p.launched.slot].mapped;
    e.resident_bytes = usage[p.launched.slot].resident;
    const LaunchedProgram& l = p.launched;
    std::string flags = l.shared_heap ? "shared-heap" : "private-heap";
    if (l.fixed_hi) flags += ",fixed-address";
    if (l.slot_aware) flags += ",slot-aware,name=" + l.name;
    // An image linked for a slot (tp-link --slot) says whether it got it.
    if (l.wanted_slot >= 0)
      flags += l.at_link_address ? ",at-link-address" : ",relocated(linked for slot " + std::to_string(l.wanted_slot) + ")";
    if (p.keep) flags += ",keep";
    if (uint64_t holders = space_->holders(l.slot); holders > 0) flags += ",holds=" + std::to_string(holders);
    e.flags = flags;
    reply.entries.push_back(std::move(e));
  };
  for (const auto& [pidfd, p] : programs_) entry(p, "running", uint32_t(p.launched.pid));
  for (const auto& [slot, k] : kept_) entry(k.program, k.held ? "held" : "kept", 0);
  std::sort(reply.entries.begin(), reply.entries.end(),
            [](const proto::PsEntry& a, const proto::PsEntry& b) { return a.slot < b.slot; });
  return reply;
}

}  // namespace tp

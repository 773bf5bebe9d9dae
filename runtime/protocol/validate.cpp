#include "protocol/validate.h"
#include "common/hex.h"

#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <bit>
#include <string>

namespace tp::proto {
namespace {

Error fail(const char* msg_name, const std::string& detail) {
  return make_error(std::string(msg_name) + ": " + detail);
}


std::string octal(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0%o", v);
  return buf;
}

// Every string of this protocol ends up as a C string (argv, env, paths,
// names) or on a terminal; an embedded NUL would silently cut it short.
Status check_no_nul(const char* msg_name, const std::string& field, const std::string& s) {
  size_t at = s.find('\0');
  if (at != std::string::npos) {
    return fail(msg_name, field + " has a NUL byte at offset " + std::to_string(at));
  }
  return ok_status();
}

Status check_list_no_nul(const char* msg_name, const char* field,
                         const std::vector<std::string>& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    TP_TRY(check_no_nul(msg_name, std::string(field) + " entry " + std::to_string(i), list[i]));
  }
  return ok_status();
}

Status check_fds(const char* msg_name, size_t expected, size_t got) {
  if (got != expected) {
    return fail(msg_name, "expected " + std::to_string(expected) + " file descriptors, got " +
                              std::to_string(got));
  }
  return ok_status();
}

constexpr uint64_t signal_bit(int sig) { return uint64_t{1} << (sig - 1); }

Status check_launch(const LaunchRequest& m, size_t fd_count) {
  const char* n = "LaunchRequest";
  if (m.flags & ~LaunchRequest::kAllFlags) {
    return fail(n, "reserved flag bits " + hex(m.flags & ~LaunchRequest::kAllFlags) + " are set");
  }
  if (m.exec_path.empty()) return fail(n, "exec_path is empty");
  if (m.exec_path.size() > kMaxExecPathBytes) {
    return fail(n, "exec_path of " + std::to_string(m.exec_path.size()) +
                       " bytes exceeds " + std::to_string(kMaxExecPathBytes));
  }
  TP_TRY(check_no_nul(n, "exec_path", m.exec_path));
  if (m.argv.empty()) return fail(n, "argv is empty (argv[0] is required)");
  TP_TRY(check_list_no_nul(n, "argv", m.argv));
  TP_TRY(check_list_no_nul(n, "env", m.env));
  for (size_t i = 0; i < m.env.size(); ++i) {
    if (m.env[i].find('=') == std::string::npos) {
      return fail(n, "env entry " + std::to_string(i) + " has no '='");
    }
  }
  // The kernel never reports SIGKILL/SIGSTOP as blocked or ignored, so a
  // launcher that claims so built its masks wrongly.
  constexpr uint64_t kUnblockable = signal_bit(SIGKILL) | signal_bit(SIGSTOP);
  if (m.sigmask & kUnblockable) return fail(n, "sigmask blocks SIGKILL or SIGSTOP");
  if (m.ignored & kUnblockable) return fail(n, "ignored includes SIGKILL or SIGSTOP");
  if (m.umask > 0777) return fail(n, "umask " + octal(m.umask) + " exceeds 0777");
  if (m.rlimits.size() > kRlimitResourceCount) {
    return fail(n, std::to_string(m.rlimits.size()) + " rlimits exceed " +
                       std::to_string(kRlimitResourceCount));
  }
  uint32_t seen = 0;
  for (size_t i = 0; i < m.rlimits.size(); ++i) {
    const Rlimit& r = m.rlimits[i];
    std::string which = "rlimit " + std::to_string(i);
    if (r.resource >= kRlimitResourceCount) {
      return fail(n, which + " has resource " + std::to_string(r.resource) + " (must be < " +
                         std::to_string(kRlimitResourceCount) + ")");
    }
    if (seen & (1u << r.resource)) {
      return fail(n, which + " repeats resource " + std::to_string(r.resource));
    }
    seen |= 1u << r.resource;
    // setrlimit() would refuse it with EINVAL in the child, too late to report.
    if (r.cur > r.max) {
      return fail(n, which + " (resource " + std::to_string(r.resource) + ") has cur " +
                         std::to_string(r.cur) + " above max " + std::to_string(r.max));
    }
  }
  if (m.stdio_mask & ~LaunchRequest::kStdioAll) {
    return fail(n, "stdio_mask " + hex(m.stdio_mask) + " has bits other than 0..2");
  }
  // image fd + cwd fd + one per passed stdio stream.
  return check_fds(n, 2 + static_cast<size_t>(std::popcount(m.stdio_mask)), fd_count);
}

Status check_error_reply(const ErrorReply& m, size_t fd_count) {
  const char* n = "ErrorReply";
  if (m.exit_code < 1 || m.exit_code > 255) {
    return fail(n, "exit_code " + std::to_string(m.exit_code) + " is outside 1..255");
  }
  TP_TRY(check_no_nul(n, "message", m.message));
  return check_fds(n, 0, fd_count);
}

Status check_started(const Started& m, size_t fd_count) {
  const char* n = "Started";
  if (m.pid == 0 || m.pid > static_cast<uint32_t>(INT32_MAX)) {
    return fail(n, "pid " + std::to_string(m.pid) + " is not a valid pid");
  }
  return check_fds(n, 1, fd_count);  // the pidfd
}

Status check_exited(const Exited& m, size_t fd_count) {
  const char* n = "Exited";
  switch (m.how) {
    case Exited::How::kExited:
      if (m.value > 255) {
        return fail(n, "exit code " + std::to_string(m.value) + " is outside 0..255");
      }
      if (m.core_dumped) return fail(n, "core_dumped is set on a normal exit");
      break;
    case Exited::How::kSignaled:
      if (m.value < 1 || m.value > 64) {
        return fail(n, "signal " + std::to_string(m.value) + " is outside 1..64");
      }
      break;
    default:
      return fail(n, "how " + std::to_string(static_cast<unsigned>(m.how)) +
                         " is neither 0 (exited) nor 1 (signaled)");
  }
  return check_fds(n, 0, fd_count);
}

Status check_ps_reply(const PsReply& m, size_t fd_count) {
  const char* n = "PsReply";
  TP_TRY(check_no_nul(n, "space_name", m.space_name));
  std::vector<uint32_t> slots;
  slots.reserve(m.entries.size());
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const PsEntry& e = m.entries[i];
    std::string which = "entry " + std::to_string(i);
    if (e.slot >= m.slot_count) {
      return fail(n, which + " names slot " + std::to_string(e.slot) + " but the space has " +
                         std::to_string(m.slot_count) + " slots");
    }
    TP_TRY(check_no_nul(n, which + " state", e.state));
    TP_TRY(check_no_nul(n, which + " program", e.program));
    for (size_t j = 0; j < e.args.size(); ++j) {
      TP_TRY(check_no_nul(n, which + " arg " + std::to_string(j), e.args[j]));
    }
    TP_TRY(check_no_nul(n, which + " flags", e.flags));
    slots.push_back(e.slot);
  }
  std::sort(slots.begin(), slots.end());
  auto dup = std::adjacent_find(slots.begin(), slots.end());
  if (dup != slots.end()) return fail(n, "slot " + std::to_string(*dup) + " is listed twice");
  return check_fds(n, 0, fd_count);
}

}  // namespace

Status validate_message(const Message& m, size_t fd_count) {
  struct Visitor {
    size_t fds;
    Status operator()(const LaunchRequest& v) const { return check_launch(v, fds); }
    Status operator()(const PsRequest&) const { return check_fds("PsRequest", 0, fds); }
    Status operator()(const ReleaseRequest&) const { return check_fds("ReleaseRequest", 0, fds); }
    Status operator()(const ErrorReply& v) const { return check_error_reply(v, fds); }
    Status operator()(const Started& v) const { return check_started(v, fds); }
    Status operator()(const Exited& v) const { return check_exited(v, fds); }
    Status operator()(const PsReply& v) const { return check_ps_reply(v, fds); }
  };
  return std::visit(Visitor{fd_count}, m);
}

}  // namespace tp::proto

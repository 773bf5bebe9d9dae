#include "protocol/messages.h"

#include <bit>
#include <type_traits>

#include "protocol/validate.h"
#include "protocol/wire.h"

namespace tp::proto {

std::optional<MsgType> msg_type_from_wire(uint16_t v) {
  switch (static_cast<MsgType>(v)) {
    case MsgType::kLaunchRequest:
    case MsgType::kPsRequest:
    case MsgType::kReleaseRequest:
    case MsgType::kErrorReply:
    case MsgType::kStarted:
    case MsgType::kExited:
    case MsgType::kPsReply:
      return static_cast<MsgType>(v);
  }
  return std::nullopt;
}

std::string type_name(MsgType t) {
  switch (t) {
    case MsgType::kLaunchRequest: return "LaunchRequest";
    case MsgType::kPsRequest: return "PsRequest";
    case MsgType::kReleaseRequest: return "ReleaseRequest";
    case MsgType::kErrorReply: return "ErrorReply";
    case MsgType::kStarted: return "Started";
    case MsgType::kExited: return "Exited";
    case MsgType::kPsReply: return "PsReply";
  }
  return "type " + std::to_string(static_cast<unsigned>(t));
}

MsgType type_of(const Message& m) {
  struct Visitor {
    MsgType operator()(const LaunchRequest&) const { return MsgType::kLaunchRequest; }
    MsgType operator()(const PsRequest&) const { return MsgType::kPsRequest; }
    MsgType operator()(const ReleaseRequest&) const { return MsgType::kReleaseRequest; }
    MsgType operator()(const ErrorReply&) const { return MsgType::kErrorReply; }
    MsgType operator()(const Started&) const { return MsgType::kStarted; }
    MsgType operator()(const Exited&) const { return MsgType::kExited; }
    MsgType operator()(const PsReply&) const { return MsgType::kPsReply; }
  };
  return std::visit(Visitor{}, m);
}

size_t expected_fd_count(const Message& m) {
  if (const auto* launch = std::get_if<LaunchRequest>(&m)) {
    // image + cwd + the passed stdio streams (only the defined bits count).
    return 2 + static_cast<size_t>(std::popcount(launch->stdio_mask & LaunchRequest::kStdioAll));
  }
  if (std::holds_alternative<Started>(m)) return 1;  // the pidfd
  return 0;
}

// ---- encoding -------------------------------------------------------------

namespace {

void encode(WireWriter& w, const LaunchRequest& m) {
  w.u32(m.flags);
  w.str(m.exec_path);
  w.str_list(m.argv);
  w.str_list(m.env);
  w.u64(m.sigmask);
  w.u64(m.ignored);
  w.u32(m.umask);
  w.u32(static_cast<uint32_t>(m.rlimits.size()));
  for (const Rlimit& r : m.rlimits) {
    w.u32(r.resource);
    w.u64(r.cur);
    w.u64(r.max);
  }
  w.u32(m.stdio_mask);
}

void encode(WireWriter&, const PsRequest&) {}

void encode(WireWriter& w, const ReleaseRequest& m) { w.u32(m.slot); }

void encode(WireWriter& w, const ErrorReply& m) {
  w.u32(m.exit_code);
  w.str(m.message);
}

void encode(WireWriter& w, const Started& m) {
  w.u32(m.pid);
  w.u32(m.slot);
}

void encode(WireWriter& w, const Exited& m) {
  w.u8(static_cast<uint8_t>(m.how));
  w.u32(m.value);
  w.u8(m.core_dumped ? 1 : 0);
}

void encode(WireWriter& w, const PsReply& m) {
  w.str(m.space_name);
  w.u32(m.slot_count);
  w.u64(m.slot_size);
  w.u64(m.arena_base);
  w.u32(static_cast<uint32_t>(m.entries.size()));
  for (const PsEntry& e : m.entries) {
    w.u32(e.slot);
    w.u32(e.pid);
    w.str(e.state);
    w.u64(e.uptime_ms);
    w.str(e.program);
    w.str_list(e.args);
    w.u64(e.mapped_bytes);
    w.u64(e.resident_bytes);
    w.str(e.flags);
  }
}

}  // namespace

std::vector<uint8_t> encode_payload(const Message& m) {
  WireWriter w;
  std::visit([&w](const auto& v) { encode(w, v); }, m);
  return std::move(w).take();
}

// ---- decoding -------------------------------------------------------------

namespace {

// Smallest encodings of list elements, for WireReader::count().
constexpr size_t kRlimitBytes = 4 + 8 + 8;
constexpr size_t kMinPsEntryBytes = 4 + 4 + 4 + 8 + 4 + 4 + 8 + 8 + 4;

Result<bool> decode_bool(WireReader& r, Field f) {
  TP_ASSIGN_OR_RETURN(uint8_t v, r.u8(f));
  if (v > 1) return r.error(f.text() + " is " + std::to_string(v) + " (must be 0 or 1)");
  return v == 1;
}

Result<LaunchRequest> decode_launch(WireReader& r) {
  LaunchRequest m;
  TP_ASSIGN_OR_RETURN(m.flags, r.u32({"flags"}));
  TP_ASSIGN_OR_RETURN(m.exec_path, r.str({"exec_path"}));
  TP_ASSIGN_OR_RETURN(m.argv, r.str_list({"argv"}));
  TP_ASSIGN_OR_RETURN(m.env, r.str_list({"env"}));
  TP_ASSIGN_OR_RETURN(m.sigmask, r.u64({"sigmask"}));
  TP_ASSIGN_OR_RETURN(m.ignored, r.u64({"ignored"}));
  TP_ASSIGN_OR_RETURN(m.umask, r.u32({"umask"}));
  TP_ASSIGN_OR_RETURN(uint32_t n, r.count({"rlimits"}, kRlimitBytes));
  if (n > kRlimitResourceCount) {
    return r.error("rlimits count " + std::to_string(n) + " exceeds " +
                   std::to_string(kRlimitResourceCount));
  }
  m.rlimits.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    r.set_scope("rlimits[" + std::to_string(i) + "].");
    TP_ASSIGN_OR_RETURN(m.rlimits[i].resource, r.u32({"resource"}));
    TP_ASSIGN_OR_RETURN(m.rlimits[i].cur, r.u64({"cur"}));
    TP_ASSIGN_OR_RETURN(m.rlimits[i].max, r.u64({"max"}));
  }
  r.set_scope("");
  TP_ASSIGN_OR_RETURN(m.stdio_mask, r.u32({"stdio_mask"}));
  return m;
}

Result<ReleaseRequest> decode_release(WireReader& r) {
  ReleaseRequest m;
  TP_ASSIGN_OR_RETURN(m.slot, r.u32({"slot"}));
  return m;
}

Result<ErrorReply> decode_error_reply(WireReader& r) {
  ErrorReply m;
  TP_ASSIGN_OR_RETURN(m.exit_code, r.u32({"exit_code"}));
  TP_ASSIGN_OR_RETURN(m.message, r.str({"message"}));
  return m;
}

Result<Started> decode_started(WireReader& r) {
  Started m;
  TP_ASSIGN_OR_RETURN(m.pid, r.u32({"pid"}));
  TP_ASSIGN_OR_RETURN(m.slot, r.u32({"slot"}));
  return m;
}

Result<Exited> decode_exited(WireReader& r) {
  Exited m;
  // Any u8 is representable in How (its underlying type); validation rejects
  // values other than 0 and 1.
  TP_ASSIGN_OR_RETURN(uint8_t how, r.u8({"how"}));
  m.how = static_cast<Exited::How>(how);
  TP_ASSIGN_OR_RETURN(m.value, r.u32({"value"}));
  TP_ASSIGN_OR_RETURN(m.core_dumped, decode_bool(r, {"core_dumped"}));
  return m;
}

Result<PsEntry> decode_ps_entry(WireReader& r) {
  PsEntry e;
  TP_ASSIGN_OR_RETURN(e.slot, r.u32({"slot"}));
  TP_ASSIGN_OR_RETURN(e.pid, r.u32({"pid"}));
  TP_ASSIGN_OR_RETURN(e.state, r.str({"state"}));
  TP_ASSIGN_OR_RETURN(e.uptime_ms, r.u64({"uptime_ms"}));
  TP_ASSIGN_OR_RETURN(e.program, r.str({"program"}));
  TP_ASSIGN_OR_RETURN(e.args, r.str_list({"args"}));
  TP_ASSIGN_OR_RETURN(e.mapped_bytes, r.u64({"mapped_bytes"}));
  TP_ASSIGN_OR_RETURN(e.resident_bytes, r.u64({"resident_bytes"}));
  TP_ASSIGN_OR_RETURN(e.flags, r.str({"flags"}));
  return e;
}

Result<PsReply> decode_ps_reply(WireReader& r) {
  PsReply m;
  TP_ASSIGN_OR_RETURN(m.space_name, r.str({"space_name"}));
  TP_ASSIGN_OR_RETURN(m.slot_count, r.u32({"slot_count"}));
  TP_ASSIGN_OR_RETURN(m.slot_size, r.u64({"slot_size"}));
  TP_ASSIGN_OR_RETURN(m.arena_base, r.u64({"arena_base"}));
  TP_ASSIGN_OR_RETURN(uint32_t n, r.count({"entries"}, kMinPsEntryBytes));
  m.entries.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    r.set_scope("entries[" + std::to_string(i) + "].");
    TP_ASSIGN_OR_RETURN(PsEntry e, decode_ps_entry(r));
    m.entries.push_back(std::move(e));
  }
  r.set_scope("");
  return m;
}

// Wraps a decoder's struct into a Message.
template <class F>
Result<Message> parse_as(WireReader& r, F decode_fn) {
  auto parsed = decode_fn(r);
  if (!parsed.ok()) return parsed.take_error();
  return Message(std::move(parsed).value());
}

Result<Message> parse(MsgType type, WireReader& r) {
  switch (type) {
    case MsgType::kLaunchRequest: return parse_as(r, decode_launch);
    case MsgType::kPsRequest: return Message(PsRequest{});
    case MsgType::kReleaseRequest: return parse_as(r, decode_release);
    case MsgType::kErrorReply: return parse_as(r, decode_error_reply);
    case MsgType::kStarted: return parse_as(r, decode_started);
    case MsgType::kExited: return parse_as(r, decode_exited);
    case MsgType::kPsReply: return parse_as(r, decode_ps_reply);
  }
  return make_error("unknown message type " + std::to_string(static_cast<unsigned>(type)));
}

}  // namespace

Result<Message> decode_payload(MsgType type, std::span<const uint8_t> payload, size_t fd_count) {
  if (!msg_type_from_wire(static_cast<uint16_t>(type))) {
    return make_error("unknown message type " + std::to_string(static_cast<unsigned>(type)));
  }
  WireReader r(payload, type_name(type));
  TP_ASSIGN_OR_RETURN(Message m, parse(type, r));
  TP_TRY(r.finish());
  TP_TRY(validate_message(m, fd_count));
  return m;
}

}  // namespace tp::proto

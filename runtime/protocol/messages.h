// The control protocol's messages between tp-run (client) and a space host.
// Plain structs plus the payload codec; framing and sockets live elsewhere
// (framing.h, channel.h). Wire layout of each payload is documented on its
// struct, in field order; all integers are little-endian, strings are
// u32 length + bytes, lists are u32 count + elements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace tp::proto {

enum class MsgType : uint16_t {
  kLaunchRequest = 1,
  kPsRequest = 2,
  kReleaseRequest = 3,
  kErrorReply = 16,
  kStarted = 17,
  kExited = 18,
  kPsReply = 19,
};

// Maps a wire value to a known type; nullopt for anything this side does not speak.
std::optional<MsgType> msg_type_from_wire(uint16_t v);
// "LaunchRequest", ... or "type 99" for a value outside the enum.
std::string type_name(MsgType t);

// Linux has 16 rlimit resources (RLIM_NLIMITS); each may appear once.
inline constexpr uint32_t kRlimitResourceCount = 16;
// execve() refuses a path of PATH_MAX (4096) bytes or more, terminator included.
inline constexpr size_t kMaxExecPathBytes = 4095;

struct Rlimit {
  uint32_t resource = 0;  // RLIMIT_*; < kRlimitResourceCount
  uint64_t cur = 0;       // RLIM_INFINITY is ~0
  uint64_t max = 0;
  bool operator==(const Rlimit&) const = default;
};

// client -> host. u32 flags, str exec_path, str_list argv, str_list env,
// u64 sigmask, u64 ignored, u32 umask, u32 count + {u32 resource, u64 cur,
// u64 max} rlimits, u32 stdio_mask.
// FDs: [image, cwd, then stdin/stdout/stderr for each set stdio_mask bit].
struct LaunchRequest {
  static constexpr uint32_t kVerbose = 1u << 0;
  static constexpr uint32_t kKeepSlot = 1u << 1;
  static constexpr uint32_t kPrivateHeap = 1u << 2;  // not the space's shared allocator
  static constexpr uint32_t kAllFlags = kVerbose | kKeepSlot | kPrivateHeap;
  static constexpr uint32_t kStdioAll = 0x7;

  uint32_t flags = 0;
  std::string exec_path;  // as the user resolved it: becomes AT_EXECFN and comm
  std::vector<std::string> argv;
  std::vector<std::string> env;
  uint64_t sigmask = 0;  // blocked in the launcher; bit n-1 = signal n
  uint64_t ignored = 0;  // SIG_IGN in the launcher; bit n-1 = signal n
  uint32_t umask = 022;
  std::vector<Rlimit> rlimits;
  uint32_t stdio_mask = 0;  // bit 0 stdin, 1 stdout, 2 stderr
  bool operator==(const LaunchRequest&) const = default;
};

// client -> host. Empty payload.
struct PsRequest {
  bool operator==(const PsRequest&) const = default;
};

// client -> host. u32 slot: drop a slot kept with kKeepSlot or a hold.
struct ReleaseRequest {
  uint32_t slot = 0;
  bool operator==(const ReleaseRequest&) const = default;
};

// host -> client. u32 exit_code (1..255, what tp-run exits with), str message.
struct ErrorReply {
  uint32_t exit_code = 125;
  std::string message;
  bool operator==(const ErrorReply&) const = default;
};

// host -> client. u32 pid, u32 slot. FDs: [pidfd].
struct Started {
  uint32_t pid = 0;
  uint32_t slot = 0;
  bool operator==(const Started&) const = default;
};

// host -> client. u8 how, u32 value, u8 core_dumped.
struct Exited {
  enum class How : uint8_t { kExited = 0, kSignaled = 1 };
  How how = How::kExited;
  uint32_t value = 0;  // exit code 0..255, or signal 1..64
  bool core_dumped = false;  // only with kSignaled
  bool operator==(const Exited&) const = default;
};

// u32 slot, u32 pid, str state, u64 uptime_ms, str program, str_list args,
// u64 mapped_bytes, u64 resident_bytes, str flags.
struct PsEntry {
  uint32_t slot = 0;
  uint32_t pid = 0;  // 0 once the program has ended (a kept slot)
  std::string state;  // "running", "kept", ...
  uint64_t uptime_ms = 0;
  std::string program;
  std::vector<std::string> args;
  uint64_t mapped_bytes = 0;
  uint64_t resident_bytes = 0;
  std::string flags;
  bool operator==(const PsEntry&) const = default;
};

// host -> client. str space_name, u32 slot_count, u64 slot_size,
// u64 arena_base, u32 count + PsEntry entries.
struct PsReply {
  std::string space_name;
  uint32_t slot_count = 0;
  uint64_t slot_size = 0;
  uint64_t arena_base = 0;
  std::vector<PsEntry> entries;
  bool operator==(const PsReply&) const = default;
};

using Message =
    std::variant<LaunchRequest, PsRequest, ReleaseRequest, ErrorReply, Started, Exited, PsReply>;

MsgType type_of(const Message& m);
// How many fds must accompany `m` on the wire.
size_t expected_fd_count(const Message& m);

std::vector<uint8_t> encode_payload(const Message& m);
// Parses one assembled payload and checks it with validate_message().
Result<Message> decode_payload(MsgType type, std::span<const uint8_t> payload, size_t fd_count);

}  // namespace tp::proto

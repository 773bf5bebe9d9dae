// Writes the seed corpora of the protocol fuzzers:
//   tp_protocol_fuzz_seeds tests/fuzz/corpus/protocol
// One valid message of each type, in each fuzzer's input format, plus a few
// multi-frame and back-to-back sequences for the assembler.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "protocol/framing.h"
#include "protocol/messages.h"

namespace {

using namespace tp::proto;
namespace fs = std::filesystem;

struct Seed {
  std::string name;
  Message msg;
  size_t fds;
};

std::vector<Seed> seeds() {
  LaunchRequest launch;
  launch.flags = LaunchRequest::kVerbose;
  launch.exec_path = "/bin/echo";
  launch.argv = {"echo", "hi"};
  launch.env = {"PATH=/bin", "X="};
  launch.sigmask = 1u << 9;
  launch.ignored = 1u << 12;
  launch.umask = 022;
  launch.rlimits = {{7, 1024, 4096}};
  launch.stdio_mask = 0x7;

  PsEntry e;
  e.slot = 1;
  e.pid = 100;
  e.state = "running";
  e.uptime_ms = 5;
  e.program = "/bin/sleep";
  e.args = {"sleep", "1"};
  e.mapped_bytes = 1 << 20;
  e.resident_bytes = 1 << 12;
  e.flags = "keep";
  PsReply ps{"default", 4, uint64_t{64} << 30, 0x200000000000, {e}};

  return {
      {"launch", launch, 5},
      {"ps_request", PsRequest{}, 0},
      {"release", ReleaseRequest{3}, 0},
      {"error_reply", ErrorReply{127, "not found"}, 0},
      {"started", Started{4242, 1}, 1},
      {"exited_code", Exited{Exited::How::kExited, 3, false}, 0},
      {"exited_signal", Exited{Exited::How::kSignaled, 11, true}, 0},
      {"ps_reply", ps, 0},
  };
}

// The payload fuzzer's selector for each type (its index in kTypes there).
uint8_t selector(MsgType t) {
  switch (t) {
    case MsgType::kLaunchRequest: return 0;
    case MsgType::kPsRequest: return 1;
    case MsgType::kReleaseRequest: return 2;
    case MsgType::kErrorReply: return 3;
    case MsgType::kStarted: return 4;
    case MsgType::kExited: return 5;
    case MsgType::kPsReply: return 6;
  }
  return 7;
}

// An assembler record: [ctl][u16 len][datagram].
void add_record(std::vector<uint8_t>& out, const std::vector<uint8_t>& datagram, size_t fds) {
  out.push_back(static_cast<uint8_t>(fds));
  out.push_back(static_cast<uint8_t>(datagram.size()));
  out.push_back(static_cast<uint8_t>(datagram.size() >> 8));
  out.insert(out.end(), datagram.begin(), datagram.end());
}

// Frames of at most `chunk` payload bytes (smaller than a real sender's, to
// keep seeds small while still exercising MORE).
std::vector<std::vector<uint8_t>> small_frames(MsgType t, const std::vector<uint8_t>& payload,
                                               size_t chunk) {
  std::vector<std::vector<uint8_t>> frames;
  size_t off = 0;
  do {
    size_t n = std::min(chunk, payload.size() - off);
    bool more = off + n < payload.size();
    auto h = encode_frame_header({t, more ? kFrameMore : 0, static_cast<uint32_t>(n)});
    std::vector<uint8_t> f(h.begin(), h.end());
    f.insert(f.end(), payload.begin() + static_cast<ptrdiff_t>(off),
             payload.begin() + static_cast<ptrdiff_t>(off + n));
    frames.push_back(std::move(f));
    off += n;
  } while (off < payload.size());
  return frames;
}

bool write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
  FILE* f = fopen(p.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
    return 2;
  }
  fs::path payload_dir = fs::path(argv[1]) / "fuzz_protocol_payload";
  fs::path assembler_dir = fs::path(argv[1]) / "fuzz_protocol_assembler";
  fs::create_directories(payload_dir);
  fs::create_directories(assembler_dir);
  bool ok = true;

  std::vector<uint8_t> sequence;  // every seed message back to back
  for (const Seed& s : seeds()) {
    MsgType t = type_of(s.msg);
    std::vector<uint8_t> payload = encode_payload(s.msg);
    // A seed the decoder rejects would only teach the fuzzer the error paths.
    auto check = decode_payload(t, payload, s.fds);
    if (!check.ok()) {
      fprintf(stderr, "%s: seed %s is invalid: %s\n", argv[0], s.name.c_str(),
              check.error().message.c_str());
      return 1;
    }

    std::vector<uint8_t> p = {selector(t), static_cast<uint8_t>(s.fds)};
    p.insert(p.end(), payload.begin(), payload.end());
    ok &= write_file(payload_dir / (s.name + ".bin"), p);

    std::vector<uint8_t> one;
    auto frames = encode_frames(t, payload);
    add_record(one, frames[0], s.fds);
    ok &= write_file(assembler_dir / (s.name + ".bin"), one);
    sequence.insert(sequence.end(), one.begin(), one.end());

    if (payload.size() > 24) {
      std::vector<uint8_t> multi;
      auto parts = small_frames(t, payload, 24);
      for (size_t i = 0; i < parts.size(); ++i) add_record(multi, parts[i], i == 0 ? s.fds : 0);
      ok &= write_file(assembler_dir / (s.name + "_multiframe.bin"), multi);
    }
  }
  ok &= write_file(assembler_dir / "sequence.bin", sequence);
  ok &= write_file(payload_dir / "unknown_type.bin", {7, 0});
  if (!ok) {
    fprintf(stderr, "%s: cannot write the corpus under %s\n", argv[0], argv[1]);
    return 1;
  }
  return 0;
}

// Splits the input into datagrams (each with 0..15 fds attached) and feeds
// them to one MessageAssembler, as recv_message would. Checks that no fd
// handed to the assembler outlives it, and that every message it yields is
// valid and carries the fds it should.
//
// Input: records of [ctl u8][len u16 LE][len bytes]; ctl bits 0..3 = fd
// count, bit 4 = rewrite the header's length field to match the datagram
// (so mutations inside payloads still reach the decoder).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/unique_fd.h"
#include "protocol/framing.h"
#include "protocol/validate.h"

namespace {

void check(bool ok) {
  if (!ok) abort();
}

int dev_null() {
  static int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  check(fd >= 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tp::proto;
  std::vector<int> handed_out;
  {
    MessageAssembler assembler;
    size_t pos = 0;
    while (size - pos >= 3) {
      uint8_t ctl = data[pos];
      size_t len = data[pos + 1] | (data[pos + 2] << 8);
      pos += 3;
      if (len > size - pos) len = size - pos;
      std::vector<uint8_t> datagram(data + pos, data + pos + len);
      pos += len;
      if ((ctl & 0x10) && datagram.size() >= kFrameHeaderBytes) {
        uint32_t actual = static_cast<uint32_t>(datagram.size() - kFrameHeaderBytes);
        for (int i = 0; i < 4; ++i) datagram[12 + i] = static_cast<uint8_t>(actual >> (8 * i));
      }
      std::vector<tp::UniqueFd> fds;
      for (int i = 0; i < (ctl & 0x0f); ++i) {
        fds.emplace_back(fcntl(dev_null(), F_DUPFD_CLOEXEC, 0));
        check(fds.back().valid());
        handed_out.push_back(fds.back().get());
      }
      auto got = assembler.feed(datagram, std::move(fds));
      if (!got.ok()) {
        check(assembler.failed() && !assembler.in_progress());
        continue;  // later feeds must keep failing without touching their fds
      }
      if (!got->has_value()) continue;
      const Received& r = **got;
      check(r.fds.size() == expected_fd_count(r.msg));
      check(validate_message(r.msg, r.fds.size()).ok());
      for (const tp::UniqueFd& fd : r.fds) check(fd.valid());
    }
  }
  // Nothing else in this process opens fds during a run, so every number we
  // handed out must be closed again.
  for (int fd : handed_out) check(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
  return 0;
}

// Feeds arbitrary bytes to decode_payload. Input: [type selector][fd count][payload].
// Beyond "no crash", checks that whatever decodes is valid and re-encodes to
// exactly the same bytes: the encoding is canonical, so any difference means
// the decoder accepted something the encoder would never write.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "protocol/messages.h"
#include "protocol/validate.h"

namespace {

constexpr tp::proto::MsgType kTypes[] = {
    tp::proto::MsgType::kLaunchRequest, tp::proto::MsgType::kPsRequest,
    tp::proto::MsgType::kReleaseRequest, tp::proto::MsgType::kErrorReply,
    tp::proto::MsgType::kStarted,        tp::proto::MsgType::kExited,
    tp::proto::MsgType::kPsReply,
};

void check(bool ok) {
  if (!ok) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tp::proto;
  if (size < 2) return 0;
  // Selector values 0..6 (mod 8) pick a known type; the rest pass through as
  // raw, mostly unknown, type numbers.
  MsgType type = (data[0] % 8) < 7 ? kTypes[data[0] % 8] : static_cast<MsgType>(data[0]);
  size_t fd_count = data[1] % 10;
  std::span<const uint8_t> payload(data + 2, size - 2);

  auto decoded = decode_payload(type, payload, fd_count);
  if (!decoded.ok()) {
    check(!decoded.error().message.empty());
    return 0;
  }
  const Message& m = *decoded;
  check(type_of(m) == type);
  check(expected_fd_count(m) == fd_count);
  check(validate_message(m, fd_count).ok());
  std::vector<uint8_t> again = encode_payload(m);
  check(again.size() == payload.size() && std::equal(again.begin(), again.end(), payload.begin()));
  return 0;
}

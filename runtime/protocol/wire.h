// Little-endian fixed-width encoding for the control protocol.
// WireWriter appends; WireReader consumes with a bounds check on every read and
// names the field that was short, so a bad message is diagnosed, never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace tp::proto {

class WireWriter {
 public:
  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  // u32 byte length + bytes. A string longer than 4 GiB cannot be sent anyway:
  // the whole message is capped at kMaxMessageBytes before it reaches the wire.
  void str(std::string_view s);
  // u32 count + strings.
  void str_list(const std::vector<std::string>& list);

  size_t size() const { return buf_.size(); }
  std::vector<uint8_t> take() && { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

// Names a field in diagnostics: "argv" or, with an index, "argv[3]".
struct Field {
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);
  std::string_view name;
  size_t index = kNoIndex;
  std::string text() const;
};

class WireReader {
 public:
  // `context` prefixes every error: "LaunchRequest: ...".
  WireReader(std::span<const uint8_t> data, std::string context);

  Result<uint8_t> u8(Field f);
  Result<uint16_t> u16(Field f);
  Result<uint32_t> u32(Field f);
  Result<uint64_t> u64(Field f);
  Result<std::string> str(Field f);
  Result<std::vector<std::string>> str_list(Field f);
  // Reads a u32 element count and checks that `count` elements of at least
  // `min_element_bytes` each can still fit, so no count can make us allocate
  // more than the message itself justifies.
  Result<uint32_t> count(Field f, size_t min_element_bytes);
  // Fails if any byte is left over: trailing garbage means a peer we do not
  // understand, and ignoring it would hide version skew.
  Status finish() const;

  size_t remaining() const { return data_.size() - pos_; }
  // Sets a prefix for field names ("entries[2].") while decoding a nested record.
  void set_scope(std::string scope) { scope_ = std::move(scope); }
  Error error(std::string_view detail) const;

 private:
  Result<std::span<const uint8_t>> take(Field f, size_t n);

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  std::string context_;
  std::string scope_;
};

}  // namespace tp::proto

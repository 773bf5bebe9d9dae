#include "protocol/wire.h"

namespace tp::proto {

void WireWriter::u8(uint8_t v) { buf_.push_back(v); }

void WireWriter::u16(uint16_t v) {
  buf_.push_back(static_cast<uint8_t>(v));
  buf_.push_back(static_cast<uint8_t>(v >> 8));
}

void WireWriter::u32(uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) buf_.push_back(static_cast<uint8_t>(v >> shift));
}

void WireWriter::u64(uint64_t v) {
  for (int shift = 0; shift < 64; shift += 8) buf_.push_back(static_cast<uint8_t>(v >> shift));
}

void WireWriter::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  buf_.insert(buf_.end(), s.begin(), s.end());
}

void WireWriter::str_list(const std::vector<std::string>& list) {
  u32(static_cast<uint32_t>(list.size()));
  for (const std::string& s : list) str(s);
}

std::string Field::text() const {
  std::string out(name);
  if (index != kNoIndex) out += "[" + std::to_string(index) + "]";
  return out;
}

WireReader::WireReader(std::span<const uint8_t> data, std::string context)
    : data_(data), context_(std::move(context)) {}

Error WireReader::error(std::string_view detail) const {
  return make_error(context_ + ": " + std::string(detail));
}

Result<std::span<const uint8_t>> WireReader::take(Field f, size_t n) {
  if (n > remaining()) {
    return error("truncated at " + scope_ + f.text() + ": needs " + std::to_string(n) +
                 " bytes, " + std::to_string(remaining()) + " left");
  }
  std::span<const uint8_t> out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<uint8_t> WireReader::u8(Field f) {
  TP_ASSIGN_OR_RETURN(std::span<const uint8_t> b, take(f, 1));
  return b[0];
}

Result<uint16_t> WireReader::u16(Field f) {
  TP_ASSIGN_OR_RETURN(std::span<const uint8_t> b, take(f, 2));
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

Result<uint32_t> WireReader::u32(Field f) {
  TP_ASSIGN_OR_RETURN(std::span<const uint8_t> b, take(f, 4));
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

Result<uint64_t> WireReader::u64(Field f) {
  TP_ASSIGN_OR_RETURN(std::span<const uint8_t> b, take(f, 8));
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

Result<std::string> WireReader::str(Field f) {
  TP_ASSIGN_OR_RETURN(uint32_t len, u32(f));
  TP_ASSIGN_OR_RETURN(std::span<const uint8_t> b, take(f, len));
  return std::string(b.begin(), b.end());
}

Result<uint32_t> WireReader::count(Field f, size_t min_element_bytes) {
  TP_ASSIGN_OR_RETURN(uint32_t n, u32(f));
  if (n > remaining() / min_element_bytes) {
    return error(scope_ + f.text() + " count " + std::to_string(n) + " is larger than the " +
                 std::to_string(remaining()) + " bytes left can hold");
  }
  return n;
}

Result<std::vector<std::string>> WireReader::str_list(Field f) {
  // Every string costs at least its 4-byte length.
  TP_ASSIGN_OR_RETURN(uint32_t n, count(f, 4));
  std::vector<std::string> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    TP_ASSIGN_OR_RETURN(std::string s, str(Field{f.name, i}));
    out.push_back(std::move(s));
  }
  return out;
}

Status WireReader::finish() const {
  if (remaining() != 0) {
    return error(std::to_string(remaining()) + " trailing bytes after the last field");
  }
  return ok_status();
}

}  // namespace tp::proto

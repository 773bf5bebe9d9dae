// The files tp-inspect's tests inspect (built by images/CMakeLists.txt into
// TP_INSPECT_IMAGES_DIR), small helpers to read, patch and inspect them, and
// what else the tests share.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "inspect.h"

namespace tp::inspect::testing {

inline std::string image_path(const std::string& name) {
  return std::string(TP_INSPECT_IMAGES_DIR) + "/" + name;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// tp_inspect_core's report on images/NAME (for tests linked with tp_inspect_core).
inline Report inspect_path(const std::string& name) {
  const std::string path = image_path(name);
  return inspect_image(path, read_bytes(path));
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

template <typename T>
T get(const std::vector<uint8_t>& b, size_t offset) {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

template <typename T>
void put(std::vector<uint8_t>& b, size_t offset, T v) {
  std::memcpy(b.data() + offset, &v, sizeof v);
}

// File offset of the TPRC note's header (namesz 5, descsz 80, type, "TPRC\0"),
// or SIZE_MAX.
inline size_t find_tp_note(const std::vector<uint8_t>& b) {
  static const uint8_t header[] = {5, 0, 0, 0, 80, 0, 0, 0, 0x01, 0x00, 0x50, 0x54,
                                   'T', 'P', 'R', 'C', 0};
  for (size_t i = 0; i + sizeof header <= b.size(); i += 4)
    if (std::memcmp(b.data() + i, header, sizeof header) == 0) return i;
  return SIZE_MAX;
}

// Offsets of tp_note_desc fields from the descriptor (abi.h).
constexpr size_t kDescFromNote = 20;  // 12-byte header + "TPRC\0" padded to 8
constexpr size_t kAbiVersion = 0, kFlags = 4, kStackSize = 8, kMinSlotSize = 16,
                 kFixedSlot = 24, kReserved = 28, kExportsBegin = 32, kExportsEnd = 40,
                 kName = 48;

}  // namespace tp::inspect::testing

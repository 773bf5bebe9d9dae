// Just enough JSON to read `tp-space list --json` and `tp-space ps --json`: a strict
// parser (RFC 8259 values, \u escapes to UTF-8) and a value type with lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpit {

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;  // String: the value; Number: its spelling as written
  std::vector<Json> items;                           // Array
  std::vector<std::pair<std::string, Json>> fields;  // Object, in document order

  bool is_object() const { return kind == Kind::Object; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_string() const { return kind == Kind::String; }
  bool is_number() const { return kind == Kind::Number; }
  // The member `key` of an object; nullptr if absent or not an object.
  const Json* find(std::string_view key) const;
  // The number as an integer if it is one (no fraction, no exponent).
  std::optional<std::int64_t> integer() const;
};

// Parses `text` (surrounding whitespace allowed); on failure returns nullopt and sets
// `*error` to a message with the offset.
std::optional<Json> parse_json(std::string_view text, std::string* error);

}  // namespace tpit

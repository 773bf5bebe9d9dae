// A strict JSON reader for tests that check a tool's --json output (`tp-space list/ps
// --json`, `tp-inspect --json`): RFC 8259 values, \u escapes to UTF-8, and a value type
// with lookups. Anything malformed is refused (trailing commas or characters, bad
// escapes, lone surrogates, control characters or invalid UTF-8 in strings, leading
// zeros), and so are duplicate member names, which RFC 8259 only says SHOULD not occur.
//
// (Not llvm::json: with Debian's clang-built libLLVM-14, parts of it crash when called
// from g++-built code; see toolchain/tp-inspect/CMakeLists.txt.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpit {

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  // Declared, so that clang with libstdc++ 12 does not look into
  // pair<string, Json> while Json is incomplete (a static_assert fails otherwise).
  Json() = default;

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;  // String: the value; Number: its spelling as written
  std::vector<Json> items;                           // Array
  std::vector<std::pair<std::string, Json>> fields;  // Object, in document order

  bool is_null() const { return kind == Kind::Null; }
  bool is_bool() const { return kind == Kind::Bool; }
  bool is_object() const { return kind == Kind::Object; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_string() const { return kind == Kind::String; }
  bool is_number() const { return kind == Kind::Number; }
  // The member `key` of an object; nullptr if absent or not an object.
  const Json* find(std::string_view key) const;
  // The member `key`, or a null value if absent: for chains like doc[0]["note"]["name"].
  const Json& operator[](std::string_view key) const;
  // Item `index` of an array; throws std::out_of_range past the end.
  const Json& operator[](std::size_t index) const { return items.at(index); }
  // The number as an integer if it is one (no fraction, no exponent, in range).
  std::optional<std::int64_t> integer() const;
};

// Parses `text` (surrounding whitespace allowed); on failure returns nullopt and sets
// `*error` to a message with the offset.
std::optional<Json> parse_json(std::string_view text, std::string* error);

}  // namespace tpit

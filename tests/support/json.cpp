#include "json.h"

#include <cerrno>
#include <cstdlib>

namespace tpit {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<Json> document(std::string* error) {
    Json value;
    skip_space();
    if (parse_value(value, 0)) {
      skip_space();
      if (at_ == text_.size())
        return value;
      fail("trailing characters");
    }
    if (error != nullptr)
      *error = error_ + " at offset " + std::to_string(at_);
    return std::nullopt;
  }

 private:
  bool fail(const char* what) {
    if (error_.empty())
      error_ = what;
    return false;
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                  text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word)
      return fail("unknown literal");
    at_ += word.size();
    return true;
  }

  bool parse_value(Json& value, int depth) {
    if (depth > 64)
      return fail("nested too deeply");
    if (at_ >= text_.size())
      return fail("unexpected end");
    switch (text_[at_]) {
      case '{': return parse_object(value, depth);
      case '[': return parse_array(value, depth);
      case '"': value.kind = Json::Kind::String; return parse_string(value.text);
      case 't': value.kind = Json::Kind::Bool; value.boolean = true; return literal("true");
      case 'f': value.kind = Json::Kind::Bool; value.boolean = false; return literal("false");
      case 'n': value.kind = Json::Kind::Null; return literal("null");
      default: return parse_number(value);
    }
  }

  bool parse_object(Json& value, int depth) {
    value.kind = Json::Kind::Object;
    ++at_;  // '{'
    skip_space();
    if (at_ < text_.size() && text_[at_] == '}') {
      ++at_;
      return true;
    }
    for (;;) {
      skip_space();
      std::string key;
      if (at_ >= text_.size() || text_[at_] != '"')
        return fail("expected a member name");
      if (!parse_string(key))
        return false;
      if (value.find(key) != nullptr)
        return fail("duplicate member name");
      skip_space();
      if (at_ >= text_.size() || text_[at_] != ':')
        return fail("expected ':'");
      ++at_;
      skip_space();
      Json member;
      if (!parse_value(member, depth + 1))
        return false;
      value.fields.emplace_back(std::move(key), std::move(member));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == '}') {
        ++at_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool parse_array(Json& value, int depth) {
    value.kind = Json::Kind::Array;
    ++at_;  // '['
    skip_space();
    if (at_ < text_.size() && text_[at_] == ']') {
      ++at_;
      return true;
    }
    for (;;) {
      skip_space();
      Json item;
      if (!parse_value(item, depth + 1))
        return false;
      value.items.push_back(std::move(item));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == ']') {
        ++at_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool hex4(unsigned& code) {
    if (at_ + 4 > text_.size())
      return fail("short \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[at_++];
      code <<= 4;
      if (c >= '0' && c <= '9') code |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<unsigned>(c - 'A' + 10);
      else return fail("bad \\u escape");
    }
    return true;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }

  // Copies one raw multi-byte UTF-8 sequence; refuses stray continuation bytes,
  // overlong forms, surrogates, code points past U+10FFFF and cut-short sequences.
  bool copy_utf8(std::string& out) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[i]); };
    const unsigned char lead = byte(at_);
    size_t length = 0;
    unsigned code = 0, least = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code = lead & 0x1fu;
      least = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code = lead & 0x0fu;
      least = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code = lead & 0x07u;
      least = 0x10000;
    } else {
      return fail("invalid UTF-8");
    }
    if (text_.size() - at_ < length)
      return fail("invalid UTF-8");
    for (size_t i = 1; i < length; ++i) {
      if ((byte(at_ + i) & 0xc0) != 0x80)
        return fail("invalid UTF-8");
      code = (code << 6) | (byte(at_ + i) & 0x3fu);
    }
    if (code < least || code > 0x10ffff || (code >= 0xd800 && code < 0xe000))
      return fail("invalid UTF-8");
    out.append(text_.substr(at_, length));
    at_ += length;
    return true;
  }

  bool parse_string(std::string& out) {
    ++at_;  // '"'
    while (at_ < text_.size()) {
      if (static_cast<unsigned char>(text_[at_]) >= 0x80) {
        if (!copy_utf8(out))
          return false;
        continue;
      }
      const char c = text_[at_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size())
        break;
      const char escape = text_[at_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = 0;
          if (!hex4(code))
            return false;
          if (code >= 0xdc00 && code < 0xe000)
            return fail("lone low surrogate");
          if (code >= 0xd800 && code < 0xdc00) {  // a surrogate pair
            unsigned low = 0;
            if (text_.substr(at_, 2) != "\\u")
              return fail("lone high surrogate");
            at_ += 2;
            if (!hex4(low) || low < 0xdc00 || low >= 0xe000)
              return fail("bad low surrogate");
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, code);
          break;
        }
        default: return fail("unknown escape");
      }
    }
    return fail("unterminated string");
  }

  bool parse_number(Json& value) {
    const size_t start = at_;
    auto digits = [&] {
      const size_t from = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9')
        ++at_;
      return at_ > from;
    };
    if (at_ < text_.size() && text_[at_] == '-')
      ++at_;
    if (at_ < text_.size() && text_[at_] == '0')
      ++at_;
    else if (!digits())
      return fail("expected a value");
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits())
        return fail("expected digits after '.'");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-'))
        ++at_;
      if (!digits())
        return fail("expected exponent digits");
    }
    value.kind = Json::Kind::Number;
    value.text = std::string(text_.substr(start, at_ - start));
    value.number = std::strtod(value.text.c_str(), nullptr);
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::string error_;
};

}  // namespace

const Json* Json::find(std::string_view key) const {
  if (kind != Kind::Object)
    return nullptr;
  for (const auto& [name, value] : fields)
    if (name == key)
      return &value;
  return nullptr;
}

const Json& Json::operator[](std::string_view key) const {
  static const Json missing;
  const Json* member = find(key);
  return member != nullptr ? *member : missing;
}

std::optional<std::int64_t> Json::integer() const {
  if (kind != Kind::Number || text.find_first_of(".eE") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    return std::nullopt;
  return parsed;
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  return Parser(text).document(error);
}

}  // namespace tpit

#include "format.h"

#include <cstdio>

#include "threadprocs/abi.h"

namespace tp::inspect {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// "dynamic" with PT_INTERP, "static" without; empty when not known.
std::string linkage(const Report& r) {
  if (!r.e_type) return "";
  return r.interpreter ? "dynamic" : "static";
}

std::string size_with_meaning(uint64_t n, const char* zero_means) {
  if (n == 0) return std::string("0 (") + zero_means + ")";
  return human_size(n);
}

// One "  key  value" line of the text report.
void line(std::string& out, int indent, std::string_view key, const std::string& value) {
  out.append(static_cast<size_t>(indent), ' ');
  out += key;
  if (key.size() < 16) out.append(16 - key.size(), ' ');
  out += ' ';
  out += value;
  out += '\n';
}

void text_fixed_slot(std::string& out, const FixedSlot& f) {
  const std::string slot = "slot " + std::to_string(f.slot);
  line(out, 4, "link address", hex(f.link_address));
  if (!f.in_default_arena) {
    line(out, 4, "default arena", slot + " does not exist (" +
                                      std::to_string(TP_DEFAULT_SLOT_COUNT) + " slots)");
    return;
  }
  line(out, 4, slot + " image", hex(f.slot_image_address) + " in the default arena (base " +
                                    hex(TP_DEFAULT_ARENA_BASE) + ", " +
                                    human_size(TP_DEFAULT_SLOT_SIZE) +
                                    " slots, image 2 MiB above the slot base)");
  if (f.at_slot_address)
    line(out, 4, "placement", "linked at " + slot + "'s image address: zero relocation delta when " +
                                  slot + " is free, relocated otherwise");
  else
    line(out, 4, "placement", "not linked at " + slot + "'s image address: always relocated");
}

void text_note(std::string& out, const Note& n) {
  out += "  TPRC note\n";
  line(out, 4, "ABI version", std::to_string(n.abi_version));
  line(out, 4, "program name", n.name.empty() ? "(file name)" : printable(n.name));
  line(out, 4, "stack size", size_with_meaning(n.stack_size, "the launcher's RLIMIT_STACK"));
  line(out, 4, "min slot size", size_with_meaning(n.min_slot_size, "any"));
  std::string flags = hex(n.flags);
  for (const std::string& f : flag_names(n.flags)) flags += " " + f;
  line(out, 4, "flags", flags);
  line(out, 4, "fixed slot", n.fixed_slot < 0 ? "none (any slot)" : std::to_string(n.fixed_slot));
  if (n.fixed) text_fixed_slot(out, *n.fixed);
}

void text_exports(std::string& out, const std::vector<Export>& exports) {
  out += "  exports (" + std::to_string(exports.size()) + ")\n";
  size_t width = 0;
  for (const Export& e : exports) width = std::max(width, printable(e.name).size());
  for (const Export& e : exports) {
    std::string name = e.name.empty() ? "?" : printable(e.name);
    name.append(width + 2 - std::min(width + 2, name.size()), ' ');
    out += "    " + name + hex(e.address) + "  " + std::to_string(e.size) +
           (e.size == 1 ? " byte" : " bytes");
    if (!e.problem.empty()) out += "  (bad record at " + hex(e.record_address) + ": " + e.problem + ")";
    out += '\n';
  }
}

void json_key(std::string& out, const char* key, const std::string& value, bool last = false) {
  out += "    ";
  out += json_string(key);
  out += ": ";
  out += value;
  out += last ? "\n" : ",\n";
}

std::string json_null_or_string(const std::optional<std::string>& s) {
  return s ? json_string(*s) : "null";
}

std::string json_bool(bool b) { return b ? "true" : "false"; }

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_string(v[i]);
  return out + "]";
}

std::string json_note(const Note& n) {
  std::string out = "{";
  out += "\"abi_version\": " + std::to_string(n.abi_version);
  out += ", \"name\": " + json_string(n.name);
  out += ", \"program_name\": " + json_string(display_name(n));
  out += ", \"flags\": " + std::to_string(n.flags);
  out += ", \"flag_names\": " + json_strings(flag_names(n.flags));
  out += ", \"stack_size\": " + std::to_string(n.stack_size);
  out += ", \"min_slot_size\": " + std::to_string(n.min_slot_size);
  out += ", \"fixed_slot\": " + (n.fixed_slot < 0 ? std::string("null") : std::to_string(n.fixed_slot));
  out += ", \"descriptor_address\": " + json_string(hex(n.descriptor_address));
  out += ", \"exports_begin\": " +
         json_string(hex(n.descriptor_address + static_cast<uint64_t>(n.exports_begin)));
  out += ", \"exports_end\": " +
         json_string(hex(n.descriptor_address + static_cast<uint64_t>(n.exports_end)));
  out += ", \"fixed_slot_layout\": ";
  if (!n.fixed) {
    out += "null";
  } else {
    const FixedSlot& f = *n.fixed;
    out += "{\"slot\": " + std::to_string(f.slot);
    out += ", \"link_address\": " + json_string(hex(f.link_address));
    out += ", \"in_default_arena\": " + json_bool(f.in_default_arena);
    out += ", \"default_arena_base\": " + json_string(hex(TP_DEFAULT_ARENA_BASE));
    out += ", \"default_slot_size\": " + std::to_string(TP_DEFAULT_SLOT_SIZE);
    out += ", \"slot_image_address\": " +
           (f.in_default_arena ? json_string(hex(f.slot_image_address)) : std::string("null"));
    out += ", \"at_slot_address\": " + json_bool(f.at_slot_address) + "}";
  }
  return out + "}";
}

std::string json_exports(const std::vector<Export>& exports) {
  if (exports.empty()) return "[]";
  std::string out = "[\n";
  for (size_t i = 0; i < exports.size(); ++i) {
    const Export& e = exports[i];
    out += "      {\"name\": " + json_string(e.name);
    out += ", \"address\": " + json_string(hex(e.address));
    out += ", \"size\": " + std::to_string(e.size);
    out += ", \"record_address\": " + json_string(hex(e.record_address));
    out += ", \"name_address\": " + json_string(hex(e.name_address));
    out += ", \"problem\": " + (e.problem.empty() ? std::string("null") : json_string(e.problem));
    out += i + 1 < exports.size() ? "},\n" : "}\n";
  }
  return out + "    ]";
}

// `cls` is the report's class, or "unreadable" for a FileError.
void json_report(std::string& out, const Report& r, std::string_view cls) {
  out += "  {\n";
  json_key(out, "file", json_string(r.file));
  json_key(out, "class", json_string(cls));
  json_key(out, "loadable", json_bool(r.loadable()));
  json_key(out, "reason", r.reason.empty() ? "null" : json_string(r.reason));
  json_key(out, "elf_type", r.e_type ? json_string(elf_type_name(*r.e_type)) : "null");
  json_key(out, "linkage", r.e_type ? json_string(linkage(r)) : "null");
  json_key(out, "pie_flag", json_bool(r.pie_flag));
  json_key(out, "entry", r.e_type ? json_string(hex(r.entry)) : "null");
  json_key(out, "interpreter", json_null_or_string(r.interpreter));
  json_key(out, "needed", json_strings(r.needed));
  json_key(out, "soname", json_null_or_string(r.soname));
  json_key(out, "textrel", json_bool(r.textrel));
  json_key(out, "load_range",
           r.load_range ? "{\"start\": " + json_string(hex(r.load_range->first)) +
                              ", \"end\": " + json_string(hex(r.load_range->second)) + "}"
                        : "null");
  json_key(out, "note", r.note ? json_note(*r.note) : "null");
  json_key(out, "exports", json_exports(r.exports));
  json_key(out, "warnings", json_strings(r.warnings), /*last=*/true);
  out += "  }";
}

}  // namespace

std::string human_size(uint64_t n) {
  static constexpr struct {
    int shift;
    const char* unit;
  } kUnits[] = {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
  if (n != 0)
    for (const auto& u : kUnits)
      if (n % (uint64_t{1} << u.shift) == 0)
        return std::to_string(n >> u.shift) + " " + u.unit;
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A multi-byte UTF-8 sequence, copied only when well-formed (shortest
    // form, no surrogate, at most U+10FFFF).
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07, min = 0x10000;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  return out + "\"";
}

std::string format_text(const Report& r) {
  std::string out = r.file + ": " + std::string(class_name(r.cls));
  switch (r.cls) {
    case Class::kSlotAware:
      out += r.interpreter ? " (dynamic PIE)" : " (static-PIE)";
      break;
    case Class::kFixedExec:
      out += " (fixed-address: loads only at [" + hex(r.load_range->first) + ", " +
             hex(r.load_range->second) + "))";
      break;
    case Class::kNotLoadable: out += ": " + printable(r.reason); break;
    default: break;
  }
  out += '\n';
  if (r.e_type) {
    std::string type = elf_type_name(*r.e_type);
    if (r.pie_flag) type += ", DF_1_PIE";
    line(out, 2, "ELF type", type);
  }
  if (r.load_range) {  // the program headers were read
    line(out, 2, "entry", hex(r.entry));
    line(out, 2, "interpreter", r.interpreter ? printable(*r.interpreter) : "none");
    std::string needed;
    for (const std::string& n : r.needed) needed += (needed.empty() ? "" : " ") + printable(n);
    line(out, 2, "needed", needed.empty() ? "none" : needed);
    if (r.soname) line(out, 2, "soname", printable(*r.soname));
    line(out, 2, "text relocs", r.textrel ? "yes" : "no");
    line(out, 2, "load range", "[" + hex(r.load_range->first) + ", " +
                                   hex(r.load_range->second) + ") link-time");
  }
  if (r.note) {
    text_note(out, *r.note);
    text_exports(out, r.exports);
  }
  for (const std::string& w : r.warnings) out += "  warning: " + printable(w) + "\n";
  return out;
}

std::string format_json(const std::vector<Inspection>& inspections) {
  std::string out = "[\n";
  for (size_t i = 0; i < inspections.size(); ++i) {
    if (const Report* r = std::get_if<Report>(&inspections[i])) {
      json_report(out, *r, class_name(r->cls));
    } else {
      // Same keys as a report, nothing known but the reason.
      const FileError& e = std::get<FileError>(inspections[i]);
      Report unreadable;
      unreadable.file = e.file;
      unreadable.reason = e.message;
      json_report(out, unreadable, "unreadable");
    }
    out += i + 1 < inspections.size() ? ",\n" : "\n";
  }
  return out + "]\n";
}

}  // namespace tp::inspect

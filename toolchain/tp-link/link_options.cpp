#include "link_options.h"

#include <cstdlib>

#include "threadprocs/abi.h"

namespace tp::link {
namespace {

llvm::Error usage_error(const std::string& message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

llvm::Expected<uint64_t> parse_size(const std::string& option, const std::string& text) {
  if (text.empty() || text[0] < '0' || text[0] > '9')
    return usage_error(option + ": '" + text + "' is not a size (a number of bytes, or with K, M or G)");
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  std::string suffix(end);
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "g") shift = 30;
  else if (!suffix.empty())
    return usage_error(option + ": '" + text + "' is not a size (a number of bytes, or with K, M or G)");
  if (errno == ERANGE || (shift && v > (~0ull >> shift)))
    return usage_error(option + ": '" + text + "' is too large");
  return uint64_t(v) << shift;
}

llvm::Expected<LinkOptions> parse_link_options(const std::vector<std::string>& args) {
  LinkOptions o;
  if (const char* env_cc = std::getenv("TP_LINK_CC"); env_cc && *env_cc) o.cc = env_cc;
  else o.cc = "cc";
  size_t i = 0;
  // "--opt VALUE" or "--opt=VALUE"
  auto value = [&](const std::string& opt, std::string& out) -> llvm::Error {
    const std::string& arg = args[i];
    if (arg.size() > opt.size() && arg[opt.size()] == '=') {
      out = arg.substr(opt.size() + 1);
      return llvm::Error::success();
    }
    if (i + 1 >= args.size()) return usage_error(opt + " needs a value");
    out = args[++i];
    return llvm::Error::success();
  };
  auto is = [&](const char* opt) {
    const std::string& a = args[i];
    return a == opt || (starts_with(a, opt) && a[std::char_traits<char>::length(opt)] == '=');
  };
  for (; i < args.size(); ++i) {
    std::string v;
    if (is("--name")) {
      if (auto e = value("--name", v)) return e;
      if (v.empty() || v.size() >= TP_NOTE_NAME_MAX)
        return usage_error("--name: '" + v + "' must have 1 to " + std::to_string(TP_NOTE_NAME_MAX - 1) + " bytes");
      for (unsigned char c : v)
        if (c <= ' ' || c == '/' || c == 0x7f)
          return usage_error("--name: '" + v + "' has a space, a slash or a control character");
      o.name = v;
    } else if (is("--stack-size")) {
      if (auto e = value("--stack-size", v)) return e;
      auto size = parse_size("--stack-size", v);
      if (!size) return size.takeError();
      if (*size > (1ull << 40)) return usage_error("--stack-size: '" + v + "' is larger than 1 TiB");
      o.stack_size = *size;
    } else if (is("--min-slot-size")) {
      if (auto e = value("--min-slot-size", v)) return e;
      auto size = parse_size("--min-slot-size", v);
      if (!size) return size.takeError();
      if (*size % 4096) return usage_error("--min-slot-size: '" + v + "' is not a multiple of 4096");
      o.min_slot_size = *size;
    } else if (is("--slot")) {
      if (auto e = value("--slot", v)) return e;
      // The slot's image address must stay in the 47-bit user address space.
      const uint64_t max_slot = ((1ull << 47) - TP_DEFAULT_ARENA_BASE) / TP_DEFAULT_SLOT_SIZE - 1;
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end || v[0] == '-' || n > max_slot)
        return usage_error("--slot: '" + v + "' is not a slot number from 0 to " + std::to_string(max_slot));
      o.slot = uint32_t(n);
    } else if (args[i] == "--private-heap") {
      o.private_heap = true;
    } else if (args[i] == "--verbose") {
      o.verbose = true;
    } else if (is("--emit-note")) {
      if (auto e = value("--emit-note", v)) return e;
      o.emit_note = v;
    } else if (is("--cc")) {
      if (auto e = value("--cc", v)) return e;
      o.cc = v;
      ++i;
      break;  // everything after the driver is the driver's
    } else if (args[i] == "--") {
      ++i;
      break;
    } else {
      break;  // the first argument tp-link does not know starts the driver's
    }
  }
  o.driver_args.assign(args.begin() + std::ptrdiff_t(i), args.end());
  if (o.emit_note.empty() && o.driver_args.empty()) return usage_error("nothing to link");
  return o;
}

llvm::Expected<DriverLink> classify_driver_args(const std::vector<std::string>& args) {
  DriverLink d;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-c" || a == "-S" || a == "-E" || a == "-shared" || a == "-r" || a == "-M" || a == "-MM")
      d.links_executable = false;
    else if (a == "-static-pie" || a == "-static")
      d.static_pie = true;
    else if (a == "-no-pie" || a == "-nopie")
      return usage_error(a + ": a slot-aware image is position-independent; drop " + a);
    else if (a == "-o" && i + 1 < args.size())
      d.output = args[++i];
    else if (starts_with(a, "-o") && a.size() > 2)
      d.output = a.substr(2);
  }
  return d;
}

}  // namespace tp::link

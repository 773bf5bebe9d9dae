// What tp-link was asked to do: its own options, then everything else, which
// goes to the compiler driver unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace tp::link {

struct LinkOptions {
  std::string name;               // --name; empty: the output file's name
  uint64_t stack_size = 0;        // --stack-size; 0: the launcher's RLIMIT_STACK
  uint64_t min_slot_size = 0;     // --min-slot-size; 0: any
  std::optional<uint32_t> slot;   // --slot: link at that slot's image address
  bool private_heap = false;      // --private-heap
  bool verbose = false;           // --verbose: print the driver command
  std::string cc;                 // --cc, else $TP_LINK_CC, else "cc"
  std::string emit_note;          // --emit-note FILE: write the note's assembly and stop
  std::vector<std::string> driver_args;  // what the build system passed for the driver
};

// Parses tp-link's own options, which come first; the first argument that is
// not one of them, or everything after "--cc DRIVER", goes to the driver.
llvm::Expected<LinkOptions> parse_link_options(const std::vector<std::string>& args);

// "64K", "8M", "1G" or a plain number of bytes.
llvm::Expected<uint64_t> parse_size(const std::string& option, const std::string& text);

// What the driver arguments say about the link.
struct DriverLink {
  bool links_executable = true;  // false for -c, -S, -E, -shared, -r: tp-link passes those through
  bool static_pie = false;       // -static-pie (or -static, which tp-link turns into -static-pie)
  std::string output = "a.out";  // -o
};
llvm::Expected<DriverLink> classify_driver_args(const std::vector<std::string>& args);

inline constexpr const char* kUsage =
    "usage: tp-link [--name NAME] [--stack-size SIZE] [--min-slot-size SIZE] [--slot N]\n"
    "               [--private-heap] [--verbose] [--cc DRIVER] ARGS...\n"
    "       tp-link --emit-note FILE.S [--name NAME] [--stack-size SIZE] [--min-slot-size SIZE] [--slot N]\n"
    "               [--private-heap]\n"
    "Links a slot-aware PIE: runs the compiler driver (--cc, else $TP_LINK_CC, else cc) with ARGS,\n"
    "lld, the Threadprocs note, crt0, libtp and the linker-script fragment, then checks the image.\n"
    "$TP_LINK_FLAGS is read before the arguments (e.g. TP_LINK_FLAGS='--name worker' for Cargo).\n";

}  // namespace tp::link

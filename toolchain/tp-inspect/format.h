// The two renderings of a Report: text for people, JSON for programs.
// docs/tp-inspect.md lists the JSON keys; they never change meaning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "inspect.h"

namespace tp::inspect {

// The human-readable report of one file (ends with a newline).
std::string format_text(const Report& report);

// A JSON array with one object per inspection, in order (ends with a newline).
// Every object has the same keys; a FileError is an object of class "unreadable".
std::string format_json(const std::vector<Inspection>& inspections);

// `s` as a JSON string literal, quotes included. Bytes that are not valid
// UTF-8 become U+FFFD; control characters are escaped.
std::string json_string(std::string_view s);

// `s` with every byte that is not printable ASCII written as \xNN (for names
// read from a file, so a hostile one cannot drive the terminal).
std::string printable(std::string_view s);

// "64 GiB", "8 MiB", "4096 bytes": exact, the largest unit that divides `n`.
std::string human_size(uint64_t n);

}  // namespace tp::inspect

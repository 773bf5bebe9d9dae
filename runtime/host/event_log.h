// The host's event log: one line per event (launch, exit, reclaim, refusal),
// with a UTC timestamp, written to the host's stderr (the space's log file
// when it runs in the background).
#pragma once

#include <string>

namespace tp {

void log_event(const std::string& line);

}  // namespace tp

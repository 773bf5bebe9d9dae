// Ends the launcher the way its program ended, so the calling shell sees the
// same thing: the same exit code, or death by the same signal.
#pragma once

#include "space/exit_status.h"

namespace tp {

[[noreturn]] void exit_like(const ExitStatus& status);

}  // namespace tp

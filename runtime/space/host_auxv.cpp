#include "space/host_auxv.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/errno_text.h"
#include "common/unique_fd.h"

namespace tp {

Result<HostAuxv> read_host_auxv() {
  UniqueFd fd(open("/proc/self/auxv", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open /proc/self/auxv: " + errno_text(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read /proc/self/auxv: " + errno_text(errno));
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  HostAuxv auxv;
  for (size_t off = 0; off + 16 <= bytes.size(); off += 16) {
    AuxEntry e;
    memcpy(&e.type, &bytes[off], 8);
    memcpy(&e.value, &bytes[off + 8], 8);
    if (e.type == AT_NULL) break;
    // The host's strings live on its own stack; programs get copies on theirs.
    if (e.type == AT_PLATFORM) auxv.platform = reinterpret_cast<const char*>(e.value);
    if (e.type == AT_BASE_PLATFORM) auxv.base_platform = reinterpret_cast<const char*>(e.value);
    auxv.entries.push_back(e);
  }
  return auxv;
}

}  // namespace tp

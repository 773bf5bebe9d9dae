#include "space/space_allocator.h"

#include <dlfcn.h>
#include <unistd.h>

#include <vector>

namespace tp {
namespace {
std::vector<std::string> shim_candidates(const std::string& tool_dir) {
  std::vector<std::string> c;
#ifdef TP_PRELOAD_INSTALL_REL
  c.push_back(tool_dir + "/" TP_PRELOAD_INSTALL_REL "/libtp_preload.so");
#endif
  c.push_back(tool_dir + "/../lib/threadprocs/libtp_preload.so");
  return c;
}
}  // namespace

Result<std::string> locate_space_allocator(const std::string& tool_dir) {
  std::string shim;
  for (const auto& c : shim_candidates(tool_dir))
    if (access(c.c_str(), R_OK) == 0) {
      char real[4096];
      shim = realpath(c.c_str(), real) ? real : c;
      break;
    }
  if (shim.empty())
    return make_error("the environment shim libtp_preload.so is not installed beside " + tool_dir +
                      " (looked in " + shim_candidates(tool_dir).back() + ")");
  if (access(kMimallocPath, R_OK) != 0)
    return make_error(std::string("the space's allocator ") + kMimallocPath +
                      " is missing: install Debian's libmimalloc2.0 (mimalloc 2.0.9)");
  // Loaded here only to ask its version; RTLD_LOCAL, so the host's own malloc stays
  // glibc's. Never unloaded: mimalloc leaves a thread-exit hook in the loading thread.
  void* lib = dlopen(kMimallocPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!lib) return make_error(std::string("cannot load ") + kMimallocPath + ": " + dlerror());
  using VersionFn = int (*)();
  auto version = reinterpret_cast<VersionFn>(dlsym(lib, "mi_version"));
  int v = version ? version() : -1;
  dlclose(lib);
  if (v != kMimallocVersion)
    return make_error(std::string(kMimallocPath) + " is mimalloc version " + std::to_string(v) +
                      "; a space needs exactly 2.0.9 (" + std::to_string(kMimallocVersion) +
                      ") in every program for cross-program free() to work");
  return std::string(kMimallocPath) + ":" + shim;
}

std::vector<std::string> with_space_allocator(const std::vector<std::string>& env, const std::string& preload) {
  std::vector<std::string> out(env);
  // ld.so uses the last LD_PRELOAD entry when there are several: extend that one, in place.
  for (size_t i = out.size(); i-- > 0;) {
    if (out[i].compare(0, 11, "LD_PRELOAD=") == 0) {
      out[i] = "LD_PRELOAD=" + preload + ":" + out[i].substr(11);
      return out;
    }
  }
  out.push_back("LD_PRELOAD=" + preload);
  return out;
}

}  // namespace tp

#include "host/runtime_dir.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "common/errno_text.h"

namespace tp {

std::string runtime_dir() {
  if (const char* d = getenv("TP_RUNTIME_DIR"); d && *d) return d;
  if (const char* x = getenv("XDG_RUNTIME_DIR"); x && *x) return std::string(x) + "/threadprocs";
  return "/tmp/threadprocs-" + std::to_string(geteuid());
}

Status ensure_runtime_dir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error("cannot create the runtime directory " + dir + ": " + errno_text(errno));
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return make_error("cannot stat " + dir + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode)) return make_error("the runtime directory " + dir + " is not a directory");
  if (st.st_uid != geteuid())
    return make_error("the runtime directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
                      ", not to you (uid " + std::to_string(geteuid()) + "); refusing to use it");
  if (st.st_mode & 077) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return make_error("the runtime directory " + dir + " has mode " + mode +
                      "; it must be private (0700): chmod 700 " + dir);
  }
  return ok_status();
}

Status validate_space_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-');
  if (!ok)
    return make_error("'" + name + "' is not a valid space name (use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with .)");
  return ok_status();
}

SpacePaths space_paths(const std::string& dir, const std::string& name) {
  return SpacePaths{dir + "/" + name + ".sock", dir + "/" + name + ".lock", dir + "/" + name + ".log"};
}

}  // namespace tp

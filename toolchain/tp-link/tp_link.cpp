// tp-link: the link step that makes a slot-aware image (docs/build-side.md).
//
//   tp-link [tp-link options] [--cc DRIVER] <what you would pass the driver to link>
//
// Runs the compiler driver with the caller's arguments plus lld, the note
// object it generates, crt0, libtp and the linker-script fragment, then checks
// the result with libObject. Anything that is not a link of an executable
// (-c, -shared, -r...) goes to the driver unchanged, so it can stand in for
// CC/CXX/LD of a build system wholesale.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "link_options.h"
#include "note_source.h"
#include "verify_image.h"
#include "threadprocs/abi.h"

extern char** environ;

namespace tp::link {
namespace {

int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "tp-link: %s\n", message.c_str());
  return code;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string self_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, size_t(n));
  return path.substr(0, path.rfind('/'));
}

// crt0, libtp and the script lie together: beside the tools in the build
// tree, or where they were installed relative to the installed tp-link.
std::string find_support_dir() {
  const std::string dir = self_dir();
  for (const std::string& candidate : {dir + "/../lib/threadprocs", dir + "/" TP_LINK_LIBDIR_REL})
    if (exists(candidate + "/tp_crt0.o")) return candidate;
  return {};
}

// Runs argv, returns a shell-style status (128+N when killed by signal N).
int run(const std::vector<std::string>& argv, bool verbose) {
  if (verbose) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "tp-link: %s\n", line.c_str());
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid;
  int err = posix_spawnp(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ);
  if (err != 0) {
    std::fprintf(stderr, "tp-link: cannot run %s: %s\n", argv[0].c_str(), std::strerror(err));
    return err == ENOENT ? 127 : 126;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 125;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tp-link.XXXXXX";
    if (mkdtemp(templ.data())) path_ = templ;
  }
  ~TempDir() {
    for (const auto& f : files_) unlink(f.c_str());
    if (!path_.empty()) rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return bool(out.flush());
}

NoteSpec note_spec(const LinkOptions& o, const std::string& output) {
  NoteSpec spec;
  spec.name = o.name;
  if (spec.name.empty() && !output.empty()) {
    // The output's file name, cut and cleaned to what the note accepts.
    std::string base = output.substr(output.rfind('/') + 1);
    for (unsigned char c : base)
      if (c > ' ' && c != 0x7f && spec.name.size() < TP_NOTE_NAME_MAX - 1) spec.name += char(c);
  }
  spec.stack_size = o.stack_size;
  spec.min_slot_size = o.min_slot_size;
  spec.fixed_slot = o.slot ? int32_t(*o.slot) : TP_NOTE_ANY_SLOT;
  spec.flags = o.private_heap ? TP_NOTE_FLAG_PRIVATE_HEAP : 0;
  return spec;
}

// Checks the linked image; a bad one is removed, so that make does not take
// it for up to date.
int verify_or_remove(const std::string& output, const Expectations& want) {
  if (auto err = verify_image(output, want)) {
    unlink(output.c_str());
    return fail(llvm::toString(std::move(err)) + " (removed it)");
  }
  return 0;
}

int tp_link_main(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args.empty() && args[0] == "--version") {
    std::printf("tp-link %s (Threadprocs ABI %u)\n", TP_VERSION, TP_ABI_VERSION);
    return 0;
  }
  auto parsed = parse_link_options(args);
  if (!parsed) return fail(llvm::toString(parsed.takeError()) + "\n" + kUsage, 2);
  LinkOptions o = std::move(*parsed);

  if (!o.emit_note.empty()) {
    NoteSpec spec = note_spec(o, "");
    if (!write_file(o.emit_note, note_assembly(spec)))
      return fail("cannot write " + o.emit_note + ": " + std::strerror(errno));
    return 0;
  }

  auto driver = classify_driver_args(o.driver_args);
  if (!driver) return fail(llvm::toString(driver.takeError()), 2);
  std::vector<std::string> cmd{o.cc};
  if (!driver->links_executable) {
    // Compiling, or linking a shared library: nothing slot-aware about it.
    cmd.insert(cmd.end(), o.driver_args.begin(), o.driver_args.end());
    return run(cmd, o.verbose);
  }

  // A link that already carries crt0 (a CMake target linking
  // Threadprocs::slot_aware, built with the toolchain file): it has its note,
  // crt0 and script; adding them again would define everything twice.
  const bool already_slot_aware = std::any_of(o.driver_args.begin(), o.driver_args.end(), [](const std::string& a) {
    return a == "tp_crt0.o" || (a.size() > 10 && a.compare(a.size() - 10, 10, "/tp_crt0.o") == 0);
  });
  if (already_slot_aware) {
    cmd.insert(cmd.end(), o.driver_args.begin(), o.driver_args.end());
    if (int rc = run(cmd, o.verbose); rc != 0) return rc;
    Expectations want;
    want.static_pie = driver->static_pie;
    return verify_or_remove(driver->output, want);
  }

  const std::string support = find_support_dir();
  if (support.empty())
    return fail("cannot find tp_crt0.o, libtp.a and threadprocs.ld (looked in " + self_dir() + "/../lib/threadprocs and " +
                self_dir() + "/" TP_LINK_LIBDIR_REL ")");
  TempDir tmp;
  if (tmp.path().empty()) return fail(std::string("cannot make a temporary directory: ") + std::strerror(errno));
  const std::string note_src = tmp.file("tp_note.S"), note_obj = tmp.file("tp_note.o");
  if (!write_file(note_src, note_assembly(note_spec(o, driver->output))))
    return fail("cannot write " + note_src + ": " + std::strerror(errno));
  if (int rc = run({o.cc, "-c", "-x", "assembler-with-cpp", note_src, "-o", note_obj}, o.verbose); rc != 0)
    return fail("assembling the note with " + o.cc + " failed (status " + std::to_string(rc) + ")", rc);

  for (const std::string& a : o.driver_args) cmd.push_back(a == "-static" ? "-static-pie" : a);
  if (!driver->static_pie) cmd.push_back("-pie");
  cmd.insert(cmd.end(), {note_obj, support + "/tp_crt0.o", support + "/libtp.a", "-fuse-ld=lld",
                         "-Wl,-e,__tp_start", "-Wl,--wrap=main", "-Wl,-T," + support + "/threadprocs.ld"});
  Expectations want;
  want.static_pie = driver->static_pie;
  if (o.slot) {
    want.link_address = slot_image_address(*o.slot);
    char base[64];
    std::snprintf(base, sizeof base, "-Wl,--image-base=%#llx", static_cast<unsigned long long>(*want.link_address));
    cmd.push_back(base);
  }
  if (int rc = run(cmd, o.verbose); rc != 0) return rc;  // the driver said why
  return verify_or_remove(driver->output, want);
}

}  // namespace
}  // namespace tp::link

int main(int argc, char** argv) {
  // $TP_LINK_FLAGS (split on spaces) comes first: how a build system that
  // calls the linker itself (Cargo: -C linker=tp-link) passes --name and friends.
  std::vector<std::string> args;
  if (const char* flags = std::getenv("TP_LINK_FLAGS")) {
    std::string word;
    for (const char* c = flags;; ++c) {
      if (*c == ' ' || *c == '\t' || *c == 0) {
        if (!word.empty()) args.push_back(word);
        word.clear();
        if (*c == 0) break;
      } else {
        word += *c;
      }
    }
  }
  args.insert(args.end(), argv + 1, argv + argc);
  return tp::link::tp_link_main(args);
}

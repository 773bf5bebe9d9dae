// resolve_program() and parse_shebang(): finding what to run the way
// execvp(3) and execve(2) would, in a scratch directory of real files.
#include "launcher/resolve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tp {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// ---- parse_shebang ----------------------------------------------------------

Shebang shebang(std::string_view head) {
  auto r = parse_shebang("script", head);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : Shebang{};
}

TEST(ParseShebang, InterpreterOnly) {
  Shebang s = shebang("#!/bin/sh\necho hi\n");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_FALSE(s.has_argument);
  EXPECT_EQ(s.argument, "");
  // Spaces around the name and at the end of the line do not count.
  Shebang t = shebang("#!  /bin/sh   \n");
  EXPECT_EQ(t.interpreter, "/bin/sh");
  EXPECT_FALSE(t.has_argument);
}

TEST(ParseShebang, OneArgument) {
  Shebang s = shebang("#!/bin/sh -e\n");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_TRUE(s.has_argument);
  EXPECT_EQ(s.argument, "-e");
}

// The kernel passes everything after the interpreter as ONE argument.
TEST(ParseShebang, ArgumentWithSpacesIsKeptAsOne) {
  Shebang s = shebang("#!/usr/bin/env -S python3 -u  \nprint(1)\n");
  EXPECT_EQ(s.interpreter, "/usr/bin/env");
  EXPECT_TRUE(s.has_argument);
  EXPECT_EQ(s.argument, "-S python3 -u");
}

TEST(ParseShebang, Tabs) {
  Shebang s = shebang("#!\t/bin/sh\t-x\t\n");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.argument, "-x");
  Shebang t = shebang("#!/bin/sh\t \t-a \t-b\n");
  EXPECT_EQ(t.argument, "-a \t-b");
}

TEST(ParseShebang, CrLf) {
  // As for the kernel, the CR is part of the interpreter's name when it
  // directly follows it ("bad interpreter: /bin/sh^M").
  Shebang s = shebang("#!/bin/sh\r\necho hi\r\n");
  EXPECT_EQ(s.interpreter, "/bin/sh\r");
  // A CR ending the argument stays part of it, as for the kernel ("-e\r").
  Shebang t = shebang("#!/bin/sh -e\r\n");
  EXPECT_EQ(t.interpreter, "/bin/sh");
  EXPECT_EQ(t.argument, "-e\r");
}

TEST(ParseShebang, NoNewlineAtEndOfShortFile) {
  Shebang s = shebang("#!/bin/sh -u");
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.argument, "-u");
}

TEST(ParseShebang, NoNewlineWithin256BytesIsAnError) {
  std::string head = "#!/bin/sh " + std::string(246, 'x');
  ASSERT_EQ(head.size(), 256u);
  auto r = parse_shebang("long.sh", head);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find("long.sh"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("256"), std::string::npos) << r.error().message;
  // A newline as the 256th byte still ends the line in time.
  std::string fits = "#!/bin/sh " + std::string(245, 'x') + "\n";
  ASSERT_EQ(fits.size(), 256u);
  EXPECT_EQ(shebang(fits).argument, std::string(245, 'x'));
}

TEST(ParseShebang, NoInterpreterIsAnError) {
  for (std::string_view head : {"#!", "#!\n", "#!   \n", "#!\t\t\necho\n", "#! \r\n"}) {
    auto r = parse_shebang("bare.sh", head);
    if (head == "#! \r\n") {
      // "\r" is a (strange) interpreter name, as for the kernel.
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->interpreter, "\r");
      continue;
    }
    ASSERT_FALSE(r.ok()) << "'" << head << "' gave interpreter '" << r->interpreter << "'";
    EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
    EXPECT_NE(r.error().message.find("bare.sh"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("no interpreter"), std::string::npos) << r.error().message;
  }
}

// ---- resolve_program --------------------------------------------------------

// A scratch directory, removed afterwards; restores the cwd a test changed.
class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tp-resolve-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    dir_ = tmpl;
    char cwd[PATH_MAX];
    ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
    old_cwd_ = cwd;
  }
  void TearDown() override {
    EXPECT_EQ(chdir(old_cwd_.c_str()), 0);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& rel) const { return dir_ + "/" + rel; }

  std::string write(const std::string& rel, const std::string& content, mode_t mode = 0755) {
    std::string p = path(rel);
    fs::create_directories(fs::path(p).parent_path());
    {
      std::ofstream f(p, std::ios::binary | std::ios::trunc);
      f << content;
    }
    EXPECT_EQ(chmod(p.c_str(), mode), 0);
    return p;
  }
  // A copy of a real ELF executable.
  std::string copy_elf(const std::string& rel, mode_t mode = 0755) {
    std::string p = path(rel);
    fs::create_directories(fs::path(p).parent_path());
    fs::copy_file("/bin/true", p, fs::copy_options::overwrite_existing);
    EXPECT_EQ(chmod(p.c_str(), mode), 0);
    return p;
  }

  std::string dir_, old_cwd_;
};

// The file behind an fd is the file at `path` (same inode).
bool same_file(int fd, const std::string& path) {
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat(path.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

TEST_F(ResolveTest, ElfByPathKeepsArgv) {
  std::string prog = copy_elf("bin/prog");
  auto r = resolve_program(prog, {"prog", "a", "b c"}, "/nonexistent");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exec_path, prog);
  EXPECT_EQ(r->argv, (Args{"prog", "a", "b c"}));
  ASSERT_TRUE(r->image_fd.valid());
  EXPECT_TRUE(same_file(r->image_fd.get(), prog));
  int flags = fcntl(r->image_fd.get(), F_GETFD);
  EXPECT_TRUE(flags & FD_CLOEXEC);
}

TEST_F(ResolveTest, PathSearchOrder) {
  std::string one = copy_elf("one/prog");
  std::string two = copy_elf("two/prog");
  std::string both = path("one") + ":" + path("two");
  auto a = resolve_program("prog", {"prog"}, both.c_str());
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->exec_path, one);
  EXPECT_TRUE(same_file(a->image_fd.get(), one));
  std::string reversed = path("two") + ":" + path("one");
  auto b = resolve_program("prog", {"prog"}, reversed.c_str());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->exec_path, two);
  EXPECT_EQ(b->argv, (Args{"prog"})) << "argv[0] stays what the user typed";
}

TEST_F(ResolveTest, PathSearchSkipsMissingDirectoriesNonExecutablesAndDirectories) {
  write("one/prog", "not executable", 0644);
  fs::create_directories(path("dir/prog"));
  std::string three = copy_elf("three/prog");
  std::string p = path("missing") + ":" + path("one") + ":" + path("dir") + ":" + path("three");
  auto r = resolve_program("prog", {"prog"}, p.c_str());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exec_path, three);
}

TEST_F(ResolveTest, OnlyNonExecutableOnPathIsPermissionDenied) {
  write("one/prog", "#!/bin/sh\n", 0644);
  std::string p = path("missing") + ":" + path("one");
  auto r = resolve_program("prog", {"prog"}, p.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(path("one/prog")), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("Permission denied"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, EmptyPathEntryIsTheCurrentDirectory) {
  std::string here = copy_elf("cwd/prog");
  std::string elsewhere = copy_elf("other/prog");
  ASSERT_EQ(chdir(path("cwd").c_str()), 0);
  for (const std::string& p : Args{":" + path("other"), "", path("missing") + "::" + path("other"),
                        path("missing") + ":"}) {
    auto r = resolve_program("prog", {"prog"}, p.c_str());
    ASSERT_TRUE(r.ok()) << "PATH='" << p << "': " << r.error().message;
    EXPECT_TRUE(same_file(r->image_fd.get(), here)) << "PATH='" << p << "' found " << r->exec_path;
    // As execvp: the bare name, relative to the cwd.
    EXPECT_EQ(r->exec_path, "prog") << "PATH='" << p << "'";
  }
  // The empty entry is searched in its place in the list.
  std::string p = path("other") + ":";
  auto r = resolve_program("prog", {"prog"}, p.c_str());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exec_path, elsewhere);
}

TEST_F(ResolveTest, NameWithSlashIsNotSearched) {
  copy_elf("pathdir/sub/prog");
  std::string p = path("pathdir");
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  auto r = resolve_program("sub/prog", {"sub/prog"}, p.c_str());
  ASSERT_FALSE(r.ok()) << "found " << r->exec_path;
  EXPECT_EQ(r.error().code, ExitCode::kNotFound);
  EXPECT_NE(r.error().message.find("sub/prog: No such file or directory"), std::string::npos)
      << r.error().message;

  std::string local = copy_elf("prog");
  copy_elf("pathdir/prog");
  auto dot = resolve_program("./prog", {"./prog"}, p.c_str());
  ASSERT_TRUE(dot.ok()) << dot.error().message;
  EXPECT_EQ(dot->exec_path, "./prog");
  EXPECT_TRUE(same_file(dot->image_fd.get(), local));
}

TEST_F(ResolveTest, UnsetPathUsesTheDefault) {
  auto r = resolve_program("true", {"true"}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exec_path, "/bin/true");
  EXPECT_TRUE(same_file(r->image_fd.get(), "/bin/true"));
}

TEST_F(ResolveTest, MissingProgramIs127) {
  auto bare = resolve_program("tp-no-such-program", {"tp-no-such-program"}, path("").c_str());
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().code, ExitCode::kNotFound);
  EXPECT_EQ(int(bare.error().code), 127);
  EXPECT_NE(bare.error().message.find("tp-no-such-program"), std::string::npos) << bare.error().message;

  auto slash = resolve_program(path("nope"), {"nope"}, nullptr);
  ASSERT_FALSE(slash.ok());
  EXPECT_EQ(slash.error().code, ExitCode::kNotFound);
  EXPECT_NE(slash.error().message.find(path("nope") + ": No such file or directory"), std::string::npos)
      << slash.error().message;

  // A path through a regular file (ENOTDIR) is "not found" as for a shell.
  std::string file = copy_elf("file");
  auto notdir = resolve_program(file + "/x", {"x"}, nullptr);
  ASSERT_FALSE(notdir.ok());
  EXPECT_EQ(notdir.error().code, ExitCode::kNotFound);

  auto empty = resolve_program("", {""}, nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ExitCode::kNotFound);
}

TEST_F(ResolveTest, DirectoryIs126) {
  fs::create_directories(path("adir"));
  auto r = resolve_program(path("adir"), {"adir"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(path("adir") + ": Is a directory"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, NoExecutePermissionIs126) {
  // Root passes access(X_OK) when any x bit is set: 0644 fails for everyone.
  std::string prog = copy_elf("noexec", 0644);
  auto r = resolve_program(prog, {"noexec"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(prog + ": Permission denied"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, NonRegularFileIs126) {
  std::string fifo = path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0755), 0);
  auto r = resolve_program(fifo, {"fifo"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, ScriptRunsThroughItsInterpreter) {
  std::string script = write("s.sh", "#!/bin/sh\necho hi\n");
  auto r = resolve_program(script, {"s.sh", "a", "b c"}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->argv, (Args{"/bin/sh", script, "a", "b c"}));
  EXPECT_EQ(r->exec_path, script) << "AT_EXECFN stays the script, as for execve";
  EXPECT_TRUE(same_file(r->image_fd.get(), "/bin/sh"));
}

TEST_F(ResolveTest, ScriptWithArgumentFoundOnPath) {
  std::string script = write("bin/s", "#!/bin/sh -e -u\nexit 0\n");
  std::string p = path("bin");
  auto r = resolve_program("s", {"s", "x"}, p.c_str());
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The path execvp built is what the interpreter gets.
  EXPECT_EQ(r->argv, (Args{"/bin/sh", "-e -u", script, "x"}));
  EXPECT_EQ(r->exec_path, script);
}

TEST_F(ResolveTest, NestedScriptsRewriteAsTheKernel) {
  std::string inner = write("inner", "#!/bin/sh\n");
  std::string outer = write("outer", "#!" + inner + "\n");
  auto r = resolve_program(outer, {"outer", "x", "y"}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->argv, (Args{"/bin/sh", inner, outer, "x", "y"}));
  EXPECT_EQ(r->exec_path, outer);
  EXPECT_TRUE(same_file(r->image_fd.get(), "/bin/sh"));

  // With an argument at each level.
  std::string inner2 = write("inner2", "#!/bin/sh -a\n");
  std::string outer2 = write("outer2", "#!" + inner2 + " -b\n");
  auto r2 = resolve_program(outer2, {"outer2", "x"}, nullptr);
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->argv, (Args{"/bin/sh", "-a", inner2, "-b", outer2, "x"}));
}

// What the real kernel does with the same files: /bin/echo as the last
// interpreter prints the argv it was given.
std::string kernel_argv_tail(const std::string& program, const Args& argv) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char* env[] = {nullptr};
    execve(program.c_str(), args.data(), env);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string join_tail(const Args& argv) {
  std::string out;
  for (size_t i = 1; i < argv.size(); ++i) out += (i > 1 ? " " : "") + argv[i];
  return out;
}

TEST_F(ResolveTest, NestedScriptsMatchTheRealKernel) {
  std::string s0 = write("k0", "#!/bin/echo one arg\n");
  std::string s1 = write("k1", "#!" + s0 + " mid\n");
  std::string s2 = write("k2", "#!" + s1 + "\n");
  for (const auto& script : {s0, s1, s2}) {
    Args argv{"name", "p", "q"};
    auto r = resolve_program(script, argv, nullptr);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->argv[0], "/bin/echo");
    EXPECT_EQ(join_tail(r->argv), kernel_argv_tail(script, argv)) << script;
  }
}

TEST_F(ResolveTest, TextFileWithoutShebangRunsViaBinSh) {
  std::string script = write("plain", "echo hello\nexit 0\n");
  auto r = resolve_program(script, {"plain", "arg"}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->argv, (Args{"/bin/sh", script, "arg"}));
  EXPECT_EQ(r->exec_path, script);
  EXPECT_TRUE(same_file(r->image_fd.get(), "/bin/sh"));
}

TEST_F(ResolveTest, EmptyExecutableIs126) {
  std::string empty = write("empty", "");
  auto r = resolve_program(empty, {"empty"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(empty), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("empty file"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, BinaryNonElfIs126) {
  std::string bin = write("blob", std::string("\x00\x01\x02\x03garbage\n", 12));
  auto r = resolve_program(bin, {"blob"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(bin + ": cannot execute"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("not an ELF"), std::string::npos) << r.error().message;
}

TEST_F(ResolveTest, MissingInterpreterIs127AndNamesIt) {
  std::string script = write("bad", "#!/nonexistent/tp-interp\n");
  auto r = resolve_program(script, {"bad"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotFound);
  EXPECT_NE(r.error().message.find("/nonexistent/tp-interp"), std::string::npos) << r.error().message;
  // The CRLF case: "/bin/sh\r" does not exist.
  std::string dos = write("dos", "#!/bin/sh\r\necho hi\r\n");
  auto d = resolve_program(dos, {"dos"}, nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ExitCode::kNotFound);
}

TEST_F(ResolveTest, InterpreterThatIsATextFileWithoutShebangIs126) {
  std::string interp = write("interp", "echo not a binary\n");
  std::string script = write("uses", "#!" + interp + "\n");
  auto r = resolve_program(script, {"uses"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find(interp), std::string::npos) << r.error().message;
}

// Four scripts, each run by the next, the last by /bin/true: the deepest the
// kernel's comment ("4 levels of binfmt rewrites") promises.
// Linux 6.x runs a chain of 5 scripts and refuses 6 (measured with execve).
TEST_F(ResolveTest, FiveNestedInterpretersWork) {
  std::string interp = "/bin/true";
  for (int i = 0; i < 5; ++i) interp = write("c" + std::to_string(i), "#!" + interp + "\n");
  auto r = resolve_program(interp, {"c4"}, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->argv, (Args{"/bin/true", path("c0"), path("c1"), path("c2"), path("c3"), path("c4")}));
  EXPECT_EQ(r->exec_path, path("c4"));
  EXPECT_TRUE(same_file(r->image_fd.get(), "/bin/true"));
}

TEST_F(ResolveTest, MoreThanFiveNestedInterpretersIs126) {
  std::string interp = "/bin/true";
  for (int i = 0; i < 6; ++i) interp = write("d" + std::to_string(i), "#!" + interp + "\n");
  auto r = resolve_program(interp, {"d5"}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ExitCode::kNotExecutable);
  EXPECT_NE(r.error().message.find("too many levels"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(interp), std::string::npos) << r.error().message;
  // A script that runs itself never ends either.
  std::string self = path("self");
  write("self", "#!" + self + "\n");
  auto s = resolve_program(self, {"self"}, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::kNotExecutable);
}

}  // namespace
}  // namespace tp

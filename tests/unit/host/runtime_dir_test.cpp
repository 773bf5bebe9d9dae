// The runtime directory of named spaces (runtime/host/runtime_dir.h).
#include "host/runtime_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace tp {
namespace {

namespace fs = std::filesystem;

// Sets or unsets an environment variable for one scope, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_.c_str(), old_->c_str(), 1);
    else unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(RuntimeDir, TpRuntimeDirComesFirst) {
  ScopedEnv tp("TP_RUNTIME_DIR", "/somewhere/tp");
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
  EXPECT_EQ(runtime_dir(), "/somewhere/tp");
}

TEST(RuntimeDir, XdgRuntimeDirNext) {
  ScopedEnv tp("TP_RUNTIME_DIR", nullptr);
  ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
  EXPECT_EQ(runtime_dir(), "/run/user/1000/threadprocs");
  // An empty TP_RUNTIME_DIR counts as unset.
  ScopedEnv tp_empty("TP_RUNTIME_DIR", "");
  EXPECT_EQ(runtime_dir(), "/run/user/1000/threadprocs");
}

TEST(RuntimeDir, TmpWithTheUidLast) {
  ScopedEnv tp("TP_RUNTIME_DIR", nullptr);
  ScopedEnv xdg("XDG_RUNTIME_DIR", nullptr);
  std::string want = "/tmp/threadprocs-" + std::to_string(geteuid());
  EXPECT_EQ(runtime_dir(), want);
  ScopedEnv xdg_empty("XDG_RUNTIME_DIR", "");
  EXPECT_EQ(runtime_dir(), want);
}

class EnsureRuntimeDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tp-runtime-dir-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    parent_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(parent_, ec);
  }
  static mode_t mode_of(const std::string& p) {
    struct stat st;
    EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
    return st.st_mode;
  }
  std::string parent_;
};

TEST_F(EnsureRuntimeDir, CreatesA0700Directory) {
  std::string dir = parent_ + "/threadprocs";
  mode_t old_umask = umask(0);  // 0700 must come from the code, not the umask
  auto s = ensure_runtime_dir(dir);
  umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.error().message;
  mode_t mode = mode_of(dir);
  EXPECT_TRUE(S_ISDIR(mode));
  EXPECT_EQ(mode & 07777, 0700u);
  // Again, on the existing directory: fine.
  auto again = ensure_runtime_dir(dir);
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST_F(EnsureRuntimeDir, RefusesAnOpenMode) {
  std::string dir = parent_ + "/open";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  auto s = ensure_runtime_dir(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("0755"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(dir), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("chmod 700"), std::string::npos) << s.error().message;
  // It does not "fix" the mode behind the user's back.
  EXPECT_EQ(mode_of(dir) & 07777, 0755u);
  // Group access alone is refused too.
  ASSERT_EQ(chmod(dir.c_str(), 0710), 0);
  auto g = ensure_runtime_dir(dir);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("0710"), std::string::npos) << g.error().message;
}

TEST_F(EnsureRuntimeDir, RefusesANonDirectory) {
  std::string file = parent_ + "/file";
  std::ofstream(file) << "x";
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  auto s = ensure_runtime_dir(file);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a directory"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(file), std::string::npos) << s.error().message;
}

TEST_F(EnsureRuntimeDir, RefusesASymlinkToADirectory) {
  std::string target = parent_ + "/target";
  ASSERT_EQ(mkdir(target.c_str(), 0700), 0);
  std::string link = parent_ + "/link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto s = ensure_runtime_dir(link);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a directory"), std::string::npos) << s.error().message;
}

TEST_F(EnsureRuntimeDir, RefusesADirectoryOfAnotherUser) {
  std::string dir = parent_ + "/theirs";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  ASSERT_EQ(chown(dir.c_str(), 65534, 65534), 0) << strerror(errno);
  auto s = ensure_runtime_dir(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("uid 65534"), std::string::npos) << s.error().message;
}

TEST_F(EnsureRuntimeDir, MissingParentIsAnError) {
  std::string dir = parent_ + "/no/such/parent";
  auto s = ensure_runtime_dir(dir);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot create"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(dir), std::string::npos) << s.error().message;
}

TEST(SpaceName, Accepted) {
  for (const char* name : {"demo", "a.b_c-1", "A", "x.", "Z9-_."}) {
    auto s = validate_space_name(name);
    EXPECT_TRUE(s.ok()) << name << ": " << s.error().message;
  }
  EXPECT_TRUE(validate_space_name(std::string(64, 'n')).ok());
}

TEST(SpaceName, Refused) {
  for (std::string name : {std::string(""), std::string(".hidden"), std::string("."), std::string(".."),
                           std::string("a/b"), std::string(65, 'n'), std::string("a b"), std::string("caf\xc3\xa9"),
                           std::string("a\0b", 3), std::string("tab\t"), std::string("x:y")}) {
    auto s = validate_space_name(name);
    ASSERT_FALSE(s.ok()) << "'" << name << "' accepted";
    EXPECT_NE(s.error().message.find("'" + name + "'"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("not a valid space name"), std::string::npos) << s.error().message;
  }
}

TEST(SpacePaths, SocketLockAndLogInTheDirectory) {
  SpacePaths p = space_paths("/run/user/7/threadprocs", "demo");
  EXPECT_EQ(p.socket, "/run/user/7/threadprocs/demo.sock");
  EXPECT_EQ(p.lock, "/run/user/7/threadprocs/demo.lock");
  EXPECT_EQ(p.log, "/run/user/7/threadprocs/demo.log");
}

}  // namespace
}  // namespace tp

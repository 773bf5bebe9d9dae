#include "fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace tpit {

bool native_mode() {
  const char* value = std::getenv("TP_IT_NATIVE");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

std::string tp_run_path() { return TP_IT_TP_RUN; }
std::string tp_space_path() { return TP_IT_TP_SPACE; }
std::string programs_dir() { return TP_IT_PROGRAMS_DIR; }
std::string program(const std::string& name) { return programs_dir() + "/" + name; }
bool have_rust() { return TP_IT_HAVE_RUST != 0; }

std::string sample(const std::string& name) {
  static const std::pair<const char*, const char*> samples[] = {
      {"string_put", TP_IT_SAMPLE_STRING_PUT},
      {"string_get", TP_IT_SAMPLE_STRING_GET},
      {"pingpong_host", TP_IT_SAMPLE_PINGPONG_HOST},
      {"pingpong_peer", TP_IT_SAMPLE_PINGPONG_PEER},
  };
  for (const auto& [key, path] : samples)
    if (name == key)
      return path;
  return "";
}

void TpTest::SetUp() {
  root_ = make_temp_dir("tp-it-");
  ASSERT_FALSE(root_.empty());
  runtime_dir_ = root_ + "/run";
  work_dir_ = root_ + "/work";
  ASSERT_EQ(mkdir(runtime_dir_.c_str(), 0700), 0) << runtime_dir_;
  ASSERT_EQ(mkdir(work_dir_.c_str(), 0755), 0) << work_dir_;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, "TP_RUNTIME_DIR=", 15) != 0)
      env_.emplace_back(*entry);
  env_.push_back("TP_RUNTIME_DIR=" + runtime_dir_);
}

void TpTest::TearDown() {
  for (const auto& space : spaces_) {
    const Result stopped = tp_space({"stop", space});
    // A space the test never got to start may make stop complain; what matters is that
    // none is left running.
    if (const auto entry = find_space(space)) {
      ADD_FAILURE() << "space " << space << " still listed after `tp-space stop`: "
                    << describe(stopped);
      const Json* pid = entry->find("pid");
      if (pid != nullptr && pid->integer() && *pid->integer() > 0)
        kill(static_cast<pid_t>(*pid->integer()), SIGKILL);
    }
  }
  if (!root_.empty())
    remove_tree(root_);
}

std::vector<std::string> TpTest::launch(const std::vector<std::string>& program_argv,
                                        const std::vector<std::string>& options) const {
  if (native_mode())
    return program_argv;
  std::vector<std::string> argv{tp_run_path()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.emplace_back("--");
  argv.insert(argv.end(), program_argv.begin(), program_argv.end());
  return argv;
}

std::vector<std::string> TpTest::launch_in(const std::string& space,
                                           const std::vector<std::string>& program_argv,
                                           const std::vector<std::string>& options) {
  use_space(space);
  std::vector<std::string> argv{tp_run_path(), "--space", space};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.emplace_back("--");
  argv.insert(argv.end(), program_argv.begin(), program_argv.end());
  return argv;
}

Command TpTest::command(std::vector<std::string> argv) const {
  Command command;
  command.argv = std::move(argv);
  command.env = env_;
  command.cwd = work_dir_;
  return command;
}

Result TpTest::tp_space(std::vector<std::string> args) const {
  args.insert(args.begin(), tp_space_path());
  Command command = this->command(std::move(args));
  command.timeout = 30s;
  return tpit::run(command);
}

const std::string& TpTest::use_space(const std::string& name) {
  if (std::find(spaces_.begin(), spaces_.end(), name) == spaces_.end())
    spaces_.push_back(name);
  return name;
}

std::optional<Json> TpTest::list_spaces() const {
  const Result listed = tp_space({"list", "--json"});
  if (!WIFEXITED(listed.status) || WEXITSTATUS(listed.status) != 0) {
    ADD_FAILURE() << "tp-space list --json: " << describe(listed);
    return std::nullopt;
  }
  std::string error;
  auto json = parse_json(listed.out, &error);
  if (!json || !json->is_array()) {
    ADD_FAILURE() << "tp-space list --json printed no JSON array (" << error
                  << "): " << listed.out;
    return std::nullopt;
  }
  return json;
}

std::optional<Json> TpTest::find_space(const std::string& space) const {
  const auto spaces = list_spaces();
  if (!spaces)
    return std::nullopt;
  for (const auto& entry : spaces->items) {
    const Json* name = entry.find("name");
    if (name != nullptr && name->is_string() && name->text == space)
      return entry;
  }
  return std::nullopt;
}

pid_t TpTest::host_pid(const std::string& space) const {
  const auto entry = find_space(space);
  if (!entry) {
    ADD_FAILURE() << "space " << space << " is not in `tp-space list --json`";
    return -1;
  }
  const Json* pid = entry->find("pid");
  if (pid == nullptr || !pid->integer() || *pid->integer() <= 0) {
    ADD_FAILURE() << "space " << space << " has no valid \"pid\" in `tp-space list --json`";
    return -1;
  }
  return static_cast<pid_t>(*pid->integer());
}

std::optional<Json> TpTest::ps(const std::string& space) const {
  const Result listed = tp_space({"ps", space, "--json"});
  if (!WIFEXITED(listed.status) || WEXITSTATUS(listed.status) != 0) {
    ADD_FAILURE() << "tp-space ps " << space << " --json: " << describe(listed);
    return std::nullopt;
  }
  std::string error;
  auto json = parse_json(listed.out, &error);
  if (!json || !json->is_object()) {
    ADD_FAILURE() << "tp-space ps --json printed no JSON object (" << error << "): " << listed.out;
    return std::nullopt;
  }
  return json;
}

long settle_until(const std::function<long()>& value, const std::function<bool(long)>& good) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  long now = value();
  while (!good(now) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = value();
  }
  return now;
}

long settle_to(const std::function<long()>& value, long expected) {
  return settle_until(value, [expected](long v) { return v == expected; });
}

long stable(const std::function<long()>& value) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  long last = value();
  for (int same = 1; same < 5 && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const long now = value();
    same = now == last ? same + 1 : 1;
    last = now;
  }
  return last;
}

bool exited_with(const Result& result, int code) {
  return WIFEXITED(result.status) && WEXITSTATUS(result.status) == code;
}

bool killed_by(const Result& result, int signal) {
  return WIFSIGNALED(result.status) && WTERMSIG(result.status) == signal;
}

pid_t TpTest::start_space(const std::string& name, const std::vector<std::string>& options) {
  use_space(name);
  std::vector<std::string> args{"start", name};
  args.insert(args.end(), options.begin(), options.end());
  const Result started = tp_space(args);
  EXPECT_TRUE(exited_with(started, 0)) << "tp-space start " << name << ": " << describe(started);
  EXPECT_EQ(started.out, "") << "tp-space start printed on stdout";
  return exited_with(started, 0) ? host_pid(name) : -1;
}

}  // namespace tpit

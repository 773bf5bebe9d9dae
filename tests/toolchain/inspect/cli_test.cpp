// tp-inspect itself (TP_INSPECT_TOOL) run on the images of images/: classes,
// decoded fields, exports, exit statuses, stderr, and --json read back with a
// strict JSON reader.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "json.h"
#include "test_files.h"

extern char** environ;

namespace tp::inspect {
namespace {

using testing::contains;
using testing::image_path;
using tpit::Json;
using tpit::parse_json;

struct ToolRun {
  int exit_code = -1;  // -1: did not exit normally
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs tp-inspect with `args`, stdout and stderr into temp files.
ToolRun run(const std::vector<std::string>& args) {
  const char* tmp = std::getenv("TMPDIR");
  std::string out_path = std::string(tmp ? tmp : "/tmp") + "/tp_inspect_cli_XXXXXX";
  std::string err_path = out_path;
  const int out_fd = mkstemp(out_path.data());
  const int err_fd = mkstemp(err_path.data());
  EXPECT_GE(out_fd, 0);
  EXPECT_GE(err_fd, 0);
  std::vector<std::string> argv_strings = {TP_INSPECT_TOOL};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  pid_t pid;
  ToolRun r;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot run " << TP_INSPECT_TOOL;
  if (rc == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  }
  close(out_fd);
  close(err_fd);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return r;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

TEST(InspectCli, ClassOfEachFile) {
  struct Case {
    const char* file;
    const char* first_line_rest;  // after "PATH: "
    int exit_code;
  } cases[] = {
      {"slot_aware", "slot-aware (dynamic PIE)", 0},
      {"slot_aware_static", "slot-aware (static-PIE)", 0},
      {"slot_aware_slot3", "slot-aware (dynamic PIE)", 0},
      {"ordinary_pie", "ordinary PIE", 0},
      {"static_pie", "static-PIE", 0},
      {"fixed_exec", "ET_EXEC (fixed-address: loads only at [0x", 0},
      {"libinspect_library.so", "not loadable: a shared library", 1},
      {"object.o", "not loadable: a relocatable object (ET_REL)", 1},
      {"text.txt", "not loadable: not an ELF file", 1},
      {"empty", "not loadable: empty file", 1},
      {"truncated", "not loadable: truncated: PT_LOAD", 1},
      {"bad_abi", "not loadable: bad TPRC note: it was linked for a newer Threadprocs ABI", 1},
      {"bad_name", "not loadable: bad TPRC note: its program name is not NUL-terminated", 1},
      {"two_notes", "not loadable: bad TPRC note: a second TPRC note", 1},
      {"textrel", "not loadable: text relocations (DT_TEXTREL)", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = image_path(c.file);
    ToolRun r = run({path});
    EXPECT_EQ(r.exit_code, c.exit_code);
    EXPECT_EQ(first_line(r.out).rfind(path + ": " + c.first_line_rest, 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");  // not loadable is a finding, not an error
  }
}

TEST(InspectCli, SlotAwareDetails) {
  ToolRun r = run({image_path("slot_aware")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line :
       {"  ELF type         ET_DYN, DF_1_PIE\n", "  interpreter      /lib64/ld-linux-x86-64.so.2\n",
        "  needed           libc.so.6\n", "  text relocs      no\n", "  TPRC note\n",
        "    ABI version      1\n", "    program name     hello\n",
        "    stack size       0 (the launcher's RLIMIT_STACK)\n",
        "    min slot size    0 (any)\n", "    fixed slot       none (any slot)\n",
        "    flags            0x0\n", "  exports (2)\n"})
    EXPECT_TRUE(contains(r.out, line)) << line << "\n" << r.out;
  EXPECT_TRUE(contains(r.out, "    counter  0x")) << r.out;
  EXPECT_TRUE(contains(r.out, "  4 bytes\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "    message  0x")) << r.out;
  EXPECT_TRUE(contains(r.out, "  64 bytes\n")) << r.out;

  ToolRun slot3 = run({image_path("slot_aware_slot3")});
  ASSERT_EQ(slot3.exit_code, 0) << slot3.err;
  EXPECT_TRUE(contains(slot3.out, "    fixed slot       3\n")) << slot3.out;
  EXPECT_TRUE(contains(slot3.out, "    link address     0x203000200000\n")) << slot3.out;
  EXPECT_TRUE(contains(slot3.out, "linked at slot 3's image address: zero relocation delta when "
                                  "slot 3 is free, relocated otherwise"))
      << slot3.out;

  ToolRun fields = run({image_path("slot_aware_fields")});
  EXPECT_TRUE(contains(fields.out, "    program name     (file name)\n")) << fields.out;
  EXPECT_TRUE(contains(fields.out, "    stack size       8 MiB\n")) << fields.out;
  EXPECT_TRUE(contains(fields.out, "    min slot size    1 GiB\n")) << fields.out;
  EXPECT_TRUE(contains(fields.out, "    flags            0x1 private-heap\n")) << fields.out;
  EXPECT_TRUE(contains(fields.out, "  exports (0)\n")) << fields.out;
}

TEST(InspectCli, ExitStatusOfSeveralFiles) {
  const std::string good = image_path("slot_aware"), bad = image_path("empty"),
                    missing = image_path("missing-file");
  EXPECT_EQ(run({good, image_path("ordinary_pie"), image_path("fixed_exec")}).exit_code, 0);
  ToolRun mixed = run({good, bad});
  EXPECT_EQ(mixed.exit_code, 1);
  // One blank line between reports.
  EXPECT_TRUE(contains(mixed.out, "\n\n" + bad + ": not loadable: empty file\n")) << mixed.out;
  // An unreadable file: 2, whatever the others are; the others are still reported.
  ToolRun unreadable = run({good, missing, bad});
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_EQ(unreadable.err, "tp-inspect: " + missing + ": cannot read: No such file or directory\n");
  EXPECT_TRUE(contains(unreadable.out, good + ": slot-aware")) << unreadable.out;
  EXPECT_TRUE(contains(unreadable.out, bad + ": not loadable")) << unreadable.out;
  ToolRun dir = run({TP_INSPECT_IMAGES_DIR});
  EXPECT_EQ(dir.exit_code, 2);
  EXPECT_TRUE(contains(dir.err, "cannot read: Is a directory")) << dir.err;
}

TEST(InspectCli, Usage) {
  ToolRun none = run({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "tp-inspect: FILE is required")) << none.err;
  EXPECT_EQ(none.out, "");
  ToolRun unknown = run({"--frobnicate", image_path("slot_aware")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "--frobnicate")) << unknown.err;
  ToolRun help = run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "Usage: tp-inspect [OPTIONS] FILE...")) << help.out;
  EXPECT_TRUE(contains(help.out, "--json")) << help.out;
  ToolRun version = run({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out, "");
  // "--" ends the options: a file may start with '-'.
  ToolRun dashed = run({"--", "-no-such-file"});
  EXPECT_EQ(dashed.exit_code, 2);
  EXPECT_TRUE(contains(dashed.err, "-no-such-file: cannot read")) << dashed.err;
}

TEST(InspectCli, Json) {
  const std::vector<std::string> files = {image_path("slot_aware"),
                                          image_path("slot_aware_static"),
                                          image_path("slot_aware_slot3"),
                                          image_path("static_pie"),
                                          image_path("text.txt"),
                                          image_path("missing-file")};
  std::vector<std::string> args = {"--json"};
  args.insert(args.end(), files.begin(), files.end());
  ToolRun r = run(args);
  EXPECT_EQ(r.exit_code, 2);  // the missing file
  EXPECT_TRUE(contains(r.err, "missing-file: cannot read")) << r.err;
  std::string error;
  std::optional<Json> doc = parse_json(r.out, &error);
  ASSERT_TRUE(doc) << error << "\n" << r.out;
  ASSERT_TRUE(doc->is_array());
  ASSERT_EQ(doc->items.size(), files.size());
  const char* classes[] = {"slot-aware", "slot-aware", "slot-aware", "static-PIE",
                           "not loadable", "unreadable"};
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ((*doc)[i]["file"].text, files[i]);
    EXPECT_EQ((*doc)[i]["class"].text, classes[i]);
  }
  const Json& dynamic = (*doc)[0];
  EXPECT_EQ(dynamic["linkage"].text, "dynamic");
  EXPECT_EQ(dynamic["interpreter"].text, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(dynamic["note"]["name"].text, "hello");
  const Json& stat = (*doc)[1];
  EXPECT_EQ(stat["linkage"].text, "static");
  EXPECT_TRUE(stat["interpreter"].is_null());
  for (size_t i : {0, 1, 2}) {
    const Json& exports = (*doc)[i]["exports"];
    ASSERT_EQ(exports.items.size(), 2u);
    for (const Json& e : exports.items) {
      const std::string name = e["name"].text;
      EXPECT_TRUE(name == "counter" || name == "message") << name;
      EXPECT_EQ(e["size"].integer(), name == "counter" ? 4 : 64);
    }
  }
  const Json& slot3 = (*doc)[2]["note"];
  EXPECT_EQ(slot3["fixed_slot"].integer(), 3);
  EXPECT_TRUE(slot3["fixed_slot_layout"]["at_slot_address"].boolean);
  EXPECT_NE((*doc)[4]["reason"].text.find("not an ELF file"), std::string::npos);
  EXPECT_EQ((*doc)[5]["reason"].text, "No such file or directory");

  // Every file readable and loadable: 0, and the array is complete.
  ToolRun ok = run({"--json", image_path("ordinary_pie")});
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_TRUE(parse_json(ok.out, nullptr));
}

}  // namespace
}  // namespace tp::inspect

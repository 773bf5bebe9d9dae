// tp-run: runs a program in a Threadprocs space and stands in for it: same
// stdio, argv, environment and cwd; signals forwarded; it ends exactly as the
// program ended. It never writes to stdout.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "common/errno_text.h"
#include "common/size_parse.h"
#include "host/runtime_dir.h"
#include "launcher/exit_like.h"
#include "launcher/launcher_state.h"
#include "launcher/private_link.h"
#include "launcher/program_link.h"
#include "launcher/remote_link.h"
#include "launcher/resolve.h"
#include "launcher/space_client.h"
#include "protocol/channel.h"
#include "space/space.h"
#include "space/space_allocator.h"

extern char** environ;

namespace tp {
namespace {

struct Options {
  std::string space;
  bool verbose = false;
  bool keep = false;
  bool private_heap = false;
  uint32_t slots = 0;
  std::string slot_size;
  std::vector<std::string> command;
};

[[noreturn]] void fail(const Error& e) {
  fprintf(stderr, "tp-run: %s\n", e.message.c_str());
  std::exit(int(e.code));
}

std::vector<std::string> environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  return env;
}

Result<ArenaConfig> arena_config(const Options& o) {
  ArenaConfig config = default_arena_config();
  if (o.slots) config.slot_count = o.slots;
  if (!o.slot_size.empty()) {
    TP_ASSIGN_OR_RETURN(config.slot_size, parse_size(o.slot_size, "--slot-size"));
  }
  TP_TRY(validate_arena_config(config));
  return config;
}

Result<ExitStatus> run_private(const Options& o, const LauncherState& state, ResolvedProgram program) {
  TP_ASSIGN_OR_RETURN(ArenaConfig config, arena_config(o));
  if (o.keep) return make_error("--keep needs --space: a private space ends with its program");
  SpaceOptions options;
  TP_ASSIGN_OR_RETURN(options.allocator_preload, locate_space_allocator(own_directory()));
  TP_ASSIGN_OR_RETURN(std::unique_ptr<Space> space, Space::create("private", config, options));
  LaunchSpec spec;
  spec.image_fd = program.image_fd.get();
  spec.exec_path = program.exec_path;
  spec.argv = std::move(program.argv);
  spec.env = environment();
  spec.private_heap = o.private_heap;
  apply_launcher_state(state, spec);
  TP_ASSIGN_OR_RETURN(LaunchedProgram launched, space->launch(spec));
  program.image_fd.reset();
  if (o.verbose)
    fprintf(stderr, "tp-run: %s runs as pid %d in slot %u of a private space\n", spec.exec_path.c_str(),
            launched.pid, launched.slot);
  PrivateLink link(*space, std::move(launched));
  return relay_until_exit(link, state.ignored);
}

Result<ExitStatus> run_in_space(const Options& o, const LauncherState& state, ResolvedProgram program) {
  std::vector<std::string> start_args;
  if (o.slots) start_args.insert(start_args.end(), {"--slots", std::to_string(o.slots)});
  if (!o.slot_size.empty()) start_args.insert(start_args.end(), {"--slot-size", o.slot_size});
  SpaceAddress addr{o.space, runtime_dir()};
  TP_ASSIGN_OR_RETURN(UniqueFd sock, connect_or_start_space(addr, own_directory() + "/tp-space", start_args));

  UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cwd.valid()) return make_error("cannot open the current directory: " + errno_text(errno));
  proto::LaunchRequest req;
  req.flags = (o.verbose ? proto::LaunchRequest::kVerbose : 0) | (o.keep ? proto::LaunchRequest::kKeepSlot : 0) |
              (o.private_heap ? proto::LaunchRequest::kPrivateHeap : 0);
  req.exec_path = program.exec_path;
  req.argv = std::move(program.argv);
  req.env = environment();
  req.sigmask = state.blocked;
  req.ignored = state.ignored;
  req.umask = state.umask;
  for (const auto& r : state.rlimits) req.rlimits.push_back({r.resource, r.cur, r.max});
  std::vector<int> fds{program.image_fd.get(), cwd.get()};
  for (int fd = 0; fd < 3; ++fd) {
    if (!state.stdio_open[fd]) continue;
    req.stdio_mask |= 1u << fd;
    fds.push_back(fd);
  }
  TP_TRY(proto::send_message(sock.get(), req, fds));
  program.image_fd.reset();

  proto::MessageAssembler assembler;
  bool eof = false;
  TP_ASSIGN_OR_RETURN(std::optional<proto::Received> reply, proto::recv_message(sock.get(), assembler, &eof));
  if (!reply) return make_error("space " + o.space + ": the host closed the connection without an answer");
  if (const auto* err = std::get_if<proto::ErrorReply>(&reply->msg))
    return make_error(err->message, ExitCode(err->exit_code));
  const auto* started = std::get_if<proto::Started>(&reply->msg);
  if (!started || reply->fds.size() != 1)
    return make_error("space " + o.space + ": unexpected answer to a launch request");
  if (o.verbose)
    fprintf(stderr, "tp-run: %s runs as pid %u in slot %u of space %s\n", req.exec_path.c_str(), started->pid,
            started->slot, o.space.c_str());
  RemoteLink link(o.space, std::move(sock), std::move(reply->fds[0]), pid_t(started->pid));
  return relay_until_exit(link, state.ignored);
}

int run(int argc, char** argv) {
  LauncherState state = capture_launcher_state();
  Options o;
  CLI::App app{"Run PROGRAM in a Threadprocs space, exactly as the shell would run it.\n"
               "Without --space, tp-run hosts a private space of its own.",
               "tp-run"};
  app.set_version_flag("--version", std::string("tp-run ") + TP_VERSION);
  app.add_option("--space", o.space, "Join the named space NAME (started in the background if needed)")
      ->option_text("NAME");
  app.add_flag("-v,--verbose", o.verbose, "Diagnostics on stderr");
  app.add_flag("--keep", o.keep,
               "Keep the program's memory after it exits, until 'tp-space release NAME SLOT' (named spaces)");
  app.add_flag("--private-heap", o.private_heap,
               "Do not give the program the space's shared allocator (its own malloc; no cross-program free)");
  app.add_option("--slots", o.slots, "Slots in a space this command creates")->option_text("N");
  app.add_option("--slot-size", o.slot_size, "Slot size in a space this command creates (e.g. 16G)")
      ->option_text("SIZE");
  app.prefix_command();
  app.footer("Usage: tp-run [OPTIONS] [--] PROGRAM [ARGS...]\n"
             "Exit status: the program's; 125 space or runtime failure, 126 not runnable, 127 not found.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fprintf(stderr, "tp-run: %s\nRun 'tp-run --help' for usage.\n", e.what());
    return int(ExitCode::kRuntime);
  }
  o.command = app.remaining();
  if (!o.command.empty() && o.command.front() == "--") o.command.erase(o.command.begin());
  if (o.command.empty()) fail(make_error("no PROGRAM given; usage: tp-run [OPTIONS] [--] PROGRAM [ARGS...]"));

  auto program = resolve_program(o.command.front(), o.command, getenv("PATH"));
  if (!program.ok()) fail(program.error());
  // Blocked before the launch so that no signal is lost in between; the
  // program gets the original mask.
  block_relayed_signals(state.ignored);
  auto status = o.space.empty() ? run_private(o, state, std::move(program).value())
                                : run_in_space(o, state, std::move(program).value());
  if (!status.ok()) fail(status.error());
  exit_like(*status);
}

}  // namespace
}  // namespace tp

int main(int argc, char** argv) { return tp::run(argc, argv); }

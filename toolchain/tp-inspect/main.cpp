// tp-inspect: says what each file is to Threadprocs (slot-aware image, ordinary
// PIE, static-PIE, ET_EXEC, or not loadable and why), with the TPRC note and
// the exports of slot-aware images. Reports go to stdout, errors to stderr.
//
// Exit status: 0 every file is a loadable image; 1 some file is not loadable;
// 2 a usage error or a file that could not be read.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "format.h"
#include "inspect.h"

namespace {

bool write_all(const std::string& s) {
  return std::fwrite(s.data(), 1, s.size(), stdout) == s.size();
}

int run(int argc, char** argv) {
  CLI::App app{
      "tp-inspect: what each FILE is to Threadprocs: a slot-aware image (with its TPRC note\n"
      "and exports), an ordinary PIE, a static-PIE, an ET_EXEC, or not loadable and why.\n"
      "Exit status: 0 all loadable, 1 some file not loadable, 2 usage error or unreadable file.",
      "tp-inspect"};
  bool json = false;
  std::vector<std::string> files;
  app.add_flag("--json", json, "Print one JSON array with an object per file");
  app.add_option("FILE", files, "ELF files to inspect")->required();
  app.set_version_flag("--version", TP_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "tp-inspect: %s\nRun with --help for more information.\n", e.what());
    return 2;
  }

  std::vector<tp::inspect::Inspection> results;
  bool unreadable = false, not_loadable = false, write_failed = false, printed = false;
  for (const std::string& file : files) {
    tp::inspect::Inspection result = tp::inspect::inspect_file(file);
    if (const auto* error = std::get_if<tp::inspect::FileError>(&result)) {
      unreadable = true;
      std::fflush(stdout);  // keep stdout and stderr in file order on a terminal
      std::fprintf(stderr, "tp-inspect: %s: cannot read: %s\n", error->file.c_str(),
                   error->message.c_str());
    } else {
      const auto& report = std::get<tp::inspect::Report>(result);
      not_loadable |= !report.loadable();
      if (!json) {
        write_failed |= !write_all((printed ? "\n" : "") + tp::inspect::format_text(report));
        printed = true;
      }
    }
    results.push_back(std::move(result));
  }
  if (json) write_failed |= !write_all(tp::inspect::format_json(results));
  if (std::fflush(stdout) != 0 || write_failed) {
    std::fprintf(stderr, "tp-inspect: cannot write the report to stdout\n");
    return 2;
  }
  if (unreadable) return 2;
  return not_loadable ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }

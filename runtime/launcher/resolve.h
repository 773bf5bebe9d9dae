// Finds what to run the way execvp(3) and execve(2) would: a PATH search for
// a bare name, `#!` interpreters , and
// /bin/sh for a text file with no `#!` (execvp's ENOEXEC fallback).
// `#!` chains: 5 levels, as Linux 6.x allows.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace tp {

struct ResolvedProgram {
  UniqueFd image_fd;                // the ELF file to load (the interpreter, for a script)
  std::string exec_path;            // what execve was given: AT_EXECFN, the program's comm
  std::vector<std::string> argv;    // after `#!` rewriting
};

// `path_env` is $PATH (nullptr: unset). Refusals name the program and carry
// ExitCode::kNotFound (127) or kNotExecutable (126).
Result<ResolvedProgram> resolve_program(const std::string& program, std::vector<std::string> argv,
                                        const char* path_env);

// The `#!` line of a script, parsed as the kernel does: one interpreter and at
// most one argument (everything after it on the line, trimmed).
struct Shebang {
  std::string interpreter;
  std::string argument;  // empty: none
  bool has_argument = false;
};
// `head` is the first bytes of the file (the kernel reads 256). Fails when
// the line does not end within them or names no interpreter.
Result<Shebang> parse_shebang(const std::string& file, std::string_view head);

}  // namespace tp

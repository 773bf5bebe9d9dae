// Conformance: Debian's own binaries run as threadprocs and do real work on real input (made
// here, in the test's temp dir): bash, dash, perl, sqlite3, gzip, xz, sort, sha256sum, find,
// tar, jq, bc, git and make. Each tool's steps run natively, then through tp-run in a
// private space, then in a named space, each time in a freshly made directory at the same
// path with the same inputs; stdout bytes, stderr and exit statuses must be identical.
// A few facts about the native results are checked too (pi's digits, the gzip round trip,
// sqlite's row count...), so that agreeing on nothing cannot pass.
//
// The packages come from scripts/deps.sh; a tool still missing makes its test skip.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <sstream>

#include "fixture.h"

namespace tpit {
namespace {

// A deterministic generator for the inputs (the same bytes in every run of the test).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint32_t next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state_ >> 33);
  }
  uint32_t below(uint32_t n) { return next() % n; }

 private:
  uint64_t state_;
};

const char* const kWords[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "zeta",  "eta",
                              "theta", "iota",  "kappa", "lambda", "mu",     "nu",    "xi",
                              "omicron", "pi",  "rho",   "sigma", "tau",     "upsilon"};
constexpr uint32_t kWordCount = sizeof kWords / sizeof kWords[0];

// `lines` lines of words and numbers, about 50 bytes each.
std::string text(uint64_t seed, int lines) {
  Lcg random(seed);
  std::string out;
  for (int i = 0; i < lines; ++i) {
    for (int w = 0; w < 6; ++w) {
      out += kWords[random.below(kWordCount)];
      out += ' ';
    }
    out += std::to_string(random.below(100000)) + "\n";
  }
  return out;
}

void write_in(const std::string& dir, const std::string& name, std::string_view data,
              mode_t mode = 0644) {
  const size_t slash = name.rfind('/');
  if (slash != std::string::npos) {
    std::string sub;
    std::istringstream parts(name.substr(0, slash));
    for (std::string part; std::getline(parts, part, '/');) {
      sub += "/" + part;
      mkdir((dir + sub).c_str(), 0755);
    }
  }
  write_file(dir + "/" + name, data, mode);
}

// One command of a tool's session; or, with `action`, something the test does between
// commands (the same in every run).
struct Step {
  std::vector<std::string> argv;
  std::string stdin_data;
  std::string cwd;  // relative to the run's directory
  std::function<void(const std::string& dir)> action;
};

struct Tool {
  std::string name;
  std::string binary;                                  // looked up in PATH; missing: skip
  std::function<void(const std::string& dir)> prepare; // writes the inputs
  std::vector<Step> steps;
  // Facts about the native results (stdout of each command step, in order) and the run dir.
  std::function<void(const std::vector<Result>& native, const std::string& dir)> check;
};

Step cmd(std::vector<std::string> argv, std::string stdin_data = "", std::string cwd = "") {
  return Step{std::move(argv), std::move(stdin_data), std::move(cwd), nullptr};
}
Step act(std::function<void(const std::string& dir)> action) {
  return Step{{}, "", "", std::move(action)};
}


// --- The tools --------------------------------------------------------------------------------

Tool bash_tool() {
  const std::string script = R"BASH(set -uo pipefail
declare -A count
words=(alpha beta gamma delta alpha beta alpha)
for w in "${words[@]}"; do count[$w]=$(( ${count[$w]:-0} + 1 )); done
for k in $(printf '%s\n' "${!count[@]}" | sort); do echo "$k=${count[$k]}"; done
total=0
for ((i = 1; i <= 20000; i++)); do (( total += i * i % 7 )); done
echo "total=$total"
( cd /; echo "subshell in $PWD" ); echo "back in ${PWD##*/}"
fact() { local n=$1; if (( n <= 1 )); then echo 1; else echo $(( n * $(fact $((n - 1))) )); fi; }
echo "fact=$(fact 15)"
while read -r line; do printf '%s|' "${line^^}"; done <<< $'one\ntwo\nthree'; echo
printf '%s\n' {a..e}{1..3} | paste -sd, -
mapfile -t lines < input.txt
echo "lines=${#lines[@]} first=${lines[0]%% *}"
grep -c alpha input.txt | { read -r n; echo "alpha lines: $n"; }
sorted=$(sort -t' ' -k7,7n input.txt | tail -n 1); echo "largest: ${sorted##* }"
exec 3> out.txt; echo "to fd 3" >&3; exec 3>&-; cat out.txt
read -r got < <(echo "process substitution" | tr a-z A-Z); echo "$got"
trap 'echo "trapped EXIT"' EXIT
false | true; echo "pipeline status: $? (${PIPESTATUS[*]})"
exit 7
)BASH";
  return Tool{"bash", "bash",
              [=](const std::string& dir) {
                write_in(dir, "script.bash", script);
                write_in(dir, "input.txt", text(1, 3000));
              },
              {cmd({"bash", "script.bash"}), cmd({"bash", "-c", "echo $((6 * 7)); exit 3"}),
               cmd({"bash", "-c", "no_such_command_here"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_TRUE(exited_with(native[0], 7)) << describe(native[0]);
                EXPECT_NE(native[0].out.find("alpha=3\n"), std::string::npos);
                EXPECT_NE(native[0].out.find("fact=1307674368000\n"), std::string::npos);
                EXPECT_NE(native[0].out.find("lines=3000"), std::string::npos);
                EXPECT_NE(native[0].out.find("PROCESS SUBSTITUTION\n"), std::string::npos);
                EXPECT_TRUE(exited_with(native[2], 127)) << describe(native[2]);
              }};
}

Tool dash_tool() {
  const std::string script = R"SH(set -u
count_words() {
  tr -s ' ' '\n' < "$1" | grep -v '^[0-9]*$' | sort | uniq -c | sort -k1,1nr -k2,2 | head -n 5
}
count_words input.txt
i=0; sum=0
while [ $i -lt 5000 ]; do sum=$((sum + i % 13)); i=$((i + 1)); done
echo "sum=$sum"
for f in one two three; do
  case $f in
    t*) echo "$f starts with t" ;;
    *) echo "$f does not" ;;
  esac
done
set -- a "b c" d; echo "args=$# second=$2"
v=$(echo outer $(echo inner)); echo "$v"
(exit 4); echo "subshell exit: $?"
cat <<EOF | wc -l
line 1
line 2
line $((1 + 2))
EOF
exit 3
)SH";
  return Tool{"dash", "dash",
              [=](const std::string& dir) {
                write_in(dir, "script.sh", script);
                write_in(dir, "input.txt", text(2, 5000));
              },
              {cmd({"dash", "script.sh"}), cmd({"dash", "-c", "echo ${x:-default}; exit 0"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_TRUE(exited_with(native[0], 3)) << describe(native[0]);
                EXPECT_NE(native[0].out.find("args=3 second=b c\n"), std::string::npos);
                EXPECT_NE(native[0].out.find("subshell exit: 4\n"), std::string::npos);
              }};
}

Tool perl_tool() {
  const std::string counts =
      "chomp; $c{lc $_}++ for grep { /^[a-z]+$/ } split /\\s+/;"
      " END { printf \"%s %d\\n\", $_, $c{$_} for sort { $c{$b} <=> $c{$a} || $a cmp $b } keys %c }";
  const std::string rewrite = "s/(\\d+)/$1 * 2/ge; s/\\b(\\w)(\\w*)/\\U$1\\E$2/g";
  return Tool{"perl", "perl",
              [](const std::string& dir) { write_in(dir, "input.txt", text(3, 20000)); },
              {cmd({"perl", "-ne", counts, "input.txt"}),
               cmd({"perl", "-pe", rewrite, "input.txt"}),
               cmd({"perl", "-MList::Util=sum,max,first", "-MJSON::PP", "-e",
                    "my @n = map { $_ * $_ } 1 .. 1000; print sum(@n), ' ', max(@n), ' ',"
                    " (first { $_ > 5000 } @n), \"\\n\"; print JSON::PP->new->canonical->encode("
                    "{list => [1, 2, {b => 'c'}], n => scalar @n}), \"\\n\"; exit 5"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_TRUE(exited_with(native[0], 0)) << describe(native[0]);
                EXPECT_GT(std::count(native[0].out.begin(), native[0].out.end(), '\n'), 10);
                EXPECT_TRUE(exited_with(native[2], 5)) << describe(native[2]);
                EXPECT_EQ(native[2].out, "333833500 1000000 5041\n{\"list\":[1,2,{\"b\":\"c\"}],\"n\":1000}\n");
              }};
}

Tool sqlite_tool() {
  std::string sql =
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER, val REAL);\n"
      "BEGIN;\n";
  Lcg random(4);
  for (int i = 1; i <= 10000; ++i) {
    sql += "INSERT INTO t(name, grp, val) VALUES ('" + std::string(kWords[random.below(kWordCount)]) +
           "-" + std::to_string(i) + "', " + std::to_string(random.below(17)) + ", " +
           std::to_string(random.below(100000) / 100.0) + ");\n";
  }
  sql += "COMMIT;\n"
         "CREATE INDEX t_grp ON t(grp);\n"
         "SELECT count(*), round(sum(val), 2) FROM t;\n"
         "SELECT grp, count(*), round(avg(val), 3), max(name) FROM t GROUP BY grp ORDER BY grp;\n"
         "SELECT name, val FROM t WHERE val > 990 ORDER BY val DESC, id LIMIT 5;\n"
         "WITH RECURSIVE fib(a, b, n) AS (SELECT 0, 1, 0 UNION ALL SELECT b, a + b, n + 1 FROM fib "
         "WHERE n < 60) SELECT max(a) FROM fib;\n"
         "UPDATE t SET val = val * 2 WHERE grp = 3;\n"
         "DELETE FROM t WHERE id % 10 = 0;\n"
         "SELECT changes(), total_changes();\n";
  return Tool{"sqlite3", "sqlite3",
              [=](const std::string& dir) { write_in(dir, "script.sql", sql); },
              {cmd({"sqlite3", "-batch", "db.sqlite"}, sql),
               cmd({"sqlite3", "-batch", "db.sqlite",
                    "PRAGMA integrity_check; SELECT count(*), round(sum(val), 2) FROM t;"}),
               cmd({"sqlite3", "-batch", "-csv", "-header", "db.sqlite",
                    "SELECT grp, count(*) AS n FROM t GROUP BY grp ORDER BY n DESC, grp LIMIT 3;"}),
               cmd({"sqlite3", "-batch", "db.sqlite", "SELECT * FROM no_such_table;"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_TRUE(exited_with(native[0], 0)) << describe(native[0]);
                EXPECT_EQ(native[0].out.substr(0, 6), "10000|") << native[0].out.substr(0, 200);
                EXPECT_EQ(native[1].out.substr(0, 8), "ok\n9000|") << native[1].out;
                EXPECT_TRUE(exited_with(native[3], 1)) << describe(native[3]);
              }};
}

Tool gzip_tool() {
  return Tool{"gzip", "gzip",
              [](const std::string& dir) { write_in(dir, "data.txt", text(5, 60000)); },
              {cmd({"gzip", "-9", "-n", "-c", "data.txt"}), cmd({"gzip", "-n", "-k", "data.txt"}),
               cmd({"gzip", "-t", "-v", "data.txt.gz"}), cmd({"gzip", "-d", "-c", "data.txt.gz"}),
               cmd({"gzip", "-l", "data.txt.gz"}), cmd({"gzip", "-c", "-1", "-n"}, text(6, 20000)),
               cmd({"gzip", "-d", "-c", "missing.gz"})},
              [](const std::vector<Result>& native, const std::string& dir) {
                EXPECT_EQ(native[3].out, read_file(dir + "/data.txt")) << "the round trip lost bytes";
                EXPECT_LT(native[0].out.size(), read_file(dir + "/data.txt").size() / 3);
                EXPECT_TRUE(exited_with(native[6], 1)) << describe(native[6]);
              }};
}

Tool xz_tool() {
  return Tool{"xz", "xz",
              [](const std::string& dir) { write_in(dir, "data.txt", text(7, 40000)); },
              {cmd({"xz", "-T1", "-6", "-c", "data.txt"}), cmd({"xz", "-T1", "-k", "data.txt"}),
               cmd({"xz", "-t", "data.txt.xz"}), cmd({"xz", "-d", "-c", "data.txt.xz"}),
               cmd({"xz", "-l", "data.txt.xz"}), cmd({"xz", "-T2", "-c", "-3"}, text(8, 20000)),
               cmd({"xz", "-d", "-c"}, "not xz data")},
              [](const std::vector<Result>& native, const std::string& dir) {
                EXPECT_EQ(native[3].out, read_file(dir + "/data.txt")) << "the round trip lost bytes";
                EXPECT_TRUE(exited_with(native[6], 1)) << describe(native[6]);
              }};
}

Tool sort_tool() {
  return Tool{"sort", "sort",
              [](const std::string& dir) {
                Lcg random(9);
                std::string lines;
                for (int i = 0; i < 100000; ++i)
                  lines += std::string(kWords[random.below(kWordCount)]) + "-" +
                           std::to_string(random.below(1000)) + " " +
                           std::to_string(random.below(1000000)) + " " +
                           kWords[random.below(kWordCount)] + "\n";
                write_in(dir, "lines.txt", lines);
              },
              {cmd({"sort", "-k2,2n", "-k1,1", "lines.txt"}),
               cmd({"sort", "-u", "-t", " ", "-k3,3", "lines.txt"}),
               cmd({"sort", "-r", "-S", "1M", "--parallel=2", "lines.txt"}),
               cmd({"sort", "-c", "lines.txt"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_EQ(std::count(native[0].out.begin(), native[0].out.end(), '\n'), 100000);
                EXPECT_EQ(std::count(native[1].out.begin(), native[1].out.end(), '\n'), kWordCount);
                EXPECT_TRUE(exited_with(native[3], 1)) << describe(native[3]);
              }};
}

Tool sha256sum_tool() {
  return Tool{"sha256sum", "sha256sum",
              [](const std::string& dir) {
                write_in(dir, "a.txt", text(10, 50000));
                write_in(dir, "b.bin", text(11, 1000));
                write_in(dir, "empty", "");
              },
              {cmd({"sha256sum", "a.txt", "b.bin", "empty"}),
               cmd({"sha256sum", "--tag", "a.txt"}), cmd({"sha256sum", "-"}, text(12, 20000)),
               cmd({"sha256sum", "a.txt", "missing"}),
               cmd({"sha256sum", "-c"},
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n"
                   "0000000000000000000000000000000000000000000000000000000000000000  b.bin\n")},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_NE(native[0].out.find(
                              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n"),
                          std::string::npos)
                    << native[0].out;
                EXPECT_TRUE(exited_with(native[3], 1)) << describe(native[3]);
                EXPECT_EQ(native[4].out, "empty: OK\nb.bin: FAILED\n");
              }};
}

// A tree of files for find and tar: nested dirs, sizes 0 to 8 KiB, a few names each.
void write_tree(const std::string& dir) {
  Lcg random(13);
  for (int d = 0; d < 6; ++d) {
    for (int s = 0; s < 4; ++s) {
      const std::string sub = "tree/d" + std::to_string(d) + "/s" + std::to_string(s);
      for (int f = 0; f < 6; ++f) {
        const char* ext = f % 3 == 0 ? ".txt" : f % 3 == 1 ? ".dat" : ".log";
        const size_t size = random.below(8192);
        std::string data;
        while (data.size() < size)
          data += kWords[random.below(kWordCount)] + std::string(" ");
        data.resize(f == 5 ? 0 : size);
        write_in(dir, sub + "/f" + std::to_string(f) + ext, data);
      }
    }
    mkdir((dir + "/tree/d" + std::to_string(d) + "/empty").c_str(), 0755);
  }
}

Tool find_tool() {
  return Tool{"find", "find", write_tree,
              {cmd({"find", "tree", "-type", "f", "-name", "*.txt", "-size", "+2k", "-printf",
                    "%p %s %d\n"}),
               cmd({"find", "tree", "-mindepth", "2", "-type", "d", "-printf", "%d %P\n"}),
               cmd({"find", "tree", "(", "-name", "f1*", "-o", "-empty", ")", "-print"}),
               cmd({"find", "tree/d2", "-name", "*.dat", "-exec", "wc", "-c", "{}", "+"}),
               cmd({"find", "tree", "-path", "*/s3", "-prune", "-o", "-name", "*.log", "-size",
                    "-4k", "-print0"}),
               cmd({"find", "tree", "-no-such-predicate"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_GT(std::count(native[0].out.begin(), native[0].out.end(), '\n'), 5);
                EXPECT_TRUE(exited_with(native[5], 1)) << describe(native[5]);
              }};
}

Tool tar_tool() {
  const std::vector<std::string> fixed{"--sort=name", "--mtime=@0", "--owner=0", "--group=0",
                                       "--numeric-owner", "--mode=go-w"};
  auto with = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), fixed.begin(), fixed.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  return Tool{"tar", "tar",
              [](const std::string& dir) {
                write_tree(dir);
                mkdir((dir + "/out").c_str(), 0755);
              },
              {cmd(with({"tar", "-cf", "-"}, {"tree"})),
               cmd(with({"tar", "-czf", "-"}, {"tree"})),  // gzip, run by tar
               cmd(with({"tar", "-cf", "archive.tar"}, {"tree"})),
               cmd({"tar", "-tvf", "archive.tar"}),
               cmd({"tar", "-xf", "archive.tar", "-C", "out"}),
               cmd({"tar", "-xOf", "archive.tar", "tree/d1/s2/f0.txt"}),
               cmd({"tar", "-tf", "archive.tar", "tree/no-such-member"})},
              [](const std::vector<Result>& native, const std::string& dir) {
                EXPECT_EQ(native[0].out, read_file(dir + "/archive.tar"));
                EXPECT_EQ(native[5].out, read_file(dir + "/tree/d1/s2/f0.txt"));
                EXPECT_EQ(read_file(dir + "/out/tree/d4/s1/f2.log"),
                          read_file(dir + "/tree/d4/s1/f2.log"));
                EXPECT_TRUE(exited_with(native[6], 2)) << describe(native[6]);
              }};
}

Tool jq_tool() {
  return Tool{"jq", "jq",
              [](const std::string& dir) {
                Lcg random(14);
                std::string json = "[";
                for (int i = 0; i < 5000; ++i) {
                  json += std::string(i ? ",\n" : "") + "{\"id\": " + std::to_string(i) +
                          ", \"name\": \"" + kWords[random.below(kWordCount)] + "\", \"n\": " +
                          std::to_string(random.below(1000)) + ", \"g\": \"g" +
                          std::to_string(random.below(7)) + "\", \"tags\": [\"" +
                          kWords[random.below(kWordCount)] + "\", \"x\"]}";
                }
                write_in(dir, "data.json", json + "]\n");
              },
              {cmd({"jq", "-c", "[.[] | select(.n % 7 == 0) | {id, sq: (.n * .n)}] | length, .[0:2]",
                    "data.json"}),
               cmd({"jq", "-S", ".[0:3]", "data.json"}),
               cmd({"jq", "-r", ".[] | \"\\(.id)\\t\\(.name)\\t\\(.tags | join(\",\"))\"", "data.json"}),
               cmd({"jq", "map(.n) | add, (group_by(.g) | map({g: .[0].g, c: length, max: "
                                 "(map(.n) | max)}))",
                    "data.json"}),
               cmd({"jq", "-c", ".a | map(. * 2) | {sum: add, reversed: reverse}"},
                   "{\"a\": [1, 2, 3.5, -4]}"),
               cmd({"jq", ".["}, "{}"), cmd({"jq", "-e", ".missing"}, "{}")},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_EQ(std::count(native[2].out.begin(), native[2].out.end(), '\n'), 5000);
                EXPECT_EQ(native[4].out, "{\"sum\":5,\"reversed\":[-8,7,4,2]}\n");
                EXPECT_TRUE(exited_with(native[5], 3)) << describe(native[5]);
                EXPECT_TRUE(exited_with(native[6], 1)) << describe(native[6]);
              }};
}

Tool bc_tool() {
  return Tool{"bc", "bc", nullptr,
              {cmd({"bc", "-l"}, "scale = 1000\n4 * a(1)\n"),
               cmd({"bc"},
                   "define f(n) { if (n < 2) return n; return f(n - 1) + f(n - 2); }\n"
                   "f(20)\n2 ^ 1000\nsqrt(2)\nscale = 50; sqrt(2)\nobase = 16; 255\n"),
               cmd({"bc", "-l"}, "e(1)\nl(10)\ns(1) ^ 2 + c(1) ^ 2\n1 / 0\n")},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_EQ(native[0].out.rfind("3.14159265358979323846264338327950288419716939937510", 0), 0u)
                    << native[0].out.substr(0, 80);
                EXPECT_GT(native[0].out.size(), 1000u);
                EXPECT_EQ(native[1].out.rfind("6765\n10715086071862673209484250490600018105614048117055", 0), 0u)
                    << native[1].out.substr(0, 80);
              }};
}

Tool git_tool() {
  return Tool{"git", "git",
              [](const std::string& dir) {
                mkdir((dir + "/home").c_str(), 0755);
                write_in(dir, "repo/README", "A repository made by the conformance test.\n");
                write_in(dir, "repo/src/data.txt", text(15, 2000));
                write_in(dir, "repo/src/more.txt", text(16, 500));
              },
              {cmd({"git", "-c", "init.defaultBranch=main", "init", "-q", "repo"}),
               cmd({"git", "-C", "repo", "add", "."}),
               cmd({"git", "-C", "repo", "commit", "-q", "-m", "first commit"}),
               cmd({"git", "-C", "repo", "log", "--format=%H %an <%ae> %ad%n%s"}),
               cmd({"git", "-C", "repo", "ls-tree", "-r", "HEAD"}),
               act([](const std::string& dir) {
                 write_in(dir, "repo/src/more.txt", text(17, 600));
                 write_in(dir, "repo/new.txt", "new\n");
               }),
               cmd({"git", "-C", "repo", "status", "--porcelain"}),
               cmd({"git", "-C", "repo", "diff", "--stat"}),
               cmd({"git", "-C", "repo", "add", "-A"}),
               cmd({"git", "-C", "repo", "commit", "-q", "-m", "second commit"}),
               cmd({"git", "-C", "repo", "log", "--oneline", "--stat"}),
               cmd({"git", "-C", "repo", "cat-file", "-p", "HEAD"}),
               cmd({"git", "-C", "repo", "gc", "-q"}),  // pack-objects, repack... as children
               cmd({"git", "-C", "repo", "fsck", "--full"}),
               cmd({"git", "-C", "repo", "rev-list", "--count", "--all"}),
               cmd({"git", "-C", "repo", "show", "no-such-revision"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_TRUE(native[3].out.size() > 41 && native[3].out.ends_with("\nfirst commit\n"))
                    << native[3].out;
                EXPECT_EQ(native[13].out, "2\n");
                EXPECT_TRUE(exited_with(native[14], 128)) << describe(native[14]);
              }};
}

Tool make_tool() {
  const std::string makefile = R"MAKE(SRCS := $(sort $(wildcard src/*.in))
OUTS := $(SRCS:src/%.in=build/%.out)
all: build/summary.txt
build/%.out: src/%.in | build
	@tr a-z A-Z < $< > $@
	@echo "built $@"
build:
	@mkdir -p $@
build/summary.txt: $(OUTS)
	@cat $^ | wc -l > $@
	@echo "summary: $$(cat $@) lines from $(words $^) files"
.PHONY: all clean show
show:
	@echo "$(OUTS)"
	@echo $(shell echo computed-$$((6 * 7)))
	@echo "$(patsubst build/%.out,%,$(OUTS))" | tr ' ' '\n' | sort -r | head -n 3
clean:
	rm -rf build
)MAKE";
  return Tool{"make", "make",
              [=](const std::string& dir) {
                write_in(dir, "Makefile", makefile);
                for (int i = 0; i < 8; ++i)
                  write_in(dir, "src/part" + std::to_string(i) + ".in", text(20 + i, 100 + i * 10));
              },
              {cmd({"make"}), cmd({"make"}), cmd({"make", "show"}),
               act([](const std::string& dir) {
                 write_in(dir, "src/part3.in", text(99, 10));
               }),
               cmd({"make"}), cmd({"make", "clean"}), cmd({"make", "no-such-target"})},
              [](const std::vector<Result>& native, const std::string&) {
                EXPECT_NE(native[0].out.find("summary: 1080 lines from 8 files"), std::string::npos)
                    << native[0].out;
                EXPECT_EQ(native[1].out, "make: Nothing to be done for 'all'.\n");
                EXPECT_NE(native[3].out.find("built build/part3.out\nsummary: 960 lines"),
                          std::string::npos)
                    << native[3].out;
                EXPECT_TRUE(exited_with(native[5], 2)) << describe(native[5]);
              }};
}

std::vector<Tool> all_tools() {
  return {bash_tool(), dash_tool(), perl_tool(), sqlite_tool(), gzip_tool(),
          xz_tool(),   sort_tool(), sha256sum_tool(), find_tool(), tar_tool(),
          jq_tool(),   bc_tool(),   git_tool(),  make_tool()};
}

// --- The test ---------------------------------------------------------------------------------

enum class Mode { Native, Private, Named };
const char* mode_name(Mode mode) {
  return mode == Mode::Native ? "native" : mode == Mode::Private ? "private space" : "named space";
}

class Conformance : public TpTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // Runs every step of `tool` in `mode`, in a fresh `dir`; returns the command results.
  std::vector<Result> run_session(const Tool& tool, Mode mode, const std::string& dir) {
    remove_tree(dir);
    EXPECT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
    if (tool.prepare)
      tool.prepare(dir);
    std::vector<Result> results;
    for (const Step& step : tool.steps) {
      if (step.action) {
        step.action(dir);
        continue;
      }
      std::vector<std::string> argv = step.argv;
      if (mode == Mode::Private)
        argv = launch(argv);
      else if (mode == Mode::Named)
        argv = launch_in("conform", argv);
      Command command = this->command(argv);
      command.cwd = step.cwd.empty() ? dir : dir + "/" + step.cwd;
      command.stdin_data = step.stdin_data;
      command.timeout = 120s;
      // The same environment everywhere; fixed where tools read the clock, the locale or
      // a user's configuration.
      std::erase_if(command.env, [](const std::string& entry) {
        return entry.rfind("HOME=", 0) == 0 || entry.rfind("LC_", 0) == 0 ||
               entry.rfind("LANG=", 0) == 0 || entry.rfind("TZ=", 0) == 0 ||
               entry.rfind("GIT_", 0) == 0 || entry.rfind("MAKEFLAGS=", 0) == 0 ||
               entry.rfind("MFLAGS=", 0) == 0 || entry.rfind("MAKELEVEL=", 0) == 0;
      });
      for (const char* entry :
           {"LC_ALL=C", "TZ=UTC", "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=Conformance Test",
            "GIT_AUTHOR_EMAIL=test@example.org", "GIT_AUTHOR_DATE=2020-01-01T00:00:00Z",
            "GIT_COMMITTER_NAME=Conformance Test", "GIT_COMMITTER_EMAIL=test@example.org",
            "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z"})
        command.env.emplace_back(entry);
      command.env.push_back("HOME=" + dir + "/home");
      results.push_back(tpit::run(command));
    }
    return results;
  }
};

TEST_P(Conformance, SameOutputAndStatusAsNative) {
  std::optional<Tool> found;
  for (auto& tool : all_tools())
    if (tool.name == GetParam())
      found = std::move(tool);
  ASSERT_TRUE(found.has_value()) << GetParam();
  const Tool& tool = *found;
  if (!find_in_path(tool.binary, env_))
    GTEST_SKIP() << tool.binary << " is not installed (scripts/deps.sh installs it)";

  // The same path in every run: outputs that name files or dirs must agree too.
  const std::string dir = work_dir_ + "/" + tool.name;
  const auto started = Clock::now();
  const std::vector<Result> native = run_session(tool, Mode::Native, dir);
  const double native_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_FALSE(HasFailure());
  {
    SCOPED_TRACE("facts about the native run");
    tool.check(native, dir);
  }
  TP_REQUIRE_RUNTIME("compares tp-run with native runs");

  for (const Mode mode : {Mode::Private, Mode::Named}) {
    SCOPED_TRACE(mode_name(mode));
    const auto mode_started = Clock::now();
    const std::vector<Result> results = run_session(tool, mode, dir);
    std::cout << tool.name << ": " << results.size() << " commands, native "
              << native_seconds << " s, " << mode_name(mode) << " "
              << std::chrono::duration<double>(Clock::now() - mode_started).count() << " s\n";
    ASSERT_EQ(results.size(), native.size());
    size_t index = 0;
    for (const Step& step : tool.steps) {
      if (step.action)
        continue;
      const Result& expected = native[index];
      const Result& got = results[index];
      SCOPED_TRACE("command " + std::to_string(index) + ": " + describe_command(step.argv));
      EXPECT_EQ(describe_status(got.status), describe_status(expected.status))
          << "native: " << describe(expected) << "\nthreadproc: " << describe(got);
      EXPECT_TRUE(got.out == expected.out)
          << "stdout differs (" << got.out.size() << " bytes, native " << expected.out.size()
          << ")\nnative: " << describe(expected) << "\nthreadproc: " << describe(got);
      EXPECT_EQ(got.err, expected.err);
      ++index;
    }
    // What the commands left behind is what they left natively (the files checked above).
    SCOPED_TRACE("facts about the run through tp-run");
    tool.check(results, dir);
  }
}

INSTANTIATE_TEST_SUITE_P(DebianTools, Conformance,
                         ::testing::Values("bash", "dash", "perl", "sqlite3", "gzip", "xz", "sort",
                                           "sha256sum", "find", "tar", "jq", "bc", "git", "make"),
                         [](const auto& test_param) { return std::string(test_param.param); });

}  // namespace
}  // namespace tpit

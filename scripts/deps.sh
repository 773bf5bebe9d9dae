#!/usr/bin/env bash
# Installs the Debian 12 packages Threadprocs needs, only those missing.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh --bench  also what the benchmarks need
set -euo pipefail

packages=(cmake make g++ clang lld llvm-dev libcli11-dev libgtest-dev libgmock-dev
          libmimalloc-dev libbenchmark-dev libfuzzer-14-dev libclang-rt-14-dev gdb pkgconf
          # run as threadprocs by tests/integration/conformance_test.cpp; setpriv (util-linux)
          # gives the security tests a second uid
          bash dash perl sqlite3 gzip xz-utils coreutils findutils tar jq bc git util-linux)
# The Rust sample (tests/toolchain/rust) needs Cargo: Debian's, unless rustup's is there.
if ! command -v cargo >/dev/null && [[ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]]; then
  packages+=(cargo)
fi
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libboost-dev gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

#!/usr/bin/env bash
# Install what mcfuzz needs to build and test on Debian 12 (bookworm).
#
# Checks every package with dpkg-query first and calls apt-get only when something
# is missing, so a second run is a no-op that takes a fraction of a second.
# Installing needs root: run as root, or as a user with sudo.
#
# Exit codes: 0 all present (or installed), 2 something is missing and there is no
# way to become root, anything else is apt-get's failure.
set -euo pipefail

packages=(
  clang-14            # compiler; libFuzzer and the sanitizers need clang
  libclang-rt-14-dev  # sanitizer and libFuzzer runtimes
  llvm-14             # llvm-symbolizer-14, llvm-profdata-14, llvm-cov-14
  cmake               # >= 3.25 (presets version 6, workflow presets)
  ninja-build
  libgtest-dev
  googletest
  libabsl-dev
  git
  zip                 # seed corpus zips
  python3
  python3-matplotlib  # bench/: the plot of bench/analyze.py (Debian's /usr/bin/python3)
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != ii* ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: error: packages missing (${missing[*]}) and this script is" \
       "neither running as root nor able to find sudo." >&2
  echo "install-deps: run it as root, or install them yourself:" \
       "apt-get install ${missing[*]}" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed: ${missing[*]}"

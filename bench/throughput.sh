#!/usr/bin/env bash
# The throughput benchmark (bench/README.md): bench/throughput.py with
# Debian's /usr/bin/python3. Options: --seconds S, --asan-dir D, --tsan-dir D,
# --out DIR (default build/bench/throughput). Targets come from the asan and
# tsan preset builds (cmake --preset asan && cmake --build --preset asan).
set -euo pipefail
repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ! -x /usr/bin/python3 ]]; then
  echo "throughput.sh: /usr/bin/python3 not found (ci/install-deps.sh installs it)" >&2
  exit 2
fi
exec /usr/bin/python3 "$repo_root/bench/throughput.py" "$@"

#!/usr/bin/env bash
# The bug-finding benchmark (bench/README.md):
#
#   bash bench/run-bugs.sh [--results DIR] [--note TEXT] [run_bugs.py options]
#   bash bench/run-bugs.sh --quick WORK_DIR MCF_REPRO
#
# Full mode: bench/run_bugs.py (every patch must apply; each variant built in
# a scratch copy of the tree; N trials of T seconds per bug x target x arm),
# then bench/analyze.py writes table.md, table.json, plot.png, trials.jsonl
# and run.json (the command line) into DIR (default bench/results/<UTC date>).
#
# Quick mode (ctest label bench): checks that every patch applies, builds and
# runs one entry (12-intf-link-left-behind, found by the first execution)
# with lifetime_fuzzer for one 30 s trial per arm (structure, bytes), its
# scratch copy under WORK_DIR and signatures from the given mcf-repro,
# requires that every arm detected it with the expected signature, and runs
# the analysis.
#
# Python: Debian's /usr/bin/python3 (matplotlib from python3-matplotlib,
# ci/install-deps.sh), not whatever python3 comes first on PATH.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
py=/usr/bin/python3
if [[ ! -x $py ]]; then
  echo "run-bugs.sh: $py not found (install python3 and python3-matplotlib: ci/install-deps.sh)" >&2
  exit 2
fi

if [[ ${1:-} == --quick ]]; then
  if [[ $# -ne 3 ]]; then
    echo "run-bugs.sh: usage: run-bugs.sh --quick WORK_DIR MCF_REPRO" >&2
    exit 2
  fi
  work=$2
  rm -rf "$work/run" "$work/results"
  "$py" "$repo_root/bench/run_bugs.py" --bugs 12-intf-link-left-behind --arms structure,bytes \
    --targets lifetime_fuzzer --trials 1 --seconds 30 --tree "$work/tree" --out "$work/run" \
    --repro "$3" --require-detection
  exec "$py" "$repo_root/bench/analyze.py" "$work/run" --results "$work/results"
fi

results="$repo_root/bench/results/$(date -u +%Y-%m-%d)"
note=""
args=()
while (($#)); do
  case $1 in
    --results) results=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
out="$repo_root/build/bench/run-$(basename "$results")"
"$py" "$repo_root/bench/run_bugs.py" --out "$out" "${args[@]}"
"$py" "$repo_root/bench/analyze.py" "$out" --results "$results" --note "$note"

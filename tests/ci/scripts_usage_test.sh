#!/usr/bin/env bash
# ctest ci_scripts_usage: each ci/ script of the continuous-fuzzing set
# answers --help (exit 0, usage on stdout) and refuses a bad flag or a bad
# value with exit status 2 and a one-line error, before doing any work.
#   bash tests/ci/scripts_usage_test.sh [REPO_ROOT]
set -uo pipefail
root=${1:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
failures=0
check() {  # expected-status description command...
  local want=$1 what=$2 out err rc
  shift 2
  err=$(mktemp)
  out=$("$@" 2>"$err")
  rc=$?
  local lines
  lines=$(grep -c . "$err")
  if [[ $rc != "$want" ]]; then
    echo "FAIL: $what: exit $rc, want $want; stderr: $(head -3 "$err")"
    failures=$((failures + 1))
  elif [[ $want == 2 && $lines != 1 ]]; then
    echo "FAIL: $what: $lines lines on stderr, want 1: $(cat "$err")"
    failures=$((failures + 1))
  elif [[ $want == 0 && -z $out ]]; then
    echo "FAIL: $what: no usage on stdout"
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
  rm -f "$err"
}
for s in batch-fuzz.sh coverage.sh check-oss-fuzz-build.sh afl-fuzz.sh fault-gain.sh; do
  script=$root/ci/$s
  check 0 "$s --help" bash "$script" --help
  check 2 "$s --no-such-flag" bash "$script" --no-such-flag
done
check 2 "fault-gain.sh --seconds abc" bash "$root/ci/fault-gain.sh" --seconds abc
check 2 "fault-gain.sh --seed" bash "$root/ci/fault-gain.sh" --seed
epc=$root/ci/error-path-coverage.py
check 0 "error-path-coverage.py --help" python3 "$epc" --help
check 2 "error-path-coverage.py --no-such-flag" python3 "$epc" --no-such-flag
check 2 "error-path-coverage.py without --binary" python3 "$epc" --profdata x
check 2 "error-path-coverage.py missing profile" python3 "$epc" --profdata /nonexistent --binary /nonexistent
check 2 "batch-fuzz.sh --seconds abc" bash "$root/ci/batch-fuzz.sh" --seconds abc
check 2 "batch-fuzz.sh --seconds 0" bash "$root/ci/batch-fuzz.sh" --seconds 0
check 2 "batch-fuzz.sh --jobs" bash "$root/ci/batch-fuzz.sh" --jobs
check 2 "batch-fuzz.sh --targets nope" bash "$root/ci/batch-fuzz.sh" --targets nope
check 2 "batch-fuzz.sh --targets twice" bash "$root/ci/batch-fuzz.sh" --targets mc_ioctl_fuzzer,mc_ioctl_fuzzer
check 2 "coverage.sh --corpus nope" bash "$root/ci/coverage.sh" --corpus nope
check 2 "coverage.sh --targets nope" bash "$root/ci/coverage.sh" --targets nope
check 2 "check-oss-fuzz-build.sh --pairs nope" bash "$root/ci/check-oss-fuzz-build.sh" --pairs nope
check 2 "afl-fuzz.sh --seconds -1" bash "$root/ci/afl-fuzz.sh" --seconds -1
check 2 "afl-fuzz.sh --target nope" bash "$root/ci/afl-fuzz.sh" --target nope
if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"

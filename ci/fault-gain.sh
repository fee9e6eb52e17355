#!/usr/bin/env bash
# What fault injection adds: lifetime_fuzzer with faults against without,
# then the coverage of core/ and drivers/ (and of their error paths) that
# each resulting corpus reaches:
#
#   bash ci/fault-gain.sh [--seconds N] [--seed S] [--out DIR] [--no-build]
#
#   --seconds   fuzzing time of each run (default 600)
#   --seed      libFuzzer -seed, the same for both runs (default 1234)
#   --out       working directory (default out/fault-gain); its with/ and
#               without/ are recreated
#   --no-build  use the binaries already in build/asan and build/coverage
#
# How: the shipped seeds (corpus/lifetime_fuzzer/) are copied into
# DIR/with/corpus/lifetime_fuzzer and DIR/without/corpus/lifetime_fuzzer (the
# shipped directory is never handed to libFuzzer, which would write to it);
# the asan lifetime_fuzzer runs on each, at the same time (one core each),
# with the same -seed and the target's .options, MCF_FAULTS=1 for one and
# MCF_FAULTS=0 (fuzzers/targets/target.h) for the other. Each corpus is then
# replayed on the coverage preset by ci/coverage.sh (the without corpus with
# MCF_FAULTS=0 again), and ci/error-path-coverage.py counts lines, regions,
# branches, error exits (an `if` whose body returns an error or jumps to an
# unwind label, covered when its body ran) and unwind lines. Prints one table;
# DIR/summary.txt keeps it. Exit status: 0 done, 1 a step failed, 2 bad usage.
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

die() { printf 'ci/fault-gain.sh: %s\n' "$*" >&2; exit 2; }
fail() { printf 'ci/fault-gain.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf 'ci/fault-gain.sh: %s\n' "$*"; }

seconds=600
seed=1234
out=out/fault-gain
build=1
while (($#)); do
  case $1 in
    --seconds) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a whole number > 0"; seconds=$2; shift 2 ;;
    --seed) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--seed needs a whole number"; seed=$2; shift 2 ;;
    --out) [[ -n ${2:-} ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

t=lifetime_fuzzer
if ((build)); then
  cmake --preset asan >/dev/null || fail "configure (asan) failed"
  cmake --build --preset asan --target "$t" >/dev/null || fail "build (asan) failed"
  cmake --preset coverage >/dev/null || fail "configure (coverage) failed"
  cmake --build --preset coverage --target "$t" >/dev/null || fail "build (coverage) failed"
fi
fuzzer=build/asan/fuzzers/targets/$t
[[ -x $fuzzer ]] || fail "$fuzzer is missing (run without --no-build)"
[[ -x build/coverage/fuzzers/targets/$t ]] || fail "build/coverage/fuzzers/targets/$t is missing"

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
options=()
while IFS='=' read -r k v; do
  k=${k// /}; v=${v// /}
  [[ -n $k && $k != \[* ]] && options+=("-$k=$v")
done <"corpus/$t.options"

pids=()
for arm in with without; do
  rm -rf "${out:?}/$arm"
  mkdir -p "$out/$arm/corpus/$t" "$out/$arm/artifacts"
  cp corpus/$t/* "$out/$arm/corpus/$t/"
  faults=1; [[ $arm == without ]] && faults=0
  MCF_FAULTS=$faults "$fuzzer" "$out/$arm/corpus/$t" -dict="corpus/$t.dict" "${options[@]}" \
    -seed="$seed" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/$arm/artifacts/" >"$out/$arm/fuzz.log" 2>&1 &
  pids+=($!)
done
log "fuzzing with and without faults, $seconds s each, -seed=$seed (logs: $out/{with,without}/fuzz.log)"
for p in "${pids[@]}"; do wait "$p"; done

{
  printf 'lifetime_fuzzer, %s s per arm, -seed=%s, seeds: corpus/%s (%s files)\n' "$seconds" "$seed" "$t" \
    "$(find "corpus/$t" -maxdepth 1 -type f | wc -l)"
  for arm in with without; do
    stat() { sed -n "s/^stat::$1: *//p" "$out/$arm/fuzz.log" | tail -1; }
    printf '%-8s execs %s (%s/s), corpus %s files, findings %s\n' "$arm" \
      "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
      "$(find "$out/$arm/corpus/$t" -type f | wc -l)" "$(find "$out/$arm/artifacts" -type f | wc -l)"
  done
  for arm in with without; do
    faults=1; [[ $arm == without ]] && faults=0
    MCF_FAULTS=$faults bash ci/coverage.sh --no-build --corpus batch --batch-dir "$out/$arm" \
      --targets "$t" --out "$out/$arm/coverage" >"$out/$arm/coverage.log" 2>&1 ||
      fail "ci/coverage.sh failed for $arm (see $out/$arm/coverage.log)"
    printf '\n%s faults:\n' "$arm"
    python3 ci/error-path-coverage.py --profdata "$out/$arm/coverage/mcfuzz.profdata" \
      --binary "build/coverage/fuzzers/targets/$t" --json "$out/$arm/error-paths.json" ||
      fail "ci/error-path-coverage.py failed for $arm"
  done
} | tee "$out/summary.txt"

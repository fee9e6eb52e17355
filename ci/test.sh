#!/usr/bin/env bash
# The mcfuzz test command:
#
#   bash ci/test.sh [preset[:label]...]   (default: asan ubsan:regressions tsan)
#
# Installs missing build dependencies (ci/install-deps.sh), then for each preset
# configures, builds and runs ctest with the CMake presets of the same name. A
# preset given as preset:label builds only what that ctest label needs and runs
# only the tests of that label: `ubsan:regressions` replays the regression
# corpus in the UBSan-alone build (the asan preset already runs every test with
# the same UBSan checks, next to ASan). Every preset runs even when an earlier
# one failed; the exit status is non-zero if any phase of any preset failed.
#
# The last line printed is ctest's summary line of the last preset
# ("100% tests passed, 0 tests failed out of N", or the failure equivalent); the
# per-phase timings and the overall result are printed before the last ctest run.
# Works from any directory.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

presets=("$@")
if ((${#presets[@]} == 0)); then
  presets=(asan ubsan:regressions tsan)
fi

log() { printf 'ci/test.sh: %s\n' "$*"; }

# Elapsed seconds since $1 (an $EPOCHREALTIME value), with one decimal.
elapsed() {
  local start=$1 now=$EPOCHREALTIME
  awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

t_total=$EPOCHREALTIME

t=$EPOCHREALTIME
bash ci/install-deps.sh
log "phase deps: $(elapsed "$t") s"

# Sanitizer runtime options. Anything already in the environment is appended last,
# so a caller's own settings win. Options built into the targets
# (fuzzers/repro/sanitizer_options.h) are parsed before these and stay in force
# unless overridden here.
symbolizer=/usr/bin/llvm-symbolizer-14
sym_opt=""
if [[ -x "$symbolizer" ]]; then
  export ASAN_SYMBOLIZER_PATH=$symbolizer
  export TSAN_SYMBOLIZER_PATH=$symbolizer
  export UBSAN_SYMBOLIZER_PATH=$symbolizer
  sym_opt=":external_symbolizer_path=$symbolizer"
fi
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:symbolize=1${sym_opt}${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:symbolize=1${sym_opt}${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="symbolize=1${sym_opt}${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:symbolize=1${sym_opt}${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

# Run ctest, passing its output through unchanged except that the summary line
# ("N% tests passed, M tests failed out of K") is moved to the very end, after
# ctest's label and time summaries and its list of failed tests.
run_ctest() {
  local preset=$1 rc
  shift
  set +e
  ctest --preset "$preset" --no-tests=error "$@" 2>&1 | awk '
    /^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+/ { held = $0; skip_blank = 1; next }
    skip_blank && /^$/ { skip_blank = 0; next }
    { skip_blank = 0; print; fflush() }
    END { if (held != "") print held }'
  rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

# Results per preset, printed before the last ctest run.
declare -A result timing
failed=()
summary_printed=0

print_summary() {
  local p
  log "summary (total so far $(elapsed "$t_total") s):"
  for p in "${presets[@]}"; do
    printf 'ci/test.sh:   %-8s %-36s %s\n' "$p" "${result[$p]:-pending}" "${timing[$p]:-}"
  done
  if ((${#failed[@]})); then
    log "FAILED: ${failed[*]}"
  fi
}

last_index=$((${#presets[@]} - 1))
# What a ctest label needs built (preset:label runs).
declare -A label_targets=(
  [regressions]="mcf-repro lifetime_fuzzer race_fuzzer"
)

for i in "${!presets[@]}"; do
  p=${presets[$i]}
  preset=${p%%:*}
  label=""
  [[ $p == *:* ]] && label=${p#*:}
  build_args=()
  ctest_args=()
  if [[ -n $label ]]; then
    [[ -n ${label_targets[$label]:-} ]] || { log "unknown label '$label' in '$p' (known: ${!label_targets[*]})"; exit 2; }
    # Only the targets this flavour has (race_fuzzer is TSan's, the others not).
    for tgt in ${label_targets[$label]}; do
      case $tgt:$preset in race_fuzzer:tsan | lifetime_fuzzer:asan | lifetime_fuzzer:ubsan | mcf-repro:*) build_args+=("$tgt") ;; esac
    done
    build_args=(--target "${build_args[@]}")
    ctest_args=(-L "$label")
  fi
  is_last=$((i == last_index))
  log "=== preset $p ==="

  t=$EPOCHREALTIME
  if ! cmake --preset "$preset"; then
    result[$p]="configure FAILED"
    timing[$p]="configure $(elapsed "$t") s"
    failed+=("$p")
    log "preset $p: configure FAILED after $(elapsed "$t") s"
    continue
  fi
  t_conf=$(elapsed "$t")
  log "preset $p: phase configure: $t_conf s"

  t=$EPOCHREALTIME
  if ! cmake --build --preset "$preset" "${build_args[@]}"; then
    result[$p]="build FAILED"
    timing[$p]="configure $t_conf s, build $(elapsed "$t") s"
    failed+=("$p")
    log "preset $p: build FAILED after $(elapsed "$t") s; ctest not run"
    continue
  fi
  t_build=$(elapsed "$t")
  log "preset $p: phase build: $t_build s"

  if ((is_last)); then
    result[$p]="ctest running (its summary follows)"
    timing[$p]="configure $t_conf s, build $t_build s"
    print_summary
    summary_printed=1
    log "preset $p: phase ctest (its time is ctest's 'Total Test time' below)"
    run_ctest "$preset" "${ctest_args[@]}" || failed+=("$p")
  else
    t=$EPOCHREALTIME
    if run_ctest "$preset" "${ctest_args[@]}"; then
      result[$p]="passed"
    else
      result[$p]="ctest FAILED"
      failed+=("$p")
    fi
    timing[$p]="configure $t_conf s, build $t_build s, ctest $(elapsed "$t") s"
    log "preset $p: phase ctest: $(elapsed "$t") s (${result[$p]})"
  fi
done

# Reached only when the last preset did not get as far as ctest (configure or build
# failed): there is no ctest summary to end with, so end with ours.
if ((!summary_printed)); then
  print_summary
fi

if ((${#failed[@]})); then
  exit 1
fi
exit 0

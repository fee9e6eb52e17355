#!/usr/bin/env bash
# The mcfuzz fuzz command (the main job):
#
#   bash ci/fuzz.sh [--seconds N] [--targets t1,t2,...] [--jobs N]
#
# Installs missing dependencies, builds the fuzz targets (asan preset:
# mc_ioctl_fuzzer, v4l2_ioctl_fuzzer, lifetime_fuzzer; tsan preset:
# race_fuzzer), runs each target for its share of the campaign (default 60 s
# in all) from the shipped corpus (corpus/<target>/, text programs) plus a
# working corpus in out/fuzz/<target>/corpus, printing libFuzzer's progress
# lines (execs/s, coverage, corpus size), and ends with a summary table per
# target. Findings (crash-*, leak-*, timeout-*, oom-* files) are listed with
# their reproducer paths and the program in text form. Exit status: 0 when
# nothing was found, 1 when something was, 2 on a usage or build error.
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'ci/fuzz.sh: %s\n' "$*" >&2; exit 2; }

seconds=60
all_targets=(mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer race_fuzzer)
targets=("${all_targets[@]}")
while (($#)); do
  case $1 in
    --seconds) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--seconds needs a whole number"; seconds=$2; shift 2 ;;
    --targets) [[ -n ${2:-} ]] || die "--targets needs a comma-separated list"
               IFS=, read -r -a targets <<<"$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${all_targets[*]})"
done
per_target=$(( seconds / ${#targets[@]} ))
(( per_target >= 1 )) || per_target=1

bash ci/install-deps.sh || die "installing dependencies failed"

preset_of() { [[ $1 == race_fuzzer ]] && echo tsan || echo asan; }
for preset in $(for t in "${targets[@]}"; do preset_of "$t"; done | sort -u); do
  build_targets=()
  for t in "${targets[@]}"; do [[ $(preset_of "$t") == "$preset" ]] && build_targets+=("$t"); done
  cmake --preset "$preset" >/dev/null || die "configure ($preset) failed"
  cmake --build --preset "$preset" --target "${build_targets[@]}" || die "build ($preset) failed"
done

symbolizer=/usr/bin/llvm-symbolizer-14
[[ -x $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=$symbolizer TSAN_SYMBOLIZER_PATH=$symbolizer

declare -A execs rate cov units found
status=0
for t in "${targets[@]}"; do
  preset=$(preset_of "$t")
  bin=build/$preset/fuzzers/targets/$t
  [[ -x $bin ]] || die "$bin was not built"
  work=out/fuzz/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/fuzz.log
  args=("$work/corpus")
  [[ -d corpus/$t ]] && args+=("corpus/$t")
  [[ -f corpus/$t.dict ]] && args+=("-dict=corpus/$t.dict")
  printf '\n=== %s (%s, %d s) ===\n' "$t" "$preset" "$per_target"
  "$bin" "${args[@]}" -max_total_time="$per_target" -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" -print_pcs=0 2>&1 | tee "$log" |
      grep --line-buffered -E '^#[0-9]+.*(NEW|REDUCE|pulse|INITED|DONE)|REPORT|ERROR|SUMMARY'
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs[$t]=$(stat number_of_executed_units)
  rate[$t]=$(stat average_exec_per_sec)
  units[$t]=$(stat new_units_added)
  cov[$t]=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  found[$t]=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  [[ -n ${found[$t]} ]] && status=1
done

printf '\n%-20s %10s %9s %8s %12s  %s\n' target execs execs/s cov new-entries findings
for t in "${targets[@]}"; do
  n=0; [[ -n ${found[$t]} ]] && n=$(printf '%s\n' "${found[$t]}" | wc -l)
  printf '%-20s %10s %9s %8s %12s  %s\n' "$t" "${execs[$t]:-?}" "${rate[$t]:-?}" "${cov[$t]:-?}" \
    "${units[$t]:-?}" "$n"
done
for t in "${targets[@]}"; do
  [[ -z ${found[$t]} ]] && continue
  while read -r f; do
    printf '\nfinding of %s: %s\n  replay: build/%s/fuzzers/targets/%s %s\n' "$t" "$f" \
      "$(preset_of "$t")" "$t" "$f"
    # mcf-repro replays it N times in child processes and minimises it
    # (README: Reproduce a crash), in the executor mode of the target.
    case $t in lifetime_fuzzer) mode=deterministic ;; race_fuzzer) mode=threads ;; *) mode=sequential ;; esac
    printf '  repro:  build/%s/fuzzers/tools/mcf-repro replay --mode=%s --times=10 %s\n' \
      "$(preset_of "$t")" "$mode" "$f"
    # The target prints the program in text form and the signature in its report.
    sed -n '/^==mcfuzz== PROGRAM/,/^==mcfuzz== END PROGRAM/p;/^==mcfuzz== SIGNATURE/p' \
      "out/fuzz/$t/fuzz.log" | head -80
  done <<<"${found[$t]}"
done
exit $status

#!/usr/bin/env bash
# Source-based coverage of the model reached by a corpus:
#
#   bash ci/coverage.sh [--corpus shipped|batch|all] [--batch-dir DIR]
#                       [--targets t1,t2,...] [--out DIR] [--no-build]
#
#   --corpus     shipped: corpus/<target>/ (the seeds in the tree);
#                batch: DIR/corpus/<target>/ grown by ci/batch-fuzz.sh;
#                all (default): both (batch only where it exists)
#   --batch-dir  ci/batch-fuzz.sh's state directory (default out/batch)
#   --targets    default: mc_ioctl_fuzzer,v4l2_ioctl_fuzzer,lifetime_fuzzer,
#                race_fuzzer
#   --out        output directory (default out/coverage)
#   --no-build   use the binaries already in build/coverage
#
# How: the `coverage` preset (sanitizers/flavours.cmake: -O0
# -fprofile-instr-generate -fcoverage-mapping, no sanitizer) also builds the
# fuzz targets, linked with -fsanitize=fuzzer (fuzzers/targets/
# CMakeLists.txt): libFuzzer needs no sanitizer, and the targets' own
# LLVMFuzzerInitialize/LLVMFuzzerTestOneInput run the corpus exactly as when
# fuzzing. race_fuzzer is built in the tsan flavour only (one of
# lifetime_fuzzer/race_fuzzer per flavour), so its corpus runs through
# lifetime_fuzzer (same calls, deterministic threads). Chosen over a
# separate "run the corpus" main so that the glue, the text/binary decoding
# and the executor modes are the ones that fuzz. Each target runs its corpus
# as OSS-Fuzz's coverage script does, `-merge=1 -timeout=100 <scratch>
# <corpus...>`, which survives a crashing input (each libFuzzer process
# writes its own .profraw); then llvm-profdata-14 merges the profiles and
# llvm-cov-14 writes
#   DIR/html/index.html   the HTML report (llvm-cov show -format=html),
#                         sources under core/, drivers/, fuzzers/, tools/
#   DIR/summary.txt       line and function coverage of core/ and drivers/,
#                         separately (and fuzzers/ for reference), per corpus
#   DIR/summary.json      the same figures
#   DIR/mcfuzz.profdata   the merged profile
# and prints the summary. Exit status: 0 done, 1 a step failed, 2 bad usage.
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

die() { printf 'ci/coverage.sh: %s\n' "$*" >&2; exit 2; }
fail() { printf 'ci/coverage.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf 'ci/coverage.sh: %s\n' "$*"; }

all_targets=(mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer race_fuzzer)
targets=("${all_targets[@]}")
which=all
batch_dir=out/batch
out=out/coverage
build=1
while (($#)); do
  case $1 in
    --corpus) [[ ${2:-} =~ ^(shipped|batch|all)$ ]] || die "--corpus needs shipped, batch or all"
              which=$2; shift 2 ;;
    --batch-dir) [[ -n ${2:-} ]] || die "--batch-dir needs a directory"; batch_dir=$2; shift 2 ;;
    --targets) [[ -n ${2:-} ]] || die "--targets needs a comma-separated list"
               IFS=, read -r -a targets <<<"$2"; shift 2 ;;
    --out) [[ -n ${2:-} ]] || die "--out needs a directory"; out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
((${#targets[@]})) || die "--targets is empty"
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${all_targets[*]})"
done
if [[ $which == batch && ! -d $batch_dir/corpus ]]; then
  die "no batch corpus in $batch_dir/corpus (run ci/batch-fuzz.sh first, or --batch-dir)"
fi
profdata=$(command -v llvm-profdata-14) || die "llvm-profdata-14 not found (bash ci/install-deps.sh)"
llvmcov=$(command -v llvm-cov-14) || die "llvm-cov-14 not found (bash ci/install-deps.sh)"

# The coverage build of the binary that runs a target's corpus.
bin_of() { [[ $1 == race_fuzzer ]] && echo lifetime_fuzzer || echo "$1"; }
binaries=($(for t in "${targets[@]}"; do bin_of "$t"; done | sort -u))

t0=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

if ((build)); then
  bash ci/install-deps.sh >/dev/null || fail "installing dependencies failed (ci/install-deps.sh)"
  cmake --preset coverage >/dev/null || fail "configure (coverage) failed"
  log "building ${binaries[*]} (coverage preset)"
  cmake --build --preset coverage --target "${binaries[@]}" >build/coverage/coverage-build.log 2>&1 ||
    { tail -20 build/coverage/coverage-build.log >&2; fail "build (coverage) failed: build/coverage/coverage-build.log"; }
  log "build: $(elapsed "$t0") s"
fi
bins=()
for b in "${binaries[@]}"; do
  b=build/coverage/fuzzers/targets/$b
  [[ -x $b ]] || fail "$b is missing (run without --no-build)"
  bins+=("$b")
done

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -rf "$out/profraw" "$out/html" "$out/scratch"
mkdir -p "$out/profraw" "$out/scratch"

declare -A inputs
t1=$EPOCHREALTIME
for t in "${targets[@]}"; do
  dirs=()
  [[ $which != batch && -d corpus/$t ]] && dirs+=("$repo_root/corpus/$t")
  [[ $which != shipped && -d $batch_dir/corpus/$t ]] && dirs+=("$(cd "$batch_dir/corpus/$t" && pwd)")
  n=0
  for d in "${dirs[@]}"; do n=$((n + $(find "$d" -maxdepth 1 -type f | wc -l))); done
  inputs[$t]=$n
  if ((n == 0)); then
    log "$t: no corpus ($which), skipped"
    continue
  fi
  scratch=$out/scratch/$t
  mkdir -p "$scratch"
  log "$t: running $n inputs ($(bin_of "$t"))"
  # %p: the merge's inner processes each write their own profile; %m: one
  # profile per binary signature.
  LLVM_PROFILE_FILE="$out/profraw/$t-%p-%m.profraw" \
    timeout -k 10 3600 "build/coverage/fuzzers/targets/$(bin_of "$t")" -merge=1 -timeout=100 -rss_limit_mb=2560 \
    -merge_control_file="$scratch/control" "$scratch" "${dirs[@]}" >"$out/scratch/$t.log" 2>&1 ||
    log "$t: libFuzzer exited non-zero (see $out/scratch/$t.log); its profiles are used anyway"
done
ls "$out"/profraw/*.profraw >/dev/null 2>&1 || fail "no profile was written"
"$profdata" merge -sparse "$out"/profraw/*.profraw -o "$out/mcfuzz.profdata" || fail "llvm-profdata merge failed"
log "corpus runs: $(elapsed "$t1") s"

objects=("${bins[0]}")
for b in "${bins[@]:1}"; do objects+=(-object "$b"); done
# Test sources and system headers. (Not build/: a build under ccache's
# CCACHE_BASEDIR names sources build/coverage/../../core/..., so every path
# would match.)
ignore='(^|/)tests/|^/usr/'
"$llvmcov" show -format=html -output-dir="$out/html" -instr-profile="$out/mcfuzz.profdata" \
  -ignore-filename-regex="$ignore" -show-line-counts-or-regions -Xdemangler=c++filt \
  "${objects[@]}" >/dev/null 2>"$out/llvm-cov-show.log" ||
  "$llvmcov" show -format=html -output-dir="$out/html" -instr-profile="$out/mcfuzz.profdata" \
    -ignore-filename-regex="$ignore" "${objects[@]}" >/dev/null 2>>"$out/llvm-cov-show.log" ||
  fail "llvm-cov show failed (see $out/llvm-cov-show.log)"

# The sums of `llvm-cov report`'s per-file rows under one directory:
# Filename Regions Missed Cover Functions Missed Executed Lines Missed Cover ...
# (A path argument to llvm-cov report does not filter when the build
# recorded relative source paths, as under ccache's CCACHE_BASEDIR.)
totals() {
  "$llvmcov" report -instr-profile="$out/mcfuzz.profdata" -ignore-filename-regex="$ignore" \
    "${objects[@]}" 2>/dev/null |
    awk -v d="$1/" '$1 ~ ("(^|/)" d) && NF >= 10 { f += $5; fm += $6; l += $8; lm += $9 }
                    END { if (l) print f, fm, l, lm }'  # functions, missed, lines, missed
}
pct() { awk -v n="$1" -v m="$2" 'BEGIN { if (n == 0) print "-"; else printf "%.1f", 100 * (n - m) / n }'; }

corpus_desc=$which
[[ $which != shipped ]] && corpus_desc+=" (batch: $batch_dir/corpus)"
{
  printf 'coverage of %s from the %s corpus (%s)\n' "${targets[*]}" "$corpus_desc" \
    "$(for t in "${targets[@]}"; do printf '%s %s inputs; ' "$t" "${inputs[$t]}"; done)"
  printf '%-10s %8s %14s %8s %14s\n' dir lines covered/total functions covered/total
  for d in core drivers fuzzers; do
    read -r fn fm ln lm < <(totals "$d")
    [[ -n ${ln:-} ]] || { printf '%-10s %8s\n' "$d/" "no data"; continue; }
    printf '%-10s %7s%% %14s %7s%% %14s\n' "$d/" "$(pct "$ln" "$lm")" "$((ln - lm))/$ln" \
      "$(pct "$fn" "$fm")" "$((fn - fm))/$fn"
  done
  printf 'report: %s/html/index.html\n' "$out"
} | tee "$out/summary.txt"

{
  printf '{"corpus": "%s", "targets": [' "$which"
  sep=""; for t in "${targets[@]}"; do printf '%s{"name": "%s", "inputs": %s}' "$sep" "$t" "${inputs[$t]}"; sep=", "; done
  printf '],\n "dirs": {'
  sep=""
  for d in core drivers fuzzers; do
    read -r fn fm ln lm < <(totals "$d")
    [[ -n ${ln:-} ]] || continue
    printf '%s\n  "%s": {"lines": %s, "lines_covered": %s, "line_pct": %s, "functions": %s, "functions_covered": %s, "function_pct": %s}' \
      "$sep" "$d" "$ln" "$((ln - lm))" "$(pct "$ln" "$lm")" "$fn" "$((fn - fm))" "$(pct "$fn" "$fm")"
    sep=","
  done
  printf '\n },\n "html": "%s/html/index.html"}\n' "$out"
} >"$out/summary.json"
log "done in $(elapsed "$t0") s"

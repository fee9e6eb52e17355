#!/usr/bin/env bash
# The second engine: AFL++ on the same fuzz targets.
#
#   bash ci/afl-fuzz.sh [--target T] [--seconds N] [--jobs N] [--dir DIR]
#                       [--mutator on|off|only] [--no-build]
#
#   --target   mc_ioctl_fuzzer (default), v4l2_ioctl_fuzzer or lifetime_fuzzer
#              (race_fuzzer is TSan-only; AFL++ builds are ASan builds)
#   --seconds  how long afl-fuzz runs (default 300; afl-fuzz -V)
#   --jobs     afl-fuzz instances: one -M main plus N-1 -S secondaries
#              (default 1)
#   --dir      afl-fuzz's output directory root (default out/afl); the run
#              for target T is DIR/T/, and a second run resumes it
#              (AFL_AUTORESUME=1)
#   --mutator  on (default): AFL_CUSTOM_MUTATOR_LIBRARY=<T>_afl_mutator.so,
#              the structure-aware mutator (fuzzers/targets/afl_mutator.cc)
#              next to AFL++'s own havoc; only: AFL_CUSTOM_MUTATOR_ONLY=1;
#              off: AFL++'s byte-level mutations alone (as on OSS-Fuzz, whose
#              AFL++ runs do not load custom mutators; the binary decoder is
#              total, so raw bytes still make valid programs)
#   --no-build use build/afl/out as it is
#
# Build: ci/oss-fuzz/build.sh with FUZZING_ENGINE=afl SANITIZER=address and
# the environment OSS-Fuzz's compile_afl sets (CC=afl-clang-fast,
# CXX=afl-clang-fast++, LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a, the
# base-builder CFLAGS with -fsanitize=address), WORK=build/afl (kept, so a
# rebuild is incremental), OUT=build/afl/out: the targets (AFL++'s libFuzzer
# driver, persistent mode, shared-memory test cases), their seed zips, .dict,
# .options and the <T>_afl_mutator.so libraries.
# Run: afl-fuzz -i <seeds> -o DIR/T -m none -t 5000+ -x corpus/T.dict
# -V seconds -- build/afl/out/T, with the runtime settings of OSS-Fuzz's AFL
# runs (ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0...). Seeds:
# corpus/T/ plus ci/batch-fuzz.sh's corpus out/batch/corpus/T/ when it exists.
# A crash file replays with libFuzzer's build: build/asan/fuzzers/targets/T FILE.
#
# Needs Debian's afl++ (installed with apt-get when missing and running as
# root). Ends with afl-fuzz's figures (execs, execs/s, corpus, coverage,
# crashes) per instance. Exit status: 0 no crash, 1 crashes found,
# 2 bad usage, a missing tool or a build error.
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

die() { printf 'ci/afl-fuzz.sh: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf 'ci/afl-fuzz.sh: %s\n' "$*"; }

afl_targets=(mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer)
target=mc_ioctl_fuzzer
seconds=300
jobs=1
dir=out/afl
mutator=on
build=1
while (($#)); do
  case $1 in
    --target) [[ -n ${2:-} ]] || die "--target needs a target name"; target=$2; shift 2 ;;
    --seconds) [[ ${2:-} =~ ^[0-9]+$ ]] && (($2 > 0)) || die "--seconds needs a positive whole number"
               seconds=$2; shift 2 ;;
    --jobs) [[ ${2:-} =~ ^[0-9]+$ ]] && (($2 > 0)) || die "--jobs needs a positive whole number"
            jobs=$2; shift 2 ;;
    --dir) [[ -n ${2:-} ]] || die "--dir needs a directory"; dir=$2; shift 2 ;;
    --mutator) [[ ${2:-} =~ ^(on|off|only)$ ]] || die "--mutator needs on, off or only"
               mutator=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ " ${afl_targets[*]} " == *" $target "* ]] ||
  die "unknown target '$target' (AFL++ targets: ${afl_targets[*]})"

if ! command -v afl-fuzz >/dev/null || [[ ! -f /usr/lib/afl/libAFLDriver.a ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    log "installing afl++ (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends afl++ >/dev/null ||
      die "apt-get install afl++ failed"
  else
    die "AFL++ is not installed: apt-get install afl++ (as root)"
  fi
fi

# Sanitizer options are set below for the build and the runs, none inherited
# (afl-fuzz refuses e.g. LSAN_OPTIONS without symbolize=0).
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS MSAN_OPTIONS

out=$repo_root/build/afl/out
if ((build)); then
  bash ci/install-deps.sh >/dev/null || die "installing dependencies failed (ci/install-deps.sh)"
  mkdir -p build/afl/src build/afl/out
  ln -sfn "$repo_root" build/afl/src/mcfuzz
  cflags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope"
  log "building the AFL++ targets (ci/oss-fuzz/build.sh, FUZZING_ENGINE=afl SANITIZER=address)"
  env -u CFLAGS -u CXXFLAGS -u LDFLAGS \
    SANITIZER=address FUZZING_ENGINE=afl FUZZING_LANGUAGE=c++ ARCHITECTURE=x86_64 \
    SRC="$repo_root/build/afl/src" WORK="$repo_root/build/afl" OUT="$out" \
    CC=afl-clang-fast CXX=afl-clang-fast++ AFL_CC=clang-14 AFL_CXX=clang++-14 \
    LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a AFL_QUIET=1 AFL_IGNORE_UNKNOWN_ENVS=1 \
    ASAN_OPTIONS=detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1 \
    CFLAGS="$cflags" CXXFLAGS="$cflags" \
    bash -eu ci/oss-fuzz/build.sh >build/afl/build.log 2>&1 ||
    { tail -20 build/afl/build.log >&2; die "build failed: build/afl/build.log"; }
fi
[[ -x $out/$target ]] || die "$out/$target is missing (run without --no-build)"

# Seeds: shipped corpus (+ the batch corpus), one directory.
seeds=$repo_root/build/afl/seeds-$target
rm -rf "$seeds"; mkdir -p "$seeds"
cp corpus/"$target"/* "$seeds"/ 2>/dev/null
[[ -d out/batch/corpus/$target ]] && cp out/batch/corpus/"$target"/* "$seeds"/ 2>/dev/null
mkdir -p "$dir"
odir=$(cd "$dir" && pwd)/$target

afl_env=(AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_AUTORESUME=1
         AFL_IGNORE_UNKNOWN_ENVS=1 AFL_FORKSRV_INIT_TMOUT=30000
         "ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:detect_odr_violation=0:allocator_may_return_null=1:handle_abort=1")
((jobs > 1)) || afl_env+=(AFL_NO_AFFINITY=1)
case $mutator in
  on) afl_env+=("AFL_CUSTOM_MUTATOR_LIBRARY=$out/${target}_afl_mutator.so") ;;
  only) afl_env+=("AFL_CUSTOM_MUTATOR_LIBRARY=$out/${target}_afl_mutator.so" AFL_CUSTOM_MUTATOR_ONLY=1) ;;
esac
dict=(); [[ -f $out/$target.dict ]] && dict=(-x "$out/$target.dict")

log "$target: afl-fuzz for $seconds s, $jobs instance(s), mutator $mutator, $(ls "$seeds" | wc -l) seeds, output $odir"
pids=()
for ((i = 0; i < jobs; i++)); do
  role=(-M main); ((i > 0)) && role=(-S "s$i")
  env "${afl_env[@]}" afl-fuzz -i "$seeds" -o "$odir" "${role[@]}" -m none -t 5000+ -V "$seconds" \
    "${dict[@]}" -- "$out/$target" >"$odir.$i.log" 2>&1 &
  pids+=($!)
done
trap 'kill -INT "${pids[@]}" 2>/dev/null' INT TERM
for p in "${pids[@]}"; do wait "$p"; done
trap - INT TERM

crashes=0
printf '\n%-8s %10s %8s %8s %8s %8s\n' instance execs exec/s corpus bitmap crashes
for s in "$odir"/*/fuzzer_stats; do
  [[ -f $s ]] || continue
  st() { awk -F: -v k="$1" '$1 ~ "^"k" *$" {gsub(/^ +| +$/, "", $2); print $2}' "$s"; }
  c=$(st saved_crashes); [[ -n $c ]] || c=$(st unique_crashes)
  printf '%-8s %10s %8s %8s %8s %8s\n' "$(basename "$(dirname "$s")")" "$(st execs_done)" \
    "$(st execs_per_sec)" "$(st corpus_count)" "$(st bitmap_cvg)" "${c:-0}"
  crashes=$((crashes + ${c:-0}))
done
if ((crashes)); then
  printf '\ncrashes:\n'
  ls "$odir"/*/crashes/id:* 2>/dev/null | sed 's/^/  /'
  printf 'replay: build/asan/fuzzers/targets/%s FILE\n' "$target"
  exit 1
fi
grep -q "All set and ready to roll" "$odir.0.log" || { tail -20 "$odir.0.log" >&2; die "afl-fuzz did not start (see $odir.0.log)"; }
exit 0

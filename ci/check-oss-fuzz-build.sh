#!/usr/bin/env bash
# Local check of the OSS-Fuzz / ClusterFuzzLite build (no Docker needed):
#
#   bash ci/check-oss-fuzz-build.sh [--quick] [--pairs ENGINE-SANITIZER,...]
#                                   [--work DIR] [--keep]
#
# For each engine/sanitizer pair (default: libfuzzer-address libfuzzer-undefined
# libfuzzer-thread afl-address) it runs ci/oss-fuzz/build.sh with the
# environment OSS-Fuzz's base-builder image sets for that pair (below), with
# fresh SRC and OUT directories, then moves OUT to another random directory
# (as test_all.py does, so hard-coded paths break) and checks every target as
# OSS-Fuzz's bad_build_check does, plus a few checks of its own:
#
#   name      target name is [A-Za-z0-9_-]+, an x86-64 ELF executable that
#             contains LLVMFuzzerTestOneInput (test_all.py's definition)
#   instr     libFuzzer: `t -seed=1337 -runs=4` does not say "no interesting
#             inputs were found. Is the code instrumented"; the number of
#             edges it loads is printed (< 100 is OSS-Fuzz's "partial
#             instrumentation" warning: expected for race_fuzzer, whose model
#             code is not coverage-instrumented under TSan)
#   runs      libFuzzer: started as run_fuzzer does (flags from <t>.options,
#             -dict=<t>.dict, -rss_limit_mb=2560 -timeout=25, no seed corpus)
#             with -seed=1337 -runs=4 it prints "Done 4 runs", with -runs=13
#             "Done 13 runs" (-runs honoured, no crash at startup)
#   empty     the target runs an empty input file and exits 0
#   sanitizer calls counted in `objdump -d` as bad_build_check does: address
#             >= 1000 __asan, <= 200 __ubsan; undefined >= 168 __ubsan and no
#             __asan; thread (bad_build_check has a TODO): >= 1000 __tsan and
#             no __asan; never __msan/__dfsan
#   seeds     <t>_seed_corpus.zip present, holds every corpus/<t>/ file, and
#             replaying it (-runs=0, bad_build_check's disabled
#             check_seed_corpus) exits 0
#   files     <t>.dict and <t>.options present; .options has a [libfuzzer]
#             section of key = value lines
#   libs      every shared library outside libc/libm/libstdc++/libgcc_s
#             resolves inside the moved $OUT/lib
#   afl       AFL++: afl-fuzz on the target (no seed corpus) says "All set and
#             ready to roll" and never "target binary (crashed|terminated)"
#             (bad_build_check runs it for 35 s; here -V limits it)
#   mutator   AFL++: afl-fuzz with AFL_CUSTOM_MUTATOR_LIBRARY=<t>_afl_mutator.so
#             and AFL_CUSTOM_MUTATOR_ONLY=1 loads it and executes inputs it
#             made (fuzzer_stats: execs_done > 0); the new queue entries are
#             printed. The .so is not executable (not taken for a target).
#
# Build environment per pair (base-builder's Dockerfile and compile scripts,
# with clang-14 for clang and Debian's afl++ for $SRC/aflplusplus):
#   CFLAGS   = -O1 -fno-omit-frame-pointer -gline-tables-only
#              -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $SANITIZER_FLAGS
#              $COVERAGE_FLAGS   (COVERAGE_FLAGS=-fsanitize=fuzzer-no-link for
#              libFuzzer, empty for AFL++)
#   CXXFLAGS = $CFLAGS -stdlib=libc++   (build.sh removes -stdlib=libc++)
#   libFuzzer: CC=clang-14 CXX=clang++-14 LIB_FUZZING_ENGINE=-fsanitize=fuzzer
#   AFL++:     CC=afl-clang-fast CXX=afl-clang-fast++
#              LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a, AFL_QUIET=1,
#              ASAN_OPTIONS=detect_leaks=0:symbolize=0:... (compile_afl; its
#              random CMPLOG/LAF/CTX option roulette is not reproduced)
#   SANITIZER, FUZZING_ENGINE, FUZZING_LANGUAGE=c++, ARCHITECTURE=x86_64
# Runtime options as base-runner's (ASAN_OPTIONS with detect_leaks=1,
# dedup_token_length=3, ...; UBSAN_OPTIONS with silence_unsigned_overflow=1).
#
# Neither OSS-Fuzz nor ClusterFuzzLite runs TSan builds or checks them; the
# libfuzzer-thread pair is checked here because the test command is the only
# place race_fuzzer's OSS-Fuzz style build is exercised.
#
# --work DIR  the $WORK root (default build/oss-fuzz-check): each pair builds
#             in DIR/<engine>-<sanitizer>/build-*, kept between runs, so a
#             second run only recompiles what changed.
# --quick     the mode registered as the ctest "oss_fuzz_build_check" (label
#             "ci"; tests/ci/): every pair and every check, but compiled with
#             -O0 and no debug info instead of base-builder's -O1
#             -gline-tables-only (1.6 times faster to build; the sanitizer,
#             coverage and engine flags are OSS-Fuzz's; the thread pair keeps
#             -O1: at -O0 libstdc++'s inline functions stay out-of-line
#             COMDATs that the linker may take from the coverage-instrumented
#             glue, and their counters race under TSan), AFL++ runs of 3 s
#             instead of 10 s, the seed replay and the custom-mutator run for
#             the first target of a pair only. Its WORK is DIR/<pair>-quick.
# --keep      keep the OUT directories (their paths are printed).
#
# Ends with a table (pair, target, each check: ok, WARN, FAIL or -), the
# time of each build and of the checks. Exit status: 0 all checks passed
# (warnings allowed), 1 a build or a check failed, 2 bad usage or a missing
# tool (afl-fuzz missing skips the afl pairs with a note instead, unless they
# were asked for with --pairs).
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
die() { printf 'check-oss-fuzz-build: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

all_pairs=(libfuzzer-address libfuzzer-undefined libfuzzer-thread afl-address)
pairs=()
pairs_given=0
quick=0
keep=0
work_root=$repo_root/build/oss-fuzz-check
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --keep) keep=1; shift ;;
    --pairs) [[ -n ${2:-} ]] || die "--pairs needs a comma-separated list"
             IFS=, read -r -a pairs <<<"$2"; pairs_given=1; shift 2 ;;
    --work) [[ -n ${2:-} ]] || die "--work needs a directory"; work_root=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
((${#pairs[@]})) || pairs=("${all_pairs[@]}")
for p in "${pairs[@]}"; do
  [[ " ${all_pairs[*]} " == *" $p "* ]] || die "unknown pair '$p' (known: ${all_pairs[*]})"
done
for tool in clang-14 clang++-14 cmake ninja zip unzip objdump file ldd; do
  command -v "$tool" >/dev/null || die "$tool not found (bash ci/install-deps.sh)"
done
if ! command -v afl-fuzz >/dev/null || [[ ! -f /usr/lib/afl/libAFLDriver.a ]]; then
  if ((pairs_given)) && [[ " ${pairs[*]} " == *" afl-"* ]]; then
    die "AFL++ not installed (apt-get install afl++)"
  fi
  echo "check-oss-fuzz-build: note: AFL++ not installed (apt-get install afl++): afl pairs skipped"
  kept=(); for p in "${pairs[@]}"; do [[ $p == afl-* ]] || kept+=("$p"); done; pairs=("${kept[@]}")
fi
mkdir -p "$work_root" || die "cannot create $work_root"
work_root=$(cd "$work_root" && pwd)

# The runtime options are OSS-Fuzz's, set below per run: none inherited (the
# test command exports its own, and afl-fuzz refuses LSAN_OPTIONS without
# symbolize=0).
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS MSAN_OPTIONS

afl_seconds=10
((quick)) && afl_seconds=3
symbolizer=$(command -v llvm-symbolizer-14 || true)

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf 'check-oss-fuzz-build: %s\n' "$*"; }

# base-builder's flag sets (infra/base-images/base-builder/Dockerfile).
base_cflags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
base_cflags_full=$base_cflags
((quick)) && base_cflags="-O0 -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr
ubsan_norecover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
sanitizer_flags() {
  case $1 in
    address) echo "-fsanitize=address -fsanitize-address-use-after-scope" ;;
    undefined) echo "-fsanitize=$ubsan_checks -fno-sanitize-recover=$ubsan_norecover" ;;
    thread) echo "-fsanitize=thread" ;;
  esac
}
# base-runner's runtime options (infra/base-images/base-runner/Dockerfile).
runner_asan="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
runner_ubsan="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3"
runner_tsan="halt_on_error=1:symbolize=1"
[[ -n $symbolizer ]] && {
  runner_asan+=":external_symbolizer_path=$symbolizer"
  runner_ubsan+=":external_symbolizer_path=$symbolizer"
  runner_tsan+=":external_symbolizer_path=$symbolizer"
}

declare -A result   # "<pair> <target> <check>" -> ok | WARN: ... | FAIL: ...
declare -A targets_of build_time check_time build_status
checks=(name instr runs empty sanitizer seeds files libs afl mutator)
failures=0
set_result() {  # pair target check value
  result["$1 $2 $3"]=$4
  if [[ $4 == FAIL* ]]; then
    failures=$((failures + 1))
    log "$1 $2 $3: $4"
  elif [[ $4 == WARN* ]]; then
    log "$1 $2 $3: $4"
  fi
}

tmp_root=$(mktemp -d "${TMPDIR:-/tmp}/mcf-oss-fuzz-check.XXXXXX")
cleanup() { ((keep)) || rm -rf "$tmp_root"; }
trap cleanup EXIT

# Flags from <t>.options' [libfuzzer] section as -key=value (run_fuzzer).
options_flags() {
  local f=$1
  [[ -f $f ]] || return 0
  awk '/^\[/ { sect = $0; next }
       sect == "[libfuzzer]" && /=/ {
         k = $0; sub(/[ \t]*=.*/, "", k); v = $0; sub(/^[^=]*=[ \t]*/, "", v)
         gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/[ \t]+$/, "", v); print "-" k "=" v }' "$f"
}

# Runs a libFuzzer target as base-runner's run_fuzzer does, from an empty
# directory: run_target OUT TARGET LOG ARGS...
run_target() {
  local out=$1 t=$2 logf=$3
  shift 3
  local args=(-rss_limit_mb=2560 -timeout=25)
  local o
  while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags "$out/$t.options")
  [[ -f $out/$t.dict && " ${args[*]} " != *" -dict="* ]] && args+=("-dict=$out/$t.dict")
  local rundir
  rundir=$(mktemp -d "$tmp_root/run.XXXXXX")
  (cd "$rundir" && ASAN_OPTIONS=$runner_asan UBSAN_OPTIONS=$runner_ubsan \
     TSAN_OPTIONS=$runner_tsan LSAN_OPTIONS=symbolize=1 \
     timeout -k 10 300 "$out/$t" "${args[@]}" "$@") >"$logf" 2>&1
}

# Calls into each sanitizer runtime, counted in one objdump pass:
# prints "asan ubsan msan dfsan tsan".
sanitizer_calls() {
  objdump -d --no-show-raw-insn "$1" 2>/dev/null |
    grep -oE 'call[q]?[[:space:]]+[0-9a-f]+[[:space:]]+<__(asan|ubsan|msan|dfsan|tsan)' |
    sed 's/.*<__//' | awk '{ n[$0]++ }
         END { printf "%d %d %d %d %d\n", n["asan"], n["ubsan"], n["msan"], n["dfsan"], n["tsan"] }'
}

check_sanitizer() {  # pair target binary engine sanitizer
  local pair=$1 t=$2 bin=$3 engine=$4 san=$5 asan ubsan msan dfsan tsan v=ok
  read -r asan ubsan msan dfsan tsan < <(sanitizer_calls "$bin")
  local counts="asan=$asan ubsan=$ubsan tsan=$tsan msan=$msan dfsan=$dfsan"
  ((msan > 3 || dfsan > 0)) && v="FAIL: MSan/DFSan calls ($counts)"
  case $san in
    address)
      ((asan < 1000)) && v="FAIL: not compiled with ASan ($counts)"
      ((ubsan > 200)) && v="FAIL: ASan build compiled with UBSan ($counts)" ;;
    undefined)
      ((asan > 0)) && v="FAIL: UBSan build compiled with ASan ($counts)"
      [[ $engine == libfuzzer ]] && ((ubsan < 168)) && v="FAIL: not compiled with UBSan ($counts)" ;;
    thread)
      ((asan > 0)) && v="FAIL: TSan build compiled with ASan ($counts)"
      ((tsan < 1000)) && v="FAIL: not compiled with TSan ($counts)" ;;
  esac
  if [[ $v == ok ]]; then
    v="ok ($counts)"
  elif [[ $v == *"compiled with ASan"* && $asan -gt 0 && $asan -lt 50 ]]; then
    v+="; __asan calls from: $(callers_of "$bin" asan)"
  fi
  set_result "$pair" "$t" sanitizer "$v"
}

# The functions that call a sanitizer runtime (a stray reference is usually
# one weak hook called without an #if for that sanitizer).
callers_of() {  # binary runtime
  objdump -dC --no-show-raw-insn "$1" 2>/dev/null |
    awk -v rt="<__$2" '/^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn) }
                       index($0, rt) && /[[:space:]]callq?[[:space:]]/ { print fn }' |
    sort -u | head -3 | paste -sd';'
}

check_common() {  # pair target out engine sanitizer
  local pair=$1 t=$2 out=$3 engine=$4 san=$5 bin=$3/$2
  # name
  if [[ ! $t =~ ^[A-Za-z0-9_-]+$ ]]; then
    set_result "$pair" "$t" name "FAIL: name has characters outside [A-Za-z0-9_-]"
  elif [[ ! -x $bin ]] || [[ $(file -b "$bin") != *"ELF 64-bit"*"x86-64"* ]]; then
    set_result "$pair" "$t" name "FAIL: not an executable x86-64 ELF: $(file -b "$bin")"
  elif ! grep -q LLVMFuzzerTestOneInput "$bin"; then
    set_result "$pair" "$t" name "FAIL: no LLVMFuzzerTestOneInput (test_all.py would not see a target)"
  else
    set_result "$pair" "$t" name ok
  fi
  check_sanitizer "$pair" "$t" "$bin" "$engine" "$san"
  # files
  local v=ok
  [[ -f $out/$t.dict ]] || v="FAIL: $t.dict missing"
  if [[ ! -f $out/$t.options ]]; then
    v="FAIL: $t.options missing"
  elif ! grep -q '^\[libfuzzer\]' "$out/$t.options" ||
       grep -vE '^[[:space:]]*(#.*|;.*|\[[a-z]+\]|[A-Za-z_]+[[:space:]]*=[[:space:]]*[^[:space:]].*|)$' "$out/$t.options" | grep -q .; then
    v="FAIL: $t.options is not an INI file with a [libfuzzer] section"
  fi
  set_result "$pair" "$t" files "$v"
  # seeds: the zip
  local zip=$out/${t}_seed_corpus.zip n missing=()
  if [[ ! -s $zip ]]; then
    set_result "$pair" "$t" seeds "FAIL: ${t}_seed_corpus.zip missing or empty"
  else
    local listing
    listing=$(unzip -Z1 "$zip")
    n=$(grep -vc '/$' <<<"$listing")
    for f in "$repo_root/corpus/$t"/*; do
      [[ -f $f ]] || continue
      grep -qxF "$(basename "$f")" <<<"$listing" || missing+=("$(basename "$f")")
    done
    if ((n == 0)); then
      set_result "$pair" "$t" seeds "FAIL: ${t}_seed_corpus.zip holds no input"
    elif ((${#missing[@]})); then
      set_result "$pair" "$t" seeds "FAIL: not in the zip: ${missing[*]}"
    else
      set_result "$pair" "$t" seeds "ok ($n inputs)"
    fi
  fi
  # libs
  local unresolved outside
  unresolved=$(ldd "$bin" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
  outside=$(ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' |
            grep -vE '^(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt)\.so|^ld-linux' |
            grep -v " $out/lib/" | awk '{print $1}' | tr '\n' ' ')
  if [[ -n $unresolved ]]; then
    set_result "$pair" "$t" libs "FAIL: not found: $unresolved"
  elif [[ -n $outside ]]; then
    set_result "$pair" "$t" libs "FAIL: resolved outside \$OUT/lib: $outside"
  else
    set_result "$pair" "$t" libs "ok ($(ls "$out/lib" 2>/dev/null | wc -l) in \$OUT/lib)"
  fi
}

check_libfuzzer() {  # pair target out sanitizer replay_seeds
  local pair=$1 t=$2 out=$3 san=$4 replay=$5 logf=$tmp_root/$1-$2
  # instr: exactly bad_build_check's command (no options, no dict).
  local rundir edges
  rundir=$(mktemp -d "$tmp_root/run.XXXXXX")
  (cd "$rundir" && ASAN_OPTIONS=$runner_asan UBSAN_OPTIONS=$runner_ubsan TSAN_OPTIONS=$runner_tsan \
     timeout -k 10 300 "$out/$t" -seed=1337 -runs=4) >"$logf.instr" 2>&1
  edges=$(grep -oP 'INFO: Loaded \d+ module.*\(.*(counters|guards)\):\s+\K\d+' "$logf.instr" | head -1)
  if grep -q "ERROR: no interesting inputs were found. Is the code instrumented" "$logf.instr"; then
    set_result "$pair" "$t" instr "FAIL: no coverage instrumentation"
  elif [[ -z $edges ]]; then
    set_result "$pair" "$t" instr "FAIL: did not start: $(grep -m1 -E 'ERROR|error' "$logf.instr")"
  elif ((edges < 100)); then
    local why=""
    [[ $san == thread ]] && why="; expected under TSan: only the glue is coverage-instrumented"
    set_result "$pair" "$t" instr "WARN: $edges edges, partial instrumentation$why"
  else
    set_result "$pair" "$t" instr "ok ($edges edges)"
  fi
  # runs
  local v=ok n
  for n in 4 13; do
    if ! run_target "$out" "$t" "$logf.runs$n" -seed=1337 -runs=$n ||
       ! grep -q "Done $n runs" "$logf.runs$n"; then
      v="FAIL: -runs=$n: no 'Done $n runs' ($(grep -m1 -E 'ERROR|==[0-9]+==|Done' "$logf.runs$n"))"
      break
    fi
  done
  set_result "$pair" "$t" runs "$v"
  # empty
  : >"$tmp_root/empty-input"
  if run_target "$out" "$t" "$logf.empty" "$tmp_root/empty-input" &&
     grep -q "Executed .*empty-input" "$logf.empty"; then
    set_result "$pair" "$t" empty ok
  else
    set_result "$pair" "$t" empty "FAIL: $(grep -m1 -E 'ERROR|==[0-9]+==' "$logf.empty")"
  fi
  # seeds: replay the unzipped corpus (only if the zip check passed)
  if ((replay)) && [[ ${result["$pair $t seeds"]} == ok* ]]; then
    local sd
    sd=$(mktemp -d "$tmp_root/seeds.XXXXXX")
    unzip -q "$out/${t}_seed_corpus.zip" -d "$sd"
    if ! run_target "$out" "$t" "$logf.seeds" -runs=0 "$sd"; then
      set_result "$pair" "$t" seeds "FAIL: a seed crashes: $(grep -m1 -E 'ERROR|==[0-9]+==' "$logf.seeds")"
    else
      result["$pair $t seeds"]+=", replayed"
    fi
  fi
}

afl_env=(AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
         AFL_FORKSRV_INIT_TMOUT=30000 AFL_IGNORE_UNKNOWN_ENVS=1
         "ASAN_OPTIONS=$runner_asan:abort_on_error=1:symbolize=0:detect_leaks=0"
         "UBSAN_OPTIONS=$runner_ubsan")

check_afl() {  # pair target out run_mutator
  local pair=$1 t=$2 out=$3 run_mutator=$4 logf=$tmp_root/$1-$2
  local in=$tmp_root/afl-in-$t o=$tmp_root/afl-out-$t
  # No seed corpus (SKIP_SEED_CORPUS=1): run_fuzzer gives afl-fuzz one
  # trivial input; here a newline (the empty text program).
  mkdir -p "$in"; printf '\n' >"$in/input"
  local dict=(); [[ -f $out/$t.dict ]] && dict=(-x "$out/$t.dict")
  (cd "$tmp_root" && env "${afl_env[@]}" timeout -k 10 -s INT $((afl_seconds + 40)) \
     afl-fuzz -i "$in" -o "$o" -m none -t 5000+ -V "$afl_seconds" "${dict[@]}" -- "$out/$t") \
     >"$logf.afl" 2>&1
  if ! grep -q "All set and ready to roll" "$logf.afl"; then
    set_result "$pair" "$t" afl "FAIL: afl-fuzz did not start: $(grep -m1 -E 'PROGRAM ABORT|\[-\]' "$logf.afl")"
  elif grep -qE "target binary (crashed|terminated)" "$logf.afl"; then
    set_result "$pair" "$t" afl "FAIL: target crashed or terminated at startup"
  else
    local execs
    execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$o/default/fuzzer_stats" 2>/dev/null)
    set_result "$pair" "$t" afl "ok (${execs:-?} execs in ${afl_seconds} s)"
  fi
  # mutator
  local so=$out/${t}_afl_mutator.so
  if [[ ! -f $so ]]; then
    set_result "$pair" "$t" mutator "FAIL: ${t}_afl_mutator.so missing"
    return
  fi
  if [[ -x $so ]] && grep -q LLVMFuzzerTestOneInput "$so"; then
    set_result "$pair" "$t" mutator "FAIL: ${t}_afl_mutator.so would be taken for a fuzz target"
    return
  fi
  if ((!run_mutator)); then
    set_result "$pair" "$t" mutator "ok (present, not a target; not run in --quick)"
    return
  fi
  local seeds=$tmp_root/afl-seeds-$t om=$tmp_root/afl-mut-$t
  mkdir -p "$seeds"; unzip -q -o "$out/${t}_seed_corpus.zip" -d "$seeds"
  (cd "$tmp_root" && env "${afl_env[@]}" AFL_CUSTOM_MUTATOR_LIBRARY="$so" AFL_CUSTOM_MUTATOR_ONLY=1 \
     timeout -k 10 -s INT $((afl_seconds + 40)) \
     afl-fuzz -i "$seeds" -o "$om" -m none -t 5000+ -V "$afl_seconds" -- "$out/$t") \
     >"$logf.mutator" 2>&1
  local execs queued seeds_n
  execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$om/default/fuzzer_stats" 2>/dev/null)
  queued=$(ls "$om/default/queue" 2>/dev/null | grep -c 'mcf:')
  seeds_n=$(ls "$seeds" | wc -l)
  if ! grep -qiE "custom mutator .*(installed|loaded)|Loading custom mutator" "$logf.mutator"; then
    set_result "$pair" "$t" mutator "FAIL: custom mutator not loaded: $(grep -m1 -E 'PROGRAM ABORT|\[-\]' "$logf.mutator")"
  elif grep -qE "target binary (crashed|terminated)" "$logf.mutator"; then
    set_result "$pair" "$t" mutator "FAIL: target crashed or terminated at startup"
  elif [[ -z $execs || $execs -eq 0 ]]; then
    set_result "$pair" "$t" mutator "FAIL: no execution ($(grep -m1 -E 'PROGRAM ABORT|\[-\]' "$logf.mutator"))"
  else
    set_result "$pair" "$t" mutator "ok ($execs execs, $queued new queue entries from $seeds_n seeds)"
  fi
}

t_all=$EPOCHREALTIME
for pair in "${pairs[@]}"; do
  engine=${pair%%-*}
  san=${pair#*-}
  work=$work_root/$pair
  ((quick)) && work+=-quick
  src=$tmp_root/src-$pair
  out=$tmp_root/out-$pair
  mkdir -p "$work" "$src" "$out"
  ln -s "$repo_root" "$src/mcfuzz"
  cov_flags=-fsanitize=fuzzer-no-link
  env_pair=(SANITIZER="$san" FUZZING_ENGINE="$engine" FUZZING_LANGUAGE=c++ ARCHITECTURE=x86_64
            SRC="$src" WORK="$work" OUT="$out" UBSAN_OPTIONS=silence_unsigned_overflow=1)
  if [[ $engine == afl ]]; then
    cov_flags=""
    env_pair+=(CC=afl-clang-fast CXX=afl-clang-fast++ AFL_CC=clang-14 AFL_CXX=clang++-14
               LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a AFL_QUIET=1 AFL_IGNORE_UNKNOWN_ENVS=1
               ASAN_OPTIONS=detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1)
  else
    env_pair+=(CC=clang-14 CXX=clang++-14 LIB_FUZZING_ENGINE=-fsanitize=fuzzer)
  fi
  base=$base_cflags
  [[ $san == thread ]] && base=${base_cflags_full:-$base_cflags}
  cflags="$base $(sanitizer_flags "$san") $cov_flags"
  cflags=${cflags% }
  env_pair+=(CFLAGS="$cflags" CXXFLAGS="$cflags -stdlib=libc++")

  log "=== $pair: building (WORK=$work) ==="
  t0=$EPOCHREALTIME
  if env -u CFLAGS -u CXXFLAGS -u LDFLAGS "${env_pair[@]}" \
       bash -eu "$repo_root/ci/oss-fuzz/build.sh" >"$tmp_root/build-$pair.log" 2>&1; then
    build_status[$pair]=ok
  else
    build_status[$pair]=FAIL
    failures=$((failures + 1))
    log "$pair: build.sh FAILED; last lines of its log:"
    tail -25 "$tmp_root/build-$pair.log"
  fi
  build_time[$pair]=$(elapsed "$t0")
  log "$pair: build.sh ${build_status[$pair]} in ${build_time[$pair]} s"
  [[ ${build_status[$pair]} == ok ]] || continue

  # test_all.py moves $OUT to a random directory before checking.
  moved=$(mktemp -d "$tmp_root/moved.XXXXXX")/out
  mv "$out" "$moved"
  tlist=()
  for f in "$moved"/*; do
    [[ -f $f && -x $f && $(basename "$f") != *.* ]] && grep -q LLVMFuzzerTestOneInput "$f" &&
      tlist+=("$(basename "$f")")
  done
  targets_of[$pair]=${tlist[*]}
  if ((${#tlist[@]} == 0)); then
    log "$pair: FAIL: no fuzz target in \$OUT"
    failures=$((failures + 1))
    continue
  fi
  t0=$EPOCHREALTIME
  first=1
  for t in "${tlist[@]}"; do
    check_common "$pair" "$t" "$moved" "$engine" "$san"
    replay=1
    ((quick && !first)) && replay=0
    if [[ $engine == libfuzzer ]]; then
      check_libfuzzer "$pair" "$t" "$moved" "$san" "$replay"
    else
      check_afl "$pair" "$t" "$moved" "$replay"
    fi
    first=0
  done
  check_time[$pair]=$(elapsed "$t0")
  log "$pair: checks done in ${check_time[$pair]} s"
  ((keep)) && log "$pair: OUT kept at $moved"
done

# Summary.
printf '\n%-20s %-18s' pair target
for c in "${checks[@]}"; do printf ' %-9s' "$c"; done
printf '\n'
for pair in "${pairs[@]}"; do
  if [[ ${build_status[$pair]:-} != ok ]]; then
    printf '%-20s %-18s build FAILED (%s s)\n' "$pair" - "${build_time[$pair]:-?}"
    continue
  fi
  for t in ${targets_of[$pair]}; do
    printf '%-20s %-18s' "$pair" "$t"
    for c in "${checks[@]}"; do
      v=${result["$pair $t $c"]:--}
      printf ' %-9s' "${v%%[ :(]*}"
    done
    printf '\n'
  done
done
printf '\ndetails:\n'
for pair in "${pairs[@]}"; do
  for t in ${targets_of[$pair]:-}; do
    for c in "${checks[@]}"; do
      v=${result["$pair $t $c"]:-}
      [[ -n $v && $v != ok ]] && printf '  %s %s %s: %s\n' "$pair" "$t" "$c" "$v"
    done
  done
done
printf '\ntimes:'
for pair in "${pairs[@]}"; do
  printf ' %s build %s s, checks %s s;' "$pair" "${build_time[$pair]:-?}" "${check_time[$pair]:--}"
done
printf ' total %s s\n' "$(elapsed "$t_all")"
if ((failures)); then
  log "FAILED: $failures failing check(s)"
  exit 1
fi
log "all checks passed (${pairs[*]})"
exit 0

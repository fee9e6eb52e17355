#!/usr/bin/env bash
# Batch fuzzing: every target at once for a given time, corpus merged back,
# findings deduplicated and minimised, a summary at the end. Resumable.
#
#   bash ci/batch-fuzz.sh [--seconds N] [--targets t1,t2,...] [--jobs N]
#                         [--dir DIR] [--minimize-seconds N] [--progress N]
#                         [--no-build]
#
#   --seconds N           wall time of the campaign (default 600); all targets
#                         run at the same time for that long
#   --targets LIST        default: mc_ioctl_fuzzer,v4l2_ioctl_fuzzer,
#                         lifetime_fuzzer (asan preset), race_fuzzer (tsan)
#   --jobs N              libFuzzer worker processes in all (default: the
#                         number of cores), shared out between the targets,
#                         at least one each: each target runs in libFuzzer's
#                         fork mode, -fork=<its share> -ignore_crashes=1, so a
#                         crash does not stop the campaign
#   --dir DIR             the persistent state (default out/batch)
#   --minimize-seconds N  time to minimise each new finding (default 60;
#                         0: do not minimise)
#   --progress N          a progress line per target every N s (default 30)
#   --no-build            use the binaries already in build/asan, build/tsan
#
# Builds the targets with the asan and tsan presets (as ci/fuzz.sh), then runs
# each from its persistent corpus DIR/corpus/<t>/ plus the shipped seeds
# corpus/<t>/ (race_fuzzer first replays every input of the ASan targets'
# persistent corpora under TSan, then fuzzes from them too: under TSan only
# its glue is coverage-instrumented, so it mostly replays and mutates what the
# ASan targets found; ClusterFuzzLite and OSS-Fuzz run no TSan at all, so
# this script is where race_fuzzer gets fuzzed), with the
# flags of corpus/<t>.options and corpus/<t>.dict. New inputs go to
# DIR/work/<t>/new/, and are merged back at the end with
# `-merge=1 -merge_control_file=...` into DIR/corpus/<t>/ (only inputs that
# add coverage are kept).
#
# Findings (crash-, leak-, timeout-, oom- artifacts) are replayed once with
# the target to get a log, then get a signature:
#   1. `mcf-repro signature LOG` when mcf-repro is built (build/<preset>/
#      .../mcf-repro; fuzzers/repro/signature.h: kind + top model frames);
#   2. else the target's own "==mcfuzz== SIGNATURE <id> <text>" line;
#   3. else the first "==mcfuzz== REPORT" or sanitizer "ERROR:" line, with
#      addresses, pids and numbers normalised, plus ASan's DEDUP_TOKEN, and an
#      id made of the kind and a hash of that text.
# One directory per signature, DIR/findings/<id>/: the first crash file, its
# log, the signature, a count of how often it was seen and by which target;
# a new signature is minimised (mcf-repro minimize when built, else
# libFuzzer's -minimize_crash=1 with the same signature checked afterwards;
# both the original and the minimised input are kept).
#
# Resumable: the corpus, the findings and the cumulative statistics
# (DIR/state.tsv) persist; re-running continues from them. A run that was
# interrupted (Ctrl-C, a killed job) leaves DIR/work/<t>/; the next run first
# merges those inputs and triages those artifacts. Ctrl-C stops the fuzzers
# and still merges, triages and prints the summary.
#
# Summary: DIR/summary.txt (printed) and DIR/summary.json, per target: time,
# executions, execs/s, coverage (cov/ft), corpus before/after, findings
# (new/known); then every finding with its signature. Exit status: 0 nothing
# found in this run, 1 something was found, 2 bad usage or a build error.
set -uo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

die() { printf 'ci/batch-fuzz.sh: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
log() { printf '[batch %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

all_targets=(mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer race_fuzzer)
targets=("${all_targets[@]}")
seconds=600
jobs=$(nproc 2>/dev/null || echo 2)
state=out/batch
min_seconds=60
progress=30
build=1
while (($#)); do
  case $1 in
    --seconds) is_uint "${2:-}" && (($2 > 0)) || die "--seconds needs a positive whole number"
               seconds=$2; shift 2 ;;
    --targets) [[ -n ${2:-} ]] || die "--targets needs a comma-separated list"
               IFS=, read -r -a targets <<<"$2"; shift 2 ;;
    --jobs) is_uint "${2:-}" && (($2 > 0)) || die "--jobs needs a positive whole number"
            jobs=$2; shift 2 ;;
    --dir) [[ -n ${2:-} ]] || die "--dir needs a directory"; state=$2; shift 2 ;;
    --minimize-seconds) is_uint "${2:-}" || die "--minimize-seconds needs a whole number"
                        min_seconds=$2; shift 2 ;;
    --progress) is_uint "${2:-}" && (($2 > 0)) || die "--progress needs a positive whole number"
                progress=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
((${#targets[@]})) || die "--targets is empty"
declare -A seen_t
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${all_targets[*]})"
  [[ -z ${seen_t[$t]:-} ]] || die "target '$t' given twice"
  seen_t[$t]=1
done

preset_of() { [[ $1 == race_fuzzer ]] && echo tsan || echo asan; }
mode_of() {  # the executor mode of a target, for mcf-repro
  case $1 in
    race_fuzzer) echo threads ;;
    lifetime_fuzzer) echo deterministic ;;
    *) echo sequential ;;
  esac
}

# ------------------------------------------------------------ build
if ((build)); then
  bash ci/install-deps.sh >/dev/null || die "installing dependencies failed (ci/install-deps.sh)"
  for preset in $(for t in "${targets[@]}"; do preset_of "$t"; done | sort -u); do
    want=()
    for t in "${targets[@]}"; do [[ $(preset_of "$t") == "$preset" ]] && want+=("$t"); done
    cmake --preset "$preset" >/dev/null || die "configure ($preset) failed"
    # mcf-repro (fuzzers/tools) when the tree has it: signatures and minimisation.
    cmake --build --preset "$preset" --target help 2>/dev/null | grep -q '^mcf-repro:' && want+=(mcf-repro)
    log "building ${want[*]} ($preset)"
    cmake --build --preset "$preset" --target "${want[@]}" >"build/$preset/batch-build.log" 2>&1 ||
      { tail -20 "build/$preset/batch-build.log" >&2; die "build ($preset) failed: build/$preset/batch-build.log"; }
  done
fi
for t in "${targets[@]}"; do
  [[ -x build/$(preset_of "$t")/fuzzers/targets/$t ]] ||
    die "build/$(preset_of "$t")/fuzzers/targets/$t is missing (run without --no-build)"
done
repro_of() {  # the mcf-repro of a preset, or of any build
  local r
  for r in "build/$1/fuzzers/tools/mcf-repro" $(find build -maxdepth 4 -name mcf-repro -type f -perm -u+x 2>/dev/null); do
    [[ -x $r ]] && { echo "$r"; return; }
  done
}

symbolizer=$(command -v llvm-symbolizer-14 || true)
sym=""
[[ -n $symbolizer ]] && { export ASAN_SYMBOLIZER_PATH=$symbolizer TSAN_SYMBOLIZER_PATH=$symbolizer; sym=":external_symbolizer_path=$symbolizer"; }
export ASAN_OPTIONS="dedup_token_length=3:symbolize=1${sym}${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:symbolize=1:dedup_token_length=3${sym}${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="symbolize=1${sym}${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

mkdir -p "$state" || die "cannot create $state"
state=$(cd "$state" && pwd)
mkdir -p "$state/corpus" "$state/work" "$state/findings"

# ------------------------------------------------------------ helpers
bin_of() { echo "$repo_root/build/$(preset_of "$1")/fuzzers/targets/$1"; }
count_files() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }
options_flags() {  # corpus/<t>.options [libfuzzer] -> -key=value
  local f=corpus/$1.options
  [[ -f $f ]] || return 0
  awk '/^\[/ { sect = $0; next }
       sect == "[libfuzzer]" && /=/ {
         k = $0; sub(/[ \t]*=.*/, "", k); v = $0; sub(/^[^=]*=[ \t]*/, "", v)
         gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/[ \t]+$/, "", v); print "-" k "=" v }' "$f"
}
json_str() {  # a JSON string literal
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\t'/\\t}; s=${s//$'\r'/}; s=${s//$'\n'/\\n}
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')"
}
# The last status line of a fork-mode log:
# "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts ..."
last_status() { grep -E '^#[0-9]+: cov: ' "$1" 2>/dev/null | tail -1; }
field() {  # field NAME LINE
  case $1 in
    execs) sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$2" ;;
    cov) sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$2" ;;
    ft) sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$2" ;;
    corp) sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$2" ;;
    rate) sed -nE 's/.* exec\/s ([0-9]+).*/\1/p' <<<"$2" ;;
    crashes) sed -nE 's/.* oom\/timeout\/crash: ([0-9]+\/[0-9]+\/[0-9]+).*/\1/p' <<<"$2" ;;
  esac
}

# Cumulative statistics: DIR/state.tsv, one line per target:
# target <tab> seconds <tab> execs <tab> runs
declare -A cum_secs cum_execs cum_runs
if [[ -f $state/state.tsv ]]; then
  while IFS=$'\t' read -r t s e r; do
    [[ -n $t ]] || continue
    cum_secs[$t]=$s; cum_execs[$t]=$e; cum_runs[$t]=$r
  done <"$state/state.tsv"
fi
save_state() {
  local t tmp=$state/state.tsv.tmp
  : >"$tmp"
  for t in "${!cum_secs[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "$t" "${cum_secs[$t]}" "${cum_execs[$t]:-0}" "${cum_runs[$t]:-0}" >>"$tmp"
  done
  sort -o "$tmp" "$tmp" && mv "$tmp" "$state/state.tsv"
}

# ------------------------------------------------------------ signatures
# signature TARGET LOGFILE -> "id<TAB>text"
normalise() {
  sed -E 's/0x[0-9a-fA-F]+/ADDR/g; s/==[0-9]+==/==PID==/g; s/\b(T|thread |tid=)[0-9]+/\1N/g;
          s/[0-9]+/N/g; s/[[:space:]]+/ /g; s/^ //; s/ $//'
}
signature() {
  local t=$1 logf=$2 repro line id text kind
  repro=$(repro_of "$(preset_of "$t")")
  if [[ -n $repro ]]; then
    line=$("$repro" signature "$logf" 2>/dev/null | head -1)
    if [[ -n $line ]]; then
      id=${line%% *}; text=${line#* }
      [[ $text == "$line" ]] && text=$id
      printf '%s\t%s\n' "$id" "$text"
      return
    fi
  fi
  line=$(grep -m1 '^==mcfuzz== SIGNATURE [^(]' "$logf")
  if [[ -n $line ]]; then
    line=${line#==mcfuzz== SIGNATURE }
    printf '%s\t%s\n' "${line%% *}" "${line#* }"
    return
  fi
  line=$(grep -m1 -E '==mcfuzz== REPORT|ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|WARNING: ThreadSanitizer|runtime error:|SUMMARY: ' "$logf")
  [[ -n $line ]] || line="no report ($(basename "$(dirname "$logf")"))"
  text=$(normalise <<<"$line")
  local dedup
  dedup=$(grep -m1 '^DEDUP_TOKEN:' "$logf" | sed 's/^DEDUP_TOKEN: *//')
  [[ -n $dedup ]] && text+=" | $dedup"
  kind=$(sed -nE 's/.*(REPORT|ERROR: [A-Za-z]+:|WARNING: ThreadSanitizer:) *([A-Za-z-]+).*/\2/p' <<<"$text" | head -1)
  [[ -n $kind ]] || kind=finding
  id="${kind,,}-$(printf '%s' "$text" | sha1sum | cut -c1-10)"
  printf '%s\t%s\n' "$id" "$text"
}

# Replays one input with the target and writes its log.
replay() {  # target file logfile
  local args=()
  local o
  while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags "$1")
  timeout -k 10 120 "$(bin_of "$1")" "${args[@]}" -runs=1 "$2" >"$3" 2>&1
}

declare -A new_findings known_findings
triage() {  # target artifacts-dir
  local t=$1 dir=$2 f kind sig id text fdir
  for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
    [[ -f $f ]] || continue
    kind=${f##*/}; kind=${kind%%-*}
    local logf=$dir/${f##*/}.log
    case $kind in
      timeout|oom)
        id="$kind-$t"; text="$kind in $t (libFuzzer cannot deduplicate these)"
        replay "$t" "$f" "$logf" ;;
      *)
        replay "$t" "$f" "$logf"
        sig=$(signature "$t" "$logf")
        id=${sig%%$'\t'*}; text=${sig#*$'\t'} ;;
    esac
    id=$(tr -c 'A-Za-z0-9_.-' '_' <<<"$id" | sed 's/_*$//')
    fdir=$state/findings/$id
    if [[ -d $fdir ]]; then
      known_findings[$t]=$(( ${known_findings[$t]:-0} + 1 ))
      echo $(( $(cat "$fdir/count") + 1 )) >"$fdir/count"
      grep -qxF "$t" "$fdir/targets" || echo "$t" >>"$fdir/targets"
      rm -f "$f" "$logf"
      log "$t: known finding $id"
      continue
    fi
    mkdir -p "$fdir"
    mv "$f" "$fdir/input"; mv "$logf" "$fdir/log.txt"
    printf '%s\n' "$text" >"$fdir/signature"
    echo 1 >"$fdir/count"; echo "$t" >"$fdir/targets"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$fdir/first_seen"
    new_findings[$t]=$(( ${new_findings[$t]:-0} + 1 ))
    log "$t: NEW finding $id: $text"
    [[ $kind == crash || $kind == leak ]] && minimise "$t" "$fdir" "$id"
  done
}

minimise() {  # target finding-dir id
  local t=$1 fdir=$2 id=$3 repro
  ((min_seconds > 0)) || return 0
  repro=$(repro_of "$(preset_of "$t")")
  if [[ -n $repro && $repro == build/$(preset_of "$t")/* ]]; then
    if timeout -k 10 $((min_seconds + 30)) "$repro" minimize --mode="$(mode_of "$t")" \
         --out="$fdir/minimized.txt" "$fdir/input" >"$fdir/minimize.log" 2>&1 && [[ -s $fdir/minimized.txt ]]; then
      echo "mcf-repro minimize" >"$fdir/minimized_by"
      log "$t: $id minimised by mcf-repro ($(wc -l <"$fdir/minimized.txt") lines)"
      return
    fi
  fi
  # libFuzzer's minimiser does not compare stacks: keep its result only if the
  # signature holds.
  local args=() o
  while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags "$t")
  timeout -k 10 $((min_seconds + 30)) "$(bin_of "$t")" "${args[@]}" -minimize_crash=1 \
    -max_total_time="$min_seconds" -exact_artifact_path="$fdir/minimized" "$fdir/input" \
    >"$fdir/minimize.log" 2>&1
  if [[ -s $fdir/minimized ]]; then
    replay "$t" "$fdir/minimized" "$fdir/minimized.log"
    local sig
    sig=$(signature "$t" "$fdir/minimized.log")
    if [[ ${sig%%$'\t'*} == "$id" ]]; then
      echo "libFuzzer -minimize_crash" >"$fdir/minimized_by"
      log "$t: $id minimised ($(stat -c %s "$fdir/input") -> $(stat -c %s "$fdir/minimized") bytes)"
      return
    fi
    rm -f "$fdir/minimized"
    log "$t: $id: the minimised input has another signature; kept the original only"
  fi
}

merge_back() {  # target: DIR/work/<t>/new (+ seeds) -> DIR/corpus/<t>
  local t=$1 w=$state/work/$1 args=() o
  [[ -d $w/new ]] || return 0
  mkdir -p "$state/corpus/$t"
  while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags "$t")
  local from=("$w/new")
  [[ -d corpus/$t ]] && from+=("$repo_root/corpus/$t")
  if timeout -k 10 1800 "$(bin_of "$t")" "${args[@]}" -merge=1 -merge_control_file="$w/merge.control" \
       "$state/corpus/$t" "${from[@]}" >"$w/merge.log" 2>&1; then
    rm -rf "$w/new" "$w/merge.control"
  else
    log "$t: merge failed (see $w/merge.log); its inputs stay in $w/new for the next run"
    return 1
  fi
}

# ------------------------------------------------------------ resume
for t in "${targets[@]}"; do
  w=$state/work/$t
  if [[ -d $w/new || -n $(find "$w/artifacts" -type f 2>/dev/null | head -1) ]]; then
    log "$t: resuming an interrupted run: merging $(count_files "$w/new") inputs, triaging $(count_files "$w/artifacts") artifacts"
    [[ -d $w/artifacts ]] && triage "$t" "$w/artifacts"
    merge_back "$t"
  fi
done
# Findings of earlier runs are not this run's.
for t in "${targets[@]}"; do new_findings[$t]=0; known_findings[$t]=0; done

# ------------------------------------------------------------ fuzz
declare -A corp_before share pid_of
n=${#targets[@]}
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  share[$t]=$(( jobs / n + (i < jobs % n ? 1 : 0) ))
  ((share[$t] >= 1)) || share[$t]=1
  corp_before[$t]=$(count_files "$state/corpus/$t")
done

stopping=0
on_signal() {
  ((stopping)) && { log "second interrupt: leaving the rest for the next run"; exit 130; }
  stopping=1
  log "interrupted: stopping the fuzzers, then merging and triaging"
  for t in "${!pid_of[@]}"; do kill -TERM -- "-${pid_of[$t]}" 2>/dev/null; done
}
trap on_signal INT TERM

# race_fuzzer: a replay pass of the ASan targets' persistent corpora under
# TSan (real threads) before the campaign. Fork mode would load them too, but
# it keeps only inputs that add coverage, and under TSan only the glue has
# any: nearly all of them would never run. A TSan report stops the pass at
# that input (the artifact is triaged with the campaign's).
if [[ " ${targets[*]} " == *" race_fuzzer "* ]]; then
  replay_dirs=()
  for other in lifetime_fuzzer mc_ioctl_fuzzer v4l2_ioctl_fuzzer; do
    [[ -d $state/corpus/$other && -n $(ls -A "$state/corpus/$other") ]] && replay_dirs+=("$state/corpus/$other")
  done
  if ((${#replay_dirs[@]})); then
    mkdir -p "$state/work/race_fuzzer/artifacts"
    n_replay=$(cat <(for d in "${replay_dirs[@]}"; do find "$d" -maxdepth 1 -type f; done) | wc -l)
    t_replay=$SECONDS
    args=()
    while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags race_fuzzer)
    for d in "${replay_dirs[@]}"; do
      timeout -k 10 $((seconds + 60)) "$(bin_of race_fuzzer)" "${args[@]}" -runs=0 \
        -artifact_prefix="$state/work/race_fuzzer/artifacts/" "$d" \
        >>"$state/work/race_fuzzer/replay.log" 2>&1 ||
        log "race_fuzzer: the replay of $d stopped at a finding (triaged after the campaign)"
    done
    log "race_fuzzer: replayed $n_replay inputs of the ASan targets' corpora under TSan in $((SECONDS - t_replay)) s"
  fi
fi

t_start=$SECONDS
log "campaign: ${targets[*]} for $seconds s, --jobs $jobs, state in $state"
for t in "${targets[@]}"; do
  w=$state/work/$t
  mkdir -p "$w/new" "$w/artifacts" "$state/corpus/$t"
  args=()
  while read -r o; do [[ -n $o ]] && args+=("$o"); done < <(options_flags "$t")
  [[ -f corpus/$t.dict ]] && args+=("-dict=$repo_root/corpus/$t.dict")
  dirs=("$w/new" "$state/corpus/$t")
  [[ -d corpus/$t ]] && dirs+=("$repo_root/corpus/$t")
  if [[ $t == race_fuzzer ]]; then
    for other in lifetime_fuzzer mc_ioctl_fuzzer v4l2_ioctl_fuzzer; do
      [[ -d $state/corpus/$other && -n $(ls -A "$state/corpus/$other") ]] && dirs+=("$state/corpus/$other")
    done
  fi
  log "$t: -fork=${share[$t]}, corpus ${corp_before[$t]} (+ $(count_files "corpus/$t") seeds)"
  # setsid: the fuzzer's process group gets the signals, not this script's.
  setsid "$(bin_of "$t")" "${args[@]}" -fork="${share[$t]}" -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -max_total_time="$seconds" -artifact_prefix="$w/artifacts/" -print_final_stats=1 \
    "${dirs[@]}" >"$w/fuzz.log" 2>&1 &
  pid_of[$t]=$!
done

deadline=$(( t_start + seconds + 120 ))
next_progress=$(( SECONDS + progress ))
while :; do
  alive=0
  for t in "${targets[@]}"; do kill -0 "${pid_of[$t]}" 2>/dev/null && alive=1; done
  ((alive)) || break
  if ((SECONDS >= deadline)); then
    log "fuzzers overran the time by 120 s: stopping them"
    for t in "${targets[@]}"; do kill -TERM -- "-${pid_of[$t]}" 2>/dev/null; done
    sleep 5
    for t in "${targets[@]}"; do kill -KILL -- "-${pid_of[$t]}" 2>/dev/null; done
  fi
  if ((SECONDS >= next_progress)); then
    next_progress=$(( SECONDS + progress ))
    for t in "${targets[@]}"; do
      s=$(last_status "$state/work/$t/fuzz.log")
      printf '[batch %s] %4d/%d s %-18s execs %s cov %s ft %s corp %s exec/s %s oom/timeout/crash %s\n' \
        "$(date +%H:%M:%S)" $((SECONDS - t_start)) "$seconds" "$t" "$(field execs "$s")" \
        "$(field cov "$s")" "$(field ft "$s")" "$(field corp "$s")" "$(field rate "$s")" "$(field crashes "$s")"
    done
  fi
  sleep 1
done
for t in "${targets[@]}"; do wait "${pid_of[$t]}" 2>/dev/null; done
elapsed=$(( SECONDS - t_start ))
trap - INT TERM
trap 'log "interrupted while merging: the next run resumes"; exit 130' INT TERM

# ------------------------------------------------------------ triage, merge
declare -A execs rate cov ft corp_after merged
for t in "${targets[@]}"; do
  s=$(last_status "$state/work/$t/fuzz.log")
  execs[$t]=$(field execs "$s"); execs[$t]=${execs[$t]:-0}
  rate[$t]=$(field rate "$s"); cov[$t]=$(field cov "$s"); ft[$t]=$(field ft "$s")
  triage "$t" "$state/work/$t/artifacts"
  before_merge=$(count_files "$state/corpus/$t")
  merge_back "$t"
  corp_after[$t]=$(count_files "$state/corpus/$t")
  merged[$t]=$(( corp_after[$t] - before_merge ))
  cum_secs[$t]=$(( ${cum_secs[$t]:-0} + elapsed ))
  cum_execs[$t]=$(( ${cum_execs[$t]:-0} + execs[$t] ))
  cum_runs[$t]=$(( ${cum_runs[$t]:-0} + 1 ))
done
save_state

# ------------------------------------------------------------ summary
workers=0
for t in "${targets[@]}"; do ((workers += share[$t])); done
found=0
for t in "${targets[@]}"; do ((found += new_findings[$t] + known_findings[$t])); done
{
  printf 'batch fuzzing: %s s this run (%s asked), %s workers for %s cores asked (one at least per target), state %s\n\n' \
    "$elapsed" "$seconds" "$workers" "$jobs" "$state"
  printf '%-18s %-4s %4s %9s %6s %6s %6s %11s %4s %5s %8s\n' target pre fork execs exec/s cov ft \
    corpus new known total-s
  for t in "${targets[@]}"; do
    printf '%-18s %-4s %4s %9s %6s %6s %6s %11s %4s %5s %8s\n' "$t" "$(preset_of "$t")" "${share[$t]}" \
      "${execs[$t]}" "${rate[$t]:-?}" "${cov[$t]:-?}" "${ft[$t]:-?}" \
      "${corp_before[$t]}->${corp_after[$t]}" "${new_findings[$t]}" "${known_findings[$t]}" \
      "${cum_secs[$t]}"
  done
  printf '(pre: preset; corpus: persistent corpus before -> after the merge; new/known: findings of\n'
  printf ' this run with a new or an already seen signature; total-s: fuzzing time over all runs)\n'
  printf '\nfindings (all runs, %s):\n' "$(ls "$state/findings" | wc -l)"
  for fdir in "$state/findings"/*/; do
    [[ -d $fdir ]] || continue
    id=$(basename "$fdir")
    printf '  %s  x%s  [%s]  %s\n' "$id" "$(cat "$fdir/count")" "$(paste -sd, "$fdir/targets")" \
      "$(head -1 "$fdir/signature")"
    printf '      input %s%s\n' "${fdir}input" \
      "$( [[ -f ${fdir}minimized.txt ]] && echo ", minimised ${fdir}minimized.txt" ||
          { [[ -f ${fdir}minimized ]] && echo ", minimised ${fdir}minimized"; } )"
  done
  printf '\nreplay: build/<preset>/fuzzers/targets/<target> <input>   (asan; race_fuzzer: tsan)\n'
} | tee "$state/summary.txt"

{
  printf '{\n  "seconds": %s, "asked_seconds": %s, "workers": %s, "jobs_asked": %s, "state_dir": %s,\n  "targets": [\n' \
    "$elapsed" "$seconds" "$workers" "$jobs" "$(json_str "$state")"
  sep=""
  for t in "${targets[@]}"; do
    printf '%s    {"name": %s, "preset": %s, "fork": %s, "execs": %s, "execs_per_sec": %s, "cov": %s, "ft": %s,\n' \
      "$sep" "$(json_str "$t")" "$(json_str "$(preset_of "$t")")" "${share[$t]}" "${execs[$t]}" \
      "${rate[$t]:-null}" "${cov[$t]:-null}" "${ft[$t]:-null}"
    printf '     "corpus_before": %s, "corpus_after": %s, "merged": %s, "new_findings": %s, "known_findings": %s,\n' \
      "${corp_before[$t]}" "${corp_after[$t]}" "${merged[$t]}" "${new_findings[$t]}" "${known_findings[$t]}"
    printf '     "total_seconds": %s, "total_execs": %s, "runs": %s}' "${cum_secs[$t]}" "${cum_execs[$t]}" "${cum_runs[$t]}"
    sep=$',\n'
  done
  printf '\n  ],\n  "findings": ['
  sep=""
  for fdir in "$state/findings"/*/; do
    [[ -d $fdir ]] || continue
    min=null
    [[ -f ${fdir}minimized.txt ]] && min=$(json_str "${fdir}minimized.txt")
    [[ -f ${fdir}minimized ]] && min=$(json_str "${fdir}minimized")
    printf '%s\n    {"id": %s, "signature": %s, "count": %s, "targets": [%s], "first_seen": %s, "input": %s, "minimized": %s}' \
      "$sep" "$(json_str "$(basename "$fdir")")" "$(json_str "$(head -1 "$fdir/signature")")" "$(cat "$fdir/count")" \
      "$(sep2=""; while read -r x; do printf '%s' "$sep2$(json_str "$x")"; sep2=", "; done <"$fdir/targets")" \
      "$(json_str "$(cat "$fdir/first_seen" 2>/dev/null)")" "$(json_str "${fdir}input")" "$min"
    sep=","
  done
  printf '\n  ]\n}\n'
} >"$state/summary.json"
log "summary: $state/summary.txt, $state/summary.json"
((found)) && exit 1
exit 0

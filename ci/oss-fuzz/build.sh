#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script of mcfuzz (projects/mcfuzz/build.sh
# in google/oss-fuzz; .clusterfuzzlite/build.sh runs this file).
#
# Honours the base-builder contract and nothing else:
#   CC CXX CFLAGS CXXFLAGS  compiler and every compile/link flag (sanitizer and
#                           coverage flags included); the CMake presets and
#                           sanitizers/flavours.cmake flags are NOT used
#                           (MCF_OSSFUZZ=ON, see sanitizers/flavours.cmake)
#   LIB_FUZZING_ENGINE      how the targets link their engine
#                           (-fsanitize=fuzzer, or libAFLDriver.a for AFL++)
#   SANITIZER               address | undefined | thread | coverage (| none)
#   FUZZING_ENGINE          libfuzzer | afl (default libfuzzer)
#   SRC WORK OUT            sources ($SRC/mcfuzz, or MCF_SRC_DIR), build tree
#                           ($WORK/build-<engine>-<sanitizer>, kept: a second
#                           run is incremental), artifacts
#
# Puts into $OUT, for every target of the build:
#   <target>                  the fuzz target (static except libc/libstdc++)
#   <target>_seed_corpus.zip  corpus/<target>/* (text programs, one per file)
#                             plus corpus/regressions/*.txt (fixed findings:
#                             OSS-Fuzz asks for past crashers in the seeds)
#   <target>.dict             corpus/<target>.dict
#   <target>.options          corpus/<target>.options
#   lib/                      the shared libraries the targets need beyond
#                             libc/libm/libstdc++/libgcc_s (Debian's Abseil is
#                             linked as .so files); the targets find them
#                             through RPATH $ORIGIN/lib, as OSS-Fuzz asks
#   <target>_afl_mutator.so   FUZZING_ENGINE=afl only: the structure-aware
#                             mutator for AFL_CUSTOM_MUTATOR_LIBRARY (built
#                             uninstrumented, not executable; ci/afl-fuzz.sh)
#
# Targets per sanitizer: address, undefined, coverage (and none):
# mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer; thread: race_fuzzer.
# (empty_fuzzer, the throughput baseline, is never shipped.)
#
# SANITIZER=thread: clang's inline 8-bit counters (-fsanitize=fuzzer-no-link,
# which OSS-Fuzz puts in CFLAGS) are plain stores that TSan reports as races
# between the model's threads, so this script removes fuzzer-no-link from the
# flags and only the libFuzzer glue (fuzzers/targets/target.cc) is
# coverage-instrumented, as in the tsan preset (sanitizers/flavours.cmake).
# race_fuzzer then has little coverage feedback; use it to replay corpora grown
# by the ASan targets (ci/batch-fuzz.sh does). Neither OSS-Fuzz/ClusterFuzz
# nor ClusterFuzzLite runs TSan fuzzing (CFLite rejects sanitizer=thread);
# the batch script and the test command cover race_fuzzer under TSan.
#
# -stdlib=libc++ (OSS-Fuzz's CXXFLAGS_EXTRA) is removed: the Debian/Ubuntu
# Abseil and GoogleTest packages the build links are built against libstdc++,
# and the two C++ libraries do not mix.
#
# Local use without Docker: ci/check-oss-fuzz-build.sh sets the environment
# as base-builder does and runs this script, then checks $OUT.

: "${SRC:?}" "${WORK:?}" "${OUT:?}" "${CC:?}" "${CXX:?}"
: "${CFLAGS:=}" "${CXXFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${SANITIZER:=address}" "${FUZZING_ENGINE:=libfuzzer}"

src=${MCF_SRC_DIR:-$SRC/mcfuzz}
[[ -f $src/CMakeLists.txt ]] || { echo "build.sh: no mcfuzz sources at $src" >&2; exit 1; }
src=$(cd "$src" && pwd -P)  # CMake's cache records the real path

case $SANITIZER in
  address|none|introspector) flavour=asan ;;
  undefined) flavour=ubsan ;;
  thread) flavour=tsan ;;
  coverage) flavour=coverage ;;
  *) echo "build.sh: SANITIZER=$SANITIZER is not supported (address, undefined, thread," \
          "coverage): the Debian Abseil/GoogleTest packages are not built with it" >&2
     exit 1 ;;
esac
if [[ $flavour == tsan ]]; then
  targets=(race_fuzzer)
else
  targets=(mc_ioctl_fuzzer v4l2_ioctl_fuzzer lifetime_fuzzer)
fi

# Removes whole words from a flag string.
drop() {
  local flags=" $1 " w
  shift
  for w in "$@"; do flags=${flags// $w / }; done
  flags=${flags# }
  printf '%s' "${flags% }"
}
CXXFLAGS=$(drop "$CXXFLAGS" -stdlib=libc++)
if [[ $flavour == tsan ]]; then
  CFLAGS=$(drop "$CFLAGS" -fsanitize=fuzzer-no-link)
  CXXFLAGS=$(drop "$CXXFLAGS" -fsanitize=fuzzer-no-link)
fi

jobs=$(nproc 2>/dev/null || echo 2)
build=$WORK/build-$FUZZING_ENGINE-$SANITIZER

# Flags are passed as cache values, not only through the environment, so a
# re-run with a kept $WORK uses the flags of this run.
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DCMAKE_BUILD_RPATH='$ORIGIN/lib' \
  -DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags \
  -DMCF_OSSFUZZ=ON -DMCF_FLAVOUR="$flavour" \
  -DMCF_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# Shared libraries into $OUT/lib. DT_RPATH (--disable-new-dtags), unlike
# DT_RUNPATH, also applies to the libraries' own dependencies.
copy_shared_libs() {
  mkdir -p "$OUT/lib"
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r soname path; do
    case $soname in
      libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) ;;
      *) [[ $path -ef $OUT/lib/$soname ]] || cp -L "$path" "$OUT/lib/$soname" ;;
    esac
  done
}

for t in "${targets[@]}"; do
  cp "$build/fuzzers/targets/$t" "$OUT/$t"
  copy_shared_libs "$OUT/$t"
  rm -f "$OUT/${t}_seed_corpus.zip"
  seeds=()
  for f in "$src/corpus/$t"/* "$src/corpus/regressions"/*.txt; do
    [[ -f $f ]] && seeds+=("$f")
  done
  # -j: flat (one input per file, as run_fuzzer unzips it); -X: no extra attributes.
  ((${#seeds[@]})) && zip -q -j -X "$OUT/${t}_seed_corpus.zip" "${seeds[@]}"
  for ext in dict options; do
    [[ -f $src/corpus/$t.$ext ]] && cp "$src/corpus/$t.$ext" "$OUT/$t.$ext"
  done
done

# AFL++: the custom-mutator libraries, in a configuration of their own with
# no sanitizer or coverage flags (afl-fuzz loads them) and AFL_NOOPT=1, which
# makes afl-clang-fast a plain clang (OSS-Fuzz's recipe for uninstrumented
# parts of a build).
if [[ $FUZZING_ENGINE == afl && $flavour != tsan ]]; then
  plain_c=$(drop "$CFLAGS" $(printf '%s\n' $CFLAGS | grep -E '^-f(no-)?sanitize' || true))
  plain_cxx=$(drop "$CXXFLAGS" $(printf '%s\n' $CXXFLAGS | grep -E '^-f(no-)?sanitize' || true))
  mbuild=$WORK/build-afl-mutator
  AFL_NOOPT=1 cmake -S "$src" -B "$mbuild" -G Ninja \
    -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$plain_c" -DCMAKE_CXX_FLAGS="$plain_cxx" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_BUILD_RPATH='$ORIGIN/lib' \
    -DCMAKE_MODULE_LINKER_FLAGS=-Wl,--disable-new-dtags \
    -DMCF_OSSFUZZ=ON -DMCF_FLAVOUR=asan -DMCF_AFL_MUTATOR=ON
  AFL_NOOPT=1 cmake --build "$mbuild" -j "$jobs" \
    --target "${targets[@]/%/_afl_mutator}"
  for t in "${targets[@]}"; do
    install -m 0644 "$mbuild/fuzzers/targets/${t}_afl_mutator.so" "$OUT/${t}_afl_mutator.so"
    copy_shared_libs "$OUT/${t}_afl_mutator.so"
  done
fi

echo "build.sh: $FUZZING_ENGINE/$SANITIZER: ${targets[*]} in $OUT"

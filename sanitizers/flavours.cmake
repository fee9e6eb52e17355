# The one place where each build flavour's compiler and linker flags live.
# Selected by MCF_FLAVOUR (set by the presets in CMakePresets.json).
#
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
#   tsan      ThreadSanitizer (cannot share a binary with ASan)
#   ubsan     UndefinedBehaviorSanitizer alone, trapping on every check
#   coverage  clang source-based coverage (llvm-profdata / llvm-cov)
#   debug     no instrumentation, -O0 -g
#   release   -O2, assertions kept (the model's reports are not asserts)
#
# Sanitizer flavours also compile everything with -fsanitize=fuzzer-no-link
# (coverage instrumentation for libFuzzer; the sanitizer runtime supplies the
# callbacks for ordinary binaries), so a fuzz target links the same libraries
# the tests use. MCF_FUZZING is ON for those flavours; fuzzers/targets adds
# -fsanitize=fuzzer to the targets' link line.

# MCF_OSSFUZZ=ON (ci/oss-fuzz/build.sh: OSS-Fuzz, ClusterFuzzLite, the local
# check ci/check-oss-fuzz-build.sh): no flags from here. The compiler and every
# flag come from CC/CXX/CFLAGS/CXXFLAGS (CMake reads them at configure time),
# the engine from MCF_LIB_FUZZING_ENGINE ($LIB_FUZZING_ENGINE, see
# fuzzers/targets/); MCF_FLAVOUR (asan, ubsan, tsan or coverage, from
# $SANITIZER) only selects which targets are built.
option(MCF_OSSFUZZ "OSS-Fuzz style build: compiler and flags from the environment" OFF)
if(MCF_OSSFUZZ)
  set(MCF_FUZZING ON)
  add_compile_definitions(MCF_FLAVOUR_${MCF_FLAVOUR}=1 MCF_FLAVOUR_NAME="${MCF_FLAVOUR}")
  message(STATUS "mcfuzz flavour: ${MCF_FLAVOUR} (OSS-Fuzz style: ${CMAKE_CXX_FLAGS})")
  return()
endif()

set(_mcf_common -g -fno-omit-frame-pointer)
# unsigned overflow and implicit conversions are well-defined C++ and are used on
# purpose in encodings and hashes; keep UBSan to undefined behaviour only.
set(_mcf_ubsan_checks undefined,float-divide-by-zero,local-bounds)

set(MCF_FUZZING OFF)
if(MCF_FLAVOUR STREQUAL "asan")
  set(_mcf_flags ${_mcf_common} -O1 -fsanitize=address,${_mcf_ubsan_checks},fuzzer-no-link
      -fno-sanitize-recover=all -fsanitize-address-use-after-scope)
  set(_mcf_link -fsanitize=address,${_mcf_ubsan_checks})
  set(MCF_FUZZING ON)
elseif(MCF_FLAVOUR STREQUAL "tsan")
  # No coverage instrumentation of the model under TSan: fuzzer-no-link's
  # inline 8-bit counters are plain stores that TSan instruments and reports
  # as races between model threads, and clang 14's libFuzzer refuses
  # trace-pc-guard (both measured here). race_fuzzer therefore gets coverage
  # from its own glue only and replays corpora grown by the ASan targets.
  set(_mcf_flags ${_mcf_common} -O1 -fsanitize=thread)
  set(_mcf_link -fsanitize=thread)
  set(MCF_FUZZING ON)
elseif(MCF_FLAVOUR STREQUAL "ubsan")
  set(_mcf_flags ${_mcf_common} -O1 -fsanitize=${_mcf_ubsan_checks},fuzzer-no-link
      -fno-sanitize-recover=all)
  set(_mcf_link -fsanitize=${_mcf_ubsan_checks})
  set(MCF_FUZZING ON)
elseif(MCF_FLAVOUR STREQUAL "coverage")
  set(_mcf_flags ${_mcf_common} -O0 -fprofile-instr-generate -fcoverage-mapping)
  set(_mcf_link -fprofile-instr-generate -fcoverage-mapping)
elseif(MCF_FLAVOUR STREQUAL "debug")
  set(_mcf_flags ${_mcf_common} -O0)
  set(_mcf_link)
elseif(MCF_FLAVOUR STREQUAL "release")
  set(_mcf_flags -g -O2)
  set(_mcf_link)
else()
  message(FATAL_ERROR "MCF_FLAVOUR='${MCF_FLAVOUR}' is not one of "
                      "asan tsan ubsan coverage debug release")
endif()

add_compile_options(${_mcf_flags})
add_link_options(${_mcf_link})
add_compile_definitions(MCF_FLAVOUR_${MCF_FLAVOUR}=1 MCF_FLAVOUR_NAME="${MCF_FLAVOUR}")
message(STATUS "mcfuzz flavour: ${MCF_FLAVOUR} (${_mcf_flags})")

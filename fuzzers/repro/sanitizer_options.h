// The sanitizer options built into every binary that runs programs: the fuzz
// targets and the repro tool (whose child runs must see a finding exactly as
// the target that found it). One definition, expanded once per binary:
//
//   MCF_SANITIZER_DEFAULT_OPTIONS()   // at file scope, in one source file
//
// A user's *SAN_OPTIONS come after these and win.
//   TSan: halt on the first report; the model's reports abort inside
//         libFuzzer's signal handler, which allocates: not a finding.
//   ASan: leak checking (libFuzzer checks after each input that allocated
//         more than it freed), use-after-return, strict string checks.
//   UBSan: halt, with a stack (the crash signature needs frames).
// Symbolisation is the runtimes' default (symbolize=1, llvm-symbolizer from
// PATH or *SAN_SYMBOLIZER_PATH): signatures are made of function names.
// Suppressions: none. Every report the fuzzers made so far was a real bug of
// the model, fixed, with a regression entry (corpus/regressions/); the one
// report that is the harness's and not the model's (TSan's signal-unsafe
// call above) is turned off by its option. A suppression that ever becomes
// unavoidable goes into sanitizers/<tool>.supp, one reason per entry, named
// here by suppressions=.
#pragma once

// The runtimes call these before they are initialised: no instrumentation
// may run inside (TSan crashed there on a fresh build).
#define MCF_SANITIZER_OPTIONS_HOOK extern "C" __attribute__((disable_sanitizer_instrumentation, used))

#define MCF_SANITIZER_DEFAULT_OPTIONS()                                                     \
  MCF_SANITIZER_OPTIONS_HOOK const char* __tsan_default_options() {                         \
    return "halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0";                \
  }                                                                                         \
  MCF_SANITIZER_OPTIONS_HOOK const char* __asan_default_options() {                         \
    return "detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1";         \
  }                                                                                         \
  MCF_SANITIZER_OPTIONS_HOOK const char* __ubsan_default_options() {                        \
    return "halt_on_error=1:print_stacktrace=1";                                            \
  }

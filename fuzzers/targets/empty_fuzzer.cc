// empty_fuzzer: does nothing with its input. Built with the same flags as the
// real targets, it is the baseline of the throughput figures (DESIGN.md §5).
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return 0; }

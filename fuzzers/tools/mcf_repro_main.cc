// mcf-repro: the crash reproduction tool over the driver table (drivers/).
// See repro_cli.h, or run mcf-repro --help.
#include "fuzzers/repro/sanitizer_options.h"
#include "fuzzers/tools/repro_cli.h"

MCF_SANITIZER_DEFAULT_OPTIONS()

int main(int argc, char** argv) { return mcf::repro::repro_main(argc, argv, {}); }

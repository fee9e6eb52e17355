// mcf-repro-fixture: mcf-repro over a driver table holding only the fixture
// driver (fixture_driver.h, bugs put back on purpose), for the end-to-end
// tests of tests/fuzzers/repro_cli_test.cc. Programs name its device
// "mcf-fixture.0".
//
// The table is swapped at link time: this file defines mcf::driver_table()
// and mcf::find_driver(), so the linker never takes drivers/driver_table.cc
// out of libmcf_drivers.a (an archive member is only linked for a symbol
// still undefined). That is how a user runs the fuzzers' executor, encodings
// and this tool over their own driver models without touching drivers/.
#include "drivers/driver_table.h"
#include "fuzzers/repro/sanitizer_options.h"
#include "fuzzers/tools/repro_cli.h"
#include "tests/repro_fixture/fixture_driver.h"

MCF_SANITIZER_DEFAULT_OPTIONS()

namespace mcf {

const std::vector<driver_desc>& driver_table() {
  static const std::vector<driver_desc> table = {
      {fixture::kFixtureDriverName, "repro fixture: bugs A, B, C of tests/repro_fixture/",
       fixture::fixture_driver_register, fixture::fixture_driver_unregister,
       fixture::fixture_device_add},
  };
  return table;
}

const driver_desc* find_driver(const std::string& name) {
  for (const driver_desc& d : driver_table())
    if (name == d.name) return &d;
  return nullptr;
}

}  // namespace mcf

int main(int argc, char** argv) {
  mcf::repro::ReproConfig config;
  config.name = "mcf-repro-fixture";
  // The fixture's frames are the "driver" frames of its signatures.
  config.signature.model_dirs = {"tests/repro_fixture/"};
  return mcf::repro::repro_main(argc, argv, config);
}

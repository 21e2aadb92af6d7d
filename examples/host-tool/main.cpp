// model_to_c: a host tool on mcuport's C++ API. Loads a model document (mcuport.to_json's
// output), prints what it is, and writes its C header for a target:
//   model_to_c MODEL.json NAME TARGET NUMERIC OUT.h
// e.g. model_to_c forest.json forest cortex-m0 fixed forest.h
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: model_to_c MODEL.json NAME TARGET NUMERIC OUT.h\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "model_to_c: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();

  mcuport::PortOptions options;
  options.name = argv[2];
  options.target = argv[3];
  mcuport::PortResult result;
  try {
    options.numeric = mcuport::parse_numeric(argv[4]);
    const mcuport::Model model = mcuport::load_model(text.str());  // validated IR
    std::cout << model.info.estimator << " (" << mcuport::to_string(model.info.task) << "), "
              << model.info.n_features << " features, " << model.n_classes() << " classes\n";
    result = mcuport::port_model(text.str(), options);
  } catch (const mcuport::Error& error) {  // a bad document or option: the message names it
    std::cerr << "model_to_c: " << error.what() << "\n";
    return 1;
  }
  std::ofstream out(argv[5], std::ios::binary);
  out << result.header;
  if (!out.flush()) {
    std::cerr << "model_to_c: cannot write " << argv[5] << "\n";
    return 1;
  }
  std::cout << mcuport::to_string(result.numeric) << " C for " << options.target << ": "
            << result.table_bytes << " bytes of tables, written to " << argv[5] << "\n";
  return 0;
}

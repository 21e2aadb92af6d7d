// What a target decides, as data: the default numeric mode, integer widths, where constant
// tables live, capacities and clock (for reports), and the compile flags the tests use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcuport/ir.hpp"

namespace mcuport {

struct Target {
  std::string name;
  std::string description;
  bool has_fpu = false;             // single-precision float in hardware
  Numeric default_numeric = Numeric::Fixed;
  int int_bits = 32;                // width of C `int` on the target
  std::string compiler;             // the cross compiler the tests and reports use
  std::vector<std::string> cflags;  // flags for that compiler
  uint32_t clock_hz = 0;
  uint32_t flash_bytes = 0;         // 0 = not a constraint (host)
  uint32_t ram_bytes = 0;
};

const std::vector<Target>& known_targets();

// Throws mcuport::Error naming the known targets when `name` is not one of them.
const Target& find_target(const std::string& name);

}  // namespace mcuport

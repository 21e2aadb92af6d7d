// A readable text form of the IR, for `mcuport --dump` and for debugging passes.
#pragma once

#include <string>

#include "mcuport/ir.hpp"

namespace mcuport {

// At most `max_nodes` nodes per tree are listed; the summary lines are always complete.
std::string dump(const Model& model, std::size_t max_nodes = 64);

}  // namespace mcuport

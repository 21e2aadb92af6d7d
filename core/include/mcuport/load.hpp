// Model JSON (format version 1, schema/model-v1.schema.json) -> validated IR. This is the only
// way into mcuport: the Python package and the command line both come through here.
#pragma once

#include <string>

#include "mcuport/ir.hpp"

namespace mcuport {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kFormatName = "mcuport-model";

// Parses and validates a model document. Throws mcuport::Error naming the JSON path of the
// first problem; on success every invariant the later passes rely on holds.
Model load_model(const std::string& json_text);

}  // namespace mcuport

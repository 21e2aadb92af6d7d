// Model JSON (format version 1, schema/model-v1.schema.json) -> validated IR. This is the only
// way into mcuport: the Python package and the command line both come through here.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "mcuport/ir.hpp"

namespace mcuport {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kFormatName = "mcuport-model";

// Parses and validates a model document. Throws mcuport::Error naming the JSON path of the
// first problem; on success every invariant the later passes rely on holds.
Model load_model(const std::string& json_text);

// The same from a document that is already a JSON value, built by a program rather than read:
// the Python package hands over what its exporters build this way, with no JSON text written
// and parsed in between (for a 200-tree forest the text took about half the port's time). It is
// validated as load_model validates its parse, with the same errors for what both can hold (a
// NaN or an infinity, which no text holds, is refused with its path); what only text is checked
// for (its size and nesting, numbers beyond a double, strings that are not UTF-8) is the
// builder's to keep (the Python package's converter, _core.port_document, checks all of it but
// the size).
Model load_document(const nlohmann::json& document);

}  // namespace mcuport

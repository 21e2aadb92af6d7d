// IR -> model JSON (format version 1): the inverse of load_model. A document exported by the
// Python package, loaded and saved again, is the same document: the same keys with the same
// values, every number the same double (tests/cpp/test_save.cpp, tests/python/test_determinism.py).
#pragma once

#include <string>

#include "mcuport/ir.hpp"

namespace mcuport {

// The model as a document that load_model reads back into an equal model, written as Python's
// json.dumps writes it (numbers as repr, \u escapes beyond printable ASCII): `indent` < 0
// gives one line with the separators "," and ":" (mcuport.to_json's form), >= 0 indents by that
// many spaces. Deterministic: the same model gives the same bytes. A model built by hand rather
// than loaded may break load_model's rules; save_model throws mcuport::Error (naming the JSON
// path it would have written) only for what JSON cannot hold: a NaN or infinite number, or a
// string that is not UTF-8.
std::string save_model(const Model& model, int indent = -1);

}  // namespace mcuport

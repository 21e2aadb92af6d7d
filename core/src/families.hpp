// The loaders of the model families, one file each (load_<family>.cpp). Internal to the core.
#pragma once

#include "json_cursor.hpp"
#include "mcuport/ir.hpp"

namespace mcuport::detail {

// `params` is the model's "params" object; `info` has been loaded and checked already.
TreeEnsemble load_tree_ensemble(const JsonCursor& params, const ModelInfo& info);
SupportVectorMachine load_svm(const JsonCursor& params, const ModelInfo& info);
LinearModel load_linear(const JsonCursor& params, const ModelInfo& info);
GaussianNaiveBayes load_gaussian_nb(const JsonCursor& params, const ModelInfo& info);

}  // namespace mcuport::detail

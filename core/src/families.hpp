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
Mahalanobis load_mahalanobis(const JsonCursor& params, const ModelInfo& info);
// PCA's fields, as a model's "params" or as a pipeline stage (which also has "kind").
Pca load_pca(const JsonCursor& params, std::size_t n_inputs, bool is_stage);
// The "preprocessing" array of stages for an input of n_features; sets n_outputs to the width
// of the last stage's output (the estimator's input).
std::vector<Stage> load_preprocessing(const JsonCursor& cursor, std::size_t n_features,
                                      std::size_t& n_outputs);

}  // namespace mcuport::detail

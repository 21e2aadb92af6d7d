// Scalers folded into tree thresholds, exactly: a pipeline of per-feature scalers and a tree
// model becomes a tree model on the raw input that decides identically for every float32 input.
#pragma once

#include <vector>

#include "mcuport/ir.hpp"

namespace mcuport {

// The largest float32 x such that scikit-learn sends x left at a split on `feature` with
// `threshold` after the scalers (every finite float32 up to it goes left, every one above it
// right). -FLT_MAX when no finite input goes left: then -FLT_MAX itself goes left, the one
// finite input on which the fold differs. Such a split cannot come out of fitting: thresholds
// lie between training values.
float fold_threshold(const std::vector<const FeatureScaler*>& scalers, std::size_t feature,
                     double threshold);

// The model without its preprocessing (which must be scalers only), thresholds folded.
Model fold_scalers_into_trees(const Model& model);

}  // namespace mcuport

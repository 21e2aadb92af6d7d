// Loader of linear models (LinearSVC): one weight vector and intercept per output.
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

LinearModel load_linear(const JsonCursor& params, const ModelInfo& info) {
  params.expect_keys({"coef", "intercept"});
  const std::size_t n_classes = info.classes.size();
  if (n_classes < 2) params.fail("a linear classifier needs at least 2 classes");
  // scikit-learn keeps one decision function for two classes (positive: classes[1]).
  const std::size_t n_outputs = n_classes == 2 ? 1 : n_classes;
  const auto n_features = static_cast<std::size_t>(info.n_features);
  LinearModel linear;
  linear.coef = params.at("coef").as_finite_matrix(n_outputs, n_features);
  linear.intercept = params.at("intercept").as_finite_array(n_outputs);
  return linear;
}

}  // namespace mcuport::detail

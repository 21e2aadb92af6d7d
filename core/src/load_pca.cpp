// Loader of PCA (a model of its own, or a pipeline stage): mean, components, explained variance
// and whitening, in the space of the input it receives.
#include <cmath>
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

Pca load_pca(const JsonCursor& params, std::size_t n_inputs, bool is_stage) {
  if (is_stage) {
    params.expect_keys({"kind", "mean", "components", "explained_variance", "whiten"});
  } else {
    params.expect_keys({"mean", "components", "explained_variance", "whiten"});
  }
  Pca pca;
  pca.mean = params.at("mean").as_finite_array(n_inputs);
  const JsonCursor variance = params.at("explained_variance");
  const std::size_t n_components = variance.expect_array(1, n_inputs);
  if (n_components * n_inputs > limits::kMaxParameters) {
    params.fail("the model has more than " + std::to_string(limits::kMaxParameters) + " parameters");
  }
  pca.explained_variance = variance.as_finite_array(n_components);
  for (std::size_t k = 0; k < n_components; ++k) {
    if (!(pca.explained_variance[k] > 0)) {
      variance.at(k).fail("an explained variance must be > 0, got " + variance.at(k).describe());
    }
  }
  const JsonCursor components = params.at("components");
  if (components.json().is_array() && components.json().size() != n_components) {
    components.fail("expected one component per explained variance (" +
                    std::to_string(n_components) + "), got " +
                    std::to_string(components.json().size()));
  }
  pca.components = components.as_finite_matrix(n_components, n_inputs);
  const JsonCursor whiten = params.at("whiten");
  if (!whiten.json().is_boolean()) whiten.fail("expected true or false, got " + whiten.describe());
  pca.whiten = whiten.json().get<bool>();
  return pca;
}

}  // namespace mcuport::detail

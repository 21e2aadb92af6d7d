// Loader of Gaussian naive Bayes (GaussianNB): per-class means, variances and priors.
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

GaussianNaiveBayes load_gaussian_nb(const JsonCursor& params, const ModelInfo& info) {
  params.expect_keys({"theta", "var", "class_prior"});
  const std::size_t n_classes = info.classes.size();
  const auto n_features = static_cast<std::size_t>(info.n_features);
  if (n_classes * n_features > limits::kMaxParameters) {
    params.fail("the model has more than " + std::to_string(limits::kMaxParameters) + " parameters");
  }
  GaussianNaiveBayes nb;
  nb.theta = params.at("theta").as_finite_matrix(n_classes, n_features);
  const JsonCursor var = params.at("var");
  nb.var = var.as_finite_matrix(n_classes, n_features);
  for (std::size_t i = 0; i < nb.var.size(); ++i) {
    if (!(nb.var[i] > 0)) {
      var.at(i / n_features)
          .at(i % n_features)
          .fail("a variance must be > 0, got " + var.at(i / n_features).at(i % n_features).describe());
    }
  }
  const JsonCursor prior = params.at("class_prior");
  nb.class_prior = prior.as_finite_array(n_classes);
  for (std::size_t c = 0; c < n_classes; ++c) {
    if (!(nb.class_prior[c] > 0)) {
      prior.at(c).fail("a class prior must be > 0 (a class of prior 0 is never predicted; "
                       "leave it out), got " + prior.at(c).describe());
    }
  }
  return nb;
}

}  // namespace mcuport::detail

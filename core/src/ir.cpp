// The few computations the IR defines itself: scikit-learn's arithmetic for scalers and PCA's
// whitening, and the width of the estimator's input.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "mcuport/ir.hpp"

namespace mcuport {

double Pca::output_divisor(std::size_t k) const {
  // PCA.transform: X_transformed /= sqrt(explained_variance_), with scales below the machine
  // epsilon replaced by it (scikit-learn >= 1.3; the variances the loader accepts are > 0).
  return whiten ? std::max(std::sqrt(explained_variance[k]), DBL_EPSILON) : 1.0;
}

double FeatureScaler::apply(std::size_t f, double x) const {
  switch (kind) {
    case Kind::Standard:
      if (!offset.empty()) x -= offset[f];
      if (!scale.empty()) x /= scale[f];
      return x;
    case Kind::MinMax:
      x = x * scale[f] + offset[f];  // two roundings, as numpy's X *= scale_; X += min_
      if (clip) x = std::min(std::max(x, clip_lo), clip_hi);
      return x;
    case Kind::MaxAbs:
      return x / scale[f];
  }
  return x;
}

std::size_t Model::estimator_inputs() const {
  std::size_t width = static_cast<std::size_t>(info.n_features);
  for (const Stage& stage : preprocessing) {
    if (const auto* pca = std::get_if<Pca>(&stage)) width = pca->n_components();
  }
  return width;
}

}  // namespace mcuport

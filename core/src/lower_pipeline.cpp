// Pipelines: the stages in front of an estimator composed into one affine map, and scalers
// folded exactly into tree thresholds (see lower_projection.hpp and lower_pipeline.hpp).
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "mcuport/error.hpp"
#include "row_matrix.hpp"
#include "mcuport/lower_pipeline.hpp"
#include "mcuport/lower_projection.hpp"
#include "mcuport/quantize.hpp"

namespace mcuport {

namespace {

using detail::as_matrix;
using detail::as_vector;
using detail::RowMatrix;

// weight (rows x n) times diag(scale): each column scaled. Entry for entry the product the dense
// form computed, w a_f, without its zero terms (which could only turn a -0.0 into +0.0).
std::vector<double> scale_columns(const std::vector<double>& weight, std::size_t rows,
                                  const std::vector<double>& scale) {
  const std::size_t n = scale.size();
  MCUPORT_ASSERT(weight.size() == rows * n);
  std::vector<double> out(weight.size());
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t f = 0; f < n; ++f) out[r * n + f] = weight[r * n + f] * scale[f];
  }
  return out;
}

// Applies z = diag(d) (y - c) (a per-feature scaler) after the prefix so far.
void append_scaler(AffinePrefix& prefix, const std::vector<double>& d,
                   const std::vector<double>& stage_center) {
  prefix.center = prefix.pull_back(stage_center);
  if (prefix.diagonal) {
    for (uint32_t f = 0; f < prefix.n_inputs; ++f) prefix.scale[f] = d[f] * prefix.scale[f];
  } else {
    for (uint32_t k = 0; k < prefix.n_outputs; ++k) {
      for (uint32_t f = 0; f < prefix.n_inputs; ++f) prefix.matrix[k * prefix.n_inputs + f] *= d[k];
    }
  }
}

// Applies z = W (y - c) (PCA) after the prefix so far.
void append_projection(AffinePrefix& prefix, const RowMatrix& stage,
                       const std::vector<double>& stage_center) {
  const std::vector<double> center = prefix.pull_back(stage_center);
  prefix.matrix = prefix.compose(as_vector(stage), static_cast<std::size_t>(stage.rows()));
  prefix.scale.clear();
  prefix.center = center;
  prefix.n_outputs = static_cast<uint32_t>(stage.rows());
  prefix.diagonal = false;
}

// float32 values in order as integers: key(a) < key(b) <=> a < b (no NaN).
int64_t order_key(float value) {
  int32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits < 0 ? -static_cast<int64_t>(bits & 0x7fffffff) : static_cast<int64_t>(bits);
}

float from_order_key(int64_t key) {
  const int32_t bits = key < 0 ? static_cast<int32_t>((-key) | 0x80000000LL) : static_cast<int32_t>(key);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

std::vector<double> AffinePrefix::pull_back(const std::vector<double>& point) const {
  MCUPORT_ASSERT(point.size() == n_outputs);
  std::vector<double> out = center;
  if (diagonal) {
    for (uint32_t f = 0; f < n_inputs; ++f) out[f] += point[f] / scale[f];
    return out;
  }
  // x0 - center = A^T (A A^T)^-1 point: the least-norm solution of A (x0 - center) = point.
  const RowMatrix a = as_matrix(matrix, n_outputs, n_inputs);
  const Eigen::VectorXd p = Eigen::Map<const Eigen::VectorXd>(point.data(), n_outputs);
  const Eigen::MatrixXd gram = a * a.transpose();
  const Eigen::VectorXd u = gram.ldlt().solve(p);
  const Eigen::VectorXd shift = a.transpose() * u;
  for (uint32_t f = 0; f < n_inputs; ++f) out[f] += shift(f);
  return out;
}

std::vector<double> AffinePrefix::compose(const std::vector<double>& weight,
                                          std::size_t rows) const {
  if (diagonal) return scale_columns(weight, rows, scale);
  return as_vector(as_matrix(weight, rows, n_outputs) * as_matrix(matrix, n_outputs, n_inputs));
}

std::vector<double> centered_offsets(const std::vector<double>& weight, std::size_t rows,
                                     const std::vector<double>& center, std::vector<double> base) {
  if (base.empty()) base.assign(rows, 0.0);
  MCUPORT_ASSERT(base.size() == rows && weight.size() == rows * center.size());
  for (std::size_t k = 0; k < rows; ++k) {
    for (std::size_t f = 0; f < center.size(); ++f) base[k] -= weight[k * center.size() + f] * center[f];
  }
  return base;
}

bool keeps_center_apart(const AffinePrefix& prefix, const std::vector<double>& weight,
                        const std::vector<double>& bias, const std::vector<double>& composed,
                        const std::vector<double>& composed_bias) {
  const std::size_t rows = bias.size();
  const std::size_t n_in = prefix.center.size();
  MCUPORT_ASSERT(composed_bias.size() == rows && composed.size() == rows * n_in &&
                 weight.size() == rows * prefix.n_outputs);
  // A center float32 cannot hold stays folded, as the generated code could not subtract it.
  for (double c : prefix.center) {
    if (!(std::fabs(c) <= static_cast<double>(FLT_MAX))) return false;
  }
  for (std::size_t k = 0; k < rows; ++k) {
    double folded = std::fabs(composed_bias[k]);
    for (std::size_t f = 0; f < n_in; ++f) folded += std::fabs(composed[k * n_in + f] * prefix.center[f]);
    double centred = std::fabs(bias[k]);
    for (std::size_t j = 0; j < prefix.n_outputs; ++j) centred += std::fabs(weight[k * prefix.n_outputs + j]);
    if (folded > kCenterApartRatio * centred) return true;
  }
  return false;
}

AffinePrefix compose_preprocessing(const Model& model) {
  AffinePrefix prefix;
  const auto n = static_cast<uint32_t>(model.info.n_features);
  prefix.n_inputs = n;
  prefix.n_outputs = n;
  prefix.scale.assign(n, 1.0);
  prefix.center.assign(n, 0.0);
  for (const Stage& stage : model.preprocessing) {
    if (const auto* scaler = std::get_if<FeatureScaler>(&stage)) {
      // Every scaler is y_f = a_f (x_f - c_f) in real numbers.
      const uint32_t width = prefix.n_outputs;
      std::vector<double> d(width, 1.0);
      std::vector<double> c(width, 0.0);
      for (uint32_t f = 0; f < width; ++f) {
        switch (scaler->kind) {
          case FeatureScaler::Kind::Standard:
            d[f] = scaler->scale.empty() ? 1.0 : 1.0 / scaler->scale[f];
            c[f] = scaler->offset.empty() ? 0.0 : scaler->offset[f];
            break;
          case FeatureScaler::Kind::MinMax:
            d[f] = scaler->scale[f];
            c[f] = -scaler->offset[f] / scaler->scale[f];
            break;
          case FeatureScaler::Kind::MaxAbs:
            d[f] = 1.0 / scaler->scale[f];
            break;
        }
      }
      append_scaler(prefix, d, c);
      prefix.clips = prefix.clips || scaler->clip;
    } else {
      const Pca& pca = std::get<Pca>(stage);
      RowMatrix w = as_matrix(pca.components, pca.n_components(), pca.n_inputs());
      for (std::size_t k = 0; k < pca.n_components(); ++k) {
        w.row(static_cast<Eigen::Index>(k)) /= pca.output_divisor(k);
      }
      append_projection(prefix, w, pca.mean);
    }
  }
  for (const std::vector<double>* values : {&prefix.scale, &prefix.matrix}) {
    for (double v : *values) {
      if (!std::isfinite(v)) {
        throw Error("/preprocessing", "the pipeline's stages compose to a non-finite map");
      }
    }
  }
  return prefix;
}

InputQuantization compose_quantization(const InputQuantization& quantization,
                                       const AffinePrefix& prefix) {
  MCUPORT_ASSERT(prefix.diagonal && quantization.features.size() == prefix.n_inputs);
  InputQuantization out = quantization;
  for (uint32_t f = 0; f < prefix.n_inputs; ++f) {
    const double a = prefix.scale[f];
    const double c = prefix.center[f];
    FeatureQuantization& q = out.features[f];
    q.lo = a * (q.lo - c);
    q.hi = a * (q.hi - c);
    q.zero_point += c / q.scale;
    q.scale *= a;
  }
  return out;
}

float fold_threshold(const std::vector<const FeatureScaler*>& scalers, std::size_t feature,
                     double threshold) {
  // scikit-learn: the float64 input goes through each scaler in float64, then the tree compares
  // (float)value <= threshold. Every step is monotone non-decreasing (positive scales, clipping),
  // so the inputs that go left are exactly the float32 values up to some x0: find it by
  // bisection over the ordered float32 values.
  const auto goes_left = [&](float x) {
    double value = x;
    for (const FeatureScaler* scaler : scalers) value = scaler->apply(feature, value);
    return static_cast<double>(static_cast<float>(value)) <= threshold;
  };
  int64_t lo = order_key(-FLT_MAX);
  int64_t hi = order_key(FLT_MAX);
  if (!goes_left(-FLT_MAX)) return -FLT_MAX;  // nothing finite goes left; see the header
  if (goes_left(FLT_MAX)) return FLT_MAX;
  while (hi - lo > 1) {  // goes_left(lo) && !goes_left(hi)
    const int64_t mid = lo + (hi - lo) / 2;
    (goes_left(from_order_key(mid)) ? lo : hi) = mid;
  }
  return from_order_key(lo);
}

Model fold_scalers_into_trees(const Model& model) {
  std::vector<const FeatureScaler*> scalers;
  for (const Stage& stage : model.preprocessing) {
    const auto* scaler = std::get_if<FeatureScaler>(&stage);
    MCUPORT_ASSERT(scaler != nullptr);
    scalers.push_back(scaler);
  }
  Model folded = model;
  folded.preprocessing.clear();
  for (Tree& tree : std::get<TreeEnsemble>(folded.family).trees) {
    for (std::size_t node = 0; node < tree.n_nodes(); ++node) {
      if (tree.is_leaf(node)) continue;
      tree.threshold[node] = fold_threshold(scalers, static_cast<std::size_t>(tree.feature[node]),
                                            tree.threshold[node]);
    }
  }
  return folded;
}

}  // namespace mcuport

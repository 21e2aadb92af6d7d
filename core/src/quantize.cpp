// Input quantization and exact threshold placement (see quantize.hpp for the contract).
#include "mcuport/quantize.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "mcuport/error.hpp"

namespace mcuport {

namespace {

constexpr int32_t kCodeMin = -32768;
constexpr int32_t kCodeMax = 32767;
constexpr double kCodeSpan = 65535.0;

std::vector<InputRange> split_threshold_ranges(const TreeEnsemble& ensemble, int32_t n_features) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<InputRange> ranges(static_cast<std::size_t>(n_features), InputRange{kInf, -kInf});
  for (const Tree& tree : ensemble.trees) {
    for (std::size_t i = 0; i < tree.n_nodes(); ++i) {
      if (tree.is_leaf(i)) continue;
      InputRange& range = ranges[static_cast<std::size_t>(tree.feature[i])];
      range.lo = std::min(range.lo, tree.threshold[i]);
      range.hi = std::max(range.hi, tree.threshold[i]);
    }
  }
  for (InputRange& range : ranges) {
    if (range.lo > range.hi) {  // a feature that no split uses: any range will do
      range = {-1.0, 1.0};
      continue;
    }
    const double margin = std::max((range.hi - range.lo) * 0.01,
                                   std::max(std::fabs(range.lo), std::fabs(range.hi)) * 1e-3);
    const double widened = margin > 0 ? margin : 1e-3;
    range.lo = std::max(range.lo - widened, -static_cast<double>(FLT_MAX));
    range.hi = std::min(range.hi + widened, static_cast<double>(FLT_MAX));
  }
  return ranges;
}

}  // namespace

float largest_float_not_above(double value) {
  MCUPORT_ASSERT(value >= -static_cast<double>(FLT_MAX) && value <= static_cast<double>(FLT_MAX));
  float result = static_cast<float>(value);  // nearest, may be above
  if (static_cast<double>(result) > value) {
    result = std::nextafter(result, -std::numeric_limits<float>::infinity());
  }
  return result;
}

FeatureQuantization quantization_for_range(const InputRange& range) {
  FeatureQuantization q;
  q.lo = range.lo;
  q.hi = range.hi;
  // A (nearly) constant feature, or one whose span is too small for 65535 steps of a normal
  // double: give it a small span around its value, within the float32 range.
  const double magnitude = std::max(std::fabs(q.lo), std::fabs(q.hi));
  if (!(q.hi - q.lo > magnitude * 1e-12) || !(q.hi - q.lo > 1e-290)) {
    const double half = std::max(magnitude, 1.0) * 1e-3;
    q.lo = std::max(q.lo - half, -static_cast<double>(FLT_MAX));
    q.hi = std::min(q.hi + half, static_cast<double>(FLT_MAX));
  }
  q.scale = (q.hi - q.lo) / kCodeSpan;
  q.zero_point = kCodeMin - q.lo / q.scale;
  MCUPORT_ASSERT(std::isfinite(q.scale) && q.scale > 0 && std::isfinite(q.zero_point));
  return q;
}

double dequantize(const FeatureQuantization& quantization, int32_t code) {
  return quantization.scale * (static_cast<double>(code) - quantization.zero_point);
}

float dequantize_to_float32(const FeatureQuantization& quantization, int32_t code) {
  return static_cast<float>(dequantize(quantization, code));
}

int32_t quantize_threshold(const FeatureQuantization& quantization, double threshold) {
  const auto decides_left = [&](int32_t code) {
    return static_cast<double>(dequantize_to_float32(quantization, code)) <= threshold;
  };
  if (!decides_left(kCodeMin)) return kCodeMin - 1;
  // Invariant: decides_left(low) and not decides_left(high + 1), with high + 1 = 32768 "beyond".
  int32_t low = kCodeMin;
  int32_t high = kCodeMax;
  while (low < high) {
    const int32_t mid = low + (high - low + 1) / 2;
    if (decides_left(mid)) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

InputQuantization choose_input_quantization(const Model& model) {
  InputQuantization result;
  std::vector<InputRange> ranges = model.info.input_ranges;
  if (ranges.empty()) {
    ranges = std::visit(
        [&](const auto& family) -> std::vector<InputRange> {
          using T = std::decay_t<decltype(family)>;
          if constexpr (std::is_same_v<T, TreeEnsemble>) {
            return split_threshold_ranges(family, model.info.n_features);
          } else {
            // Arithmetic models have no natural range: it must come from the data.
            throw Error("/input_ranges",
                        "fixed mode needs the input ranges of a " + model.info.estimator +
                            ": pass calibration=X_train (or input_ranges) to port()");
          }
        },
        model.family);
    result.source = RangeSource::SplitThresholds;
  }
  for (const InputRange& range : ranges) result.features.push_back(quantization_for_range(range));
  return result;
}

}  // namespace mcuport

// Fixed-point weighted squared distances (see fixed_distance.hpp).
#include "mcuport/fixed_distance.hpp"

#include <algorithm>
#include <cmath>

#include "mcuport/error.hpp"
#include "mcuport/fixed_math.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

FixedSquaredDistance quantize_squared_distance(const std::vector<double>& centers,
                                               const std::vector<double>& weights,
                                               bool shared_weights,
                                               const InputQuantization& quantization,
                                               int frac_bits_limit, int frac_bits_min) {
  FixedSquaredDistance map;
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  map.n_rows = static_cast<uint32_t>(centers.size() / map.n_features);
  map.shared_weights = shared_weights;
  const uint32_t n_features = map.n_features;
  const uint32_t weight_rows = shared_weights ? 1 : map.n_rows;
  MCUPORT_ASSERT(weights.size() == static_cast<std::size_t>(weight_rows) * n_features);

  // Centers in the code domain: c = scale (p - zero_point)  =>  p = c / scale + zero_point.
  std::vector<double> code_center(centers.size());
  double max_center = 0;
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    for (uint32_t f = 0; f < n_features; ++f) {
      const FeatureQuantization& q = quantization.features[f];
      const double p = centers[r * n_features + f] / q.scale + q.zero_point;
      code_center[r * n_features + f] = p;
      max_center = std::max(max_center, std::fabs(p));
    }
  }
  // G: the most fractional bits with |x * 2^G - center * 2^G| < 2^24 for every int16 x.
  map.center_frac_bits = 7;
  while (map.center_frac_bits >= 0 &&
         std::ldexp(max_center + 32768.0, map.center_frac_bits) >= 0x1p24) {
    --map.center_frac_bits;
  }
  if (map.center_frac_bits < 0) {
    throw Error("/input_ranges",
                "a model center lies more than 2^24 codes outside the input ranges; give "
                "calibration data that covers the model's parameters");
  }
  const int G = map.center_frac_bits;
  for (double p : code_center) map.center.push_back(static_cast<int32_t>(std::llround(std::ldexp(p, G))));

  // Per weight row and feature, the weight of a squared code-domain difference (before 2^F):
  // u s^2 2^-2G, and the largest squared difference any int16 input can reach.
  std::vector<double> unit_weight(weights.size());
  double total = 0;  // the largest sum, in real units, over all int16 inputs
  std::vector<double> row_total(map.n_rows, 0.0);
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    const uint32_t w = shared_weights ? 0 : r;
    for (uint32_t f = 0; f < n_features; ++f) {
      const double s = quantization.features[f].scale;
      const double u = weights[w * n_features + f] * s * s;
      if (!std::isfinite(u)) {
        // A weight (naive Bayes: 1 / (2 var)) large for the span of its input, whose code step
        // s is wide: reachable from a document, so a user error, not a broken invariant.
        throw Error("", "fixed mode cannot represent the squared distances: the weight " +
                            format_general(weights[w * n_features + f], 6) + " of feature " +
                            std::to_string(f) + " times the square of its input code step " +
                            format_general(s, 6) +
                            " is beyond the double range (a variance far too small for the "
                            "input ranges, or pipeline stages that stretch them); use float mode");
      }
      MCUPORT_ASSERT(u >= 0);
      unit_weight[w * n_features + f] = std::ldexp(u, -2 * G);
      const double reach = std::max(std::fabs(-32768.0 - code_center[r * n_features + f]),
                                    std::fabs(32767.0 - code_center[r * n_features + f]));
      row_total[r] += u * reach * reach;
    }
    if (!std::isfinite(row_total[r])) {
      throw Error("", "fixed mode cannot represent the squared distances: the largest weighted "
                      "squared distance of row " + std::to_string(r) +
                      " over the input ranges is beyond the double range; use float mode");
    }
    total = std::max(total, row_total[r]);
  }
  // F: the sum stays below 2^61 for every input.
  map.frac_bits = total > 0 ? static_cast<int>(std::floor(61.0 - std::log2(total))) : frac_bits_limit;
  // No weight needs a left shift: every unit weight * 2^F rounds to a mantissa below 2^15 with
  // k >= 0, so the code rounds every term right (or keeps it) and never saturates.
  const double max_unit = *std::max_element(unit_weight.begin(), unit_weight.end());
  if (max_unit > 0) {
    map.frac_bits = std::min(map.frac_bits,
                             static_cast<int>(std::floor(std::log2(32767.0 / max_unit))));
  }
  map.frac_bits = std::max(std::min(map.frac_bits, frac_bits_limit), frac_bits_min);
  // Weights: a 15-bit mantissa and a shift, so every term keeps 2^-15 relative precision.
  for (double v0 : unit_weight) {
    const double v = std::ldexp(v0, map.frac_bits);
    if (v <= 0) {
      map.weight.push_back(0);
      map.shift.push_back(0);
      continue;
    }
    int k = 14 - static_cast<int>(std::floor(std::log2(v)));
    double mantissa = std::round(std::ldexp(v, k));
    if (mantissa > 32767) {
      --k;
      mantissa = std::round(std::ldexp(v, k));
    }
    if (k >= 64) {  // every term (below 2^63) rounds to 0: exactly what the code computes
      map.weight.push_back(0);
      map.shift.push_back(0);
      continue;
    }
    if (k < -63) {
      // A weight so large (only when F was raised to the exp runtime's minimum) that any
      // nonzero difference saturates the sum: exactly what the code does with shift -63.
      k = -63;
      mantissa = 32767;
    }
    MCUPORT_ASSERT(mantissa >= 1 && mantissa <= 32767);
    map.weight.push_back(static_cast<uint16_t>(mantissa));
    map.shift.push_back(static_cast<int8_t>(k));
  }
  const double bound = std::ldexp(total, map.frac_bits) * (1 + 0x1p-14) + n_features;
  map.bound = bound < 0x1p62 ? static_cast<uint64_t>(bound) : kDistanceSaturation;
  return map;
}

uint64_t evaluate_squared_distance(const FixedSquaredDistance& map, const int16_t* codes,
                                   uint32_t row) {
  const uint32_t w = map.shared_weights ? 0 : row;
  uint64_t sum = 0;
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int32_t d = static_cast<int32_t>(codes[f]) * (int32_t{1} << map.center_frac_bits) -
                      map.center[row * map.n_features + f];
    const uint32_t m = static_cast<uint32_t>(d < 0 ? -d : d);
    const uint64_t product = static_cast<uint64_t>(m) * m * map.weight[w * map.n_features + f];
    const int k = map.shift[w * map.n_features + f];
    // A left shift that would pass the saturation point saturates instead (k >= -63 always).
    const uint64_t term = k >= 0 ? fixed::round_shift(product, k)
                          : product > (kDistanceSaturation >> -k) ? kDistanceSaturation
                                                                  : product << -k;
    sum = term > kDistanceSaturation - sum ? kDistanceSaturation : sum + term;
  }
  return sum;
}

FixedRbfDistance quantize_rbf_distance(const std::vector<double>& centers, double gamma,
                                       const InputQuantization& quantization) {
  MCUPORT_ASSERT(gamma > 0 && std::isfinite(gamma));
  FixedRbfDistance map;
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  map.n_rows = static_cast<uint32_t>(centers.size() / map.n_features);
  const uint32_t n = map.n_features;
  MCUPORT_ASSERT(n < (1u << 12));  // D < n 2^50 < 2^62
  // Feature f in sqrt(gamma) units per code: a_f = sqrt(gamma) s_f. The support vectors in codes:
  // p = sv / s + zero_point. The unit c must keep |y| and |c_sf| below 2^24 for every int16 code
  // and support vector: a_f max(32768, |p_f|) / c < 2^24 (with a margin for the roundings).
  std::vector<double> code_center(centers.size());
  double widest = 0;  // the largest a_f max(32768, |p_f|)
  for (uint32_t f = 0; f < n; ++f) {
    const FeatureQuantization& q = quantization.features[f];
    double reach = 32768.0;
    for (uint32_t r = 0; r < map.n_rows; ++r) {
      const double p = centers[r * n + f] / q.scale + q.zero_point;
      code_center[r * n + f] = p;
      reach = std::max(reach, std::fabs(p));
    }
    widest = std::max(widest, std::sqrt(gamma) * q.scale * reach);
  }
  if (!(widest > 0 && std::isfinite(widest))) {
    throw Error("", "the RBF kernel's gamma and input ranges give no usable fixed-point scale");
  }
  // c^2 = 2^-F: the largest F with c >= widest / (2^24 - 2^10).
  const double c_min = widest / (0x1p24 - 0x1p10);
  map.frac_bits = static_cast<int>(std::floor(-2.0 * std::log2(c_min)));
  while (std::ldexp(1.0, -map.frac_bits) < c_min * c_min) --map.frac_bits;
  const double c = std::sqrt(std::ldexp(1.0, -map.frac_bits));
  if (!std::isfinite(c)) {
    // |p| near 1e300 codes: no unit can hold it, and an infinite one would zero every feature.
    throw Error("/input_ranges",
                "a support vector lies about " + format_general(widest, 3) +
                    " sqrt(gamma)-units outside the input ranges, more than fixed mode's RBF "
                    "domain can hold; give input ranges (calibration data) that cover the "
                    "support vectors, or use float mode");
  }
  for (uint32_t f = 0; f < n; ++f) {
    const double rho = std::sqrt(gamma) * quantization.features[f].scale / c;  // < 2^9
    // R in [2^29, 2^30). A rho that underflowed to 0 (a feature some 1e300 times narrower than
    // the domain's unit) has no log2: it is the narrowest case below, a zero scale.
    int k = rho > 0 ? 29 - static_cast<int>(std::floor(std::log2(rho))) : 63;
    double mantissa = std::round(std::ldexp(rho, k));
    if (mantissa >= 0x1p30) {
      --k;
      mantissa = std::round(std::ldexp(rho, k));
    }
    if (k > 62) {  // a feature far narrower than the domain's unit: fewer mantissa bits
      k = 62;
      mantissa = std::round(std::ldexp(rho, k));
    }
    MCUPORT_ASSERT(k >= 1 && mantissa >= 0 && mantissa < 0x1p30);
    map.scale.push_back(static_cast<int32_t>(mantissa));
    map.shift.push_back(static_cast<uint8_t>(k));
    map.max_scale_error = std::max(
        map.max_scale_error, rho > 0 ? std::fabs(std::ldexp(mantissa, -k) / rho - 1) : 1.0);
  }
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    for (uint32_t f = 0; f < n; ++f) {
      const double v = std::round(std::ldexp(map.scale[f], -map.shift[f]) * code_center[r * n + f]);
      MCUPORT_ASSERT(std::fabs(v) < 0x1p24);
      map.center.push_back(static_cast<int32_t>(v));
    }
  }
  map.exp_frac_bits = std::clamp(map.frac_bits, fixed::kMinFracBits, fixed::kMaxFracBits);
  map.exp_shift = map.frac_bits - map.exp_frac_bits;
  return map;
}

void rescale_to_domain(const FixedRbfDistance& map, const int16_t* codes, int32_t* y) {
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int64_t v = fixed::round_shift(static_cast<int64_t>(codes[f]) * map.scale[f], map.shift[f]);
    MCUPORT_ASSERT(v > -(int64_t{1} << 24) && v < (int64_t{1} << 24));
    y[f] = static_cast<int32_t>(v);
  }
}

uint64_t rbf_squared_distance(const FixedRbfDistance& map, const int32_t* y, uint32_t row) {
  uint64_t sum = 0;
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int64_t d = static_cast<int64_t>(y[f]) - map.center[row * map.n_features + f];
    sum += static_cast<uint64_t>(d * d);  // < 2^50
  }
  return sum;
}

int64_t rbf_exp_argument(const FixedRbfDistance& map, uint64_t distance) {
  if (map.exp_shift >= 0) return static_cast<int64_t>(fixed::round_shift(distance, map.exp_shift));
  const int left = std::min(-map.exp_shift, 62);  // beyond, every nonzero D saturates too
  return distance > (kDistanceSaturation >> left) ? static_cast<int64_t>(kDistanceSaturation)
                                                   : static_cast<int64_t>(distance << left);
}

}  // namespace mcuport

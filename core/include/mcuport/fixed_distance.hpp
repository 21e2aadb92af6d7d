// Fixed-point weighted squared distances on quantized inputs:
//   T_r(x) = sum_f u_rf (x_f - c_rf)^2     (one row r per class of naive Bayes, per SV of an RBF)
// evaluated on int16 codes. The code-domain difference stays below 2^24, its square below 2^48
// and each weighted square (15-bit weight mantissa) below 2^63. At the chosen binary point the
// sum over all int16 inputs stays below 2^61, unless the caller demanded a higher binary point
// than that allows (RBF, for the exp runtime's argument format); then a term or the sum
// saturates at 2^62, which only happens where exp(-t) is 0 anyway.
#pragma once

#include <cstdint>
#include <vector>

#include "mcuport/quantize.hpp"

namespace mcuport {

struct FixedSquaredDistance {
  uint32_t n_rows = 0;
  uint32_t n_features = 0;
  bool shared_weights = false;  // one weight row for every row (RBF: gamma)
  int center_frac_bits = 0;     // G: centers are code-domain values * 2^G
  std::vector<int32_t> center;  // n_rows x n_features
  // Per weight row and feature: term = (d^2 * weight) >> shift (shift < 0: <<), d the code-domain
  // difference * 2^G; weight is a 15-bit mantissa (or 0 for a negligible term).
  std::vector<uint16_t> weight;  // (shared ? 1 : n_rows) x n_features
  std::vector<int8_t> shift;
  int frac_bits = 0;  // F: T_r is returned in units of 2^-F
  // The largest sum over all int16 inputs, or kDistanceSaturation where sums may saturate.
  uint64_t bound = 0;
};

inline constexpr uint64_t kDistanceSaturation = uint64_t{1} << 62;

// centers: n_rows x n_features in input units; weights: n_rows x n_features, or n_features
// when shared_weights. F is chosen within [frac_bits_min, frac_bits_limit] (the exp runtime
// takes 8..40); when the proven bound needs F below frac_bits_min, sums may saturate at 2^62,
// which is harmless where only small sums matter (exp(-t) is 0 beyond t = 22).
FixedSquaredDistance quantize_squared_distance(const std::vector<double>& centers,
                                               const std::vector<double>& weights,
                                               bool shared_weights,
                                               const InputQuantization& quantization,
                                               int frac_bits_limit, int frac_bits_min = -1000);

// T_r on codes, exactly as the generated code computes it.
uint64_t evaluate_squared_distance(const FixedSquaredDistance& map, const int16_t* codes,
                                   uint32_t row);

}  // namespace mcuport

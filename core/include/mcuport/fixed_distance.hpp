// Fixed-point weighted squared distances on quantized inputs:
//   T_r(x) = sum_f u_rf (x_f - c_rf)^2     (one row r per class of naive Bayes)
// evaluated on int16 codes. The code-domain difference stays below 2^24, its square below 2^48
// and each weighted square (15-bit weight mantissa) below 2^63. At the chosen binary point the
// sum over all int16 inputs stays below 2^61, unless the caller demanded a higher binary point
// than that allows; then a term or the sum saturates at 2^62. The RBF kernel, whose weights are
// shared by every row, uses FixedRbfDistance below instead.
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

// The RBF kernel's argument t_s = gamma |x - sv_s|^2 with one rescaling of the input per
// prediction. Feature f's code q_f maps into a common domain, y_f = round(q_f R_f 2^-k_f), where
// one unit of y stands for the same distance in every feature: c = 2^(-F/2) in sqrt(gamma)-scaled
// units, so t = 2^-F sum_f (y_f - c_sf)^2 with the support vectors c_sf stored in that domain.
// The domain is the finest power of two for which every int16 input and every support vector
// stays below 2^24 in magnitude (c^2 a power of two: the sum is the exp runtime's argument as it
// stands). Each difference is below 2^25, its square below 2^50, the sum D_s below
// n_features 2^50 < 2^62, exact on every path.
struct FixedRbfDistance {
  uint32_t n_rows = 0;
  uint32_t n_features = 0;
  std::vector<int32_t> scale;   // R_f in [0, 2^30): 31-bit mantissas
  std::vector<uint8_t> shift;   // k_f in [1, 62]
  std::vector<int32_t> center;  // n_rows x n_features, in the domain (|c| < 2^24)
  int frac_bits = 0;            // F: t_s = D_s 2^-F (any integer; may be outside [8, 40])
  // The exp runtime's argument: D_s rounded right by exp_shift (> 0), or shifted left by
  // -exp_shift with saturation at 2^62 (exp(-t) is 0 long before), in Q exp_frac_bits.
  int exp_shift = 0;
  int exp_frac_bits = 0;
  double max_scale_error = 0;  // max_f |R_f 2^-k_f / rho_f - 1|, rho_f the exact scale
};

// centers: n_rows x n_features in input units; gamma > 0.
FixedRbfDistance quantize_rbf_distance(const std::vector<double>& centers, double gamma,
                                       const InputQuantization& quantization);

// y_f for every feature, as <name>_rescale.
void rescale_to_domain(const FixedRbfDistance& map, const int16_t* codes, int32_t* y);

// D_row = sum_f (y_f - center_row,f)^2, exact.
uint64_t rbf_squared_distance(const FixedRbfDistance& map, const int32_t* y, uint32_t row);

// The exp runtime's argument (Q exp_frac_bits) from D.
int64_t rbf_exp_argument(const FixedRbfDistance& map, uint64_t distance);

}  // namespace mcuport

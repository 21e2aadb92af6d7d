// Fixed-point weighted squared distances on quantized inputs, one row r per class of naive Bayes:
//   T_r(x) = sum_f u_rf (x_f - c_rf)^2
// c_rf is the center in codes, P_rf the same rounded to a whole code. Three forms (docs/fixed-point.md, Gaussian
// naive Bayes, proves the error bound that distance_error_bound returns for each):
// - per-row blocks (`blocks`): each row r has its own binary point F_r, and the sum
//   sum_f (q_f R_rf - C_rf)^2 with R_rf = round(sqrt(u_rf 2^F_r)) < 2^15 and C_rf = round(c_rf R_rf)
//   (the exact center in codes times the root) is exact (a signed 32-bit value and its square per
//   term, no shift), then rounded right by F_r - F once per row. Chosen where every nonzero R_rf
//   keeps at least 12 bits there.
// - per-term shifts: sum_f floor(|q_f - P_rf| R_rf / 2^k_rf)^2 at one point F, R_rf a 16-bit
//   mantissa of sqrt(u_rf 2^F) and k_rf a right shift in [0, 31] (weights far apart within a row,
//   as the near-zero variances of digits give).
// - high-word terms, in place of per-term shifts where the target asks for them (`high_word`):
//   sum_f floor((q_f - P_rf) W_rf / 2^17)^2 at one point F, W_rf = round(sqrt(u_rf 2^F) 2^17)
//   below 2^31, each term the high word of the int32 values (q - P) 2^15 and W (|q - P| < 2^16,
//   so every P is an int16 code). Other integers than the per-term shifts' (another root, and
//   a negative difference rounds its magnitude up), a bound of the same form.
// Every sum over all int16 inputs stays below 2^62. The RBF kernel, whose weights are shared by
// every row, uses FixedRbfDistance below instead.
#pragma once

#include <cstdint>
#include <vector>

#include "mcuport/quantize.hpp"

namespace mcuport {

struct FixedSquaredDistance {
  uint32_t n_rows = 0;
  uint32_t n_features = 0;
  std::vector<int32_t> center;  // P_rf: the center in input codes, rounded (n_rows x n_features)
  std::vector<int32_t> offset;  // C_rf = round(c_rf R_rf), c_rf the exact center in codes (blocks)
  std::vector<uint16_t> root;   // R_rf: sqrt(u_rf 2^F) 2^k_rf rounded, below 2^16 (0: no term)
  std::vector<uint8_t> shift;   // k_rf in [0, 31] (all 0 with blocks and high-word terms)
  std::vector<int32_t> wide_root;  // W_rf = round(sqrt(u_rf 2^F) 2^17) in [0, 2^31) (high_word)
  int frac_bits = 0;            // F: T_r is returned in units of 2^-F
  bool blocks = false;          // per-row binary points (R_rf < 2^15, no per-term shift)
  bool high_word = false;       // terms as high words of (q - P) 2^15 W (root, shift unused)
  std::vector<int> row_frac_bits;  // F_r (blocks; else F for every row)
  std::vector<uint8_t> row_shift;  // F_r - F: the row's sum is rounded right by this (blocks)
  // The largest sum over all int16 inputs (below 2^62), over every row.
  uint64_t bound = 0;
  // Error constants per row (docs/fixed-point.md): with s = sqrt(u 2^F_r), eta_r bounds
  // |R 2^-k / s - 1| over the row's terms and q_r = sum_f E_f^2 their absolute parts; then for
  // every input the row's sum before its final shift is within
  // (2 eta + eta^2) Z + 2 (1 + eta) sqrt(Z q) + q of Z = T 2^F_r.
  std::vector<double> eta;
  std::vector<double> q;
  bool center_fits_int16() const;
  bool uniform_shift() const;      // every k_rf the same
  bool uniform_row_shift() const;  // every F_r - F the same
};

// centers: n_rows x n_features in input units; weights: n_rows x n_features (u >= 0 per squared
// input unit). F is at most frac_bits_limit. high_word_terms: high-word terms where the blocks
// form does not apply and every rounded center is an int16 code (else per-term shifts).
FixedSquaredDistance quantize_squared_distance(const std::vector<double>& centers,
                                               const std::vector<double>& weights,
                                               const InputQuantization& quantization,
                                               int frac_bits_limit, bool high_word_terms = false);

// floor(d W / 2^17) as the generated code computes it: the high word of the 64-bit product of
// d 2^15 and W, read without a signed shift (|d| < 2^16, 0 <= W < 2^31).
int32_t high_word_term(int32_t d, int32_t wide_root);

// T_r on codes, exactly as the generated code computes it (units of 2^-F).
uint64_t evaluate_squared_distance(const FixedSquaredDistance& map, const int16_t* codes,
                                   uint32_t row);

// The proven bound on |evaluate_squared_distance * 2^-F - T_r| for an input whose exact distance
// (on the values the codes stand for) is T_r = exact, in real units:
// relative * T + root * sqrt(T) + absolute, with the row's terms below.
struct DistanceErrorTerms {
  double relative = 0;
  double root = 0;
  double absolute = 0;
};
DistanceErrorTerms distance_error_terms(const FixedSquaredDistance& map, uint32_t row);
double distance_error_bound(const FixedSquaredDistance& map, uint32_t row, double exact);

// The saturation point of the RBF kernel's exp argument (rbf_exp_argument).
inline constexpr uint64_t kDistanceSaturation = uint64_t{1} << 62;

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

// For each k, a bound on |K - exp(-t)| for every int16 input and support vector with t >=
// from[k] (from[k] in [0, 128]; 0 for every one), K the Q30 kernel value the generated code
// computes (as a real number) and t = gamma |x - sv|^2 on the values the codes stand for: the
// distance's error (docs/fixed-point.md, "The RBF kernel's distances"), the rounding into the
// exp runtime's format, carried through exp(-t), plus exp_neg's 1 LSB.
std::vector<double> rbf_kernel_error_bounds(const FixedRbfDistance& map,
                                            const std::vector<double>& from);

}  // namespace mcuport

// Lowering of the projection families (PCA, Mahalanobis distances) and of pipeline stages:
// everything here is an affine map of the input, y = W (x - center), possibly followed by a sum
// of squares. Scalers and PCA stages in front of these families are composed into W and center
// at port time, so a pipeline costs what its last stage costs.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "mcuport/fixed_linear.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/quantize.hpp"

namespace mcuport {

// The pipeline stages in front of the estimator as one affine map y = A (x - center) of the raw
// input, with scikit-learn's arithmetic composed in real numbers (float64). `diagonal` when every
// stage is a per-feature scaler (A is then diagonal).
struct AffinePrefix {
  uint32_t n_inputs = 0;
  uint32_t n_outputs = 0;
  // A: its diagonal while the prefix is per-feature (no dense n x n matrix: a model of 65535
  // features would need 34 GB for it), else n_outputs x n_inputs, row-major.
  std::vector<double> scale;   // diagonal: n_inputs entries; else empty
  std::vector<double> matrix;  // not diagonal: n_outputs x n_inputs; else empty
  std::vector<double> center;  // n_inputs
  bool diagonal = true;
  bool clips = false;  // a MinMaxScaler with clip=True: not affine (trees only)

  // A point x0 of the raw input space with A (x0 - center) = point (A has full row rank).
  std::vector<double> pull_back(const std::vector<double>& point) const;
  // weight (rows x n_outputs) composed with the prefix: weight A (rows x n_inputs).
  std::vector<double> compose(const std::vector<double>& weight, std::size_t rows) const;
};

// The offsets of a map in centred form: W (x - center) + base = W x + (base - W center), one per
// row of W (rows x center.size()); `base` empty means zeros.
std::vector<double> centered_offsets(const std::vector<double>& weight, std::size_t rows,
                                     const std::vector<double>& center, std::vector<double> base = {});

// Float mode, a linear map composed with the prefix (LinearSVC, a collapsed linear-kernel SVM):
// whether its rows should keep the prefix's center apart, bias + sum_f composed (x_f - center_f),
// rather than fold it into their offsets, composed_bias + sum_f composed x_f. Folded, a float32
// sum carries terms of about |composed_f center_f|, which cancel against the folded offset: where
// an input's center lies far from zero next to its spread (air pressure in Pa, about 101325 and
// a spread of 30) the rounding of those terms is thousands of times the rounding of the centred
// sum, whose terms are about |weight_j| (the estimator's inputs have a spread of about 1 after a
// scaler). Kept apart when, for some row k,
//   |composed_bias_k| + sum_f |composed_kf center_f|  >  kCenterApartRatio (|bias_k| + sum_j |weight_kj|)
// (weight, bias: the estimator's own, on the prefix's outputs), at the cost of one subtraction per
// multiply-accumulate. Scaled iris, wine, breast_cancer and digits are at most 8.8, the air
// pressure example above 579 (MinMaxScaler) and 5,292 (StandardScaler). A center beyond float32's
// range stays folded.
inline constexpr double kCenterApartRatio = 32;
bool keeps_center_apart(const AffinePrefix& prefix, const std::vector<double>& weight,
                        const std::vector<double>& bias, const std::vector<double>& composed,
                        const std::vector<double>& composed_bias);

// The identity on n inputs when the model has no preprocessing.
AffinePrefix compose_preprocessing(const Model& model);

// The input quantization as seen after a per-feature (diagonal) prefix: the code q of feature f
// stands for A_ff (real(q) - center_f) = (A_ff scale_f) (q - (zero_point_f + center_f / scale_f)).
InputQuantization compose_quantization(const InputQuantization& quantization,
                                       const AffinePrefix& prefix);

// PCA: y = weight (x - center). Fixed mode: the affine map on codes, each row on its own binary
// point, its int32 output after a right shift by output_shift[k] rounded half up
// (floor((a + 2^(s-1)) / 2^s)), in units of 2^-output_frac_bits.
struct PcaProgram {
  uint32_t n_outputs = 0;
  uint32_t n_features = 0;
  std::vector<double> weight;  // n_outputs x n_features (whitening folded in)
  std::vector<double> center;  // n_features
  std::optional<FixedLinear> fixed;
  std::vector<int> output_shift;  // per output, >= 0
  int output_frac_bits = 0;
  uint64_t output_bound = 0;  // the largest |y| code, < 2^31
  // How the C rounds (the integers are the same whichever; the simulator does not ask):
  //   Word32: int32 sums, every shift at most 31 and every row's bound plus its rounding half
  //     2^(s-1) below 2^31: the half in row k's int32 offset, then a 32-bit unsigned shift;
  //   Word64: int64 sums and every shift at most 31: the half in the int64 offset, then the low
  //     word of a 64-bit unsigned shift (from 32-bit shifts of its halves);
  //   Runtime: else, the int64 row through the runtime's unsigned rounding (any shift).
  enum class Rounding { Word32, Word64, Runtime };
  Rounding rounding = Rounding::Runtime;
  uint64_t half_bound = 0;  // the largest |row k + its half| over the rows and int16 inputs
  double error_bound = 0;     // |y 2^-output_frac_bits - exact output| <= this, every int16 input
};

// A Mahalanobis distance: z = weight (x - center), d2 = sum z_r^2; an outlier detector predicts
// +1 when d2 <= threshold. Without pipeline stages (or behind per-feature scalers) the weight is
// the transposed Cholesky factor of the precision matrix: upper triangular, n (n + 1) / 2 terms.
struct MahalanobisProgram {
  uint32_t n_rows = 0;
  uint32_t n_features = 0;
  bool triangular = false;     // weight[r][f] == 0 for f < r
  std::vector<double> weight;  // n_rows x n_features
  std::vector<double> center;  // n_features
  bool has_threshold = false;
  double threshold = 0;
  // Fixed mode: z_r on codes in units of 2^-(row r's binary point: fixed->frac_bits, or
  // fixed->row_frac_bits[r] where each row has its own), rounded right (half up) by row_shift[r]
  // (at most 32) into one format, squared and summed into an int64 score in units of
  // 2^-score_frac_bits; inlier when score <= threshold_code. Where the rows share a point, they
  // share one shift too.
  std::optional<FixedLinear> fixed;
  std::vector<int> row_shift;
  int score_frac_bits = 0;
  int64_t threshold_code = 0;
  uint64_t score_bound = 0;  // the largest score, < 2^62
  double z_error = 0;        // |z_r computed - z_r exact| <= z_error (real units), every input and row
};

// Pipeline stages that cannot be folded into the estimator (a PCA stage in front of trees, naive
// Bayes or a kernel SVM; scalers in front of those two in float mode) run first, as one affine
// map: y = weight (x - center) in float32, or on codes in fixed mode, where each output is
// requantized to an int16 code for the estimator: code = sat16(round_shift(acc, shift) + offset),
// standing for 2^(shift - F) (code - offset) (`output_quantization`).
struct StageProgram {
  uint32_t n_inputs = 0;
  uint32_t n_outputs = 0;
  bool diagonal = false;       // weight holds the diagonal only (n_inputs == n_outputs)
  std::vector<double> weight;  // diagonal (n) or n_outputs x n_inputs
  std::vector<double> center;  // n_inputs
  std::optional<FixedLinear> fixed;
  int shift = 0;
  std::vector<int32_t> offset;  // n_outputs
  InputQuantization output_quantization;
  // Fixed mode: every output code stands for a value within this of the exact stages' output,
  // for every input within the ranges: the map's error, plus half a code for the rounding (one
  // code where the span takes more than 65534 codes: a saturated output may then be one off).
  double error_bound = 0;
};

// `quantization` (fixed mode) is the raw input's; it needs ranges from data.
StageProgram lower_stage(const AffinePrefix& prefix, const InputQuantization* quantization);
void evaluate_stage(const StageProgram& stage, const int16_t* codes, int16_t* out);

PcaProgram lower_pca(const Pca& pca, const AffinePrefix& prefix,
                     const InputQuantization* quantization);
// overlapping_words: 24-bit weights as overlapping words (LowerOptions::overlapping_words).
MahalanobisProgram lower_mahalanobis(const Mahalanobis& model, const AffinePrefix& prefix,
                                     const InputQuantization* quantization, bool overlapping_words = false);

// The squared distance's error bound for a computed score near d2 (real units): each z_r is off
// by at most z_error, so |score - d2| <= 2 z_error sqrt(n_rows d2) + n_rows z_error^2, plus the
// rounding of the shifted components.
double mahalanobis_score_error(const MahalanobisProgram& program, double d2);

// The simulator's arithmetic for fixed mode (the C templates mirror it).
void evaluate_pca(const PcaProgram& program, const int16_t* codes, int64_t* out);
int64_t evaluate_mahalanobis(const MahalanobisProgram& program, const int16_t* codes);

}  // namespace mcuport

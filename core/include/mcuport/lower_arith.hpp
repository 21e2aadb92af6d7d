// Lowering of the arithmetic families (SVMs, linear models, Gaussian naive Bayes) to the
// numbers the generated code computes with, still in float64 and independent of C and targets.
#pragma once

#include <cstdint>
#include <vector>

#include <optional>

#include "mcuport/fixed_distance.hpp"
#include "mcuport/fixed_linear.hpp"
#include "mcuport/ir.hpp"

namespace mcuport {

// An SVM as the generated code evaluates it. For every support vector, its class and, for each
// other class j, the coefficient it contributes to the pair (i, j). A linear kernel is collapsed
// at port time into one weight vector per pair (w = sum of coef * sv), so the code never loops
// over support vectors for it.
struct SvmProgram {
  Kernel kernel = Kernel::Rbf;
  double gamma = 0;
  double coef0 = 0;
  int32_t degree = 3;
  bool one_class = false;
  uint32_t n_classes = 0;  // 1 for a one-class SVM
  uint32_t n_pairs = 0;    // n_classes (n_classes - 1) / 2, or 1
  uint32_t n_features = 0;
  // Kernel SVMs (not linear):
  uint32_t n_sv = 0;
  std::vector<double> support_vectors;  // n_sv x n_features
  std::vector<uint32_t> sv_class;       // n_sv
  std::vector<double> sv_coef;          // n_sv x max(1, n_classes - 1): libsvm's coefficients,
                                        // transposed so that one SV's row is contiguous
  // Linear kernel: dec_p(x) = pair_weight[p] . x + intercept[p].
  std::vector<double> pair_weight;  // n_pairs x n_features
  std::vector<double> intercept;    // n_pairs
  // Float mode, a pipeline whose center keeps_center_apart: dec_p = pair_weight[p] . (x - center)
  // + intercept[p] (LinearProgram::center); else empty.
  std::vector<double> center;

  // Fixed mode, linear kernel: the collapsed pairs as a fixed-point affine map.
  std::optional<FixedLinear> fixed;
  // Fixed mode, kernels other than linear: K_s in Q30 with |K_s| <= 1, then
  //   dec_p = intercept_code[p] + sum of coef_code * K_s, in units of 2^-dec_frac_bits.
  // RBF: y = rescale(xq) once, K_s = exp_neg(argument(distance_s(y))). Sigmoid:
  // K_s = tanh(argument_s(xq) at frac_bits).
  // Poly: b = argument_s / 2^argument_shift_bits in Q30, K_s = b^degree; the coefficients carry
  // the 2^(argument_shift_bits * degree).
  std::optional<FixedRbfDistance> distance;
  std::optional<FixedLinear> argument;  // gamma sv_s . x + coef0, one row per SV
  int argument_shift_bits = 0;
  std::vector<int32_t> coef_code;       // like sv_coef
  std::vector<int64_t> intercept_code;  // n_pairs
  int dec_frac_bits = 0;
  uint64_t dec_bound = 0;               // proven max |dec_p| over all inputs
  // Fixed mode, every kernel: |dec_p 2^-dec_frac_bits - scikit-learn's decision value| <= this
  // for every pair and int16 input, on the values the codes stand for (lower.cpp,
  // kernel_decision_error_bound; the collapsed map's error_bound for a linear kernel).
  double dec_error_bound = 0;

  bool collapsed() const { return kernel == Kernel::Linear; }
};

SvmProgram lower_svm(const Model& model, const SupportVectorMachine& svm);

// Gaussian naive Bayes as jll_c(x) = bias_c - sum_f weight_cf (x_f - theta_cf)^2, with
// bias_c = log(prior_c) - 0.5 sum_f log(2 pi var_cf) and weight_cf = 0.5 / var_cf.
struct NaiveBayesProgram {
  uint32_t n_classes = 0;
  uint32_t n_features = 0;
  std::vector<double> bias;    // n_classes
  std::vector<double> theta;   // n_classes x n_features
  std::vector<double> weight;  // n_classes x n_features
  // Fixed mode: jll_c * 2^F = bias_code[c] - distance_c(xq), F = distance->frac_bits.
  std::optional<FixedSquaredDistance> distance;
  std::vector<int64_t> bias_code;
  // Fixed mode: |jll_c computed - jll_c| <= relative T + root sqrt(T) + absolute for every class
  // and int16 input, T = sum_f weight_cf (x_f - theta_cf)^2 on the values the codes stand for.
  DistanceErrorTerms error;
};

NaiveBayesProgram lower_gaussian_nb(const Model& model, const GaussianNaiveBayes& nb);

// The index of the pair (i, j), i < j, in libsvm's order (0,1), (0,2), ..., (1,2), ...
inline uint32_t pair_index(uint32_t i, uint32_t j, uint32_t n_classes) {
  return i * (2 * n_classes - i - 1) / 2 + (j - i - 1);
}

// The column of libsvm's coefficients (SvmProgram::sv_coef) that a support vector of class i
// gives the pair of classes i and j (j != i).
inline uint32_t coef_column(uint32_t i, uint32_t j) { return j < i ? j : j - 1; }

}  // namespace mcuport

// lower(): analysis and lowering of a model, by family (see lower.hpp).
#include "mcuport/lower.hpp"

#include <algorithm>
#include <cmath>

#include "mcuport/error.hpp"
#include "mcuport/fixed_math.hpp"
#include "mcuport/lower_pipeline.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

namespace {

// The least n with v <= 2^n (0 for v <= 1).
int ceil_log2(uint64_t v) {
  int n = 0;
  while (n < 64 && (uint64_t{1} << n) < v) ++n;
  return n;
}

// The coefficients of a kernel SVM whose kernel values are Q30 with |K| <= 1, as int32 on one
// binary point chosen so that no decision value can leave int64: the sum over the SVs of
// |coefficient| * 2^30, plus the intercept, stays below 2^62. `scale` multiplies every
// coefficient (poly: the argument's normalisation).
void quantize_kernel_coefficients(SvmProgram& program, double scale) {
  const std::size_t rows = program.sv_coef.size() / program.n_sv;
  double coef_sum = 0;  // sum over SVs of the largest |coefficient| the SV contributes
  double coef_max = 0;
  for (uint32_t s = 0; s < program.n_sv; ++s) {
    double m = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      m = std::max(m, std::fabs(program.sv_coef[s * rows + r] * scale));
    }
    coef_sum += m;
    coef_max = std::max(coef_max, m);
  }
  double intercept_max = 0;
  for (double b : program.intercept) intercept_max = std::max(intercept_max, std::fabs(b));
  const double total = coef_sum + intercept_max;  // |dec| <= total in real units (|K| <= 1)
  if (!(total > 0 && std::isfinite(total))) {
    throw Error("/params/dual_coef", "the SVM's coefficients cannot be represented in fixed point");
  }
  int e = static_cast<int>(std::floor(31.0 - std::log2(total)));  // total * 2^(e+30) < 2^61
  // A difference of logs, not log2(2^31 / coef_max): a subnormal coef_max makes the quotient
  // infinite, and an infinity converted to int is undefined (a fuzzer finding). Both results
  // are at most 31 + 1074, and the range check below refuses what they cannot hold.
  if (coef_max > 0) {
    e = std::min(e, static_cast<int>(std::floor(std::log2(2147483647.0) - std::log2(coef_max))));
  }
  if (e < -90 || e > 90) {
    throw Error("/params/dual_coef", "the SVM's coefficients cannot be represented in fixed point");
  }
  for (double c : program.sv_coef) {
    program.coef_code.push_back(static_cast<int32_t>(std::llround(std::ldexp(c * scale, e))));
  }
  for (double b : program.intercept) {
    program.intercept_code.push_back(std::llround(std::ldexp(b, e + fixed::kResultFracBits)));
  }
  program.dec_frac_bits = e + fixed::kResultFracBits;
  // Each coefficient code may be 0.5 above |c| 2^e: n_sv * 0.5 * 2^30 more at most.
  program.dec_bound = static_cast<uint64_t>(std::ldexp(total, program.dec_frac_bits)) +
                      static_cast<uint64_t>(program.n_sv) * (uint64_t{1} << 29) + 1;
  MCUPORT_ASSERT(program.dec_bound < (uint64_t{1} << 62));
}

// The pairs support vector s's coefficients enter, each with its coefficient column: every pair
// of its class, or the one pair of a one-class model.
std::vector<std::pair<uint32_t, uint32_t>> sv_pair_columns(const SvmProgram& program, uint32_t s) {
  if (program.one_class) return {{0u, 0u}};
  std::vector<std::pair<uint32_t, uint32_t>> out;
  const uint32_t i = program.sv_class[s];
  for (uint32_t j = 0; j < program.n_classes; ++j) {
    if (j != i) out.emplace_back(pair_index(std::min(i, j), std::max(i, j), program.n_classes), coef_column(i, j));
  }
  return out;
}

// A bound on |dec_p 2^-dec_frac_bits - dec_p(x)| for every pair p and int16 input, on the
// values the codes stand for, given kernel_error[s]: a bound on |K_s - k_s| for support vector
// s, K_s its computed kernel value as a real number (|K_s| <= 1) and k_s the exact kernel value
// in the units of the coefficients (poly: over 2^(m degree), which the coefficients carry).
// dec_p sums coef_code K_s over the support vectors of the pair's two classes (every one for a
// one-class or two-class model): a coefficient code is within 0.5 2^-e of its value, so each
// term is within |coef| kernel_error[s] + 0.5 2^-e, and the intercept within 0.5 2^-dec_frac_bits.
double kernel_decision_error_bound(const SvmProgram& program, const std::vector<double>& kernel_error) {
  const uint32_t rows = program.one_class ? 1u : program.n_classes - 1u;
  const double scale = program.kernel == Kernel::Poly
                           ? std::ldexp(1.0, program.argument_shift_bits * program.degree)
                           : 1.0;
  const int e = program.dec_frac_bits - fixed::kResultFracBits;  // the coefficient codes' point
  std::vector<double> pair_sum(program.n_pairs, std::ldexp(0.5, -program.dec_frac_bits));
  for (uint32_t s = 0; s < program.n_sv; ++s) {
    for (const auto& [p, column] : sv_pair_columns(program, s)) {
      pair_sum[p] += std::fabs(program.sv_coef[s * rows + column]) * scale * kernel_error[s] +
                     std::ldexp(0.5, -e);
    }
  }
  return *std::max_element(pair_sum.begin(), pair_sum.end()) * (1 + 0x1p-40);
}

// An RBF kernel's bound, tighter than every support vector's worst case added up. The kernel
// error at an exact argument t is at most e_peak, and at most e_tail(T) where t >= T
// (rbf_kernel_error_bounds). For an input, the support vectors with t < T lie within sqrt(T)
// of it in sqrt(gamma) units, so within 2 sqrt(T) of each other: their |coefficients| add up to
// at most near(T), the largest such sum over the support vectors' 4T-neighbourhoods
// (gamma |sv_s - sv_j|^2 <= 4T). So a pair's kernel terms are within
// near(T) (e_peak - e_tail(T)) + total e_tail(T), for the best T; T = infinity is the sum of
// the worst cases. The neighbourhoods cost n_sv^2 n_features / 2 operations and 8 n_sv
// (n_classes - 1) sums a T: above kMaxWork or kMaxEntries, the worst cases.
double rbf_decision_error_bound(const SvmProgram& program) {
  constexpr double kMaxWork = 0x1p27;
  constexpr double kMaxEntries = 0x1p22;  // 32 MB of neighbourhood sums
  const FixedRbfDistance& map = *program.distance;
  const std::vector<double> from = {0.0, 0.5, 1, 2, 4, 8, 16, 32};
  const std::vector<double> error = rbf_kernel_error_bounds(map, from);
  const double peak = error[0];
  const uint32_t n = program.n_sv;
  const uint32_t nf = program.n_features;
  const uint32_t rows = program.one_class ? 1u : program.n_classes - 1u;
  const int e = program.dec_frac_bits - fixed::kResultFracBits;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> sv_pairs(n);
  for (uint32_t s = 0; s < n; ++s) sv_pairs[s] = sv_pair_columns(program, s);
  std::vector<double> total(program.n_pairs, 0.0);
  std::vector<double> rounding(program.n_pairs, std::ldexp(0.5, -program.dec_frac_bits));
  for (uint32_t s = 0; s < n; ++s) {
    for (const auto& [p, row] : sv_pairs[s]) {
      total[p] += std::fabs(program.sv_coef[s * rows + row]);
      rounding[p] += std::ldexp(0.5, -e);
    }
  }
  // near[k][s * rows + r]: the |coefficients| within gamma |.|^2 <= 4 from[k] of SV s, in the
  // pair of s's coefficient column r (n_sv (n_classes - 1) entries for each k >= 1).
  std::vector<std::vector<double>> near(from.size());
  const bool clustered = static_cast<double>(n) * n * nf / 2 <= kMaxWork &&
                         static_cast<double>(n) * rows * (from.size() - 1) <= kMaxEntries;
  if (clustered) {
    for (std::size_t k = 1; k < from.size(); ++k) near[k].assign(static_cast<std::size_t>(n) * rows, 0.0);
    // Adds SV j's coefficients to SV s's neighbourhood k, in the pairs the two share: every pair
    // of their class (the same column for both), or the pair of their two classes.
    const auto add = [&](uint32_t s, uint32_t j, std::size_t k) {
      if (program.one_class || program.sv_class[s] == program.sv_class[j]) {
        for (uint32_t r = 0; r < rows; ++r) near[k][s * rows + r] += std::fabs(program.sv_coef[j * rows + r]);
      } else {
        const uint32_t ci = program.sv_class[s];
        const uint32_t cj = program.sv_class[j];
        near[k][s * rows + coef_column(ci, cj)] += std::fabs(program.sv_coef[j * rows + coef_column(cj, ci)]);
      }
    };
    const double root_gamma = std::sqrt(program.gamma);
    for (uint32_t s = 0; s < n; ++s) {
      for (uint32_t j = s; j < n; ++j) {
        double d2 = 0;  // gamma |sv_s - sv_j|^2, the differences scaled first (no overflow of d^2)
        for (uint32_t f = 0; f < nf; ++f) {
          const double d = root_gamma * (program.support_vectors[s * nf + f] - program.support_vectors[j * nf + f]);
          d2 += d * d;
        }
        d2 *= 1 - 1e-12;  // rounded down: a neighbour is never missed
        // The first neighbourhood that holds j; the sums over k are taken after the loop.
        std::size_t k = 1;
        while (k < from.size() && !(d2 <= 4 * from[k])) ++k;
        if (k == from.size()) continue;
        add(s, j, k);
        if (j != s) add(j, s, k);
      }
    }
    for (std::size_t k = 2; k < from.size(); ++k) {
      for (std::size_t i = 0; i < near[k].size(); ++i) near[k][i] += near[k - 1][i];
    }
  }
  double bound = 0;
  std::vector<double> largest(program.n_pairs);
  std::vector<double> best(program.n_pairs);
  for (uint32_t p = 0; p < program.n_pairs; ++p) best[p] = total[p] * peak;
  for (std::size_t k = 1; clustered && k < from.size(); ++k) {
    std::fill(largest.begin(), largest.end(), 0.0);
    for (uint32_t s = 0; s < n; ++s) {
      for (const auto& [p, row] : sv_pairs[s]) largest[p] = std::max(largest[p], near[k][s * rows + row]);
    }
    for (uint32_t p = 0; p < program.n_pairs; ++p) {
      best[p] = std::min(best[p], std::min(largest[p], total[p]) * (peak - error[k]) + total[p] * error[k]);
    }
  }
  for (uint32_t p = 0; p < program.n_pairs; ++p) bound = std::max(bound, best[p] + rounding[p]);
  return bound * (1 + 0x1p-40);
}

// A poly kernel's kernel_error: with beta = (gamma sv.x + coef0) / 2^m exact and B = b / 2^30
// the normalised argument, |B - beta| <= d_b = argument error / 2^m + 2^-31 (the rounding to
// Q30), and |B| <= 1, |beta| <= 1 + d_b. The power loop rounds each of its `degree` products to
// Q30 (2^-31 each, not amplified since |B| <= 1), so |P - B^degree| <= degree 2^-31, and
// |B^degree - beta^degree| <= degree (1 + d_b)^(degree - 1) d_b.
double poly_decision_error_bound(const SvmProgram& program) {
  const double d = program.degree;
  const double d_b = std::ldexp(program.argument->error_bound, -program.argument_shift_bits) +
                     0x1p-31;
  const double kernel_error = d * 0x1p-31 + d * std::pow(1 + d_b, d - 1) * d_b;
  return kernel_decision_error_bound(program, std::vector<double>(program.n_sv, kernel_error));
}

// A sigmoid kernel's kernel_error for SV s: its argument's row error (plus the rounding to Q40
// where the argument is finer), carried through tanh (slope at most 1), plus tanh's 1 LSB; at
// most 2, as both values lie in [-1, 1].
double sigmoid_decision_error_bound(const SvmProgram& program) {
  const FixedLinear& argument = *program.argument;
  const double rounding = argument.frac_bits > 40 ? 0x1p-41 : 0.0;
  std::vector<double> kernel_error;
  for (uint32_t s = 0; s < program.n_sv; ++s) {
    kernel_error.push_back(
        std::min(2.0, argument.row_error_bound[s] + rounding + fixed::tanh_max_error()));
  }
  return kernel_decision_error_bound(program, kernel_error);
}

// Kernel SVMs in fixed mode. RBF: Q30 exp of a squared distance in a common int16 domain. Sigmoid and poly:
// the argument gamma sv.x + coef0 as a fixed-point affine map (one row per SV), then tanh, or a
// power of the argument normalised into [-1, 1].
void lower_fixed_kernel(const Model& model, SvmProgram& program,
                        const InputQuantization& quantization) {
  // The loader accepts gamma >= 0, as scikit-learn does. The RBF kernel's fixed domain is in
  // sqrt(gamma) units, which gamma = 0 does not have; a sigmoid argument of zero weights got a
  // format below the tanh runtime's (whose message blamed gamma for being too large).
  if ((program.kernel == Kernel::Rbf || program.kernel == Kernel::Sigmoid) && !(program.gamma > 0)) {
    const bool rbf = program.kernel == Kernel::Rbf;
    throw Error("/params/gamma", std::string("fixed mode needs ") +
                                     (rbf ? "an RBF" : "a sigmoid") + " kernel's gamma > 0, got " +
                                     format_general(program.gamma, 6) +
                                     " (with gamma 0 every kernel value is " +
                                     (rbf ? "1" : "tanh(coef0)") + "); use float mode");
  }
  if (program.kernel == Kernel::Rbf) {
    program.distance = quantize_rbf_distance(program.support_vectors, program.gamma, quantization);
    quantize_kernel_coefficients(program, 1.0);
    program.dec_error_bound = rbf_decision_error_bound(program);
    return;
  }
  std::vector<double> weight(program.support_vectors.size());
  for (std::size_t i = 0; i < weight.size(); ++i) weight[i] = program.gamma * program.support_vectors[i];
  const std::vector<double> bias(program.n_sv, program.coef0);
  // 31-bit weights: the argument is raised to a power (poly) or fed to tanh, and on unscaled
  // data 15 bits leave too little of it.
  program.argument = quantize_linear(weight, bias, quantization, 31);
  const int e = program.argument->frac_bits;
  if (program.kernel == Kernel::Sigmoid) {
    if (e < fixed::kMinFracBits) {
      throw Error("/params/gamma", "fixed mode for this sigmoid SVM: gamma times the support vectors is too "
                      "large for the tanh runtime's argument format (" + model.info.estimator + ")");
    }
    quantize_kernel_coefficients(program, 1.0);
    program.dec_error_bound = sigmoid_decision_error_bound(program);
    return;
  }
  // Poly: |argument| <= accumulator_bound * 2^-e for every input; normalise by the next power of
  // two so that b = argument / 2^m lies in [-1, 1] and b^degree stays in Q30. m is the bound's
  // ceil(log2) less e, in integers: where gamma times a support vector nears the double range,
  // e is far below zero, 2^-e is infinite as a double, and that infinity went into an int
  // (UBSan float-cast-overflow, a fuzzer finding; on x86 it became INT_MIN, a shift of 2^31 bits
  // in the generated code).
  program.argument_shift_bits = ceil_log2(program.argument->accumulator_bound) - e;
  const int scaled = program.argument_shift_bits * program.degree;  // |m| <= 1200, degree <= 16
  if (scaled > 1023) {
    throw Error("/params/degree", "fixed mode for this poly SVM: the kernel's argument gamma x.sv + coef0 can "
                    "reach 2^" + std::to_string(program.argument_shift_bits) +
                        " over the input ranges, and raised to the power " +
                        std::to_string(program.degree) + " that is beyond the double range (" +
                        model.info.estimator +
                        "); scale the inputs first (a StandardScaler in a pipeline) or use float mode");
  }
  quantize_kernel_coefficients(program, std::ldexp(1.0, scaled));
  program.dec_error_bound = poly_decision_error_bound(program);
  // A classifier's decision values put its margin at +-1, a one-class SVM's decisions are its
  // offset's scale: an error bound as large leaves the fixed-mode decisions unfounded (wine,
  // SVC(kernel="poly", degree=5, coef0=-0.3, gamma="auto"): a bound of 576, and 10 of 45 test
  // rows decided otherwise). Float mode keeps the exponent that the one binary point loses.
  const double scale = program.one_class ? std::fabs(program.intercept.at(0)) : 1.0;
  const std::string scale_text =
      program.one_class ? "the model's offset, " + format_general(scale, 4) : "the margin, 1";
  if (!(program.dec_error_bound < scale)) {
    throw Error("/params/degree",
                "fixed mode for this poly SVM: its decision values are proven only within " +
                    format_bound(program.dec_error_bound, 4) +
                    " of scikit-learn's, no less than " + scale_text +
                    " (the kernel's argument gamma x.sv + coef0 can reach 2^" +
                    std::to_string(program.argument_shift_bits) +
                    " over the input ranges, and each kernel value is kept as (argument / 2^" +
                    std::to_string(program.argument_shift_bits) + ")^" +
                    std::to_string(program.degree) +
                    " in Q30); use float mode, a lower degree or narrower input ranges (" +
                    model.info.estimator + ")");
  }
}

// Where a pipeline's stages go: composed into the weights of a family that is affine in its
// input, folded exactly into tree thresholds, (fixed mode, per-feature scalers) folded into the
// input quantization of the kernel and naive Bayes arithmetic, or else run first as a stage.
// Naive Bayes and kernel SVMs are not affine in their input: in fixed mode, per-feature scalers
// in front of them fold into the input quantization instead of their weights.
bool scales_through_quantization(const Model& model) {
  const auto* svm = std::get_if<SupportVectorMachine>(&model.family);
  return std::holds_alternative<GaussianNaiveBayes>(model.family) ||
         (svm != nullptr && svm->kernel != Kernel::Linear);
}

bool needs_stage(const Model& model, const AffinePrefix& prefix, Numeric numeric) {
  if (model.preprocessing.empty()) return false;
  if (std::holds_alternative<TreeEnsemble>(model.family)) return !prefix.diagonal;
  return scales_through_quantization(model) && (numeric == Numeric::Float || !prefix.diagonal);
}

Program lower_family(const Model& model, Numeric numeric, const AffinePrefix& prefix,
                     const InputQuantization* raw_quantization, const LowerOptions& options);

}  // namespace

LoweredModel lower(const Model& model, Numeric numeric, const LowerOptions& options) {
  const AffinePrefix prefix = compose_preprocessing(model);
  const bool tree_family = std::holds_alternative<TreeEnsemble>(model.family);
  if (prefix.clips && !(tree_family && prefix.diagonal)) {
    throw Error("/preprocessing", "a MinMaxScaler with clip=True is supported in front of tree "
                                  "models only (clipping is not affine)");
  }
  if (tree_family && !model.preprocessing.empty() && prefix.diagonal) {
    return lower(fold_scalers_into_trees(model), numeric, options);
  }
  LoweredModel lowered;
  lowered.numeric = numeric;
  const bool fixed = numeric == Numeric::Fixed;
  if (fixed) {
    if (!model.preprocessing.empty() && model.info.input_ranges.empty()) {
      throw Error("/input_ranges", "fixed mode needs input ranges for a pipeline (its stages move "
                                   "the data), and the document has none: " + std::string(kInputRangesAdvice));
    }
    lowered.quantization = choose_input_quantization(model);
  }
  const InputQuantization* quantization = lowered.quantization ? &*lowered.quantization : nullptr;
  if (!needs_stage(model, prefix, numeric)) {
    lowered.program = lower_family(model, numeric, prefix, quantization, options);
    return lowered;
  }
  // The stage runs first; the estimator is lowered as a model of the stage's outputs.
  lowered.stage = lower_stage(prefix, quantization);
  Model inner = model;
  inner.preprocessing.clear();
  inner.info.n_features = static_cast<int32_t>(prefix.n_outputs);
  inner.info.feature_names.clear();
  inner.info.input_ranges.clear();
  const AffinePrefix identity = compose_preprocessing(inner);
  lowered.program = lower_family(inner, numeric, identity,
                                 fixed ? &lowered.stage->output_quantization : nullptr, options);
  return lowered;
}

namespace {

Program lower_family(const Model& model, Numeric numeric, const AffinePrefix& prefix,
                     const InputQuantization* raw_quantization, const LowerOptions& options) {
  const bool fixed = numeric == Numeric::Fixed;
  // The quantization the family's arithmetic sees: after per-feature scalers, when they are
  // folded into it rather than into the family's weights.
  std::optional<InputQuantization> scaled;
  if (fixed && !model.preprocessing.empty() && scales_through_quantization(model)) {
    scaled = compose_quantization(*raw_quantization, prefix);
  }
  const InputQuantization* quantization = scaled ? &*scaled : raw_quantization;

  return std::visit(
      [&](const auto& family) -> Program {
        using T = std::decay_t<decltype(family)>;
        if constexpr (std::is_same_v<T, TreeEnsemble>) {
          return lower_trees(model, family, numeric, quantization, options.proba_bits);
        } else if constexpr (std::is_same_v<T, SupportVectorMachine>) {
          SvmProgram program = lower_svm(model, family);
          if (program.collapsed() && !model.preprocessing.empty()) {
            // dec_p = w_p . y + b_p with y = A (x - c): weights w_p A, offsets b_p - w_p A c.
            const std::vector<double> weight = program.pair_weight;
            const std::vector<double> bias = program.intercept;
            program.pair_weight = prefix.compose(weight, program.n_pairs);
            program.n_features = prefix.n_inputs;
            program.intercept = centered_offsets(program.pair_weight, program.n_pairs, prefix.center, bias);
            if (!fixed &&
                keeps_center_apart(prefix, weight, bias, program.pair_weight, program.intercept)) {
              program.center = prefix.center;
              program.intercept = bias;
            }
          }
          if (fixed && program.collapsed()) {
            program.fixed = quantize_linear(program.pair_weight, program.intercept, *quantization);
            program.dec_error_bound = program.fixed->error_bound;
          } else if (fixed) {
            lower_fixed_kernel(model, program, *quantization);
          }
          return program;
        } else if constexpr (std::is_same_v<T, LinearModel>) {
          LinearProgram program;
          program.n_classes = static_cast<uint32_t>(model.n_classes());
          program.n_outputs = static_cast<uint32_t>(family.n_outputs());
          program.n_features = prefix.n_inputs;
          program.coef = prefix.compose(family.coef, family.n_outputs());
          program.intercept = centered_offsets(program.coef, program.n_outputs, prefix.center,
                                               family.intercept);
          if (!fixed && !model.preprocessing.empty() &&
              keeps_center_apart(prefix, family.coef, family.intercept, program.coef, program.intercept)) {
            program.center = prefix.center;
            program.intercept = family.intercept;
          }
          if (fixed) program.fixed = quantize_linear(program.coef, program.intercept, *quantization);
          return program;
        } else if constexpr (std::is_same_v<T, Pca>) {
          return lower_pca(family, prefix, quantization);
        } else if constexpr (std::is_same_v<T, Mahalanobis>) {
          return lower_mahalanobis(family, prefix, quantization, options.overlapping_words);
        } else if constexpr (std::is_same_v<T, GaussianNaiveBayes>) {
          NaiveBayesProgram program = lower_gaussian_nb(model, family);
          if (fixed) {
            // jll_c = bias_c - sum_f weight_cf (x_f - theta_cf)^2: a weighted squared distance
            // per class, and the biases on its binary point.
            // The class constants need room at the same binary point as the distances.
            double bias_max = 1;
            for (double b : program.bias) bias_max = std::max(bias_max, std::fabs(b));
            const int limit = std::min(62, static_cast<int>(std::floor(60.0 - std::log2(bias_max))));
            program.distance =
                quantize_squared_distance(program.theta, program.weight, *quantization, limit,
                                          options.high_word_terms);
            for (std::size_t c = 0; c < program.bias.size(); ++c) {
              const double code = std::round(std::ldexp(program.bias[c], program.distance->frac_bits));
              if (!(std::fabs(code) < 0x1p61)) {
                // log(prior) - 0.5 sum log(2 pi var): the variances make it large.
                throw Error("/params/var/" + std::to_string(c),
                            "the naive Bayes class constants do not fit 64-bit fixed point "
                            "at the distances' binary point");
              }
              program.bias_code.push_back(static_cast<int64_t>(code));
            }
            // jll_c's error: its distance's (fixed_distance.hpp, distance_error_terms) plus the
            // constant's rounding, half a unit of 2^-F; the largest terms over the classes.
            for (uint32_t c = 0; c < program.n_classes; ++c) {
              const DistanceErrorTerms terms = distance_error_terms(*program.distance, c);
              program.error.relative = std::max(program.error.relative, terms.relative);
              program.error.root = std::max(program.error.root, terms.root);
              program.error.absolute =
                  std::max(program.error.absolute,
                           terms.absolute + std::ldexp(0.5, -program.distance->frac_bits));
            }
          }
          return program;
        } else {
          static_assert(always_false<T>, "lower: family without a lowering");
        }
      },
      model.family);
}

}  // namespace

}  // namespace mcuport

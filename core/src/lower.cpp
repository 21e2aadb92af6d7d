// lower(): analysis and lowering of a model, by family (see lower.hpp).
#include "mcuport/lower.hpp"

#include <algorithm>
#include <cmath>

#include "mcuport/error.hpp"
#include "mcuport/fixed_math.hpp"

namespace mcuport {

namespace {

[[noreturn]] void not_yet(const Model& model, const std::string& what) {
  throw Error("", "fixed mode for " + what + " (" + model.info.estimator +
                      ") is not available yet; use numeric=\"float\"");
}

// RBF in fixed mode: kernel values exp(-gamma |x - sv|^2) in Q30 from a shared-weight squared
// distance, coefficients as int32 on one binary point chosen so that no decision value can
// leave int64 (the sum of |coef| * 2^30 over the SVs, plus the intercept, stays below 2^62).
void lower_fixed_rbf(SvmProgram& program, const InputQuantization& quantization) {
  const std::vector<double> gamma(program.n_features, program.gamma);
  program.distance = quantize_squared_distance(program.support_vectors, gamma, true,
                                               quantization, fixed::kMaxFracBits,
                                               fixed::kMinFracBits);
  const std::size_t rows = program.sv_coef.size() / program.n_sv;
  double coef_sum = 0;  // sum over SVs of the largest |coefficient| the SV contributes
  double coef_max = 0;
  for (uint32_t s = 0; s < program.n_sv; ++s) {
    double m = 0;
    for (std::size_t r = 0; r < rows; ++r) m = std::max(m, std::fabs(program.sv_coef[s * rows + r]));
    coef_sum += m;
    coef_max = std::max(coef_max, m);
  }
  double intercept_max = 0;
  for (double b : program.intercept) intercept_max = std::max(intercept_max, std::fabs(b));
  const double total = coef_sum + intercept_max;  // |dec| <= total in real units (K <= 1)
  int e = static_cast<int>(std::floor(31.0 - std::log2(total)));  // total * 2^(e+30) < 2^61
  if (coef_max > 0) e = std::min(e, static_cast<int>(std::floor(std::log2(2147483647.0 / coef_max))));
  e = std::clamp(e, -60, 60);
  for (double c : program.sv_coef) {
    program.coef_code.push_back(static_cast<int32_t>(std::llround(std::ldexp(c, e))));
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

}  // namespace

LoweredModel lower(const Model& model, Numeric numeric) {
  LoweredModel lowered;
  lowered.numeric = numeric;
  const bool fixed = numeric == Numeric::Fixed;
  if (fixed) {
    // Families fixed mode cannot lower yet say so before asking for input ranges.
    if (const auto* svm = std::get_if<SupportVectorMachine>(&model.family)) {
      if (svm->kernel != Kernel::Linear && svm->kernel != Kernel::Rbf) {
        not_yet(model, std::string("SVMs with a ") + to_string(svm->kernel) + " kernel");
      }
    }
    lowered.quantization = choose_input_quantization(model);
  }
  const InputQuantization* quantization = lowered.quantization ? &*lowered.quantization : nullptr;

  lowered.program = std::visit(
      [&](const auto& family) -> Program {
        using T = std::decay_t<decltype(family)>;
        if constexpr (std::is_same_v<T, TreeEnsemble>) {
          return lower_trees(model, family, numeric, quantization);
        } else if constexpr (std::is_same_v<T, SupportVectorMachine>) {
          SvmProgram program = lower_svm(model, family);
          if (fixed && program.collapsed()) {
            program.fixed = quantize_linear(program.pair_weight, program.intercept, *quantization);
          } else if (fixed) {
            lower_fixed_rbf(program, *quantization);
          }
          return program;
        } else if constexpr (std::is_same_v<T, LinearModel>) {
          LinearProgram program;
          program.n_classes = static_cast<uint32_t>(model.n_classes());
          program.n_outputs = static_cast<uint32_t>(family.n_outputs());
          program.n_features = static_cast<uint32_t>(model.info.n_features);
          program.coef = family.coef;
          program.intercept = family.intercept;
          if (fixed) program.fixed = quantize_linear(family.coef, family.intercept, *quantization);
          return program;
        } else if constexpr (std::is_same_v<T, GaussianNaiveBayes>) {
          NaiveBayesProgram program = lower_gaussian_nb(model, family);
          if (fixed) {
            // jll_c = bias_c - sum_f weight_cf (x_f - theta_cf)^2: a weighted squared distance
            // per class, and the biases on its binary point.
            program.distance =
                quantize_squared_distance(program.theta, program.weight, false, *quantization, 62);
            for (double b : program.bias) {
              const double code = std::round(std::ldexp(b, program.distance->frac_bits));
              if (!(std::fabs(code) < 0x1p61)) {
                throw Error("", "the naive Bayes class constants do not fit 64-bit fixed point "
                                "at the distances' binary point");
              }
              program.bias_code.push_back(static_cast<int64_t>(code));
            }
          }
          return program;
        } else {
          static_assert(always_false<T>, "lower: family without a lowering");
        }
      },
      model.family);
  return lowered;
}

}  // namespace mcuport

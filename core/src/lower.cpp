// lower(): analysis and lowering of a model, by family (see lower.hpp).
#include "mcuport/lower.hpp"

#include <cmath>

#include "mcuport/error.hpp"

namespace mcuport {

namespace {

[[noreturn]] void not_yet(const Model& model, const std::string& what) {
  throw Error("", "fixed mode for " + what + " (" + model.info.estimator +
                      ") is not available yet; use numeric=\"float\"");
}

}  // namespace

LoweredModel lower(const Model& model, Numeric numeric) {
  LoweredModel lowered;
  lowered.numeric = numeric;
  const bool fixed = numeric == Numeric::Fixed;
  if (fixed) {
    // Families fixed mode cannot lower yet say so before asking for input ranges.
    if (const auto* svm = std::get_if<SupportVectorMachine>(&model.family)) {
      if (svm->kernel != Kernel::Linear) {
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
          if (fixed) program.fixed = quantize_linear(program.pair_weight, program.intercept, *quantization);
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

// The middle of the pipeline: a validated model, analysed (input quantization in fixed mode) and
// lowered to the program of its family. The C emitters print a LoweredModel; the simulator runs
// it. Both read the same numbers, which is what makes the simulator bit-exact.
#pragma once

#include <optional>
#include <variant>

#include "mcuport/fixed_linear.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/lower_arith.hpp"
#include "mcuport/lower_projection.hpp"
#include "mcuport/lower_trees.hpp"
#include "mcuport/quantize.hpp"

namespace mcuport {

// A linear classifier (LinearSVC): float coefficients, or their fixed-point form.
struct LinearProgram {
  uint32_t n_classes = 0;
  uint32_t n_outputs = 0;  // 1 for two classes
  uint32_t n_features = 0;
  std::vector<double> coef;       // n_outputs x n_features
  std::vector<double> intercept;  // n_outputs
  // Float mode, a pipeline whose center keeps_center_apart: out_k = intercept_k + sum_f coef_kf
  // (x_f - center_f), the intercept the estimator's own; else empty, and the center is folded
  // into the intercept.
  std::vector<double> center;
  std::optional<FixedLinear> fixed;
};

using Program = std::variant<TreeProgram, SvmProgram, LinearProgram, NaiveBayesProgram, PcaProgram,
                             MahalanobisProgram>;

struct LoweredModel {
  Numeric numeric = Numeric::Float;
  std::optional<InputQuantization> quantization;  // fixed mode: the raw input's
  std::optional<StageProgram> stage;  // pipeline stages that run before the program
  Program program;  // on the stage's outputs when there is a stage
};

// Choices that change a program's numbers, beyond the numeric mode.
struct LowerOptions {
  // Tree classifiers in fixed mode: bits of a leaf probability code (8 or 16).
  uint32_t proba_bits = kDefaultProbaBits;
  // Mahalanobis distances whose weights need 24 bits: store them 3 bytes a weight, each read as
  // the little-endian int32 at its first byte, so that its top byte is the next weight's low
  // byte (quantize_linear_words). Other integers than the plain 24-bit weights', so the
  // simulator must be told: port() sets it from the target (Target::unaligned_words).
  bool overlapping_words = false;
  // Gaussian naive Bayes whose terms need a shift each: take each term as the high word of
  // (x - center) 2^15 times a 31-bit root, with no shift (FixedSquaredDistance::high_word).
  // Other integers than the shifted terms', so the simulator must be told: port() sets it from
  // the target (Target::high_word_multiply).
  bool high_word_terms = false;
};

// Throws mcuport::Error where the model cannot be lowered in this numeric mode.
LoweredModel lower(const Model& model, Numeric numeric, const LowerOptions& options = {});

}  // namespace mcuport

// The fixed-mode simulator (see simulator.hpp). Each family's code here mirrors the C template
// of its emitter (codegen/src/emit_<family>.cpp); change them together.
#include "mcuport/simulator.hpp"

#include <algorithm>
#include <cmath>

#include "mcuport/error.hpp"
#include "mcuport/fixed_math.hpp"
#include "mcuport/load.hpp"

namespace mcuport {

namespace {

// <name>_find_leaf: walk one tree on codes.
uint32_t find_leaf(const TreeProgram& program, uint32_t node, const int16_t* codes) {
  const uint32_t n_splits = program.n_splits();
  while (node < n_splits) {
    node = codes[program.feature[node]] <= program.threshold_code[node] ? program.left[node]
                                                                         : program.right[node];
  }
  return node - n_splits;
}

// <name>_accumulate of a forest classifier, or the single tree's leaf as votes/probabilities.
void tree_class_scores(const TreeProgram& program, const int16_t* codes, int64_t* out) {
  const uint32_t n_classes = program.n_classes;
  for (uint32_t c = 0; c < n_classes; ++c) out[c] = 0;
  for (uint32_t t = 0; t < program.n_trees; ++t) {
    const uint32_t leaf = find_leaf(program, program.roots[t], codes);
    if (program.leaf_kind == LeafKind::ClassVote) {
      out[leaf] += program.n_trees == 1 ? static_cast<int64_t>(program.proba_one) : 1;
    } else {
      for (uint32_t c = 0; c < n_classes; ++c) out[c] += program.leaf_proba_code[leaf * n_classes + c];
    }
  }
}

// numpy's argmax (first maximum), as <name>_argmax and the vote loops.
int64_t argmax(const int64_t* values, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

// One-vs-one votes of an SVM from its pairwise decision values.
int64_t vote(const int64_t* dec, uint32_t n_classes) {
  std::vector<int64_t> votes(n_classes, 0);
  uint32_t p = 0;
  for (uint32_t i = 0; i < n_classes; ++i) {
    for (uint32_t j = i + 1; j < n_classes; ++j) ++votes[dec[p++] > 0 ? i : j];
  }
  return argmax(votes.data(), n_classes);
}

// The Q30 kernel value of SV s, as the generated code's kernel expression.
// RBF: `rescaled` holds the inputs in the kernel's domain (<name>_rescale).
int64_t kernel_value(const SvmProgram& program, const int16_t* codes, const int32_t* rescaled,
                     uint32_t s) {
  if (program.kernel == Kernel::Rbf) {
    const FixedRbfDistance& map = *program.distance;
    return fixed::exp_neg(rbf_exp_argument(map, rbf_squared_distance(map, rescaled, s)),
                          map.exp_frac_bits);
  }
  const int64_t a = evaluate_fixed_linear_row(*program.argument, codes, s);
  const int e = program.argument->frac_bits;
  if (program.kernel == Kernel::Sigmoid) {
    return e <= 40 ? fixed::tanh(a, e) : fixed::tanh(fixed::round_shift(a, e - 40), 40);
  }
  const int shift = e + program.argument_shift_bits - 30;
  const int64_t b = shift >= 0 ? fixed::round_shift(a, shift) : a * (int64_t{1} << -shift);
  int64_t power = fixed::kOneQ30;
  for (int32_t i = 0; i < program.degree; ++i) power = fixed::round_shift(power * b, 30);
  return power;
}

// <name>_decision_values in fixed mode: the collapsed linear map, or kernel values.
void svm_decision_values(const SvmProgram& program, const int16_t* codes, int64_t* dec) {
  if (program.fixed) {
    evaluate_fixed_linear(*program.fixed, codes, dec);
    return;
  }
  std::vector<int32_t> rescaled;
  if (program.kernel == Kernel::Rbf) {
    rescaled.resize(program.n_features);
    rescale_to_domain(*program.distance, codes, rescaled.data());
  }
  const uint32_t rows = program.one_class ? 1u : program.n_classes - 1u;
  for (uint32_t p = 0; p < program.n_pairs; ++p) dec[p] = program.intercept_code[p];
  for (uint32_t s = 0; s < program.n_sv; ++s) {
    const int64_t k = kernel_value(program, codes, rescaled.data(), s);
    if (program.one_class) {
      dec[0] += static_cast<int64_t>(program.coef_code[s]) * k;
      continue;
    }
    const uint32_t i = program.sv_class[s];
    for (uint32_t j = 0; j < program.n_classes; ++j) {
      if (j == i) continue;
      const uint32_t row = coef_column(i, j);
      dec[pair_index(std::min(i, j), std::max(i, j), program.n_classes)] +=
          static_cast<int64_t>(program.coef_code[s * rows + row]) * k;
    }
  }
}

// <name>_predict_joint_log_proba in fixed mode.
void naive_bayes_scores(const NaiveBayesProgram& program, const int16_t* codes, int64_t* out) {
  for (uint32_t c = 0; c < program.n_classes; ++c) {
    out[c] = program.bias_code[c] -
             static_cast<int64_t>(evaluate_squared_distance(*program.distance, codes, c));
  }
}

}  // namespace

Simulator::Simulator(const std::string& model_json, const LowerOptions& lower_options)
    : model_(load_model(model_json)), lowered_(lower(model_, Numeric::Fixed, lower_options)) {}

uint32_t Simulator::n_scores() const {
  return std::visit(
      [](const auto& program) -> uint32_t {
        using T = std::decay_t<decltype(program)>;
        if constexpr (std::is_same_v<T, TreeProgram>) {
          return program.task == Task::Classification ? program.n_classes : 0;
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          return program.n_pairs;
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          return program.n_outputs;
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          return program.n_outputs;
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          return 1;
        } else {
          return program.n_classes;
        }
      },
      lowered_.program);
}

double Simulator::score_unit() const {
  return std::visit(
      [](const auto& program) -> double {
        using T = std::decay_t<decltype(program)>;
        if constexpr (std::is_same_v<T, TreeProgram>) {
          return program.proba_one ? 1.0 / static_cast<double>(program.proba_one) : 0.0;
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          return std::ldexp(1.0, program.fixed ? -program.fixed->frac_bits : -program.dec_frac_bits);
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          return std::ldexp(1.0, -program.fixed->frac_bits);
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          return std::ldexp(1.0, -program.output_frac_bits);
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          return std::ldexp(1.0, -program.score_frac_bits);
        } else {
          return std::ldexp(1.0, -program.distance->frac_bits);
        }
      },
      lowered_.program);
}

double Simulator::output_unit() const {
  if (const auto* trees = std::get_if<TreeProgram>(&lowered_.program)) {
    if (trees->task == Task::Regression) return std::ldexp(1.0, -trees->value_frac_bits);
  }
  return 1.0;
}

void Simulator::quantize(const float* x, int16_t* codes) const {
  const auto& features = lowered_.quantization->features;
  for (std::size_t f = 0; f < features.size(); ++f) {
    const double v = static_cast<double>(x[f]) / features[f].scale + features[f].zero_point;
    if (!(v > -32768.5)) {
      codes[f] = INT16_MIN;
    } else if (v >= 32767.5) {
      codes[f] = INT16_MAX;
    } else {
      codes[f] = static_cast<int16_t>(v >= 0.0 ? static_cast<int32_t>(v + 0.5)
                                               : -static_cast<int32_t>(0.5 - v));
    }
  }
}

const int16_t* Simulator::staged(const int16_t* codes, std::vector<int16_t>& buffer) const {
  if (!lowered_.stage) return codes;
  buffer.resize(lowered_.stage->n_outputs);
  evaluate_stage(*lowered_.stage, codes, buffer.data());  // <name>_stage
  return buffer.data();
}

void Simulator::scores(const int16_t* raw_codes, int64_t* out) const {
  std::vector<int16_t> buffer;
  const int16_t* codes = staged(raw_codes, buffer);
  std::visit(
      [&](const auto& program) {
        using T = std::decay_t<decltype(program)>;
        if constexpr (std::is_same_v<T, TreeProgram>) {
          if (program.task != Task::Classification) return;
          if (program.n_trees == 1 && program.leaf_kind == LeafKind::ClassAndProba) {
            const uint32_t leaf = find_leaf(program, program.roots[0], codes);
            for (uint32_t c = 0; c < program.n_classes; ++c) {
              out[c] = program.leaf_proba_code[leaf * program.n_classes + c];
            }
          } else {
            tree_class_scores(program, codes, out);
          }
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          svm_decision_values(program, codes, out);
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          evaluate_fixed_linear(*program.fixed, codes, out);
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          evaluate_pca(program, codes, out);  // <name>_transform
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          out[0] = evaluate_mahalanobis(program, codes);  // <name>_score
        } else {
          naive_bayes_scores(program, codes, out);
        }
      },
      lowered_.program);
}

int64_t Simulator::predict(const int16_t* raw_codes) const {
  std::vector<int16_t> buffer;
  const int16_t* codes = staged(raw_codes, buffer);
  return std::visit(
      [&](const auto& program) -> int64_t {
        using T = std::decay_t<decltype(program)>;
        std::vector<int64_t> values(n_scores() > 0 ? n_scores() : 1);
        if constexpr (std::is_same_v<T, TreeProgram>) {
          if (program.task == Task::Regression) {
            int64_t acc = 0;
            for (uint32_t t = 0; t < program.n_trees; ++t) {
              acc += program.leaf_value_code[find_leaf(program, program.roots[t], codes)];
            }
            return acc;
          }
          if (program.leaf_kind == LeafKind::ClassAndProba) {
            return program.leaf_class[find_leaf(program, program.roots[0], codes)];
          }
          if (program.leaf_kind == LeafKind::ClassVote && program.n_trees == 1) {
            return find_leaf(program, program.roots[0], codes);
          }
          tree_class_scores(program, codes, values.data());
          return argmax(values.data(), program.n_classes);
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          svm_decision_values(program, codes, values.data());
          if (program.one_class) return values[0] > 0 ? 1 : -1;
          return vote(values.data(), program.n_classes);
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          evaluate_fixed_linear(*program.fixed, codes, values.data());
          if (program.n_outputs == 1) return values[0] > 0 ? 1 : 0;
          return argmax(values.data(), program.n_outputs);
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          throw Error("", "a transform (PCA) has no predict; its outputs are the scores");
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          if (!program.has_threshold) {
            throw Error("", "a distance model has no predict (it has no threshold); its score is "
                            "the squared distance");
          }
          return evaluate_mahalanobis(program, codes) <= program.threshold_code ? 1 : -1;
        } else {
          naive_bayes_scores(program, codes, values.data());
          return argmax(values.data(), program.n_classes);
        }
      },
      lowered_.program);
}

}  // namespace mcuport

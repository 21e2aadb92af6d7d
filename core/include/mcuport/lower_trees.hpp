// Lowering of a tree ensemble to flat tables: the program that the generated C walks.
// Target- and C-independent; the tree emitter (codegen/src/emit_trees.cpp) prints it.
#pragma once

#include <cstdint>
#include <vector>

#include "mcuport/ir.hpp"
#include "mcuport/quantize.hpp"

namespace mcuport {

// How a leaf contributes to the prediction.
enum class LeafKind {
  ClassVote,      // classifier whose leaves are all one-hot: the leaf *is* a class index, and the
                  // average of the trees' probabilities is exactly the vote count / n_trees
  ClassAndProba,  // decision tree with mixed leaves: the argmax of its raw weights (scikit-learn's
                  // DecisionTreeClassifier.predict) and its probabilities
  Proba,          // forest with mixed leaves: class probabilities, summed over the trees. In float
                  // mode in float64, as scikit-learn sums them: exact ties between classes are
                  // common, and only the same float64 arithmetic breaks them the same way
  Value,          // regressor: the leaf value, summed over the trees and averaged
};

// Fixed mode: leaf probabilities are unsigned codes of `proba_bits` bits, proba_one_code(bits)
// standing for 1.0, rounded to nearest (error at most 0.5 / proba_one_code(bits) per class and
// tree; docs/fixed-point.md). 16 bits is the default; 8 is the option for small flash.
inline constexpr uint32_t kDefaultProbaBits = 16;
inline constexpr bool valid_proba_bits(uint32_t bits) { return bits == 8 || bits == 16; }
// The code of probability 1.0: 255 * 2^(bits - 8), 65280 at 16 bits and 255 at 8. Its 8
// significant bits make it an immediate operand on Thumb-2 (a pure leaf is one add to its sum,
// where 65535 takes two instructions or a literal), and 65280 = 2^8 * 3 * 5 * 17 codes every
// probability k/n exactly whose n divides it (2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 17, 20, ...),
// where 65535 = 3 * 5 * 17 * 257 is exact for no even n.
inline constexpr uint32_t proba_one_code(uint32_t bits) { return 255u << (bits - 8); }

struct TreeProgram {
  Task task = Task::Classification;
  Numeric numeric = Numeric::Float;
  int32_t n_features = 0;
  uint32_t n_classes = 0;
  uint32_t n_trees = 0;
  uint32_t max_depth = 0;       // split nodes on the longest root-to-leaf path
  uint32_t folded_splits = 0;   // fixed mode: splits that go the same way for every int16 input

  // Split nodes of all trees. A child reference below n_splits() is a split node; any other
  // reference r is leaf (r - n_splits()). A tree whose root is a leaf has a leaf reference.
  std::vector<uint32_t> feature;
  std::vector<float> threshold_float;   // float mode: go left when x <= threshold (float32)
  std::vector<int32_t> threshold_code;  // fixed mode: go left when xq <= code, code in int16
  std::vector<uint8_t> nan_left;        // float mode: 1 where a NaN input goes left (else right)
  std::vector<uint32_t> left;
  std::vector<uint32_t> right;
  std::vector<uint32_t> roots;

  LeafKind leaf_kind = LeafKind::ClassVote;
  uint32_t n_leaves = 0;                // distinct leaves (ClassVote: n_classes)
  std::vector<uint32_t> leaf_class;     // ClassAndProba
  std::vector<double> leaf_proba_float;  // ClassAndProba, Proba (float): n_leaves x n_classes,
                                         // scikit-learn's float64 per-tree probabilities
  uint32_t proba_bits = kDefaultProbaBits;  // fixed mode: bits of a leaf probability code
  uint32_t proba_code_one = proba_one_code(kDefaultProbaBits);  // 1.0's code
  std::vector<uint32_t> leaf_proba_code;  // ClassAndProba, Proba (fixed), unit proba_code_one
  std::vector<float> leaf_value_float;  // Value (float): value / n_trees
  std::vector<int32_t> leaf_value_code;  // Value (fixed): round(value / n_trees * 2^frac_bits)

  // Fixed mode: the integer meaning 1.0 in predict_proba's output, the largest value any
  // per-class or output accumulator can reach (proven from the tables), and for regressors the
  // binary point of the output and the bound on its error against the exact mean of the leaves.
  uint64_t proba_one = 0;
  uint64_t accumulator_bound = 0;
  int value_frac_bits = 0;
  double value_error_bound = 0;

  uint32_t n_splits() const { return static_cast<uint32_t>(feature.size()); }
};

// `proba_bits`: the width of fixed-mode leaf probability codes (valid_proba_bits).
TreeProgram lower_trees(const Model& model, const TreeEnsemble& ensemble, Numeric numeric,
                        const InputQuantization* quantization,
                        uint32_t proba_bits = kDefaultProbaBits);

}  // namespace mcuport

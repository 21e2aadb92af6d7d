// Lowers a TreeEnsemble to a TreeProgram: thresholds placed exactly (float32 or int16 codes),
// splits that cannot go both ways folded away, identical leaves shared, accumulators bounded.
#include "mcuport/lower_trees.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "mcuport/error.hpp"

namespace mcuport {

namespace {

constexpr int32_t kCodeMin = -32768;
constexpr int32_t kCodeMax = 32767;

// A leaf whose probabilities are exactly one-hot: it adds 1.0 to one class and 0 to the others.
bool is_one_hot(const double* weights, uint32_t n_classes, bool normalize) {
  uint32_t positive = 0;
  for (uint32_t c = 0; c < n_classes; ++c) {
    if (weights[c] > 0) {
      ++positive;
      if (!normalize && weights[c] != 1.0) return false;  // stored as is: must be 1.0 itself
    }
  }
  return positive == 1;
}

// numpy's argmax: the first index of the maximum.
uint32_t argmax(const double* weights, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t c = 1; c < n; ++c) {
    if (weights[c] > weights[best]) best = c;
  }
  return best;
}

// numpy's sum of a contiguous row (pairwise summation with 8 partial sums), bit for bit: the
// normalizer scikit-learn divides a leaf's weights by comes from `proba.sum(axis=1)`.
double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_pairwise_sum(a, half) + numpy_pairwise_sum(a + half, n - half);
}

// scikit-learn's predict_proba of one tree, in float64 exactly as it computes it: the weights
// as stored, or (normalize) the weights / their numpy sum, left alone when the sum is 0.
std::vector<double> leaf_probabilities(const double* weights, uint32_t n, bool normalize) {
  std::vector<double> proba(weights, weights + n);
  const double sum = normalize ? numpy_pairwise_sum(weights, n) : 0.0;
  if (sum != 0) {
    for (double& p : proba) p /= sum;
  }
  return proba;
}

uint64_t double_bits(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

uint32_t float_bits(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Distinct leaves, keyed by the exact numbers they emit.
class LeafTable {
 public:
  uint32_t intern(const std::vector<uint64_t>& key, bool* is_new) {
    auto [it, inserted] = ids_.emplace(key, static_cast<uint32_t>(ids_.size()));
    *is_new = inserted;
    return it->second;
  }
  uint32_t size() const { return static_cast<uint32_t>(ids_.size()); }

 private:
  std::map<std::vector<uint64_t>, uint32_t> ids_;
};

// Chooses the binary point of fixed-mode regression leaves: the most fractional bits such that
// the sum over the trees of each tree's largest |leaf code| fits an int32.
int choose_value_frac_bits(const TreeEnsemble& ensemble) {
  const double n_trees = static_cast<double>(ensemble.trees.size());
  std::vector<double> max_abs;
  for (const Tree& tree : ensemble.trees) {
    double m = 0;
    for (std::size_t i = 0; i < tree.n_nodes(); ++i) {
      if (tree.is_leaf(i)) m = std::max(m, std::fabs(tree.leaf_value(i)[0] / n_trees));
    }
    max_abs.push_back(m);
  }
  // Up to 126 fractional bits, so that 2^-bits stays a normal float (OUTPUT_SCALE); leaf values
  // are within the float32 range (< 2^128), so some bits >= -127 always fits.
  for (int bits = 126; bits >= -127; --bits) {
    double bound = 0;
    for (double m : max_abs) bound += std::fabs(std::round(std::ldexp(m, bits)));
    if (bound <= static_cast<double>(std::numeric_limits<int32_t>::max())) return bits;
  }
  internal_error(__FILE__, __LINE__, "no binary point fits the regression leaves");
}

// A leaf's probabilities as fixed-mode codes, code_one = 1.0, each rounded to nearest (at most
// 0.5/code_one off). With two classes, class 0's code is code_one less class 1's: just as close
// (the probabilities add up to one), and the two codes then add up to code_one exactly, so
// class 0's sum over the trees is proba_one less class 1's and fast code keeps one sum.
std::vector<uint32_t> proba_codes(const std::vector<double>& proba, uint32_t code_one) {
  std::vector<uint32_t> codes;
  for (double p : proba) codes.push_back(static_cast<uint32_t>(std::llround(p * code_one)));
  if (codes.size() == 2) codes[0] = code_one - codes[1];
  return codes;
}

}  // namespace

TreeProgram lower_trees(const Model& model, const TreeEnsemble& ensemble, Numeric numeric,
                        const InputQuantization* quantization, uint32_t proba_bits) {
  MCUPORT_ASSERT(numeric == Numeric::Float || quantization != nullptr);
  MCUPORT_ASSERT(valid_proba_bits(proba_bits));
  TreeProgram program;
  program.proba_bits = proba_bits;
  program.proba_code_one = proba_one_code(proba_bits);
  program.task = model.info.task;
  program.numeric = numeric;
  program.n_features = model.info.n_features;
  program.n_classes = static_cast<uint32_t>(model.n_classes());
  program.n_trees = static_cast<uint32_t>(ensemble.trees.size());
  const uint32_t n_classes = program.n_classes;

  if (program.task == Task::Regression) {
    program.leaf_kind = LeafKind::Value;
  } else {
    bool all_one_hot = true;
    for (const Tree& tree : ensemble.trees) {
      for (std::size_t i = 0; i < tree.n_nodes() && all_one_hot; ++i) {
        if (tree.is_leaf(i)) all_one_hot = is_one_hot(tree.leaf_value(i), n_classes, ensemble.normalize_leaves);
      }
    }
    // A single tree predicts the argmax of its raw leaf weights (DecisionTreeClassifier); a
    // forest, even of one tree, the argmax of the averaged probabilities.
    const bool decision_tree = model.info.estimator == "DecisionTreeClassifier";
    program.leaf_kind = all_one_hot     ? LeafKind::ClassVote
                        : decision_tree ? LeafKind::ClassAndProba
                                        : LeafKind::Proba;
  }
  if (program.leaf_kind == LeafKind::Value && numeric == Numeric::Fixed) {
    program.value_frac_bits = choose_value_frac_bits(ensemble);
  }

  // Leaves: computes the emitted numbers of a leaf and returns its shared id.
  LeafTable leaves;
  const auto leaf_id = [&](const Tree& tree, std::size_t node) -> uint32_t {
    const double* weights = tree.leaf_value(node);
    std::vector<uint64_t> key;
    bool is_new = false;
    switch (program.leaf_kind) {
      case LeafKind::ClassVote:
        return argmax(weights, n_classes);  // the single positive class
      case LeafKind::ClassAndProba:
      case LeafKind::Proba: {
        const std::vector<double> proba =
            leaf_probabilities(weights, n_classes, ensemble.normalize_leaves);
        if (program.leaf_kind == LeafKind::ClassAndProba) key.push_back(argmax(weights, n_classes));
        const std::vector<uint32_t> codes =
            numeric == Numeric::Fixed ? proba_codes(proba, program.proba_code_one)
                                       : std::vector<uint32_t>{};
        for (std::size_t c = 0; c < proba.size(); ++c) {
          key.push_back(numeric == Numeric::Float ? double_bits(proba[c]) : codes[c]);
        }
        const uint32_t id = leaves.intern(key, &is_new);
        if (is_new) {
          if (program.leaf_kind == LeafKind::ClassAndProba) {
            program.leaf_class.push_back(static_cast<uint32_t>(key[0]));
          }
          if (numeric == Numeric::Float) {
            program.leaf_proba_float.insert(program.leaf_proba_float.end(), proba.begin(),
                                            proba.end());
          } else {
            program.leaf_proba_code.insert(program.leaf_proba_code.end(), codes.begin(),
                                           codes.end());
          }
        }
        return id;
      }
      case LeafKind::Value: {
        const double value = weights[0];
        if (numeric == Numeric::Float) {
          // Pre-divided by the tree count: the sum is the mean and overflows only if it does.
          const double mean_part = value / program.n_trees;
          const auto t = static_cast<std::size_t>(&tree - ensemble.trees.data());
          check_float32_normal(mean_part,
                               "/params/trees/" + std::to_string(t) + "/value/" + std::to_string(node),
                               program.n_trees > 1
                                   ? "leaf value / tree count"
                                   : "leaf value",
                               "rescale the target or use fixed mode");
          const float v = static_cast<float>(mean_part);
          const uint32_t id = leaves.intern({float_bits(v)}, &is_new);
          if (is_new) program.leaf_value_float.push_back(v);
          return id;
        }
        const auto code = static_cast<int32_t>(std::llround(
            std::ldexp(value / program.n_trees, program.value_frac_bits)));
        const uint32_t id = leaves.intern({static_cast<uint64_t>(static_cast<uint32_t>(code))},
                                          &is_new);
        if (is_new) program.leaf_value_code.push_back(code);
        return id;
      }
    }
    internal_error(__FILE__, __LINE__, "unhandled leaf kind");
  };

  // Splits. References are built as signed numbers first (>= 0: split, < 0: -(leaf + 1)) and
  // encoded once the total number of splits is known.
  std::vector<int64_t> left_refs;
  std::vector<int64_t> right_refs;
  std::vector<int64_t> root_refs;
  for (const Tree& tree : ensemble.trees) {
    struct Pending {
      int32_t node;
      std::size_t split;
      uint32_t depth;
    };
    std::vector<Pending> stack;
    // Follows folded splits down to the node that really decides, then gives it a reference.
    const auto code_of = [&](std::size_t i) {
      return quantize_threshold(quantization->features[static_cast<std::size_t>(tree.feature[i])],
                                tree.threshold[i]);
    };
    const auto reference = [&](int32_t node, uint32_t depth) -> int64_t {
      int32_t code = 0;  // fixed mode: the threshold code of `node` once the loop ends on a split
      while (!tree.is_leaf(static_cast<std::size_t>(node)) && numeric == Numeric::Fixed) {
        const auto i = static_cast<std::size_t>(node);
        code = code_of(i);
        if (code >= kCodeMin && code < kCodeMax) break;
        ++program.folded_splits;
        node = code >= kCodeMax ? tree.left[i] : tree.right[i];
      }
      const auto i = static_cast<std::size_t>(node);
      if (tree.is_leaf(i)) {
        program.max_depth = std::max(program.max_depth, depth);
        return -static_cast<int64_t>(leaf_id(tree, i)) - 1;
      }
      const std::size_t split = program.feature.size();
      program.feature.push_back(static_cast<uint32_t>(tree.feature[i]));
      if (numeric == Numeric::Float) {
        program.threshold_float.push_back(largest_float_not_above(tree.threshold[i]));
        program.nan_left.push_back(tree.nan_goes_left(i) ? 1 : 0);
      } else {
        program.threshold_code.push_back(code);
      }
      left_refs.push_back(0);
      right_refs.push_back(0);
      stack.push_back({node, split, depth + 1});
      return static_cast<int64_t>(split);
    };
    root_refs.push_back(reference(0, 0));
    while (!stack.empty()) {
      const Pending pending = stack.back();
      stack.pop_back();
      const auto i = static_cast<std::size_t>(pending.node);
      const int64_t l = reference(tree.left[i], pending.depth);
      const int64_t r = reference(tree.right[i], pending.depth);
      left_refs[pending.split] = l;
      right_refs[pending.split] = r;
    }
  }

  program.n_leaves = program.leaf_kind == LeafKind::ClassVote ? n_classes : leaves.size();
  const int64_t n_splits = static_cast<int64_t>(program.feature.size());
  const auto encode = [&](int64_t ref) {
    return static_cast<uint32_t>(ref >= 0 ? ref : n_splits + (-ref - 1));
  };
  for (int64_t ref : left_refs) program.left.push_back(encode(ref));
  for (int64_t ref : right_refs) program.right.push_back(encode(ref));
  for (int64_t ref : root_refs) program.roots.push_back(encode(ref));

  // Fixed-point scales and the proofs that the accumulators cannot overflow.
  const uint64_t n_trees = program.n_trees;
  switch (program.leaf_kind) {
    case LeafKind::ClassVote:
      program.proba_one = n_trees;  // a vote per tree
      program.accumulator_bound = n_trees;
      break;
    case LeafKind::ClassAndProba:
    case LeafKind::Proba: {
      uint64_t max_code = 0;
      for (uint32_t code : program.leaf_proba_code) max_code = std::max<uint64_t>(max_code, code);
      program.proba_one = n_trees * program.proba_code_one;
      program.accumulator_bound = n_trees * max_code;
      break;
    }
    case LeafKind::Value: {
      if (numeric == Numeric::Fixed) {
        // Per tree, the largest |code| of any of its leaves, summed: no reachable sum is larger.
        uint64_t bound = 0;
        for (const Tree& tree : ensemble.trees) {
          uint64_t m = 0;
          for (std::size_t i = 0; i < tree.n_nodes(); ++i) {
            if (!tree.is_leaf(i)) continue;
            const auto code = std::llround(
                std::ldexp(tree.leaf_value(i)[0] / program.n_trees, program.value_frac_bits));
            m = std::max<uint64_t>(m, static_cast<uint64_t>(std::llabs(code)));
          }
          bound += m;
        }
        program.accumulator_bound = bound;
        program.value_error_bound = std::ldexp(0.5 * program.n_trees, -program.value_frac_bits);
      }
      break;
    }
  }
  MCUPORT_ASSERT(program.accumulator_bound <= static_cast<uint64_t>(
                                                  std::numeric_limits<int32_t>::max()) ||
                 program.leaf_kind != LeafKind::Value);
  MCUPORT_ASSERT(program.accumulator_bound <= std::numeric_limits<uint32_t>::max());
  return program;
}

}  // namespace mcuport

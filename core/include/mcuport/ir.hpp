// The model IR: what a trained model *is*, independent of JSON (where it comes from) and of C
// (where it goes). One struct per model family; `Family` is the closed set of them, visited
// with std::visit so that a family without a handler is a compile error.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mcuport {

enum class Task { Classification, Regression };

// A class label. Labels are data: they only ever reach generated code as escaped string
// literals, never as identifiers or comments.
struct Label {
  std::string text;  // numbers are kept in their JSON spelling ("3", "0.5")
  bool numeric = false;
};

// The span of one input feature that the integer code must represent; values outside saturate.
struct InputRange {
  double lo = 0;
  double hi = 0;
};

// What every model has, whatever its family.
struct ModelInfo {
  std::string estimator;                   // scikit-learn class name, from a closed list
  Task task = Task::Classification;
  int32_t n_features = 0;
  std::vector<std::string> feature_names;  // empty, or one per feature
  std::vector<Label> classes;              // classification only: index -> label
  std::vector<InputRange> input_ranges;    // empty, or one per feature
};

// One decision tree in scikit-learn's array layout. Node 0 is the root; a node is a leaf when
// its children are -1; a split sends `x[feature] <= threshold` to the left child, comparing the
// float32 input with the float64 threshold, exactly as scikit-learn does.
struct Tree {
  std::vector<int32_t> left;
  std::vector<int32_t> right;
  std::vector<int32_t> feature;
  std::vector<double> threshold;
  // Leaf payloads, `value_width` numbers per node (zeros for internal nodes): class weights for
  // a classifier (counts or fractions, any non-negative scale), the prediction for a regressor.
  std::vector<double> value;
  int32_t value_width = 0;

  std::size_t n_nodes() const { return left.size(); }
  bool is_leaf(std::size_t node) const { return left[node] < 0; }
  const double* leaf_value(std::size_t node) const {
    return value.data() + node * static_cast<std::size_t>(value_width);
  }
};

// Decision trees, random forests and extra trees: the prediction is the average of the trees'
// outputs (class probabilities for classifiers, values for regressors).
struct TreeEnsemble {
  std::vector<Tree> trees;
  // A classifier tree's probabilities: its leaf weights divided by their (numpy) sum, as
  // scikit-learn before 1.4 computes them; or the weights as stored, as newer releases do
  // (their tree_.value holds fractions already, which need not sum to exactly 1).
  bool normalize_leaves = true;
};

using Family = std::variant<TreeEnsemble>;

struct Model {
  ModelInfo info;
  Family family;

  std::size_t n_classes() const { return info.classes.size(); }
};

// For `if constexpr` chains over Family: `else static_assert(always_false<T>)` makes a family
// without a handler a compile error.
template <typename>
inline constexpr bool always_false = false;

// The numeric mode of the generated code.
enum class Numeric { Float, Fixed };

const char* to_string(Numeric numeric);
const char* to_string(Task task);

}  // namespace mcuport

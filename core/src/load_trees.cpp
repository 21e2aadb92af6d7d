// Loader of the tree family (DecisionTree*, RandomForest*, ExtraTrees*): scikit-learn's tree_
// arrays, validated so that every later pass may walk the trees without checks.
#include <cfloat>
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

namespace {

// `probabilities`: leaf_proba "value", where the weights are the tree's class probabilities as
// they stand (scikit-learn 1.4 and later store fractions), so none can exceed 1.
void load_leaf_value(const JsonCursor& cursor, const ModelInfo& info, bool probabilities,
                     double* out) {
  if (info.task == Task::Regression) {
    if (cursor.json().is_array()) {
      *out = cursor.as_finite_array(1)[0];
    } else {
      *out = cursor.as_finite();
    }
    // The generated code holds leaf values as float32 (float mode) or scaled int32 (fixed mode).
    if (!(*out >= -FLT_MAX && *out <= FLT_MAX)) {
      cursor.fail("leaf value " + nlohmann::json(*out).dump() + " is outside the float32 range");
    }
    return;
  }
  const std::vector<double> weights = cursor.as_finite_array(info.classes.size());
  for (std::size_t c = 0; c < weights.size(); ++c) {
    if (weights[c] < 0) cursor.at(c).fail("class weight must be >= 0, got " + cursor.at(c).describe());
    if (probabilities && weights[c] > 1) {
      cursor.at(c).fail("with \"leaf_proba\": \"value\" the weights are probabilities and must be "
                        "<= 1, got " + cursor.at(c).describe());
    }
    out[c] = weights[c];
  }
}

Tree load_tree(const JsonCursor& cursor, const ModelInfo& info, bool probabilities) {
  cursor.expect_keys(
      {"children_left", "children_right", "feature", "threshold", "value", "missing_go_to_left"});
  const JsonCursor left_cursor = cursor.at("children_left");
  const std::size_t n = left_cursor.expect_array(1, limits::kMaxNodesPerTree);
  const int64_t last = static_cast<int64_t>(n) - 1;

  Tree tree;
  tree.left = left_cursor.as_int_array(n, -1, last);
  const JsonCursor right_cursor = cursor.at("children_right");
  tree.right = right_cursor.as_int_array(n, -1, last);
  const JsonCursor feature_cursor = cursor.at("feature");
  // Leaves carry scikit-learn's TREE_UNDEFINED (-2) here; splits must name a real feature.
  tree.feature = feature_cursor.as_int_array(n, -2, info.n_features - 1);
  const JsonCursor threshold_cursor = cursor.at("threshold");
  tree.threshold = threshold_cursor.as_finite_array(n);
  // scikit-learn >= 1.3: where each split sends NaN (0: right, 1: left); absent, NaN goes right.
  if (const auto missing = cursor.find("missing_go_to_left")) {
    for (const int32_t side : missing->as_int_array(n, 0, 1)) {
      tree.missing_go_to_left.push_back(static_cast<uint8_t>(side));
    }
  }

  // Structure: children come after their parent (so there is no cycle) and every node but the
  // root has exactly one parent (so nothing is shared and everything is reachable).
  std::vector<uint8_t> parents(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const int32_t l = tree.left[i];
    const int32_t r = tree.right[i];
    if ((l < 0) != (r < 0)) {
      (l < 0 ? left_cursor : right_cursor)
          .at(i)
          .fail("node " + std::to_string(i) +
                " has one child only: both children must be -1 (a leaf) or both valid");
    }
    if (l < 0) continue;
    for (const auto& [child, side] : {std::pair{l, &left_cursor}, std::pair{r, &right_cursor}}) {
      if (child <= static_cast<int32_t>(i)) {
        side->at(i).fail("child index " + std::to_string(child) + " of node " +
                         std::to_string(i) + " must be greater than the node's own index (" +
                         "children follow their parent; anything else could form a cycle)");
      }
      if (++parents[static_cast<std::size_t>(child)] > 1) {
        side->at(i).fail("child index " + std::to_string(child) +
                         " is already the child of another node: nodes cannot be shared");
      }
    }
    if (tree.feature[i] < 0) {
      feature_cursor.at(i).fail("split node " + std::to_string(i) + " has feature index " +
                                std::to_string(tree.feature[i]) + ", out of range [0, " +
                                std::to_string(info.n_features) + ")");
    }
    if (!(tree.threshold[i] >= -FLT_MAX && tree.threshold[i] <= FLT_MAX)) {
      threshold_cursor.at(i).fail("threshold " + threshold_cursor.at(i).describe() +
                                  " is outside the float32 range that inputs are compared in");
    }
  }
  for (std::size_t i = 1; i < n; ++i) {
    if (parents[i] == 0) {
      left_cursor.fail("node " + std::to_string(i) + " is not the child of any node");
    }
  }

  const JsonCursor value_cursor = cursor.at("value");
  value_cursor.expect_array_of_size(n);
  tree.value_width =
      info.task == Task::Classification ? static_cast<int32_t>(info.classes.size()) : 1;
  tree.value.assign(n * static_cast<std::size_t>(tree.value_width), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const JsonCursor value = value_cursor.at(i);
    if (!tree.is_leaf(i) && value.is_null()) continue;  // internal nodes need no payload
    load_leaf_value(value, info, probabilities,
                    tree.value.data() + i * static_cast<std::size_t>(tree.value_width));
  }
  return tree;
}

}  // namespace

TreeEnsemble load_tree_ensemble(const JsonCursor& params, const ModelInfo& info) {
  params.expect_keys({"trees", "leaf_proba"});
  const JsonCursor trees = params.at("trees");
  const std::size_t n_trees = trees.expect_array(1, limits::kMaxTrees);
  TreeEnsemble ensemble;
  if (auto leaf_proba = params.find("leaf_proba")) {
    const std::string mode = leaf_proba->as_string(limits::kMaxStringBytes);
    if (mode != "normalize" && mode != "value") {
      leaf_proba->fail("expected \"normalize\" or \"value\", got " + leaf_proba->describe());
    }
    if (info.task == Task::Regression) leaf_proba->fail("a regressor has no leaf probabilities");
    ensemble.normalize_leaves = mode == "normalize";
  }
  std::size_t total_nodes = 0;
  for (std::size_t t = 0; t < n_trees; ++t) {
    ensemble.trees.push_back(load_tree(trees.at(t), info, !ensemble.normalize_leaves));
    total_nodes += ensemble.trees.back().n_nodes();
    if (total_nodes > limits::kMaxTotalNodes) {
      trees.at(t).fail("the model has more than " + std::to_string(limits::kMaxTotalNodes) +
                       " nodes in all");
    }
  }
  if ((info.estimator == "DecisionTreeClassifier" || info.estimator == "DecisionTreeRegressor") &&
      n_trees != 1) {
    trees.fail("a " + info.estimator + " has exactly one tree, got " + std::to_string(n_trees));
  }
  return ensemble;
}

}  // namespace mcuport::detail

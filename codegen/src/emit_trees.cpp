// C for the tree family: node tables walked by one loop per tree (no recursion, no unrolled
// trees), then votes, summed probabilities or summed values, as the TreeProgram says.
#include <cmath>
#include <string>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const char* kFindLeaf = R"(/* Walks one tree from `node` down to its leaf and returns the leaf's index. Splits send
 * x[feature] <= threshold to the left. The walk ends: children always come later in the tables. */
static inline uint32_t {{p}}_find_leaf(uint32_t node, const {{xt}} x[]) {
    while (node < {{P}}_N_SPLITS) {
        node = (x[{{p}}_split_feature[node]] <= {{p}}_split_threshold[node])
                   ? (uint32_t){{p}}_split_left[node]
                   : (uint32_t){{p}}_split_right[node];
    }
    return node - {{P}}_N_SPLITS;
}

)";

// Every tree of the model is a single leaf: nothing to walk.
const char* kFindLeafTrivial = R"(static inline uint32_t {{p}}_find_leaf(uint32_t node, const {{xt}} x[]) {
    (void)x;
    return node;
}

)";

const char* kAccumulate = R"(/* {{acc_doc}} */
static inline void {{p}}_accumulate(const {{xt}} x[], {{acc_t}} acc[]) {
    uint32_t t;
    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        acc[c] = {{zero}};
    }
    for (t = 0u; t < {{P}}_N_TREES; ++t) {
        const uint32_t leaf = {{p}}_find_leaf((uint32_t){{p}}_tree_root[t], x);
{{add}}    }
{{finish}}}

/* The class index with the largest sum; ties go to the lowest index, as numpy's argmax. */
static inline int32_t {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    {{acc_t}} acc[{{P}}_N_CLASSES];
    uint32_t c;
    uint32_t best = 0u;
    {{p}}_accumulate(x, acc);
    for (c = 1u; c < {{P}}_N_CLASSES; ++c) {
        if (acc[c] > acc[best]) {
            best = c;
        }
    }
    return (int32_t)best;
}

/* {{proba_doc}} */
static inline void {{p}}_predict_proba(const {{xt}} {{xin}}[], {{out_t}} out[]) {
{{stage}}    {{acc_t}} acc[{{P}}_N_CLASSES];
    uint32_t c;
    {{p}}_accumulate(x, acc);
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] = {{proba_expr}};
    }
}

)";

const char* kSingleTreeClassifier = R"(/* The class index of the leaf that x reaches. */
static inline int32_t {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    return (int32_t){{class_expr}};
}

/* {{proba_doc}} */
static inline void {{p}}_predict_proba(const {{xt}} {{xin}}[], {{out_t}} out[]) {
{{stage}}    const uint32_t leaf = {{p}}_find_leaf((uint32_t){{p}}_tree_root[0], x);
    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] = {{proba_expr}};
    }
}

)";

const char* kRegressor = R"(/* {{doc}} */
static inline {{out_t}} {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    {{acc_t}} acc = {{zero}};
    uint32_t t;
    for (t = 0u; t < {{P}}_N_TREES; ++t) {
        acc += {{p}}_leaf_value[{{p}}_find_leaf((uint32_t){{p}}_tree_root[t], x)];
    }
    return acc;
}

)";

const char* kDequantizeOutput = R"(/* The real value of a prediction: y * 2^-{{P}}_OUTPUT_FRAC_BITS. */
static inline float {{p}}_dequantize_output(int32_t y) {
    return (float)y * {{P}}_OUTPUT_SCALE;
}

)";

std::string leaf_kind_text(LeafKind kind) {
  switch (kind) {
    case LeafKind::ClassVote: return "every leaf is pure, so a leaf is a class vote";
    case LeafKind::ClassAndProba: return "leaves hold a class and class probabilities";
    case LeafKind::Proba: return "leaves hold class probabilities, averaged over the trees";
    case LeafKind::Value: return "leaves hold values, averaged over the trees";
  }
  return "";
}

}  // namespace

FamilyCode emit_trees(const EmitContext& context, const TreeProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const bool fixed = program.numeric == Numeric::Fixed;
  const bool classifier = program.task == Task::Classification;
  const uint32_t n_splits = program.n_splits();

  // Tables: splits, roots, leaves.
  if (n_splits > 0) {
    const CType feature_type = unsigned_type_for(static_cast<uint64_t>(program.n_features) - 1);
    code.tables.add(feature_type.name, feature_type.bytes, p + "_split_feature",
                    integer_literals(program.feature), "split nodes: the feature each one tests");
    if (fixed) {
      code.tables.add("int16_t", 2, p + "_split_threshold", integer_literals(program.threshold_code),
                      "split nodes: go left when xq[feature] <= this code (decision-exact)");
    } else {
      code.tables.add("float", 4, p + "_split_threshold", float_literals(program.threshold_float),
                      "split nodes: go left when x[feature] <= this float32 (decision-exact)");
    }
  }
  const uint64_t max_reference = static_cast<uint64_t>(n_splits) + program.n_leaves;
  const CType reference_type = unsigned_type_for(max_reference);
  if (n_splits > 0) {
    code.tables.add(reference_type.name, reference_type.bytes, p + "_split_left",
                    integer_literals(program.left), "split nodes: the left child (below " +
                        std::to_string(n_splits) + " a split node, otherwise a leaf)");
    code.tables.add(reference_type.name, reference_type.bytes, p + "_split_right",
                    integer_literals(program.right), "split nodes: the right child");
  }
  code.tables.add(reference_type.name, reference_type.bytes, p + "_tree_root",
                  integer_literals(program.roots), "the root of each tree");

  const std::size_t n_leaves = program.n_leaves;
  const std::size_t n_classes = program.n_classes;
  switch (program.leaf_kind) {
    case LeafKind::ClassVote:
      break;  // a leaf is its class index
    case LeafKind::ClassAndProba: {
      const CType class_type = unsigned_type_for(n_classes - 1);
      code.tables.add(class_type.name, class_type.bytes, p + "_leaf_class",
                      integer_literals(program.leaf_class), "leaves: the class each predicts");
    }
      [[fallthrough]];
    case LeafKind::Proba:
      if (fixed) {
        code.tables.add_2d("uint16_t", 2, p + "_leaf_proba", n_leaves, n_classes,
                           integer_literals(program.leaf_proba_code),
                           "leaves: class probabilities, 65535 = 1.0 (rounded to nearest)");
      } else if (program.leaf_kind == LeafKind::Proba) {
        code.tables.add_2d("double", 8, p + "_leaf_proba", n_leaves, n_classes,
                           double_literals(program.leaf_proba_float),
                           "leaves: class probabilities, float64 exactly as scikit-learn's");
      } else {
        const std::vector<float> proba(program.leaf_proba_float.begin(),
                                       program.leaf_proba_float.end());
        code.tables.add_2d("float", 4, p + "_leaf_proba", n_leaves, n_classes,
                           float_literals(proba), "leaves: class probabilities");
      }
      break;
    case LeafKind::Value:
      if (fixed) {
        code.tables.add("int32_t", 4, p + "_leaf_value", integer_literals(program.leaf_value_code),
                        "leaves: value / n_trees * 2^" + std::to_string(program.value_frac_bits) +
                            ", rounded to nearest");
      } else {
        code.tables.add("float", 4, p + "_leaf_value", float_literals(program.leaf_value_float),
                        program.n_trees == 1 ? "leaves: values" : "leaves: value / n_trees");
      }
      break;
  }

  // Macros.
  code.macros += "#define " + context.macro + "_N_TREES " + std::to_string(program.n_trees) + "\n";
  code.macros += "#define " + context.macro + "_N_SPLITS " + std::to_string(n_splits) + "u\n";
  if (classifier) {
    code.macros += "#define " + context.macro + "_N_CLASSES " + std::to_string(n_classes) + "\n";
  }
  if (classifier && fixed) {
    code.macros += "#define " + context.macro + "_PROBA_ONE " +
                   std::to_string(program.proba_one) + " /* predict_proba's integer for 1.0 */\n";
  }
  if (!classifier && fixed) {
    code.macros += "#define " + context.macro + "_OUTPUT_FRAC_BITS " +
                   std::to_string(program.value_frac_bits) + "\n";
    code.macros += "#define " + context.macro + "_OUTPUT_SCALE " +
                   float_literal(static_cast<float>(std::ldexp(1.0, -program.value_frac_bits))) +
                   " /* real value = output * this */\n";
  }

  // Summary for the header comment.
  code.summary = " * " + std::to_string(program.n_trees) + (program.n_trees == 1 ? " tree, " : " trees, ") +
                 std::to_string(n_splits) + " split nodes, " + std::to_string(n_leaves) +
                 " distinct leaves, at most " + std::to_string(program.max_depth) +
                 " splits per tree and prediction;\n * " + leaf_kind_text(program.leaf_kind) +
                 ".\n";
  if (!fixed && program.leaf_kind == LeafKind::Proba) {
    code.summary += " * The probabilities are averaged in float64, in tree order, as scikit-learn does:\n"
                    " * exact ties between classes are common and only that arithmetic breaks them alike.\n";
  }
  if (fixed && program.folded_splits > 0) {
    code.summary += " * Folded away: " + std::to_string(program.folded_splits) +
                    " split(s) deciding the same way for every int16 input.\n";
  }

  // Functions.
  code.functions += context.render(n_splits > 0 ? kFindLeaf : kFindLeafTrivial);
  const std::string xt = context.input_type();
  code.scores.predict_type = classifier || fixed ? "int32_t" : "float";
  if (classifier) {
    const std::string out_t = fixed ? "int32_t" : "float";
    code.scores = {"int32_t", p + "_predict_proba", program.n_classes, out_t};
    const std::string proba_doc =
        fixed ? "Class probabilities as integers: out[c] / " + context.macro +
                    "_PROBA_ONE approximates scikit-learn's predict_proba."
              : "Class probabilities, as scikit-learn's predict_proba.";
    code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index\n";
    code.api += " *   void " + p + "_predict_proba(const " + xt + " x[], " + out_t + " out[" +
                context.macro + "_N_CLASSES]);\n";
    // One tree's leaf decides alone: a decision tree, or a vote forest of one tree. A forest of
    // one tree with probability leaves still averages (argmax of probabilities, not weights).
    const bool single = program.leaf_kind == LeafKind::ClassAndProba ||
                        (program.leaf_kind == LeafKind::ClassVote && program.n_trees == 1);
    if (single) {
      std::string class_expr;
      std::string proba_expr;
      const std::string one = fixed ? context.macro + "_PROBA_ONE" : "1.0f";
      const std::string zero = fixed ? "0" : "0.0f";
      if (program.leaf_kind == LeafKind::ClassVote) {
        class_expr = p + "_find_leaf((uint32_t)" + p + "_tree_root[0], x)";
        proba_expr = "(c == leaf) ? " + one + " : " + zero;
      } else {
        class_expr = p + "_leaf_class[" + p + "_find_leaf((uint32_t)" + p + "_tree_root[0], x)]";
        proba_expr = fixed ? "(int32_t)" + p + "_leaf_proba[leaf][c]" : p + "_leaf_proba[leaf][c]";
      }
      code.functions += context.render(kSingleTreeClassifier,
                               (TemplateValues{{"class_expr", class_expr},
                                               {"proba_expr", proba_expr},
                                               {"proba_doc", proba_doc},
                                               {"out_t", out_t}}));
    } else {
      const bool votes = program.leaf_kind == LeafKind::ClassVote;
      std::string acc_t;
      std::string acc_doc;
      std::string add;
      std::string finish;
      std::string proba_expr;
      const std::string per_class = "        for (c = 0u; c < " + context.macro + "_N_CLASSES; ++c) {\n";
      if (votes || fixed) {
        const CType type = unsigned_type_for(program.accumulator_bound);
        acc_t = std::string(type.bytes < 2 ? "uint16_t" : type.name);
        acc_doc = std::string("Sums the trees' ") + (votes ? "votes" : "class probabilities") +
                  " per class into acc[] (at most " + std::to_string(program.accumulator_bound) +
                  ", which " + acc_t + " holds).";
        add = votes ? "        acc[leaf] = (" + acc_t + ")(acc[leaf] + 1u);\n"
                    : per_class + "            acc[c] = (" + acc_t + ")(acc[c] + " + p +
                          "_leaf_proba[leaf][c]);\n        }\n";
        proba_expr = fixed ? "(int32_t)acc[c]"
                           : "(float)acc[c] / (float)" + context.macro + "_N_TREES";
      } else {
        // scikit-learn adds the trees' float64 probabilities in tree order and divides by the
        // tree count before its argmax; exact ties are common, and only the same arithmetic
        // breaks them the same way.
        acc_t = "double";
        acc_doc =
            "The trees' class probabilities averaged in float64, in tree order, exactly as\n"
            " * scikit-learn's predict_proba computes them (so that ties break the same way).";
        add = per_class + "            acc[c] += " + p + "_leaf_proba[leaf][c];\n        }\n";
        finish = "    for (c = 0u; c < " + context.macro + "_N_CLASSES; ++c) {\n        acc[c] /= (double)" +
                 context.macro + "_N_TREES;\n    }\n";
        proba_expr = "(float)acc[c]";
      }
      code.functions += context.render(
          kAccumulate,
          (TemplateValues{{"acc_doc", acc_doc},
                          {"acc_t", acc_t},
                          {"zero", acc_t == "double" ? "0.0" : "0u"},
                          {"add", add},
                          {"finish", finish},
                          {"proba_doc", proba_doc},
                          {"proba_expr", proba_expr},
                          {"out_t", out_t}}));
    }
  } else {
    if (fixed) {
      code.api += " *   int32_t " + p + "_predict(const int16_t x[]);   value * 2^" +
                  context.macro + "_OUTPUT_FRAC_BITS\n";
      code.api += " *   float " + p + "_dequantize_output(int32_t y);   convenience, floating point\n";
      code.summary += " * Output: the mean of the trees' values * 2^" +
                      std::to_string(program.value_frac_bits) + " as an int32 (|sum| <= " +
                      std::to_string(program.accumulator_bound) +
                      "); error against the exact mean at most " +
                      format_general(program.value_error_bound, 3) + ".\n";
      code.functions += context.render(
          kRegressor,
          (TemplateValues{{"doc", "The prediction * 2^" + context.macro +
                                      "_OUTPUT_FRAC_BITS (leaves are pre-divided by the tree count)."},
                          {"out_t", "int32_t"},
                          {"acc_t", "int32_t"},
                          {"zero", "0"}}));
      code.functions += context.render(kDequantizeOutput);
    } else {
      code.api += " *   float " + p + "_predict(const float x[]);   the predicted value\n";
      code.functions += context.render(
          kRegressor,
          (TemplateValues{{"doc", "The mean of the trees' values, as scikit-learn's predict (leaves "
                                          "are pre-divided by the tree count)."},
                          {"out_t", "float"},
                          {"acc_t", "float"},
                          {"zero", "0.0f"}}));
    }
  }
  return code;
}

}  // namespace mcuport::codegen

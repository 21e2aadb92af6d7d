// Text dump of the IR (see dump.hpp). Strings from the model are shown escaped, never raw.
#include "mcuport/dump.hpp"
#include "mcuport/text.hpp"

#include <cstdio>

namespace mcuport {

namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", c);
      out += escape;
    }
  }
  return out + "\"";
}

std::string number(double value) { return format_general(value, 17); }

void dump_family(std::string& out, const TreeEnsemble& ensemble, std::size_t max_nodes) {
  out += "tree_ensemble: " + std::to_string(ensemble.trees.size()) + " trees\n";
  for (std::size_t t = 0; t < ensemble.trees.size(); ++t) {
    const Tree& tree = ensemble.trees[t];
    out += "  tree " + std::to_string(t) + ": " + std::to_string(tree.n_nodes()) + " nodes\n";
    for (std::size_t i = 0; i < tree.n_nodes() && i < max_nodes; ++i) {
      out += "    " + std::to_string(i) + ": ";
      if (tree.is_leaf(i)) {
        out += "leaf [";
        for (int32_t k = 0; k < tree.value_width; ++k) {
          out += (k ? ", " : "") + number(tree.leaf_value(i)[k]);
        }
        out += "]\n";
      } else {
        out += "x[" + std::to_string(tree.feature[i]) + "] <= " + number(tree.threshold[i]) +
               " ? " + std::to_string(tree.left[i]) + " : " + std::to_string(tree.right[i]) +
               (tree.nan_goes_left(i) ? " (NaN left)" : "") + "\n";
      }
    }
    if (tree.n_nodes() > max_nodes) out += "    ...\n";
  }
}

void dump_matrix(std::string& out, const char* name, const std::vector<double>& values,
                 std::size_t columns, std::size_t max_rows) {
  const std::size_t rows = columns == 0 ? 0 : values.size() / columns;
  out += std::string(name) + ": " + std::to_string(rows) + " x " + std::to_string(columns) + "\n";
  for (std::size_t r = 0; r < rows && r < max_rows; ++r) {
    out += "    [";
    for (std::size_t c = 0; c < columns; ++c) out += (c ? ", " : "") + number(values[r * columns + c]);
    out += "]\n";
  }
  if (rows > max_rows) out += "    ...\n";
}

void dump_family(std::string& out, const SupportVectorMachine& svm, std::size_t max_rows) {
  out += std::string("svm: kernel ") + to_string(svm.kernel) + ", gamma " + number(svm.gamma) +
         ", coef0 " + number(svm.coef0) + ", degree " + std::to_string(svm.degree) + "\n";
  out += "  n_support:";
  for (int32_t n : svm.n_support) out += " " + std::to_string(n);
  out += "\n";
  const std::size_t n_sv = svm.n_sv();
  dump_matrix(out, "  support_vectors", svm.support_vectors,
              n_sv == 0 ? 0 : svm.support_vectors.size() / n_sv, max_rows);
  dump_matrix(out, "  dual_coef", svm.dual_coef, n_sv, max_rows);
  dump_matrix(out, "  intercept", svm.intercept, svm.intercept.size(), 1);
}

void dump_family(std::string& out, const LinearModel& linear, std::size_t max_rows) {
  out += "linear: " + std::to_string(linear.n_outputs()) + " outputs\n";
  dump_matrix(out, "  coef", linear.coef, linear.coef.size() / linear.n_outputs(), max_rows);
  dump_matrix(out, "  intercept", linear.intercept, linear.intercept.size(), 1);
}

void dump_family(std::string& out, const GaussianNaiveBayes& nb, std::size_t max_rows) {
  const std::size_t n_classes = nb.class_prior.size();
  out += "gaussian_nb: " + std::to_string(n_classes) + " classes\n";
  dump_matrix(out, "  theta", nb.theta, nb.theta.size() / n_classes, max_rows);
  dump_matrix(out, "  var", nb.var, nb.var.size() / n_classes, max_rows);
  dump_matrix(out, "  class_prior", nb.class_prior, n_classes, 1);
}

void dump_family(std::string& out, const Pca& pca, std::size_t max_rows) {
  out += "components: " + std::to_string(pca.n_components()) + (pca.whiten ? " (whitened)\n" : "\n");
  dump_matrix(out, "mean", pca.mean, pca.n_inputs(), max_rows);
  dump_matrix(out, "components", pca.components, pca.n_inputs(), max_rows);
  dump_matrix(out, "explained_variance", pca.explained_variance, pca.n_components(), max_rows);
}

void dump_family(std::string& out, const Mahalanobis& model, std::size_t max_rows) {
  const std::size_t n = model.location.size();
  if (model.has_threshold) out += "threshold: " + number(model.threshold) + "\n";
  dump_matrix(out, "location", model.location, n, max_rows);
  dump_matrix(out, "precision", model.precision, n, max_rows);
}

}  // namespace

std::string dump(const Model& model, std::size_t max_nodes) {
  const ModelInfo& info = model.info;
  std::string out = "estimator: " + info.estimator + "\ntask: " + to_string(info.task) +
                    "\nn_features: " + std::to_string(info.n_features) + "\n";
  if (!info.classes.empty()) {
    out += "classes:";
    for (const Label& label : info.classes) {
      out += " " + (label.numeric ? label.text : quoted(label.text));
    }
    out += "\n";
  }
  if (!info.feature_names.empty()) {
    out += "feature_names:";
    for (const std::string& name : info.feature_names) out += " " + quoted(name);
    out += "\n";
  }
  for (std::size_t f = 0; f < info.input_ranges.size(); ++f) {
    out += "input_range " + std::to_string(f) + ": [" + number(info.input_ranges[f].lo) + ", " +
           number(info.input_ranges[f].hi) + "]\n";
  }
  for (std::size_t i = 0; i < model.preprocessing.size(); ++i) {
    out += "stage " + std::to_string(i) + ": ";
    if (const auto* scaler = std::get_if<FeatureScaler>(&model.preprocessing[i])) {
      const char* kinds[] = {"standard_scaler", "minmax_scaler", "maxabs_scaler"};
      out += std::string(kinds[static_cast<int>(scaler->kind)]) + (scaler->clip ? " (clipped)" : "") + "\n";
      if (!scaler->offset.empty()) dump_matrix(out, "  offset", scaler->offset, scaler->offset.size(), max_nodes);
      if (!scaler->scale.empty()) dump_matrix(out, "  scale", scaler->scale, scaler->scale.size(), max_nodes);
    } else {
      out += "pca\n";
      dump_family(out, std::get<Pca>(model.preprocessing[i]), max_nodes);
    }
  }
  std::visit([&](const auto& family) { dump_family(out, family, max_nodes); }, model.family);
  return out;
}

}  // namespace mcuport

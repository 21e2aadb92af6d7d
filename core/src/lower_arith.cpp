// Lowering of SVMs and Gaussian naive Bayes (see lower_arith.hpp).
#include "mcuport/lower_arith.hpp"

#include <cmath>
#include <string>

#include <Eigen/Dense>

#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

SvmProgram lower_svm(const Model& model, const SupportVectorMachine& svm) {
  SvmProgram program;
  program.kernel = svm.kernel;
  program.gamma = svm.gamma;
  program.coef0 = svm.coef0;
  program.degree = svm.degree;
  program.one_class = model.info.task == Task::OutlierDetection;
  program.n_classes = program.one_class ? 1u : static_cast<uint32_t>(model.n_classes());
  program.n_pairs = program.one_class ? 1u : program.n_classes * (program.n_classes - 1) / 2;
  program.n_features = static_cast<uint32_t>(model.estimator_inputs());
  program.intercept = svm.intercept;
  const std::size_t n_sv = svm.n_sv();
  const std::size_t rows = svm.coef_rows();
  const std::size_t n_features = program.n_features;

  // The class of each support vector, from libsvm's grouping.
  std::vector<uint32_t> sv_class;
  for (uint32_t c = 0; c < svm.n_support.size(); ++c) {
    sv_class.insert(sv_class.end(), static_cast<std::size_t>(svm.n_support[c]), c);
  }
  MCUPORT_ASSERT(sv_class.size() == n_sv);

  if (program.collapsed()) {
    // w_ij = coef[j-1][SVs of i] . SV_i + coef[i][SVs of j] . SV_j: two matrix products per
    // pair over contiguous blocks of libsvm's layout (one-class: coef[0] . SV).
    using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::Map<const RowMatrix> sv(svm.support_vectors.data(), static_cast<Eigen::Index>(n_sv),
                                         static_cast<Eigen::Index>(n_features));
    const Eigen::Map<const RowMatrix> coef(svm.dual_coef.data(), static_cast<Eigen::Index>(rows),
                                           static_cast<Eigen::Index>(n_sv));
    program.pair_weight.assign(program.n_pairs * n_features, 0.0);
    Eigen::Map<RowMatrix> weight(program.pair_weight.data(),
                                 static_cast<Eigen::Index>(program.n_pairs),
                                 static_cast<Eigen::Index>(n_features));
    std::vector<Eigen::Index> start(svm.n_support.size() + 1, 0);
    for (std::size_t c = 0; c < svm.n_support.size(); ++c) start[c + 1] = start[c] + svm.n_support[c];
    const auto block = [&](uint32_t cls) { return start[cls + 1] - start[cls]; };
    if (program.one_class) {
      weight.row(0) = coef.row(0) * sv;
      return program;
    }
    for (uint32_t i = 0; i < program.n_classes; ++i) {
      for (uint32_t j = i + 1; j < program.n_classes; ++j) {
        const auto p = static_cast<Eigen::Index>(pair_index(i, j, program.n_classes));
        weight.row(p) = coef.block(j - 1, start[i], 1, block(i)) * sv.middleRows(start[i], block(i)) +
                        coef.block(i, start[j], 1, block(j)) * sv.middleRows(start[j], block(j));
      }
    }
    return program;
  }

  program.n_sv = static_cast<uint32_t>(n_sv);
  program.support_vectors = svm.support_vectors;
  program.sv_class = sv_class;
  program.sv_coef.resize(n_sv * rows);
  for (std::size_t s = 0; s < n_sv; ++s) {
    for (std::size_t r = 0; r < rows; ++r) program.sv_coef[s * rows + r] = svm.dual_coef[r * n_sv + s];
  }
  return program;
}

NaiveBayesProgram lower_gaussian_nb(const Model& model, const GaussianNaiveBayes& nb) {
  NaiveBayesProgram program;
  program.n_classes = static_cast<uint32_t>(model.n_classes());
  program.n_features = static_cast<uint32_t>(model.estimator_inputs());
  program.theta = nb.theta;
  const double two_pi = 2.0 * 3.14159265358979323846;
  for (uint32_t c = 0; c < program.n_classes; ++c) {
    double log_det = 0;
    for (uint32_t f = 0; f < program.n_features; ++f) {
      const double var = nb.var[c * program.n_features + f];
      log_det += std::log(two_pi * var);
      program.weight.push_back(0.5 / var);
      // As scikit-learn computes them; a variance near the double range's ends makes them
      // infinite, which no generated code can hold (a stage's output feeds f here, so the path
      // is that of the variance).
      if (!std::isfinite(program.weight.back())) {
        throw Error("/params/var/" + std::to_string(c) + "/" + std::to_string(f),
                    "the variance " + format_general(var, 6) +
                        " is too small: the weight 1 / (2 var) it gives is not a finite double");
      }
    }
    program.bias.push_back(std::log(nb.class_prior[c]) - 0.5 * log_det);
    if (!std::isfinite(program.bias.back())) {
      throw Error("/params/var/" + std::to_string(c),
                  "class " + std::to_string(c) + "'s log-likelihood constant, log(prior) - sum "
                  "log(2 pi var) / 2 (as scikit-learn computes it), is not a finite double: a "
                  "variance is too large");
    }
  }
  return program;
}

}  // namespace mcuport

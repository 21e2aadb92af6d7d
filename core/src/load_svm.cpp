// Loader of the SVM family (SVC, NuSVC, OneClassSVM) in libsvm's layout (see ir.hpp).
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

namespace {

Kernel load_kernel(const JsonCursor& cursor) {
  const std::string name = cursor.as_string(limits::kMaxStringBytes);
  if (name == "linear") return Kernel::Linear;
  if (name == "poly") return Kernel::Poly;
  if (name == "rbf") return Kernel::Rbf;
  if (name == "sigmoid") return Kernel::Sigmoid;
  cursor.fail("unknown kernel " + cursor.describe() +
              " (expected \"linear\", \"poly\", \"rbf\" or \"sigmoid\"; precomputed and callable "
              "kernels cannot be ported)");
}

}  // namespace

SupportVectorMachine load_svm(const JsonCursor& params, const ModelInfo& info) {
  params.expect_keys({"kernel", "gamma", "coef0", "degree", "support_vectors", "n_support",
                      "dual_coef", "intercept"});
  SupportVectorMachine svm;
  svm.kernel = load_kernel(params.at("kernel"));
  const JsonCursor gamma = params.at("gamma");
  svm.gamma = gamma.as_finite();
  if (svm.gamma < 0) gamma.fail("gamma must be >= 0, got " + gamma.describe());
  svm.coef0 = params.at("coef0").as_finite();
  // degree matters to the poly kernel only (scikit-learn accepts any for the others).
  svm.degree = static_cast<int32_t>(params.at("degree").as_int(
      0, svm.kernel == Kernel::Poly ? limits::kMaxPolyDegree : INT32_MAX));

  const bool one_class = info.task == Task::OutlierDetection;
  const std::size_t n_classes = one_class ? 1 : info.classes.size();
  if (!one_class && n_classes < 2) {
    params.fail("an SVM classifier needs at least 2 classes, got " + std::to_string(n_classes));
  }
  const JsonCursor n_support = params.at("n_support");
  svm.n_support = n_support.as_int_array(n_classes, 0, static_cast<int64_t>(limits::kMaxSupportVectors));
  std::size_t n_sv = 0;
  for (int32_t count : svm.n_support) n_sv += static_cast<std::size_t>(count);
  if (n_sv < 1 || n_sv > limits::kMaxSupportVectors) {
    n_support.fail("the model must have 1 to " + std::to_string(limits::kMaxSupportVectors) +
                   " support vectors, these counts add up to " + std::to_string(n_sv));
  }
  const auto n_features = static_cast<std::size_t>(info.n_features);
  if (n_sv * n_features > limits::kMaxParameters) {
    params.at("support_vectors")
        .fail(std::to_string(n_sv) + " support vectors of " + std::to_string(n_features) +
              " features exceed the limit of " + std::to_string(limits::kMaxParameters) +
              " numbers");
  }
  // A linear kernel is ported as one weight vector per pair of classes (lower_svm): a small
  // document of many classes and features must not ask for billions of them.
  const std::size_t n_pairs = one_class ? 1 : n_classes * (n_classes - 1) / 2;
  if (svm.kernel == Kernel::Linear && n_pairs * n_features > limits::kMaxParameters) {
    params.at("kernel").fail(
        "a linear kernel is ported as one weight vector per pair of classes: " +
        std::to_string(n_pairs) + " pairs x " + std::to_string(n_features) + " features = " +
        std::to_string(n_pairs * n_features) + " numbers, more than the limit of " +
        std::to_string(limits::kMaxParameters));
  }
  svm.support_vectors = params.at("support_vectors").as_finite_matrix(n_sv, n_features);
  svm.dual_coef = params.at("dual_coef").as_finite_matrix(svm.coef_rows(), n_sv);
  svm.intercept = params.at("intercept").as_finite_array(n_pairs);
  return svm;
}

}  // namespace mcuport::detail

// Loader of Mahalanobis distances (EllipticEnvelope, EmpiricalCovariance and its relatives, and
// mcuport's plain constructor): a location, a precision matrix and, for a detector, a threshold.
#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

namespace {

// Symmetric within rounding (relative 1e-9 of the largest entry), and positive definite: the
// Cholesky factorisation succeeds with a positive diagonal, and the smallest pivot is not lost
// in the rounding of the largest (a singular matrix can factor "successfully" in floating point).
void check_precision(const JsonCursor& cursor, const std::vector<double>& values, std::size_t n) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
      matrix(values.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  const double largest = matrix.cwiseAbs().maxCoeff();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const auto a = static_cast<Eigen::Index>(i);
      const auto b = static_cast<Eigen::Index>(j);
      if (std::fabs(matrix(a, b) - matrix(b, a)) > 1e-9 * largest) {
        cursor.at(i).at(j).fail("the precision matrix must be symmetric: entry [" +
                                std::to_string(i) + "][" + std::to_string(j) + "] is " +
                                cursor.at(i).at(j).describe() + " but [" + std::to_string(j) +
                                "][" + std::to_string(i) + "] is " + cursor.at(j).at(i).describe());
      }
    }
  }
  const Eigen::MatrixXd symmetric = (matrix + matrix.transpose()) / 2;
  const Eigen::LLT<Eigen::MatrixXd> llt(symmetric);
  bool ok = llt.info() == Eigen::Success;
  if (ok) {
    const Eigen::VectorXd pivots = Eigen::MatrixXd(llt.matrixL()).diagonal();
    const double smallest = pivots.minCoeff();
    const double biggest = pivots.maxCoeff();
    ok = smallest > 0 && std::isfinite(biggest) && smallest * smallest > 1e-13 * biggest * biggest;
  }
  if (!ok) {
    cursor.fail("the precision matrix is not positive definite (singular or nearly so: its "
                "Cholesky factorisation fails or loses the smallest pivot); the covariance it "
                "came from needs regularisation, e.g. fit sklearn.covariance.LedoitWolf or add a "
                "small ridge to the covariance's diagonal");
  }
}

}  // namespace

Mahalanobis load_mahalanobis(const JsonCursor& params, const ModelInfo& info) {
  params.expect_keys({"location", "precision", "threshold"});
  const auto n = static_cast<std::size_t>(info.n_features);
  if (n * n > limits::kMaxParameters) {
    params.fail("the model has more than " + std::to_string(limits::kMaxParameters) + " parameters");
  }
  Mahalanobis model;
  model.location = params.at("location").as_finite_array(n);
  const JsonCursor precision = params.at("precision");
  model.precision = precision.as_finite_matrix(n, n);
  check_precision(precision, model.precision, n);
  const auto threshold = params.find("threshold");
  if (info.task == Task::OutlierDetection) {
    if (!threshold) {
      params.fail("missing required key \"threshold\" (an outlier detector decides d2 <= threshold)");
    }
    model.threshold = threshold->as_finite();
    if (!(model.threshold >= 0)) {
      threshold->fail("the threshold on the squared distance must be >= 0, got " +
                      threshold->describe());
    }
    model.has_threshold = true;
  } else if (threshold) {
    threshold->fail("a distance model (task \"distance\") has no threshold; remove this key or "
                    "use task \"outlier_detection\"");
  }
  return model;
}

}  // namespace mcuport::detail

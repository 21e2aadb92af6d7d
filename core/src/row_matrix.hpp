// Row-major Eigen views of the IR's flat vectors, for the port-time linear algebra. Internal to
// the core.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "mcuport/error.hpp"

namespace mcuport::detail {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline RowMatrix as_matrix(const std::vector<double>& values, std::size_t rows, std::size_t columns) {
  MCUPORT_ASSERT(values.size() == rows * columns);
  return Eigen::Map<const RowMatrix>(values.data(), static_cast<Eigen::Index>(rows),
                                     static_cast<Eigen::Index>(columns));
}

inline std::vector<double> as_vector(const RowMatrix& matrix) {
  return std::vector<double>(matrix.data(), matrix.data() + matrix.size());
}

}  // namespace mcuport::detail

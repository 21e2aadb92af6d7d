// Documented limits of model documents. They bound memory at load time and the integer widths
// that the generated code relies on (docs/model-format.md repeats them; keep the two in step).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mcuport::limits {

inline constexpr int32_t kMaxFeatures = 65535;
inline constexpr std::size_t kMaxClasses = 1024;         // per-class accumulators live on the stack
inline constexpr std::size_t kMaxStringBytes = 256;      // labels, feature names: data kept in flash
inline constexpr std::size_t kMaxTrees = 10000;          // fixed mode: trees x 65535 < 2^32
inline constexpr std::size_t kMaxNodesPerTree = 1u << 24;
inline constexpr std::size_t kMaxTotalNodes = 1u << 26;
inline constexpr std::size_t kMaxSupportVectors = 1u << 20;
// SVM: support vectors x features, and pairs of classes x features for a linear kernel; PCA,
// Mahalanobis: components x inputs, n x n.
inline constexpr std::size_t kMaxParameters = 1u << 26;
inline constexpr int32_t kMaxPolyDegree = 16;
inline constexpr std::size_t kMaxStages = 8;              // pipeline stages in front of the estimator
inline constexpr int kMaxJsonNesting = 64;               // a hostile document cannot exhaust the stack
inline constexpr std::size_t kMaxJsonBytes = std::size_t{1} << 31;

}  // namespace mcuport::limits

// The model IR: what a trained model *is*, independent of JSON (where it comes from) and of C
// (where it goes). One struct per model family; `Family` is the closed set of them, visited
// with std::visit so that a family without a handler is a compile error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mcuport {

enum class Task {
  Classification,    // predict returns a class index; the model has labels
  Regression,        // predict returns a value
  OutlierDetection,  // predict returns +1 (inlier) or -1 (outlier), as scikit-learn's
  Transform,         // no predict: transform maps the input to outputs (PCA)
  Distance,          // no predict: score returns a distance (EmpiricalCovariance.mahalanobis)
};

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
  std::optional<std::string> producer;     // free text ("mcuport 0.1, scikit-learn 1.5"), kept
                                           // for save_model; never reaches generated code
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
  // Per node, 1 where scikit-learn (>= 1.3) sends a NaN input to the left child: its
  // tree_.missing_go_to_left. Empty when the document has none: NaN then goes right, as the
  // comparison is false.
  std::vector<uint8_t> missing_go_to_left;
  // Leaf payloads, `value_width` numbers per node (zeros for internal nodes): class weights for
  // a classifier (counts or fractions, any non-negative scale), the prediction for a regressor.
  std::vector<double> value;
  int32_t value_width = 0;

  std::size_t n_nodes() const { return left.size(); }
  bool is_leaf(std::size_t node) const { return left[node] < 0; }
  bool nan_goes_left(std::size_t node) const {
    return !missing_go_to_left.empty() && missing_go_to_left[node] != 0;
  }
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

// Support vector machines in libsvm's layout (SVC, NuSVC, OneClassSVM), as scikit-learn keeps
// them internally: support vectors grouped by class, and for the classifier of classes i < j
//   dec_ij(x) = sum over SVs s of class i: coef[j-1][s] K(x, sv_s)
//             + sum over SVs s of class j: coef[i][s]   K(x, sv_s) + intercept[p(i, j)]
// with pairs p numbered (0,1), (0,2), ..., (1,2), ...; dec_ij > 0 votes for i, else for j.
// A one-class SVM has one "class" of SVs: dec(x) = sum coef[0][s] K(x, sv_s) + intercept[0].
enum class Kernel { Linear, Poly, Rbf, Sigmoid };

struct SupportVectorMachine {
  Kernel kernel = Kernel::Rbf;
  double gamma = 0;   // the fitted value (scikit-learn's _gamma: 'scale'/'auto' resolved)
  double coef0 = 0;
  int32_t degree = 3;
  std::vector<double> support_vectors;  // n_sv x n_features, row-major
  std::vector<int32_t> n_support;       // SVs per class, in class order (one-class: {n_sv})
  std::vector<double> dual_coef;        // (n_classes - 1, or 1) x n_sv, row-major
  std::vector<double> intercept;        // one per pair (one-class: one)

  std::size_t n_sv() const { return dual_coef.size() / coef_rows(); }
  std::size_t coef_rows() const { return n_support.size() > 1 ? n_support.size() - 1 : 1; }
};

// A linear decision function per output: scores = x . coef[k] + intercept[k] (LinearSVC). One
// output for a binary classifier (positive: classes[1]), one per class otherwise (argmax).
struct LinearModel {
  std::vector<double> coef;       // n_outputs x n_features, row-major
  std::vector<double> intercept;  // n_outputs
  std::size_t n_outputs() const { return intercept.size(); }
};

// Gaussian naive Bayes (GaussianNB). The joint log-likelihood of class c, as scikit-learn has it:
//   jll_c(x) = log(prior_c) - 0.5 sum_f log(2 pi var_cf) - 0.5 sum_f (x_f - theta_cf)^2 / var_cf
// (var_ already includes the variance smoothing fitted with it); predict is its argmax.
struct GaussianNaiveBayes {
  std::vector<double> theta;        // n_classes x n_features, row-major
  std::vector<double> var;          // n_classes x n_features, > 0
  std::vector<double> class_prior;  // n_classes, > 0
};

// Principal component analysis (PCA.transform):
//   y = (x - mean) components^T, then, with whitening, y_k / max(sqrt(explained_variance_k), eps).
struct Pca {
  std::vector<double> mean;                // n_inputs
  std::vector<double> components;          // n_components x n_inputs, row-major
  std::vector<double> explained_variance;  // n_components, > 0
  bool whiten = false;

  std::size_t n_inputs() const { return mean.size(); }
  std::size_t n_components() const { return explained_variance.size(); }
  // The divisor of output k: 1, or scikit-learn's whitening scale.
  double output_divisor(std::size_t k) const;
};

// A squared Mahalanobis distance, d2(x) = (x - location)^T precision (x - location), as
// scikit-learn's mahalanobis(X); with a threshold, an outlier detector: +1 when d2 <= threshold.
// `precision` is symmetric positive definite (the loader checks it with a Cholesky factorisation).
struct Mahalanobis {
  std::vector<double> location;   // n
  std::vector<double> precision;  // n x n, row-major
  bool has_threshold = false;
  double threshold = 0;
};

using Family = std::variant<TreeEnsemble, SupportVectorMachine, LinearModel, GaussianNaiveBayes,
                            Pca, Mahalanobis>;

// A per-feature scaler in front of the estimator (StandardScaler, MinMaxScaler, MaxAbsScaler),
// with scikit-learn's operations in scikit-learn's order, in double:
//   standard: (x - offset) / scale   (either step absent when its vector is empty)
//   minmax:   x * scale + offset, then clipped to [clip_lo, clip_hi] when `clip`
//   maxabs:   x / scale
struct FeatureScaler {
  enum class Kind { Standard, MinMax, MaxAbs };
  Kind kind = Kind::Standard;
  std::vector<double> offset;
  std::vector<double> scale;  // > 0
  bool clip = false;
  double clip_lo = 0;
  double clip_hi = 1;

  // Feature f of the scaled input, bit for bit as scikit-learn computes it.
  double apply(std::size_t f, double x) const;
};

// A pipeline stage in front of the estimator.
using Stage = std::variant<FeatureScaler, Pca>;

struct Model {
  ModelInfo info;             // the input is the pipeline's: what reaches the first stage
  std::vector<Stage> preprocessing;
  Family family;              // its parameters are in the space of the last stage's output

  std::size_t n_classes() const { return info.classes.size(); }
  // The width of the estimator's input: n_features, or the last stage's output width.
  std::size_t estimator_inputs() const;
};

// For `if constexpr` chains over Family: `else static_assert(always_false<T>)` makes a family
// without a handler a compile error.
template <typename>
inline constexpr bool always_false = false;

// The numeric mode of the generated code.
enum class Numeric { Float, Fixed };

const char* to_string(Numeric numeric);
const char* to_string(Task task);
const char* to_string(Kernel kernel);

}  // namespace mcuport

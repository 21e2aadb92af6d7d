// Loads the fields every model has, then hands "params" to the loader of the model's family.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "families.hpp"
#include "json_cursor.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"
#include "mcuport/load.hpp"

namespace mcuport {

using detail::JsonCursor;

const char* to_string(Numeric numeric) { return numeric == Numeric::Float ? "float" : "fixed"; }
const char* to_string(Kernel kernel) {
  switch (kernel) {
    case Kernel::Linear: return "linear";
    case Kernel::Poly: return "poly";
    case Kernel::Rbf: return "rbf";
    case Kernel::Sigmoid: return "sigmoid";
  }
  return "";
}

const char* to_string(Task task) {
  switch (task) {
    case Task::Classification: return "classification";
    case Task::Regression: return "regression";
    case Task::OutlierDetection: return "outlier_detection";
    case Task::Transform: return "transform";
    case Task::Distance: return "distance";
  }
  return "";
}

namespace {

// The registry of model kinds: one line per family.
struct KindEntry {
  const char* kind;
  std::vector<const char*> classifiers;  // estimator names allowed with task "classification"
  std::vector<const char*> regressors;
  std::vector<const char*> outlier_detectors;
  std::vector<const char*> transforms;
  std::vector<const char*> distances;
  Family (*load)(const JsonCursor& params, const ModelInfo& info);
};

const std::vector<KindEntry>& kinds() {
  static const std::vector<KindEntry> table = {
      {"tree_ensemble",
       {"DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier"},
       {"DecisionTreeRegressor", "RandomForestRegressor", "ExtraTreesRegressor"},
       {}, {}, {},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_tree_ensemble(params, info);
       }},
      {"svm", {"SVC", "NuSVC"}, {}, {"OneClassSVM"}, {}, {},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_svm(params, info);
       }},
      {"linear", {"LinearSVC"}, {}, {}, {}, {},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_linear(params, info);
       }},
      {"gaussian_nb", {"GaussianNB"}, {}, {}, {}, {},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_gaussian_nb(params, info);
       }},
      {"pca", {}, {}, {}, {"PCA"}, {},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_pca(params, static_cast<std::size_t>(info.n_features), false);
       }},
      {"mahalanobis", {}, {}, {"EllipticEnvelope", "Mahalanobis"}, {},
       {"EmpiricalCovariance", "MinCovDet", "ShrunkCovariance", "LedoitWolf", "OAS", "Mahalanobis"},
       [](const JsonCursor& params, const ModelInfo& info) -> Family {
         return detail::load_mahalanobis(params, info);
       }},
  };
  return table;
}

std::string join(const std::vector<const char*>& names) {
  std::string out;
  for (const char* name : names) out += std::string(out.empty() ? "" : ", ") + name;
  return out;
}

Label load_label(const JsonCursor& cursor) {
  Label label;
  if (cursor.json().is_string()) {
    label.text = cursor.as_string(limits::kMaxStringBytes);
    if (label.text.find('\0') != std::string::npos) {
      // The header keeps labels as C strings, which end at the first NUL: "a\0b" read "a".
      cursor.fail("a class label cannot contain a NUL character (a C string ends at it)");
    }
  } else if (cursor.json().is_number()) {
    cursor.as_finite();
    label.text = cursor.json().dump();  // the document's own spelling, shortest round trip
    label.numeric = true;
  } else {
    cursor.fail(std::string("a class label must be a string or a number, got ") +
                detail::json_type_name(cursor.json()));
  }
  return label;
}

std::vector<Label> load_classes(const JsonCursor& cursor) {
  const std::size_t n = cursor.expect_array(1, limits::kMaxClasses);
  std::vector<Label> classes;
  // Numbers are duplicates when equal in value, as in numpy (1, 1.0 and 1e0 are one class):
  // integers compare exactly (2^62 and 2^62 + 1 differ), others as doubles; an integral double
  // compares as the integer it equals.
  std::set<std::string> seen_text;
  std::set<int64_t> seen_integer;
  std::set<uint64_t> seen_large;  // above INT64_MAX
  std::set<double> seen_fraction;
  // The header writes each label as a C string, numbers in the document's spelling: the number
  // 1 and the string "1" are two classes to scikit-learn but one text in C.
  std::set<std::string> seen_c_text;
  for (std::size_t i = 0; i < n; ++i) {
    Label label = load_label(cursor.at(i));
    const nlohmann::json& value = cursor.at(i).json();
    bool is_new = true;
    if (!label.numeric) {
      is_new = seen_text.insert(label.text).second;
    } else if (value.is_number_unsigned() &&
               value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      is_new = seen_large.insert(value.get<uint64_t>()).second;
    } else if (value.is_number_integer()) {
      is_new = seen_integer.insert(value.get<int64_t>()).second;
    } else {
      const double d = value.get<double>();
      const bool integral = std::floor(d) == d && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18;
      is_new = integral ? seen_integer.insert(static_cast<int64_t>(d)).second
                        : seen_fraction.insert(d).second;
    }
    if (!is_new) {
      cursor.at(i).fail("duplicate class label " + cursor.at(i).describe());
    }
    if (!seen_c_text.insert(label.text).second) {
      cursor.at(i).fail("class label " + cursor.at(i).describe() +
                        " is written in C as another class's label is: the header's labels "
                        "could not tell them apart; give the classes distinct labels");
    }
    classes.push_back(std::move(label));
  }
  return classes;
}

std::vector<InputRange> load_input_ranges(const JsonCursor& cursor, int32_t n_features) {
  cursor.expect_array_of_size(static_cast<std::size_t>(n_features));
  std::vector<InputRange> ranges;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n_features); ++i) {
    const std::vector<double> pair = cursor.at(i).as_finite_array(2);
    if (!(pair[0] <= pair[1])) {
      // Both elements are finite numbers here, so the dump is short and plain ASCII.
      cursor.at(i).fail("input range must satisfy lo <= hi, got " + cursor.at(i).json().dump());
    }
    if (!(pair[0] >= -FLT_MAX && pair[1] <= FLT_MAX)) {
      cursor.at(i).fail("input range " + cursor.at(i).json().dump() +
                        " reaches beyond the float32 range that inputs are compared in");
    }
    ranges.push_back({pair[0], pair[1]});
  }
  return ranges;
}

}  // namespace

Model load_model(const std::string& json_text) {
  return load_document(detail::parse_document(json_text));
}

Model load_document(const nlohmann::json& document) {
  const JsonCursor root(document, "");
  root.expect_keys({"format", "format_version", "producer", "kind", "estimator", "task",
                    "n_features", "feature_names", "classes", "input_ranges", "preprocessing",
                    "params"});

  const JsonCursor format = root.at("format");
  if (format.as_string(limits::kMaxStringBytes) != kFormatName) {
    format.fail(std::string("expected \"") + kFormatName + "\", got " + format.describe());
  }
  const JsonCursor version = root.at("format_version");
  if (!version.json().is_number_integer() || version.json().get<int64_t>() != kFormatVersion) {
    version.fail("unsupported format version " + version.describe() +
                 " (this mcuport reads version " + std::to_string(kFormatVersion) + ")");
  }
  std::optional<std::string> producer;
  if (auto found = root.find("producer")) producer = found->as_string(limits::kMaxStringBytes);

  const JsonCursor kind_cursor = root.at("kind");
  const std::string kind = kind_cursor.as_string(limits::kMaxStringBytes);
  const auto entry = std::find_if(kinds().begin(), kinds().end(),
                                  [&](const KindEntry& e) { return kind == e.kind; });
  if (entry == kinds().end()) {
    std::vector<const char*> known;
    for (const auto& e : kinds()) known.push_back(e.kind);
    kind_cursor.fail("unknown model kind " + kind_cursor.describe() + " (known: " + join(known) +
                     ")");
  }

  Model model;
  ModelInfo& info = model.info;
  info.producer = std::move(producer);
  const JsonCursor task = root.at("task");
  const std::string task_name = task.as_string(limits::kMaxStringBytes);
  if (task_name == "classification") {
    info.task = Task::Classification;
  } else if (task_name == "regression") {
    info.task = Task::Regression;
  } else if (task_name == "outlier_detection") {
    info.task = Task::OutlierDetection;
  } else if (task_name == "transform") {
    info.task = Task::Transform;
  } else if (task_name == "distance") {
    info.task = Task::Distance;
  } else {
    task.fail("expected \"classification\", \"regression\", \"outlier_detection\", "
              "\"transform\" or \"distance\", got " + task.describe());
  }

  const JsonCursor estimator = root.at("estimator");
  info.estimator = estimator.as_string(limits::kMaxStringBytes);
  const auto& allowed = info.task == Task::Classification     ? entry->classifiers
                        : info.task == Task::Regression       ? entry->regressors
                        : info.task == Task::OutlierDetection ? entry->outlier_detectors
                        : info.task == Task::Transform        ? entry->transforms
                                                              : entry->distances;
  if (std::none_of(allowed.begin(), allowed.end(),
                   [&](const char* name) { return info.estimator == name; })) {
    estimator.fail("estimator " + estimator.describe() + " is not a " + task_name +
                   " model of kind \"" + kind + "\"" +
                   (allowed.empty() ? std::string(" (that kind has no " + task_name + " models)")
                                    : " (expected one of: " + join(allowed) + ")"));
  }

  info.n_features =
      static_cast<int32_t>(root.at("n_features").as_int(1, limits::kMaxFeatures));

  if (auto names = root.find("feature_names")) {
    names->expect_array_of_size(static_cast<std::size_t>(info.n_features));
    for (std::size_t i = 0; i < static_cast<std::size_t>(info.n_features); ++i) {
      info.feature_names.push_back(names->at(i).as_string(limits::kMaxStringBytes));
    }
  }

  const auto classes = root.find("classes");
  if (info.task == Task::Classification) {
    if (!classes) root.fail("missing required key \"classes\" (a classifier needs its labels)");
    info.classes = load_classes(*classes);
  } else if (classes) {
    const char* what = info.task == Task::Regression         ? "a regressor"
                       : info.task == Task::OutlierDetection ? "an outlier detector"
                       : info.task == Task::Transform        ? "a transform"
                                                             : "a distance model";
    classes->fail(std::string(what) + " has no classes; remove this key");
  }

  if (auto ranges = root.find("input_ranges")) {
    info.input_ranges = load_input_ranges(*ranges, info.n_features);
  }

  // The estimator's parameters live in the space of the last stage's output.
  ModelInfo estimator_info = info;
  if (auto stages = root.find("preprocessing")) {
    std::size_t width = 0;
    model.preprocessing =
        detail::load_preprocessing(*stages, static_cast<std::size_t>(info.n_features), width);
    estimator_info.n_features = static_cast<int32_t>(width);
    estimator_info.feature_names.clear();
    estimator_info.input_ranges.clear();
  }
  model.family = entry->load(root.at("params"), estimator_info);
  return model;
}

}  // namespace mcuport

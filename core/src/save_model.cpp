// IR -> model JSON, the inverse of load_model: the fields in the order the Python exporter
// writes them, one section per family as on the loading side.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/save.hpp"

namespace mcuport {

namespace {

using Json = nlohmann::ordered_json;

// The JSON pointer of what is being written, for the errors of models built by hand.
class Path {
 public:
  explicit Path(std::string text) : text_(std::move(text)) {}
  Path operator/(const std::string& key) const { return Path(text_ + "/" + key); }
  Path operator/(std::size_t index) const { return Path(text_ + "/" + std::to_string(index)); }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

Json number(double value, const Path& path) {
  if (!std::isfinite(value)) {
    throw Error(path.str(), "cannot write the non-finite number " + std::to_string(value) +
                                " (JSON has no NaN or infinity)");
  }
  return Json(value);
}

// The code points of UTF-8 text, or false where it is not UTF-8 (overlong forms, surrogates and
// values above U+10FFFF included), as Python's decoder has it.
bool decode_utf8(const std::string& value, std::vector<uint32_t>* points) {
  for (std::size_t i = 0; i < value.size();) {
    const auto byte = static_cast<unsigned char>(value[i]);
    const int length = byte < 0x80 ? 1 : byte >= 0xC2 && byte < 0xE0 ? 2
                     : byte >= 0xE0 && byte < 0xF0 ? 3 : byte >= 0xF0 && byte < 0xF5 ? 4 : 0;
    if (length == 0 || i + static_cast<std::size_t>(length) > value.size()) return false;
    uint32_t point = length == 1 ? byte : byte & (0x7Fu >> length);
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(value[i + static_cast<std::size_t>(k)]);
      if ((next & 0xC0) != 0x80) return false;
      point = (point << 6) | (next & 0x3Fu);
    }
    const uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (point < smallest[length] || point > 0x10FFFF || (point >= 0xD800 && point < 0xE000)) {
      return false;
    }
    if (points != nullptr) points->push_back(point);
    i += static_cast<std::size_t>(length);
  }
  return true;
}

Json text(const std::string& value, const Path& path) {
  if (!decode_utf8(value, nullptr)) {
    throw Error(path.str(), "cannot write a string that is not valid UTF-8");
  }
  return Json(value);
}

Json numbers(const std::vector<double>& values, const Path& path) {
  Json out = Json::array();
  for (std::size_t i = 0; i < values.size(); ++i) out.push_back(number(values[i], path / i));
  return out;
}

// A row-major rows x columns matrix as a list of rows.
Json matrix(const std::vector<double>& values, std::size_t columns, const Path& path) {
  MCUPORT_ASSERT(columns > 0 && values.size() % columns == 0);
  Json out = Json::array();
  for (std::size_t r = 0; r < values.size() / columns; ++r) {
    Json row = Json::array();
    for (std::size_t c = 0; c < columns; ++c) {
      row.push_back(number(values[r * columns + c], path / r / c));
    }
    out.push_back(std::move(row));
  }
  return out;
}

Json integers(const std::vector<int32_t>& values) { return Json(values); }

Json label(const Label& value, const Path& path) {
  // A numeric label keeps the document's own spelling, so that it parses back to the same
  // JSON number (an integer stays an integer: 3, not 3.0).
  if (value.numeric) {
    Json parsed = Json::parse(value.text, nullptr, false);
    if (!parsed.is_number()) throw Error(path.str(), "numeric label " + value.text + " is not a number");
    return parsed;
  }
  return text(value.text, path);
}

Json save_tree(const Tree& tree, Task task, const Path& path) {
  Json out;
  out["children_left"] = integers(tree.left);
  out["children_right"] = integers(tree.right);
  out["feature"] = integers(tree.feature);
  out["threshold"] = numbers(tree.threshold, path / "threshold");
  Json values = Json::array();
  const Path value_path = path / "value";
  const auto width = static_cast<std::size_t>(tree.value_width);
  for (std::size_t node = 0; node < tree.n_nodes(); ++node) {
    // Internal nodes carry no payload (the loader reads their null as zeros).
    if (!tree.is_leaf(node)) {
      values.push_back(nullptr);
    } else if (task == Task::Regression) {
      values.push_back(number(tree.leaf_value(node)[0], value_path / node));
    } else {
      Json weights = Json::array();
      for (std::size_t c = 0; c < width; ++c) {
        weights.push_back(number(tree.leaf_value(node)[c], value_path / node / c));
      }
      values.push_back(std::move(weights));
    }
  }
  out["value"] = std::move(values);
  if (!tree.missing_go_to_left.empty()) {
    const std::vector<int32_t> sides(tree.missing_go_to_left.begin(),
                                     tree.missing_go_to_left.end());
    out["missing_go_to_left"] = integers(sides);
  }
  return out;
}

Json save_family(const TreeEnsemble& ensemble, const ModelInfo& info, const Path& path) {
  Json out;
  Json trees = Json::array();
  for (std::size_t t = 0; t < ensemble.trees.size(); ++t) {
    trees.push_back(save_tree(ensemble.trees[t], info.task, path / "trees" / t));
  }
  out["trees"] = std::move(trees);
  if (info.task == Task::Classification) {
    out["leaf_proba"] = ensemble.normalize_leaves ? "normalize" : "value";
  }
  return out;
}

Json save_family(const SupportVectorMachine& svm, const ModelInfo& info, const Path& path) {
  (void)info;
  Json out;
  out["kernel"] = to_string(svm.kernel);
  out["gamma"] = number(svm.gamma, path / "gamma");
  out["coef0"] = number(svm.coef0, path / "coef0");
  out["degree"] = svm.degree;
  const std::size_t n_sv = svm.n_sv();
  out["support_vectors"] = n_sv == 0 ? Json::array()
                                     : matrix(svm.support_vectors,
                                              svm.support_vectors.size() / n_sv,
                                              path / "support_vectors");
  out["n_support"] = integers(svm.n_support);
  out["dual_coef"] = n_sv == 0 ? Json::array() : matrix(svm.dual_coef, n_sv, path / "dual_coef");
  out["intercept"] = numbers(svm.intercept, path / "intercept");
  return out;
}

Json save_family(const LinearModel& linear, const ModelInfo& info, const Path& path) {
  Json out;
  out["coef"] = matrix(linear.coef, static_cast<std::size_t>(info.n_features), path / "coef");
  out["intercept"] = numbers(linear.intercept, path / "intercept");
  return out;
}

Json save_family(const GaussianNaiveBayes& nb, const ModelInfo& info, const Path& path) {
  const auto n_features = static_cast<std::size_t>(info.n_features);
  Json out;
  out["theta"] = matrix(nb.theta, n_features, path / "theta");
  out["var"] = matrix(nb.var, n_features, path / "var");
  out["class_prior"] = numbers(nb.class_prior, path / "class_prior");
  return out;
}

// The "pca" params, or a pipeline stage when `kind` is given first.
Json save_pca(const Pca& pca, Json out, const Path& path) {
  out["mean"] = numbers(pca.mean, path / "mean");
  out["components"] = matrix(pca.components, pca.n_inputs(), path / "components");
  out["explained_variance"] = numbers(pca.explained_variance, path / "explained_variance");
  out["whiten"] = pca.whiten;
  return out;
}

Json save_family(const Pca& pca, const ModelInfo& info, const Path& path) {
  (void)info;
  return save_pca(pca, Json::object(), path);
}

Json save_family(const Mahalanobis& model, const ModelInfo& info, const Path& path) {
  (void)info;
  Json out;
  out["location"] = numbers(model.location, path / "location");
  out["precision"] = matrix(model.precision, model.location.size(), path / "precision");
  if (model.has_threshold) out["threshold"] = number(model.threshold, path / "threshold");
  return out;
}

Json save_scaler(const FeatureScaler& scaler, const Path& path) {
  Json out;
  switch (scaler.kind) {
    case FeatureScaler::Kind::Standard:
      out["kind"] = "standard_scaler";
      if (!scaler.offset.empty()) out["mean"] = numbers(scaler.offset, path / "mean");
      if (!scaler.scale.empty()) out["scale"] = numbers(scaler.scale, path / "scale");
      break;
    case FeatureScaler::Kind::MinMax:
      out["kind"] = "minmax_scaler";
      out["scale"] = numbers(scaler.scale, path / "scale");
      out["min"] = numbers(scaler.offset, path / "min");
      if (scaler.clip) out["clip"] = numbers({scaler.clip_lo, scaler.clip_hi}, path / "clip");
      break;
    case FeatureScaler::Kind::MaxAbs:
      out["kind"] = "maxabs_scaler";
      out["scale"] = numbers(scaler.scale, path / "scale");
      break;
  }
  return out;
}

// JSON text as Python's json.dumps writes it (ensure_ascii, the separators of `indent`), so
// that a document the Python package exported comes back byte for byte.

// A string literal: printable ASCII as it is, the short escapes, and \uXXXX for everything else
// (control characters, DEL, beyond ASCII; surrogate pairs above U+FFFF), as in Python.
void write_string(const std::string& value, std::string* out) {
  std::vector<uint32_t> points;
  MCUPORT_ASSERT(decode_utf8(value, &points));  // text() checked every string
  const auto hex4 = [out](uint32_t unit) {
    static const char digits[] = "0123456789abcdef";
    *out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) *out += digits[(unit >> shift) & 0xF];
  };
  *out += '"';
  for (const uint32_t point : points) {
    switch (point) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (point >= 0x20 && point < 0x7F) {
          *out += static_cast<char>(point);
        } else if (point < 0x10000) {
          hex4(point);
        } else {
          hex4(0xD800 + ((point - 0x10000) >> 10));
          hex4(0xDC00 + ((point - 0x10000) & 0x3FF));
        }
    }
  }
  *out += '"';
}

// A double as Python's repr: the shortest digits that read back to it, positional when the
// decimal exponent is in [-4, 16), else d.ddde+XX.
void write_double(double value, std::string* out) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value,
                                    std::chars_format::scientific);
  MCUPORT_ASSERT(result.ec == std::errc());
  const std::string scientific(buffer, result.ptr);  // [-]d[.ddd]e(+|-)XX
  const std::size_t e = scientific.find('e');
  const bool negative = scientific[0] == '-';
  std::string digits = scientific.substr(negative ? 1 : 0, e - (negative ? 1 : 0));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(scientific.substr(e + 1));
  const int point = exponent + 1;  // digits before the decimal point
  const auto n = static_cast<int>(digits.size());
  if (negative) *out += '-';
  if (point <= -4 || point > 16) {
    *out += digits[0];
    if (n > 1) *out += "." + digits.substr(1);
    const int magnitude = exponent < 0 ? -exponent : exponent;
    *out += std::string(exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") +
            std::to_string(magnitude);
  } else if (point <= 0) {
    *out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (point >= n) {
    *out += digits + std::string(static_cast<std::size_t>(point - n), '0') + ".0";
  } else {
    *out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
            digits.substr(static_cast<std::size_t>(point));
  }
}

void write_json(const Json& value, int indent, int depth, std::string* out) {
  const auto newline = [&](int level) {
    if (indent >= 0) *out += "\n" + std::string(static_cast<std::size_t>(indent * level), ' ');
  };
  switch (value.type()) {
    case Json::value_t::object:
    case Json::value_t::array: {
      const bool object = value.is_object();
      if (value.empty()) {
        *out += object ? "{}" : "[]";
        return;
      }
      *out += object ? '{' : '[';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) *out += ',';
        first = false;
        newline(depth + 1);
        if (object) {
          write_string(it.key(), out);
          *out += indent >= 0 ? ": " : ":";
        }
        write_json(it.value(), indent, depth + 1, out);
      }
      newline(depth);
      *out += object ? '}' : ']';
      return;
    }
    case Json::value_t::string: write_string(value.get_ref<const std::string&>(), out); return;
    case Json::value_t::boolean: *out += value.get<bool>() ? "true" : "false"; return;
    case Json::value_t::number_integer: *out += std::to_string(value.get<int64_t>()); return;
    case Json::value_t::number_unsigned: *out += std::to_string(value.get<uint64_t>()); return;
    case Json::value_t::number_float: write_double(value.get<double>(), out); return;
    case Json::value_t::null: *out += "null"; return;
    case Json::value_t::binary:
    case Json::value_t::discarded: break;
  }
  MCUPORT_ASSERT(false);
}

const char* kind_name(const Family& family) {
  return std::visit(
      [](const auto& f) -> const char* {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, TreeEnsemble>) return "tree_ensemble";
        else if constexpr (std::is_same_v<T, SupportVectorMachine>) return "svm";
        else if constexpr (std::is_same_v<T, LinearModel>) return "linear";
        else if constexpr (std::is_same_v<T, GaussianNaiveBayes>) return "gaussian_nb";
        else if constexpr (std::is_same_v<T, Pca>) return "pca";
        else if constexpr (std::is_same_v<T, Mahalanobis>) return "mahalanobis";
        else static_assert(always_false<T>);
      },
      family);
}

}  // namespace

std::string save_model(const Model& model, int indent) {
  const ModelInfo& info = model.info;
  const Path root("");
  Json out;
  out["format"] = kFormatName;
  out["format_version"] = kFormatVersion;
  if (info.producer) out["producer"] = text(*info.producer, root / "producer");
  out["kind"] = kind_name(model.family);
  out["estimator"] = text(info.estimator, root / "estimator");
  out["task"] = to_string(info.task);
  out["n_features"] = info.n_features;
  if (!info.feature_names.empty()) {
    Json names = Json::array();
    for (std::size_t i = 0; i < info.feature_names.size(); ++i) {
      names.push_back(text(info.feature_names[i], root / "feature_names" / i));
    }
    out["feature_names"] = std::move(names);
  }
  if (info.task == Task::Classification) {
    Json classes = Json::array();
    for (std::size_t i = 0; i < info.classes.size(); ++i) {
      classes.push_back(label(info.classes[i], root / "classes" / i));
    }
    out["classes"] = std::move(classes);
  }
  if (!info.input_ranges.empty()) {
    Json ranges = Json::array();
    for (std::size_t i = 0; i < info.input_ranges.size(); ++i) {
      ranges.push_back(numbers({info.input_ranges[i].lo, info.input_ranges[i].hi},
                               root / "input_ranges" / i));
    }
    out["input_ranges"] = std::move(ranges);
  }
  if (!model.preprocessing.empty()) {
    Json stages = Json::array();
    for (std::size_t i = 0; i < model.preprocessing.size(); ++i) {
      const Path path = root / "preprocessing" / i;
      if (const auto* scaler = std::get_if<FeatureScaler>(&model.preprocessing[i])) {
        stages.push_back(save_scaler(*scaler, path));
      } else {
        Json stage;
        stage["kind"] = "pca";
        stages.push_back(save_pca(std::get<Pca>(model.preprocessing[i]), std::move(stage), path));
      }
    }
    out["preprocessing"] = std::move(stages);
  }
  // The estimator's parameters are in the space of the last stage's output.
  ModelInfo estimator_info = info;
  estimator_info.n_features = static_cast<int32_t>(model.estimator_inputs());
  out["params"] = std::visit(
      [&](const auto& family) { return save_family(family, estimator_info, root / "params"); },
      model.family);
  std::string written;
  write_json(out, indent, 0, &written);
  return written;
}

}  // namespace mcuport

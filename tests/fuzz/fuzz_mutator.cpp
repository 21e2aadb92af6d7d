// A structure-aware mutator for fuzz_port.cpp. Byte mutations of a model document mostly make
// malformed JSON, which the parser refuses at once; half of the time this mutator instead parses
// the input, changes one value of the document's tree (a number to an edge value, an array
// shortened or lengthened, a key removed, a subtree copied elsewhere, a name swapped for another
// known one) and writes it back, so that the loader's checks and everything after them see
// well-formed documents that are wrong in one place. The other half are libFuzzer's own
// mutations (with tests/fuzz/json.dict).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using nlohmann::json;

void collect(json& node, std::vector<json*>& out, int depth) {
  out.push_back(&node);
  if (depth > 16) return;
  if (node.is_array() || node.is_object()) {
    for (auto& child : node) collect(child, out, depth + 1);
  }
}

json edge_number(std::mt19937& rng, const json& old) {
  static const std::vector<json> edges = {
      0, 1, -1, -2, 2, 3, 7, 8, 15, 16, 17, 255, 256, 32767, 32768, -32768, -32769, 65535, 65536,
      1024, 1025, 10000, 10001, 16777216, 67108864, 2147483647, -2147483648LL, 2147483648LL,
      4294967295LL, 4294967296LL, 9223372036854775807LL, std::numeric_limits<uint64_t>::max(),
      0.5, -0.5, 1e-300, -1e-300, 5e-324, 1e-45, 1e38, -1e38, 3.4028234663852886e38,
      3.4028235677973366e38, -3.4028235677973366e38, 1e300, -1e300, 1.7976931348623157e308,
      -1.7976931348623157e308, 2.2250738585072014e-308, 0.1, 1e-7, 1e7, 4503599627370496.0};
  std::uniform_int_distribution<std::size_t> pick(0, edges.size() + 3);
  const std::size_t k = pick(rng);
  if (k < edges.size() || !old.is_number()) return edges[k % edges.size()];
  const double v = old.get<double>();
  if (k == edges.size()) return v * 2;
  if (k == edges.size() + 1) return -v;
  const bool up = k == edges.size() + 2;
  if (old.is_number_unsigned()) return old.get<uint64_t>() + (up ? 1u : uint64_t{0} - 1u);  // wraps
  if (old.is_number_integer()) {
    const int64_t i = old.get<int64_t>();
    if (up && i < std::numeric_limits<int64_t>::max()) return i + 1;
    if (!up && i > std::numeric_limits<int64_t>::min()) return i - 1;
    return v;
  }
  return v * (up ? 1.0000001 : 0.9999999);
}

json known_string(std::mt19937& rng) {
  static const std::vector<const char*> names = {
      "tree_ensemble", "svm", "linear", "gaussian_nb", "pca", "mahalanobis",
      "classification", "regression", "outlier_detection", "transform", "distance",
      "DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
      "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor", "SVC", "NuSVC",
      "OneClassSVM", "LinearSVC", "GaussianNB", "PCA", "EllipticEnvelope", "Mahalanobis",
      "EmpiricalCovariance", "MinCovDet", "ShrunkCovariance", "LedoitWolf", "OAS", "linear",
      "poly", "rbf", "sigmoid", "precomputed", "standard_scaler", "minmax_scaler",
      "maxabs_scaler", "normalize", "value", "", "a", "a\"b\\c\n*/ #x", "\xc3\xa9", "\xff",
      "?\?/", "model", "mcuport-model"};
  std::uniform_int_distribution<std::size_t> pick(0, names.size());
  const std::size_t k = pick(rng);
  if (k == names.size()) return std::string(300, 'x');
  return names[k];
}

// One change to the document; false when the chosen node offered none.
bool mutate(json& document, std::mt19937& rng) {
  std::vector<json*> nodes;
  collect(document, nodes, 0);
  json& node = *nodes[std::uniform_int_distribution<std::size_t>(0, nodes.size() - 1)(rng)];
  const json& donor = *nodes[std::uniform_int_distribution<std::size_t>(0, nodes.size() - 1)(rng)];
  switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
    case 0:
    case 1:
    case 2:
      if (node.is_number()) {
        node = edge_number(rng, node);
        return true;
      }
      if (node.is_string()) {
        node = known_string(rng);
        return true;
      }
      return false;
    case 3:  // drop an element or a key
      if (node.is_array() && !node.empty()) {
        node.erase(std::uniform_int_distribution<std::size_t>(0, node.size() - 1)(rng));
        return true;
      }
      if (node.is_object() && !node.empty()) {
        auto it = node.begin();
        std::advance(it, std::uniform_int_distribution<long>(0, static_cast<long>(node.size()) - 1)(rng));
        node.erase(it);
        return true;
      }
      return false;
    case 4:  // repeat an element
      if (node.is_array() && !node.empty()) {
        const json copy = node[std::uniform_int_distribution<std::size_t>(0, node.size() - 1)(rng)];
        const std::size_t times = std::uniform_int_distribution<std::size_t>(1, 4)(rng);
        for (std::size_t i = 0; i < times; ++i) node.push_back(copy);
        return true;
      }
      return false;
    case 5:  // every number of an array the same edge value
      if (node.is_array() && !node.empty()) {
        const json value = edge_number(rng, node[0]);
        for (auto& element : node) {
          if (element.is_number()) element = value;
        }
        return true;
      }
      return false;
    case 6:  // a subtree from elsewhere
      if (&donor != &node) {
        node = json(donor);
        return true;
      }
      return false;
    case 7: {  // a value of another type
      static const std::vector<json> others = {nullptr, true, false, json::array(),
                                               json::object(), json::array({0}), "", 0};
      node = others[std::uniform_int_distribution<std::size_t>(0, others.size() - 1)(rng)];
      return true;
    }
    case 8:  // an array cut to one element, or emptied
      if (node.is_array() && !node.empty()) {
        const json first = node[0];
        node = std::uniform_int_distribution<int>(0, 1)(rng) ? json::array({first}) : json::array();
        return true;
      }
      return false;
    default:  // a key of the document added where it does not belong, or a known key re-added
      if (node.is_object()) {
        static const std::vector<const char*> keys = {
            "input_ranges", "feature_names", "classes", "preprocessing", "leaf_proba", "threshold",
            "clip", "mean", "scale", "whiten", "producer", "n_features", "degree", "x"};
        node[keys[std::uniform_int_distribution<std::size_t>(0, keys.size() - 1)(rng)]] = donor;
        return true;
      }
      return false;
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  if (rng() % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
  json document = json::parse(data, data + size, nullptr, false);
  if (document.is_discarded()) return LLVMFuzzerMutate(data, size, max_size);
  const int changes = 1 + static_cast<int>(rng() % 3);
  for (int i = 0, tries = 0; i < changes && tries < 20; ++tries) {
    if (mutate(document, rng)) ++i;
  }
  const std::string text = document.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

// save_model, the inverse of load_model: every document of the golden and fuzz-seed sets
// (hand-written and exported, every family, pipelines, labels of both kinds) loads, saves and
// loads again to the same model; the saved form is a fixed point of load -> save; and both
// documents port to the same C, byte for byte. Models built by hand get errors, not bad JSON.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"
#include "mcuport/save.hpp"
#include "test_files.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HasSubstr;

std::vector<fs::path> documents() {
  std::vector<fs::path> out;
  const fs::path root(MCUPORT_SOURCE_DIR);
  for (const fs::path& dir : {root / "tests" / "golden", root / "tests" / "fuzz" / "corpus"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".json") out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// JSON values equal as documents: the same keys and, for numbers, the same double (bit for bit,
// so -0.0 is not 0.0). An integer and a float of the same value are equal here, as a
// hand-written "-2" threshold is saved as -2.0; tests/python/test_determinism.py checks the
// types too, on the exporter's documents.
bool same_value(const json& a, const json& b, const std::string& path, std::string* where) {
  if (a.is_number() && b.is_number()) {
    const auto x = a.get<double>();
    const auto y = b.get<double>();
    if (x == y && std::signbit(x) == std::signbit(y)) return true;
  } else if (a.is_object() && b.is_object()) {
    if (a.size() == b.size()) {
      for (auto it = a.begin(); it != a.end(); ++it) {
        if (!b.contains(it.key())) break;
        if (!same_value(it.value(), b.at(it.key()), path + "/" + it.key(), where)) return false;
      }
      bool all = true;
      for (auto it = a.begin(); it != a.end(); ++it) all = all && b.contains(it.key());
      if (all) return true;
    }
  } else if (a.is_array() && b.is_array()) {
    if (a.size() == b.size()) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!same_value(a[i], b[i], path + "/" + std::to_string(i), where)) return false;
      }
      return true;
    }
  } else if (a == b) {
    return true;
  }
  *where = path + ": " + a.dump().substr(0, 200) + " against " + b.dump().substr(0, 200);
  return false;
}

class SaveRoundTrip : public testing::TestWithParam<fs::path> {};

// The document with its one defaulted key written out, as save_model writes it: a tree
// classifier's "leaf_proba" (the exporter always writes it; hand-written tests leave it out).
json with_defaults(json document) {
  if (document.at("kind") == "tree_ensemble" && document.at("task") == "classification" &&
      !document.at("params").contains("leaf_proba")) {
    document["params"]["leaf_proba"] = "normalize";
  }
  return document;
}

TEST_P(SaveRoundTrip, LoadSaveLoadIsTheSameModel) {
  const std::string original = read_file(GetParam());
  const std::string saved = save_model(mcuport::load_model(original));
  std::string where;
  EXPECT_TRUE(same_value(with_defaults(json::parse(original)), json::parse(saved), "", &where))
      << where;
  // The saved form is a fixed point: saving what it loads to gives the same bytes.
  EXPECT_EQ(saved, mcuport::save_model(mcuport::load_model(saved)));
  // Indented or not, the same document.
  EXPECT_EQ(json::parse(saved), json::parse(mcuport::save_model(mcuport::load_model(original), 2)));
}

TEST_P(SaveRoundTrip, BothDocumentsPortToTheSameC) {
  const std::string original = read_file(GetParam());
  const std::string saved = mcuport::save_model(mcuport::load_model(original));
  for (const mcuport::Numeric numeric : {mcuport::Numeric::Float, mcuport::Numeric::Fixed}) {
    mcuport::PortOptions options;
    options.numeric = numeric;
    std::string expected;
    try {
      expected = mcuport::port(original, options);
    } catch (const mcuport::Error& error) {
      // A model the fixed mode refuses (no input ranges) must be refused the same way.
      EXPECT_THROW(
          {
            try {
              mcuport::port(saved, options);
            } catch (const mcuport::Error& again) {
              EXPECT_STREQ(error.what(), again.what());
              throw;
            }
          },
          mcuport::Error);
      continue;
    }
    EXPECT_EQ(expected, mcuport::port(saved, options)) << mcuport::to_string(numeric);
  }
}

std::string test_name(const testing::TestParamInfo<fs::path>& info) {
  std::string name = info.param.parent_path().filename().string() + "_" + info.param.stem().string();
  for (char& c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Documents, SaveRoundTrip, testing::ValuesIn(documents()), test_name);

TEST(SaveModel, TheSetCoversEveryFamilyAndAPipeline) {
  std::vector<std::string> kinds;
  bool pipeline = false;
  for (const fs::path& path : documents()) {
    const json document = json::parse(read_file(path));
    kinds.push_back(document.at("kind").get<std::string>());
    pipeline = pipeline || document.contains("preprocessing");
  }
  for (const char* kind : {"tree_ensemble", "svm", "linear", "gaussian_nb", "pca", "mahalanobis"}) {
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), kind), kinds.end()) << kind;
  }
  EXPECT_TRUE(pipeline);
}

mcuport::Model small_tree() {
  return mcuport::load_model(R"({"format": "mcuport-model", "format_version": 1,
    "kind": "tree_ensemble", "estimator": "DecisionTreeClassifier", "task": "classification",
    "n_features": 1, "classes": [3, "b"],
    "params": {"trees": [{"children_left": [1, -1, -1], "children_right": [2, -1, -1],
      "feature": [0, -2, -2], "threshold": [0.5, -2, -2],
      "value": [null, [1, 0], [0, 1]]}]}})");
}

TEST(SaveModel, NumericLabelsStayNumbersAndAbsentKeysStayAbsent) {
  const json saved = json::parse(mcuport::save_model(small_tree()));
  EXPECT_TRUE(saved.at("classes").at(0).is_number_integer());
  EXPECT_EQ(saved.at("classes").at(1), "b");
  EXPECT_FALSE(saved.contains("producer"));
  EXPECT_FALSE(saved.contains("feature_names"));
  EXPECT_FALSE(saved.contains("input_ranges"));
  EXPECT_FALSE(saved.contains("preprocessing"));
  EXPECT_EQ(saved.at("params").at("leaf_proba"), "normalize");
}

TEST(SaveModel, EveryStringIsEscapedToAscii) {
  mcuport::Model model = small_tree();
  model.info.producer = "caf\xc3\xa9 \"*/\n";
  model.info.classes[1].text = "\xe2\x82\xac\\\x7f\x01";
  const std::string saved = mcuport::save_model(model);
  for (const char c : saved) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  const json document = json::parse(saved);
  EXPECT_EQ(document.at("producer"), "caf\xc3\xa9 \"*/\n");
  EXPECT_EQ(document.at("classes").at(1), "\xe2\x82\xac\\\x7f\x01");
}

TEST(SaveModel, AModelBuiltByHandWithANonFiniteNumberIsAnErrorNamingItsPath) {
  mcuport::Model model = small_tree();
  std::get<mcuport::TreeEnsemble>(model.family).trees[0].threshold[0] =
      std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT([&] { mcuport::save_model(model); },
              testing::ThrowsMessage<mcuport::Error>(
                  HasSubstr("(/params/trees/0/threshold/0) cannot write the non-finite number")));
}

TEST(SaveModel, AStringThatIsNotUtf8IsAnErrorNamingItsPath) {
  mcuport::Model model = small_tree();
  model.info.classes[1].text = "\xff";
  EXPECT_THAT([&] { mcuport::save_model(model); },
              testing::ThrowsMessage<mcuport::Error>(HasSubstr("(/classes/1) cannot write a string")));
}

}  // namespace

namespace {

TEST(SaveModel, NumbersAreWrittenAsPythonsReprWritesThem) {
  // The shortest digits that read back to the same double (where a 17-digit printf, or
  // nlohmann's Grisu2, would write 0.042659999999999997), positional for decimal exponents in
  // [-4, 16), as Python's float repr, so that exported documents come back byte for byte.
  const std::pair<double, const char*> cases[] = {
      {0.04266, "0.04266"}, {1e-5, "1e-05"}, {0.0001, "0.0001"}, {1e16, "1e+16"},
      {1234567890123456.0, "1234567890123456.0"}, {123456789012345678.0, "1.2345678901234568e+17"},
      {5e-324, "5e-324"}, {-0.0, "-0.0"}, {100.0, "100.0"}, {-2.5e-300, "-2.5e-300"},
      {1.7976931348623157e308, "1.7976931348623157e+308"}, {0.1, "0.1"}};
  mcuport::Model model = small_tree();
  for (const auto& [value, text] : cases) {
    std::get<mcuport::TreeEnsemble>(model.family).trees[0].threshold[0] = value;
    const std::string saved = mcuport::save_model(model);
    EXPECT_THAT(saved, HasSubstr(std::string("\"threshold\":[") + text + ",-2.0,-2.0]")) << text;
  }
}

}  // namespace

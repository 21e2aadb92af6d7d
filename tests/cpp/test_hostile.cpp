// The hostile corpus (tests/hostile/, written by tests/hostile/make_corpus.py): every document
// must be refused by the loader with mcuport::Error naming the JSON pointer and containing the
// message that tests/hostile/expected.json gives for it; never another exception, a crash or a
// hang. The same documents go through mcuport.port, mcuport.load and the command line in
// tests/python/test_hostile.py.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/port.hpp"
#include "test_files.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kCorpusDir = fs::path(MCUPORT_SOURCE_DIR) / "tests" / "hostile";

struct HostileCase {
  std::string name;  // the file is <name>.json
  std::string path;  // the JSON pointer the error names ("" for the text as a whole)
  std::string message;
};

void PrintTo(const HostileCase& c, std::ostream* out) { *out << c.name; }

std::vector<HostileCase> expected_cases() {
  std::vector<HostileCase> cases;
  const auto manifest = nlohmann::json::parse(read_file(kCorpusDir / "expected.json"));
  for (const auto& [name, entry] : manifest.items()) {
    cases.push_back({name, entry.at("path").get<std::string>(),
                     entry.at("message").get<std::string>()});
  }
  return cases;
}

// What a refusal must look like: the named pointer, the message, and the message's form
// "(POINTER) DETAIL" (or DETAIL alone for the text as a whole).
void expect_refusal(const HostileCase& c, const mcuport::Error& e) {
  EXPECT_EQ(e.path(), c.path) << e.what();
  EXPECT_THAT(e.detail(), testing::HasSubstr(c.message));
  const std::string prefix = c.path.empty() ? "" : "(" + c.path + ") ";
  EXPECT_EQ(std::string(e.what()), prefix + e.detail());
}

class Hostile : public testing::TestWithParam<HostileCase> {};

TEST_P(Hostile, LoaderRefusesWithTheNamedError) {
  const HostileCase& c = GetParam();
  const std::string text = read_file(kCorpusDir / (c.name + ".json"));
  try {
    mcuport::load_model(text);
    ADD_FAILURE() << c.name << " was loaded; expected mcuport::Error";
  } catch (const mcuport::Error& e) {
    expect_refusal(c, e);
  }  // anything else escapes and fails the test
}

// port_model (what the command line and mcuport.port call) refuses it the same way, in both
// numeric modes: the loader runs first, nothing is half made.
TEST_P(Hostile, PortRefusesWithTheSameError) {
  const HostileCase& c = GetParam();
  const std::string text = read_file(kCorpusDir / (c.name + ".json"));
  for (const auto numeric : {mcuport::Numeric::Float, mcuport::Numeric::Fixed}) {
    mcuport::PortOptions options;
    options.numeric = numeric;
    try {
      mcuport::port_model(text, options);
      ADD_FAILURE() << c.name << " was ported; expected mcuport::Error";
    } catch (const mcuport::Error& e) {
      expect_refusal(c, e);
    }
  }
}

std::string case_name(const testing::TestParamInfo<HostileCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Corpus, Hostile, testing::ValuesIn(expected_cases()), case_name);

// Tree depth has no limit of its own (docs/model-format.md, Limits): a chain of 100,000 splits,
// far deeper than any fitted tree, loads and ports in both layouts and both numeric modes. A
// pass that recursed per level would overflow the stack here (ASan reports it in build/asan).
TEST(HostileCorpus, DeepChainTreeLoadsAndPorts) {
  constexpr int kDepth = 100000;
  const int n = 2 * kDepth + 1;
  nlohmann::json left = nlohmann::json::array(), right = nlohmann::json::array();
  nlohmann::json feature = nlohmann::json::array(), threshold = nlohmann::json::array();
  nlohmann::json value = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const bool split = i % 2 == 0 && i < n - 1;  // node 2k splits into leaf 2k+1 and node 2k+2
    left.push_back(split ? i + 1 : -1);
    right.push_back(split ? i + 2 : -1);
    feature.push_back(split ? 0 : -2);
    threshold.push_back(split ? static_cast<double>(i / 2) : -2.0);
    const double first = i % 4 == 1 ? 1.0 : 0.0;
    value.push_back(split ? nlohmann::json(nullptr) : nlohmann::json::array({first, 1.0 - first}));
  }
  const nlohmann::json document = {
      {"format", "mcuport-model"}, {"format_version", 1}, {"kind", "tree_ensemble"},
      {"estimator", "DecisionTreeClassifier"}, {"task", "classification"}, {"n_features", 1},
      {"classes", {0, 1}}, {"input_ranges", {{0, kDepth}}},
      {"params", {{"trees", {{{"children_left", left}, {"children_right", right},
                              {"feature", feature}, {"threshold", threshold},
                              {"value", value}}}}}}};
  const std::string text = document.dump();
  EXPECT_EQ(mcuport::load_model(text).info.n_features, 1);
  for (const auto numeric : {mcuport::Numeric::Float, mcuport::Numeric::Fixed}) {
    for (const auto layout : {mcuport::TreeLayout::Fast, mcuport::TreeLayout::Compact}) {
      mcuport::PortOptions options;
      options.numeric = numeric;
      options.layout = layout;
      EXPECT_FALSE(mcuport::port_model(text, options).header.empty());
    }
  }
}

// Every document has an expected error and every expected error a document; the issue asks for
// at least 60.
TEST(HostileCorpus, FilesAndManifestAgree) {
  std::set<std::string> listed;
  for (const HostileCase& c : expected_cases()) listed.insert(c.name + ".json");
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(kCorpusDir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() == ".json" && file != "expected.json") files.insert(file);
  }
  EXPECT_EQ(files, listed);
  EXPECT_GE(files.size(), 60u);
}

}  // namespace

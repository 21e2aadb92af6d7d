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

namespace {

namespace fs = std::filesystem;

const fs::path kCorpusDir = fs::path(MCUPORT_SOURCE_DIR) / "tests" / "hostile";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

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

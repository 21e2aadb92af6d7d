// Golden tests: every tests/golden/<model>.json, ported with numeric float and fixed (a model
// named *_compact with the compact tree layout), must give
// tests/golden/<model>.float.h and <model>.fixed.h byte for byte, and ported for each target of
// kTargets either tests/golden/<model>.<target>.<numeric>.h byte for byte or, where there is none,
// the host's header with only its "Target:" line changed. The headers are written only by
// scripts/update-golden (with the same options as here) and reviewed as diffs.
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcuport/port.hpp"
#include "test_files.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(MCUPORT_SOURCE_DIR) / "tests" / "golden";
const char* const kNumericModes[] = {"float", "fixed"};
// The targets with a toolchain here (scripts/update-golden names the same).
const char* const kTargets[] = {"cortex-m0", "cortex-m4f", "avr-atmega328p", "rv32imc"};

// The model name scripts/update-golden passes: the stem, bytes outside [A-Za-z0-9_] as '_'.
std::string name_from_stem(const std::string& stem) {
  std::string name = stem;
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!keep) c = '_';
  }
  return name;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start) + "  <no newline at end>");
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Where `actual` first departs from `expected`, for a reviewer.
std::string describe_mismatch(const fs::path& header, const std::string& expected,
                              const std::string& actual) {
  const std::vector<std::string> want = split_lines(expected);
  const std::vector<std::string> got = split_lines(actual);
  std::size_t line = 0;
  while (line < want.size() && line < got.size() && want[line] == got[line]) ++line;
  std::ostringstream out;
  out << "the generated header differs from " << header.string() << "\n"
      << "first difference at line " << line + 1 << " (golden has " << want.size()
      << " lines, generated " << got.size() << ")\n"
      << "  golden:    " << (line < want.size() ? want[line] : "<end of file>") << "\n"
      << "  generated: " << (line < got.size() ? got[line] : "<end of file>") << "\n"
      << "If the change is intended, run scripts/update-golden and review `git diff "
         "tests/golden` before committing.";
  return out.str();
}

// A model whose file name ends in "_compact" is ported with the compact tree layout (the others
// with the target's default), as scripts/update-golden does.
bool is_compact_stem(const std::string& stem) {
  const std::string suffix = "_compact";
  return stem.size() > suffix.size() &&
         stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct GoldenCase {
  std::string stem;
  std::string numeric;

  friend void PrintTo(const GoldenCase& golden, std::ostream* out) {
    *out << golden.stem << ".json, numeric " << golden.numeric;
  }
};

// Every model in tests/golden, in each numeric mode; sorted, so the test names are stable.
std::vector<GoldenCase> golden_cases() {
  std::vector<std::string> stems;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kGoldenDir, error)) {
    if (entry.path().extension() == ".json") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  std::vector<GoldenCase> cases;
  for (const std::string& stem : stems) {
    for (const char* numeric : kNumericModes) cases.push_back({stem, numeric});
  }
  return cases;
}

class Golden : public testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, HeaderIsByteIdentical) {
  const GoldenCase& golden = GetParam();
  const fs::path model_path = kGoldenDir / (golden.stem + ".json");
  const fs::path header_path = kGoldenDir / (golden.stem + "." + golden.numeric + ".h");
  ASSERT_TRUE(fs::exists(header_path))
      << header_path.string() << " is missing: run scripts/update-golden and review the result";

  mcuport::PortOptions options;
  options.name = name_from_stem(golden.stem);
  options.numeric = mcuport::parse_numeric(golden.numeric);
  options.target = "host";
  if (is_compact_stem(golden.stem)) options.layout = mcuport::TreeLayout::Compact;
  const std::string generated = mcuport::port(read_file(model_path), options);
  const std::string expected = read_file(header_path);
  if (generated != expected) FAIL() << describe_mismatch(header_path, expected, generated);
}

INSTANTIATE_TEST_SUITE_P(Models, Golden, testing::ValuesIn(golden_cases()),
                         [](const testing::TestParamInfo<GoldenCase>& param_info) {
                           return name_from_stem(param_info.param.stem) + "_" +
                                  param_info.param.numeric;
                         });

struct TargetGoldenCase {
  GoldenCase golden;
  std::string target;

  friend void PrintTo(const TargetGoldenCase& param, std::ostream* out) {
    *out << param.golden.stem << ".json, numeric " << param.golden.numeric << ", target "
         << param.target;
  }
};

std::vector<TargetGoldenCase> target_golden_cases() {
  std::vector<TargetGoldenCase> cases;
  for (const GoldenCase& golden : golden_cases()) {
    for (const char* target : kTargets) cases.push_back({golden, target});
  }
  return cases;
}

// The host's golden header as the target's would read if nothing but its target differed: its
// one line that starts " * Numeric mode: " and ends "Target: host." ends "Target: <target>."
// instead (scripts/update-golden applies the same rule). Empty if there is not exactly one.
std::string with_target_line(const std::string& host_header, const std::string& target) {
  const std::string start = " * Numeric mode: ";
  const std::string end = "Target: host.";
  std::string out;
  int replaced = 0;
  std::size_t at = 0;
  while (at < host_header.size()) {
    std::size_t next = host_header.find('\n', at);
    next = next == std::string::npos ? host_header.size() : next + 1;
    std::string line = host_header.substr(at, next - at);
    const bool newline = !line.empty() && line.back() == '\n';
    if (newline) line.pop_back();
    if (line.compare(0, start.size(), start) == 0 && line.size() >= start.size() + end.size() &&
        line.compare(line.size() - end.size(), end.size(), end) == 0) {
      line = line.substr(0, line.size() - end.size()) + "Target: " + target + ".";
      ++replaced;
    }
    out += line + (newline ? "\n" : "");
    at = next;
  }
  return replaced == 1 ? out : "";
}

class TargetGolden : public testing::TestWithParam<TargetGoldenCase> {};

TEST_P(TargetGolden, HeaderIsItsOwnGoldenOrTheHostsWithItsTarget) {
  const TargetGoldenCase& golden = GetParam();
  const std::string& stem = golden.golden.stem;
  const std::string& numeric = golden.golden.numeric;
  const fs::path host_path = kGoldenDir / (stem + "." + numeric + ".h");
  const fs::path own_path = kGoldenDir / (stem + "." + golden.target + "." + numeric + ".h");
  ASSERT_TRUE(fs::exists(host_path)) << host_path.string() << " is missing";

  mcuport::PortOptions options;
  options.name = name_from_stem(stem);
  options.numeric = mcuport::parse_numeric(numeric);
  options.target = golden.target;
  if (is_compact_stem(stem)) options.layout = mcuport::TreeLayout::Compact;
  const std::string generated = mcuport::port(read_file(kGoldenDir / (stem + ".json")), options);
  const std::string retargeted = with_target_line(read_file(host_path), golden.target);
  ASSERT_FALSE(retargeted.empty())
      << host_path.string() << " has not one \" * Numeric mode: ... Target: host.\" line";
  if (fs::exists(own_path)) {
    // Its own header only where the target's differs beyond that line (update-golden writes no
    // other), so that a target's header that becomes the host's again is noticed.
    EXPECT_NE(retargeted, read_file(own_path))
        << own_path.string() << " is the host's header but for its target line: run "
        << "scripts/update-golden, which removes it";
    const std::string expected = read_file(own_path);
    if (generated != expected) FAIL() << describe_mismatch(own_path, expected, generated);
  } else if (generated != retargeted) {
    FAIL() << describe_mismatch(host_path, retargeted, generated)
           << "\n(There is no " << own_path.string() << ", so the target's header must be the "
           << "host's but for its target line.)";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TargetGolden, testing::ValuesIn(target_golden_cases()),
                         [](const testing::TestParamInfo<TargetGoldenCase>& param_info) {
                           std::string target = param_info.param.target;
                           for (char& c : target) {
                             if (c == '-') c = '_';
                           }
                           return name_from_stem(param_info.param.golden.stem) + "_" + target +
                                  "_" + param_info.param.golden.numeric;
                         });

TEST(GoldenDirectory, HoldsTheFixtures) {
  for (const char* stem : {"tiny_tree_classifier", "random_forest_classifier",
                           "random_forest_regressor", "decision_tree_numeric_labels"}) {
    EXPECT_TRUE(fs::exists(kGoldenDir / (std::string(stem) + ".json"))) << stem;
  }
}

// A header without its model would never be checked: scripts/update-golden removes them.
TEST(GoldenDirectory, EveryHeaderHasItsModel) {
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    if (entry.path().extension() != ".h") continue;
    const fs::path mode = entry.path().stem().extension();  // ".float" of "x.float.h"
    EXPECT_TRUE(mode == ".float" || mode == ".fixed")
        << entry.path().string() << " is not named <model>[.<target>].float.h or .fixed.h";
    fs::path stem = entry.path().stem().stem();  // "x" or "x.cortex-m0"
    if (stem.has_extension() && !fs::exists(kGoldenDir / (stem.string() + ".json"))) {
      const std::string target = stem.extension().string().substr(1);
      EXPECT_TRUE(std::find(std::begin(kTargets), std::end(kTargets), target) != std::end(kTargets))
          << entry.path().string() << " names a target the golden tests do not port for";
      stem = stem.stem();
    }
    const fs::path model = kGoldenDir / (stem.string() + ".json");
    EXPECT_TRUE(fs::exists(model)) << entry.path().string() << " has no model " << model.string()
                                   << ": run scripts/update-golden";
  }
}

// FNV-1a, 32 bits (written here apart from the emitter's).
uint32_t fnv1a32(const std::string& text) {
  uint32_t hash = 0x811c9dc5u;
  for (unsigned char c : text) hash = (hash ^ c) * 0x01000193u;
  return hash;
}

// The include guard of every golden header holds FNV-1a of the header with that value written as
// 0x00000000 and without its line that names the target, and the header ends with the #error
// that stops a build where another model of the same name is included. The host's headers of
// different models or modes have different values (a target's header without its own golden is
// the host's but for the target line: TargetGolden holds it to the same value).
TEST(IncludeGuard, HoldsTheHashOfItsHeader) {
  const std::regex define(R"(\n#define (\w+)_MCUPORT_H (0x[0-9a-f]{8})\n)");
  std::set<std::string> host_ids;
  int host_headers = 0;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    if (entry.path().extension() != ".h") continue;
    const std::string text = read_file(entry.path());
    std::smatch match;
    ASSERT_TRUE(std::regex_search(text, match, define)) << entry.path().string();
    const std::string guard = match[1].str() + "_MCUPORT_H";
    const std::string id = match[2].str();
    const std::string ending = "\n#elif (" + guard + " + 0) != " + id +
                               "\n#error \"another header of a model named ";
    EXPECT_NE(text.find(ending), std::string::npos) << entry.path().string();
    std::string hashed = text;
    for (std::size_t at = hashed.find(id); at != std::string::npos; at = hashed.find(id, at)) {
      hashed.replace(at, id.size(), "0x00000000");
    }
    const std::size_t line = hashed.find("\n * Numeric mode: ");
    ASSERT_NE(line, std::string::npos) << entry.path().string();
    hashed.erase(line + 1, hashed.find('\n', line + 1) - line);
    char expected[11];
    std::snprintf(expected, sizeof expected, "0x%08" PRIx32, fnv1a32(hashed));
    EXPECT_EQ(id, expected) << entry.path().string();
    if (!entry.path().stem().stem().has_extension()) {  // <model>.<mode>.h: the host's
      host_ids.insert(id);
      ++host_headers;
    }
  }
  EXPECT_GE(host_headers, 40);
  EXPECT_EQ(static_cast<int>(host_ids.size()), host_headers);
}

}  // namespace

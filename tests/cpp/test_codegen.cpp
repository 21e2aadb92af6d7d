// Code generation tests: model names, string and number literals, the template renderer, and
// the option checks and determinism of port().
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <limits>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "c_names.hpp"
#include "c_writer.hpp"
#include "const_storage.hpp"
#include "mcuport/error.hpp"
#include "mcuport/port.hpp"
#include "mcuport/text.hpp"
#include "test_files.hpp"

namespace {

using mcuport::codegen::check_model_name;
using mcuport::codegen::double_literal;
using mcuport::codegen::float_literal;
using mcuport::codegen::render;
using mcuport::codegen::string_literal;
using testing::AllOf;
using testing::Eq;
using testing::HasSubstr;
using testing::Property;
using testing::Throws;
using testing::ThrowsMessage;

// Matches a call that throws mcuport::Error about an option (empty path) containing `message`.
auto ThrowsOptionError(const std::string& message) {
  return AllOf(ThrowsMessage<mcuport::Error>(HasSubstr(message)),
               Throws<mcuport::Error>(Property("path", &mcuport::Error::path, Eq(""))));
}

std::string tiny_model() {
  return read_file(MCUPORT_SOURCE_DIR "/tests/golden/tiny_tree_classifier.json");
}

// --- check_model_name -----------------------------------------------------------------------

TEST(CheckModelName, AcceptsCIdentifiers) {
  for (const char* name : {"model", "m", "M", "Model2", "my_model_v2", "x_1", "iris_forest",
                           "Int", "classes", "label"}) {
    EXPECT_NO_THROW(check_model_name(name)) << name;
  }
  EXPECT_NO_THROW(check_model_name(std::string(48, 'a')));
}

TEST(CheckModelName, RejectsEmpty) {
  EXPECT_THAT([] { check_model_name(""); }, ThrowsOptionError("the model name is empty"));
}

TEST(CheckModelName, RejectsLeadingDigit) {
  EXPECT_THAT([] { check_model_name("2model"); },
              ThrowsOptionError("the model name \"2model\" does not start with a letter"));
}

TEST(CheckModelName, RejectsLeadingUnderscore) {
  EXPECT_THAT([] { check_model_name("_model"); },
              ThrowsOptionError("the model name \"_model\" does not start with a letter"));
}

TEST(CheckModelName, RejectsNonAscii) {
  // The name is shown with '?' for bytes that are not printable ASCII.
  EXPECT_THAT([] { check_model_name("mod\xc3\xa8le"); },
              ThrowsOptionError("the model name \"mod??le\" contains a character that is not a "
                                "letter, digit or underscore"));
}

TEST(CheckModelName, RejectsSpaceAndPunctuation) {
  for (const char* name : {"my model", "my-model", "model.h", "a$b", "model\n"}) {
    EXPECT_THAT([&] { check_model_name(name); },
                ThrowsOptionError("contains a character that is not a letter, digit or underscore"))
        << name;
  }
}

TEST(CheckModelName, RejectsDoubleUnderscore) {
  EXPECT_THAT([] { check_model_name("my__model"); },
              ThrowsOptionError(
                  "the model name \"my__model\" contains \"__\", reserved in C and C++"));
  EXPECT_THAT([] { check_model_name("model__"); }, ThrowsOptionError("contains \"__\""));
}

TEST(CheckModelName, RejectsATrailingUnderscore) {
  // "x_" + "_predict" would be "x__predict", reserved in C++ (and M__N_FEATURES in C).
  EXPECT_THAT([] { check_model_name("x_"); },
              ThrowsOptionError("ends in \"_\", which would make \"x__predict\""));
}

TEST(CheckModelName, RejectsTooLong) {
  EXPECT_THAT([] { check_model_name(std::string(49, 'a')); }, ThrowsOptionError("is too long"));
}

TEST(CheckModelName, RejectsKeywords) {
  for (const char* name : {"int", "static", "float", "inline", "restrict", "typeof", "bool",
                           "class", "namespace", "new", "delete", "this", "and", "nullptr",
                           "char8_t", "template", "NULL", "main"}) {
    EXPECT_THAT([&] { check_model_name(name); },
                ThrowsOptionError(std::string("the model name \"") + name +
                                  "\" is a C or C++ keyword"))
        << name;
  }
}

// The runtime every fixed-mode header shares (mcuport_fx_mul_u32, MCUPORT_FX_ROM, ...) owns the
// prefix: a model named mcuport_fx would define MCUPORT_FX_ROM beside it.
TEST(CheckModelName, RejectsTheRuntimesPrefix) {
  for (const char* name : {"mcuport", "MCUPORT", "McuPort", "mcuport_fx", "MCUPORT_SIMD32",
                           "mcuport_fan"}) {
    const bool bare = std::string(name).size() == 7;
    EXPECT_THAT([&] { check_model_name(name); },
                ThrowsOptionError(std::string("the model name \"") + name + "\" is " +
                                  (bare ? "" : "or starts with ") + "\"" +
                                  std::string(name).substr(0, 7) +
                                  "\": mcuport and names that start with mcuport_ (in any case) "
                                  "belong to the generated code's shared runtime"))
        << name;
  }
  for (const char* name : {"mcuports", "mcuportable", "my_mcuport", "mcu_port"}) {
    EXPECT_NO_THROW(check_model_name(name)) << name;
  }
}

TEST(CheckModelName, MessageStatesTheRule) {
  EXPECT_THAT([] { check_model_name("1"); },
              ThrowsOptionError("must match [A-Za-z][A-Za-z0-9_]*, be at most 48 characters"));
}

// --- string_literal -------------------------------------------------------------------------

// Decodes a literal in the form string_literal promises: quotes around printable ASCII other
// than " \ and ?, and escapes of exactly three octal digits. Anything else fails the test.
std::string decode_literal(const std::string& literal) {
  std::string bytes;
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') {
    ADD_FAILURE() << "not a quoted literal: " << literal;
    return bytes;
  }
  for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
    const char c = literal[i];
    if (c < 0x20 || c > 0x7e || c == '"' || c == '?') {
      ADD_FAILURE() << "raw byte " << static_cast<int>(static_cast<unsigned char>(c))
                    << " at offset " << i << " of " << literal;
      return bytes;
    }
    if (c != '\\') {
      bytes += c;
      continue;
    }
    int value = 0;
    for (std::size_t k = 1; k <= 3; ++k) {
      const char digit = i + k + 1 < literal.size() ? literal[i + k] : 'x';
      if (digit < '0' || digit > '7') {
        ADD_FAILURE() << "escape at offset " << i << " is not 3 octal digits: " << literal;
        return bytes;
      }
      value = value * 8 + (digit - '0');
    }
    bytes += static_cast<char>(value);
    i += 3;
  }
  return bytes;
}

TEST(StringLiteral, PrintableAsciiIsKept) {
  EXPECT_EQ(string_literal("cold"), "\"cold\"");
  EXPECT_EQ(string_literal(""), "\"\"");
  EXPECT_EQ(string_literal("a b-c_d(0)"), "\"a b-c_d(0)\"");
}

TEST(StringLiteral, EscapesQuoteBackslashAndQuestionMark) {
  EXPECT_EQ(string_literal("say \"hi\""), "\"say \\042hi\\042\"");
  EXPECT_EQ(string_literal("a\\b"), "\"a\\134b\"");
  EXPECT_EQ(string_literal("hot?"), "\"hot\\077\"");
  EXPECT_EQ(string_literal("?\?="), "\"\\077\\077=\"");  // no trigraph
}

TEST(StringLiteral, EscapesNewlineAndControlBytes) {
  EXPECT_EQ(string_literal("a\nb"), "\"a\\012b\"");
  EXPECT_EQ(string_literal("\t\r\x7f"), "\"\\011\\015\\177\"");
}

TEST(StringLiteral, CommentCloserStaysInsideTheLiteral) {
  const std::string literal = string_literal("*/ int evil; /*");
  EXPECT_EQ(literal, "\"*/ int evil; /*\"");
  EXPECT_EQ(decode_literal(literal), "*/ int evil; /*");
}

TEST(StringLiteral, NulIsAThreeDigitEscapeEvenBeforeADigit) {
  const std::string bytes("a\0" "7", 3);
  EXPECT_EQ(string_literal(bytes), "\"a\\0007\"");
  EXPECT_EQ(decode_literal(string_literal(bytes)), bytes);
}

TEST(StringLiteral, NonAsciiBytesAreOctalEscapes) {
  EXPECT_EQ(string_literal("caf\xc3\xa9"), "\"caf\\303\\251\"");
  EXPECT_EQ(string_literal("\xff"), "\"\\377\"");
}

TEST(StringLiteral, EveryByteRoundTrips) {
  std::string bytes;
  for (int c = 0; c < 256; ++c) bytes += static_cast<char>(c);
  bytes += bytes;  // each byte also follows every other, digits included
  const std::string literal = string_literal(bytes);
  for (char c : literal) {
    ASSERT_TRUE(c >= 0x20 && c <= 0x7e) << "raw byte " << static_cast<int>(c);
  }
  EXPECT_EQ(decode_literal(literal), bytes);
}

TEST(StringLiteral, RandomBytesRoundTrip) {
  std::mt19937 random(42);
  for (int i = 0; i < 500; ++i) {
    std::string bytes(random() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(random() % 256);
    EXPECT_EQ(decode_literal(string_literal(bytes)), bytes);
  }
}

// --- float_literal, double_literal --------------------------------------------------------

const std::regex kFloatLiteral(R"(-?[0-9]+(\.[0-9]*)?(e[-+][0-9]+)?f)");

void expect_float_literal_round_trips(float value) {
  const std::string literal = float_literal(value);
  ASSERT_TRUE(std::regex_match(literal, kFloatLiteral)) << literal;
  EXPECT_NE(literal.find_first_of(".e"), std::string::npos) << literal;
  const std::string digits = literal.substr(0, literal.size() - 1);
  const float back = std::strtof(digits.c_str(), nullptr);
  uint32_t value_bits = 0;
  uint32_t back_bits = 0;
  std::memcpy(&value_bits, &value, sizeof value);
  std::memcpy(&back_bits, &back, sizeof back);
  EXPECT_EQ(back_bits, value_bits) << std::setprecision(9) << value << " printed as " << literal;
}

TEST(FloatLiteral, EdgeValuesRoundTrip) {
  for (float value : {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, 100.0f, 0.5f, 0.1f, 10.5f, 1e30f, -1e-30f,
                      16777216.0f, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_EPSILON,
                      std::numeric_limits<float>::denorm_min(), 65535.0f, 1.0f / 3.0f}) {
    expect_float_literal_round_trips(value);
  }
}

TEST(FloatLiteral, RandomFloatsRoundTrip) {
  std::mt19937 random(1234);
  int checked = 0;
  while (checked < 100000) {
    const uint32_t bits = static_cast<uint32_t>(random());
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    expect_float_literal_round_trips(value);
    ++checked;
  }
}

TEST(FloatLiteral, IntegralValuesGetAFraction) {
  EXPECT_EQ(float_literal(3.0f), "3.0f");
  EXPECT_EQ(float_literal(-0.0f), "-0.0f");
  EXPECT_EQ(float_literal(0.25f), "0.25f");
  EXPECT_EQ(float_literal(0.1f), "0.100000001f");
  EXPECT_EQ(float_literal(1e30f), "1.00000002e+30f");
}

// C has no literal for an infinity or a NaN: "inf.0f" would not compile. Reaching one is a
// model too large for the numeric type (see test_fuzz_regressions.cpp), a user error.
TEST(FloatLiteral, NonFiniteValuesAreRefused) {
  const auto refused = [](auto make, const char* message) {
    EXPECT_THAT(make, ThrowsMessage<mcuport::Error>(HasSubstr(message)));
  };
  refused([] { float_literal(std::numeric_limits<float>::infinity()); },
          "the float32 constant inf, beyond the float32 range");
  refused([] { float_literal(-std::numeric_limits<float>::infinity()); }, "constant -inf");
  refused([] { float_literal(std::numeric_limits<float>::quiet_NaN()); }, "float32 constant");
  refused([] { double_literal(std::numeric_limits<double>::infinity()); },
          "the double constant inf, beyond the double range");
  // A finite double beyond float32 is named by its own value, not by the float infinity.
  refused([] { mcuport::codegen::rounded_float_literals({1.0, 1e39}, {"/params/a"}); },
          "the float32 constant 1e+39, beyond the float32 range");
  refused([] { mcuport::codegen::rounded_float_literal(-2e300, "/params/b"); },
          "the float32 constant -2e+300, beyond the float32 range");
  EXPECT_EQ(mcuport::codegen::rounded_float_literals({-3.4028234663852886e38}, {"/params/a"})[0],
            "-3.40282347e+38f");
  EXPECT_EQ(mcuport::codegen::rounded_float_literal(0.1, "/params/b"), "0.100000001f");
}

// A constant float32 cannot hold is refused at the field of the model document it comes from:
// the element itself where the table's elements are the field's, else its row or the field.
TEST(FloatLiteral, RefusalsNameTheFieldOfTheConstant) {
  using mcuport::codegen::FieldOrigin;
  using Layout = FieldOrigin::Layout;
  const auto path_of_refusal = [](const std::vector<double>& values, const FieldOrigin& origin) {
    try {
      mcuport::codegen::rounded_float_literals(values, origin);
    } catch (const mcuport::Error& error) {
      return error.path();
    }
    return std::string("(not refused)");
  };
  // Six values, the fifth (index 4) beyond float32: row 1, column 1 of a 2 x 3 table, or row
  // 0, column 2 of the 3 x 2 field transposed into it.
  const std::vector<double> big = {1, 2, 3, 4, 1e39, 6};
  EXPECT_EQ(path_of_refusal(big, {"/params/f"}), "/params/f");
  EXPECT_EQ(path_of_refusal(big, {"/params/f", Layout::Elements}), "/params/f/4");
  EXPECT_EQ(path_of_refusal(big, {"/params/f", Layout::Rows, 3}), "/params/f/1");
  EXPECT_EQ(path_of_refusal(big, {"/params/f", Layout::Matrix, 3}), "/params/f/1/1");
  EXPECT_EQ(path_of_refusal(big, {"/params/f", Layout::Transposed, 3}), "/params/f/1/1");
  EXPECT_EQ(path_of_refusal(big, {"/params/f", Layout::Transposed, 2}), "/params/f/0/2");
  // Below the normal range (it would print as 0 or a subnormal) and a NaN: the same.
  EXPECT_EQ(path_of_refusal({1, -1e-40}, {"/params/f", Layout::Matrix, 1}), "/params/f/1/0");
  EXPECT_EQ(path_of_refusal({std::nan("")}, {"/params/f", Layout::Elements}), "/params/f/0");
  // Zero, the float32 extremes and the smallest normal number are taken.
  EXPECT_EQ(path_of_refusal({0.0, -0.0, 0x1p-126, 3.4028234663852886e38}, {"/params/f"}),
            "(not refused)");
  EXPECT_THAT([] { mcuport::codegen::rounded_float_literal(1e-300, "/params/gamma"); },
              ThrowsMessage<mcuport::Error>(HasSubstr("(/params/gamma) the generated code would "
                                                      "need the float32 constant 1e-300, below")));
}

// A model of 65535 features (the limit) without preprocessing: lower() used to compose the
// identity "pipeline" as a dense 65535 x 65535 matrix, 34 GB (std::bad_alloc) for a document
// of a few hundred bytes. Per-feature prefixes are now kept as their diagonal.
TEST(Port, WidestModelsNeedNoDenseIdentity) {
  const std::string tree = R"({"format": "mcuport-model", "format_version": 1,
      "kind": "tree_ensemble", "estimator": "DecisionTreeClassifier", "task": "classification",
      "n_features": 65535, "classes": [0, 1],
      "preprocessing": [{"kind": "maxabs_scaler", "scale": [)" + [] {
    std::string scales;
    for (int f = 0; f < 65535; ++f) scales += (f ? ",2" : "2");
    return scales;
  }() + R"(]}],
      "params": {"trees": [{"children_left": [1, -1, -1], "children_right": [2, -1, -1],
                            "feature": [65534, -2, -2], "threshold": [0.5, -2, -2],
                            "value": [null, [1, 0], [0, 1]]}]}})";
  for (const auto numeric : {mcuport::Numeric::Float, mcuport::Numeric::Fixed}) {
    mcuport::PortOptions options;
    options.numeric = numeric;
    EXPECT_THAT(mcuport::port(tree, options), HasSubstr("65535"));
  }
}

TEST(DoubleLiteral, RandomDoublesRoundTrip) {
  std::mt19937_64 random(99);
  int checked = 0;
  while (checked < 100000) {
    const uint64_t bits = random();
    double value = 0;
    std::memcpy(&value, &bits, sizeof value);
    if (!std::isfinite(value)) continue;
    const std::string literal = double_literal(value);
    ASSERT_NE(literal.find_first_of(".e"), std::string::npos) << literal;
    const double back = std::strtod(literal.c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&back, &value, sizeof value), 0) << literal;
    ++checked;
  }
  EXPECT_EQ(double_literal(2.0), "2.0");
}

// --- render ---------------------------------------------------------------------------------

TEST(Render, SubstitutesEveryPlaceholder) {
  EXPECT_EQ(render("{{a}} + {{b}} = {{c}}; {{a}}", {{"a", "1"}, {"b", "2"}, {"c", "3"}}),
            "1 + 2 = 3; 1");
  EXPECT_EQ(render("no placeholders { } {x}", {}), "no placeholders { } {x}");
  EXPECT_EQ(render("{{empty}}|", {{"empty", ""}}), "|");
}

TEST(Render, SharedValuesMayGoUnused) {
  EXPECT_EQ(render("{{p}}_predict({{x}})", {{"x", "in"}}, {{"p", "iris"}, {"P", "IRIS"}}),
            "iris_predict(in)");
  EXPECT_EQ(render("plain", {}, {{"p", "iris"}}), "plain");
}

TEST(Render, ValuesComeBeforeSharedValues) {
  EXPECT_EQ(render("{{p}}", {{"p", "own"}}, {{"p", "shared"}}), "own");
}

TEST(Render, MissingKeyIsAnInternalError) {
  EXPECT_THAT([] { render("{{a}} {{missing}}", {{"a", "1"}}, {{"p", "x"}}); },
              ThrowsMessage<mcuport::InternalError>(
                  HasSubstr("template key {{missing}} has no value")));
}

TEST(Render, UnusedValueIsAnInternalError) {
  EXPECT_THAT([] { render("{{a}}", {{"a", "1"}, {"extra", "2"}}); },
              ThrowsMessage<mcuport::InternalError>(
                  HasSubstr("template value extra is never used")));
}

TEST(Render, UnclosedPlaceholderIsAnInternalError) {
  EXPECT_THROW(render("{{a", {{"a", "1"}}), mcuport::InternalError);
}

// --- port -----------------------------------------------------------------------------------

TEST(Port, SameModelAndOptionsGiveTheSameBytes) {
  const std::string model = tiny_model();
  for (const char* numeric : {"float", "fixed"}) {
    mcuport::PortOptions options;
    options.name = "tiny";
    options.numeric = mcuport::parse_numeric(numeric);
    const std::string first = mcuport::port(model, options);
    const std::string second = mcuport::port(model, options);
    EXPECT_FALSE(first.empty());
    EXPECT_EQ(first, second) << numeric;
  }
}

TEST(Port, ResultDescribesTheHeader) {
  mcuport::PortOptions options;
  options.numeric = mcuport::Numeric::Fixed;
  const mcuport::PortResult result = mcuport::port_model(tiny_model(), options);
  EXPECT_EQ(result.numeric, mcuport::Numeric::Fixed);
  EXPECT_EQ(result.task, mcuport::Task::Classification);
  EXPECT_EQ(result.n_features, 2);
  EXPECT_EQ(result.n_classes, 3u);
  EXPECT_GT(result.table_bytes, 0u);
  ASSERT_TRUE(result.input_quantization.has_value());
  EXPECT_EQ(result.input_quantization->features.size(), 2u);
  EXPECT_THAT(result.header, HasSubstr("#define MODEL_TABLE_BYTES " +
                                       std::to_string(result.table_bytes) + "\n"));
}

// A vote forest of `n_trees` complete trees of depth `depth` over 4 inputs in [0, 1], three
// classes: every split distinct enough to stay, every leaf a vote.
// `n_classes` (at least 3, so that every class has leaves); tree 0 of depth `first_depth` where
// that is given.
std::string complete_forest(int n_trees, int depth, int n_classes = 3, int first_depth = -1) {
  std::ostringstream out;
  out << R"({"format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
    "estimator": "RandomForestClassifier", "task": "classification", "n_features": 4,
    "classes": [)";
  for (int c = 0; c < n_classes; ++c) out << (c == 0 ? "" : ", ") << c;
  out << R"(], "input_ranges": [[0, 1], [0, 1], [0, 1], [0, 1]],
    "params": {"trees": [)";
  for (int t = 0; t < n_trees; ++t) {
    const int n_inner = (1 << (t == 0 && first_depth >= 0 ? first_depth : depth)) - 1;
    const int n_nodes = 2 * n_inner + 1;
    std::ostringstream left, right, feature, threshold, value;
    for (int i = 0; i < n_nodes; ++i) {
      const char* sep = i == 0 ? "" : ", ";
      const bool inner = i < n_inner;
      left << sep << (inner ? 2 * i + 1 : -1);
      right << sep << (inner ? 2 * i + 2 : -1);
      feature << sep << (inner ? (i + t) % 4 : -2);
      threshold << sep << (inner ? 0.005 + 0.01 * ((i * 7 + t) % 97) : -2.0);
      value << sep;
      if (inner) {
        value << "null";
      } else {
        value << "[";
        for (int c = 0; c < n_classes; ++c) value << (c == 0 ? "" : ", ") << ((i + t) % n_classes == c ? 1 : 0);
        value << "]";
      }
    }
    out << (t == 0 ? "" : ", ") << "{\"children_left\": [" << left.str() << "], \"children_right\": ["
        << right.str() << "], \"feature\": [" << feature.str() << "], \"threshold\": ["
        << threshold.str() << "], \"value\": [" << value.str() << "]}";
  }
  out << "]}}";
  return out.str();
}

// Whether `header` holds `text` (find() rather than HasSubstr: a failure would print headers of
// half a megabyte).
bool has(const std::string& header, const char* text) { return header.find(text) != std::string::npos; }

// Fixed mode, the fast layout, for Cortex-M4F.
mcuport::PortOptions fast_m4f_options() {
  mcuport::PortOptions options;
  options.numeric = mcuport::Numeric::Fixed;
  options.layout = mcuport::TreeLayout::Fast;
  options.target = "cortex-m4f";
  return options;
}

// Target::register_sums: Cortex-M4F's fast code adds leaves to local sums in forests cut into
// groups of 2,048 splits, but not in the small groups of a forest beyond 16,384 splits (a
// group about a tree, whose one leaf does not pay for loading and storing the sums); other
// targets keep the sums in acc[].
TEST(Port, RegisterSumsWhereTheTargetAndTheGroupsPayForThem) {
  mcuport::PortOptions options = fast_m4f_options();
  const std::string small = mcuport::port_model(complete_forest(6, 10), options).header;  // 6,138 splits
  EXPECT_TRUE(has(small, " s2 = acc[2];") && has(small, "acc[2] = s2;"));
  EXPECT_FALSE(has(small, "acc[1u] = "));
  const std::string large = mcuport::port_model(complete_forest(17, 10), options).header;  // 17,391
  EXPECT_FALSE(has(large, " s2 = acc[2];"));
  EXPECT_TRUE(has(large, "acc[1u] = "));
  // Beyond 16,384 splits a tree's leaves that vote alike jump to one block of it (compile time).
  EXPECT_TRUE(has(large, "t0_l0:\n    acc["));
  EXPECT_FALSE(has(small, "t0_l0:"));
  options.target = "cortex-m0";
  const std::string m0 = mcuport::port_model(complete_forest(6, 10), options).header;
  EXPECT_FALSE(has(m0, " s2 = acc[2];"));
  EXPECT_TRUE(has(m0, "acc[1u] = "));
}

// kOpaqueSumsMinCopies: register sums start at a zero the compiler cannot see (M_OPAQUE) where
// the first tree's leaves times the classes reach 512 (the moves a compiler would write in
// that tree's leaves); in a forest cut into groups the sums come from acc[] and are never known.
TEST(Port, RegisterSumsHideTheirZeroBehindALargeFirstTree) {
  mcuport::PortOptions options = fast_m4f_options();
  options.name = "m";
  // 256 leaves x 3 classes = 768 moves: hidden, before the first tree.
  const std::string large = mcuport::port_model(complete_forest(2, 8), options).header;
  EXPECT_TRUE(has(large, " s2 = 0u;\n") && has(large, "    M_OPAQUE(s2);\n"));
  EXPECT_LT(large.find("M_OPAQUE(s0);"), large.find("/* tree 0 */"));
  EXPECT_TRUE(has(large, "#define M_OPAQUE(v) __asm__(\"\" : \"+r\"(v))\n"));
  EXPECT_TRUE(has(large, "#define M_OPAQUE(v) ((void)0)\n"));  // compilers without GNU asm
  // 128 leaves x 3 = 384: the plain zeros; 128 x 4 = 512, the bound itself: hidden.
  const std::string small = mcuport::port_model(complete_forest(2, 7), options).header;
  EXPECT_TRUE(has(small, " s2 = 0u;\n"));
  EXPECT_FALSE(has(small, "OPAQUE"));
  EXPECT_TRUE(has(mcuport::port_model(complete_forest(2, 7, 4), options).header, "M_OPAQUE(s3);"));
  // The first tree decides, not the largest: 32 x 4 first and 256 x 4 after, plain; the other
  // way round, hidden.
  EXPECT_FALSE(has(mcuport::port_model(complete_forest(2, 8, 4, 5), options).header, "OPAQUE"));
  EXPECT_TRUE(has(mcuport::port_model(complete_forest(2, 5, 4, 8), options).header, "OPAQUE"));
  // Groups of trees (6,138 splits): the sums are loaded from acc[].
  const std::string grouped = mcuport::port_model(complete_forest(6, 10), options).header;
  EXPECT_TRUE(has(grouped, " s2 = acc[2];"));
  EXPECT_FALSE(has(grouped, "OPAQUE"));
  options.target = "cortex-m0";
  EXPECT_FALSE(has(mcuport::port_model(complete_forest(2, 8), options).header, "OPAQUE"));
}

TEST(Port, TargetDecidesTheDefaultNumericMode) {
  mcuport::PortOptions options;
  EXPECT_EQ(mcuport::port_model(tiny_model(), options).numeric, mcuport::Numeric::Float);
  options.target = "cortex-m0";
  EXPECT_EQ(mcuport::port_model(tiny_model(), options).numeric, mcuport::Numeric::Fixed);
}

TEST(Text, PrintedBoundsAreNeverBelowTheBound) {
  // Headers and messages state error bounds in 3 or 4 digits; rounded to nearest they fell up
  // to half a unit short ("0.000065" for 6.5e-05 less a little, "2.98e-08" for 2.984e-08).
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> mantissa(1.0, 10.0);
  std::uniform_int_distribution<int> exponent(-40, 40);
  for (int digits : {3, 4}) {
    for (int i = 0; i < 20000; ++i) {
      const double bound = mantissa(random) * std::pow(10.0, exponent(random));
      const std::string text = mcuport::format_bound(bound, digits);
      const double printed = std::strtod(text.c_str(), nullptr);
      ASSERT_GE(printed, bound) << text;
      ASSERT_LE(printed, bound * (1 + 2 * std::pow(10.0, 1 - digits))) << text;
    }
  }
  EXPECT_EQ(mcuport::format_bound(0, 4), "0");
}

TEST(Port, ModelStringsNeverReachTheHeaderRaw) {
  // Labels and feature names with quotes, comment closers, NUL (names only: a label with one
  // is refused), newlines and UTF-8.
  const std::string model = R"({
    "format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
    "estimator": "DecisionTreeClassifier", "task": "classification", "n_features": 1,
    "feature_names": ["x */ #include <evil.h> /*\u0000"],
    "classes": ["caf\u00e9", "ab\n\"\\?\u003f/", "*/"],
    "params": {"trees": [{"children_left": [-1], "children_right": [-1], "feature": [-2],
                          "threshold": [-2], "value": [[1, 2, 3]]}]}
  })";
  for (const char* numeric : {"float", "fixed"}) {
    mcuport::PortOptions options;
    options.numeric = mcuport::parse_numeric(numeric);
    const std::string header = mcuport::port(model, options);
    for (char c : header) {
      ASSERT_TRUE((c >= 0x20 && c <= 0x7e) || c == '\n') << "raw byte " << static_cast<int>(c);
    }
    EXPECT_THAT(header,
                HasSubstr("\"caf\\303\\251\", \"ab\\012\\042\\134\\077\\077/\", \"*/\""));
    EXPECT_THAT(header, HasSubstr("\"x */ #include <evil.h> /*\\000\""));
  }
}

// A regressor whose leaves span the float32 range: float mode prints them as finite literals,
// fixed mode finds a binary point for them (a negative one) instead of failing.
std::string extreme_regressor() {
  return R"({
    "format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
    "estimator": "RandomForestRegressor", "task": "regression", "n_features": 1,
    "params": {"trees": [
      {"children_left": [1, -1, -1], "children_right": [2, -1, -1], "feature": [0, -2, -2],
       "threshold": [0.5, -2, -2], "value": [null, 3.4028234663852886e38, -1e30]},
      {"children_left": [-1], "children_right": [-1], "feature": [-2], "threshold": [-2],
       "value": [3.4028234663852886e38]}
    ]}
  })";
}

TEST(Port, FloatRegressorWithLeavesAtTheFloat32Limit) {
  mcuport::PortOptions options;
  options.numeric = mcuport::Numeric::Float;
  // Leaves are stored divided by the tree count (2), so their sum is the mean and cannot
  // overflow float32 where the mean itself does not: as a table (compact layout) and as
  // constants in the code (fast layout).
  options.layout = mcuport::TreeLayout::Compact;
  const std::string compact = mcuport::port(extreme_regressor(), options);
  EXPECT_THAT(compact, HasSubstr("1.70141173e+38f, -5.00000008e+29f"));
  EXPECT_THAT(compact, testing::Not(HasSubstr("inf")));
  options.layout = mcuport::TreeLayout::Fast;
  const std::string fast = mcuport::port(extreme_regressor(), options);
  EXPECT_THAT(fast, HasSubstr("acc += -5.00000008e+29f;"));
  EXPECT_THAT(fast, HasSubstr("acc += 1.70141173e+38f;"));
  EXPECT_THAT(fast, testing::Not(HasSubstr("inf")));
}

TEST(Port, FixedRegressorWithLeavesAtTheFloat32Limit) {
  mcuport::PortOptions options;
  options.numeric = mcuport::Numeric::Fixed;
  const std::string header = mcuport::port(extreme_regressor(), options);
  EXPECT_THAT(header, HasSubstr("#define MODEL_OUTPUT_FRAC_BITS -97\n"));
  EXPECT_THAT(header, testing::Not(HasSubstr("inf")));
}

TEST(Port, RejectsABadName) {
  mcuport::PortOptions options;
  options.name = "my model";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("the model name \"my model\" contains a character"));
  options.name = "switch";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("is a C or C++ keyword"));
}

TEST(Port, TheMicromlgenStyleAddsItsClassAndNamesTheSymbolsAfterIt) {
  mcuport::PortOptions options;
  options.style = mcuport::Style::Micromlgen;
  const mcuport::PortResult result = mcuport::port_model(tiny_model(), options);
  EXPECT_EQ(result.name, "DecisionTree");  // micromlgen's name for a DecisionTreeClassifier
  EXPECT_THAT(result.header, HasSubstr("static inline int32_t DecisionTree_predict("));
  EXPECT_THAT(result.header, HasSubstr("#define DECISIONTREE_N_FEATURES 2\n"));
  EXPECT_THAT(result.header, HasSubstr("namespace Eloquent {\nnamespace ML {\nnamespace Port {\n\n"
                                       "class DecisionTree {\npublic:\n"));
  // The class is C++ only, inside the include guard, after the C API.
  const std::size_t cpp = result.header.find("#ifdef __cplusplus\n/* micromlgen's interface");
  ASSERT_NE(cpp, std::string::npos);
  EXPECT_LT(result.header.find("DecisionTree_label(int32_t index)"), cpp);
  EXPECT_LT(cpp, result.header.find("#endif /* DECISIONTREE_MCUPORT_H */"));
  options.classname = "Weather";
  EXPECT_THAT(mcuport::port(tiny_model(), options), HasSubstr("class Weather {"));
  // The C style is unchanged by the option's existence.
  EXPECT_EQ(mcuport::port(tiny_model(), mcuport::PortOptions()).find("Eloquent"), std::string::npos);
}

TEST(Port, TheMicromlgenStyleOptionsAreChecked) {
  mcuport::PortOptions options;
  options.classname = "Weather";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("a class name applies to the micromlgen style"));
  options.style = mcuport::Style::Micromlgen;
  options.classname = "double";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("the class name \"double\" is a C or C++ keyword"));
  for (const char* member : {"predict", "predictLabel", "idxToLabel", "transform"}) {
    options.classname = member;
    EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
                ThrowsOptionError(std::string("the class name \"") + member +
                                  "\" is the name of one of the class's members"));
  }
  options.classname = "";
  options.name = "weather";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("give the class name (classname), not a model name"));
  EXPECT_THAT([] { mcuport::parse_style("C++"); },
              ThrowsOptionError("unknown style \"C++\" (expected \"c\" or \"micromlgen\")"));
}

TEST(Port, RejectsAnUnknownNumericMode) {
  for (const char* mode : {"double", "Float", "", "fixed "}) {
    EXPECT_THAT([&] { mcuport::parse_numeric(mode); },
                ThrowsOptionError(std::string("unknown numeric mode \"") + mode +
                                  "\" (expected \"float\" or \"fixed\")"));
  }
  // Bytes outside printable ASCII are shown escaped, as in every message (text.hpp).
  EXPECT_THAT([] { mcuport::parse_numeric(std::string("fi\x01x\xc3\xa9" "d")); },
              ThrowsOptionError("unknown numeric mode \"fi\\x01x\\xc3\\xa9d\""));
  EXPECT_EQ(mcuport::parse_numeric("float"), mcuport::Numeric::Float);
  EXPECT_EQ(mcuport::parse_numeric("fixed"), mcuport::Numeric::Fixed);
}

TEST(Port, ProbaBitsAreEightOrSixteen) {
  for (const char* bits : {"12", "", "8 ", "0x8", "16.0"}) {
    EXPECT_THAT([&] { mcuport::parse_proba_bits(bits); },
                ThrowsOptionError(std::string("unknown proba_bits \"") + bits +
                                  "\" (expected 8 or 16)"));
  }
  EXPECT_EQ(mcuport::parse_proba_bits("8"), 8u);
  EXPECT_EQ(mcuport::parse_proba_bits("16"), 16u);
  mcuport::PortOptions options;
  options.proba_bits = 12;
  EXPECT_THAT([&] { mcuport::check_options(options); },
              ThrowsOptionError("proba_bits must be 8 or 16, got 12"));
}

TEST(Port, EightBitLeafProbabilitiesInFixedModeOnly) {
  // A decision tree with probability leaves: 8-bit codes, 255 = 1.0, in a uint8_t table.
  mcuport::PortOptions options;
  options.numeric = mcuport::Numeric::Fixed;
  const mcuport::PortResult wide = mcuport::port_model(tiny_model(), options);
  options.proba_bits = 8;
  const mcuport::PortResult narrow = mcuport::port_model(tiny_model(), options);
  EXPECT_EQ(wide.proba_bits, 16u);
  EXPECT_EQ(narrow.proba_bits, 8u);
  EXPECT_THAT(narrow.header, HasSubstr("#define MODEL_PROBA_ONE 255 "));
  EXPECT_THAT(narrow.header, HasSubstr("static const uint8_t model_leaf_proba[3][3]"));
  EXPECT_LT(narrow.table_bytes, wide.table_bytes);
  options.numeric = mcuport::Numeric::Float;
  EXPECT_THAT([&] { mcuport::port_model(tiny_model(), options); },
              ThrowsOptionError("proba_bits applies to fixed mode"));
}

TEST(Port, RejectsAnUnknownTargetListingTheKnownOnes) {
  mcuport::PortOptions options;
  options.target = "esp8266";
  EXPECT_THAT([&] { mcuport::port(tiny_model(), options); },
              ThrowsOptionError("unknown target \"esp8266\" (known targets: host, cortex-m0, "
                                "cortex-m0plus (also cortex-m0+), cortex-m4f (also cortex-m4), "
                                "cortex-m7, avr-atmega328p (also atmega328p, arduino-uno), "
                                "rv32imc (also riscv32), esp32)"));
}

TEST(Port, TargetAliasesFindTheSameDescription) {
  EXPECT_EQ(&mcuport::find_target("cortex-m4"), &mcuport::find_target("cortex-m4f"));
  EXPECT_EQ(&mcuport::find_target("arduino-uno"), &mcuport::find_target("avr-atmega328p"));
  EXPECT_EQ(mcuport::find_target("atmega328p").const_storage, mcuport::ConstStorage::Progmem);
  EXPECT_EQ(mcuport::find_target("atmega328p").int_bits, 16);
  for (const mcuport::Target& target : mcuport::known_targets()) {
    EXPECT_FALSE(target.arch.empty()) << target.name;
    EXPECT_FALSE(target.cflags.empty()) << target.name;
    // Every target but the host names its capacities and clock (the report needs them), and
    // every one with an emulator names the Debian packages to install.
    if (target.arch != "host") {
      EXPECT_GT(target.clock_hz, 0u) << target.name;
      EXPECT_GT(target.flash_bytes, 0u) << target.name;
      EXPECT_GT(target.ram_bytes, 0u) << target.name;
    }
    if (!target.emulator.empty()) {
      EXPECT_FALSE(target.toolchain_package.empty()) << target.name;
      EXPECT_FALSE(target.emulator_package.empty()) << target.name;
    }
  }
}

TEST(Port, OptionsAreCheckedBeforeTheModel) {
  mcuport::PortOptions options;
  options.name = "";
  EXPECT_THAT([&] { mcuport::port("not json", options); },
              ThrowsOptionError("the model name is empty"));
}

TEST(Port, ModelErrorsPassThrough) {
  EXPECT_THAT([] { mcuport::port("{}", mcuport::PortOptions{}); },
              ThrowsMessage<mcuport::Error>(HasSubstr("(/) missing required key \"format\"")));
}

}  // namespace

// ---- where constant tables live (codegen/src/const_storage.cpp) ----

namespace {

mcuport::codegen::TableWriter storage_tables() {
  mcuport::codegen::TableWriter tables;
  tables.add("uint8_t", 1, "m_feature", {"0", "1"}, "features");
  tables.add("int16_t", 2, "m_threshold", {"-3", "4"}, "thresholds");
  tables.add_2d("int64_t", 8, "m_weight", 2, 2, {"1", "2", "3", "4"}, "weights");
  tables.add_strings("m_labels", {"\"a\"", "\"b\""}, "labels");
  return tables;
}

}  // namespace

TEST(ConstStorage, RamTargetsKeepTheCodeAsWritten) {
  const auto tables = storage_tables();
  const std::string code = "y = m_threshold[m_feature[i]];\n";
  EXPECT_EQ(mcuport::codegen::place_table_reads(code, tables.tables(),
                                                mcuport::ConstStorage::Ram, "m", "M"),
            code);
  EXPECT_EQ(tables.text(mcuport::ConstStorage::Ram, "M").find("_ROM"), std::string::npos);
}

TEST(ConstStorage, ProgmemReadsEveryElementFromFlashNestedIndicesIncluded) {
  const auto tables = storage_tables();
  const std::string code =
      "/* m_threshold[i] in a comment stays */\n"
      "y = x[m_feature[i]] <= m_threshold[i] ? m_weight[k][m_feature[j]] : 0;\n"
      "s = m_labels[c]; t = m_feature_count; u = \"m_feature[\";\n";
  EXPECT_EQ(mcuport::codegen::place_table_reads(code, tables.tables(),
                                                mcuport::ConstStorage::Progmem, "m", "M"),
            "/* m_threshold[i] in a comment stays */\n"
            "y = x[M_ROM_U8(&m_feature[i])] <= M_ROM_I16(&m_threshold[i]) ? "
            "m_rom_int64(&m_weight[k][M_ROM_U8(&m_feature[j])]) : 0;\n"
            "s = M_ROM_PTR(&m_labels[c]); t = m_feature_count; u = \"m_feature[\";\n");
  const std::string text = tables.text(mcuport::ConstStorage::Progmem, "M");
  EXPECT_NE(text.find("static const int16_t m_threshold[2] M_ROM = {"), std::string::npos);
  EXPECT_NE(text.find("static const char m_labels_1[] M_ROM = \"b\";"), std::string::npos);
  EXPECT_NE(text.find("static const char *const m_labels[2] M_ROM = {\n    m_labels_0, m_labels_1"),
            std::string::npos);
}

TEST(ConstStorage, ProgmemDefinesOnlyTheWideReadHelpersTheCodeUses) {
  const std::string support = mcuport::codegen::const_storage_support(
      "a = m_rom_int64(&m_weight[0][0]);", mcuport::ConstStorage::Progmem, "m", "M");
  EXPECT_NE(support.find("#ifdef __AVR__\n#include <avr/pgmspace.h>\n#define M_ROM PROGMEM"),
            std::string::npos);
  EXPECT_NE(support.find("#define M_ROM_I16(address) (*(address))"), std::string::npos);
  EXPECT_NE(support.find("static inline int64_t m_rom_int64(const int64_t *address)"),
            std::string::npos);
  EXPECT_EQ(support.find("m_rom_double"), std::string::npos);
  EXPECT_EQ(mcuport::codegen::const_storage_support("", mcuport::ConstStorage::Ram, "m", "M"), "");
}

TEST(ConstStorage, APointerIntoATableIsAnInternalErrorNotAWrongRead) {
  const auto tables = storage_tables();
  for (const char* code : {"f(m_weight[k]);", "p = &m_feature[0];", "q = m_threshold;"}) {
    EXPECT_THROW(mcuport::codegen::place_table_reads(code, tables.tables(),
                                                     mcuport::ConstStorage::Progmem, "m", "M"),
                 mcuport::InternalError)
        << code;
  }
}

// Loader tests: one test per user error, each checking the message and the JSON path it names.
// Every failing document is a valid base document with exactly one thing changed, so a test
// fails for the reason it names and for no other.
#include <cfloat>
#include <cmath>
#include <ostream>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcuport/error.hpp"
#include "mcuport/ir.hpp"
#include "mcuport/load.hpp"
#include "mcuport/save.hpp"

namespace {

using nlohmann::json;
using testing::ElementsAre;
using testing::Eq;
using testing::HasSubstr;
using testing::Property;
using testing::Throws;
using testing::ThrowsMessage;

// A one-tree classifier: node 0 splits feature 0, node 2 splits feature 1; leaves 1, 3 and 4.
json classifier() {
  return json::parse(R"({
    "format": "mcuport-model",
    "format_version": 1,
    "kind": "tree_ensemble",
    "estimator": "DecisionTreeClassifier",
    "task": "classification",
    "n_features": 2,
    "feature_names": ["temperature", "humidity"],
    "classes": ["cold", "warm", "hot"],
    "params": {"trees": [{
      "children_left":  [1, -1, 3, -1, -1],
      "children_right": [2, -1, 4, -1, -1],
      "feature":        [0, -2, 1, -2, -2],
      "threshold":      [10.5, -2, 0.25, -2, -2],
      "value":          [null, [5, 0, 0], null, [0, 3, 1], [0, 1, 3]]
    }]}
  })");
}

// A one-tree regressor with input ranges; one leaf value bare, one in a one-element array.
json regressor() {
  return json::parse(R"({
    "format": "mcuport-model",
    "format_version": 1,
    "producer": "hand-written test document",
    "kind": "tree_ensemble",
    "estimator": "DecisionTreeRegressor",
    "task": "regression",
    "n_features": 2,
    "input_ranges": [[0, 20], [-1, 1]],
    "params": {"trees": [{
      "children_left":  [1, -1, -1],
      "children_right": [2, -1, -1],
      "feature":        [1, -2, -2],
      "threshold":      [0.5, -2, -2],
      "value":          [null, 1.25, [-3.5]]
    }]}
  })");
}

// `document` with the value at JSON pointer `pointer` set to `value` (added if absent).
json with(json document, const std::string& pointer, json value) {
  document[json::json_pointer(pointer)] = std::move(value);
  return document;
}

// `document` without the object key at JSON pointer `pointer`.
json without(json document, const std::string& pointer) {
  const json::json_pointer where(pointer);
  document[where.parent_pointer()].erase(where.back());
  return document;
}

// The text of `document` with the value at `pointer` written as `literal`: for number
// spellings that nlohmann::json cannot hold or would print differently (1e999, NaN).
std::string with_literal(const json& document, const std::string& pointer,
                         const std::string& literal) {
  const std::string marker = "\"@@literal@@\"";
  std::string text = with(document, pointer, "@@literal@@").dump();
  const std::size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos);
  return text.replace(at, marker.size(), literal);
}

// A call of load_model on `text`, for the Throws matchers; a failure prints the document.
struct LoadCall {
  std::string text;
  void operator()() const { mcuport::load_model(text); }
  friend void PrintTo(const LoadCall& call, std::ostream* out) {
    *out << "load_model(" << (call.text.size() > 300 ? call.text.substr(0, 300) + "..." : call.text)
         << ")";
  }
};
LoadCall loading(std::string text) { return LoadCall{std::move(text)}; }
LoadCall loading(const json& document) { return loading(document.dump()); }

// Matches a call that throws mcuport::Error naming JSON pointer `path` (the empty path means
// "the document as text") with a message that contains `message`.
auto ThrowsLoadError(const std::string& path, const std::string& message) {
  return testing::AllOf(
      ThrowsMessage<mcuport::Error>(HasSubstr(message)),
      Throws<mcuport::Error>(Property("path", &mcuport::Error::path, Eq(path))));
}

const char* const kTree = "/params/trees/0";

std::string tree_path(const std::string& rest) { return kTree + rest; }

// --- Documents that load -------------------------------------------------------------------

TEST(Load, ClassifierBaseYieldsTheExpectedModel) {
  const mcuport::Model model = mcuport::load_model(classifier().dump());
  EXPECT_EQ(model.info.estimator, "DecisionTreeClassifier");
  EXPECT_EQ(model.info.task, mcuport::Task::Classification);
  EXPECT_EQ(model.info.n_features, 2);
  EXPECT_THAT(model.info.feature_names, ElementsAre("temperature", "humidity"));
  ASSERT_EQ(model.n_classes(), 3u);
  EXPECT_EQ(model.info.classes[0].text, "cold");
  EXPECT_EQ(model.info.classes[2].text, "hot");
  EXPECT_FALSE(model.info.classes[1].numeric);
  EXPECT_TRUE(model.info.input_ranges.empty());

  const auto& ensemble = std::get<mcuport::TreeEnsemble>(model.family);
  ASSERT_EQ(ensemble.trees.size(), 1u);
  const mcuport::Tree& tree = ensemble.trees[0];
  EXPECT_EQ(tree.n_nodes(), 5u);
  EXPECT_THAT(tree.left, ElementsAre(1, -1, 3, -1, -1));
  EXPECT_THAT(tree.right, ElementsAre(2, -1, 4, -1, -1));
  EXPECT_THAT(tree.feature, ElementsAre(0, -2, 1, -2, -2));
  EXPECT_THAT(tree.threshold, ElementsAre(10.5, -2, 0.25, -2, -2));
  EXPECT_EQ(tree.value_width, 3);
  // Internal nodes (null in the document) hold zeros.
  EXPECT_THAT(tree.value, ElementsAre(0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 3, 1, 0, 1, 3));
  EXPECT_TRUE(tree.is_leaf(1));
  EXPECT_FALSE(tree.is_leaf(2));
}

TEST(Load, RegressorLeafValueAsNumberAndAsOneElementArray) {
  const mcuport::Model model = mcuport::load_model(regressor().dump());
  EXPECT_EQ(model.info.task, mcuport::Task::Regression);
  EXPECT_EQ(model.n_classes(), 0u);
  ASSERT_EQ(model.info.input_ranges.size(), 2u);
  EXPECT_EQ(model.info.input_ranges[0].lo, 0);
  EXPECT_EQ(model.info.input_ranges[0].hi, 20);
  EXPECT_EQ(model.info.input_ranges[1].lo, -1);
  const mcuport::Tree& tree = std::get<mcuport::TreeEnsemble>(model.family).trees.at(0);
  EXPECT_EQ(tree.value_width, 1);
  EXPECT_THAT(tree.value, ElementsAre(0, 1.25, -3.5));
}

TEST(Load, NumericLabelsKeepTheirSpelling) {
  const mcuport::Model model =
      mcuport::load_model(with(classifier(), "/classes", {3, -1, 0.5}).dump());
  ASSERT_EQ(model.n_classes(), 3u);
  EXPECT_EQ(model.info.classes[0].text, "3");
  EXPECT_EQ(model.info.classes[1].text, "-1");
  EXPECT_EQ(model.info.classes[2].text, "0.5");
  EXPECT_TRUE(model.info.classes[0].numeric);
}

TEST(LoadErrors, NumericLabelsEqualInValueAreDuplicates) {
  // numpy's classes_ can never hold both 1 and 1.0: they are one value.
  EXPECT_THAT(loading(with(classifier(), "/classes", {1, 1.0, 2})),
              ThrowsLoadError("/classes/1", "duplicate class label"));
  EXPECT_THAT(loading(with(classifier(), "/classes", {0.0, -0.0, 2})),
              ThrowsLoadError("/classes/1", "duplicate class label"));
}

TEST(Load, LargeIntegerLabelsCompareExactly) {
  // As doubles 2^62 and 2^62 + 1 are equal; as the integers numpy holds they are two classes.
  const std::string document = with_literal(classifier(), "/classes",
                                            "[4611686018427387904, 4611686018427387905, 3]");
  const mcuport::Model model = mcuport::load_model(document);
  EXPECT_EQ(model.info.classes[1].text, "4611686018427387905");
  EXPECT_THAT(loading(with(classifier(), "/classes", {2, 2.0, 3})),
              ThrowsLoadError("/classes/1", "duplicate class label"));
}

TEST(LoadErrors, IntegerBeyondInt64DoesNotWrap) {
  // 2^64 - 1 read as int64 would be -1, which would silently make the root a leaf.
  EXPECT_THAT(loading(with_literal(classifier(), tree_path("/children_left/0"),
                                   "18446744073709551615")),
              ThrowsLoadError(tree_path("/children_left/0"), "expected an integer in [-1, 4]"));
  EXPECT_THAT(loading(with_literal(classifier(), "/n_features", "18446744073709551615")),
              ThrowsLoadError("/n_features", "expected an integer in [1, 65535]"));
  // Beyond uint64 nlohmann reads the literal as a double: still out of range, not a fraction.
  EXPECT_THAT(loading(with_literal(classifier(), tree_path("/children_left/0"),
                                   "18446744073709551616")),
              ThrowsLoadError(tree_path("/children_left/0"),
                              "expected an integer in [-1, 4], got 1.8446744073709552e+19"));
  EXPECT_THAT(loading(with_literal(classifier(), "/n_features", "-1e30")),
              ThrowsLoadError("/n_features", "expected an integer in [1, 65535], got -1e+30"));
}

TEST(LoadErrors, LabelsTheHeaderWouldWriteAlikeAreRefused) {
  // Two classes to scikit-learn, one C string "1" in the header.
  EXPECT_THAT(loading(with(classifier(), "/classes", {"1", 1, 2})),
              ThrowsLoadError("/classes/1", "is written in C as another class's label is"));
  EXPECT_THAT(loading(with(classifier(), "/classes", {0, 2.5, "2.5"})),
              ThrowsLoadError("/classes/2", "is written in C as another class's label is"));
  EXPECT_NO_THROW(mcuport::load_model(with(classifier(), "/classes", {"one", 1, 2}).dump()));
}

TEST(LoadErrors, LabelWithANulCharacterIsRefused) {
  EXPECT_THAT(loading(with(classifier(), "/classes", {std::string("a\0b", 3), "c", "d"})),
              ThrowsLoadError("/classes/0", "a class label cannot contain a NUL character"));
}

TEST(Load, InternalNodeMayCarryAWellFormedValue) {
  EXPECT_NO_THROW(mcuport::load_model(
      with(classifier(), tree_path("/value/0"), {5, 4, 4}).dump()));
}

TEST(Load, LeafFeatureAndThresholdAreIgnored) {
  json document = with(classifier(), tree_path("/feature/1"), 1);
  document = with(document, tree_path("/threshold/1"), 1e300);
  EXPECT_NO_THROW(mcuport::load_model(document.dump()));
}

TEST(Load, ThresholdAtFloatMaxIsAccepted) {
  EXPECT_NO_THROW(mcuport::load_model(
      with(classifier(), tree_path("/threshold/0"), -static_cast<double>(FLT_MAX)).dump()));
}

TEST(Load, RandomForestMayHaveSeveralTrees) {
  json document = with(classifier(), "/estimator", "RandomForestClassifier");
  document["params"]["trees"].push_back(document["params"]["trees"][0]);
  const mcuport::Model model = mcuport::load_model(document.dump());
  EXPECT_EQ(std::get<mcuport::TreeEnsemble>(model.family).trees.size(), 2u);
}

TEST(Load, BracketsInsideStringsDoNotCountAsNesting) {
  EXPECT_NO_THROW(mcuport::load_model(
      with(classifier(), "/feature_names/0", std::string(100, '[')).dump()));
}

// --- The document as a whole --------------------------------------------------------------

// A syntax error names the pointer of the place where the parser stopped: here the top-level
// object, whose closing brace is missing.
TEST(LoadErrors, MalformedJson) {
  const std::string text = classifier().dump();
  EXPECT_THAT(loading(text.substr(0, text.size() - 1)),
              ThrowsLoadError("/", "malformed model JSON: [json.exception.parse_error"));
}

TEST(LoadErrors, MalformedJsonInsideAnArrayNamesTheElement) {
  const std::string text = classifier().dump();
  const std::string cut = "\"threshold\":[10.5,";
  EXPECT_THAT(loading(text.substr(0, text.find(cut) + cut.size())),
              ThrowsLoadError(tree_path("/threshold/1"), "unexpected end of input"));
}

// A key written twice names its second occurrence, at the top level and deep inside a tree.
TEST(LoadErrors, DuplicateKeysAreRejected) {
  const std::string text = classifier().dump();
  ASSERT_EQ(text.rfind("{\"", 0), 0u);
  EXPECT_THAT(loading("{\"n_features\":2," + text.substr(1)),
              ThrowsLoadError("/n_features", "duplicate key \"n_features\""));
  const std::string threshold = "\"threshold\":[";
  const std::size_t at = text.find(threshold);
  ASSERT_NE(at, std::string::npos);
  EXPECT_THAT(loading(text.substr(0, at) + "\"threshold\":[0.5,0.5]," + text.substr(at)),
              ThrowsLoadError(tree_path("/threshold"), "duplicate key \"threshold\""));
  // The same key in two objects (every tree has its own "threshold") is not a duplicate.
  EXPECT_NO_THROW(mcuport::load_model(text));
}

// A hostile key reaches the message only escaped and cut: no control byte or NUL, no megabyte of
// key (path() keeps the raw pointer).
TEST(LoadErrors, HostileKeysAreEscapedInTheMessage) {
  const std::string key = std::string("\x1b[31mRED") + '\0' + "x/~" + std::string(100000, 'k');
  const std::string text = "{" + json(key).dump() + ":1," + json(key).dump() + ":2}";
  try {
    mcuport::load_model(text);
    FAIL() << "a duplicate key was accepted";
  } catch (const mcuport::Error& e) {
    const std::string message = e.what();
    EXPECT_THAT(message, HasSubstr("duplicate key \"\\x1b[31mRED\\x00x/~kkk"));
    EXPECT_THAT(message, HasSubstr("(/\\x1b[31mRED\\x00x~1~0kkk"));
    EXPECT_LT(message.size(), 400u);
    for (const char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
    EXPECT_EQ(e.path(), "/" + std::string("\x1b[31mRED") + '\0' + "x~1~0" +
                            std::string(100000, 'k'));
  }
}

TEST(LoadErrors, TrailingTextHasNoPointer) {
  EXPECT_THAT(loading(classifier().dump() + " {}"),
              ThrowsLoadError("", "expected end of input"));
}

TEST(LoadErrors, InvalidUtf8IsEscapedInTheMessage) {
  EXPECT_THAT(loading(with_literal(classifier(), "/classes/1", "\"w\xffrm\"")),
              ThrowsLoadError("/classes/1", "ill-formed UTF-8 byte; last read: '\"w\\xff'"));
}

TEST(LoadErrors, EmptyText) {
  EXPECT_THAT(loading(std::string()), ThrowsLoadError("", "malformed model JSON"));
}

TEST(LoadErrors, NestingDeeperThanTheLimit) {
  EXPECT_THAT(loading(std::string(65, '[') + std::string(65, ']')),
              ThrowsLoadError("",
                              "malformed model JSON: nesting deeper than 64 levels at byte 64"));
}

TEST(LoadErrors, NestingAtTheLimitReachesTheValidation) {
  EXPECT_THAT(loading(std::string(64, '[') + std::string(64, ']')),
              ThrowsLoadError("/", "expected an object, got an array of 1 element"));
}

TEST(LoadErrors, TopLevelIsAnArray) {
  EXPECT_THAT(loading(json::array({classifier()})),
              ThrowsLoadError("/", "expected an object, got an array of 1 element"));
}

TEST(LoadErrors, TopLevelIsANumber) {
  EXPECT_THAT(loading(json(42)), ThrowsLoadError("/", "expected an object, got 42"));
}

TEST(LoadErrors, UnknownTopLevelKey) {
  EXPECT_THAT(loading(with(classifier(), "/colour", "red")),
              ThrowsLoadError("/colour", "unknown key \"colour\" (allowed here: format, "
                                         "format_version, producer, kind, estimator, task"));
}

TEST(LoadErrors, UnknownKeyIsEscapedInThePath) {
  json document = classifier();
  document["a/b~c"] = 1;
  EXPECT_THAT(loading(document), ThrowsLoadError("/a~1b~0c", "unknown key \"a/b~c\""));
}

// --- A document given as a JSON value (load_document) ---------------------------------------

TEST(LoadDocument, IsTheModelItsTextIs) {
  for (const json& document : {classifier(), regressor()}) {
    EXPECT_EQ(mcuport::save_model(mcuport::load_document(document)),
              mcuport::save_model(mcuport::load_model(document.dump())));
  }
}

// A JSON value can hold what no JSON text can: NaN and infinities. They are refused where the
// text's parser would have refused the literal, with the path.
TEST(LoadDocument, NumbersThatAreNotFiniteAreRefusedWithTheirPath) {
  const auto loading_value = [](json document) {
    return [document = std::move(document)] { mcuport::load_document(document); };
  };
  EXPECT_THAT(loading_value(with(classifier(), tree_path("/threshold/2"), NAN)),
              ThrowsLoadError(tree_path("/threshold/2"), "finite"));
  EXPECT_THAT(loading_value(with(classifier(), tree_path("/value/4/1"), -INFINITY)),
              ThrowsLoadError(tree_path("/value/4/1"), "finite"));
  EXPECT_THAT(loading_value(with(regressor(), "/input_ranges/1/0", -INFINITY)),
              ThrowsLoadError("/input_ranges/1/0", "finite"));
  EXPECT_THAT(loading_value(with(classifier(), "/classes/1", NAN)),
              ThrowsLoadError("/classes/1", "finite"));
  // Where an integer is expected, the value is named as what it is (a dump would say null).
  EXPECT_THAT(loading_value(with(classifier(), tree_path("/feature/0"), NAN)),
              ThrowsLoadError(tree_path("/feature/0"), "NaN"));
  EXPECT_THAT(loading_value(with(classifier(), "/n_features", INFINITY)),
              ThrowsLoadError("/n_features", "Infinity"));
}

// --- Required keys ------------------------------------------------------------------------

class MissingRequiredKey : public testing::TestWithParam<const char*> {};

TEST_P(MissingRequiredKey, IsReportedAtTheRoot) {
  EXPECT_THAT(loading(without(classifier(), std::string("/") + GetParam())),
              ThrowsLoadError("/", std::string("missing required key \"") + GetParam() + "\""));
}

INSTANTIATE_TEST_SUITE_P(LoadErrors, MissingRequiredKey,
                         testing::Values("format", "format_version", "kind", "estimator", "task",
                                         "n_features", "params"),
                         [](const testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

// --- format, format_version, kind, estimator, task ----------------------------------------

TEST(LoadErrors, WrongFormatName) {
  EXPECT_THAT(loading(with(classifier(), "/format", "mcuport-modle")),
              ThrowsLoadError("/format", "expected \"mcuport-model\", got \"mcuport-modle\""));
}

TEST(LoadErrors, FormatNotAString) {
  EXPECT_THAT(loading(with(classifier(), "/format", 1)),
              ThrowsLoadError("/format", "expected a string, got an integer 1"));
}

class UnsupportedFormatVersion : public testing::TestWithParam<std::pair<const char*, json>> {};

TEST_P(UnsupportedFormatVersion, IsRejected) {
  const json& version = GetParam().second;
  EXPECT_THAT(loading(with(classifier(), "/format_version", version)),
              ThrowsLoadError("/format_version", "unsupported format version " + version.dump() +
                                                     " (this mcuport reads version 1)"));
}

INSTANTIATE_TEST_SUITE_P(
    LoadErrors, UnsupportedFormatVersion,
    testing::Values(std::pair<const char*, json>{"Two", 2}, std::pair<const char*, json>{"Zero", 0},
                    std::pair<const char*, json>{"String", "1"},
                    std::pair<const char*, json>{"Fraction", 1.5},
                    std::pair<const char*, json>{"OnePointZero", 1.0},
                    std::pair<const char*, json>{"Null", nullptr}),
    [](const auto& param_info) { return std::string(param_info.param.first); });

TEST(LoadErrors, UnknownKind) {
  EXPECT_THAT(loading(with(classifier(), "/kind", "neural_network")),
              ThrowsLoadError("/kind", "unknown model kind \"neural_network\" (known: tree_ensemble, svm, linear, gaussian_nb, pca, mahalanobis)"));
}

TEST(LoadErrors, RegressorEstimatorWithTaskClassification) {
  EXPECT_THAT(loading(with(classifier(), "/estimator", "DecisionTreeRegressor")),
              ThrowsLoadError("/estimator",
                              "estimator \"DecisionTreeRegressor\" is not a classification model "
                              "of kind \"tree_ensemble\" (expected one of: DecisionTreeClassifier, "
                              "RandomForestClassifier, ExtraTreesClassifier)"));
}

TEST(LoadErrors, ClassifierEstimatorWithTaskRegression) {
  EXPECT_THAT(loading(with(regressor(), "/estimator", "RandomForestClassifier")),
              ThrowsLoadError("/estimator",
                              "estimator \"RandomForestClassifier\" is not a regression model"));
}

TEST(LoadErrors, UnknownEstimator) {
  EXPECT_THAT(loading(with(classifier(), "/estimator", "GradientBoostingClassifier")),
              ThrowsLoadError("/estimator", "estimator \"GradientBoostingClassifier\" is not"));
}

TEST(LoadErrors, UnknownTask) {
  EXPECT_THAT(loading(with(classifier(), "/task", "clustering")),
              ThrowsLoadError("/task",
                              "expected \"classification\", \"regression\", \"outlier_detection\", \"transform\" "
                              "or \"distance\", got \"clustering\""));
}

// --- n_features -----------------------------------------------------------------------------

TEST(LoadErrors, NFeaturesZero) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", 0)),
              ThrowsLoadError("/n_features", "expected an integer in [1, 65535], got 0"));
}

TEST(LoadErrors, NFeaturesNegative) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", -2)),
              ThrowsLoadError("/n_features", "expected an integer in [1, 65535], got -2"));
}

TEST(LoadErrors, NFeaturesTooLarge) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", 65536)),
              ThrowsLoadError("/n_features", "expected an integer in [1, 65535], got 65536"));
}

TEST(LoadErrors, NFeaturesBeyondInt64) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", 18446744073709551615ull)),
              ThrowsLoadError("/n_features",
                              "expected an integer in [1, 65535], got 18446744073709551615"));
}

TEST(LoadErrors, NFeaturesNotAnInteger) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", 2.5)),
              ThrowsLoadError("/n_features", "expected an integer, got a number 2.5"));
}

TEST(LoadErrors, NFeaturesIntegralButWrittenAsFraction) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", 2.0)),
              ThrowsLoadError("/n_features", "expected an integer, got a number 2.0"));
}

TEST(LoadErrors, NFeaturesAString) {
  EXPECT_THAT(loading(with(classifier(), "/n_features", "2")),
              ThrowsLoadError("/n_features", "expected an integer, got a string \"2\""));
}

// --- feature_names --------------------------------------------------------------------------

TEST(LoadErrors, FeatureNamesWrongLength) {
  EXPECT_THAT(loading(with(classifier(), "/feature_names", {"a", "b", "c"})),
              ThrowsLoadError("/feature_names", "expected an array of 2 elements, got 3"));
}

TEST(LoadErrors, FeatureNamesNotAnArray) {
  EXPECT_THAT(loading(with(classifier(), "/feature_names", "temperature")),
              ThrowsLoadError("/feature_names", "expected an array, got \"temperature\""));
}

TEST(LoadErrors, FeatureNameNotAString) {
  EXPECT_THAT(loading(with(classifier(), "/feature_names/1", 7)),
              ThrowsLoadError("/feature_names/1", "expected a string, got an integer 7"));
}

TEST(LoadErrors, FeatureNameTooLong) {
  EXPECT_THAT(
      loading(with(classifier(), "/feature_names/1", std::string(257, 'h'))),
      ThrowsLoadError("/feature_names/1", "string of 257 bytes is longer than the limit of 256"));
}

TEST(Load, FeatureNameAtTheLengthLimit) {
  EXPECT_NO_THROW(mcuport::load_model(
      with(classifier(), "/feature_names/1", std::string(256, 'h')).dump()));
}

// --- classes --------------------------------------------------------------------------------

TEST(LoadErrors, ClassesMissingForAClassifier) {
  EXPECT_THAT(loading(without(classifier(), "/classes")),
              ThrowsLoadError("/",
                              "missing required key \"classes\" (a classifier needs its labels)"));
}

TEST(LoadErrors, ClassesPresentForARegressor) {
  EXPECT_THAT(loading(with(regressor(), "/classes", {"a", "b"})),
              ThrowsLoadError("/classes", "a regressor has no classes; remove this key"));
}

TEST(LoadErrors, ClassesEmpty) {
  EXPECT_THAT(loading(with(classifier(), "/classes", json::array())),
              ThrowsLoadError("/classes", "expected an array of 1 to 1024 elements, got 0"));
}

TEST(LoadErrors, ClassesMoreThanTheLimit) {
  json labels = json::array();
  for (int i = 0; i < 1025; ++i) labels.push_back(i);
  EXPECT_THAT(loading(with(classifier(), "/classes", labels)),
              ThrowsLoadError("/classes", "expected an array of 1 to 1024 elements, got 1025"));
}

TEST(LoadErrors, DuplicateStringLabels) {
  EXPECT_THAT(loading(with(classifier(), "/classes", {"cold", "warm", "cold"})),
              ThrowsLoadError("/classes/2", "duplicate class label \"cold\""));
}

TEST(LoadErrors, DuplicateNumberLabels) {
  EXPECT_THAT(loading(with(classifier(), "/classes", {10, -4, 10})),
              ThrowsLoadError("/classes/2", "duplicate class label 10"));
}

TEST(LoadErrors, LabelABoolean) {
  EXPECT_THAT(loading(with(classifier(), "/classes/1", true)),
              ThrowsLoadError("/classes/1",
                              "a class label must be a string or a number, got a boolean"));
}

TEST(LoadErrors, LabelNull) {
  EXPECT_THAT(loading(with(classifier(), "/classes/1", nullptr)),
              ThrowsLoadError("/classes/1",
                              "a class label must be a string or a number, got null"));
}

TEST(LoadErrors, LabelAnArray) {
  EXPECT_THAT(loading(with(classifier(), "/classes/1", {1})),
              ThrowsLoadError("/classes/1",
                              "a class label must be a string or a number, got an array"));
}

TEST(LoadErrors, LabelTooLong) {
  EXPECT_THAT(loading(with(classifier(), "/classes/0", std::string(300, 'c'))),
              ThrowsLoadError("/classes/0", "string of 300 bytes is longer than the limit of 256"));
}

// --- input_ranges ---------------------------------------------------------------------------

TEST(LoadErrors, InputRangesWrongLength) {
  EXPECT_THAT(loading(with(regressor(), "/input_ranges", {{0, 1}})),
              ThrowsLoadError("/input_ranges", "expected an array of 2 elements, got 1"));
}

TEST(LoadErrors, InputRangeNotAPair) {
  EXPECT_THAT(loading(with(regressor(), "/input_ranges/1", {-1, 0, 1})),
              ThrowsLoadError("/input_ranges/1", "expected an array of 2 elements, got 3"));
}

TEST(LoadErrors, InputRangeLoAboveHi) {
  EXPECT_THAT(loading(with(regressor(), "/input_ranges/1", {1, -1})),
              ThrowsLoadError("/input_ranges/1", "input range must satisfy lo <= hi, got [1,-1]"));
}

TEST(LoadErrors, InputRangeBeyondFloat32) {
  // Inputs are float32 in scikit-learn: a wider range cannot be needed, and would make the
  // quantization scale overflow.
  EXPECT_THAT(loading(with(regressor(), "/input_ranges/1", {-1e308, 1e308})),
              ThrowsLoadError("/input_ranges/1", "reaches beyond the float32 range"));
}

TEST(Load, InputRangeWithLoEqualToHi) {
  EXPECT_NO_THROW(mcuport::load_model(with(regressor(), "/input_ranges/1", {0.5, 0.5}).dump()));
}

TEST(LoadErrors, InputRangeBoundNull) {
  // What most JSON writers (nlohmann::json among them) make of an infinity.
  EXPECT_THAT(loading(with(regressor(), "/input_ranges/0/1", nullptr)),
              ThrowsLoadError("/input_ranges/0/1", "expected a number, got null"));
}

TEST(LoadErrors, InputRangeBoundOverflowsDouble) {
  EXPECT_THAT(loading(with_literal(regressor(), "/input_ranges/0/1", "1e999")),
              ThrowsLoadError("/input_ranges/0/1", "number 1e999 is beyond the range of a double"));
}

TEST(LoadErrors, InputRangeBoundNaN) {
  EXPECT_THAT(loading(with_literal(regressor(), "/input_ranges/0/0", "NaN")),
              ThrowsLoadError("/input_ranges/0/0", "JSON has no NaN or Infinity"));
}

// --- params and trees -----------------------------------------------------------------------

// classifier() with "leaf_proba": "value" and its leaf weights as the fractions that
// scikit-learn 1.4 and later store.
json value_classifier() {
  return with(with(classifier(), "/params/leaf_proba", "value"), "/params/trees/0/value",
              json::parse("[null, [1, 0, 0], null, [0, 0.75, 0.25], [0, 0.25, 0.75]]"));
}

TEST(LoadErrors, LeafProbaMode) {
  EXPECT_THAT(loading(with(classifier(), "/params/leaf_proba", "sum")),
              ThrowsLoadError("/params/leaf_proba", "expected \"normalize\" or \"value\""));
  EXPECT_THAT(loading(with(regressor(), "/params/leaf_proba", "value")),
              ThrowsLoadError("/params/leaf_proba", "a regressor has no leaf probabilities"));
  // With "value" the weights are the probabilities themselves (fractions): above 1 is no
  // probability, and fixed mode's codes (fractions of PROBA_ONE) could not hold it.
  EXPECT_NO_THROW(mcuport::load_model(value_classifier().dump()));
  EXPECT_THAT(loading(with(value_classifier(), "/params/trees/0/value/3/1", 3)),
              ThrowsLoadError("/params/trees/0/value/3/1",
                              "with \"leaf_proba\": \"value\" the weights are probabilities and "
                              "must be <= 1, got 3"));
  // Counts stay valid when they are normalized.
  EXPECT_NO_THROW(mcuport::load_model(with(classifier(), "/params/trees/0/value/3/1", 3).dump()));
}

TEST(Load, LeafProbaModeDefaultsToNormalize) {
  EXPECT_TRUE(std::get<mcuport::TreeEnsemble>(mcuport::load_model(classifier().dump()).family)
                  .normalize_leaves);
  EXPECT_FALSE(std::get<mcuport::TreeEnsemble>(
                   mcuport::load_model(value_classifier().dump())
                       .family)
                   .normalize_leaves);
}

// Found reading the lowering for issue 7 (allocation before validation): a linear-kernel SVC
// of 1024 classes and 65535 features is one weight vector per pair of classes, 523776 x 65535
// doubles (274 GB), from a document of about a megabyte. Refused before anything is read.
TEST(LoadErrors, LinearKernelPairWeightsOverTheLimit) {
  json classes = json::array();
  json n_support = json::array();
  for (int c = 0; c < 1024; ++c) {
    classes.push_back(c);
    n_support.push_back(c == 0 ? 1 : 0);
  }
  const json document = {
      {"format", "mcuport-model"}, {"format_version", 1}, {"kind", "svm"},
      {"estimator", "SVC"}, {"task", "classification"}, {"n_features", 65535},
      {"classes", classes},
      {"params", {{"kernel", "linear"}, {"gamma", 1.0}, {"coef0", 0.0}, {"degree", 3},
                  {"n_support", n_support}, {"support_vectors", json::array()},
                  {"dual_coef", json::array()}, {"intercept", json::array()}}}};
  EXPECT_THAT(loading(document),
              ThrowsLoadError("/params/kernel",
                              "a linear kernel is ported as one weight vector per pair of classes: "
                              "523776 pairs x 65535 features = 34325660160 numbers, more than the "
                              "limit of 67108864"));
}

// A small document whose sizes claim a large matrix: 1024 components of 65535 inputs (the
// parameter limit), written as empty rows. The loader reserved 512 MB before finding row 0
// short; in the sanitizer build (build/asan) every test runs with ASan's
// max_allocation_size_mb=256, where that reserve fails the test.
TEST(LoadErrors, MatrixRowsCheckedBeforeReserving) {
  json variance = json::array();
  json components = json::array();
  for (int k = 0; k < 1024; ++k) {
    variance.push_back(1.0);
    components.push_back(json::array());
  }
  const json document = {
      {"format", "mcuport-model"}, {"format_version", 1}, {"kind", "pca"}, {"estimator", "PCA"},
      {"task", "transform"}, {"n_features", 65535},
      {"params", {{"mean", std::vector<double>(65535, 0.0)}, {"components", components},
                  {"explained_variance", variance}, {"whiten", false}}}};
  EXPECT_THAT(loading(document),
              ThrowsLoadError("/params/components/0", "expected an array of 65535 elements, got 0"));
}

TEST(LoadErrors, ParamsUnknownKey) {
  EXPECT_THAT(loading(with(classifier(), "/params/weights", {1, 2})),
              ThrowsLoadError("/params/weights", "unknown key \"weights\" (allowed here: trees, leaf_proba)"));
}

TEST(LoadErrors, ParamsNotAnObject) {
  EXPECT_THAT(loading(with(classifier(), "/params", json::array())),
              ThrowsLoadError("/params", "expected an object, got an array of 0 elements"));
}

TEST(LoadErrors, ParamsWithoutTrees) {
  EXPECT_THAT(loading(without(classifier(), "/params/trees")),
              ThrowsLoadError("/params", "missing required key \"trees\""));
}

TEST(LoadErrors, TreesEmpty) {
  EXPECT_THAT(loading(with(classifier(), "/params/trees", json::array())),
              ThrowsLoadError("/params/trees", "expected an array of 1 to 10000 elements, got 0"));
}

TEST(LoadErrors, DecisionTreeWithTwoTrees) {
  json document = classifier();
  document["params"]["trees"].push_back(document["params"]["trees"][0]);
  EXPECT_THAT(loading(document),
              ThrowsLoadError("/params/trees",
                              "a DecisionTreeClassifier has exactly one tree, got 2"));
}

TEST(LoadErrors, TreeNotAnObject) {
  EXPECT_THAT(loading(with(classifier(), kTree, json::array())),
              ThrowsLoadError(kTree, "expected an object, got an array of 0 elements"));
}

TEST(LoadErrors, TreeUnknownKey) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/impurity"), {0.5, 0, 0.4, 0, 0})),
              ThrowsLoadError(tree_path("/impurity"),
                              "unknown key \"impurity\" (allowed here: children_left, "
                              "children_right, feature, threshold, value, "
                              "missing_go_to_left)"));
}

TEST(LoadErrors, TreeMissingGoToLeftIsZeroOrOne) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/missing_go_to_left"), {0, 2, 0, 0, 0})),
              ThrowsLoadError(tree_path("/missing_go_to_left/1"),
                              "expected an integer in [0, 1], got 2"));
}

TEST(LoadErrors, TreeMissingGoToLeftHasOneEntryPerNode) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/missing_go_to_left"), {0, 1})),
              ThrowsLoadError(tree_path("/missing_go_to_left"), "5"));
}

TEST(LoadErrors, TreeMissingValue) {
  EXPECT_THAT(loading(without(classifier(), tree_path("/value"))),
              ThrowsLoadError(kTree, "missing required key \"value\""));
}

TEST(LoadErrors, TreeWithoutNodes) {
  json document = classifier();
  for (const char* key : {"children_left", "children_right", "feature", "threshold", "value"}) {
    document["params"]["trees"][0][key] = json::array();
  }
  EXPECT_THAT(loading(document),
              ThrowsLoadError(tree_path("/children_left"),
                              "expected an array of 1 to 16777216 elements, got 0"));
}

TEST(LoadErrors, ChildrenRightLongerThanChildrenLeft) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/5"), -1)),
              ThrowsLoadError(tree_path("/children_right"),
                              "expected an array of 5 elements, got 6"));
}

TEST(LoadErrors, FeatureShorterThanChildren) {
  json document = classifier();
  document["params"]["trees"][0]["feature"].erase(4);
  EXPECT_THAT(loading(document),
              ThrowsLoadError(tree_path("/feature"), "expected an array of 5 elements, got 4"));
}

TEST(LoadErrors, ThresholdLongerThanChildren) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/threshold/5"), -2)),
              ThrowsLoadError(tree_path("/threshold"), "expected an array of 5 elements, got 6"));
}

TEST(LoadErrors, ValueShorterThanChildren) {
  json document = classifier();
  document["params"]["trees"][0]["value"].erase(4);
  EXPECT_THAT(loading(document),
              ThrowsLoadError(tree_path("/value"), "expected an array of 5 elements, got 4"));
}

TEST(LoadErrors, ChildIndexOutOfRange) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_left/2"), 5)),
              ThrowsLoadError(tree_path("/children_left/2"),
                              "expected an integer in [-1, 4], got 5"));
}

TEST(LoadErrors, ChildIndexBelowMinusOne) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/0"), -2)),
              ThrowsLoadError(tree_path("/children_right/0"),
                              "expected an integer in [-1, 4], got -2"));
}

TEST(LoadErrors, ChildIndexNotAnInteger) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/0"), 2.0)),
              ThrowsLoadError(tree_path("/children_right/0"),
                              "expected an integer, got a number 2.0"));
}

TEST(LoadErrors, ChildIsItsOwnParent) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_left/2"), 2)),
              ThrowsLoadError(tree_path("/children_left/2"),
                              "child index 2 of node 2 must be greater than the node's own index"));
}

TEST(LoadErrors, ChildIndexPointsBackwards) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/2"), 1)),
              ThrowsLoadError(tree_path("/children_right/2"),
                              "child index 1 of node 2 must be greater than the node's own index"));
}

TEST(LoadErrors, NodeSharedByTwoParents) {
  // Node 0's right child becomes node 3, which node 2 also claims (and node 2 is orphaned).
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/0"), 3)),
              ThrowsLoadError(tree_path("/children_left/2"),
                              "child index 3 is already the child of another node: nodes cannot "
                              "be shared"));
}

TEST(LoadErrors, BothChildrenAreTheSameNode) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_left/2"), 4)),
              ThrowsLoadError(tree_path("/children_right/2"),
                              "child index 4 is already the child of another node"));
}

TEST(LoadErrors, LeftChildMinusOneRightChildValid) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_left/2"), -1)),
              ThrowsLoadError(tree_path("/children_left/2"),
                              "node 2 has one child only: both children must be -1 (a leaf) or "
                              "both valid"));
}

TEST(LoadErrors, RightChildMinusOneLeftChildValid) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/children_right/0"), -1)),
              ThrowsLoadError(tree_path("/children_right/0"), "node 0 has one child only"));
}

TEST(LoadErrors, UnreachableNode) {
  // A sixth node, a well-formed leaf, that no node points to.
  json document = classifier();
  json& tree = document["params"]["trees"][0];
  tree["children_left"].push_back(-1);
  tree["children_right"].push_back(-1);
  tree["feature"].push_back(-2);
  tree["threshold"].push_back(-2);
  tree["value"].push_back({1, 1, 1});
  EXPECT_THAT(loading(document), ThrowsLoadError(tree_path("/children_left"),
                                                 "node 5 is not the child of any node"));
}

TEST(LoadErrors, SplitFeatureUndefined) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/feature/2"), -2)),
              ThrowsLoadError(tree_path("/feature/2"),
                              "split node 2 has feature index -2, out of range [0, 2)"));
}

TEST(LoadErrors, SplitFeatureNotBelowNFeatures) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/feature/0"), 2)),
              ThrowsLoadError(tree_path("/feature/0"), "expected an integer in [-2, 1], got 2"));
}

TEST(LoadErrors, FeatureBelowMinusTwo) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/feature/1"), -3)),
              ThrowsLoadError(tree_path("/feature/1"), "expected an integer in [-2, 1], got -3"));
}

TEST(LoadErrors, ThresholdOverflowsDouble) {
  EXPECT_THAT(loading(with_literal(classifier(), tree_path("/threshold/0"), "-1e999")),
              ThrowsLoadError(tree_path("/threshold/0"),
                              "number -1e999 is beyond the range of a double"));
}

TEST(LoadErrors, ThresholdNull) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/threshold/0"), nullptr)),
              ThrowsLoadError(tree_path("/threshold/0"), "expected a number, got null"));
}

TEST(LoadErrors, ThresholdBeyondFloat32) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/threshold/2"), 1e39)),
              ThrowsLoadError(tree_path("/threshold/2"),
                              "threshold 1e+39 is outside the float32 range that inputs are "
                              "compared in"));
}

TEST(LoadErrors, ThresholdBelowFloat32) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/threshold/0"), -3.5e38)),
              ThrowsLoadError(tree_path("/threshold/0"), "threshold -3.5e+38 is outside"));
}

TEST(LoadErrors, LeafValueWrongLength) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/value/3"), {0, 3})),
              ThrowsLoadError(tree_path("/value/3"), "expected an array of 3 elements, got 2"));
}

TEST(LoadErrors, LeafValueNull) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/value/1"), nullptr)),
              ThrowsLoadError(tree_path("/value/1"), "expected an array, got null"));
}

TEST(LoadErrors, InternalNodeValueMalformed) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/value/0"), {1})),
              ThrowsLoadError(tree_path("/value/0"), "expected an array of 3 elements, got 1"));
}

TEST(LoadErrors, NegativeClassWeight) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/value/4/1"), -0.5)),
              ThrowsLoadError(tree_path("/value/4/1"), "class weight must be >= 0, got -0.5"));
}

TEST(LoadErrors, ClassWeightNotANumber) {
  EXPECT_THAT(loading(with(classifier(), tree_path("/value/4/2"), "3")),
              ThrowsLoadError(tree_path("/value/4/2"), "expected a number, got a string \"3\""));
}

TEST(LoadErrors, RegressionLeafValueTwoElements) {
  EXPECT_THAT(loading(with(regressor(), tree_path("/value/2"), {1, 2})),
              ThrowsLoadError(tree_path("/value/2"), "expected an array of 1 elements, got 2"));
}

TEST(LoadErrors, RegressionLeafValueNotANumber) {
  EXPECT_THAT(loading(with(regressor(), tree_path("/value/1"), "1.25")),
              ThrowsLoadError(tree_path("/value/1"), "expected a number, got a string \"1.25\""));
}

TEST(LoadErrors, RegressionLeafValueBeyondFloat32) {
  EXPECT_THAT(loading(with(regressor(), tree_path("/value/1"), -1e39)),
              ThrowsLoadError(tree_path("/value/1"),
                              "leaf value -1e+39 is outside the float32 range"));
}

TEST(LoadErrors, ErrorInTheSecondTreeNamesIt) {
  json document = with(classifier(), "/estimator", "RandomForestClassifier");
  document["params"]["trees"].push_back(document["params"]["trees"][0]);
  document["params"]["trees"][1]["threshold"][0] = 1e39;
  EXPECT_THAT(loading(document), ThrowsLoadError("/params/trees/1/threshold/0", "threshold 1e+39"));
}

}  // namespace

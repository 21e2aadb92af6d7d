// The public C++ API: a model document in, a C header out.
//   load (core/load.hpp) -> validate -> analyse input ranges -> lower -> emit.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "mcuport/ir.hpp"
#include "mcuport/lower.hpp"
#include "mcuport/quantize.hpp"

namespace mcuport {

// mcuport's version: CMakeLists.txt's project(VERSION), the only place it is written.
extern const char* const kVersion;

// How the C of a tree model is laid out (the answers are the same; see docs/user-guide.md).
enum class TreeLayout {
  Fast,     // each tree as straight-line compares and jumps: fewest cycles, more flash
  Compact,  // packed node words walked by one loop: least flash
};

// What the header offers a caller: the C API (`<name>_predict(x)` and friends), or that C API
// plus micromlgen's C++ class (`Eloquent::ML::Port::<ClassName>` with `predict(float *x)`,
// `predictLabel`, `idxToLabel`, `transform`), so that code written for micromlgen compiles
// unchanged (docs/migrating-from-micromlgen.md).
enum class Style { C, Micromlgen };

struct PortOptions {
  // Prefixes every C symbol: model_predict, MODEL_N_FEATURES. In the micromlgen style the class
  // name prefixes them instead, and this must be left at its default.
  std::string name = "model";
  std::optional<Numeric> numeric;  // default: the target's
  std::string target = "host";
  std::optional<TreeLayout> layout;  // tree models only; default: from the target's flash budget
  // Tree models in fixed mode: bits of a leaf probability code, 8 or 16 (default 16). 8 halves
  // the probability tables at a coarser proven bound (docs/fixed-point.md).
  std::optional<uint32_t> proba_bits;
  Style style = Style::C;
  // The micromlgen style's class name; empty: micromlgen's for the estimator (RandomForest,
  // DecisionTree, SVM, OneClassSVM, GaussianNB, PCA, ...; micromlgen_classname).
  std::string classname;
};

// micromlgen's default class name for a scikit-learn estimator ("RandomForestClassifier" ->
// "RandomForest", "SVC" -> "SVM"); the estimator's own name where micromlgen has none.
std::string micromlgen_classname(const std::string& estimator);

// Parses "c" or "micromlgen"; throws mcuport::Error naming the option otherwise.
Style parse_style(const std::string& text);

// How a host program calls a generated model, beyond `<name>_predict(x)`: its return type and the
// function that fills the model's score vector (class probabilities for trees, libsvm's pairwise
// decision values for SVMs, the decision function for linear models, the joint log-likelihood
// for naive Bayes), if it has one.
struct ScoresInterface {
  std::string predict_type;  // "int32_t" or "float"; "" when there is no predict (transforms,
                             // distances)
  std::string function;      // "<name>_predict_proba", "<name>_transform", ... or "" (regressors)
  uint32_t n_scores = 0;
  std::string score_type;    // "float", "int32_t" or "int64_t"
  bool scalar = false;       // the function returns its one score: `s = f(x)`, not `f(x, out)`
};

struct PortResult {
  std::string header;
  std::string name;          // the prefix of the C symbols (the class name in micromlgen style)
  Numeric numeric = Numeric::Float;
  Task task = Task::Classification;
  int32_t n_features = 0;
  uint32_t n_classes = 0;    // 0 for regressors
  uint64_t table_bytes = 0;  // bytes of the model's constant tables
  ScoresInterface scores;
  std::optional<InputQuantization> input_quantization;  // fixed mode
  std::optional<TreeLayout> layout;  // the layout chosen (tree models only)
  uint32_t proba_bits = 0;  // tree classifiers in fixed mode: bits of a leaf probability code
};

// The lowering's choices that follow the target (port_model's; a Simulator built with them
// computes that target's header's integers): proba_bits as given, and
// LowerOptions::overlapping_words where the target loads unaligned words (Target::unaligned_words),
// LowerOptions::high_word_terms where it multiplies to a high word in one (Target::high_word_multiply).
// Throws mcuport::Error naming the known targets for an unknown one.
LowerOptions lower_options_for(const std::string& target, uint32_t proba_bits = kDefaultProbaBits);

// Throws mcuport::Error for a bad document or option; nothing is returned half-made.
PortResult port_model(const std::string& model_json, const PortOptions& options);
std::string port(const std::string& model_json, const PortOptions& options);
// As port_model, from a document that is already a JSON value (load_document, mcuport/load.hpp).
PortResult port_document(const nlohmann::json& document, const PortOptions& options);

// Throws mcuport::Error if the name or the target is not usable (port_model checks them first).
void check_options(const PortOptions& options);

// Parses "float" or "fixed"; throws mcuport::Error naming the option otherwise.
Numeric parse_numeric(const std::string& text);

// Parses "8" or "16" (proba_bits); throws mcuport::Error naming the option otherwise.
uint32_t parse_proba_bits(const std::string& text);

// Parses "fast" or "compact"; throws mcuport::Error naming the option otherwise.
TreeLayout parse_layout(const std::string& text);
const char* to_string(TreeLayout layout);

}  // namespace mcuport

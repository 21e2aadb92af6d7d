// The compiler driver, top to bottom: load and validate the model, analyse its input ranges,
// lower it, emit C. Everything that can fail on user input fails before any text is produced.
#include "mcuport/port.hpp"

#include <nlohmann/json.hpp>

#include "c_names.hpp"
#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower.hpp"
#include "mcuport/target.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

const char* const kVersion = MCUPORT_VERSION;

Numeric parse_numeric(const std::string& text) {
  if (text == "float") return Numeric::Float;
  if (text == "fixed") return Numeric::Fixed;
  throw Error("", "unknown numeric mode \"" + escape_unprintable(text) +
                      "\" (expected \"float\" or \"fixed\")");
}

TreeLayout parse_layout(const std::string& text) {
  if (text == "fast") return TreeLayout::Fast;
  if (text == "compact") return TreeLayout::Compact;
  throw Error("", "unknown tree layout \"" + escape_unprintable(text) +
                      "\" (expected \"fast\" or \"compact\")");
}

uint32_t parse_proba_bits(const std::string& text) {
  if (text == "8") return 8;
  if (text == "16") return 16;
  throw Error("", "unknown proba_bits \"" + escape_unprintable(text) + "\" (expected 8 or 16)");
}

const char* to_string(TreeLayout layout) {
  return layout == TreeLayout::Fast ? "fast" : "compact";
}

Style parse_style(const std::string& text) {
  if (text == "c") return Style::C;
  if (text == "micromlgen") return Style::Micromlgen;
  throw Error("", "unknown style \"" + escape_unprintable(text) +
                      "\" (expected \"c\" or \"micromlgen\")");
}

std::string micromlgen_classname(const std::string& estimator) {
  // micromlgen's own defaults; the other estimators keep their names.
  if (estimator == "DecisionTreeClassifier") return "DecisionTree";
  if (estimator == "RandomForestClassifier") return "RandomForest";
  if (estimator == "SVC" || estimator == "NuSVC") return "SVM";
  return estimator;
}

void check_options(const PortOptions& options) {
  codegen::check_model_name(options.name);
  if (options.style == Style::C && !options.classname.empty()) {
    throw Error("", "a class name applies to the micromlgen style (style \"micromlgen\"); the C "
                    "style's symbols take the model name");
  }
  if (options.style == Style::Micromlgen) {
    if (options.name != PortOptions().name) {
      throw Error("", "in the micromlgen style the class name prefixes the C symbols too: give "
                      "the class name (classname), not a model name");
    }
    if (!options.classname.empty()) {
      codegen::check_model_name(options.classname, "class name");
      // C++ gives no member its class's name (a function of that name would be a constructor).
      for (const char* member : {"predict", "predictLabel", "idxToLabel", "transform"}) {
        if (options.classname == member) {
          throw Error("", "the class name \"" + options.classname +
                              "\" is the name of one of the class's members (predict, "
                              "predictLabel, idxToLabel, transform); choose another");
        }
      }
    }
  }
  const Target& target = find_target(options.target);
  if (options.proba_bits && !valid_proba_bits(*options.proba_bits)) {
    throw Error("", "proba_bits must be 8 or 16, got " + std::to_string(*options.proba_bits));
  }
  // The options alone decide this one (the numeric mode is the given one or the target's).
  if (options.proba_bits && options.numeric.value_or(target.default_numeric) != Numeric::Fixed) {
    throw Error("", "proba_bits applies to fixed mode (numeric=\"fixed\"); float mode keeps "
                    "scikit-learn's float64 leaf probabilities");
  }
}

namespace {

// A model whose tables cannot fit the target is refused here, with the sizes, rather than by the
// target's linker: "section .text will not fit in region" says nothing about the model. `hint`
// is added to the message when the tables are what does not fit (a smaller option that fits).
void check_fits(const Target& target, const codegen::FamilyCode& family, const std::string& hint) {
  const codegen::TableWriter& tables = family.tables;
  const std::string advice =
      "; choose a smaller model (fewer trees, a lower max_depth, fewer support vectors or "
      "features) or a target with more flash";
  if (target.flash_bytes != 0 && family.code_bytes_at_least > 0 &&
      tables.bytes() + family.code_bytes_at_least > target.flash_bytes) {
    throw Error("", "the model's code and tables take at least " +
                        std::to_string(tables.bytes() + family.code_bytes_at_least) +
                        " bytes, more than the " + std::to_string(target.flash_bytes) +
                        " bytes of flash of " + target.name + "; " + family.code_size_advice);
  }
  if (target.flash_bytes != 0 && tables.bytes() > target.flash_bytes) {
    throw Error("", "the model's constant tables take " + std::to_string(tables.bytes()) +
                        " bytes, more than the " + std::to_string(target.flash_bytes) +
                        " bytes of flash of " + target.name + hint + advice);
  }
  for (const codegen::Table& table : tables.tables()) {
    if (target.max_object_bytes != 0 && table.bytes > target.max_object_bytes) {
      throw Error("", "the model's table " + table.name + " takes " + std::to_string(table.bytes) +
                          " bytes, more than one array can hold on " + target.name + " (" +
                          std::to_string(target.max_object_bytes) + " bytes)" + hint + advice);
    }
  }
}

codegen::FamilyCode emit_family(const codegen::EmitContext& context, const Program& program) {
  return std::visit(
      [&](const auto& family) {
        using T = std::decay_t<decltype(family)>;
        if constexpr (std::is_same_v<T, TreeProgram>) {
          return codegen::emit_trees(context, family);
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          return codegen::emit_svm(context, family);
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          return codegen::emit_linear(context, family);
        } else if constexpr (std::is_same_v<T, NaiveBayesProgram>) {
          return codegen::emit_naive_bayes(context, family);
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          return codegen::emit_pca(context, family);
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          return codegen::emit_mahalanobis(context, family);
        } else {
          static_assert(always_false<T>, "port_model: program without an emitter");
        }
      },
      program);
}

// Fixed-mode tree classifiers with probability leaves at the default 16-bit codes: the size of
// their tables with 8-bit codes, when that fits the target, as a hint for check_fits.
std::string smaller_proba_hint(const Model& model, const codegen::EmitContext& context,
                               const Program& program, const PortOptions& options) {
  const auto* trees = std::get_if<TreeProgram>(&program);
  if (trees == nullptr || options.proba_bits || context.numeric != Numeric::Fixed ||
      (trees->leaf_kind != LeafKind::Proba && trees->leaf_kind != LeafKind::ClassAndProba)) {
    return "";
  }
  LowerOptions smaller = lower_options_for(context.target.name, 8);
  const LoweredModel lowered = lower(model, context.numeric, smaller);
  const codegen::FamilyCode family = emit_family(context, lowered.program);
  const uint64_t bytes = family.tables.bytes() + family.code_bytes_at_least;
  if (context.target.flash_bytes == 0 || bytes > context.target.flash_bytes) return "";
  return " (with proba_bits=8, 8-bit leaf probabilities whose error is at most 0.5/255 of a "
         "tree's vote instead of 0.5/65280, they take " + std::to_string(family.tables.bytes()) +
         " bytes)";
}

}  // namespace

LowerOptions lower_options_for(const std::string& target, uint32_t proba_bits) {
  LowerOptions options;
  options.proba_bits = proba_bits;
  const Target& found = find_target(target);
  options.overlapping_words = found.unaligned_words;
  options.high_word_terms = found.high_word_multiply;
  return options;
}

namespace {

// load (done) -> lower -> emit: the part of a port after the document is a validated Model.
PortResult port_loaded(const Model& model, const PortOptions& options) {
  const Target& target = find_target(options.target);
  const Numeric numeric = options.numeric.value_or(target.default_numeric);

  const bool trees = std::holds_alternative<TreeEnsemble>(model.family);
  if (options.layout && !trees) {
    throw Error("", std::string("layout \"") + to_string(*options.layout) +
                        "\" applies to tree models (decision trees, random forests, extra "
                        "trees), not to " + model.info.estimator);
  }
  if (options.proba_bits && !trees) {
    throw Error("", "proba_bits applies to tree models (decision trees, random forests, extra "
                    "trees), not to " + model.info.estimator);
  }
  const LowerOptions lower_options =
      lower_options_for(target.name, options.proba_bits.value_or(kDefaultProbaBits));
  const LoweredModel lowered = lower(model, numeric, lower_options);

  PortResult result;
  result.numeric = numeric;
  result.task = model.info.task;
  result.n_features = model.info.n_features;
  result.n_classes = static_cast<uint32_t>(model.n_classes());
  result.input_quantization = lowered.quantization;

  std::string prefix = options.name;
  if (options.style == Style::Micromlgen) {
    prefix = options.classname.empty() ? micromlgen_classname(model.info.estimator)
                                       : options.classname;
  }
  const codegen::EmitContext context{model,
                                     target,
                                     numeric,
                                     prefix,
                                     codegen::to_upper_ascii(prefix),
                                     result.input_quantization ? &*result.input_quantization
                                                               : nullptr,
                                     lowered.stage ? &*lowered.stage : nullptr,
                                     options.layout};
  codegen::FamilyCode family = emit_family(context, lowered.program);
  family.functions = codegen::emit_stage(context, family) + family.functions;
  try {
    check_fits(target, family, "");
  } catch (const Error&) {
    const std::string hint = smaller_proba_hint(model, context, lowered.program, options);
    if (hint.empty()) throw;
    check_fits(target, family, hint);
    throw;
  }
  result.table_bytes = family.tables.bytes();
  result.layout = family.layout;
  if (const auto* program = std::get_if<TreeProgram>(&lowered.program)) {
    if (numeric == Numeric::Fixed && program->task == Task::Classification) {
      result.proba_bits = program->proba_bits;
    }
  }
  result.scores = family.scores;
  result.name = prefix;
  const std::string cpp_class = options.style == Style::Micromlgen
                                    ? codegen::emit_micromlgen_class(context, prefix)
                                    : std::string();
  result.header = codegen::emit_header(context, family, cpp_class);
  return result;
}

}  // namespace

PortResult port_model(const std::string& model_json, const PortOptions& options) {
  check_options(options);
  return port_loaded(load_model(model_json), options);
}

PortResult port_document(const nlohmann::json& document, const PortOptions& options) {
  check_options(options);
  return port_loaded(load_document(document), options);
}

std::string port(const std::string& model_json, const PortOptions& options) {
  return port_model(model_json, options).header;
}

}  // namespace mcuport

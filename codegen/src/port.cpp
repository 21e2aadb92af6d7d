// The compiler driver, top to bottom: load and validate the model, analyse its input ranges,
// lower it, emit C. Everything that can fail on user input fails before any text is produced.
#include "mcuport/port.hpp"

#include "c_names.hpp"
#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower.hpp"
#include "mcuport/target.hpp"

namespace mcuport {

const char* const kVersion = MCUPORT_VERSION;

Numeric parse_numeric(const std::string& text) {
  if (text == "float") return Numeric::Float;
  if (text == "fixed") return Numeric::Fixed;
  std::string shown;
  for (char c : text) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  throw Error("", "unknown numeric mode \"" + shown + "\" (expected \"float\" or \"fixed\")");
}

TreeLayout parse_layout(const std::string& text) {
  if (text == "fast") return TreeLayout::Fast;
  if (text == "compact") return TreeLayout::Compact;
  std::string shown;
  for (char c : text) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  throw Error("", "unknown tree layout \"" + shown + "\" (expected \"fast\" or \"compact\")");
}

const char* to_string(TreeLayout layout) {
  return layout == TreeLayout::Fast ? "fast" : "compact";
}

void check_options(const PortOptions& options) {
  codegen::check_model_name(options.name);
  find_target(options.target);
}

namespace {

// A model whose tables cannot fit the target is refused here, with the sizes, rather than by the
// target's linker: "section .text will not fit in region" says nothing about the model.
void check_fits(const Target& target, const codegen::FamilyCode& family) {
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
                        " bytes of flash of " + target.name + advice);
  }
  for (const codegen::Table& table : tables.tables()) {
    if (target.max_object_bytes != 0 && table.bytes > target.max_object_bytes) {
      throw Error("", "the model's table " + table.name + " takes " + std::to_string(table.bytes) +
                          " bytes, more than one array can hold on " + target.name + " (" +
                          std::to_string(target.max_object_bytes) + " bytes)" + advice);
    }
  }
}

}  // namespace

PortResult port_model(const std::string& model_json, const PortOptions& options) {
  check_options(options);
  const Target& target = find_target(options.target);
  const Numeric numeric = options.numeric.value_or(target.default_numeric);

  const Model model = load_model(model_json);
  const LoweredModel lowered = lower(model, numeric);
  if (options.layout && !std::holds_alternative<TreeProgram>(lowered.program)) {
    throw Error("", std::string("layout \"") + to_string(*options.layout) +
                        "\" applies to tree models (decision trees, random forests, extra "
                        "trees), not to " + model.info.estimator);
  }

  PortResult result;
  result.numeric = numeric;
  result.task = model.info.task;
  result.n_features = model.info.n_features;
  result.n_classes = static_cast<uint32_t>(model.n_classes());
  result.input_quantization = lowered.quantization;

  const codegen::EmitContext context{model,
                                     target,
                                     numeric,
                                     options.name,
                                     codegen::to_upper_ascii(options.name),
                                     result.input_quantization ? &*result.input_quantization
                                                               : nullptr,
                                     lowered.stage ? &*lowered.stage : nullptr,
                                     options.layout};
  codegen::FamilyCode family = std::visit(
      [&](const auto& program) {
        using T = std::decay_t<decltype(program)>;
        if constexpr (std::is_same_v<T, TreeProgram>) {
          return codegen::emit_trees(context, program);
        } else if constexpr (std::is_same_v<T, SvmProgram>) {
          return codegen::emit_svm(context, program);
        } else if constexpr (std::is_same_v<T, LinearProgram>) {
          return codegen::emit_linear(context, program);
        } else if constexpr (std::is_same_v<T, NaiveBayesProgram>) {
          return codegen::emit_naive_bayes(context, program);
        } else if constexpr (std::is_same_v<T, PcaProgram>) {
          return codegen::emit_pca(context, program);
        } else if constexpr (std::is_same_v<T, MahalanobisProgram>) {
          return codegen::emit_mahalanobis(context, program);
        } else {
          static_assert(always_false<T>, "port_model: program without an emitter");
        }
      },
      lowered.program);
  family.functions = codegen::emit_stage(context, family) + family.functions;
  check_fits(target, family);
  result.table_bytes = family.tables.bytes();
  result.layout = family.layout;
  result.scores = family.scores;
  result.header = codegen::emit_header(context, family);
  return result;
}

std::string port(const std::string& model_json, const PortOptions& options) {
  return port_model(model_json, options).header;
}

}  // namespace mcuport

// C for linear models (LinearSVC): one dot product per output, float32 in float mode, or the
// fixed-point affine map (int16 weights, proven accumulator) in fixed mode.
#include <string>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const char* kBinary = R"(/* scikit-learn's decision_function{{units}}: positive for class 1. */
static inline {{st}} {{p}}_decision_function(const {{xt}} x[]) {
    {{st}} score[1];
    {{p}}_scores(x, score);
    return score[0];
}

/* Class 1 when the decision function is positive, else class 0, as scikit-learn. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    return {{p}}_decision_function(x) > {{zero}} ? 1 : 0;
}

)";

const char* kMulti = R"(/* scikit-learn's decision_function{{units}}: one score per class (one-vs-rest). */
static inline void {{p}}_decision_function(const {{xt}} x[], {{st}} out[]) {
    {{p}}_scores(x, out);
}

/* The class with the largest score; ties go to the lowest index. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    {{st}} scores[{{P}}_N_OUTPUTS];
    {{p}}_scores(x, scores);
    return {{p}}_argmax(scores, {{P}}_N_OUTPUTS);
}

)";

}  // namespace

FamilyCode emit_linear(const EmitContext& context, const LinearProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const bool fixed = program.fixed.has_value();
  const std::size_t n_outputs = program.n_outputs;
  const std::size_t n_features = program.n_features;
  const std::string st = fixed ? "int64_t" : "float";
  code.macros += "#define " + P + "_N_CLASSES " + std::to_string(program.n_classes) + "\n";
  code.macros += "#define " + P + "_N_OUTPUTS " + std::to_string(n_outputs) + "u\n";
  std::string units;
  if (fixed) {
    code.macros += "#define " + P + "_SCORE_FRAC_BITS " + std::to_string(program.fixed->frac_bits) +
                   " /* scores are real value * 2^this */\n";
    code.functions += emit_fixed_linear(context, code, *program.fixed, "scores", "linear",
                                        "The decision function of each output.");
    units = " * 2^" + P + "_SCORE_FRAC_BITS";
    code.summary = " * Fixed point: int16 weights with the input quantization folded in, " +
                   std::string(program.fixed->wide ? "int64" : "int32") +
                   " accumulators; scores within " + format_bound(program.fixed->error_bound, 4) +
                   " of the exact decision function on the values the codes stand for.\n";
  } else {
    code.functions += emit_float_linear(
        context, code, program.coef, context.matrix_field("/params/coef", n_features),
        program.intercept,
        FieldOrigin{"/params/intercept", FieldOrigin::Layout::Elements, 0, context.composed_note()},
        "scores", "linear", "The decision function of each output (coef_, intercept_).",
        program.center);
  }
  code.summary += " * " + std::to_string(n_outputs) + " linear decision function(s): " +
                  std::to_string(n_outputs * n_features) + " multiply-accumulates per prediction.\n";
  if (!program.center.empty()) code.summary += float_linear_center_note(context, "linear");
  code.scores = {"int32_t", p + "_scores", static_cast<uint32_t>(n_outputs), st};
  const std::string xt = context.input_type();
  code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index\n";
  const TemplateValues values = {{"st", st}, {"zero", fixed ? "0" : "0.0f"}, {"units", units}};
  if (n_outputs == 1) {
    code.functions += context.render(kBinary, values);
    code.api += " *   " + st + " " + p + "_decision_function(const " + xt + " x[]);   positive: class 1\n";
  } else {
    code.functions += argmax_function(context, st);
    TemplateValues multi = values;
    multi.erase("zero");
    code.functions += context.render(kMulti, multi);
    code.api += " *   void " + p + "_decision_function(const " + xt + " x[], " + st + " out[" + P +
                "_N_OUTPUTS]);\n";
  }
  return code;
}

}  // namespace mcuport::codegen

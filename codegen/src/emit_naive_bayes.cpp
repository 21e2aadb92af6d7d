// C for Gaussian naive Bayes, float mode: per class, a constant minus a weighted sum of squared
// distances to the class means (2 multiply-adds per class and feature), then the argmax.
#include <string>

#include "emit.hpp"
#include "mcuport/error.hpp"

namespace mcuport::codegen {

namespace {

const char* kJointLogProba = R"(/* scikit-learn's predict_joint_log_proba: per class c,
 *   log(prior_c) - 0.5 sum log(2 pi var_c) - 0.5 sum (x - theta_c)^2 / var_c.
 * Softmax of these is predict_proba. */
static inline void {{p}}_predict_joint_log_proba(const float x[], float out[]) {
    uint32_t c;
    uint32_t f;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        float acc = {{p}}_bias[c];
        for (f = 0u; f < {{P}}_N_FEATURES; ++f) {
            const float d = x[f] - {{p}}_theta[c][f];
            acc -= {{p}}_weight[c][f] * d * d;
        }
        out[c] = acc;
    }
}

/* The class with the largest joint log-likelihood; ties go to the lowest index. */
static inline int32_t {{p}}_predict(const float x[]) {
    float jll[{{P}}_N_CLASSES];
    {{p}}_predict_joint_log_proba(x, jll);
    return {{p}}_argmax(jll, {{P}}_N_CLASSES);
}

)";

}  // namespace

FamilyCode emit_naive_bayes(const EmitContext& context, const NaiveBayesProgram& program) {
  MCUPORT_ASSERT(context.numeric == Numeric::Float);  // lower() refuses fixed mode so far
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  code.macros += "#define " + P + "_N_CLASSES " + std::to_string(program.n_classes) + "\n";
  code.tables.add("float", 4, p + "_bias", rounded_float_literals(program.bias),
                  "per class: log(prior) - 0.5 sum log(2 pi var)");
  code.tables.add_2d("float", 4, p + "_theta", program.n_classes, program.n_features,
                     rounded_float_literals(program.theta), "per class: the feature means");
  code.tables.add_2d("float", 4, p + "_weight", program.n_classes, program.n_features,
                     rounded_float_literals(program.weight), "per class: 0.5 / variance");
  code.summary = " * " + std::to_string(program.n_classes) + " classes x " +
                 std::to_string(program.n_features) + " features: " +
                 std::to_string(2 * program.n_classes * program.n_features) +
                 " multiply-adds per prediction.\n";
  code.functions += argmax_function(context, "float");
  code.scores = {"int32_t", p + "_predict_joint_log_proba", program.n_classes, "float"};
  code.functions += context.render(kJointLogProba);
  code.api += " *   int32_t " + p + "_predict(const float x[]);   class index\n";
  code.api += " *   void " + p + "_predict_joint_log_proba(const float x[], float out[" + P +
              "_N_CLASSES]);\n";
  return code;
}

}  // namespace mcuport::codegen

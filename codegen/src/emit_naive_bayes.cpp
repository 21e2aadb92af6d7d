// C for Gaussian naive Bayes: per class, a constant minus a weighted sum of squared distances to
// the class means (2 multiply-adds per class and feature), then the argmax. Float32 in float
// mode; in fixed mode the distances are FixedSquaredDistance and the constants int64.
#include <string>

#include "emit.hpp"
#include "mcuport/error.hpp"

namespace mcuport::codegen {

namespace {

const char* kFloatJointLogProba = R"(/* scikit-learn's predict_joint_log_proba: per class c,
 *   log(prior_c) - 0.5 sum log(2 pi var_c) - 0.5 sum (x - theta_c)^2 / var_c.
 * Softmax of these is predict_proba. */
static inline void {{p}}_predict_joint_log_proba(const float {{xin}}[], float out[]) {
{{stage}}    uint32_t c;
    uint32_t f;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        float acc = {{p}}_bias[c];
        for (f = 0u; f < {{nf}}; ++f) {
            const float d = x[f] - {{p}}_theta[c][f];
            acc -= {{p}}_weight[c][f] * d * d;
        }
        out[c] = acc;
    }
}

)";

const char* kFixedJointLogProba = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
 * constant log(prior_c) - 0.5 sum log(2 pi var_c) minus the class's weighted squared distance. */
static inline void {{p}}_predict_joint_log_proba(const int16_t {{xin}}[], int64_t out[]) {
{{stage}}    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] = {{p}}_class_bias[c] - (int64_t){{p}}_class_distance(x, c);
    }
}

)";

const char* kPredict = R"(/* The class with the largest joint log-likelihood; ties go to the lowest index. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    {{st}} jll[{{P}}_N_CLASSES];
    {{p}}_predict_joint_log_proba(x, jll);
    return {{p}}_argmax(jll, {{P}}_N_CLASSES);
}

)";

}  // namespace

FamilyCode emit_naive_bayes(const EmitContext& context, const NaiveBayesProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const bool fixed = program.distance.has_value();
  const std::string st = fixed ? "int64_t" : "float";
  code.macros += "#define " + P + "_N_CLASSES " + std::to_string(program.n_classes) + "\n";
  if (fixed) {
    const FixedSquaredDistance& distance = *program.distance;
    code.macros += "#define " + P + "_SCORE_FRAC_BITS " + std::to_string(distance.frac_bits) +
                   " /* scores are real value * 2^this */\n";
    std::vector<std::string> bias;
    for (int64_t b : program.bias_code) bias.push_back("INT64_C(" + std::to_string(b) + ")");
    code.tables.add("int64_t", 8, p + "_class_bias", bias,
                    "per class: (log(prior) - 0.5 sum log(2 pi var)) * 2^" +
                        std::to_string(distance.frac_bits));
    code.functions += emit_fixed_distance(
        context, code, distance, "class_distance", "class",
        "Half the squared Mahalanobis distance of x to the mean of class r (variances per feature).");
    code.functions += context.render(kFixedJointLogProba);
  } else {
    code.tables.add("float", 4, p + "_bias", rounded_float_literals(program.bias),
                    "per class: log(prior) - 0.5 sum log(2 pi var)");
    code.tables.add_2d("float", 4, p + "_theta", program.n_classes, program.n_features,
                       rounded_float_literals(program.theta), "per class: the feature means");
    code.tables.add_2d("float", 4, p + "_weight", program.n_classes, program.n_features,
                       rounded_float_literals(program.weight), "per class: 0.5 / variance");
    code.functions += context.render(kFloatJointLogProba);
  }
  code.summary = " * " + std::to_string(program.n_classes) + " classes x " +
                 std::to_string(program.n_features) + " features: " +
                 std::to_string(2 * program.n_classes * program.n_features) +
                 " multiply-adds per prediction.\n";
  code.functions += argmax_function(context, st);
  code.functions += context.render(kPredict, {{"st", st}});
  code.scores = {"int32_t", p + "_predict_joint_log_proba", program.n_classes, st};
  const std::string xt = context.input_type();
  code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index\n";
  code.api += " *   void " + p + "_predict_joint_log_proba(const " + xt + " x[], " + st + " out[" +
              P + "_N_CLASSES]);\n";
  return code;
}

}  // namespace mcuport::codegen

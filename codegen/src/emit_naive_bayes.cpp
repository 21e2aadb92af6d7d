// C for Gaussian naive Bayes: per class, a constant minus a weighted sum of squared distances to
// the class means (2 multiply-adds per class and feature), then the argmax. Float32 in float
// mode; in fixed mode the distances are FixedSquaredDistance (one 32-bit product per term) and
// the constants int64.
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

// Fixed mode (docs/fixed-point.md, Gaussian naive Bayes), per-term shifts: per class and feature
// one 32-bit product, one 32-bit shift and one exact square added in 64 bits. Center and root
// share one table, walked by pointer where tables are plain data and read by element where they
// live in flash (AVR). Where the only multiply is 32 x 32 -> 32, the square's two words come from
// 16-bit halves and are added into two 32-bit words by hand (the same integer; a uint64_t sum of
// partial products spilled them through the stack).
const char* kFixedJointLogProba = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
 * constant log(prior_c) - 0.5 sum log(2 pi var_c) minus the class's weighted squared distance
 * sum_f t_f^2, t_f = floor(|x_f - center_cf| * root_cf / 2^shift_cf): |x - center| < 2^{{reach_bits}} and
 * root < 2^16 make the product a 32-bit one, each t^2 is exact in 64 bits, and every sum is at
 * most {{bound}} (below 2^62) for every int16 input. */
static inline void {{p}}_predict_joint_log_proba(const int16_t {{xin}}[], int64_t out[]) {
{{stage}}{{pointers}}    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        uint32_t f;
#if MCUPORT_MUL32_ONLY
        uint32_t low = 0u;  /* the sum, as two 32-bit words */
        uint32_t high = 0u;
#else
        uint64_t sum = 0u;
#endif
        for (f = 0u; f < {{nf}}; ++f) {
            const int32_t d = (int32_t)x[f] - (int32_t){{center}};
#if MCUPORT_SIMD32
            /* |d| with the sign as a mask: two instructions on Cortex-M4 (gcc makes the
             * conditional negation three; on Cortex-M0 and AVR the mask costs more) */
            const uint32_t sign = 0u - (uint32_t)(d < 0);
            const uint32_t m = ((uint32_t)d ^ sign) - sign;
#else
            const uint32_t m = (uint32_t)(d < 0 ? -d : d);
#endif
            const uint32_t t = (m * (uint32_t)({{rt}}){{root}}) >> {{shift}};
#if MCUPORT_MUL32_ONLY
            /* No 32 x 32 -> 64 multiply instruction: with t = th 2^16 + tl, t^2's low word is
             * t * t mod 2^32 and its high word th^2 + ((th tl + (tl^2 >> 17)) >> 15) (the inner
             * sum stays below 2^32); the low word's carry is added by hand, and the sum stays
             * below 2^62, so high never wraps. */
            const uint32_t th = t >> 16;
            const uint32_t tl = t & UINT32_C(0xFFFF);
            const uint32_t square = t * t;
            low += square;
            high += th * th + ((th * tl + ((tl * tl) >> 17)) >> 15) + (low < square ? 1u : 0u);
#else
            sum += (uint64_t)t * t;
#endif
{{step}}        }
{{row_step}}#if MCUPORT_MUL32_ONLY
        out[c] = {{p}}_class_bias[c] - (int64_t)(((uint64_t)high << 32) | low);
#else
        out[c] = {{p}}_class_bias[c] - (int64_t)sum;
#endif
    }
}

)";

// Fixed mode with per-class blocks: the values are exact (no per-term shift), so the sign of
// x - center does not matter; where the classes have points of their own, one rounding shift per
// class brings the sum to the scores' point.
const char* kFixedJointLogProbaBlocks = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
 * constant log(prior_c) - 0.5 sum log(2 pi var_c) minus the class's weighted squared distance
 * sum_f t_f^2, t_f = x_f root_cf - offset_cf, where offset_cf is the class mean in input codes
 * times the root, rounded: |t| < 2^31 (x root below 2^30 in magnitude), so t is an exact signed
 * 32-bit value and its square exact; {{point}} */
static inline void {{p}}_predict_joint_log_proba(const int16_t {{xin}}[], int64_t out[]) {
{{stage}}{{pointers}}    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        uint32_t f;
#if MCUPORT_MUL32_ONLY
        uint32_t low = 0u;  /* the sum, as two 32-bit words */
        uint32_t high = 0u;
#else
        uint64_t sum = 0u;
#endif
        for (f = 0u; f < {{nf}}; ++f) {
            const int32_t t = (int32_t)x[f] * (int32_t){{root}} - {{offset}};
#if MCUPORT_MUL32_ONLY
            /* No 32 x 32 -> 64 multiply instruction: with |t| = th 2^16 + tl, t^2's low word is
             * |t| * |t| mod 2^32 and its high word th^2 + ((th tl + (tl^2 >> 17)) >> 15); the low
             * word's carry is added by hand. */
            const uint32_t m = t < 0 ? 0u - (uint32_t)t : (uint32_t)t;
            const uint32_t th = m >> 16;
            const uint32_t tl = m & UINT32_C(0xFFFF);
            const uint32_t square = m * m;
            low += square;
            high += th * th + ((th * tl + ((tl * tl) >> 17)) >> 15) + (low < square ? 1u : 0u);
#else
            sum += (uint64_t)((int64_t)t * t);
#endif
        }
{{step}}#if MCUPORT_MUL32_ONLY
        {
            const uint64_t sum = ((uint64_t)high << 32) | low;
            out[c] = {{p}}_class_bias[c] - (int64_t){{rounded}};
        }
#else
        out[c] = {{p}}_class_bias[c] - (int64_t){{rounded}};
#endif
    }
}

)";

// Fixed mode with per-class blocks on a small model (at most kUnrolledTerms classes x features):
// straight-line code with the centers and roots as constants, so each input is loaded once and
// each term is a subtract, a multiply and a multiply-accumulate (no table, no loop).
const std::size_t kUnrolledTerms = 40;


const char* kFixedJointLogProbaUnrolled = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
 * constant log(prior_c) - 0.5 sum log(2 pi var_c) minus the class's weighted squared distance
 * sum_f t_f^2, t_f = x_f root_cf - offset_cf, with the roots sqrt(0.5 / var) in codes *
 * 2^(class binary point / 2) and the offsets (the class means in input codes times the roots,
 * rounded) written into the code: |t| < 2^31 (x root below 2^30 in magnitude) makes t an exact
 * signed 32-bit value and its square exact; {{point}} */
static inline void {{p}}_predict_joint_log_proba(const int16_t {{xin}}[], int64_t out[]) {
{{stage}}{{body}}}

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
    // Where tables are plain data, pointers walk them (gcc keeps fewer registers for that:
    // Cortex-M4F 14.4 against 15.4 instructions per term on digits); where they live in flash
    // behind their own reads (AVR), every read names its element, and small models keep the
    // loop (straight-line 32-bit arithmetic doubles the code on an 8-bit core).
    const bool pointers = context.target.const_storage == ConstStorage::Ram;
    code.simd = true;  // MCUPORT_MUL32_ONLY
    if (distance.blocks) {
      const bool one_point = distance.uniform_row_shift() && distance.row_shift.front() == 0;
      const std::string point =
          one_point ? "every class's sum is at the scores' binary point\n * and at most " +
                          std::to_string(distance.bound) + " for every int16 input."
                    : "the class's sum (below 2^62) is at its own binary point and is rounded half up\n"
                      " * by the class's shift to 2^-" + context.macro + "_SCORE_FRAC_BITS (at most " +
                          std::to_string(distance.bound) + ").";
      if (!one_point) code.fixed_runtime = true;  // mcuport_fx_round_shift_u64
      if (pointers &&
          static_cast<std::size_t>(program.n_classes) * program.n_features <= kUnrolledTerms) {
        std::string body;
        const uint32_t n = program.n_features;
        for (uint32_t c = 0; c < program.n_classes; ++c) {
          body += "    {\n        uint64_t sum = 0u;\n";
          for (uint32_t f = 0; f < n; ++f) {
            const int64_t offset = distance.offset[c * n + f];
            body += "        sum += " + p + "_square((int32_t)x[" + std::to_string(f) + "] * " +
                    std::to_string(distance.root[c * n + f]) + (offset < 0 ? " + " : " - ") +
                    std::to_string(offset < 0 ? -offset : offset) + ");\n";
          }
          const int k = distance.row_shift[c];
          const std::string rounded =
              k > 0 ? "mcuport_fx_round_shift_u64(sum, " + std::to_string(k) + ")" : "sum";
          body += "        out[" + std::to_string(c) + "] = " + p + "_class_bias[" +
                  std::to_string(c) + "] - (int64_t)" + rounded + ";\n    }\n";
        }
        code.functions += square_function(context, "uint64_t");
        code.functions +=
            context.render(kFixedJointLogProbaUnrolled, {{"body", body}, {"point", point}});
      } else {
        code.tables.add_2d("int32_t", 4, p + "_class_offset", program.n_classes, program.n_features,
                           integer_literals(distance.offset),
                           "per class and feature: the mean in input codes times the root, rounded");
        code.tables.add_2d("int16_t", 2, p + "_class_root", program.n_classes, program.n_features,
                           integer_literals(distance.root),
                           "per class and feature: sqrt(0.5 / var) in codes * 2^(class binary "
                           "point / 2), rounded");
        std::string rounded = "sum";
        if (!one_point && distance.uniform_row_shift()) {
          rounded = "mcuport_fx_round_shift_u64(sum, " + std::to_string(distance.row_shift.front()) + ")";
        } else if (!one_point) {
          code.tables.add("uint8_t", 1, p + "_class_shift", integer_literals(distance.row_shift),
                          "per class: the right shift from the class's binary point to the scores'");
          rounded = "mcuport_fx_round_shift_u64(sum, (int)" + p + "_class_shift[c])";
        }
        TemplateValues values = {
            {"point", point},
            {"rounded", rounded},
            {"pointers", pointers ? "    const int32_t *offset = &" + p + "_class_offset[0][0];\n"
                                    "    const int16_t *root = &" + p + "_class_root[0][0];\n"
                                  : ""},
            {"offset", pointers ? "offset[f]" : p + "_class_offset[c][f]"},
            {"root", pointers ? "root[f]" : p + "_class_root[c][f]"},
            {"step", pointers ? "        offset += " + context.render("{{nf}}") + ";\n        root += " +
                                    context.render("{{nf}}") + ";\n"
                              : ""}};
        code.functions += context.render(kFixedJointLogProbaBlocks, values);
      }
    } else {
      const bool narrow = distance.center_fits_int16();
      const std::string ct = narrow ? "int16_t" : "int32_t";
      std::vector<int32_t> interleaved;
      for (std::size_t i = 0; i < distance.center.size(); ++i) {
        interleaved.push_back(distance.center[i]);
        // An int16 table holds the root's 16 bits as the int16 of the same bits (read back
        // through uint16_t, which is defined for every value).
        const int32_t root = distance.root[i];
        interleaved.push_back(narrow && root > 32767 ? root - 65536 : root);
      }
      code.tables.add_2d(ct, narrow ? 2 : 4, p + "_class_terms", program.n_classes,
                         2 * program.n_features, integer_literals(interleaved),
                         "per class and feature: the mean in input codes, rounded, then sqrt(0.5 / "
                         "var) in codes * 2^(SCORE_FRAC_BITS / 2 + shift)" +
                             std::string(narrow ? " (16 bits, read as uint16_t)" : ""));
      std::string pointer_lines =
          pointers ? "    const " + ct + " *term = &" + p + "_class_terms[0][0];\n" : "";
      TemplateValues values = {{"center", pointers ? "term[0]" : p + "_class_terms[c][2u * f]"},
                               {"root", pointers ? "term[1]" : p + "_class_terms[c][2u * f + 1u]"},
                               {"step", pointers ? "            term += 2;\n" : ""},
                               {"rt", narrow ? "uint16_t" : "uint32_t"},
                               {"bound", std::to_string(distance.bound)},
                               {"reach_bits", narrow ? "16" : "24"}};
      if (distance.uniform_shift()) {
        values.emplace("shift", std::to_string(distance.shift.front()) + "u");
        values.emplace("row_step", "");
      } else {
        code.tables.add_2d("uint8_t", 1, p + "_class_shift", program.n_classes, program.n_features,
                           integer_literals(distance.shift),
                           "per class: the right shift of each term");
        values.emplace("shift", pointers ? "shift[f]" : p + "_class_shift[c][f]");
        if (pointers) pointer_lines += "    const uint8_t *shift = &" + p + "_class_shift[0][0];\n";
        values.emplace("row_step",
                       pointers ? "        shift += " + context.render("{{nf}}") + ";\n" : "");
      }
      values.emplace("pointers", pointer_lines);
      code.functions += context.render(kFixedJointLogProba, values);
    }
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

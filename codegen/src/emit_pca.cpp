// C for PCA (and the pipelines that end in it): one affine map, y = W (x - center), with the
// whitening and any scalers in front composed into W at port time. Float32 in float mode; in
// fixed mode int16 codes in and int32 outputs on one binary point out.
#include <algorithm>
#include <cmath>
#include <string>

#include "c_names.hpp"
#include "emit.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const char* kFloatTransform = R"(/* PCA.transform: y[k] = sum_f weight[k][f] * (x[f] - center[f]), in float32. */
static inline void {{p}}_transform(const float x[], float y[]) {
    uint32_t k;
    uint32_t f;
    for (k = 0u; k < {{P}}_N_OUTPUTS; ++k) {
        float acc = 0.0f;
        for (f = 0u; f < {{P}}_N_FEATURES; ++f) {
            acc += {{p}}_weight[k][f] * (x[f] - {{p}}_center[f]);
        }
        y[k] = acc;
    }
}

)";

// Output k from an int32 accumulator: rounded half away from zero (on the magnitude, as
// mcuport_fx_round_shift_i64) in 32-bit arithmetic, no 64-bit shift; every shift is below 32.
const char* kRoundOutput32 = R"(/* Output k: the row rounded right by {{shift_doc}} bits, half away from zero; the row is below
 * 2^31 in magnitude, so its magnitude plus half a unit fits 32 bits. */
static inline int32_t {{p}}_output(const int16_t x[], uint32_t k) {
    const int32_t a = (int32_t){{p}}_component(x, k);
    const uint32_t m = a < 0 ? 0u - (uint32_t)a : (uint32_t)a;
    const uint32_t s = {{shift}};
    const uint32_t r = s == 0u ? m : (m + (UINT32_C(1) << (s - 1u))) >> s; /* s <= 31 */
    return a < 0 ? -(int32_t)r : (int32_t)r;
}

)";

const char* kFixedTransform = R"(/* PCA.transform on codes: y[k] = output k * 2^{{P}}_OUTPUT_FRAC_BITS, rounded; |y[k]| <= {{bound}}. */
static inline void {{p}}_transform(const int16_t x[], int32_t y[]) {
    uint32_t k;
    for (k = 0u; k < {{P}}_N_OUTPUTS; ++k) {
        y[k] = (int32_t){{rounded}};
    }
}

/* The real value of an output: y * 2^-{{P}}_OUTPUT_FRAC_BITS. */
static inline float {{p}}_dequantize_output(int32_t y) {
    return (float)y * {{P}}_OUTPUT_SCALE;
}

)";

}  // namespace

FamilyCode emit_pca(const EmitContext& context, const PcaProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const bool fixed = program.fixed.has_value();
  code.macros += "#define " + P + "_N_OUTPUTS " + std::to_string(program.n_outputs) + "u\n";
  const std::string macs = std::to_string(program.n_outputs * program.n_features);
  if (fixed) {
    code.macros += "#define " + P + "_OUTPUT_FRAC_BITS " + std::to_string(program.output_frac_bits) +
                   " /* outputs are real value * 2^this */\n";
    code.macros += "#define " + P + "_OUTPUT_SCALE " +
                   float_literal(static_cast<float>(std::ldexp(1.0, -program.output_frac_bits))) +
                   " /* real value = output * this */\n";
    code.macros += "#define " + P + "_OUTPUT_ERROR_BOUND " + format_general(program.error_bound, 17) +
                   " /* |dequantized output - exact transform of the dequantized input| <= this */\n";
    const FixedLinear& map = *program.fixed;
    code.functions += emit_fixed_linear(context, code, map, "component", "component",
                                        "Output k before the final rounding shift (row k's own "
                                        "binary point).", true);
    const bool uniform = std::all_of(program.output_shift.begin(), program.output_shift.end(),
                                     [&](int s) { return s == program.output_shift[0]; });
    std::string shift = std::to_string(program.output_shift[0]);
    if (!uniform) {
      code.tables.add("uint8_t", 1, p + "_output_shift", integer_literals(program.output_shift),
                      "per output: the right shift from its row's binary point to the output's");
      shift = "(uint32_t)" + p + "_output_shift[k]";
    }
    std::string rounded;
    // The 32-bit rounding needs every shift below 32 (a row far finer than the output format
    // can have more; the runtime's 64-bit rounding takes any).
    const bool small_shifts =
        *std::max_element(program.output_shift.begin(), program.output_shift.end()) <= 31;
    if (!map.wide && small_shifts) {
      code.functions += context.render(
          kRoundOutput32, {{"shift", uniform ? shift + "u" : shift},
                           {"shift_doc", uniform ? shift : p + "_output_shift[k]"}});
      rounded = p + "_output(x, k)";
    } else {
      const std::string row = p + "_component(x, k)";
      rounded = row;
      if (!uniform || program.output_shift[0] > 0) {
        code.fixed_runtime = true;
        rounded = "mcuport_fx_round_shift_i64(" + row + ", " + (uniform ? shift : "(int)" + shift) + ")";
      }
    }
    code.functions += context.render(kFixedTransform, {{"bound", std::to_string(program.output_bound)},
                                                       {"rounded", rounded}});
    code.summary = " * Fixed point: " + std::to_string(program.fixed->weight_bits + 1) +
                   "-bit weights with the input quantization folded in, " +
                   (program.fixed->wide ? "int64" : "int32") + " accumulators; every output is within " +
                   format_general(program.error_bound, 3) +
                   " of the exact transform of the dequantized input.\n";
    code.scores = {"", p + "_transform", program.n_outputs, "int32_t"};
  } else {
    code.tables.add_2d("float", 4, p + "_weight", program.n_outputs, program.n_features,
                       rounded_float_literals(program.weight),
                       "components (whitening and pipeline scalers folded in)");
    code.tables.add("float", 4, p + "_center", rounded_float_literals(program.center),
                    "the input that maps to zero");
    code.functions += context.render(kFloatTransform);
    code.scores = {"", p + "_transform", program.n_outputs, "float"};
  }
  code.summary += " * " + std::to_string(program.n_outputs) + " outputs x " +
                  std::to_string(program.n_features) + " inputs: " + macs +
                  " multiply-accumulates per transform.\n";
  const std::string xt = context.input_type();
  const std::string yt = fixed ? "int32_t" : "float";
  code.api += " *   void " + p + "_transform(const " + xt + " x[], " + yt + " y[" + P +
              "_N_OUTPUTS]);   PCA.transform\n";
  if (fixed) code.api += " *   float " + p + "_dequantize_output(int32_t y);   convenience, floating point\n";
  return code;
}

}  // namespace mcuport::codegen

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
        float acc = {{start}};
        for (f = 0u; f < {{P}}_N_FEATURES; ++f) {
            acc += {{p}}_component_weight[k][f] * (x[f] - {{p}}_component_center[f]);
        }
        y[k] = acc;
    }
}

)";

// Output k rounded half up, floor((a + 2^(s-1)) / 2^s) (the simulator's
// fixed::round_shift_half_up), in 32-bit arithmetic: the half is in the row's offset, so the
// int32 accumulator holds a + 2^(s-1); adding 2^31 (an exclusive or) makes it an unsigned value
// to shift, and the shifted 2^31 comes off again. Every shift is below 32; no signed shift.
const char* kRoundOutput32 = R"(/* Output k: the row (which holds half a unit of the output format beside its sum) shifted right
 * by {{shift_doc}} bits, floor(acc / 2^s): the row rounded half up. acc + 2^31 is in [0, 2^32)
 * (|acc| <= {{bound}}), its shift is floor(acc / 2^s) + 2^(31 - s), and the difference, taken
 * modulo 2^32, is the result's two's complement (|result| <= {{out_bound}}). */
static inline int32_t {{p}}_round_output({{row_param}}, uint32_t k) {
    const uint32_t u = (uint32_t)(int32_t){{p}}_component(x, k) ^ UINT32_C(0x80000000);
    const uint32_t s = {{shift}}; /* s <= 31 */
    const uint32_t m = (u >> s) - (UINT32_C(0x80000000) >> s);
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

// The same from an int64 accumulator holding the half (int64 sums, every shift at most 31): the
// low word of the unsigned 64-bit shift is the result's two's complement, as for the
// Mahalanobis components (a negative acc shifts to z + 2^(64-s), and 64 - s >= 32). It is
// formed from the two 32-bit halves with 32-bit shifts: a 64-bit shift by a variable amount is
// a library call on Cortex-M0. Digits' per-row shifts, instructions on Cortex-M4F / Cortex-M0
// (bench rows): this form 2,310 / 14,316; (uint32_t)(u >> s) 2,326 / 16,923 (the call);
// (lo >> s) | (hi << 1 << (31 - s)) without the test 2,855 / 15,852 (gcc spills the sum).
const char* kRoundOutput64Word = R"(/* Output k: the row (which holds half a unit of the output format beside its sum) shifted right
 * by {{shift_doc}} bits, floor(acc / 2^s): the row rounded half up, |result| <= {{out_bound}}.
 * The unsigned shift of acc's 64 bits is the result + 2^(64-s) for a negative acc (the result
 * for acc >= 0), so its low word, (lo >> s) | (hi << (32 - s)) (s <= 31), is the result's two's
 * complement. */
static inline int32_t {{p}}_round_output({{row_param}}, uint32_t k) {
    const uint64_t u = (uint64_t){{p}}_component(x, k);
    const uint32_t s = {{shift}}; /* s <= 31 */
    const uint32_t m = s == 0u ? (uint32_t)u : ((uint32_t)u >> s) | ((uint32_t)(u >> 32) << (32u - s));
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

// Output k rounded half up from an int64 row, any shift s >= 1: for a >= 0 the runtime's
// unsigned rounding (half up) of a; for a < 0, floor((a + h) / 2^s) = -floor((~a + h) / 2^s)
// with ~a = -a - 1 >= 0 (2^s - h = h), so minus the unsigned rounding of ~a. s = 0 is a.
const char* kRoundOutput64 = R"(/* Output k: the row rounded right by {{shift_doc}} bits, half up: floor((a + 2^(s-1)) / 2^s),
 * which for a < 0 is minus the half-up rounding of ~a = -a - 1 >= 0; |result| <= {{out_bound}}. */
static inline int32_t {{p}}_round_output({{row_param}}, uint32_t k) {
    const int64_t a = {{p}}_component(x, k);
    const int s = {{shift}};
    if (s == 0) {
        return (int32_t)a;
    }
    return a < 0 ? -(int32_t)mcuport_fx_round_shift_u64(~(uint64_t)a, s)
                 : (int32_t)mcuport_fx_round_shift_u64((uint64_t)a, s);
}

)";

const char* kFixedTransform = R"(/* PCA.transform on codes: y[k] = output k * 2^{{P}}_OUTPUT_FRAC_BITS, rounded; |y[k]| <= {{bound}}. */
static inline void {{p}}_transform(const int16_t x[], int32_t y[]) {
{{declare}}    uint32_t k;
{{widen}}    for (k = 0u; k < {{P}}_N_OUTPUTS; ++k) {
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
                   rounded_float_literal(std::ldexp(1.0, -program.output_frac_bits), "/params/components") +
                   " /* real value = output * this */\n";
    code.macros += "#define " + P + "_OUTPUT_ERROR_BOUND " + format_general(program.error_bound, 17) +
                   " /* |output * 2^-OUTPUT_FRAC_BITS - exact transform of scale * (xq - zero_point)| <= this */\n";
    const FixedLinear& map = *program.fixed;
    const bool uniform = std::all_of(program.output_shift.begin(), program.output_shift.end(),
                                     [&](int s) { return s == program.output_shift[0]; });
    const bool unshifted = uniform && program.output_shift[0] == 0;
    using Rounding = PcaProgram::Rounding;
    FixedLinear emitted = map;
    if (program.rounding != Rounding::Runtime && !unshifted) {
      // The rounding half 2^(s-1) goes into row k's offset (it fits the sums: lower_pca).
      for (uint32_t k = 0; k < program.n_outputs; ++k) {
        const int s = program.output_shift[k];
        if (s > 0) emitted.bias[k] += int64_t{1} << (s - 1);
      }
      emitted.accumulator_bound = program.half_bound;
      code.functions += emit_fixed_linear(context, code, emitted, "component", "component",
                                          "Output k plus the rounding half of its shift (in the "
                                          "offset), at row k's own binary point.", true);
    } else {
      code.functions += emit_fixed_linear(context, code, emitted, "component", "component",
                                          "Output k before the final rounding shift (row k's own "
                                          "binary point).", true);
    }
    std::string shift = std::to_string(program.output_shift[0]);
    if (!uniform) {
      code.tables.add("uint8_t", 1, p + "_output_shift", integer_literals(program.output_shift),
                      "per output: the right shift from its row's binary point to the output's");
      shift = "(uint32_t)" + p + "_output_shift[k]";
    }
    // On Cortex-M0 a large map's rows take the codes widened to int32 (emit_affine.cpp), once
    // per transform.
    const RowInputs rows = row_inputs(context, emitted, "component");
    const std::string& row_x = rows.x;
    std::string rounded = "(int32_t)" + p + "_component(" + row_x + ", k)";
    const TemplateValues values = {{"shift_doc", uniform ? shift : p + "_output_shift[k]"},
                                   {"out_bound", std::to_string(program.output_bound)},
                                   {"row_param", rows.param}};
    if (unshifted) {
    } else if (program.rounding == Rounding::Word32) {
      TemplateValues v = values;
      v.emplace("shift", uniform ? shift + "u" : shift);
      v.emplace("bound", std::to_string(program.half_bound));
      code.functions += context.render(kRoundOutput32, v);
      rounded = p + "_round_output(" + row_x + ", k)";
    } else if (program.rounding == Rounding::Word64) {
      TemplateValues v = values;
      v.emplace("shift", uniform ? shift + "u" : shift);
      code.functions += context.render(kRoundOutput64Word, v);
      rounded = p + "_round_output(" + row_x + ", k)";
    } else {
      // Shifts of 32 or more, or int64 sums: the runtime's 64-bit unsigned rounding takes any.
      code.fixed_runtime = true;
      TemplateValues v = values;
      v.emplace("shift", uniform ? shift : "(int)" + shift);
      code.functions += context.render(kRoundOutput64, v);
      rounded = p + "_round_output(" + row_x + ", k)";
    }
    code.functions += context.render(
        kFixedTransform,
        {{"bound", std::to_string(program.output_bound)},
         {"rounded", rounded},
         {"declare", rows.declare},
         {"widen", rows.widen}});
    code.summary = " * Fixed point: " + std::to_string(program.fixed->weight_bits + 1) +
                   "-bit weights with the input quantization folded in, " +
                   (program.fixed->wide ? "int64" : "int32") + " accumulators; every output is within " +
                   format_bound(program.error_bound, 3) +
                   " of the exact transform of the values the codes stand for.\n";
    code.scores = {"", p + "_transform", program.n_outputs, "int32_t"};
  } else {
    code.tables.add_2d("float", 4, p + "_component_weight", program.n_outputs, program.n_features,
                       rounded_float_literals(program.weight,
                                              context.matrix_field("/params/components", program.n_features)),
                       "components (whitening and pipeline scalers folded in)");
    const uint32_t nf = program.n_features;
    const std::string start = float_row_center(
        code, p + "_component_center", program.center, context.vector_field("/params/mean"),
        "the input that maps to zero", program.n_outputs,
        [&](uint32_t k, uint32_t f) { return program.weight[k * nf + f]; }, p + "_component_start", "k");
    code.functions += context.render(kFloatTransform, {{"start", start}});
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

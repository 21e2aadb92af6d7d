// C for affine maps, out_k = bias_k + sum_f weight_kf x_f: float32, or fixed point (FixedLinear:
// int16 weights times int16 codes, summed into an accumulator of proven width). Shared by the
// families that are linear in their inputs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

// {{input}}: x[f], or x[f] less a pipeline's center (emit_float_linear's `center`): by a
// subtraction per multiply-accumulate, or, with several outputs, once per prediction into a
// local array ({{prologue}}).
const char* kFloatLinear = R"(/* {{doc}}
 * out[k] = bias[k] + sum_f weight[k][f] * {{input_doc}}, in float32.{{center_doc}} */
static inline void {{p}}_{{function}}(const float x[], float out[]) {
    uint32_t k;
    uint32_t f;
{{prologue}}    for (k = 0u; k < {{n_outputs}}u; ++k) {
        float acc = {{p}}_{{table}}_bias[k];
        for (f = 0u; f < {{nf}}; ++f) {
            acc += {{p}}_{{table}}_weight[k][f] * {{input}};
        }
        out[k] = acc;
    }
}

)";

// float_centred_inputs: each input less its center, once per prediction.
const char* kFloatCentredInputs = R"(    float xc[{{nf}}];
{{declare}}    for (f = 0u; f < {{nf}}; ++f) {
        xc[f] = x[f] - {{center}}[f];
    }
)";

// Per row r, sum_f weight(r, f) (float32(center_f) - center_f): each difference exact, the sum
// in float64; none below float32's normal range, where it moves no sum a float32 can hold.
std::vector<double> center_rounding_shares(const std::vector<double>& center, std::size_t n_rows,
                                           const std::function<double(std::size_t, std::size_t)>& weight) {
  std::vector<double> share(n_rows, 0.0);
  for (std::size_t r = 0; r < n_rows; ++r) {
    for (std::size_t f = 0; f < center.size(); ++f) {
      share[r] += weight(r, f) * (static_cast<double>(static_cast<float>(center[f])) - center[f]);
    }
    if (std::fabs(share[r]) < 0x1p-126) share[r] = 0;
  }
  return share;
}

// Row k of a map with int16 weights: pairs of products, each pair below 2^31 in magnitude
// (|w| <= 32767, |x| <= 32768), so the portable path adds one int32 per pair, and Arm's DSP path
// forms the same pair with one SMLAD/SMLALD. Both sums are exact: the same bits.
const char* kFixedLinearRow16 = R"({{mul32_rows}}/* {{doc}}
 * bias[k] + sum_f weight[k][f] * xq[f] for one row k, in units of 2^-{{frac_bits}}; its
 * magnitude is at most {{bound}}, which {{acc_t}} holds for every int16 input. */
static inline int64_t {{p}}_{{function}}(const int16_t x[], uint32_t k) {
{{mul32_open}}    {{acc_t}} acc = ({{acc_t}}){{p}}_{{table}}_bias[k];
    uint32_t f;
#if MCUPORT_SIMD32
    for (f = 0u; f + 4u <= {{nf}}; f += 4u) {
        int32_t w0;
        int32_t w1;
        int32_t x0;
        int32_t x1;
        memcpy(&w0, &{{p}}_{{table}}_weight[k][f], 4u);
        memcpy(&w1, &{{p}}_{{table}}_weight[k][f + 2u], 4u);
        memcpy(&x0, &x[f], 4u);
        memcpy(&x1, &x[f + 2u], 4u);
        acc = {{smla}}(w0, x0, acc);
        acc = {{smla}}(w1, x1, acc);
    }
    if (f + 2u <= {{nf}}) {
        int32_t w2;
        int32_t x2;
        memcpy(&w2, &{{p}}_{{table}}_weight[k][f], 4u);
        memcpy(&x2, &x[f], 4u);
        acc = {{smla}}(w2, x2, acc);
        f += 2u;
    }
#else
{{portable_pairs}}#endif
    if (f < {{nf}}) {
        acc += (int32_t){{p}}_{{table}}_weight[k][f] * (int32_t)x[f];
    }
    return (int64_t)acc;
{{mul32_close}}}

)";

// kFixedLinearRow16's portable pairs: a loop on the index.
const char* kPortablePairs = R"(    for (f = 0u; f + 2u <= {{nf}}; f += 2u) {
        acc += ({{acc_t}})((int32_t){{p}}_{{table}}_weight[k][f] * (int32_t)x[f] +
                      (int32_t){{p}}_{{table}}_weight[k][f + 1u] * (int32_t)x[f + 1u]);
    }
)";

// The same on Cortex-M0/M0+/M23 (armv6m; tables in the data address space, more than
// kStraightLineFeatures inputs): one pointer into the row and one into the input, stepped by a
// pair, the loop tested at its end on the input's. gcc -Os there (bench/compare.py's digits
// models, 50 rows): the PCA (16 x 64) 14,316 -> 12,777 instructions a transform, SVC(linear)
// (45 x 64) 40,951 -> 37,884 a prediction. A loop on an index with the row's address taken once
// made the second 42,203; 32-bit halves of the sum with a hand-written carry, 14,248 and 39,321.
const char* kPortablePairsArmv6m = R"(    {
        const int16_t* w = {{p}}_{{table}}_weight[k];
        const int16_t* v = x;
        const int16_t* const end = x + ({{nf}} & ~1u);
        do {
            acc += ({{acc_t}})((int32_t)w[0] * (int32_t)v[0] + (int32_t)w[1] * (int32_t)v[1]);
            w += 2;
            v += 2;
        } while (v != end);
        f = {{nf}} & ~1u;
    }
)";

// The same row with its SMLAD pairs written out, for a map of at most kStraightLineFeatures
// inputs: no loop, each pair's addresses fixed (wine's PCA, 13 inputs: 195 -> 161
// instructions a prediction on Cortex-M4F, for 56 bytes more code). The portable path keeps
// its loop: written out, gcc -Os for Cortex-M0 spills it (the 3-class LinearSVC on wine took
// 136 bytes of stack instead of about 40).
constexpr uint32_t kStraightLineFeatures = 16;

const char* kFixedLinearRow16Straight = R"({{mul32_rows}}/* {{doc}}
 * bias[k] + sum_f weight[k][f] * xq[f] for one row k, in units of 2^-{{frac_bits}}; its
 * magnitude is at most {{bound}}, which {{acc_t}} holds for every int16 input. */
static inline int64_t {{p}}_{{function}}(const int16_t x[], uint32_t k) {
{{mul32_open}}    {{acc_t}} acc = ({{acc_t}}){{p}}_{{table}}_bias[k];
#if MCUPORT_SIMD32
{{simd_pairs}}{{odd}}#else
    uint32_t f;
    for (f = 0u; f + 2u <= {{nf}}; f += 2u) {
        acc += ({{acc_t}})((int32_t){{p}}_{{table}}_weight[k][f] * (int32_t)x[f] +
                      (int32_t){{p}}_{{table}}_weight[k][f + 1u] * (int32_t)x[f + 1u]);
    }
    if (f < {{nf}}) {
        acc += (int32_t){{p}}_{{table}}_weight[k][f] * (int32_t)x[f];
    }
#endif
    return (int64_t)acc;
{{mul32_close}}}

)";

// Row k of a map with 31-bit weights: int32 x int16 products in int64.
const char* kFixedLinearRow32 = R"({{mul32_rows}}/* {{doc}}
 * bias[k] + sum_f weight[k][f] * xq[f] for one row k, in units of 2^-{{frac_bits}}; its
 * magnitude is at most {{bound}}, which int64_t holds for every int16 input. */
static inline int64_t {{p}}_{{function}}(const int16_t x[], uint32_t k) {
{{mul32_open}}    int64_t acc = {{p}}_{{table}}_bias[k];
    uint32_t f;
    for (f = 0u; f < {{nf}}; ++f) {
        acc += (int64_t){{p}}_{{table}}_weight[k][f] * x[f];
    }
    return acc;
{{mul32_close}}}

)";

// On cores whose only multiply is 32 x 32 -> 32 (Cortex-M0, M0+, M23: MCUPORT_MUL32_ONLY), a
// map of at most kStraightLineMul32Terms nonzero weights is written out, a function per row with
// its weights as immediates and its zero weights left out: the same exact sum (with an int64
// accumulator, consecutive terms are summed in int32 while their bound allows, each group
// widened once). Thumb-1's LDRSH takes only a register offset, so a table walk costs gcc -Os
// about 11 instructions a product there (a register for each offset, the sums spilled); written
// out, wine's 4-component PCA went from 12.0 to 5.5 instructions a product and the 30-feature
// linear SVC on breast cancer from 13.0 to 5.1, for about 10 bytes of code a weight instead of
// 2 bytes of table (the compiler then drops the table). The row function dispatches with a
// switch: where k is a constant (a linear SVC's votes), the switch folds away and the one row's
// code is inlined; a switch of whole rows was not inlined at its three call sites.
constexpr std::size_t kStraightLineMul32Terms = 64;

// The largest sum of |w| over a group of terms summed in int32: 32768 * 65535 < 2^31.
constexpr uint64_t kGroupMagnitude = 65535;

// One term `(int32_t)x[f] * |w|` and its sign.
std::string mul32_term(uint32_t f, int32_t w, bool& negative) {
  negative = w < 0;
  const int64_t magnitude = w < 0 ? -int64_t{w} : int64_t{w};
  const std::string input = "(int32_t)x[" + std::to_string(f) + "u]";
  return magnitude == 1 ? input : input + " * " + std::to_string(magnitude);
}

// The body of row k's function: its bias, then its nonzero terms added to `acc` (int32, or int64
// in exact int32 groups).
std::string mul32_row(const FixedLinear& map, uint32_t k) {
  std::vector<std::pair<uint32_t, int32_t>> terms;
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int32_t w = map.weight[std::size_t{k} * map.n_features + f];
    if (w != 0) terms.emplace_back(f, w);
  }
  const int64_t bias = map.bias[k];
  // The most negative value has no literal of its own type in C.
  const std::string literal =
      map.wide ? (bias == INT64_MIN ? "INT64_MIN" : "INT64_C(" + std::to_string(bias) + ")")
               : (bias == INT32_MIN ? "INT32_MIN" : std::to_string(bias));
  std::string text = "    " + std::string(map.wide ? "int64_t" : "int32_t") + " acc = " + literal +
                     ";\n";
  if (terms.empty()) return text + "    (void)x; /* every weight of this row is 0 */\n    return acc;\n";
  if (!map.wide) {
    for (const auto& [f, w] : terms) {
      bool negative = false;
      const std::string term = mul32_term(f, w, negative);
      text += std::string(negative ? "    acc -= " : "    acc += ") + term + ";\n";
    }
    return text + "    return acc;\n";
  }
  // Consecutive terms summed in int32 while their bound 32768 sum |w| stays below 2^31 (at
  // least a pair: |w| <= 32767), each group added to the int64 sum once: exact, and most of a
  // row's 64-bit adds gone where its weights are small (breast cancer's linear SVC: 30 terms in
  // 2 groups).
  text += "    int32_t s;\n";
  uint64_t group = 0;  // sum of |w| in the group so far
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const int64_t w = terms[i].second;
    const auto magnitude = static_cast<uint64_t>(w < 0 ? -w : w);
    const bool first = i == 0 || group + magnitude > kGroupMagnitude;
    if (first && i > 0) text += "    acc += s;\n";
    group = first ? magnitude : group + magnitude;
    bool negative = false;
    const std::string term = mul32_term(terms[i].first, terms[i].second, negative);
    text += first ? std::string("    s = ") + (negative ? "-" : "") + term + ";\n"
                  : std::string(negative ? "    s -= " : "    s += ") + term + ";\n";
  }
  return text + "    acc += s;\n    return acc;\n";
}

struct Mul32Code {
  std::string rows;   // the row functions, before the map's row function
  std::string open;   // the row function's MCUPORT_MUL32_ONLY branch, up to its #else
  std::string close;  // its #endif
};

// The MCUPORT_MUL32_ONLY code of a map (see kStraightLineMul32Terms), or nothing.
Mul32Code mul32_code(const FixedLinear& map, const std::string& function) {
  const auto nonzero = static_cast<std::size_t>(
      std::count_if(map.weight.begin(), map.weight.end(), [](int32_t w) { return w != 0; }));
  if (map.weight_bits > 15 || nonzero > kStraightLineMul32Terms) return {};
  const std::string acc_t = map.wide ? "int64_t" : "int32_t";
  Mul32Code code;
  code.rows = "#if MCUPORT_MUL32_ONLY\n";
  for (uint32_t k = 0; k < map.n_outputs; ++k) {
    code.rows += "/* Row " + std::to_string(k) +
                 " of {{p}}_{{function}} written out, for cores whose only multiply is\n"
                 " * 32 x 32 -> 32: its weights as immediates, its zero weights left out. */\n"
                 "static inline " + acc_t + " {{p}}_" + function + "_" + std::to_string(k) +
                 "(const int16_t x[]) {\n" + mul32_row(map, k) + "}\n\n";
  }
  code.rows += "#endif\n";
  code.open = "#if MCUPORT_MUL32_ONLY\n";
  const auto call = [&](uint32_t k) {
    return "return (int64_t){{p}}_" + function + "_" + std::to_string(k) + "(x);\n";
  };
  if (map.n_outputs == 1) {
    code.open += "    (void)k;\n    " + call(0);
  } else {
    code.open += "    switch (k) {\n";
    for (uint32_t k = 0; k + 1 < map.n_outputs; ++k) {
      code.open += "    case " + std::to_string(k) + "u:\n        " + call(k);
    }
    code.open += "    default:\n        " + call(map.n_outputs - 1) + "    }\n";
  }
  code.open += "#else\n";
  code.close = "#endif\n";
  return code;
}

// Cortex-M0/M0+ (armv6m), a looped map (more than kStraightLineFeatures inputs, more than
// kStraightLineMul32Terms nonzero weights) of at most kWidenedInputsMax inputs: the caller widens
// the codes to int32 once per prediction, padded with zeros to a multiple of 4, and the weights
// are int32 (padded alike), so that in the inner loop one LDM loads two inputs and one LDM two
// weights, and a pair of products is two MULS and one ADDS: no sign extensions, no register
// offsets. gcc -Os kept Thumb-1's eight registers no better than the pairs of int16 loads
// (kPortablePairsArmv6m: spills of the sign and the sum), so the loop is inline assembly
// (MCUPORT_THUMB1_ASM, gcc and clang), and portable C elsewhere: the same exact sums. Digits'
// 16-component PCA on Cortex-M0 (bench/compare.py, 50 rows): 12,777 -> 6,000 instructions a
// transform (docs/fixed-point.md, "Widened inputs"). A map of 31-bit weights (the poly and
// sigmoid kernels' arguments, a pipeline's stage) of at most kWidenedInputsMax inputs takes
// widened inputs too, a term a turn, where its int32 x int16 products were each a call of
// __aeabi_lmul (wine's SVC(poly): 104,103 -> 60,993 instructions a prediction).
// (kWidenedInputsMax: emit.hpp.)

// The widened inputs and, for the assembly, its state in memory right after them: the loop ends
// at the state's address, where the inputs end, so that the state's address is in a register
// when the loop is done (the compiler counts the state in its caller's frame, where pushes of
// the registers it borrows would be invisible to -fstack-usage).
const char* kWidenInputs = R"(/* {{p}}_{{function}}'s inputs: the codes widened to int32{{pad_doc}}; then the state of its
 * Thumb-1 loop, which must follow them: the loop ends at the state's address. */
typedef struct {
    int32_t x[{{n}}];
#if MCUPORT_THUMB1_ASM
    uint32_t kept[4]; /* r4-r7 while the loop has them */
    uint32_t s1;
    uint32_t s2;
    const int32_t* v;
    const int32_t* w;
#endif
} {{p}}_{{function}}_widened;
#if MCUPORT_THUMB1_ASM
typedef char {{p}}_{{function}}_state_follows_inputs[offsetof({{p}}_{{function}}_widened, kept) == {{n}}u * sizeof(int32_t) ? 1 : -1];
#endif

/* The codes widened to int32 for {{p}}_{{function}}{{pad_doc}}. */
static inline void {{p}}_{{function}}_inputs(const int16_t x[], {{p}}_{{function}}_widened* xw) {
{{copy}}}

)";

// A widened row's loop, four products a turn: each pair p (|p| < 2^31) into s1, the sum modulo
// 2^32, and for an int64 row floor(p / 2^16) into s2 as well. The assembly takes one operand, the
// address of its state in memory (right after the inputs: the loop's end), and keeps everything
// in fixed registers (an LDM fills its registers in ascending order), keeping the ones it borrows
// (r4-r7) in the state: it needs none of the compiler's, so no caller's register pressure (r7 is
// the frame pointer of an unoptimised build) can leave it without, and it pushes nothing. Per
// turn, with 16-bit weights: two LDM of two inputs, two of two weights, four MULS, two ADDS of a
// pair, the pairs into s1 (and s2), the test of the end; with 31-bit weights, one term
// (kThumb1Term). Every instruction is in Thumb-1 as ARMv4T has it, since MCUPORT_THUMB1_ASM
// takes any Thumb-1 core (emit_header.cpp).
const char* kThumb1Pairs = R"(    {
{{state_doc}}        const {{b_t}} b = ({{b_t}}){{p}}_{{table}}_bias[k];
        in->s1 = (uint32_t)b;
        in->s2 = {{s2_start}};
        in->v = in->x;
        in->w = w;
        __asm__ volatile(
            ".syntax unified\n\t"
            "movs r3, %[state]\n\t" /* MOVS: a MOV of two low registers is ARMv6 and later */
            "mov ip, r3\n\t" /* the end of the inputs */
            "stm r3!, {r4, r5, r6, r7}\n\t" /* kept */
            "ldm r3!, {r4, r5, r6, r7}\n" /* s1, s2, v, w */
            "1:\n\t"
{{turn}}            "cmp r6, ip\n\t"
            "bne 1b\n\t"
{{high_word}}            "str r4, [r6, #16]\n\t" /* s1 (v has reached the state) */
{{store_s2}}            "ldm r6, {r4, r5, r6, r7}\n" MCUPORT_THUMB1_SYNTAX_END
            :
            : [state] "l"(in->kept)
            : "r0", "r1", "r2", "r3", "r12", "cc", "memory");
{{result}}    }
)";

// kThumb1Pairs' half turn for 16-bit weights: a pair into s1 (and for an int64 row, whose s2
// starts at floor(b / 2^16), floor(pair / 2^16) into s2: with |b| < 2^46 and at most 64 pairs,
// |s2| < 2^31 throughout).
const char* kThumb1Pair = R"(            "ldm r6!, {r0, r1}\n\t"
            "ldm r7!, {r2, r3}\n\t"
            "muls r0, r2, r0\n\t"
            "muls r1, r3, r1\n\t"
            "adds r0, r0, r1\n\t"
            "adds r4, r4, r0\n\t"
{{s2_add}})";
const char* kThumb1SumHigh = R"(            "asrs r0, r0, #16\n\t"
            "adds r5, r5, r0\n\t"
)";
// Its turn for 31-bit weights: one term x w = x hi 2^16 + x lo, with w = hi 2^16 + lo
// (hi in [-2^15, 2^15), lo in [0, 2^16)): |x hi| <= 2^30 and |x lo| < 2^31 are 32-bit products,
// each added with its sign into the int64 sum held in (s2, s1), s2 the high word. Shifts, not
// UXTH, split w: every instruction is ARMv4T's Thumb.
const char* kThumb1Term = R"(            "ldm r6!, {r0}\n\t"
            "ldm r7!, {r1}\n\t"
            "asrs r2, r1, #16\n\t"
            "lsls r1, r1, #16\n\t"
            "lsrs r1, r1, #16\n\t"
            "muls r2, r0, r2\n\t"
            "muls r1, r0, r1\n\t"
            "asrs r0, r1, #31\n\t"
            "adds r4, r4, r1\n\t"
            "adcs r5, r5, r0\n\t"
            "lsls r0, r2, #16\n\t"
            "asrs r2, r2, #16\n\t"
            "adds r4, r4, r0\n\t"
            "adcs r5, r5, r2\n\t"
)";
const char* kThumb1HighWord = R"(            /* The sum less s2 2^16 is the residues modulo 2^16 of b and of each pair: in
             * [0, 2^32), so it is s1 - s2 2^16 modulo 2^32, and the sum's high word is
             * floor(s2 / 2^16) plus the carry of adding s2 2^16 modulo 2^32 back: s1 < (s2 << 16). */
            "lsls r0, r5, #16\n\t"
            "asrs r5, r5, #16\n\t"
            "cmp r4, r0\n\t"
            "sbcs r0, r0\n\t"
            "subs r5, r5, r0\n\t"
)";
const char* kThumb1StoreHigh = R"(            "str r5, [r6, #20]\n\t" /* s2 */
)";
const char* kThumb1Int64 = R"(        {
            const uint64_t u = ((uint64_t)in->s2 << 32) | in->s1; /* the sum's two's complement */
            return u >= UINT64_C(0x8000000000000000) ? -(int64_t)(~u) - 1 : (int64_t)u;
        }
)";
// An int32 row (its bound below 2^31): s1 alone is the sum's two's complement.
const char* kThumb1Int32 = R"(        return in->s1 >= UINT32_C(0x80000000) ? -(int64_t)(~in->s1) - 1 : (int64_t)in->s1;
)";

const char* kFixedLinearRowWidened = R"(/* {{doc}}
 * bias[k] + sum_f weight[k][f] * xq[f] for one row k, in units of 2^-{{frac_bits}}; its
 * magnitude is at most {{bound}}, which {{acc_t}} holds for every int16 input. in: the codes
 * widened to int32 by {{p}}_{{inputs}} (and the Thumb-1 loop's state). */
static inline int64_t {{p}}_{{function}}({{p}}_{{function}}_widened* in, uint32_t k) {
    const int32_t* w = {{p}}_{{table}}_weight[k];
#if MCUPORT_THUMB1_ASM
{{thumb1}}#else
    const int32_t* x = in->x;
    {{acc_t}} acc = ({{acc_t}}){{p}}_{{table}}_bias[k];
    uint32_t f;
{{c_loop}}    return (int64_t)acc;
#endif
}

)";

const char* kFixedLinearWidened = R"(/* {{doc}}
 * out[k] = bias[k] + sum_f weight[k][f] * xq[f], in units of 2^-{{frac_bits}}. */
static inline void {{p}}_{{function}}(const int16_t x[], int64_t out[]) {
{{declare}}    uint32_t k;
{{widen}}    for (k = 0u; k < {{n_outputs}}u; ++k) {
        out[k] = {{p}}_{{function}}_row({{x}}, k);
    }
}

)";

const char* kFixedLinear = R"(/* {{doc}}
 * out[k] = bias[k] + sum_f weight[k][f] * xq[f], in units of 2^-{{frac_bits}}. */
static inline void {{p}}_{{function}}(const int16_t x[], int64_t out[]) {
    uint32_t k;
    for (k = 0u; k < {{n_outputs}}u; ++k) {
        out[k] = {{p}}_{{function}}_row(x, k);
    }
}

)";

std::string int64_literal(int64_t value) {
  return "INT64_C(" + std::to_string(value) + ")";
}

}  // namespace

bool widened_inputs(const EmitContext& context, const FixedLinear& map) {
  const bool armv6m =
      context.target.arch == "armv6m" && context.target.const_storage == ConstStorage::Ram;
  if (!armv6m || map.n_features > kWidenedInputsMax) return false;
  // 31-bit weights: each int32 x int16 product is otherwise a call of the 64-bit multiply.
  if (map.weight_bits > 15) return true;
  if (map.n_features <= kStraightLineFeatures) return false;
  const auto nonzero = static_cast<std::size_t>(
      std::count_if(map.weight.begin(), map.weight.end(), [](int32_t w) { return w != 0; }));
  if (nonzero <= kStraightLineMul32Terms) return false;  // the rows are written out (mul32_code)
  // An int64 row's loop keeps floor(bias / 2^16) plus a pair's 2^15 per pair in 32 bits.
  constexpr int64_t kBiasLimit = int64_t{1} << 46;
  return std::all_of(map.bias.begin(), map.bias.end(),
                     [](int64_t b) { return b > -kBiasLimit && b < kBiasLimit; });
}

namespace {

// The widened array's length. 16-bit weights: four products a turn, so a multiple of 4; 31-bit
// weights: one term a turn, no padding.
uint32_t widened_input_count(const FixedLinear& map) {
  return map.weight_bits > 15 ? map.n_features : (map.n_features + 3u) & ~3u;
}

}  // namespace

RowInputs row_inputs(const EmitContext& context, const FixedLinear& map,
                     const std::string& row_function) {
  RowInputs inputs;
  if (!widened_inputs(context, map)) return inputs;
  const std::string type = context.prefix + "_" + row_function + "_widened";
  inputs.x = "&xw";
  inputs.param = type + "* x";
  inputs.declare = "    " + type + " xw;\n";
  inputs.widen = "    " + context.prefix + "_" + row_function + "_inputs(x, &xw);\n";
  return inputs;
}

namespace {

// The weights, each row padded with zeros to n.
std::vector<int32_t> padded_rows(const FixedLinear& map, uint32_t n) {
  std::vector<int32_t> padded(std::size_t{map.n_outputs} * n, 0);
  for (uint32_t k = 0; k < map.n_outputs; ++k) {
    std::copy_n(map.weight.begin() + static_cast<std::ptrdiff_t>(std::size_t{k} * map.n_features),
                map.n_features, padded.begin() + static_cast<std::ptrdiff_t>(std::size_t{k} * n));
  }
  return padded;
}

// emit_fixed_linear where widened_inputs() holds: the row function on widened inputs, the
// function that widens them, and (not one_row) the function of every row.
std::string emit_widened_linear(const EmitContext& context, FamilyCode& code,
                                const FixedLinear& map, const std::string& function,
                                const std::string& table, const std::string& doc, bool one_row,
                                const std::string& frac_bits) {
  const uint32_t n = widened_input_count(map);
  code.thumb1_asm = true;
  const std::string row_function = one_row ? function : function + "_row";
  const std::string inputs = row_function + "_inputs";
  const std::string n_text = std::to_string(n);
  TemplateValues values = {{"frac_bits", frac_bits},
                           {"table", table},
                           {"bound", std::to_string(map.accumulator_bound)},
                           {"acc_t", map.wide ? "int64_t" : "int32_t"},
                           {"inputs", inputs},
                           {"function", row_function},
                           {"doc", one_row ? doc : "Output k of " + function + "."}};
  const bool terms = map.weight_bits > 15;
  const std::string state_doc =
      terms ? "        /* s2 and s1: the int64 sum's high and low words, from the bias b. */\n"
      : map.wide ? "        /* Modulo 2^32: s1, from the bias b, the sum; s2, from floor(b / 2^16), "
                   "the sum of each\n         * pair's floor(pair / 2^16), then the sum's high "
                   "word. */\n"
                 : "        /* Modulo 2^32: s1, from the bias b, the sum (an int32 row: s2 is "
                   "unused). */\n";
  // The portable loop: pairs of 16-bit products in int32, or each int32 x int16 product in int64.
  const std::string loop = "    for (f = 0u; f < " + n_text + (terms ? "u; ++f) {\n" : "u; f += 2u) {\n");
  values.emplace("c_loop", loop + (terms ? "        acc += (int64_t)x[f] * w[f];\n"
                                         : "        acc += (" + values.at("acc_t") +
                                               ")(x[f] * w[f] + x[f + 1u] * w[f + 1u]);\n") +
                               "    }\n");
  // A turn: two pairs of 16-bit products (four products), or one 31-bit term.
  const std::string pair =
      terms ? "" : codegen::render(kThumb1Pair, {{"s2_add", map.wide ? kThumb1SumHigh : ""}});
  values.emplace(
      "thumb1",
      context.render(kThumb1Pairs,
                     {{"table", table},
                      {"b_t", map.wide ? "uint64_t" : "uint32_t"},
                      {"state_doc", state_doc},
                      {"s2_start", terms ? "(uint32_t)(b >> 32)"
                                         : map.wide ? "(uint32_t)(b >> 16)" : "0u"},
                      {"turn", terms ? std::string(kThumb1Term)
                               : n % 8u == 0 ? pair + pair + pair + pair
                                             : pair + pair},
                      {"high_word", map.wide && !terms ? kThumb1HighWord : ""},
                      {"store_s2", map.wide ? kThumb1StoreHigh : ""},
                      {"result", map.wide ? kThumb1Int64 : kThumb1Int32}}));
  std::string text = context.render(
      kWidenInputs,
      {{"function", row_function},
       {"n", n_text},
       {"pad_doc", n > map.n_features ? ", padded with zeros to " + n_text : ""},
       {"copy", widen_codes("x", "xw->x", map.n_features, n, "    ")}});
  text += context.render(kFixedLinearRowWidened, values);
  if (one_row) return text;
  const RowInputs rows = row_inputs(context, map, row_function);
  return text + context.render(kFixedLinearWidened, {{"doc", doc},
                                                     {"function", function},
                                                     {"frac_bits", frac_bits},
                                                     {"declare", rows.declare},
                                                     {"widen", rows.widen},
                                                     {"x", rows.x},
                                                     {"n_outputs", std::to_string(map.n_outputs)}});
}

}  // namespace

std::string emit_fixed_linear(const EmitContext& context, FamilyCode& code, const FixedLinear& map,
                              const std::string& function, const std::string& table,
                              const std::string& doc, bool one_row) {
  const std::string& p = context.prefix;
  const bool wide_weights = map.weight_bits > 15;
  const bool widened = widened_inputs(context, map);
  const std::string point = map.row_frac_bits.empty() ? std::to_string(map.frac_bits)
                                                      : std::string("F_k (row k's own point)");
  if (widened) {
    const uint32_t n = widened_input_count(map);
    code.tables.add_2d("int32_t", 4, p + "_" + table + "_weight", map.n_outputs, n,
                       integer_literals(padded_rows(map, n)),
                       "weights with the input quantization folded in, * 2^" + point + "; int32" +
                           (n > map.n_features
                                ? ", each row padded with zeros to " + std::to_string(n)
                                : std::string()));
  } else {
    code.tables.add_2d(wide_weights ? "int32_t" : "int16_t", wide_weights ? 4 : 2,
                       p + "_" + table + "_weight", map.n_outputs, map.n_features,
                       integer_literals(map.weight),
                       "weights with the input quantization folded in, * 2^" + point);
  }
  std::vector<std::string> bias;
  for (int64_t b : map.bias) bias.push_back(map.wide ? int64_literal(b) : std::to_string(b));
  code.tables.add(map.wide ? "int64_t" : "int32_t", map.wide ? 8 : 4, p + "_" + table + "_bias",
                  bias, "offsets with the input quantization folded in, * 2^" + point);
  std::string frac_bits = std::to_string(map.frac_bits);
  if (!map.row_frac_bits.empty()) {
    const auto [lo, hi] = std::minmax_element(map.row_frac_bits.begin(), map.row_frac_bits.end());
    frac_bits = "F_k (row k's own binary point, " + std::to_string(*lo) +
                (*lo == *hi ? "" : " to " + std::to_string(*hi)) + ")";
  }
  if (widened) return emit_widened_linear(context, code, map, function, table, doc, one_row, frac_bits);
  TemplateValues values = {{"frac_bits", frac_bits},
                           {"table", table},
                           {"bound", std::to_string(map.accumulator_bound)}};
  if (!wide_weights) {
    code.simd = true;
    values.emplace("acc_t", map.wide ? "int64_t" : "int32_t");
    values.emplace("smla", map.wide ? "__smlald" : "__smlad");
  }
  const char* row = wide_weights ? kFixedLinearRow32 : kFixedLinearRow16;
  if (!wide_weights && map.n_features > kStraightLineFeatures) {
    const bool armv6m = context.target.arch == "armv6m" &&
                        context.target.const_storage == ConstStorage::Ram;
    values.emplace("portable_pairs",
                   context.render(armv6m ? kPortablePairsArmv6m : kPortablePairs,
                                  {{"table", table}, {"acc_t", values.at("acc_t")}}));
  }
  if (!wide_weights && map.n_features <= kStraightLineFeatures) {
    row = kFixedLinearRow16Straight;
    const std::string w = p + "_" + table + "_weight[k]";
    std::string simd;
    for (uint32_t f = 0; f + 1 < map.n_features; f += 2) {
      const std::string a = std::to_string(f);
      simd += "    {\n        int32_t w;\n        int32_t v;\n        memcpy(&w, &" + w + "[" + a +
              "], 4u);\n        memcpy(&v, &x[" + a + "], 4u);\n        acc = " +
              values.at("smla") + "(w, v, acc);\n    }\n";
    }
    std::string odd;
    if (map.n_features % 2 != 0) {
      const std::string f = std::to_string(map.n_features - 1);
      odd = "    acc += (int32_t)" + w + "[" + f + "] * (int32_t)x[" + f + "];\n";
    }
    values.erase("smla");
    values.emplace("simd_pairs", simd);
    values.emplace("odd", odd);
  }
  const std::string row_function = one_row ? function : function + "_row";
  const Mul32Code mul32 = mul32_code(map, row_function);
  values.emplace("mul32_rows",
                 mul32.rows.empty() ? "" : context.render(mul32.rows, {{"function", row_function}}));
  values.emplace("mul32_open", mul32.open.empty() ? "" : context.render(mul32.open));
  values.emplace("mul32_close", mul32.close);
  if (one_row) {
    values.emplace("doc", doc);
    values.emplace("function", function);
    return context.render(row, values);
  }
  values.emplace("doc", "Output k of " + function + ".");
  values.emplace("function", function + "_row");
  std::string text = context.render(row, values);
  return text + context.render(kFixedLinear, {{"doc", doc},
                                              {"function", function},
                                              {"frac_bits", std::to_string(map.frac_bits)},
                                              {"n_outputs", std::to_string(map.n_outputs)}});
}

std::string float_centred_inputs(const EmitContext& context, const std::string& center,
                                 bool declare_index) {
  return context.render(kFloatCentredInputs,
                        {{"center", center}, {"declare", declare_index ? "    uint32_t f;\n" : ""}});
}

std::string float_linear_center_note(const EmitContext& context, const std::string& table) {
  return " * The inputs less the pipeline's center (" + context.prefix + "_" + table +
         "_center) first: folded into the offsets,\n * the float32 sum would cancel terms far "
         "larger than its value.\n";
}

std::string emit_float_linear(const EmitContext& context, FamilyCode& code,
                              const std::vector<double>& weight, const FieldOrigin& weight_origin,
                              const std::vector<double>& bias, const FieldOrigin& bias_origin,
                              const std::string& function, const std::string& table,
                              const std::string& doc, const std::vector<double>& center) {
  const std::string& p = context.prefix;
  const auto n_outputs = bias.size();
  const auto n_features = static_cast<std::size_t>(context.model.info.n_features);
  code.tables.add_2d("float", 4, p + "_" + table + "_weight", n_outputs, n_features,
                     rounded_float_literals(weight, weight_origin), "weights, one row per output");
  if (!center.empty()) {
    const FieldOrigin origin{"/preprocessing", FieldOrigin::Layout::Whole, 0,
                             " (the pipeline's stages composed: the input that maps to zero)"};
    code.tables.add("float", 4, p + "_" + table + "_center", rounded_float_literals(center, origin),
                    "the pipeline's input that maps to zero (float32), subtracted from each input");
    // The float32 center is off the exact one by up to half a unit in its last place: what
    // that leaves out of each row starts the row with the bias.
    std::vector<double> start = center_rounding_shares(
        center, n_outputs, [&](std::size_t k, std::size_t f) { return weight[k * n_features + f]; });
    for (std::size_t k = 0; k < n_outputs; ++k) {
      start[k] += bias[k];
      if (std::fabs(start[k]) < 0x1p-126) start[k] = 0;  // as the shares: none
    }
    // The estimator's own intercept, not composed with the stages.
    const FieldOrigin own{bias_origin.path, bias_origin.layout, bias_origin.columns,
                          " (with the float32 center's rounding, weighted)"};
    code.tables.add("float", 4, p + "_" + table + "_bias", rounded_float_literals(start, own),
                    "offsets, one per output, with sum_f weight (the float32 center - the center)");
  } else {
    code.tables.add("float", 4, p + "_" + table + "_bias", rounded_float_literals(bias, bias_origin),
                    "offsets, one per output");
  }
  const bool centred = !center.empty();
  const std::string center_table = p + "_" + table + "_center";
  // Several outputs share one centred input per feature, on the stack (a bounded array).
  const bool once = centred && n_outputs > 1 && n_features <= kWidenedInputsMax;
  return context.render(
      kFloatLinear,
      {{"doc", doc},
       {"function", function},
       {"table", table},
       {"n_outputs", std::to_string(n_outputs)},
       {"input_doc", centred ? "(x[f] - center[f])" : "x[f]"},
       {"center_doc", centred ? "\n * The pipeline's center is subtracted first: folded into the bias, the sum would\n"
                                " * cancel terms far larger than its value (see the center table)."
                              : ""},
       {"prologue", once ? float_centred_inputs(context, center_table, false) : ""},
       {"input", once ? "xc[f]" : centred ? "(x[f] - " + center_table + "[f])" : "x[f]"}});
}

}  // namespace mcuport::codegen

namespace mcuport::codegen {

bool float_diagonal_stage(const EmitContext& context) {
  return context.numeric == Numeric::Float && context.stage != nullptr && context.stage->diagonal &&
         !context.stage->fixed;
}

double stage_feature_shift(const std::vector<double>& values, double spread) {
  double largest = 0;
  double sum = 0;
  for (double v : values) {
    // A value float32 cannot hold is refused with its element's path by its table.
    if (!float32_constant_holds(v)) return 0;
    largest = std::max(largest, std::fabs(v));
    sum += v;
  }
  if (values.empty() || !(largest > kCenterApartRatio * spread)) return 0;
  const double m = static_cast<double>(static_cast<float>(sum / static_cast<double>(values.size())));
  double deviation = 0;
  for (double v : values) deviation = std::max(deviation, std::fabs(v - m));
  return std::fabs(m) > kStageShiftRatio * deviation ? m : 0;
}

std::vector<double> stage_center_taking(const EmitContext& context, const std::vector<double>& shift) {
  if (!float_diagonal_stage(context) ||
      std::all_of(shift.begin(), shift.end(), [](double v) { return v == 0; })) {
    return {};
  }
  const StageProgram& stage = *context.stage;
  MCUPORT_ASSERT(shift.size() == stage.n_outputs && stage.center.size() == stage.n_inputs &&
                 stage.weight.size() == stage.n_inputs);
  std::vector<double> center = stage.center;
  for (std::size_t f = 0; f < center.size(); ++f) {
    if (shift[f] == 0) continue;
    // A zero factor (a constant feature) leaves its output zero whatever it is given: no shift.
    if (!(stage.weight[f] != 0)) return {};
    center[f] += shift[f] / stage.weight[f];
    if (!float32_constant_holds(center[f])) return {};
  }
  return center;
}

std::string float_center(FamilyCode& code, const std::string& name, const std::vector<double>& center,
                         const FieldOrigin& origin, const std::string& doc, const std::string& input,
                         const std::string& index) {
  // The float32 nearest each value, or a refusal naming the value as the document has it.
  code.tables.add("float", 4, name, rounded_float_literals(center, origin), doc);
  std::vector<double> lo(center.size());
  bool any_lo = false;
  for (std::size_t f = 0; f < center.size(); ++f) {
    lo[f] = center[f] - static_cast<double>(static_cast<float>(center[f]));  // exact
    // Below float32's normal range a remainder is a part in 2^102 of the center: none.
    if (std::fabs(lo[f]) < 0x1p-126) lo[f] = 0;
    any_lo = any_lo || lo[f] != 0;
  }
  const std::string hi = "(" + input + " - " + name + "[" + index + "])";
  if (!any_lo) return hi;
  code.tables.add("float", 4, name + "_lo", rounded_float_literals(lo, origin),
                  "the center less the float32 values above, subtracted after them");
  return "(" + hi + " - " + name + "_lo[" + index + "])";
}

std::string float_row_center(FamilyCode& code, const std::string& name, const std::vector<double>& center,
                           const FieldOrigin& origin, const std::string& doc, uint32_t n_rows,
                           const std::function<double(uint32_t, uint32_t)>& weight,
                           const std::string& start, const std::string& row) {
  code.tables.add("float", 4, name, rounded_float_literals(center, origin), doc);
  const std::vector<double> share =
      center_rounding_shares(center, n_rows, [&](std::size_t r, std::size_t f) {
        return weight(static_cast<uint32_t>(r), static_cast<uint32_t>(f));
      });
  if (std::all_of(share.begin(), share.end(), [](double v) { return v == 0; })) return "0.0f";
  const FieldOrigin start_origin{origin.path, FieldOrigin::Layout::Whole, 0,
                                 " (its float32 rounding, weighted: where each row's sum starts)"};
  code.tables.add("float", 4, start, rounded_float_literals(share, start_origin),
                  "per row: sum_f weight[f] * (the float32 center above - the center), where its "
                  "sum starts");
  return start + "[" + row + "]";
}

namespace {

const char* kFloatStage = R"(/* The pipeline's stages in front of the estimator{{doc}}, in float32:
 * y[k] = sum_f weight[k][f] * (x[f] - center[f]). */
static inline void {{p}}_stage(const float x[], float y[]) {
    uint32_t k;
    uint32_t f;
    for (k = 0u; k < {{P}}_N_STAGE_OUTPUTS; ++k) {
        float acc = {{start}};
        for (f = 0u; f < {{P}}_N_FEATURES; ++f) {
            acc += {{p}}_stage_weight[k][f] * (x[f] - {{p}}_stage_center[f]);
        }
        y[k] = acc;
    }
}

)";

const char* kFloatDiagonalStage = R"(/* The pipeline's scalers in front of the estimator, in float32:
 * y[f] = weight[f] * (x[f] - center[f]).{{moved}} */
static inline void {{p}}_stage(const float x[], float y[]) {
    uint32_t f;
    for (f = 0u; f < {{P}}_N_FEATURES; ++f) {
        y[f] = {{p}}_stage_weight[f] * {{centered}};
    }
}

)";

const char* kFixedStage = R"(/* The pipeline's stages in front of the estimator, on codes: each output is requantized to
 * the int16 code the estimator reads, y[k] standing for 2^{{unit_bits}} * (y[k] - offset[k]);
 * outputs beyond the range the input ranges map to saturate. */
static inline void {{p}}_stage(const int16_t x[], int16_t y[]) {
{{declare}}    uint32_t k;
{{widen}}    for (k = 0u; k < {{P}}_N_STAGE_OUTPUTS; ++k) {
        const int64_t v = {{rounded}} + {{p}}_stage_offset[k];
        y[k] = (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
    }
}

)";

}  // namespace

std::string emit_stage(const EmitContext& context, FamilyCode& code) {
  if (!context.stage) return "";
  const StageProgram& stage = *context.stage;
  const std::string& p = context.prefix;
  code.macros += "#define " + context.macro + "_N_STAGE_OUTPUTS " + std::to_string(stage.n_outputs) +
                 "u /* the estimator's input width, after the pipeline's stages */\n";
  code.summary += " * Pipeline stages run first: " + std::to_string(stage.n_outputs) + " outputs from " +
                  std::to_string(stage.n_inputs) + " inputs (" +
                  std::to_string(stage.diagonal ? stage.n_inputs : stage.n_outputs * stage.n_inputs) +
                  " multiply-accumulates)" +
                  (stage.fixed ? ";\n * every output within " + format_bound(stage.error_bound, 4) +
                                     " of the exact stages' output for inputs within the ranges below"
                               : std::string()) +
                  ".\n";
  if (!stage.fixed) {
    // The stages' parameters composed: a constant float32 cannot hold has no one field.
    const FieldOrigin origin{"/preprocessing", FieldOrigin::Layout::Whole, 0,
                             " (the pipeline's stages composed)"};
    if (stage.diagonal) {
      const bool moved = !code.stage_center.empty();
      const std::string centered =
          float_center(code, p + "_stage_center", moved ? code.stage_center : stage.center, origin,
                       moved ? "the stages' input that maps to zero, moved by the estimator's center"
                             : "the stages' input that maps to zero");
      code.tables.add("float", 4, p + "_stage_weight", rounded_float_literals(stage.weight, origin),
                      "the scalers' factors");
      return context.render(
          kFloatDiagonalStage,
          {{"centered", centered},
           {"moved", moved ? "\n * The center is moved by the estimator's: y is the scalers' output less it." : ""}});
    }
    // Only a per-feature stage takes a family's center (stage_center_taking).
    MCUPORT_ASSERT(code.stage_center.empty());
    const uint32_t n_in = stage.n_inputs;
    const std::string start = float_row_center(
        code, p + "_stage_center", stage.center, origin, "the stages' input that maps to zero",
        stage.n_outputs, [&](uint32_t r, uint32_t f) { return stage.weight[r * n_in + f]; },
        p + "_stage_start", "k");
    code.tables.add_2d("float", 4, p + "_stage_weight", stage.n_outputs, stage.n_inputs,
                       rounded_float_literals(stage.weight, origin),
                       "the stages composed (PCA and scalers)");
    return context.render(kFloatStage, {{"doc", " (PCA and scalers, composed)"},
                                        {"start", start}});
  }
  // The fixed stage reads the caller's codes: its own loops run over N_FEATURES.
  MCUPORT_ASSERT(code.stage_center.empty());
  EmitContext raw = context;
  raw.stage = nullptr;
  std::string text = emit_fixed_linear(raw, code, *stage.fixed, "stage_row", "stage",
                                       "Stage output k before requantization.", true);
  code.tables.add("int32_t", 4, p + "_stage_offset", integer_literals(stage.offset),
                  "per output: the code standing for 0");
  // On Cortex-M0 the rows take the codes widened to int32 (31-bit weights), once per call.
  const RowInputs rows = row_inputs(raw, *stage.fixed, "stage_row");
  std::string rounded = p + "_stage_row(" + rows.x + ", k)";
  if (stage.shift > 0) {
    code.fixed_runtime = true;
    rounded = "mcuport_fx_round_shift_i64(" + rounded + ", " + std::to_string(stage.shift) + ")";
  }
  const int unit_bits = stage.shift - stage.fixed->frac_bits;
  return text + context.render(
                    kFixedStage,
                    {{"unit_bits", std::to_string(unit_bits)},
                     {"rounded", rounded},
                     {"declare", rows.declare},
                     {"widen", rows.widen}});
}

}  // namespace mcuport::codegen

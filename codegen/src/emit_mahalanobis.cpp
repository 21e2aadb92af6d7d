// C for Mahalanobis distances (EllipticEnvelope, EmpiricalCovariance and relatives, mcuport's
// plain constructor) and the pipelines that end in them: z = W (x - center), d2 = sum z_r^2. W is
// the transposed Cholesky factor of the precision matrix, upper triangular and packed row by row
// (n (n + 1) / 2 multiply-accumulates), or dense after a PCA stage. Fixed mode: int16 codes,
// proven int32/int64 accumulators, components rounded before squaring, the threshold an integer.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "c_names.hpp"
#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/quantize.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const char* kFloatScore = R"(/* The squared Mahalanobis distance (scikit-learn's mahalanobis), in float32:
 * sum over rows r of (sum_f weight[r][f] * (x[f] - center[f]))^2, the weights packed row by row{{packing}}. */
static inline float {{p}}_score(const float x[]) {
    float sum = 0.0f;
    uint32_t i = 0u;
    uint32_t r;
    uint32_t f;
    for (r = 0u; r < {{P}}_N_ROWS; ++r) {
        float z = {{start}};
        for (f = {{first}}; f < {{P}}_N_FEATURES; ++f) {
            z += {{p}}_row_weight[i++] * (x[f] - {{p}}_row_center[f]);
        }
        sum += z * z;
    }
    return sum;
}

)";

const char* kFixedScore = R"(/* The squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS, on codes. Row r: the component
 * z_r = bias[r] + sum_f weight[f] * xq[f] (weights packed row by row{{packing}}) in units of
 * 2^-{{z_bits}}, |z_r| <= {{z_bound}} in {{acc_t}}{{shift_doc}}; |z_r| < 2^31 then, and the sum
 * of squares is at most {{score_bound}}. */
static inline int64_t {{p}}_score(const int16_t x[]) {
    int64_t sum = 0;
    uint32_t i = 0u;
    uint32_t r;
    uint32_t f;
    for (r = 0u; r < {{P}}_N_ROWS; ++r) {
        {{acc_t}} acc = ({{acc_t}}){{p}}_row_bias[r];
{{row}}        sum += {{p}}_square({{z}});
    }
    return sum;
}

)";

// Where tables are plain data: the whole distance with 31-bit weights as one walk of a weight
// pointer over the packed rows, two products a turn (a row's odd one first), in the same order
// as kRow32, so the same sums. gcc -Os for Cortex-M4 makes a turn of two products 9
// instructions (two LDRSH, two LDR, two SMLAL, a pointer step, compare, branch) against 5 a
// product for kRow32: breast_cancer 3,227 -> 2,610 instructions a prediction, 24 bytes more
// code. Measured and not kept: the index loop unrolled by two (3,816: gcc -Os tests at the top
// and recomputes the indices), a turn that ends on the input pointer (2,815: gcc recomputes the
// weight pointer after each row), a count of pairs (3,212).
// With 15-bit weights ({{w_t}} int16_t) where a core has the DSP extension (Cortex-M4/M7), the
// same walk: a turn is one SMLAD/SMLALD on a word of two weights and a word of two inputs (both
// may be unaligned, which these cores load in one instruction), elsewhere the pair's exact sum
// (two int16 products, below 2^31). gcc -Os for Cortex-M4 makes that turn 5 instructions where
// the index loop of kRow16 spills its four words: MinCovDet on wine (91 terms, 15-bit weights)
// 732 -> 482 instructions a prediction (633 with its former 23-bit weights).
const char* kFixedScorePairs = R"(/* The squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS, on codes. Row r: the component
 * z_r = bias[r] + sum_f weight[f] * xq[f] (weights packed row by row{{packing}}) in units of
 * 2^-{{z_bits}}, |z_r| <= {{z_bound}} in {{acc_t}}{{shift_doc}}; |z_r| < 2^31 then, and the sum
 * of squares is at most {{score_bound}}. The weights are read in order by one pointer, two
 * products a turn. */
static inline int64_t {{p}}_score(const int16_t x[]) {
    int64_t sum = 0;
    const {{w_t}}* w = {{p}}_row_weight;
    uint32_t r;
    for (r = 0u; r < {{P}}_N_ROWS; ++r) {
        {{acc_t}} acc = {{bias}};
        const int16_t* v = &x[{{first}}];
        const {{w_t}}* const row_end = w + ({{P}}_N_FEATURES - {{first}});
        if ((({{P}}_N_FEATURES - {{first}}) & 1u) != 0u) {
            acc += {{product}};
        }
        if (w != row_end) {
            do {
{{turn}}            } while (w != row_end);
        }
        sum += {{p}}_square({{z}});
    }
    return sum;
}

)";

// A turn of kFixedScorePairs: two 31-bit weights, or two 15-bit ones ({{smla}}: __smlad for an
// int32 accumulator, __smlald for an int64 one).
const char* kPairsTurn32 = R"(                acc += (int64_t)*w++ * *v++;
                acc += (int64_t)*w++ * *v++;
)";
const char* kPairsTurn16 = R"(#if MCUPORT_SIMD32
                int32_t wp;
                int32_t xp;
                memcpy(&wp, w, 4u);
                memcpy(&xp, v, 4u);
                acc = {{smla}}(wp, xp, acc);
#else
                acc += ({{acc_t}})((int32_t)w[0] * (int32_t)v[0] + (int32_t)w[1] * (int32_t)v[1]);
#endif
                w += 2;
                v += 2;
)";

// Weights as overlapping words (LowerOptions::overlapping_words: cores that load a word from any
// address, Cortex-M4/M7): weight i is the int32 whose little-endian bytes start at byte 3i, one
// unaligned LDR; 3 bytes a weight where int32 takes 4. The walk of kFixedScorePairs, four
// products a turn, ending on the input pointer; a row of n terms enters the turn at its
// (n mod 4)-th product from the end (Duff's device: one table branch a row, where tests for an
// odd product and an odd pair took four or more). gcc -Os for Cortex-M4, breast_cancer's
// EllipticEnvelope (465 weights): 2,610 -> 2,102 instructions a prediction, 2,256 -> 1,808
// bytes of flash; wine's (91): 640 -> 536, 656 -> 584 B. Measured and not kept, on the same
// words: two products a turn (2,784 on breast_cancer), four a turn after an odd product and an
// odd pair (2,558; wine 661), a turn of two that ends on the weight pointer (3,127: gcc
// recomputes that pointer after the row, dividing by 3) or counts its turns (2,926).
const char* kWord = R"(#ifndef MCUPORT_FALLTHROUGH
#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define MCUPORT_FALLTHROUGH __attribute__((fallthrough)) /* a switch case runs on into the next */
#endif
#endif
#ifndef MCUPORT_FALLTHROUGH
#define MCUPORT_FALLTHROUGH
#endif
#endif

/* The int32 whose little-endian bytes start at b: one unaligned load on Cortex-M4/M7. */
static inline int32_t {{p}}_word(const uint8_t* b) {
    int32_t w;
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&w, b, 4u);
#else
    const uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    memcpy(&w, &u, 4u);
#endif
    return w;
}

)";
const char* kFixedScoreWords = R"(/* The squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS, on codes. Row r: the component
 * z_r = bias[r] + sum_f weight[f] * xq[f] (weights packed row by row{{packing}}, weight i the
 * word at byte 3i of the table) in units of 2^-{{z_bits}}, |z_r| <= {{z_bound}} in int64_t{{shift_doc}};
 * |z_r| < 2^31 then, and the sum of squares is at most {{score_bound}}. The weights are read in
 * order by one pointer, four products a turn; a row of n terms enters the turn at its (n mod 4)-th
 * product from the end (every row has at least one term). */
static inline int64_t {{p}}_score(const int16_t x[]) {
    int64_t sum = 0;
    const uint8_t* w = {{p}}_row_weight;
    const int16_t* const end = x + {{P}}_N_FEATURES;
    uint32_t r;
    for (r = 0u; r < {{P}}_N_ROWS; ++r) {
        int64_t acc = {{p}}_row_bias[r];
        const int16_t* v = &x[{{first}}];
        switch (({{P}}_N_FEATURES - {{first}}) & 3u) {
            case 0u:
                do {
{{product}}                    MCUPORT_FALLTHROUGH;
            case 3u:
{{product}}                    MCUPORT_FALLTHROUGH;
            case 2u:
{{product}}                    MCUPORT_FALLTHROUGH;
            case 1u:
{{product}}                } while (v != end);
                break;
            default:
                break;
        }
        sum += {{p}}_square({{z}});
    }
    return sum;
}

)";

// The component's dot product with 31-bit weights: int32 x int16 products in int64.
const char* kRow32 = R"(        for (f = {{first}}; f < {{P}}_N_FEATURES; ++f) {
            acc += (int64_t){{p}}_row_weight[i] * x[f];
            ++i;
        }
)";

// 31-bit weights stored as 16-bit halves, w = hi 2^16 + lo with lo in [0, 65535] (the table
// layout of cores without a 32 x 32 -> 64 multiply, such as Cortex-M0): both products fit int32
// (|hi x| <= 2^30, |lo x| < 2^31), two int64 sums, the same integer as kRow32.
const char* kRow32Halves = R"(        {
            int64_t high = 0;
            int64_t low = 0;
            for (f = {{first}}; f < {{P}}_N_FEATURES; ++f) {
                high += (int32_t){{p}}_row_weight_hi[i] * (int32_t)x[f];
                low += (int32_t){{p}}_row_weight_lo[i] * (int32_t)x[f];
                ++i;
            }
            acc += high * 65536 + low;
        }
)";

// 23-bit weights on cores whose only multiply is 32 x 32 -> 32 (Cortex-M0): w = hi 2^8 + lo,
// an int16 high part and a byte (lo in [0, 255]), 3 bytes a weight where the 16-bit halves take
// 4. Each product fits int32 (|hi x| <= 2^30, lo |x| <= 255 * 32768), and a row's sums of them
// fit int32 where its bounds 32768 sum_f |hi_f| and 32768 sum_f lo_f do (every row's low sum
// must, else the halves layout is used); a row whose high sum may not is marked in row_wide and
// sums it in int64. acc = bias + high 2^8 + low: the same integer as kRow32. gcc -Os for
// Cortex-M0 makes an int32 term 14 instructions with one index into the row (it reloads the
// three bases), against 17 with three moving pointers and 36 for the halves (breast_cancer:
// 16,631 -> 9,025 instructions a prediction).
const char* kFixedScoreBytes = R"(/* The squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS, on codes. Row r: the component
 * z_r = bias[r] + sum_f weight[f] * xq[f] (weights packed row by row{{packing}}) in units of
 * 2^-{{z_bits}}, |z_r| <= {{z_bound}} in int64_t{{shift_doc}}; |z_r| < 2^31 then, and the sum
 * of squares is at most {{score_bound}}. Each weight is hi * 2^8 + lo (lo in [0, 255]); the row's
 * sums of hi xq and lo xq are int32 ({{wide_doc}}), and acc = bias + high * 2^8 + low. */
static inline int64_t {{p}}_score(const int16_t x[]) {
    int64_t sum = 0;
    const int16_t* h = {{p}}_row_weight_hi;
    const uint8_t* l = {{p}}_row_weight_lo;
    uint32_t r;
    for (r = 0u; r < {{P}}_N_ROWS; ++r) {
        const int16_t* const v = &x[{{first}}];
        const uint32_t n = {{P}}_N_FEATURES - {{first}};
        uint32_t k = 0u;
        int32_t low = 0;
        int64_t acc;
{{loops}}        h += n;
        l += n;
        sum += {{p}}_square({{z}});
    }
    return sum;
}

)";

// The row loop of kFixedScoreBytes ({{indent}}: its indentation): {{high_t}} int32_t, or int64_t
// for rows whose bound 32768 sum_f |hi_f| reaches 2^31 ({{high}} then needs no widening).
const char* kBytesRowLoop = R"({{indent}}{{high_t}} high = 0;
{{indent}}do {
{{indent}}    const int32_t xv = v[k];
{{indent}}    high += (int32_t)h[k] * xv;
{{indent}}    low += (int32_t)l[k] * xv;
{{indent}}} while (++k != n);
{{indent}}acc = {{p}}_row_bias[r] + {{high}} * 256 + low;
)";

// With int16 weights: pairs of products (each pair below 2^31 in magnitude), one SMLAD/SMLALD
// per pair on Arm cores with the DSP extension, the same exact sum on every path.
const char* kRow16 = R"(#if MCUPORT_SIMD32
        for (f = {{first}}; f + 4u <= {{P}}_N_FEATURES; f += 4u) {
            int32_t w0;
            int32_t w1;
            int32_t x0;
            int32_t x1;
            memcpy(&w0, &{{p}}_row_weight[i], 4u);
            memcpy(&w1, &{{p}}_row_weight[i + 2u], 4u);
            memcpy(&x0, &x[f], 4u);
            memcpy(&x1, &x[f + 2u], 4u);
            acc = {{smla}}(w0, x0, acc);
            acc = {{smla}}(w1, x1, acc);
            i += 4u;
        }
        if (f + 2u <= {{P}}_N_FEATURES) {
            int32_t w2;
            int32_t x2;
            memcpy(&w2, &{{p}}_row_weight[i], 4u);
            memcpy(&x2, &x[f], 4u);
            acc = {{smla}}(w2, x2, acc);
            i += 2u;
            f += 2u;
        }
#else
        for (f = {{first}}; f + 2u <= {{P}}_N_FEATURES; f += 2u) {
            acc += ({{acc_t}})((int32_t){{p}}_row_weight[i] * (int32_t)x[f] +
                          (int32_t){{p}}_row_weight[i + 1u] * (int32_t)x[f + 1u]);
            i += 2u;
        }
#endif
        if (f < {{P}}_N_FEATURES) {
            acc += (int32_t){{p}}_row_weight[i] * (int32_t)x[f];
            ++i;
        }
)";

// The Cortex-M0 layouts' split of a weight: w = hi 2^bits + lo, lo in [0, 2^bits - 1].
std::pair<int64_t, int64_t> split_weight(int64_t w, int bits) {
  const int64_t base = int64_t{1} << bits;
  const int64_t lo = w & (base - 1);
  return {(w - lo) / base, lo};
}

// Small models (at most kUnrolledTerms multiply-accumulates, tables in the data address space,
// a 32 x 32 -> 64 multiply or 15-bit weights): straight-line code with the weights and offsets
// written into the instructions (no table, no loop), and predict folds the threshold into the
// sum's start so that the answer is its sign.
const std::size_t kUnrolledTerms = 40;


const char* kComponentShift = R"(/* A component from its accumulator a, which holds the rounding half 2^{{s1}} beside the exact sum:
 * z = floor(a / 2^{{s}}), the sum rounded half up, |z| < 2^31. The unsigned shift of a's 64 bits is
 * z + 2^{{s64}} for a negative a (z for a >= 0), so its low word is z's two's complement. */
static inline int32_t {{p}}_component(int64_t acc) {
    const uint32_t m = (uint32_t)((uint64_t)acc >> {{s}});
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

// Rows on their own binary points (15-bit weights, a point per row): row r's shift, from the
// row_shift table, in a loop.
const char* kComponentBy = R"(/* A component from its accumulator a, rounded right (half up) by s bits (0 <= s <= 32):
 * z = floor((a + 2^(s-1)) / 2^s) (a for s = 0), |z| < 2^31. The 64-bit unsigned sum and shift
 * give z + a multiple of 2^(64-s) for a negative one, so the low word is z's two's complement. */
static inline int32_t {{p}}_component_by(int64_t acc, uint32_t s) {
    const uint32_t m = (uint32_t)(((uint64_t)acc + (((uint64_t)1 << s) >> 1)) >> s);
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

// The same for an int32 accumulator (shifts at most 31), in 32-bit words: with u = a + 2^31
// (a's bits with the top one flipped, in [0, 2^32)), floor((a + 2^(s-1)) / 2^s) is
// floor(u / 2^s) + (bit s-1 of a) - 2^(31-s), computed modulo 2^32 (no 64-bit shift by a
// variable amount, a library call on Cortex-M0 and AVR).
const char* kComponentBy32 = R"(/* A component from its int32 accumulator a, rounded right (half up) by s bits (0 <= s <= 31):
 * z = floor((a + 2^(s-1)) / 2^s) (a for s = 0). With u = a + 2^31 in [0, 2^32), z is
 * floor(u / 2^s) + (bit s-1 of a) - 2^(31-s), here modulo 2^32: its two's complement. */
static inline int32_t {{p}}_component_by(int32_t acc, uint32_t s) {
    const uint32_t u = (uint32_t)acc ^ UINT32_C(0x80000000);
    const uint32_t m = s == 0u ? (uint32_t)acc
                               : (u >> s) + ((u >> (s - 1u)) & 1u) - (UINT32_C(0x80000000) >> s);
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

const char* kSigned = R"(/* The int32 whose two's complement is m (no implementation-defined conversion). */
static inline int32_t {{p}}_signed(uint32_t m) {
    return m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;
}

)";

const char* kFixedSumUnrolled = R"(/* start + the squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS, on codes. Row r's
 * component z_r = offset_r + sum_f weight_rf * xq[f] (weights and offsets written into the code,
 * input quantization folded in{{packing}}) in units of 2^-{{z_bits}}{{shift_doc}}:
 * |z_r| < 2^31, and the sum of squares is at most {{score_bound}}. */
static inline int64_t {{p}}_squared_distance(const int16_t x[], int64_t start) {
{{body}}    return sum;
}

/* The squared Mahalanobis distance * 2^{{P}}_SCORE_FRAC_BITS. */
static inline int64_t {{p}}_score(const int16_t x[]) {
    return {{p}}_squared_distance(x, 0);
}

)";

const char* kPredictUnrolled = R"(/* +1 (inlier) when the squared distance is at most the threshold, else -1 (outlier), as
 * scikit-learn's predict: score <= THRESHOLD <=> score - (THRESHOLD + 1) < 0 (no overflow: the
 * score is at most {{score_bound}}), so the answer is 2 * (that sum's sign bit) - 1. */
static inline int32_t {{p}}_predict(const int16_t x[]) {
    const int64_t d = {{p}}_squared_distance(x, -{{P}}_THRESHOLD - 1);
    return (int32_t)((uint32_t)((uint64_t)d >> 63) << 1) - 1;
}

)";

const char* kPredictConstant = R"(/* +1 (inlier) when the squared distance is at most the threshold, else -1 (outlier), as
 * scikit-learn's predict: every score of an int16 input is {{why}}. */
static inline int32_t {{p}}_predict(const int16_t x[]) {
    (void)x;
    return {{answer}};
}

)";

const char* kPredict = R"(/* +1 (inlier) when the squared distance is at most the threshold, else -1 (outlier), as
 * scikit-learn's predict. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    return {{p}}_score(x) <= {{P}}_THRESHOLD ? 1 : -1;
}

)";

}  // namespace

FamilyCode emit_mahalanobis(const EmitContext& context, const MahalanobisProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const bool fixed = program.fixed.has_value();
  const uint32_t n = program.n_features;
  // The weights the code reads: row r from column r on (triangular), or every column.
  std::vector<double> packed;
  std::vector<int32_t> packed_code;
  for (uint32_t r = 0; r < program.n_rows; ++r) {
    for (uint32_t f = program.triangular ? r : 0; f < n; ++f) {
      packed.push_back(program.weight[r * n + f]);
      if (fixed) packed_code.push_back(program.fixed->weight[r * n + f]);
    }
  }
  const std::string first = program.triangular ? "r" : "0u";
  const std::string packing = program.triangular ? ", upper triangular: row r starts at column r" : "";
  code.macros += "#define " + P + "_N_ROWS " + std::to_string(program.n_rows) +
                 "u /* components of the distance (sum of their squares) */\n";
  const std::string st = fixed ? "int64_t" : "float";
  if (fixed) {
    const FixedLinear& map = *program.fixed;
    const bool wide_weights = map.weight_bits > 15;
    // Where the only multiply is 32 x 32 -> 32 (targets are data: arch), 31-bit weights are
    // stored as 16-bit halves; elsewhere as int32 for one 64-bit multiply-accumulate each.
    const bool halves = wide_weights && context.target.arch == "armv6m";
    const bool unrolled =
        context.target.const_storage == ConstStorage::Ram && packed.size() <= kUnrolledTerms;
    // Each row's binary point: one for all, or (15-bit weights) the row's own.
    const std::string points = map.row_frac_bits.empty() ? "2^" + std::to_string(map.frac_bits)
                                                         : "2^(the row's point)";
    const std::string doc = "the factor of the precision matrix, input quantization folded in, * " + points;
    // 23-bit weights there: an int16 high part and a byte (kFixedScoreBytes), where every row's
    // low sum is within int32; row_wide marks the rows whose high sum may not be.
    std::vector<uint8_t> row_wide;
    bool bytes = halves && !unrolled && map.weight_bits == 23;
    if (bytes) {
      std::size_t i = 0;
      for (uint32_t r = 0; r < program.n_rows && bytes; ++r) {
        uint64_t high_bound = 0;
        uint64_t low_bound = 0;
        for (uint32_t f = program.triangular ? r : 0; f < n; ++f, ++i) {
          const auto [hi, lo] = split_weight(packed_code[i], 8);
          high_bound += static_cast<uint64_t>(hi < 0 ? -hi : hi) * 32768u;
          low_bound += static_cast<uint64_t>(lo) * 32768u;
        }
        bytes = low_bound <= 0x7fffffffu;
        row_wide.push_back(high_bound > 0x7fffffffu ? 1 : 0);
      }
    }
    // Overlapping words (the lowering's choice where the target loads unaligned words), read
    // through one pointer where the tables are plain data.
    const bool words = map.overlapping_words && !unrolled && !halves &&
                       context.target.const_storage == ConstStorage::Ram;
    const std::size_t n_wide_rows = bytes ? static_cast<std::size_t>(std::count(row_wide.begin(), row_wide.end(), 1)) : 0;
    if (unrolled) {
    } else if (halves) {
      // w = hi 2^b + lo: an int16 and a byte where `bytes` (b = 8, |w| < 2^23), else two 16-bit
      // halves (b = 16).
      const int b = bytes ? 8 : 16;
      std::vector<int32_t> high;
      std::vector<int32_t> low;
      for (int32_t w : packed_code) {
        MCUPORT_ASSERT(!bytes || (w > -(1 << 23) && w < (1 << 23)));
        const auto [hi, lo] = split_weight(w, b);
        high.push_back(static_cast<int32_t>(hi));
        low.push_back(static_cast<int32_t>(lo));
      }
      code.tables.add("int16_t", 2, p + "_row_weight_hi", integer_literals(high),
                      doc + (bytes ? ": high parts" : ": high halves"));
      code.tables.add(bytes ? "uint8_t" : "uint16_t", bytes ? 1 : 2, p + "_row_weight_lo",
                      integer_literals(low),
                      bytes ? "the same weights' low bytes: weight = hi * 256 + lo"
                            : "the same weights' low halves: weight = hi * 65536 + lo");
      if (n_wide_rows != 0 && n_wide_rows != row_wide.size()) {
        std::vector<int32_t> flags(row_wide.begin(), row_wide.end());
        code.tables.add("uint8_t", 1, p + "_row_wide", integer_literals(flags),
                        "per row: 1 where 32768 sum |hi| reaches 2^31, so that the high sum is int64");
      }
    } else if (words) {
      // Weight i's low three bytes at byte 3i; its top byte is weight i + 1's low byte (the
      // lowering chose it so), and the last weight's closes the table.
      std::vector<int32_t> stream;
      for (std::size_t i = 0; i < packed_code.size(); ++i) {
        const auto u = static_cast<uint32_t>(packed_code[i]);
        MCUPORT_ASSERT(i == 0 || (u & 0xFFu) == static_cast<uint32_t>(packed_code[i - 1]) >> 24);
        for (int byte = 0; byte < 3; ++byte) stream.push_back(static_cast<int32_t>((u >> (8 * byte)) & 0xFFu));
      }
      stream.push_back(packed_code.empty() ? 0 : static_cast<int32_t>(static_cast<uint32_t>(packed_code.back()) >> 24));
      code.tables.add("uint8_t", 1, p + "_row_weight", integer_literals(stream),
                      doc + ": weight i is the little-endian int32 at byte 3i (its top byte is the "
                            "next weight's low byte)");
    } else {
      code.tables.add(wide_weights ? "int32_t" : "int16_t", wide_weights ? 4 : 2, p + "_row_weight",
                      integer_literals(packed_code), doc);
    }
    const int s = *std::max_element(program.row_shift.begin(), program.row_shift.end());
    // Every row shifted by s, or (15-bit weights, a binary point per row) each by its own.
    const bool uniform = std::all_of(program.row_shift.begin(), program.row_shift.end(),
                                     [&](int shift) { return shift == s; });
    MCUPORT_ASSERT(uniform || !wide_weights);
    // The rounding half 2^(s-1) of the components' shift (kComponentShift); s <= 32
    // (lower_mahalanobis). An int64 accumulator holds it from the start, in its offset (no
    // overflow: |bias| + 2^31 + 32768 sum |w| < 2^63); an int32 one takes it when widened. With
    // a shift per row, kComponentBy adds each row's.
    MCUPORT_ASSERT(s <= 32);
    const int64_t acc_offset = s > 0 ? int64_t{1} << (s - 1) : 0;
    const bool half_in_bias = map.wide && !unrolled && uniform;
    std::vector<std::string> bias;
    for (int64_t b : map.bias) {
      bias.push_back(map.wide ? "INT64_C(" + std::to_string(half_in_bias ? b + acc_offset : b) + ")"
                              : std::to_string(b));
    }
    if (!unrolled) {
      const std::string half =
          half_in_bias && s > 0 ? " and the rounding half 2^" + std::to_string(s - 1) : "";
      code.tables.add(map.wide ? "int64_t" : "int32_t", map.wide ? 8 : 4, p + "_row_bias", bias,
                      "per row: the offset of the component" + half + ", * " + points);
    }
    if (!unrolled && !uniform) {
      std::vector<int32_t> shifts(program.row_shift.begin(), program.row_shift.end());
      code.tables.add("uint8_t", 1, p + "_row_shift", integer_literals(shifts),
                      "per row: the right shift (rounded half up) that brings its component from its "
                      "binary point to 2^-" + std::to_string(program.score_frac_bits / 2));
    }
    code.macros += "#define " + P + "_SCORE_FRAC_BITS " + std::to_string(program.score_frac_bits) +
                   " /* score = squared distance * 2^this */\n";
    code.macros += "#define " + P + "_COMPONENT_ERROR_BOUND " + format_general(program.z_error, 17) +
                   " /* e: each component within e of the exact one; a score near d2 within\n"
                   "   2 e sqrt(N_ROWS d2) + N_ROWS e^2 of d2 */\n";
    if (program.has_threshold) {
      code.macros += "#define " + P + "_THRESHOLD INT64_C(" + std::to_string(program.threshold_code) +
                     ") /* the largest inlier score: floor(threshold * 2^SCORE_FRAC_BITS) */\n";
    }
    // |bias + sum| <= the accumulator bound, plus the half where the offset holds it.
    const std::string z_bound =
        std::to_string(map.accumulator_bound + (half_in_bias ? static_cast<uint64_t>(acc_offset) : 0u));
    std::string z = "(int32_t)acc";
    std::string shift_doc;
    code.functions += square_function(context, "int64_t");
    if (!uniform) {
      shift_doc = ",\n * each row on its own binary point, rounded right (half up) by row_shift[r] bits into "
                  "units of 2^-" + std::to_string(program.score_frac_bits / 2) + " before squaring";
      if (!unrolled) {
        z = p + "_component_by(acc, " + p + "_row_shift[r])";
        code.functions += context.render(!map.wide && s <= 31 ? kComponentBy32 : kComponentBy);
      }
    } else if (s > 0) {
      z = half_in_bias ? p + "_component(acc)"
                       : p + "_component((int64_t)acc + INT64_C(" + std::to_string(acc_offset) + "))";
      shift_doc = ",\n * rounded right (half up) by " + std::to_string(s) + " bits before squaring";
    }
    // The loops' rows of one shift, and unrolled int64 ones, call kComponentShift.
    const auto component_function = [&] {
      return context.render(kComponentShift, {{"s", std::to_string(s)},
                                              {"s1", std::to_string(s - 1)},
                                              {"s64", std::to_string(64 - s)}});
    };
    if (!unrolled && uniform && s > 0) code.functions += component_function();
    // Where each row has its own binary point, the docs name the row's.
    const std::string z_bits = map.row_frac_bits.empty() ? std::to_string(map.frac_bits) : "(row r's point)";
    std::string row;
    code.simd = true;  // MCUPORT_MUL32_ONLY (the squares), MCUPORT_SIMD32 (int16 weights)
    // |z|^2 <= score_bound < 2^62 (lower_mahalanobis), hence |z| < 2^31.
    MCUPORT_ASSERT(static_cast<long double>(program.score_bound) < 0x1p62L);
    if (unrolled) {
      // The weights and offsets as constants; the tables are gone (the bias and weight tables
      // below are skipped). With s > 0 the offset includes the rounding half 2^(s-1).
      // 31-bit weights multiply u_f = x_f + 32768 (in [0, 65535]) and the offset takes
      // -32768 sum_f w_f: the same integer (every partial sum below 2^62), and gcc forms each
      // product with one SMLAL on Cortex-M4, where with the signed x_f it builds a constant's
      // 64-bit product from UMULL, MLA and a carried add (6 instructions against 2).
      // Each row's accumulator, by its bound (32768 sum_f |w_f| + |offset|): an int32 where the
      // row needs no shift and the bound fits; with a shift s <= 31 and 15-bit weights, where
      // the bound plus the half 2^(s-1) stays below 2^31, an unsigned sum biased by 2^31
      // (acc + half + 2^31 lies in [0, 2^32), so the wrapping sum is that exactly, and its shift
      // by s less 2^(31-s) is z's two's complement: one multiply-add a term and two instructions
      // a row on every core); else int64.
      enum class Kind { Int32, Biased, Int64 };
      std::vector<Kind> kinds;
      {
        for (uint32_t r = 0; r < program.n_rows; ++r) {
          const int shift = program.row_shift[r];
          const uint64_t bound = row_accumulator_bound(map, r);
          const uint64_t half = shift > 0 ? uint64_t{1} << (shift - 1) : 0;
          kinds.push_back(wide_weights                                         ? Kind::Int64
                          : shift == 0 && bound <= 0x7fffffffu                 ? Kind::Int32
                          : shift > 0 && shift <= 31 && bound + half <= 0x7fffffffu ? Kind::Biased
                                                                               : Kind::Int64);
        }
      }
      const auto has = [&](Kind kind) { return std::find(kinds.begin(), kinds.end(), kind) != kinds.end(); };
      const bool one_kind = std::all_of(kinds.begin(), kinds.end(), [&](Kind k) { return k == kinds[0]; });
      // One variable per kind used, `acc` where there is one kind.
      const auto name = [&](Kind kind) {
        return one_kind || kind == Kind::Int64 ? std::string("acc") : kind == Kind::Int32 ? "acc32" : "accu";
      };
      if (uniform && s > 0 && has(Kind::Int64)) code.functions += component_function();
      std::string body;
      if (wide_weights && !halves) {
        std::vector<bool> used(n, false);
        std::size_t j = 0;
        for (uint32_t r = 0; r < program.n_rows; ++r) {
          for (uint32_t f = program.triangular ? r : 0; f < n; ++f, ++j) used[f] = used[f] || packed_code[j] != 0;
        }
        for (uint32_t f = 0; f < n; ++f) {
          if (!used[f]) continue;
          body += "    const int32_t u" + std::to_string(f) + " = (int32_t)x[" + std::to_string(f) +
                  "] + 32768;\n";
        }
      }
      body += "    int64_t sum = start;\n";
      if (has(Kind::Int64)) body += "    int64_t acc;\n";
      if (has(Kind::Int32)) body += "    int32_t " + name(Kind::Int32) + ";\n";
      if (has(Kind::Biased)) body += "    uint32_t " + name(Kind::Biased) + ";\n";
      std::size_t i = 0;
      bool signed_helper = false;
      for (uint32_t r = 0; r < program.n_rows; ++r) {
        const Kind kind = kinds[r];
        const int shift = program.row_shift[r];
        int64_t offset = map.bias[r] + (shift > 0 ? int64_t{1} << (shift - 1) : 0);
        std::string terms;
        if (halves) {
          // No 32 x 32 -> 64 multiply: w = hi 2^b + lo (lo in [0, 2^b - 1]; b = 16 for 31-bit
          // weights, 8 for 23-bit ones, whose low sums then fit int32), the row's sums
          // H = sum_f hi_f x_f and L = sum_f lo_f x_f of 32-bit products (|hi x| <= 2^30,
          // |lo x| < 2^31), each in int32 where its bound sum |c_f| 32768 allows, else int64;
          // acc = offset + H 2^b + L, exactly.
          const int b = map.weight_bits == 23 ? 8 : 16;
          const std::string scale = std::to_string(int64_t{1} << b);
          std::vector<std::pair<uint32_t, int64_t>> high;
          std::vector<std::pair<uint32_t, int64_t>> low;
          for (uint32_t f = program.triangular ? r : 0; f < n; ++f, ++i) {
            const auto [hi, lo] = split_weight(packed_code[i], b);
            if (hi != 0) high.emplace_back(f, hi);
            if (lo != 0) low.emplace_back(f, lo);
          }
          const auto sum_of = [](const std::vector<std::pair<uint32_t, int64_t>>& parts) {
            uint64_t bound = 0;
            for (const auto& part : parts) bound += static_cast<uint64_t>(part.second < 0 ? -part.second : part.second) * 32768u;
            const bool narrow = bound <= 0x7fffffffu;
            std::string text;
            for (const auto& part : parts) {
              const std::string product = "(int32_t)x[" + std::to_string(part.first) + "] * " +
                                          (part.second < 0 ? "(" + std::to_string(part.second) + ")"
                                                           : std::to_string(part.second));
              text += (text.empty() ? "" : " + ") + (narrow ? product : "(int64_t)(" + product + ")");
            }
            return std::make_pair(narrow, text);
          };
          if (high.size() == 1) {
            // One term: gcc would fold (x hi) 2^b into a 64-bit product with a constant, a
            // call to __aeabi_lmul; the unsigned product (the same bits, |x hi| <= 2^30) read
            // back as int32 keeps it a 32-bit multiply.
            signed_helper = true;
            terms += "\n          + (int64_t)" + p + "_signed((uint32_t)(int32_t)x[" +
                     std::to_string(high[0].first) + "] * (uint32_t)" +
                     (high[0].second < 0 ? "(" + std::to_string(high[0].second) + ")"
                                         : std::to_string(high[0].second)) + ") * " + scale;
          } else if (!high.empty()) {
            const auto h = sum_of(high);
            terms += "\n          + (int64_t)(" + h.second + ") * " + scale;
          }
          if (!low.empty()) {
            const auto l = sum_of(low);
            terms += "\n          + " + (l.first ? "(int64_t)(" + l.second + ")" : l.second);
          }
        }
        for (uint32_t f = program.triangular ? r : 0; !halves && f < n; ++f, ++i) {
          const int32_t w = packed_code[i];
          if (w == 0) continue;
          const std::string literal = w < 0 ? "(" + std::to_string(w) + ")" : std::to_string(w);
          const std::string k = std::to_string(f);
          if (wide_weights) offset -= int64_t{32768} * w;
          const std::string product = "(int32_t)x[" + k + "] * " + literal;
          terms += "\n          + " + (wide_weights           ? "(int64_t)u" + k + " * " + literal
                                     : kind == Kind::Int64  ? "(int64_t)(" + product + ")"
                                     : kind == Kind::Biased ? "(uint32_t)(" + product + ")"
                                                            : product);
        }
        const std::string acc = name(kind);
        std::string component = "(int32_t)" + acc;
        if (kind == Kind::Int64) {
          body += "    acc = INT64_C(" + std::to_string(offset) + ")" + terms;
          if (shift > 0 && uniform) {
            component = p + "_component(acc)";
          } else if (shift > 0) {
            signed_helper = true;  // the low word of the unsigned shift, as kComponentShift
            component = p + "_signed((uint32_t)((uint64_t)acc >> " + std::to_string(shift) + "))";
          }
        } else if (kind == Kind::Biased) {
          const uint64_t biased = static_cast<uint64_t>(offset + (int64_t{1} << 31));  // in [0, 2^32)
          body += "    " + acc + " = UINT32_C(" + std::to_string(biased) + ")" + terms;
          signed_helper = true;
          component = p + "_signed((" + acc + " >> " + std::to_string(shift) + ") - UINT32_C(" +
              std::to_string(uint64_t{1} << (31 - shift)) + "))";
        } else {
          body += "    " + acc + " = " + std::to_string(offset) + terms;
        }
        body += ";\n    sum += " + p + "_square(" + component + ");\n";
      }
      if (signed_helper) code.functions += context.render(kSigned);
      code.functions += context.render(
          kFixedSumUnrolled, {{"packing", program.triangular ? ", upper triangular" : ""},
                              {"z_bits", z_bits},
                              {"shift_doc", shift_doc},
                              {"score_bound", std::to_string(program.score_bound)},
                              {"body", body}});
    }
    // One pointer over the weights where they are plain data (not AVR's PROGMEM, read by
    // index) and one 64-bit multiply-accumulate forms each product (not the halves).
    const bool pairs = !unrolled && wide_weights && !halves &&
                       context.target.const_storage == ConstStorage::Ram;
    // 15-bit weights walked in pairs on cores with the DSP extension (targets are data: arch).
    const bool pairs16 = !unrolled && !wide_weights && context.target.arch == "armv7em" &&
                         context.target.const_storage == ConstStorage::Ram;
    if (unrolled || pairs || pairs16 || bytes) {
    } else if (wide_weights) {
      row = context.render(halves ? kRow32Halves : kRow32, {{"first", first}});
    } else {
      row = context.render(kRow16, {{"first", first},
                                    {"acc_t", map.wide ? "int64_t" : "int32_t"},
                                    {"smla", map.wide ? "__smlald" : "__smlad"}});
    }
    // What every loop form's score function says of its sums.
    const TemplateValues score_values = {{"packing", packing},
                                         {"first", first},
                                         {"z_bits", z_bits},
                                         {"z_bound", z_bound},
                                         {"shift_doc", shift_doc},
                                         {"score_bound", std::to_string(program.score_bound)},
                                         {"z", z}};
    if (bytes) {
      MCUPORT_ASSERT(map.wide);  // 23-bit weights: int64 accumulators
      std::string loops;
      std::string wide_doc;
      const auto row_loop = [&](bool wide_row, const std::string& indent) {
        return context.render(kBytesRowLoop, {{"indent", indent},
                                              {"high_t", wide_row ? "int64_t" : "int32_t"},
                                              {"high", wide_row ? "high" : "(int64_t)high"}});
      };
      if (n_wide_rows == 0) {
        loops = row_loop(false, "        ");
        wide_doc = "the high sum too, in every row";
      } else if (n_wide_rows == row_wide.size()) {
        loops = row_loop(true, "        ");
        wide_doc = "the high sum int64 in every row";
      } else {
        loops = context.render("        if ({{p}}_row_wide[r] != 0u) {\n") + row_loop(true, "            ") +
                "        } else {\n" + row_loop(false, "            ") + "        }\n";
        wide_doc = "the high sum int64 in the " + std::to_string(n_wide_rows) + " rows marked in row_wide";
      }
      TemplateValues values = score_values;
      values["wide_doc"] = wide_doc;
      values["loops"] = loops;
      code.functions += context.render(kFixedScoreBytes, values);
    } else if (words) {
      MCUPORT_ASSERT(map.wide && uniform && half_in_bias);  // one point: one shift, in the offsets
      code.includes += "#include <string.h>\n";
      code.functions += context.render(kWord);
      TemplateValues values = score_values;
      values["product"] = context.render("                    acc += (int64_t){{p}}_word(w) * *v++;\n"
                                         "                    w += 3;\n");
      code.functions += context.render(kFixedScoreWords, values);
    } else if (pairs || pairs16) {
      MCUPORT_ASSERT(map.wide || pairs16);  // 31-bit weights: int64 sums
      const std::string acc_t = map.wide ? "int64_t" : "int32_t";
      TemplateValues values = score_values;
      values["w_t"] = pairs ? "int32_t" : "int16_t";
      values["acc_t"] = acc_t;
      values["bias"] = pairs ? p + "_row_bias[r]" : "(" + acc_t + ")" + p + "_row_bias[r]";
      values["product"] = pairs ? "(int64_t)*w++ * *v++" : "(int32_t)*w++ * (int32_t)*v++";
      values["turn"] = pairs ? context.render(kPairsTurn32)
                             : context.render(kPairsTurn16, {{"smla", map.wide ? "__smlald" : "__smlad"},
                                                             {"acc_t", acc_t}});
      code.functions += context.render(kFixedScorePairs, values);
    } else if (!unrolled) {
      TemplateValues values = score_values;
      values.erase("first");  // in `row`
      values["acc_t"] = map.wide ? "int64_t" : "int32_t";
      values["row"] = row;
      code.functions += context.render(kFixedScore, values);
    }
    code.summary = " * Fixed point: " +
                   (map.overlapping_words
                        ? std::string(unrolled ? "24-bit weights written into the code as the integers of overlapping "
                                                 "32-bit words (each one's low byte the previous one's top byte)"
                                               : "24-bit weights as overlapping 32-bit words (each one's low byte "
                                                 "the previous one's top byte)")
                                          : std::to_string(map.weight_bits + 1) + "-bit weights") +
                   " with the input quantization folded in" +
                   (map.row_frac_bits.empty() ? ", " : ", each row on its own binary point, ") +
                   (map.wide ? "int64" : "int32") + " accumulators, int64 score. Each component is within " +
                   format_general(program.z_error, 3) +
                   " of the exact one on the values the codes stand for, so a score near d2 is within\n *   2 e sqrt(" +
                   std::to_string(program.n_rows) + " d2) + " + std::to_string(program.n_rows) +
                   " e^2 of it (e = " + format_general(program.z_error, 3) + ").\n";
  } else {
    // The factor's entries are not the precision matrix's: the field as a whole.
    const FieldOrigin precision{"/params/precision", FieldOrigin::Layout::Whole, 0,
                                std::string(" (a Cholesky factor of this field") +
                                    (context.stages_composed() ? ", the pipeline's stages composed in)" : ")")};
    code.tables.add("float", 4, p + "_row_weight", rounded_float_literals(packed, precision),
                    "the transposed Cholesky factor of the precision matrix, pipeline stages folded in");
    const bool triangular = program.triangular;
    const std::string start = float_row_center(
        code, p + "_row_center", program.center, context.vector_field("/params/location"),
        "the location, in the raw input", program.n_rows,
        [&](uint32_t r, uint32_t f) { return triangular && f < r ? 0.0 : program.weight[r * n + f]; },
        p + "_row_start", "r");
    if (program.has_threshold) {
      // score <= this (float32) <=> score <= threshold, for every float32 score.
      code.macros += "#define " + P + "_THRESHOLD " +
                     float_literal(largest_float_not_above(std::min(program.threshold, double{FLT_MAX}))) +
                     " /* the largest inlier score */\n";
    }
    code.functions += context.render(
        kFloatScore, {{"packing", packing}, {"first", first}, {"start", start}});
  }
  code.summary += " * " + std::to_string(program.n_rows) + " components x " + std::to_string(n) +
                  " inputs: " + std::to_string(packed.size()) +
                  " multiply-accumulates and " + std::to_string(program.n_rows) +
                  " squares per distance.\n";
  const std::string xt = context.input_type();
  const bool unrolled = fixed && context.target.const_storage == ConstStorage::Ram &&
                        packed.size() <= kUnrolledTerms;
  if (program.has_threshold && unrolled) {
    const std::string bound = std::to_string(program.score_bound);
    if (program.threshold_code < 0) {
      code.functions += context.render(kPredictConstant, {{"why", "at least 0 > THRESHOLD"}, {"answer", "-1"}});
    } else if (static_cast<uint64_t>(program.threshold_code) >= program.score_bound) {
      code.functions += context.render(
          kPredictConstant, {{"why", "at most " + bound + " <= THRESHOLD"}, {"answer", "1"}});
    } else {
      code.functions += context.render(kPredictUnrolled, {{"score_bound", bound}});
    }
  } else if (program.has_threshold) {
    code.functions += context.render(kPredict);
  }
  if (program.has_threshold) {
    code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   +1 inlier, -1 outlier\n";
  }
  code.api += " *   " + st + " " + p + "_score(const " + xt + " x[]);   squared Mahalanobis distance" +
              (fixed ? " * 2^" + P + "_SCORE_FRAC_BITS" : std::string()) + "\n";
  code.scores = {program.has_threshold ? "int32_t" : "", p + "_score", 1, st};
  code.scores.scalar = true;
  return code;
}

}  // namespace mcuport::codegen

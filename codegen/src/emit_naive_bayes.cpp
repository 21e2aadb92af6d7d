// C for Gaussian naive Bayes: per class, a constant minus a weighted sum of squared distances to
// the class means (2 multiply-adds per class and feature), then the argmax. Float32 in float
// mode; in fixed mode the distances are FixedSquaredDistance (one 32-bit value per term, from a
// 32-bit product or the high word of a 32 x 32 one) and the constants int64.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

const char* kFloatJointLogProba = R"(/* scikit-learn's predict_joint_log_proba: per class c,
 *   log(prior_c) - 0.5 sum log(2 pi var_c) - 0.5 sum (x - theta_c)^2 / var_c.
 * Softmax of these is predict_proba. */
static inline void {{p}}_predict_joint_log_proba(const float {{xin}}[], float out[]) {
{{stage}}    uint32_t c;
    uint32_t f;
{{centering}}    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        float acc = {{p}}_class_bias[c];
        for (f = 0u; f < {{nf}}; ++f) {
            const float d = {{xc}}[f] - {{p}}_theta[c][f];
            acc -= {{p}}_class_weight[c][f] * d * d;
        }
        out[c] = acc;
    }
}

)";

// Float mode where some features have the same mean and variance in every class (a feature
// constant in training: var_smoothing's variance and the constant, in every class). Their terms
// are one sum, not one per class, kept apart from the class scores: in float32 beside them it
// would round their differences away (an input stuck 1.0 off its training constant weighs about
// 7e8, where a float32 step is 64; predict then differed from scikit-learn's on 38% of iris's
// rows). predict compares the class scores alone, as the shared sum is every class's alike, and
// so does predict_proba's softmax where the caller takes it of m_class_part.
const char* kFloatClassScores = R"(/* Per class c, log(prior_c) - 0.5 sum log(2 pi var_c) - 0.5 sum (x - theta_c)^2 / var_c over
 * the features whose mean or variance differs between the classes ({{p}}_class_run), on the
 * estimator's input: the joint log-likelihood less {{p}}_shared_distance, which every class has
 * alike. */
static inline void {{p}}_parts(const float x[], float out[]) {
    uint32_t c;
{{unused_x}}{{centering}}    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        float acc = {{p}}_class_bias[c];
{{class_terms}}        out[c] = acc;
    }
}

/* 0.5 sum (x - theta)^2 / var over the features whose mean and variance are the same in every
 * class ({{p}}_shared_feature): one term per feature, apart from the class scores, whose
 * differences it would round away in float32 beside them. */
static inline float {{p}}_shared_distance(const float x[]) {
    float acc = 0.0f;
    uint32_t k;
    for (k = 0u; k < {{n_shared}}u; ++k) {
        const float d = {{shared_centered}};
        acc += {{p}}_shared_weight[k] * d * d;
    }
    return acc;
}

/* The joint log-likelihood of each class less the part every class shares: softmax of these is
 * scikit-learn's predict_proba. (The joint log-likelihoods' own softmax is too, in exact
 * arithmetic; in float32 they carry the shared part's magnitude, which rounds their differences.) */
static inline void {{p}}_class_part(const float {{xin}}[], float out[]) {
{{stage}}    {{p}}_parts(x, out);
}

/* scikit-learn's predict_joint_log_proba: per class c,
 *   log(prior_c) - 0.5 sum log(2 pi var_c) - 0.5 sum (x - theta_c)^2 / var_c,
 * the class part less the shared distance, in float32 at the shared distance's magnitude. */
static inline void {{p}}_predict_joint_log_proba(const float {{xin}}[], float out[]) {
{{stage}}    uint32_t c;
    float shared;
    {{p}}_parts(x, out);
    shared = {{p}}_shared_distance(x);
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] -= shared;
    }
}

/* The class with the largest joint log-likelihood (ties go to the lowest index), compared
 * without the shared distance, which every class has alike. A NaN or infinite shared distance
 * (a NaN or infinity in a shared feature; it is never negative) makes every joint
 * log-likelihood NaN or -inf: class 0, as for the other features. */
static inline int32_t {{p}}_predict(const float {{xin}}[]) {
{{stage}}    float scores[{{P}}_N_CLASSES];
    {{p}}_parts(x, scores);
    if (!({{p}}_shared_distance(x) <= 3.40282347e+38f)) {
        return 0;
    }
    return {{p}}_argmax(scores, {{P}}_N_CLASSES);
}

)";

// kFloatClassScores's loop over the class features (none where every feature is shared), run by
// run of consecutive features: the inputs are read in order, as the tables are, where a list of
// the features' indices cost each term a byte load and an address add (Cortex-M4F, -Os: 8
// instructions a term where 11 were; digits on the host 6,171 instructions a prediction where
// 6,214). size_t indices let gcc walk them as pointers on a 64-bit host (uint32_t ones, which
// may wrap, took 7,999).
const char* kFloatClassTerms = R"(        size_t k = 0u;
        uint32_t r;
        for (r = 0u; r < {{n_runs}}u; ++r) {
            size_t f = {{p}}_class_run[r][0];
            const size_t end = {{p}}_class_run[r][1];
            do {
                const float d = x[f] - {{p}}_theta[c][k];
                acc -= {{p}}_class_weight[c][k] * d * d;
                ++f;
                ++k;
            } while (f != end);
        }
)";

// The same over the class features centred once per prediction (float_input_center): each
// class term reads its input less the feature's center, and the means are held less it.
const char* kFloatCenteredClassTerms = R"(        size_t k;
        for (k = 0u; k < {{n_apart}}u; ++k) {
            const float d = xc[k] - {{p}}_theta[c][k];
            acc -= {{p}}_class_weight[c][k] * d * d;
        }
)";

// The class features' inputs less their centers, run by run (kFloatClassTerms' order).
const char* kFloatCenterRuns = R"(    float xc[{{n_apart}}u];
    {
        size_t k = 0u;
        uint32_t r;
        for (r = 0u; r < {{n_runs}}u; ++r) {
            size_t f = {{p}}_class_run[r][0];
            const size_t end = {{p}}_class_run[r][1];
            do {
                xc[k] = x[f] - {{p}}_input_center[k];
                ++f;
                ++k;
            } while (f != end);
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

// The per-term form where tables are plain data (Arm, RISC-V, host), walked by pointer, each
// term written out where it is used. With a 64-bit multiply-accumulate the loop takes four terms a
// turn into a signed sum (each t^2 < 2^62 and every partial sum below 2^62, so the same integer):
// gcc keeps one UMLAL per term there, where it reassociated an unsigned sum's four squares into a
// second 64-bit sum and spilled; on Cortex-M0 four terms a turn spilled more (measured), so the
// loop there stays one term a turn.
const char* kFixedJointLogProbaTerms = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
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
        for (f = 0u; f < {{nf}}; ++f) {
{{one32}}            /* No 32 x 32 -> 64 multiply instruction: with t = th 2^16 + tl, t^2's low word is
             * t * t mod 2^32 and its high word th^2 + ((th tl + (tl^2 >> 17)) >> 15) (the inner
             * sum stays below 2^32); the low word's carry is added by hand, and the sum stays
             * below 2^62, so high never wraps. */
            const uint32_t th = t >> 16;
            const uint32_t tl = t & UINT32_C(0xFFFF);
            const uint32_t square = t * t;
            low += square;
            high += th * th + ((th * tl + ((tl * tl) >> 17)) >> 15) + (low < square ? 1u : 0u);
            term += 2;
        }
        out[c] = {{p}}_class_bias[c] - (int64_t)(((uint64_t)high << 32) | low);
#else
        int64_t sum = 0;
        for (f = 0u; f + 4u <= {{nf}}; f += 4u) {
{{four}}            term += 8;
        }
        for (; f < {{nf}}; ++f) {
{{one}}            term += 2;
        }
        out[c] = {{p}}_class_bias[c] - sum;
#endif
{{row_step}}    }
}

)";

// The high-word form (FixedSquaredDistance::high_word: targets whose core gives the high word of
// a 32 x 32 product in one instruction, Target::high_word_multiply), tables plain data: per term
// the int32 difference (x - center) 2^15 and its product's high word with the 31-bit root, one
// SMULL (its high register kept) and one SMLAL on Cortex-M4, no shift and no absolute value. The
// inputs times 2^15 are widened once per prediction onto the stack (at most kWidenedInputsMax of
// them), so that the difference is one subtract with a shifted operand. Eight terms a turn, then the rest
// one by one, into a signed sum (each t^2 < 2^62, every sum below 2^62). Digits on Cortex-M4F
// (bench/compare.py, 50 rows): 7,481 instructions a prediction with the per-term shifts, 5,171
// with the difference widened in each term, 4,927 with the widened inputs (4,727 with 16 terms a
// turn, for 176 bytes more).
const char* kFixedJointLogProbaHighWord = R"(/* scikit-learn's predict_joint_log_proba * 2^{{P}}_SCORE_FRAC_BITS: per class c, the
 * constant log(prior_c) - 0.5 sum log(2 pi var_c) minus the class's weighted squared distance
 * sum_f t_f^2, t_f = floor((x_f - center_cf) * root_cf / 2^17): the high word of the int32 values
 * (x_f - center_cf) * 2^15 (|x - center| < 2^16) and root_cf (below 2^31), read as the int32 of
 * its two's complement; |t| < 2^31, each t^2 is exact in 64 bits, and every sum is at most
 * {{bound}} (below 2^62) for every int16 input. */
static inline void {{p}}_predict_joint_log_proba(const int16_t {{xin}}[], int64_t out[]) {
{{stage}}    const int16_t *center = &{{p}}_class_center[0][0];
    const int32_t *root = &{{p}}_class_root[0][0];
{{widen}}    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        uint32_t f;
        int64_t sum = 0;
        for (f = 0u; f + 8u <= {{nf}}; f += 8u) {
{{eight}}            center += 8;
            root += 8;
        }
        for (; f < {{nf}}; ++f) {
{{one}}            center += 1;
            root += 1;
        }
        out[c] = {{p}}_class_bias[c] - sum;
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

const char* kUnrolledPredict = R"(/* The class with the largest joint log-likelihood (ties go to the lowest index): the scores
 * of {{p}}_predict_joint_log_proba, compared as they are formed. */
static inline int32_t {{p}}_predict(const int16_t {{xin}}[]) {
{{stage}}{{body}}}

)";

const char* kPredict = R"(/* The class with the largest joint log-likelihood; ties go to the lowest index. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    {{st}} jll[{{P}}_N_CLASSES];
    {{p}}_predict_joint_log_proba(x, jll);
    return {{p}}_argmax(jll, {{P}}_N_CLASSES);
}

)";

std::string int64_literal(int64_t value) {
  // INT64_MIN has no literal of its own; the class constants stay below 2^61 in magnitude.
  return "INT64_C(" + std::to_string(value) + ")";
}

// Two classes at one binary point, where a 32 x 32 -> 64 multiply is one instruction: per
// feature, t_0^2 - t_1^2 = (t_0 - t_1) (t_0 + t_1), both factors linear in x and exact int32
// values where each (and its product term x coefficient) stays within int32 over every int16 code
// (checked here at both ends of the code range; else ""). One multiply-accumulate per feature
// where the squares took two and a subtraction.
std::string difference_of_squares(const NaiveBayesProgram& program) {
  const FixedSquaredDistance& distance = *program.distance;
  const uint32_t n = program.n_features;
  auto fits = [](int64_t root, int64_t offset) {
    for (int64_t q : {int64_t{-32768}, int64_t{32767}}) {
      const int64_t product = q * root;
      const int64_t value = product - offset;
      if (product < INT32_MIN || product > INT32_MAX || value < INT32_MIN || value > INT32_MAX) {
        return false;
      }
    }
    return true;
  };
  auto linear = [](uint32_t f, int64_t root, int64_t offset) {
    return "((int32_t)x[" + std::to_string(f) + "] * " + std::to_string(root) +
           (offset < 0 ? " + " : " - ") + std::to_string(offset < 0 ? -offset : offset) + ")";
  };
  std::string text;
  for (uint32_t f = 0; f < n; ++f) {
    const int64_t r0 = distance.root[f];
    const int64_t r1 = distance.root[n + f];
    const int64_t c0 = distance.offset[f];
    const int64_t c1 = distance.offset[n + f];
    if (!fits(r0 - r1, c0 - c1) || !fits(r0 + r1, c0 + c1)) return "";
    text += "    e += (int64_t)" + linear(f, r0 - r1, c0 - c1) + " * " +
            linear(f, r0 + r1, c0 + c1) +
            ";\n";
  }
  return text;
}

// The same products with Arm's DSP multiplies: two inputs in one word (pair k: x_2k low,
// x_2k+1 high), and where a feature's root difference and sum are both signed halfwords, one
// constant with R_0 - R_1 in its low half and R_0 + R_1 in its high half, each factor one SMLAxy
// (16 x 16 + 32, the same int32 value); other features keep the plain product. "" where no
// feature takes the DSP form.
std::string difference_of_squares_dsp(const NaiveBayesProgram& program) {
  const FixedSquaredDistance& distance = *program.distance;
  const uint32_t n = program.n_features;
  std::string products;
  std::set<uint32_t> pairs;
  for (uint32_t f = 0; f < n; ++f) {
    const int64_t r0 = distance.root[f];
    const int64_t r1 = distance.root[n + f];
    const int64_t c0 = distance.offset[f];
    const int64_t c1 = distance.offset[n + f];
    const int64_t difference = r0 - r1;
    const int64_t sum = r0 + r1;
    const bool paired = f / 2 < n / 2;  // an odd last feature has no pair
    if (!paired || difference < -32768 || difference > 32767 || sum > 32767) {
      auto linear = [&](int64_t root, int64_t offset) {
        return "((int32_t)x[" + std::to_string(f) + "] * " + std::to_string(root) +
               (offset < 0 ? " + " : " - ") + std::to_string(offset < 0 ? -offset : offset) + ")";
      };
      products += "    e += (int64_t)" + linear(difference, c0 - c1) + " * " +
                  linear(sum, c0 + c1) + ";\n";
      continue;
    }
    const int64_t roots = (sum << 16) | (difference & 0xFFFF);
    const std::string x = f % 2 == 0 ? "b" : "t";
    const std::string pair = "pair" + std::to_string(f / 2);
    pairs.insert(f / 2);
    products += "    e += (int64_t)__smla" + x + "b(" + pair + ", " + std::to_string(roots) + ", " +
                std::to_string(c1 - c0) + ") * __smla" + x + "t(" + pair + ", " +
                std::to_string(roots) + ", " + std::to_string(-(c0 + c1)) + ");\n";
  }
  if (pairs.empty()) return "";
  std::string text = "    /* two inputs a word (little-endian: x[2k] in the low half) */\n";
  for (uint32_t k : pairs) text += "    int32_t pair" + std::to_string(k) + ";\n";
  for (uint32_t k : pairs) {
    text += "    memcpy(&pair" + std::to_string(k) + ", &x[" + std::to_string(2 * k) + "], 4);\n";
  }
  return text + products;
}

// predict of the straight-line form at one binary point: no score array and no argmax loop.
// Two classes: class 1 wins when B_1 - S_1 > B_0 - S_0, that is when e = (B_1 - B_0 - 1) + S_0 -
// S_1 >= 0; one int64 sum takes both classes' squares (|B| < 2^61 and every S < 2^62, so every
// partial sum stays below 2^63 in magnitude). More classes: e_c = S_c - B_c = -jll_c, summed from
// -B_c, and the first smallest e_c is the first largest jll_c.
std::string unrolled_predict_one_point_body(const EmitContext& context,
                                            const NaiveBayesProgram& program,
                                            const std::vector<std::vector<std::string>>& terms) {
  const std::string& p = context.prefix;
  std::string body;
  if (program.n_classes == 2) {
    body += "    /* class 1 when its score is the larger: when (B_1 - B_0 - 1) + S_0 - S_1 >= 0,\n"
            "     * S_c the class's sum of squares (every partial sum below 2^63 in magnitude) */\n";
    body += "    int64_t e = " +
            int64_literal(program.bias_code[1] - program.bias_code[0] - 1) + ";\n";
    const std::string products = difference_of_squares(program);
    if (!products.empty()) body += "#if MCUPORT_MUL32_ONLY\n";
    for (const std::string& t : terms[0]) {
      body += "    e += (int64_t)" + p + "_square(" + t + ");\n";
    }
    for (const std::string& t : terms[1]) {
      body += "    e -= (int64_t)" + p + "_square(" + t + ");\n";
    }
    const std::string dsp = products.empty() ? "" : difference_of_squares_dsp(program);
    if (!dsp.empty()) {
      body += "#elif MCUPORT_SIMD32 && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP\n" + dsp;
    }
    if (!products.empty()) body += "#else\n" + products + "#endif\n";
    body += "    return e < 0 ? 0 : 1;\n";
  } else {
    body += "    /* per class, e_c = S_c - B_c (the negated score, from -B_c up: |B| < 2^61 and\n"
            "     * S_c < 2^62); the first smallest e_c is the first largest score */\n";
    body += "    int64_t e;\n    int64_t low;\n    int32_t best = 0;\n";
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      body += "    e = " + int64_literal(-program.bias_code[c]) + ";\n";
      for (const std::string& t : terms[c]) {
        body += "    e += (int64_t)" + p + "_square(" + t + ");\n";
      }
      if (c == 0) {
        body += "    low = e;\n";
      } else {
        body += "    if (e < low) {\n        low = e;\n        best = " + std::to_string(c) +
                ";\n    }\n";
      }
    }
    body += "    (void)low;\n    return best;\n";
  }
  return body;
}

// predict of the straight-line form with a binary point per class: each class's score as
// predict_joint_log_proba forms it, compared as it is formed.
std::string unrolled_predict_body(const EmitContext& context, const NaiveBayesProgram& program,
                                  const std::vector<std::vector<std::string>>& terms) {
  const std::string& p = context.prefix;
  const FixedSquaredDistance& distance = *program.distance;
  std::string body =
      "    uint64_t sum;\n    int64_t score;\n    int64_t top;\n    int32_t best = 0;\n";
  for (uint32_t c = 0; c < program.n_classes; ++c) {
    body += "    sum = 0u;\n";
    for (const std::string& t : terms[c]) body += "    sum += " + p + "_square(" + t + ");\n";
    const int k = distance.row_shift[c];
    const std::string rounded =
        k > 0 ? "mcuport_fx_round_shift_u64(sum, " + std::to_string(k) + ")" : "sum";
    const std::string score = p + "_class_bias[" + std::to_string(c) + "] - (int64_t)" + rounded;
    if (c == 0) {
      body += "    top = " + score + ";\n";
    } else {
      body += "    score = " + score +
              ";\n    if (score > top) {\n        top = score;\n        best = " +
              std::to_string(c) + ";\n    }\n";
    }
  }
  body += "    (void)top;\n    return best;\n";
  return body;
}

// The same terms with Arm's DSP multiplies: two inputs in one word (pair k: x_2k in its low
// half, x_2k+1 in its high half), two roots in one constant, and each t = x root - offset one
// SMLABB or SMLATT (16 x 16 + 32; exact, |t| < 2^31). Empty where an offset's negation is not
// an int32 value.
std::vector<std::vector<std::string>> dsp_terms(const NaiveBayesProgram& program) {
  const FixedSquaredDistance& distance = *program.distance;
  const uint32_t n = program.n_features;
  std::vector<std::vector<std::string>> terms(program.n_classes);
  for (uint32_t c = 0; c < program.n_classes; ++c) {
    for (uint32_t f = 0; f < n; ++f) {
      const int64_t offset = distance.offset[c * n + f];
      if (offset == INT32_MIN) return {};
      const int64_t root = distance.root[c * n + f];
      if (f + 1 == n && n % 2 == 1) {
        terms[c].push_back("(int32_t)x[" + std::to_string(f) + "] * " + std::to_string(root) +
                           (offset < 0 ? " + " : " - ") +
                           std::to_string(offset < 0 ? -offset : offset));
        continue;
      }
      const uint32_t first = f - f % 2;
      const int64_t roots = static_cast<int64_t>(distance.root[c * n + first]) |
                            (static_cast<int64_t>(distance.root[c * n + first + 1]) << 16);
      terms[c].push_back(std::string(f % 2 == 0 ? "__smlabb" : "__smlatt") + "(pair" +
                         std::to_string(f / 2) + ", " + std::to_string(roots) + ", " +
                         std::to_string(-offset) + ")");
    }
  }
  return terms;
}

// predict of the straight-line form: compares the scores as it forms them; with Arm's DSP
// multiplies where there are more than two classes (two take one product per feature instead).
std::string unrolled_predict(const EmitContext& context, const NaiveBayesProgram& program,
                             const std::vector<std::vector<std::string>>& terms, bool one_point) {
  auto body = [&](const std::vector<std::vector<std::string>>& t) {
    return one_point ? unrolled_predict_one_point_body(context, program, t)
                     : unrolled_predict_body(context, program, t);
  };
  const std::vector<std::vector<std::string>> dsp =
      program.n_classes > 2 && program.n_features > 1 ? dsp_terms(program)
                                                       : std::vector<std::vector<std::string>>{};
  std::string text;
  if (dsp.empty()) {
    text = body(terms);
  } else {
    std::string pairs;
    for (uint32_t k = 0; k < program.n_features / 2; ++k) {
      pairs += "    int32_t pair" + std::to_string(k) + ";\n";
    }
    for (uint32_t k = 0; k < program.n_features / 2; ++k) {
      pairs += "    memcpy(&pair" + std::to_string(k) + ", &x[" + std::to_string(2 * k) +
               "], 4);\n";
    }
    text = "#if MCUPORT_SIMD32 && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP\n"
           "    /* two inputs a word (little-endian: x[2k] in the low half) for SMLABB / SMLATT */\n" +
           pairs + body(dsp) + "#else\n" + body(terms) + "#endif\n";
  }
  return context.render(kUnrolledPredict, {{"body", text}});
}

// Float mode: a center per feature of `features` (float32 values, the average of its class
// means), subtracted from the input once per prediction, and the means held less it; empty where
// no class mean's float32 rounding exceeds kCenterApartRatio units of float32 rounding of the
// feature's largest class standard deviation (the distance of a typical input from the means:
// a class constant in training has var_smoothing's deviation, but the inputs it meets are the
// other classes' spread away, or the constant itself). A mean far from zero next to its spread
// (air pressure in Pa: 101325 as a float32 is up to 0.004 off, 2,300 such units of a spread of
// 18) moved the float32 joint log-likelihood 15 times past the bound the tests hold it to; raw
// or scaled iris, wine, breast_cancer and digits are at most 12 units off and keep x - mean.
// Empty too behind a pipeline's stage (see stage_shift: a per-feature scaler's center takes
// it), beyond kWidenedInputsMax features (the centred inputs are a local array), and where a
// centred mean would leave float32's range.
std::vector<double> float_input_center(const EmitContext& context, const NaiveBayesProgram& program,
                                       const std::vector<uint32_t>& features) {
  const uint32_t nf = program.n_features;
  if (context.stage != nullptr || features.size() > kWidenedInputsMax) return {};
  bool needed = false;
  for (uint32_t f : features) {
    double spread = 0;
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      spread = std::max(spread, std::sqrt(0.5 / program.weight[c * nf + f]));
    }
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      const double theta = program.theta[c * nf + f];
      // A mean float32 cannot hold is refused with its element's path by the means' table.
      if (!float32_constant_holds(theta)) return {};
      const double rounding = std::fabs(theta - static_cast<double>(static_cast<float>(theta)));
      needed = needed || rounding > kCenterApartRatio * 0x1p-24 * spread;
    }
  }
  if (!needed) return {};
  std::vector<double> center;
  for (uint32_t f : features) {
    double sum = 0;
    for (uint32_t c = 0; c < program.n_classes; ++c) sum += program.theta[c * nf + f];
    center.push_back(static_cast<double>(static_cast<float>(sum / program.n_classes)));
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      if (!float32_constant_holds(program.theta[c * nf + f] - center.back())) return {};
    }
  }
  return center;
}

// Behind a per-feature scaler stage, whose float32 outputs are rounded at the size of the means
// before the family could subtract anything: per feature, shared or not, the center the
// stage's own takes (stage_feature_shift of its class means, next to its largest class
// standard deviation, as float_input_center's rule).
std::vector<double> stage_shift(const EmitContext& context, const NaiveBayesProgram& program) {
  const uint32_t nf = program.n_features;
  std::vector<double> shift(nf, 0.0);
  if (!float_diagonal_stage(context)) return shift;
  for (uint32_t f = 0; f < nf; ++f) {
    std::vector<double> means;
    double spread = 0;
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      means.push_back(program.theta[c * nf + f]);
      spread = std::max(spread, std::sqrt(0.5 / program.weight[c * nf + f]));
    }
    shift[f] = stage_feature_shift(means, spread);
  }
  return shift;
}

}  // namespace

FamilyCode emit_naive_bayes(const EmitContext& context, const NaiveBayesProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const bool fixed = program.distance.has_value();
  const std::string st = fixed ? "int64_t" : "float";
  std::string predict;  // written by the form that has its own predict, else kPredict
  bool own_predict = false;  // the form wrote predict into code.functions itself
  std::size_t terms_per_prediction = std::size_t{program.n_classes} * program.n_features;
  std::string float_notes;
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
        // Per class, its terms t_f = x_f root - offset (the same expressions in both functions).
        std::vector<std::vector<std::string>> terms(program.n_classes);
        const uint32_t n = program.n_features;
        for (uint32_t c = 0; c < program.n_classes; ++c) {
          for (uint32_t f = 0; f < n; ++f) {
            const int64_t offset = distance.offset[c * n + f];
            terms[c].push_back("(int32_t)x[" + std::to_string(f) + "] * " +
                               std::to_string(distance.root[c * n + f]) +
                               (offset < 0 ? " + " : " - ") +
                               std::to_string(offset < 0 ? -offset : offset));
          }
        }
        std::string body;
        for (uint32_t c = 0; c < program.n_classes; ++c) {
          body += "    {\n        uint64_t sum = 0u;\n";
          for (const std::string& t : terms[c]) {
            body += "        sum += " + p + "_square(" + t + ");\n";
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
        predict = unrolled_predict(context, program, terms, one_point);
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
    } else if (distance.high_word) {
      // Only targets whose tables are plain data ask for high-word terms (Cortex-M4/M7, RV32).
      MCUPORT_ASSERT(pointers && distance.center_fits_int16());
      code.tables.add_2d("int16_t", 2, p + "_class_center", program.n_classes, program.n_features,
                         integer_literals(distance.center),
                         "per class and feature: the mean in input codes, rounded");
      code.tables.add_2d("int32_t", 4, p + "_class_root", program.n_classes, program.n_features,
                         integer_literals(distance.wide_root),
                         "per class and feature: sqrt(0.5 / var) in codes * 2^(SCORE_FRAC_BITS / 2 "
                         "+ 17)");
      const bool widened = program.n_features <= kWidenedInputsMax;
      const std::string widen =
          widened ? context.render("    int32_t xs[{{nf}}];  /* x * 2^15, once per prediction */\n"
                                   "    uint32_t i;\n"
                                   "    for (i = 0u; i < {{nf}}; ++i) {\n"
                                   "        xs[i] = (int32_t)x[i] * 32768;\n"
                                   "    }\n")
                  : "";
      auto term_lines = [&](uint32_t u, const std::string& indent) {
        const std::string fu = u == 0 ? "f" : "f + " + std::to_string(u) + "u";
        const std::string xv = widened ? "xs[" + fu + "]" : "(int32_t)x[" + fu + "] * 32768";
        const std::string k = std::to_string(u);
        return indent + "const int32_t d = " + xv + " - (int32_t)center[" + k + "] * 32768;\n" +
               indent + "const uint32_t m = (uint32_t)((uint64_t)((int64_t)d * root[" + k +
               "]) >> 32);\n" + indent +
               "const int32_t t = m >= UINT32_C(0x80000000) ? -(int32_t)(~m) - 1 : (int32_t)m;\n" +
               indent + "sum += (int64_t)t * t;\n";
      };
      std::string eight;
      for (uint32_t u = 0; u < 8; ++u) {
        eight += "            {\n" + term_lines(u, "                ") + "            }\n";
      }
      code.functions += context.render(kFixedJointLogProbaHighWord,
                                       {{"bound", std::to_string(distance.bound)},
                                        {"widen", widen},
                                        {"eight", eight},
                                        {"one", term_lines(0, "            ")}});
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
      if (pointers) {
        // One term, t = floor(|x - center| root / 2^shift), written where it is used (gcc -Os
        // did not always inline a function of it).
        auto term_lines = [&](uint32_t u, const std::string& indent) {
          const std::string fu = u == 0 ? "f" : "f + " + std::to_string(u) + "u";
          const std::string shift = distance.uniform_shift()
                                        ? std::to_string(distance.shift.front()) + "u"
                                        : "shift[" + fu + "]";
          return indent + "const int32_t d = (int32_t)x[" + fu + "] - (int32_t)term[" +
                 std::to_string(2 * u) + "];\n#if MCUPORT_SIMD32\n" + indent +
                 "const uint32_t sign = 0u - (uint32_t)(d < 0);  /* |d|: two instructions on "
                 "Cortex-M4 */\n" +
                 indent + "const uint32_t m = ((uint32_t)d ^ sign) - sign;\n#else\n" + indent +
                 "const uint32_t m = (uint32_t)(d < 0 ? -d : d);\n#endif\n" + indent +
                 "const uint32_t t = (m * (uint32_t)" + (narrow ? "(uint16_t)" : "") + "term[" +
                 std::to_string(2 * u + 1) + "]) >> " + shift + ";\n";
        };
        const std::string add = "sum += (int64_t)((uint64_t)t * t);\n";
        std::string four;
        for (uint32_t u = 0; u < 4; ++u) {
          four += "            {\n" + term_lines(u, "                ") + "                " + add +
                  "            }\n";
        }
        values.emplace("four", four);
        values.emplace("one", term_lines(0, "            ") + "            " + add);
        values.emplace("one32", term_lines(0, "            "));
        for (const char* key : {"center", "root", "step", "rt", "shift"}) values.erase(key);
        code.functions += context.render(kFixedJointLogProbaTerms, values);
      } else {
        code.functions += context.render(kFixedJointLogProba, values);
      }
    }
  } else {
    // log(prior) - 0.5 sum log(2 pi var): class c's variances make it what it is.
    code.tables.add("float", 4, p + "_class_bias",
                    rounded_float_literals(program.bias, {"/params/var", FieldOrigin::Layout::Elements}),
                    "per class: log(prior) - 0.5 sum log(2 pi var)");
    // Features whose mean and weight are the same in every class.
    const uint32_t nc = program.n_classes;
    const uint32_t nf = program.n_features;
    std::vector<uint32_t> shared;
    std::vector<uint32_t> apart;
    // As float32, the tables' type: scikit-learn's per-class mean of a constant can differ by
    // an ulp between classes (5.3, not 5.0), which float32 does not hold, so the float code
    // computed the same term for every class anyway.
    const auto f32 = [](double v) { return static_cast<float>(v); };
    for (uint32_t f = 0; f < nf; ++f) {
      bool same = true;
      for (uint32_t c = 1; c < nc && same; ++c) {
        same = f32(program.theta[c * nf + f]) == f32(program.theta[f]) &&
               f32(program.weight[c * nf + f]) == f32(program.weight[f]);
      }
      (same ? shared : apart).push_back(f);
    }
    // The class features' centers, where their means' float32 rounding matters (`apart` is
    // every feature where none is shared).
    const std::vector<double> center = float_input_center(context, program, apart);
    std::vector<double> theta = program.theta;
    // Behind a scaler stage its own center takes the means' centers, from the raw input.
    const std::vector<double> shift = stage_shift(context, program);
    code.stage_center = stage_center_taking(context, shift);
    const bool stage_centred = !code.stage_center.empty();
    if (stage_centred) {
      for (uint32_t c = 0; c < nc; ++c) {
        for (uint32_t f = 0; f < nf; ++f) theta[c * nf + f] -= shift[f];
      }
      float_notes += " * The stage's center also takes the features' centers (the averages of their class means)\n"
                     " * from the raw input, and the means are held less them: the stage's float32 outputs would\n"
                     " * be rounded at the size of the means, a visible part of their spread.\n";
    }
    if (!center.empty()) {
      for (uint32_t c = 0; c < nc; ++c) {
        for (std::size_t k = 0; k < apart.size(); ++k) theta[c * nf + apart[k]] -= center[k];
      }
      code.tables.add("float", 4, p + "_input_center",
                      rounded_float_literals(center, {"/params/theta", FieldOrigin::Layout::Whole, 0,
                                                      " (the average of a feature's class means)"}),
                      "per class feature: subtracted from its input once per prediction (the "
                      "average of its class means, as float32)");
      float_notes += " * The class features' inputs less " + p + "_input_center once per prediction, and the\n"
                     " * means less it: the means' float32 rounding would be a visible part of their spread.\n";
    }
    const std::string theta_doc = stage_centred   ? "per class: the feature means less the centers the stage takes"
                                  : center.empty() ? "per class: the feature means"
                                                   : "per class: the feature means less " + p + "_input_center";
    if (shared.empty()) {
      code.tables.add_2d("float", 4, p + "_theta", nc, nf,
                         rounded_float_literals(theta, {"/params/theta", FieldOrigin::Layout::Matrix, nf}),
                         theta_doc);
      code.tables.add_2d("float", 4, p + "_class_weight", nc, nf,
                         rounded_float_literals(program.weight, {"/params/var", FieldOrigin::Layout::Matrix, nf}),
                         "per class: 0.5 / variance");
      code.functions += context.render(
          kFloatJointLogProba,
          {{"centering", center.empty() ? "" : float_centred_inputs(context, p + "_input_center", false)},
           {"xc", center.empty() ? "x" : "xc"}});
    } else {
      // The tables hold the class features' columns (`apart`) and the shared features once; a
      // refusal names the document's element (per class and feature, or class 0's).
      const auto columns = [&](const std::vector<double>& table, const std::vector<uint32_t>& features,
                               uint32_t classes, const std::string& field) {
        std::vector<std::string> out;
        for (uint32_t c = 0; c < classes; ++c) {
          for (uint32_t f : features) {
            const std::string path = field + "/" + std::to_string(c) + "/" + std::to_string(f);
            const double v = table[c * nf + f];
            out.push_back(rounded_float_literal(v, float32_constant_holds(v) ? std::string() : path));
          }
        }
        return out;
      };
      const CType index_type = unsigned_type_for(nf - 1);
      const auto indices = [](const std::vector<uint32_t>& features) {
        std::vector<std::string> out;
        for (uint32_t f : features) out.push_back(std::to_string(f) + "u");
        return out;
      };
      std::string terms;
      std::string centering;
      if (!apart.empty()) {
        // (first, end) of each run of consecutive such features
        std::vector<std::pair<uint32_t, uint32_t>> spans;
        for (uint32_t f : apart) {
          if (!spans.empty() && spans.back().second == f) {
            spans.back().second = f + 1;
          } else {
            spans.emplace_back(f, f + 1);
          }
        }
        std::vector<std::string> runs;
        for (const auto& [first, end] : spans) {
          runs.push_back(std::to_string(first) + "u");
          runs.push_back(std::to_string(end) + "u");
        }
        const CType run_type = unsigned_type_for(nf);
        code.tables.add_2d(run_type.name, run_type.bytes, p + "_class_run", runs.size() / 2, 2, runs,
                           "the features whose mean or variance differs between the classes, "
                           "as runs of consecutive ones: first, end");
        code.tables.add_2d("float", 4, p + "_theta", nc, apart.size(),
                           columns(theta, apart, nc, "/params/theta"),
                           stage_centred   ? "per class: the means of those features less the centers the stage takes"
                           : center.empty() ? "per class: the means of those features"
                                            : "per class: the means of those features less " + p + "_input_center");
        code.tables.add_2d("float", 4, p + "_class_weight", nc, apart.size(),
                           columns(program.weight, apart, nc, "/params/var"),
                           "per class: 0.5 / variance of those features");
        const std::string n_runs = std::to_string(runs.size() / 2);
        const std::string n_apart = std::to_string(apart.size());
        if (center.empty()) {
          terms = context.render(kFloatClassTerms, {{"n_runs", n_runs}});
        } else {
          centering = context.render(kFloatCenterRuns, {{"n_runs", n_runs}, {"n_apart", n_apart}});
          terms = context.render(kFloatCenteredClassTerms, {{"n_apart", n_apart}});
        }
      }
      code.tables.add(index_type.name, index_type.bytes, p + "_shared_feature", indices(shared),
                      "the features whose mean and variance are the same in every class");
      // Their means as a float32 and its remainder (float_center): with a training constant's
      // variance a mean's float32 rounding (5.3: 2e-7) is thousands of standard deviations.
      std::vector<double> shared_theta;
      for (uint32_t f : shared) shared_theta.push_back(theta[f]);  // less the stage's shift
      columns(program.theta, shared, 1, "/params/theta");  // a refusal names class 0's element
      const std::string shared_centered =
          float_center(code, p + "_shared_mean", shared_theta, FieldOrigin{"/params/theta"}, "their means",
                       "x[" + p + "_shared_feature[k]]", "k");
      code.tables.add("float", 4, p + "_shared_weight", columns(program.weight, shared, 1, "/params/var"),
                      "their 0.5 / variance");
      code.functions += argmax_function(context, st);
      code.functions += context.render(
          kFloatClassScores, {{"unused_x", apart.empty() ? "    (void)x; /* no feature differs between the classes */\n"
                                                           : ""},
                              {"class_terms", terms},
                              {"centering", centering},
                              {"n_shared", std::to_string(shared.size())},
                              {"shared_centered", shared_centered}});
      own_predict = true;  // kFloatClassScores's
      terms_per_prediction = nc * apart.size() + shared.size();
      float_notes += " * " + std::to_string(shared.size()) + " of the " + std::to_string(nf) +
                    " features have the same mean and variance in every class: their terms are one "
                    "sum,\n * apart from the class scores, which predict compares.\n";
    }
  }
  code.summary = " * " + std::to_string(program.n_classes) + " classes x " +
                 std::to_string(program.n_features) + " features: " +
                 std::to_string(2 * terms_per_prediction) + " multiply-adds per prediction.\n" +
                 float_notes;
  if (program.distance) {
    code.summary += " * Every class's joint log-likelihood within a T + b sqrt(T) + c of scikit-learn's on the\n"
                    " * values the codes stand for, T = sum_f (x[f] - theta[c][f])^2 / (2 var[c][f]) the\n"
                    " * class's exact distance" +
                    (context.model.preprocessing.empty() ? std::string()
                                                         : " (x: the estimator's input, after the pipeline)") +
                    ": a = " + format_bound(program.error.relative, 4) +
                    ", b = " + format_bound(program.error.root, 4) + ", c = " +
                    format_bound(program.error.absolute, 4) + ".\n";
  }
  if (predict.empty() && !own_predict) {
    code.functions += argmax_function(context, st);
    predict = context.render(kPredict, {{"st", st}});
  }
  code.functions += predict;
  code.scores = {"int32_t", p + "_predict_joint_log_proba", program.n_classes, st};
  const std::string xt = context.input_type();
  code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index\n";
  code.api += " *   void " + p + "_predict_joint_log_proba(const " + xt + " x[], " + st + " out[" +
              P + "_N_CLASSES]);\n";
  if (own_predict) {
    code.api += " *   void " + p + "_class_part(const float x[], float out[" + P +
                "_N_CLASSES]);   the same less a part every class shares: softmax is predict_proba\n";
  }
  return code;
}

}  // namespace mcuport::codegen

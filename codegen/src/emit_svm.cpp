// C for SVMs (SVC, NuSVC, OneClassSVM), float mode: one loop over the support vectors that
// adds each kernel value into the decision values of every pair it belongs to (no kernel cache
// on the stack), or, for a linear kernel, one dot product per pair with the collapsed weights.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

// The fixed-mode header's statement of the decision values' proven error (lower_arith.hpp,
// SvmProgram::dec_error_bound).
std::string decision_bound_line(const SvmProgram& program) {
  return " * Every decision value within " + format_bound(program.dec_error_bound, 4) +
         " of scikit-learn's on the values the codes stand for.\n";
}

const char* kKernel = R"(/* The kernel between x and support vector s: {{kernel_doc}}. */
static inline float {{p}}_sv_kernel(const float x[], uint32_t s) {
    float acc = 0.0f;
    uint32_t f;
    for (f = 0u; f < {{nf}}; ++f) {
{{kernel_step}}    }
{{kernel_result}}}

)";

// The support vectors are in class order (libsvm's n_support): one loop per class's run, and
// for each the pairs its coefficient columns go to, read from a table, where a loop over every
// class with the pair's index computed (a multiply and two branches a class) took about 20
// instructions a term on Cortex-M4F.
const char* kDecisionValues = R"(/* The decision value of every pair of classes (i < j, in libsvm's order (0,1), (0,2), ...,
 * (1,2), ...): positive votes for i. Class c's support vectors are s = sv_end[c - 1] (0 for
 * class 0) to sv_end[c] - 1, as libsvm orders them; each adds its kernel value, times its
 * coefficient in column t, into the pair sv_pair[c][t]. */
static inline void {{p}}_decision_values(const {{xt}} {{xin}}[], {{dt}} dec[]) {
{{stage}}    uint32_t p;
    uint32_t s = 0u;
    uint32_t c;
{{setup}}    for (p = 0u; p < {{P}}_N_PAIRS; ++p) {
        dec[p] = {{p}}_intercept[p];
    }
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        const uint32_t end = (uint32_t){{p}}_sv_end[c];
        for (; s < end; ++s) {
            const {{dt}} k = {{kernel_value}};
            uint32_t t;
            for (t = 0u; t < {{P}}_N_CLASSES - 1u; ++t) {
                dec[{{p}}_sv_pair[c][t]] += {{term_open}}{{p}}_sv_coef[s][t]{{term_mid}}k{{term_close}};
            }
        }
    }
}

)";

// One pair (OneClassSVM, or two classes, where every support vector's one coefficient goes to
// the single pair): one accumulator. The general loop would also index pairs that do not exist
// on paths the compiler cannot rule out, which gcc -O2 reports as -Warray-bounds.
const char* kDecisionValuesOnePair = R"(/* The decision value: sum of coefficient * kernel over the support vectors, plus the intercept. */
static inline void {{p}}_decision_values(const {{xt}} {{xin}}[], {{dt}} dec[]) {
{{stage}}    {{dt}} acc = {{p}}_intercept[0];
    uint32_t s;
{{setup}}    for (s = 0u; s < {{P}}_N_SUPPORT_VECTORS; ++s) {
        const {{dt}} k = {{kernel_value}};
        acc += {{term_open}}{{p}}_sv_coef[s][0]{{term_mid}}k{{term_close}};
    }
    dec[0] = acc;
}

)";

// Float mode, a one-class SVM: its decision value is the sum of its support vectors' terms
// (about nu n of them, coefficients up to 1) less rho, which is about as large, so a plain float32
// sum rounds at rho's size what ends up far smaller (air pressure, nu = 0.1: 8.4e-5 off, one of
// 1,000 test rows unlike scikit-learn's; scaled digits 1.6e-5). Compensated (Kahan) summation
// carries each addition's rounding into the next term: 2.2e-6 and none, 2.9e-6; three more
// additions per support vector, beside its kernel's exp.
const char* kFloatOneClassDecision = R"(/* The decision value: sum of coefficient * kernel over the support vectors, plus the intercept
 * (-rho), summed with compensation (Kahan): the terms add up to about rho and the value is far
 * smaller, so each addition's float32 rounding is carried into the next term. (-ffast-math lets
 * a compiler drop the compensation: the plain sum.) */
static inline void {{p}}_decision_values(const float {{xin}}[], float dec[]) {
{{stage}}    float acc = {{p}}_intercept[0];
    float carry = 0.0f;
    uint32_t s;
{{setup}}    for (s = 0u; s < {{P}}_N_SUPPORT_VECTORS; ++s) {
        const float term = {{p}}_sv_coef[s][0] * {{kernel_value}} - carry;
        const float sum = acc + term;
        carry = (sum - acc) - term;
        acc = sum;
    }
    dec[0] = acc;
}

)";

// Cortex-M0 (MCUPORT_MUL32_ONLY) RBF distance terms: three 32-bit sums of the products of
// 13-bit halves, joined to the 64-bit sum every kMul32DistanceChunk features (each sum stays below
// 2^32 over that many), once per support vector where the model has no more features.
constexpr uint32_t kMul32DistanceChunk = 63;

std::string rbf_mul32_distance_loop(const EmitContext& context, uint32_t n_features) {
  const std::string body = R"(            const int32_t d = y[f - 1u] - {{p}}_sv[s][f - 1u];
            const uint32_t m = (uint32_t)(d < 0 ? -d : d);
            const uint32_t mh = m >> 13;
            const uint32_t ml = m & UINT32_C(0x1FFF);
            --f;
            hh += mh * mh;
            hl += mh * ml;
            ll += ml * ml;
)";
  if (n_features <= kMul32DistanceChunk) {
    return context.render(R"(    {
        uint32_t hh = 0u;
        uint32_t hl = 0u;
        uint32_t ll = 0u;
        while (f != 0u) {
)" + body + R"(        }
        sum = ((uint64_t)hh << 26) + ((uint64_t)hl << 14) + ll;
    }
)");
  }
  return context.render(R"(    while (f != 0u) {
        const uint32_t stop = f > {{chunk}}u ? f - {{chunk}}u : 0u;
        uint32_t hh = 0u;
        uint32_t hl = 0u;
        uint32_t ll = 0u;
        while (f != stop) {
)" + body + R"(        }
        sum += ((uint64_t)hh << 26) + ((uint64_t)hl << 14) + ll;
    }
)",
                        {{"chunk", std::to_string(kMul32DistanceChunk)}});
}

// The RBF kernel in fixed mode (FixedRbfDistance): the input rescaled once into the common
// domain, then per support vector an exact sum of squared int16 differences.
const char* kRbfDistance = R"(/* The input in the RBF kernel's common domain: y[f] = round(xq[f] * sv_scale[f] / 2^sv_shift[f]),
 * one unit of y standing for the same sqrt(gamma)-scaled distance in every feature;
 * |y[f]| < 2^24. */
static inline void {{p}}_rescale(const int16_t x[], int32_t y[]) {
    uint32_t f;
    for (f = 0u; f < {{nf}}; ++f) {
        y[f] = (int32_t)mcuport_fx_round_shift_i64((int64_t)x[f] * {{p}}_sv_scale[f],
                                                   (int){{p}}_sv_shift[f]);
    }
}

/* gamma |x - sv_s|^2 * 2^{{frac_bits}} = sum_f (y[f] - sv[s][f])^2, exact: every difference is below
 * 2^25 in magnitude, its square below 2^50, the sum below {{nf}} * 2^50. */
static inline uint64_t {{p}}_sv_distance(const int32_t y[], uint32_t s) {
    uint64_t sum = 0u;
    uint32_t f = {{nf}};
#if MCUPORT_MUL32_ONLY
    /* No 32 x 32 -> 64 multiply instruction: m = |d| < 2^25 as mh 2^13 + ml (mh < 2^12,
     * ml < 2^13), m^2 = mh^2 2^26 + mh ml 2^14 + ml^2, and each of the three sums stays below
     * 2^32 over {{chunk}} features (mh^2 < 2^24, mh ml < 2^25, ml^2 < 2^26): three 32-bit multiplies
     * and adds a term, the 64-bit sum once per {{chunk_doc}}. The same integer. */
{{mul32_loop}}#else
    /* Last feature first: the sum is exact in any order, and counting down to zero leaves gcc -Os
     * registers enough for the exp inlined after it (Cortex-M4F, breast cancer's 30 features: 9%
     * fewer instructions a prediction than counting up). */
    while (f != 0u) {
        const int32_t d = y[f - 1u] - {{p}}_sv[s][f - 1u];
        --f;
        sum += mcuport_fx_square_i32(d);
    }
#endif
    return sum;
}

)";

const char* kPredictVotes = R"(/* One-vs-one: each pair votes (decision > 0: the first class), the most votes win, ties go to
 * the lowest class index, as libsvm and scikit-learn's SVC.predict. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    {{dt}} dec[{{P}}_N_PAIRS];
    uint_fast16_t votes[{{P}}_N_CLASSES];
    uint32_t i;
    uint32_t j;
    uint32_t p = 0u;
    uint32_t best = 0u;
    {{p}}_decision_values(x, dec);
    for (i = 0u; i < {{P}}_N_CLASSES; ++i) {
        votes[i] = 0u;
    }
    for (i = 0u; i < {{P}}_N_CLASSES; ++i) {
        for (j = i + 1u; j < {{P}}_N_CLASSES; ++j) {
            const uint32_t winner = dec[p] > {{zero}} ? i : j;
            votes[winner] = (uint_fast16_t)(votes[winner] + 1u);
            ++p;
        }
    }
    for (i = 1u; i < {{P}}_N_CLASSES; ++i) {
        if (votes[i] > votes[best]) {
            best = i;
        }
    }
    return (int32_t)best;
}

)";

// Up to this many classes (10 pairs) the votes are written out: each pair's decision is a
// 0/1 word, each class's votes a sum of them, and the argmax a chain of compares, all in
// registers, where nested loops over a vote array in memory cost more than the model's
// arithmetic on a small one (the 3-class linear SVC on iris: 150 -> 84 instructions a
// prediction on Cortex-M4F, 178 -> 73 on Cortex-M0, 1,610 -> 1,198 ATmega328P cycles). 3 and 4
// classes now read a table instead (kVoteTableClasses): 5 are left written out.
constexpr uint32_t kUnrolledVoteClasses = 5;

// Up to this many classes (6 pairs, a table of 64 bytes) predict reads the winner from a table
// indexed by the pairs' votes: bit k of the index is set when pair k votes for its second class.
// The votes are then one sign bit each and the counts and the argmax are gone (the 3-class
// linear SVC on iris: 46 -> 31 instructions a prediction on Cortex-M4F, 73 -> 63 on Cortex-M0,
// 1,198 -> 1,164 ATmega328P cycles).
// Five classes would take 1,024 bytes: their votes stay written out.
constexpr uint32_t kVoteTableClasses = 4;

// The class each pattern of votes elects: the most votes, ties to the lowest class index, as
// libsvm counts them; pair k of (i, j), i < j, in libsvm's order (0,1), (0,2), ..., (1,2), ...
std::vector<uint64_t> vote_winners(uint32_t n_classes) {
  const uint32_t n_pairs = n_classes * (n_classes - 1) / 2;
  std::vector<uint64_t> winners;
  for (uint32_t index = 0; index < (1u << n_pairs); ++index) {
    std::vector<uint32_t> votes(n_classes, 0);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n_classes; ++i) {
      for (uint32_t j = i + 1; j < n_classes; ++j, ++k) ++votes[((index >> k) & 1u) != 0 ? j : i];
    }
    uint32_t best = 0;
    for (uint32_t c = 1; c < n_classes; ++c) {
      if (votes[c] > votes[best]) best = c;
    }
    winners.push_back(best);
  }
  return winners;
}

// predict from the vote table (kVoteTableClasses). With int32 rows (row_open) a pair's vote is
// the sign bit of its value less one (the value's magnitude is at most INT32_MAX, so that
// cannot overflow): set where the value is not positive.
std::string vote_table(const EmitContext& context, uint32_t n_classes, const std::string& dt,
                       const std::string& zero, const std::string& row_open, FamilyCode& code) {
  const std::string p = context.prefix;
  const std::string P = context.macro;
  const uint32_t n_pairs = n_classes * (n_classes - 1) / 2;
  code.tables.add("uint8_t", 1, p + "_vote_winner", integer_literals(vote_winners(n_classes)),
                  "one-vs-one: the class elected by each pattern of votes (bit k set: pair k "
                  "votes for its second class), the most votes, ties to the lowest index");
  std::string out =
      "/* One-vs-one: each pair votes (decision > 0: the first class), the most votes win, ties "
      "go to\n * the lowest class index, as libsvm and scikit-learn's SVC.predict. The votes are "
      "the bits of an\n * index into " + p + "_vote_winner. */\n"
      "static inline int32_t " + p + "_predict(const " + context.input_type() + " x[]) {\n";
  if (row_open.empty()) out += "    " + dt + " dec[" + P + "_N_PAIRS];\n";
  out += "    unsigned index; /* below 64: int's width is enough (16 bits on AVR) */\n";
  if (row_open.empty()) out += "    " + p + "_decision_values(x, dec);\n";
  for (uint32_t k = 0; k < n_pairs; ++k) {
    const std::string i = std::to_string(k);
    const std::string vote =
        row_open.empty() ? "(dec[" + i + "] > " + zero + " ? 0u : 1u)"
                         : "(unsigned)((uint32_t)(" + row_open + i + "u) - 1) >> 31)";
    out += k == 0 ? "    index = " + vote + ";\n"
                  : "    index |= " + vote + " << " + i + ";\n";
  }
  out += "    return (int32_t)" + p + "_vote_winner[index];\n}\n\n";
  return out;
}

// row_open (a fixed linear kernel whose rows are int32 sums: "(int32_t){{p}}_decision_values_row(x, "):
// the pairs' decision values come one at a time from their rows, not through an int64 array,
// and their signs are tested in int32. The 3-class linear SVC on iris: 87 -> 46 instructions a
// prediction on Cortex-M4F.
std::string unrolled_votes(const EmitContext& context, uint32_t n_classes, const std::string& dt,
                           const std::string& zero, const std::string& row_open) {
  const bool by_row = !row_open.empty();
  const std::string p = context.prefix;
  const std::string P = context.macro;
  std::string out =
      "/* One-vs-one: each pair votes (decision > 0: the first class), the most votes win, ties "
      "go to\n * the lowest class index, as libsvm and scikit-learn's SVC.predict. */\n"
      "static inline int32_t " + p + "_predict(const " + context.input_type() + " x[]) {\n";
  if (!by_row) out += "    " + dt + " dec[" + P + "_N_PAIRS];\n";
  const uint32_t n_pairs = n_classes * (n_classes - 1) / 2;
  for (uint32_t k = 0; k < n_pairs; ++k) out += "    uint32_t w" + std::to_string(k) + ";\n";
  for (uint32_t c = 0; c < n_classes; ++c) out += "    uint32_t v" + std::to_string(c) + ";\n";
  out += "    uint32_t top;\n    uint32_t best = 0u;\n";
  if (!by_row) out += "    " + p + "_decision_values(x, dec);\n";
  for (uint32_t k = 0; k < n_pairs; ++k) {
    const std::string i = std::to_string(k);
    const std::string value = by_row ? row_open + i + "u)" : "dec[" + i + "]";
    out += "    w" + i + " = " + value + " > " + zero + " ? 1u : 0u;\n";
  }
  // Pair k of (i, j), i < j, in libsvm's order: (0,1), (0,2), ..., (1,2), ...
  std::vector<std::string> votes(n_classes);
  uint32_t k = 0;
  for (uint32_t i = 0; i < n_classes; ++i) {
    for (uint32_t j = i + 1; j < n_classes; ++j, ++k) {
      const std::string w = "w" + std::to_string(k);
      votes[i] += std::string(votes[i].empty() ? "" : " + ") + w;
      votes[j] += std::string(votes[j].empty() ? "" : " + ") + "(1u - " + w + ")";
    }
  }
  for (uint32_t c = 0; c < n_classes; ++c) {
    out += "    v" + std::to_string(c) + " = " + votes[c] + ";\n";
  }
  out += "    top = v0;\n";
  for (uint32_t c = 1; c < n_classes; ++c) {
    const std::string i = std::to_string(c);
    out += "    if (v" + i + " > top) {\n        " +
           (c + 1 < n_classes ? "top = v" + i + ";\n        " : "") + "best = " + i + "u;\n    }\n";
  }
  out += "    return (int32_t)best;\n}\n\n";
  return out;
}

// Two classes: the one pair's vote is the answer (no vote counts, no argmax).
const char* kPredictBinary = R"(/* Two classes: the pair (0,1) votes for class 0 when its decision value is positive, as libsvm
 * and scikit-learn's SVC.predict. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    {{dt}} dec[1];
    {{p}}_decision_values(x, dec);
    return dec[0] > {{zero}} ? 0 : 1;
}

)";

// The same for a fixed linear kernel with an int32 row: that row's sign, in int32. The row's
// magnitude is at most INT32_MAX (FixedLinear::wide is false), so the row less one cannot
// overflow, and its sign bit is the class: 1 where the value is at most 0. One shift where
// `> 0 ? 0 : 1` is a compare and a select (Cortex-M4F, ceiling-fan: 14 -> 12 instructions).
const char* kPredictBinaryRow = R"(/* Two classes: the pair (0,1) votes for class 0 when its decision value is positive, as libsvm
 * and scikit-learn's SVC.predict: class 1 is the sign bit of the value less one. */
static inline int32_t {{p}}_predict(const int16_t x[]) {
    return (int32_t)((uint32_t)({{row_open}}0u) - 1) >> 31);
}

)";

const char* kDecisionBinary = R"(/* scikit-learn's decision_function{{units}}: positive for class 1 (libsvm's value,
 * negated). */
static inline {{dt}} {{p}}_decision_function(const {{xt}} x[]) {
    {{dt}} dec[1];
    {{p}}_decision_values(x, dec);
    return -dec[0];
}

)";

const char* kDecisionMulti = R"(/* scikit-learn's decision_function with decision_function_shape='ovo'{{units}}: out[p] for
 * the pairs (0,1), (0,2), ..., (1,2), ...; positive favours the first class of the pair. */
static inline void {{p}}_decision_function(const {{xt}} x[], {{dt}} out[]) {
    {{p}}_decision_values(x, out);
}

)";

const char* kOneClass = R"(/* scikit-learn's decision_function{{units}}: positive for inliers. */
static inline {{dt}} {{p}}_decision_function(const {{xt}} x[]) {
    {{dt}} dec[1];
    {{p}}_decision_values(x, dec);
    return dec[0];
}

/* +1 for an inlier, -1 for an outlier (decision > 0), as OneClassSVM.predict. */
static inline int32_t {{p}}_predict(const {{xt}} x[]) {
    return {{p}}_decision_function(x) > {{zero}} ? 1 : -1;
}

)";

// What every kernel SVM needs, float or fixed: the SV count, each SV's class, its libsvm
// coefficients (float32, or int32 codes) and the pairs' intercepts (float32, or int64 codes).
void add_support_vector_tables(const EmitContext& context, FamilyCode& code,
                               const SvmProgram& program) {
  const std::string& p = context.prefix;
  const bool fixed = context.numeric == Numeric::Fixed;
  const uint32_t rows = program.one_class ? 1u : program.n_classes - 1u;
  code.macros += "#define " + context.macro + "_N_SUPPORT_VECTORS " + std::to_string(program.n_sv) + "u\n";
  if (fixed) {
    std::vector<std::string> intercept;
    for (int64_t b : program.intercept_code) intercept.push_back("INT64_C(" + std::to_string(b) + ")");
    code.tables.add("int64_t", 8, p + "_intercept", intercept,
                    "the intercept of each pair's decision function * 2^" +
                        std::to_string(program.dec_frac_bits));
  } else {
    code.tables.add("float", 4, p + "_intercept",
                    rounded_float_literals(program.intercept,
                                           {"/params/intercept", FieldOrigin::Layout::Elements}),
                    "the intercept of each pair's decision function");
  }
  if (program.n_pairs > 1) {  // kDecisionValues; one pair needs no classes (kDecisionValuesOnePair)
    std::vector<uint64_t> end(program.n_classes, 0);
    for (uint32_t s = 0; s < program.n_sv; ++s) {
      const uint32_t c = program.sv_class[s];
      MCUPORT_ASSERT(c < program.n_classes && (s == 0 || program.sv_class[s - 1] <= c));
      end[c] = s + 1u;
    }
    for (uint32_t c = 1; c < program.n_classes; ++c) end[c] = std::max(end[c], end[c - 1]);
    const CType end_type = unsigned_type_for(program.n_sv);
    code.tables.add(end_type.name, end_type.bytes, p + "_sv_end", integer_literals(end),
                    "one past the last support vector of each class (they are in class order)");
    // Class c's coefficient column t belongs to the pair with class j = t (t < c) or t + 1.
    std::vector<uint64_t> pair;
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      for (uint32_t t = 0; t + 1 < program.n_classes; ++t) {
        pair.push_back(t < c ? pair_index(t, c, program.n_classes)
                             : pair_index(c, t + 1, program.n_classes));
      }
    }
    const CType pair_type = unsigned_type_for(program.n_pairs - 1);
    code.tables.add_2d(pair_type.name, pair_type.bytes, p + "_sv_pair", program.n_classes,
                       program.n_classes - 1, integer_literals(pair),
                       "per class, the pair each coefficient column adds into");
  }
  if (fixed) {
    code.tables.add_2d("int32_t", 4, p + "_sv_coef", program.n_sv, rows,
                       integer_literals(program.coef_code),
                       "libsvm's dual coefficients * 2^" +
                           std::to_string(program.dec_frac_bits - 30) + ", one row per SV");
  } else {
    code.tables.add_2d("float", 4, p + "_sv_coef", program.n_sv, rows,
                       rounded_float_literals(program.sv_coef, {"/params/dual_coef",
                                                                FieldOrigin::Layout::Transposed, rows}),
                       "libsvm's dual coefficients, one row per support vector");
  }
}

// Float mode, an RBF kernel: a center per feature (float32: the support vectors' average),
// subtracted from the input once per prediction, the support vectors held less it; empty where
// no support vector's float32 rounding, in units of the kernel's length 1 / sqrt(gamma), exceeds
// kCenterApartRatio units of float32 rounding. A support vector far from zero next to that length
// (air pressure in Pa: 101325 as a float32 is up to 0.004 off, 2,200 units of a length of 30)
// moved a two-class SVC's decision values by 5e-4, and a one-class SVM (nu=0.01) answered
// unlike scikit-learn on 39 of 1,000 test rows; iris, wine, breast_cancer and digits, raw or
// scaled, are at most 2.6 units off. Empty too behind a pipeline's stage (see
// stage_sv_shift: a per-feature scaler's center takes it), beyond kWidenedInputsMax features
// (the centred input is a local array), and where a centred support vector would leave
// float32's range.
std::vector<double> float_sv_center(const EmitContext& context, const SvmProgram& program) {
  if (program.kernel != Kernel::Rbf || !(program.gamma > 0) || context.stage != nullptr ||
      program.n_features > kWidenedInputsMax) {
    return {};
  }
  const std::size_t nf = program.n_features;
  const double unit = kCenterApartRatio * 0x1p-24 / std::sqrt(program.gamma);
  bool needed = false;
  for (double v : program.support_vectors) {
    // A value float32 cannot hold is refused with its element's path by the support vectors' table.
    if (!float32_constant_holds(v)) return {};
    needed = needed || std::fabs(v - static_cast<double>(static_cast<float>(v))) > unit;
  }
  if (!needed) return {};
  std::vector<double> center(nf, 0.0);
  for (std::size_t s = 0; s < program.n_sv; ++s) {
    for (std::size_t f = 0; f < nf; ++f) center[f] += program.support_vectors[s * nf + f];
  }
  for (double& c : center) c = static_cast<double>(static_cast<float>(c / static_cast<double>(program.n_sv)));
  for (std::size_t i = 0; i < program.support_vectors.size(); ++i) {
    if (!float32_constant_holds(program.support_vectors[i] - center[i % nf])) return {};
  }
  return center;
}

// Behind a per-feature scaler stage, whose float32 outputs are rounded at the size of the
// support vectors before the kernel could subtract anything: per feature, the center the
// stage's own takes (stage_feature_shift of its support vector coordinates, next to the
// kernel's length, as float_sv_center's rule).
std::vector<double> stage_sv_shift(const EmitContext& context, const SvmProgram& program) {
  const std::size_t nf = program.n_features;
  std::vector<double> shift(nf, 0.0);
  if (program.kernel != Kernel::Rbf || !(program.gamma > 0) || !float_diagonal_stage(context)) {
    return shift;
  }
  for (std::size_t f = 0; f < nf; ++f) {
    std::vector<double> coordinates;
    for (std::size_t s = 0; s < program.n_sv; ++s) coordinates.push_back(program.support_vectors[s * nf + f]);
    shift[f] = stage_feature_shift(coordinates, 1 / std::sqrt(program.gamma));
  }
  return shift;
}

}  // namespace

FamilyCode emit_svm(const EmitContext& context, const SvmProgram& program) {
  FamilyCode code;
  const bool fixed = context.numeric == Numeric::Fixed;
  const std::string dt = fixed ? "int64_t" : "float";
  std::string units;
  const std::string& p = context.prefix;
  const std::string& P = context.macro;
  const uint32_t n_features = program.n_features;
  code.macros += "#define " + P + "_N_PAIRS " + std::to_string(program.n_pairs) + "u\n";
  if (!program.one_class) {
    code.macros += "#define " + P + "_N_CLASSES " + std::to_string(program.n_classes) + "\n";
  }
  if (program.fixed) {
    // A linear kernel in fixed mode: one affine map of the pairs.
    code.macros += "#define " + P + "_SCORE_FRAC_BITS " + std::to_string(program.fixed->frac_bits) +
                   " /* decision values are real value * 2^this */\n";
    code.functions += emit_fixed_linear(context, code, *program.fixed, "decision_values", "pair",
                                        "The decision value of every pair of classes (i < j, in "
                                        "libsvm's order); positive votes for i.");
    units = " * 2^" + P + "_SCORE_FRAC_BITS";
    code.summary = " * Linear kernel collapsed at port time; fixed point with int16 weights, " +
                   std::string(program.fixed->wide ? "int64" : "int32") + " accumulators: " +
                   std::to_string(program.n_pairs * n_features) + " multiply-accumulates.\n" +
                   decision_bound_line(program);
  } else if (fixed) {
    // Kernel SVMs in fixed mode: Q30 kernel values with |K| <= 1, int32 coefficients.
    code.macros += "#define " + P + "_SCORE_FRAC_BITS " + std::to_string(program.dec_frac_bits) +
                   " /* decision values are real value * 2^this */\n";
    add_support_vector_tables(context, code, program);
    std::string kernel_value;
    std::string kernel_doc;
    std::string setup;
    if (program.kernel == Kernel::Rbf) {
      const FixedRbfDistance& map = *program.distance;
      code.tables.add_2d("int32_t", 4, p + "_sv", program.n_sv, n_features,
                         integer_literals(map.center),
                         "support vectors in the kernel's common domain (gamma |x - sv|^2 = 2^-" +
                             std::to_string(map.frac_bits) + " sum of squared differences)");
      code.tables.add("int32_t", 4, p + "_sv_scale", integer_literals(map.scale),
                      "per feature: code to domain, the mantissa");
      code.tables.add("uint8_t", 1, p + "_sv_shift", integer_literals(map.shift),
                      "per feature: code to domain, the right shift");
      code.fixed_runtime = true;
      code.simd = true;  // MCUPORT_MUL32_ONLY
      code.functions += context.render(
          kRbfDistance, {{"frac_bits", std::to_string(map.frac_bits)},
                         {"mul32_loop", rbf_mul32_distance_loop(context, program.n_features)},
                         {"chunk", std::to_string(kMul32DistanceChunk)},
                         {"chunk_doc", program.n_features <= kMul32DistanceChunk
                                           ? "support vector"
                                           : std::to_string(kMul32DistanceChunk) + " features"}});
      setup = "    int32_t y[" + context.render("{{nf}}") + "];\n    " + p + "_rescale(x, y);\n";
      std::string argument = p + "_sv_distance(y, s)";
      if (map.exp_shift > 0) {
        // A literal shift: on AVR the runtime's macro moves bytes where a call shifted by bits.
        argument = (map.exp_shift < 64 ? "MCUPORT_FX_ROUND_SHR64(" : "mcuport_fx_round_shift_u64(") +
                   argument + ", " + std::to_string(map.exp_shift) + ")";
      } else if (map.exp_shift < 0) {
        const int left = std::min(-map.exp_shift, 62);  // beyond, every nonzero D saturates too
        code.functions += context.render(R"(/* The exp runtime's argument from a distance: shifted left by {{left}}, saturating at 2^62
 * (where exp(-t) is 0 long before). */
static inline uint64_t {{p}}_exp_argument(uint64_t d) {
    return d > (UINT64_C(4611686018427387904) >> {{left}}) ? UINT64_C(4611686018427387904) : d << {{left}};
}

)", {{"left", std::to_string(left)}});
        argument = p + "_exp_argument(" + argument + ")";
      }
      code.functions += context.render(R"(/* exp(-gamma |x - sv_s|^2) in Q30, from the rescaled input y. */
static inline int64_t {{p}}_rbf_kernel(const int32_t y[], uint32_t s) {
    return (int64_t)mcuport_fx_exp_neg((int64_t){{argument}}, {{frac_bits}});
}

)", {{"argument", argument}, {"frac_bits", std::to_string(map.exp_frac_bits)}});
      kernel_value = p + "_rbf_kernel(y, s)";
      kernel_doc = "exp(-gamma |x - sv|^2) in Q30 (mcuport_fx_exp_neg)";
    } else {
      const FixedLinear& argument = *program.argument;
      code.functions += emit_fixed_linear(context, code, argument, "sv_argument", "sv",
                                          "gamma sv_k . x + coef0, the kernel's argument.", true);
      code.fixed_runtime = true;
      // On Cortex-M0 the argument's rows take the codes widened to int32 (emit_affine.cpp), once
      // per prediction.
      const RowInputs rows = row_inputs(context, argument, "sv_argument");
      const std::string& row_x = rows.x;
      setup = rows.declare + rows.widen;
      const int e = argument.frac_bits;
      if (program.kernel == Kernel::Sigmoid) {
        kernel_value = e <= 40 ? "(int64_t)mcuport_fx_tanh(" + p + "_sv_argument(" + row_x +
                                     ", s), " + std::to_string(e) + ")"
                               : "(int64_t)mcuport_fx_tanh(mcuport_fx_round_shift_i64(" + p +
                                     "_sv_argument(" + row_x + ", s), " + std::to_string(e - 40) +
                                     "), 40)";
        kernel_doc = "tanh(gamma x.sv + coef0) in Q30 (mcuport_fx_tanh)";
      } else {
        const int shift = e + program.argument_shift_bits - 30;
        const std::string normalise =
            shift >= 0 ? "mcuport_fx_round_shift_i64(a, " + std::to_string(shift) + ")"
                       : "a * (INT64_C(1) << " + std::to_string(-shift) + ")";
        // b and every power are at most 2^30 in magnitude: int32 factors, one SMULL on
        // Cortex-M4 where int64 ones took a 64 x 64 multiply (wine: 18,569 -> 16,967
        // instructions; ATmega328P 618,260 -> 578,712 cycles). On Cortex-M0 every such product is
        // libgcc's __aeabi_lmul, and int64 factors save gcc the sign extensions (int32 ones: 3%
        // more instructions on wine; mcuport_fx_mul_i32's 16-bit halves made gcc -Os call them
        // out of line, also from the support vectors' sums).
        code.simd = true;  // MCUPORT_MUL32_ONLY
        code.functions += context.render(R"(/* (gamma x.sv_s + coef0)^{{degree}} / 2^{{scaled}} in Q30: the argument is normalised into
 * [-1, 1] by 2^{{m}} (at least its largest value): |b| <= 2^30 and every power too, so each
 * product is one of two int32 factors, below 2^60. */
static inline int64_t {{p}}_poly_kernel({{row_param}}, uint32_t s) {
#if MCUPORT_MUL32_ONLY
    typedef int64_t {{p}}_poly_factor; /* a library call either way: int64 factors need no sign extension */
#else
    typedef int32_t {{p}}_poly_factor; /* one 32 x 32 -> 64 multiply */
#endif
    const int64_t a = {{p}}_sv_argument(x, s);
    const {{p}}_poly_factor b = ({{p}}_poly_factor)({{normalise}});
    {{p}}_poly_factor power = MCUPORT_FX_ONE_Q30;
{{power_loop}}    return (int64_t)power;
}

)", {{"power_loop",
      // degree 0 (scikit-learn allows it): every kernel value is 1, and a loop of no turn
      // would trip gcc's -Wtype-limits.
      program.degree == 0
          ? std::string("    (void)b;\n")
          : "    uint32_t i;\n    for (i = 0u; i < " + std::to_string(program.degree) +
                "u; ++i) {\n        power = (" + p +
                "_poly_factor)mcuport_fx_round_shift_i64((int64_t)power * b, 30);\n    }\n"},
     {"degree", std::to_string(program.degree)},
     {"scaled", std::to_string(program.argument_shift_bits * program.degree)},
     {"m", std::to_string(program.argument_shift_bits)},
     {"normalise", normalise},
     {"row_param", rows.param}});
        kernel_value = p + "_poly_kernel(" + row_x + ", s)";
        kernel_doc = "(gamma x.sv + coef0)^degree, normalised, in Q30";
      }
    }
    code.functions += context.render(
        program.n_pairs == 1 ? kDecisionValuesOnePair : kDecisionValues,
        // |k| <= 2^30 (Q30, |K| <= 1) and the coefficient is int32: an exact 32 x 32 -> 64
        // product (from 16-bit halves where that is the only multiply: Cortex-M0).
        {{"dt", dt},
         {"term_open", "mcuport_fx_mul_i32("},
         {"term_mid", ", (int32_t)"},
         {"term_close", ")"},
         {"kernel_value", kernel_value},
         {"setup", setup}});
    units = " * 2^" + P + "_SCORE_FRAC_BITS";
    code.summary = " * " + std::to_string(program.n_sv) + " support vectors; fixed point: kernel " +
                   kernel_doc + ", int64 decision values (|dec| <= " +
                   std::to_string(program.dec_bound) + ").\n" + decision_bound_line(program);
  } else if (program.collapsed()) {
    // A pair's weights are dual_coef times the support vectors (and any scalers composed in):
    // the field they come from first.
    const FieldOrigin pair_weight{
        "/params/dual_coef", FieldOrigin::Layout::Whole, 0,
        std::string(" (a pair's weight: this field times the support vectors") +
            (context.stages_composed() ? ", the pipeline's stages composed in)" : ")")};
    code.functions += emit_float_linear(
        context, code, program.pair_weight, pair_weight, program.intercept,
        FieldOrigin{"/params/intercept", FieldOrigin::Layout::Elements, 0, context.composed_note()},
        "decision_values", "pair",
        "The decision value of every pair of classes (i < j, in libsvm's order); positive votes "
        "for i. The linear kernel is collapsed into one weight vector per pair.",
        program.center);
    code.summary = " * Linear kernel, collapsed at port time into " + std::to_string(program.n_pairs) +
                   " weight vector(s): " + std::to_string(program.n_pairs * n_features) +
                   " multiply-accumulates per prediction.\n";
    if (!program.center.empty()) code.summary += float_linear_center_note(context, "pair");
  } else {
    const std::vector<double> center = float_sv_center(context, program);
    std::vector<double> sv = program.support_vectors;
    std::string setup;
    // Behind a scaler stage its own center takes the support vectors' average, from the raw input.
    const std::vector<double> shift = stage_sv_shift(context, program);
    code.stage_center = stage_center_taking(context, shift);
    const bool stage_centred = !code.stage_center.empty();
    if (stage_centred) {
      for (std::size_t i = 0; i < sv.size(); ++i) sv[i] -= shift[i % n_features];
    }
    if (!center.empty()) {
      for (std::size_t i = 0; i < sv.size(); ++i) sv[i] -= center[i % n_features];
      code.tables.add("float", 4, p + "_sv_center",
                      rounded_float_literals(center, {"/params/support_vectors", FieldOrigin::Layout::Whole,
                                                      0, " (the support vectors' average)"}),
                      "per feature: subtracted from the input once per prediction (the support "
                      "vectors' average, as float32)");
      setup = float_centred_inputs(context, p + "_sv_center", true);
    }
    code.tables.add_2d("float", 4, p + "_sv", program.n_sv, n_features,
                       rounded_float_literals(sv, context.matrix_field("/params/support_vectors", n_features)),
                       stage_centred   ? "support vectors less the center the stage takes"
                       : center.empty() ? "support vectors"
                                        : "support vectors less " + p + "_sv_center");
    add_support_vector_tables(context, code, program);
    std::string doc;
    std::string step = "        acc += x[f] * " + p + "_sv[s][f];\n";
    std::string result;
    const std::string gamma = rounded_float_literal(program.gamma, "/params/gamma");
    const std::string coef0 = rounded_float_literal(program.coef0, "/params/coef0");
    switch (program.kernel) {
      case Kernel::Rbf:
        doc = "exp(-gamma |x - sv|^2), gamma = " + gamma;
        step = "        const float d = x[f] - " + p + "_sv[s][f];\n        acc += d * d;\n";
        result = "    return expf(-" + gamma + " * acc);\n";
        break;
      case Kernel::Poly:
        doc = "(gamma x.sv + coef0)^degree, gamma = " + gamma + ", coef0 = " + coef0 +
              ", degree " + std::to_string(program.degree);
        // degree 0 (scikit-learn allows it): every kernel value is 1, as numpy's 0.0 ** 0.
        result = program.degree == 0
                     ? std::string("    (void)acc;\n    return 1.0f;\n")
                     : "    {\n        const float base = " + gamma + " * acc + " + coef0 +
                           ";\n        float power = 1.0f;\n        uint32_t i;\n        for (i = 0u; "
                           "i < " + std::to_string(program.degree) +
                           "u; ++i) {\n            power *= base;\n        }\n" +
                           "        return power;\n    }\n";
        break;
      case Kernel::Sigmoid:
        doc = "tanh(gamma x.sv + coef0), gamma = " + gamma + ", coef0 = " + coef0;
        result = "    return tanhf(" + gamma + " * acc + " + coef0 + ");\n";
        break;
      case Kernel::Linear:
        internal_error(__FILE__, __LINE__, "a linear kernel is collapsed");
    }
    code.functions += context.render(
        kKernel, {{"kernel_doc", doc}, {"kernel_step", step}, {"kernel_result", result}});
    const std::string kernel_value = p + (setup.empty() ? "_sv_kernel(x, s)" : "_sv_kernel(xc, s)");
    if (program.one_class) {
      code.functions += context.render(kFloatOneClassDecision,
                                       {{"kernel_value", kernel_value}, {"setup", setup}});
    } else {
      code.functions += context.render(program.n_pairs == 1 ? kDecisionValuesOnePair : kDecisionValues,
                                       {{"dt", "float"},
                                        {"term_open", ""},
                                        {"term_mid", " * "},
                                        {"term_close", ""},
                                        {"kernel_value", kernel_value},
                                        {"setup", setup}});
    }
    code.summary = " * " + std::to_string(program.n_sv) + " support vectors of " +
                   std::to_string(n_features) + " features: " + std::to_string(program.n_sv) +
                   " kernel evaluations per prediction.\n";
    if (!center.empty()) {
      code.summary += " * The input less " + p + "_sv_center once per prediction, and the support vectors less it:\n"
                      " * their float32 rounding would be a visible part of the kernel's length.\n";
    }
    if (stage_centred) {
      code.summary += " * The stage's center also takes the support vectors' average from the raw input, and the\n"
                      " * support vectors are held less it: the stage's float32 outputs would be rounded at the\n"
                      " * size of the support vectors, a visible part of the kernel's length.\n";
    }
    code.includes = "#include <math.h>\n";
  }

  code.scores = {"int32_t", p + "_decision_values", program.n_pairs, dt};
  const std::string xt = context.input_type();
  const std::string zero = fixed ? "0" : "0.0f";
  // A fixed linear kernel with int32 rows: predict reads its rows' decision values one by one
  // (unrolled_votes). With int64 rows the array stays: called per vote, the row function of
  // wine's 3-class linear SVC was not inlined on Cortex-M4F (126 -> 146 instructions); so does
  // it on targets whose int is 16 bits, where an int32 is no cheaper than the array (iris's
  // linear SVC on the ATmega328P: 1,198 -> 1,318 cycles by row).
  std::string row_open;
  // Rows on widened inputs (Cortex-M0, emit_affine.cpp) are read through the array, which widens
  // the inputs once.
  if (program.fixed && !program.fixed->wide && context.target.int_bits >= 32 &&
      !widened_inputs(context, *program.fixed)) {
    row_open = "(int32_t)" + p + "_decision_values_row(x, ";
  }
  if (program.one_class) {
    code.functions += context.render(kOneClass, {{"dt", dt}, {"zero", zero}, {"units", units}});
    code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   +1 inlier, -1 outlier\n";
    code.api += " *   " + dt + " " + p + "_decision_function(const " + xt + " x[]);\n";
  } else {
    if (program.n_classes > 2 && program.n_classes <= kVoteTableClasses) {
      code.functions += vote_table(context, program.n_classes, dt, zero, row_open, code);
    } else if (program.n_classes > 2 && program.n_classes <= kUnrolledVoteClasses) {
      code.functions += unrolled_votes(context, program.n_classes, dt, zero, row_open);
    } else if (program.n_classes == 2 && !row_open.empty()) {
      code.functions += context.render(kPredictBinaryRow, {{"row_open", row_open}});
    } else {
      code.functions += context.render(program.n_classes == 2 ? kPredictBinary : kPredictVotes,
                                       {{"dt", dt}, {"zero", zero}});
    }
    code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index (one-vs-one votes)\n";
    if (program.n_classes == 2) {
      code.functions += context.render(kDecisionBinary, {{"dt", dt}, {"units", units}});
      code.api += " *   " + dt + " " + p + "_decision_function(const " + xt + " x[]);   positive: class 1\n";
    } else {
      code.functions += context.render(kDecisionMulti, {{"dt", dt}, {"units", units}});
      code.api += " *   void " + p + "_decision_function(const " + xt + " x[], " + dt + " out[" + P +
                  "_N_PAIRS]);   one-vs-one\n";
    }
  }
  return code;
}

}  // namespace mcuport::codegen

// Fixed-point kernels: exp_neg and tanh against long double on every input of the small Q formats
// and on random and edge inputs of every other, the C runtime and its C++ mirror bit for bit, the
// rounding helpers, and the runtime text the core embeds.
//
// The sweeps print the largest error they saw; docs/fixed-point.md quotes those numbers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcuport/fixed_math.hpp"
#include "runtime_text.hpp"

// The C runtime itself, compiled as C++ (it must be valid C++11): its mcuport_fx_* functions
// sit beside the C++ mirror in this translation unit, so every sweep can compare the two.
#include "../../codegen/runtime/mcuport_fixed.h"

// The same runtime built as on Cortex-M0 (test_fixed_math_mul32.cpp).
namespace mcuport_test_mul32_only {
int32_t exp_neg(int64_t t_q, int frac_bits);
int32_t tanh(int64_t x_q, int frac_bits);
uint64_t mul_u32(uint32_t a, uint32_t b);
int64_t mul_i32(int32_t a, int32_t b);
}  // namespace mcuport_test_mul32_only

namespace {

namespace fixed = mcuport::fixed;

constexpr long double kLsb = 1.0L / (1u << 30);  // one Q30 LSB
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

long double real_value(int64_t q, int frac_bits) {
  return std::ldexp(static_cast<long double>(q), -frac_bits);  // exact: |q| < 2^64
}

// Largest error of a kernel over a sweep, in Q30 LSBs, and where it happened.
struct ErrorRecord {
  long double max_lsb = 0;
  int64_t worst_input = 0;
  int worst_frac_bits = 0;
  uint64_t inputs = 0;

  void add(long double error_lsb, int64_t input, int frac_bits) {
    ++inputs;
    if (error_lsb > max_lsb) {
      max_lsb = error_lsb;
      worst_input = input;
      worst_frac_bits = frac_bits;
    }
  }
  std::string describe(const char* kernel) const {
    std::ostringstream out;
    out.precision(4);
    out << std::fixed << kernel << ": max error " << static_cast<double>(max_lsb)
        << " LSB over " << inputs << " inputs (worst: " << worst_input << " in Q"
        << worst_frac_bits << ")";
    return out.str();
  }
};

// The bounds docs/fixed-point.md ("Accuracy") proves for every input, in Q30 LSBs: tighter than
// the documented 1 LSB, so a change that loses accuracy fails here even while it stays within it.
constexpr long double kExpNegAnalysisLsb = 0.65L;
constexpr long double kTanhAnalysisLsb = 0.76L;

// Runs one input through both implementations: they must agree, and the error must be within
// both the documented bound and the bound by analysis.
// Returns false (having reported) on the first disagreement, so a broken build does not print
// millions of failures.
class KernelSweep {
 public:
  enum class Kernel { ExpNeg, Tanh };

  explicit KernelSweep(Kernel kernel) : kernel_(kernel) {}

  bool check(int64_t q, int frac_bits) {
    const int32_t mirror = kernel_ == Kernel::ExpNeg ? fixed::exp_neg(q, frac_bits)
                                                     : fixed::tanh(q, frac_bits);
    const int32_t runtime = kernel_ == Kernel::ExpNeg ? mcuport_fx_exp_neg(q, frac_bits)
                                                      : mcuport_fx_tanh(q, frac_bits);
    if (mirror != runtime) {
      ADD_FAILURE() << "C runtime and C++ mirror differ at " << q << " in Q" << frac_bits
                    << ": C " << runtime << ", C++ " << mirror;
      return false;
    }
    if (mirror < -fixed::kOneQ30 || mirror > fixed::kOneQ30) {
      ADD_FAILURE() << "result " << mirror << " out of [-one, one] at " << q << " in Q"
                    << frac_bits;
      return false;
    }
    const long double x = real_value(q, frac_bits);
    long double exact = 0;
    if (kernel_ == Kernel::ExpNeg) {
      if (q < 0) {  // saturates at one: no error to measure
        if (mirror != fixed::kOneQ30) {
          ADD_FAILURE() << "exp_neg of negative " << q << " is " << mirror << ", not one";
          return false;
        }
        return true;
      }
      exact = std::exp(-x);
    } else {
      exact = std::tanh(x);
    }
    const long double error_lsb = std::fabs(mirror * kLsb - exact) / kLsb;
    record_.add(error_lsb, q, frac_bits);
    const double bound =
        kernel_ == Kernel::ExpNeg ? fixed::exp_neg_max_error() : fixed::tanh_max_error();
    if (error_lsb * kLsb > bound) {
      ADD_FAILURE() << "error " << static_cast<double>(error_lsb) << " LSB at " << q << " in Q"
                    << frac_bits << " exceeds the documented bound";
      return false;
    }
    const long double analysis =
        kernel_ == Kernel::ExpNeg ? kExpNegAnalysisLsb : kTanhAnalysisLsb;
    if (error_lsb > analysis) {
      ADD_FAILURE() << "error " << static_cast<double>(error_lsb) << " LSB at " << q << " in Q"
                    << frac_bits << " exceeds the bound by analysis, "
                    << static_cast<double>(analysis) << " LSB";
      return false;
    }
    return true;
  }

  const ErrorRecord& record() const { return record_; }

 private:
  Kernel kernel_;
  ErrorRecord record_;
};

// Inputs around `center` (in Q frac_bits), clipped to [lo, hi].
std::vector<int64_t> neighbourhood(long double center, int frac_bits, int64_t lo, int64_t hi) {
  std::vector<int64_t> inputs;
  const long double scaled = std::ldexp(center, frac_bits);
  if (scaled < static_cast<long double>(lo) - 8 || scaled > static_cast<long double>(hi) + 8) {
    return inputs;
  }
  const int64_t middle = static_cast<int64_t>(std::floor(scaled));
  for (int64_t offset = -4; offset <= 4; ++offset) {
    const int64_t q = middle + offset;
    if (q >= lo && q <= hi) inputs.push_back(q);
  }
  return inputs;
}

// A random integer whose magnitude is spread over all scales below `limit` (log-uniform bit
// length, then uniform), so that tiny arguments are as common as large ones.
int64_t random_log_uniform(std::mt19937_64& random, int64_t limit) {
  int max_bits = 0;
  while (max_bits < 63 && (limit >> max_bits) != 0) ++max_bits;
  const int bits = std::uniform_int_distribution<int>(0, max_bits)(random);
  const uint64_t value = bits == 0 ? 0 : (random() >> (64 - bits));
  return static_cast<int64_t>(value % static_cast<uint64_t>(limit));
}

// --- rounding helpers ------------------------------------------------------------------------

// The rounding as the documentation states it: floor plus one when the discarded part is at
// least half, computed independently of the implementation's bit trick.
uint64_t reference_round_shift(uint64_t value, int shift) {
  if (shift <= 0) return value;
  if (shift > 64) return 0;
  const uint64_t floor = shift == 64 ? 0 : value >> shift;
  const uint64_t discarded = shift == 64 ? value : value & ((uint64_t{1} << shift) - 1);
  const uint64_t half = uint64_t{1} << (shift - 1);
  return floor + (discarded >= half ? 1 : 0);
}

TEST(FixedRounding, UnsignedRoundsHalfUp) {
  EXPECT_EQ(fixed::round_shift(uint64_t{5}, 1), 3u);  // 2.5
  EXPECT_EQ(fixed::round_shift(uint64_t{4}, 1), 2u);
  EXPECT_EQ(fixed::round_shift(uint64_t{6}, 2), 2u);  // 1.5
  EXPECT_EQ(fixed::round_shift(uint64_t{5}, 2), 1u);  // 1.25
  EXPECT_EQ(fixed::round_shift(uint64_t{7}, 2), 2u);  // 1.75
  EXPECT_EQ(fixed::round_shift(uint64_t{7}, 0), 7u);
  EXPECT_EQ(fixed::round_shift(uint64_t{7}, -3), 7u);
  // No overflow at the top, and shift 64 is defined.
  EXPECT_EQ(fixed::round_shift(~uint64_t{0}, 1), uint64_t{1} << 63);
  EXPECT_EQ(fixed::round_shift(~uint64_t{0}, 63), 2u);
  EXPECT_EQ(fixed::round_shift(uint64_t{1} << 63, 64), 1u);
  EXPECT_EQ(fixed::round_shift((uint64_t{1} << 63) - 1, 64), 0u);
  EXPECT_EQ(fixed::round_shift(~uint64_t{0}, 65), 0u);
}

TEST(FixedRounding, SignedRoundsHalfAwayFromZero) {
  EXPECT_EQ(fixed::round_shift(int64_t{5}, 1), 3);    // 2.5
  EXPECT_EQ(fixed::round_shift(int64_t{-5}, 1), -3);  // -2.5
  EXPECT_EQ(fixed::round_shift(int64_t{-6}, 2), -2);  // -1.5
  EXPECT_EQ(fixed::round_shift(int64_t{-5}, 2), -1);  // -1.25
  EXPECT_EQ(fixed::round_shift(int64_t{-7}, 2), -2);  // -1.75
  EXPECT_EQ(fixed::round_shift(int64_t{-7}, 0), -7);
  EXPECT_EQ(fixed::round_shift(kInt64Min, 0), kInt64Min);
  EXPECT_EQ(fixed::round_shift(kInt64Min, 1), -(int64_t{1} << 62));
  EXPECT_EQ(fixed::round_shift(kInt64Min, 63), -1);
  EXPECT_EQ(fixed::round_shift(kInt64Min, 64), -1);  // -0.5
  EXPECT_EQ(fixed::round_shift(kInt64Max, 64), 0);   // just below 0.5
  EXPECT_EQ(fixed::round_shift(kInt64Max, 63), 1);
}

// floor((value + 2^(shift-1)) / 2^shift) computed in 128 bits with a floor division, independent
// of the helper's reduction to the unsigned rounding.
__extension__ typedef __int128 Int128;  // gcc and clang; __extension__ for -Wpedantic

int64_t reference_round_shift_half_up(int64_t value, int shift) {
  if (shift <= 0) return value;
  if (shift >= 100) return 0;  // |value| < 2^63 < the half: value + half in (0, 2^shift)
  const Int128 half = static_cast<Int128>(1) << (shift - 1);
  const Int128 divisor = static_cast<Int128>(1) << shift;
  const Int128 sum = static_cast<Int128>(value) + half;
  Int128 quotient = sum / divisor;
  if (sum % divisor != 0 && sum < 0) --quotient;  // C++ division truncates; floor it
  return static_cast<int64_t>(quotient);
}

TEST(FixedRounding, SignedHalfUpIsTheFloorOfValuePlusHalf) {
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{5}, 1), 3);     // 2.5
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-5}, 1), -2);   // -2.5: up, not away from zero
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-6}, 2), -1);   // -1.5
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-5}, 2), -1);   // -1.25
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-7}, 2), -2);   // -1.75
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-1}, 1), 0);    // -0.5
  EXPECT_EQ(fixed::round_shift_half_up(int64_t{-7}, 0), -7);
  EXPECT_EQ(fixed::round_shift_half_up(kInt64Max, 64), 0);
  EXPECT_EQ(fixed::round_shift_half_up(kInt64Max, 63), 1);     // just below 1.0
  EXPECT_EQ(fixed::round_shift_half_up(kInt64Min + 1, 63), -1);
  EXPECT_EQ(fixed::round_shift_half_up(kInt64Min + 1, 64), 0);
  EXPECT_EQ(fixed::round_shift_half_up(-(int64_t{1} << 62), 255), 0);
  std::mt19937_64 random(20261122);
  for (int i = 0; i < 200000; ++i) {
    const auto magnitude = static_cast<int64_t>(random() >> std::uniform_int_distribution<int>(1, 63)(random));
    const int64_t value = (random() & 1u) ? -magnitude : magnitude;
    const int shift = std::uniform_int_distribution<int>(-1, 70)(random);
    ASSERT_EQ(fixed::round_shift_half_up(value, shift), reference_round_shift_half_up(value, shift))
        << value << " >> " << shift;
    // Half up and half away from zero differ only at the exact ties of negative values.
    const bool tie = shift >= 1 && shift <= 63 && value < 0 &&
                     (static_cast<uint64_t>(value) & ((uint64_t{1} << shift) - 1)) == (uint64_t{1} << (shift - 1));
    if (!tie) {
      ASSERT_EQ(fixed::round_shift_half_up(value, shift), fixed::round_shift(value, shift)) << value << " >> " << shift;
    }
  }
}

TEST(FixedRounding, SaturatesToInt32) {
  EXPECT_EQ(fixed::saturate_i32(kInt64Max), INT32_MAX);
  EXPECT_EQ(fixed::saturate_i32(kInt64Min), INT32_MIN);
  EXPECT_EQ(fixed::saturate_i32(int64_t{INT32_MAX} + 1), INT32_MAX);
  EXPECT_EQ(fixed::saturate_i32(int64_t{INT32_MIN} - 1), INT32_MIN);
  EXPECT_EQ(fixed::saturate_i32(INT32_MAX), INT32_MAX);
  EXPECT_EQ(fixed::saturate_i32(INT32_MIN), INT32_MIN);
  EXPECT_EQ(fixed::saturate_i32(-12345), -12345);
}

TEST(FixedRounding, HelpersMatchTheStatedRuleAndTheRuntime) {
  std::mt19937_64 random(20240611);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t value = random() >> std::uniform_int_distribution<int>(0, 63)(random);
    const int shift = std::uniform_int_distribution<int>(-1, 66)(random);
    const uint64_t rounded = fixed::round_shift(value, shift);
    ASSERT_EQ(rounded, reference_round_shift(value, shift)) << value << " >> " << shift;
    ASSERT_EQ(rounded, mcuport_fx_round_shift_u64(value, shift));

    const int64_t signed_value = static_cast<int64_t>(value) * (random() & 1 ? -1 : 1);
    const int64_t signed_rounded = fixed::round_shift(signed_value, shift);
    ASSERT_EQ(signed_rounded, mcuport_fx_round_shift_i64(signed_value, shift));
    ASSERT_EQ(fixed::round_shift(-signed_value, shift), -signed_rounded) << "not symmetric";
    const uint64_t magnitude = signed_value < 0 ? 0u - static_cast<uint64_t>(signed_value)
                                                : static_cast<uint64_t>(signed_value);
    ASSERT_EQ(signed_rounded < 0 ? 0u - static_cast<uint64_t>(signed_rounded)
                                 : static_cast<uint64_t>(signed_rounded),
              shift <= 0 ? magnitude : reference_round_shift(magnitude, shift));

    const int64_t wide = static_cast<int64_t>(random());
    ASSERT_EQ(fixed::saturate_i32(wide), mcuport_fx_saturate_i32(wide));
  }
}

// --- exp_neg -----------------------------------------------------------------------------------

TEST(FixedExpNeg, ExactPointsAndSaturation) {
  for (int frac_bits = fixed::kMinFracBits; frac_bits <= fixed::kMaxFracBits; ++frac_bits) {
    SCOPED_TRACE(frac_bits);
    EXPECT_EQ(fixed::exp_neg(0, frac_bits), fixed::kOneQ30);
    EXPECT_EQ(fixed::exp_neg(-1, frac_bits), fixed::kOneQ30);
    EXPECT_EQ(fixed::exp_neg(kInt64Min, frac_bits), fixed::kOneQ30);
    EXPECT_EQ(fixed::exp_neg(kInt64Max, frac_bits), 0);
    EXPECT_EQ(fixed::exp_neg(int64_t{22} << frac_bits, frac_bits), 0);
    // exp(-1) 2^30 = 395007542.18: pins the bits, not just the error.
    EXPECT_EQ(fixed::exp_neg(int64_t{1} << frac_bits, frac_bits), 395007542);
    EXPECT_EQ(mcuport_fx_exp_neg(int64_t{1} << frac_bits, frac_bits), 395007542);
  }
  EXPECT_EQ(fixed::exp_neg(1, 7), 0) << "frac_bits below the range";
  EXPECT_EQ(fixed::exp_neg(1, 41), 0) << "frac_bits above the range";
  EXPECT_EQ(mcuport_fx_exp_neg(1, 7), 0);
  EXPECT_EQ(mcuport_fx_exp_neg(1, 41), 0);
}

TEST(FixedExpNeg, EveryInputOfSmallFormats) {
  for (int frac_bits : {8, 12, 16}) {
    KernelSweep sweep(KernelSweep::Kernel::ExpNeg);
    const int64_t end = (int64_t{22} << frac_bits) + 64;  // past the underflow threshold
    bool monotonic = true;
    int32_t previous = fixed::kOneQ30;
    for (int64_t t = 0; t <= end; ++t) {
      ASSERT_TRUE(sweep.check(t, frac_bits));
      const int32_t value = fixed::exp_neg(t, frac_bits);
      monotonic = monotonic && value <= previous;
      previous = value;
    }
    EXPECT_TRUE(monotonic) << "exp_neg increases somewhere in Q" << frac_bits;
    std::cout << "    " << sweep.record().describe("exp_neg, every input") << "\n";
  }
}

TEST(FixedExpNeg, RandomAndEdgeInputsOfEveryFormat) {
  std::mt19937_64 random(7);
  KernelSweep sweep(KernelSweep::Kernel::ExpNeg);
  const long double ln2 = std::log(2.0L);
  for (int frac_bits = fixed::kMinFracBits; frac_bits <= fixed::kMaxFracBits; ++frac_bits) {
    const int64_t limit = int64_t{23} << frac_bits;
    std::vector<int64_t> inputs = {0, 1, 2, 3, kInt64Max, kInt64Max - 1, limit};
    for (int k = 0; k <= 33; ++k) {  // the range reduction's seams, where n changes
      for (int64_t q : neighbourhood(k * ln2, frac_bits, 0, limit)) inputs.push_back(q);
    }
    for (int64_t q : neighbourhood(22, frac_bits, 0, limit)) inputs.push_back(q);
    for (int i = 0; i < 30000; ++i) {
      inputs.push_back(std::uniform_int_distribution<int64_t>(0, limit)(random));
      inputs.push_back(random_log_uniform(random, limit));
    }
    for (int64_t t : inputs) ASSERT_TRUE(sweep.check(t, frac_bits)) << t;
  }
  std::cout << "    " << sweep.record().describe("exp_neg, random and edges, Q8..Q40") << "\n";
}

// --- tanh ----------------------------------------------------------------------------------

TEST(FixedTanh, ExactPointsSymmetryAndSaturation) {
  for (int frac_bits = fixed::kMinFracBits; frac_bits <= fixed::kMaxFracBits; ++frac_bits) {
    SCOPED_TRACE(frac_bits);
    EXPECT_EQ(fixed::tanh(0, frac_bits), 0);
    EXPECT_EQ(fixed::tanh(kInt64Max, frac_bits), fixed::kOneQ30);
    EXPECT_EQ(fixed::tanh(kInt64Min, frac_bits), -fixed::kOneQ30);
    EXPECT_EQ(mcuport_fx_tanh(kInt64Min, frac_bits), -fixed::kOneQ30);
    const int64_t saturation = int64_t{89} << (frac_bits - 3);  // 11.125
    EXPECT_EQ(fixed::tanh(saturation, frac_bits), fixed::kOneQ30);
    EXPECT_EQ(fixed::tanh(-saturation, frac_bits), -fixed::kOneQ30);
    // tanh(1) 2^30 = 817755498.16
    EXPECT_EQ(fixed::tanh(int64_t{1} << frac_bits, frac_bits), 817755498);
    EXPECT_EQ(fixed::tanh(-(int64_t{1} << frac_bits), frac_bits), -817755498);
  }
  EXPECT_EQ(fixed::tanh(1, 7), 0) << "frac_bits below the range";
  EXPECT_EQ(fixed::tanh(1, 41), 0) << "frac_bits above the range";
  EXPECT_EQ(mcuport_fx_tanh(1, 7), 0);
  EXPECT_EQ(mcuport_fx_tanh(1, 41), 0);
}

TEST(FixedTanh, EveryInputOfSmallFormats) {
  for (int frac_bits : {8, 12, 16}) {
    KernelSweep sweep(KernelSweep::Kernel::Tanh);
    const int64_t end = (int64_t{12} << frac_bits);  // past the saturation threshold
    bool monotonic = true;
    int32_t previous = -fixed::kOneQ30;
    for (int64_t x = -end; x <= end; ++x) {
      ASSERT_TRUE(sweep.check(x, frac_bits));
      const int32_t value = fixed::tanh(x, frac_bits);
      ASSERT_EQ(fixed::tanh(-x, frac_bits), -value) << "not odd at " << x;
      monotonic = monotonic && value >= previous;
      previous = value;
    }
    EXPECT_TRUE(monotonic) << "tanh decreases somewhere in Q" << frac_bits;
    std::cout << "    " << sweep.record().describe("tanh, every input") << "\n";
  }
}

TEST(FixedTanh, RandomAndEdgeInputsOfEveryFormat) {
  std::mt19937_64 random(11);
  KernelSweep sweep(KernelSweep::Kernel::Tanh);
  const long double ln2 = std::log(2.0L);
  for (int frac_bits = fixed::kMinFracBits; frac_bits <= fixed::kMaxFracBits; ++frac_bits) {
    const int64_t limit = int64_t{12} << frac_bits;
    std::vector<int64_t> inputs = {0, 1, -1, 2, -2, kInt64Max, kInt64Min, kInt64Min + 1};
    for (int k = 0; k <= 33; ++k) {  // 2|x| at the range reduction's seams
      for (int64_t q : neighbourhood(k * ln2 / 2, frac_bits, -limit, limit)) {
        inputs.push_back(q);
        inputs.push_back(-q);
      }
    }
    if (frac_bits == 40) {  // the worst inputs of the former polynomial core (still edge inputs)
      for (int64_t end : {-64, 63}) inputs.push_back(int64_t{128} * 2910606987 + end);
    }
    for (int64_t q : neighbourhood(11.125L, frac_bits, -limit, limit)) {
      inputs.push_back(q);
      inputs.push_back(-q);
    }
    for (int i = 0; i < 30000; ++i) {
      inputs.push_back(std::uniform_int_distribution<int64_t>(-limit, limit)(random));
      const int64_t small = random_log_uniform(random, limit);
      inputs.push_back(random() & 1 ? small : -small);
    }
    for (int64_t x : inputs) ASSERT_TRUE(sweep.check(x, frac_bits)) << x;
  }
  std::cout << "    " << sweep.record().describe("tanh, random and edges, Q8..Q40") << "\n";
}

// --- the exp core's two stages ------------------------------------------------------------
//
// Below ln2 (n = 0) the core returns y = (1 - c12)(1 - cg) in Q63 (the product cg c12 truncated,
// below 2^-63): c12 stands for C = 1 - exp(-s), s = a/32 + b/2048 the top 11 bits of r (two
// tables and one product), and cg for G = 1 - exp(-g), g < 2^-11 the rest of r. As
// (1 - C)(1 - G) = exp(-r),
//   |y - exp(-r)| <= |c12 - C| (1 - cg) + |cg - G| (1 - C) + 2^-63 <= e12 + eg + 2^-63,
// with e12 the largest error of c12 over every (a, b) and eg that of cg over every g. Both sweeps
// below are complete, so they bound the core for every r of every format; docs/fixed-point.md
// builds the kernels' bounds on them. The core is called with r itself (t = r < ln2): with g = 0
// it returns c12 exactly in y's high bits, with a = b = 0 it returns cg.

constexpr uint64_t kLn2Q40 = 762123384786u;
constexpr uint64_t kOneQ63 = uint64_t{1} << 63;

// c12 of the cell (a, b), read back from the core; fails the test if y is not 1 - c12 exactly.
uint32_t core_c12(uint32_t a, uint32_t b) {
  const uint64_t r = (uint64_t{a} << 35) | (uint64_t{b} << 29);
  const mcuport_fx_exp_core core = mcuport_fx_exp_neg_q40(r);
  EXPECT_EQ(core.halvings, 0) << a << " " << b;
  EXPECT_EQ((kOneQ63 - core.y_q63) & ((uint64_t{1} << 30) - 1), 0u) << a << " " << b;
  return static_cast<uint32_t>((kOneQ63 - core.y_q63) >> 30);  // Q33
}

// The cells some r < ln2 reaches: s = a/32 + b/2048 below ln2.
bool cell_reachable(uint32_t a, uint32_t b) {
  return ((uint64_t{a} << 35) | (uint64_t{b} << 29)) < kLn2Q40;
}

long double table_stage_error_lsb() {
  long double worst = 0;
  for (uint32_t a = 0; a < 23; ++a) {
    for (uint32_t b = 0; b < 64; ++b) {
      if (!cell_reachable(a, b)) continue;
      const uint32_t c12 = core_c12(a, b);
      const long double s = a / 32.0L + b / 2048.0L;
      const long double exact = -std::expm1(-s);
      worst = std::max(worst, std::fabs(std::ldexp(static_cast<long double>(c12), -33) - exact));
    }
  }
  return worst / kLsb;
}

// |cg - (1 - exp(-g))| of the remainder g alone (a = b = 0), cg read back from the core; false
// where y is not 1 - cg exactly.
bool remainder_error(uint32_t g, long double& error) {
  const mcuport_fx_exp_core core = mcuport_fx_exp_neg_q40(g);
  if (core.halvings != 0 || ((kOneQ63 - core.y_q63) & ((uint64_t{1} << 23) - 1)) != 0) {
    return false;
  }
  const long double cg = std::ldexp(static_cast<long double>((kOneQ63 - core.y_q63) >> 23), -40);
  error = std::fabs(cg + std::expm1(-std::ldexp(static_cast<long double>(g), -40)));
  return true;
}

long double remainder_stage_error_lsb(uint32_t stride) {
  constexpr uint32_t kLast = (uint32_t{1} << 29) - 1;  // where the dropped g^3/6 is largest
  long double worst = 0;
  const auto add = [&worst](uint32_t g) {
    long double error = 0;
    if (!remainder_error(g, error)) {
      ADD_FAILURE() << "g = " << g << ": y is not 1 - cg";
      return false;
    }
    worst = std::max(worst, error);
    return true;
  };
  for (uint32_t g = 0; g < kLast; g += stride) {
    if (!add(g)) return 1;
  }
  if (!add(kLast)) return 1;  // whatever the stride
  return worst / kLsb;
}

// docs/fixed-point.md's bounds for t >= ln2 and for tanh are built on e12 + eg <= 0.15.
constexpr long double kCoreStagesLsb = 0.15L;

TEST(FixedExpCore, EveryTableCell) {
  const long double e12 = table_stage_error_lsb();
  std::cout << "    every table cell: |c12 - (1 - exp(-s))| <= " << static_cast<double>(e12)
            << " LSB\n";
  EXPECT_LE(e12, 0.125L);
}

TEST(FixedExpCore, Every61stRemainder) {
  const long double eg = remainder_stage_error_lsb(61);
  std::cout << "    every 61st g: |cg - (1 - exp(-g))| <= " << static_cast<double>(eg) << " LSB\n";
  EXPECT_LE(eg, 0.025L);
}

// All 2^29 remainders: about 70 s in a Release build (0.0212 LSB).
//   mcuport_tests --gtest_filter='FixedExpCore.*' --gtest_also_run_disabled_tests
TEST(FixedExpCore, DISABLED_EveryRemainder) {
  const long double eg = remainder_stage_error_lsb(1);
  std::cout << "    every g: |cg - (1 - exp(-g))| <= " << static_cast<double>(eg) << " LSB\n";
  EXPECT_LE(eg, 0.025L);
}

// The composition: in every cell, at g = 0, at the last g and at random g, y is within the two
// stages' errors of exp(-r), the C runtime and the mirror agree, and exp_neg and tanh are within
// their bounds.
TEST(FixedExpCore, EveryCellComposesWithinTheStagesBound) {
  const long double bound = table_stage_error_lsb() + remainder_stage_error_lsb(4099);
  ASSERT_LE(bound, kCoreStagesLsb);
  std::mt19937_64 random(11);
  const long double q40 = std::ldexp(1.0L, -40);
  long double core_lsb = 0;
  long double exp_neg_lsb = 0;
  long double tanh_lsb = 0;
  for (uint32_t a = 0; a < 23; ++a) {
    for (uint32_t b = 0; b < 64; ++b) {
      if (!cell_reachable(a, b)) continue;
      const uint64_t base = (uint64_t{a} << 35) | (uint64_t{b} << 29);
      std::vector<uint64_t> rs = {base, base + (uint64_t{1} << 29) - 1};
      for (int i = 0; i < 64; ++i) rs.push_back(base + (random() & ((uint64_t{1} << 29) - 1)));
      for (uint64_t r : rs) {
        if (r >= kLn2Q40) continue;
        const mcuport_fx_exp_core core = mcuport_fx_exp_neg_q40(r);
        const long double exact = std::exp(-(r * q40));
        core_lsb = std::max(core_lsb, std::fabs(std::ldexp(static_cast<long double>(core.y_q63), -63) - exact) / kLsb);
        const int32_t exp_neg = fixed::exp_neg(static_cast<int64_t>(r), 40);
        ASSERT_EQ(exp_neg, mcuport_fx_exp_neg(static_cast<int64_t>(r), 40)) << r;
        exp_neg_lsb = std::max(exp_neg_lsb, std::fabs(exp_neg * kLsb - exact) / kLsb);
        // tanh(r/2) = (1 - e^-r) / (1 + e^-r), at even r (x_q = r/2 in Q40).
        const uint64_t even = r & ~uint64_t{1};
        const int32_t tanh = fixed::tanh(static_cast<int64_t>(even / 2), 40);
        ASSERT_EQ(tanh, mcuport_fx_tanh(static_cast<int64_t>(even / 2), 40)) << r;
        const long double e = std::exp(-(even * q40));
        tanh_lsb = std::max(tanh_lsb, std::fabs(tanh * kLsb - (1 - e) / (1 + e)) / kLsb);
      }
    }
  }
  std::cout << "    every cell below ln2: core " << static_cast<double>(core_lsb) << " LSB (stages "
            << static_cast<double>(bound) << "); exp_neg " << static_cast<double>(exp_neg_lsb)
            << " LSB; tanh " << static_cast<double>(tanh_lsb) << " LSB\n";
  EXPECT_LE(core_lsb, bound + 1e-9L);
  EXPECT_LE(exp_neg_lsb * kLsb, fixed::exp_neg_max_error());
  EXPECT_LE(tanh_lsb * kLsb, fixed::tanh_max_error());
  EXPECT_LE(exp_neg_lsb, kExpNegAnalysisLsb);
  EXPECT_LE(tanh_lsb, kTanhAnalysisLsb);
}

// --- the embedded runtime text ----------------------------------------------------------------

// MCUPORT_FX_MUL32_ONLY (Cortex-M0) builds 64-bit products from 16-bit halves: the products at
// the edges and at random, and exp and tanh on every input of Q8 and Q12 and random inputs of
// every format, must be the same bits as the ordinary build's.
TEST(FixedMul32Only, SameBitsAsTheOrdinaryBuild) {
  namespace m0 = mcuport_test_mul32_only;
  std::mt19937_64 random(5);
  const uint32_t edges[] = {0u, 1u, 0xFFFFu, 0x10000u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu};
  for (uint32_t a : edges) {
    for (uint32_t b : edges) {
      ASSERT_EQ(m0::mul_u32(a, b), static_cast<uint64_t>(a) * b) << a << " " << b;
      const auto sa = static_cast<int32_t>(a);
      const auto sb = static_cast<int32_t>(b);
      ASSERT_EQ(m0::mul_i32(sa, sb), static_cast<int64_t>(sa) * sb) << sa << " " << sb;
    }
  }
  for (int i = 0; i < 1000000; ++i) {
    const auto a = static_cast<uint32_t>(random());
    const auto b = static_cast<uint32_t>(random());
    ASSERT_EQ(m0::mul_u32(a, b), static_cast<uint64_t>(a) * b);
    ASSERT_EQ(m0::mul_i32(static_cast<int32_t>(a), static_cast<int32_t>(b)),
              static_cast<int64_t>(static_cast<int32_t>(a)) * static_cast<int32_t>(b));
  }
  for (int frac_bits : {8, 12}) {
    for (int64_t q = -(int64_t{1} << frac_bits); q <= (int64_t{23} << frac_bits); ++q) {
      ASSERT_EQ(m0::exp_neg(q, frac_bits), mcuport_fx_exp_neg(q, frac_bits)) << q << " Q" << frac_bits;
      ASSERT_EQ(m0::tanh(q, frac_bits), mcuport_fx_tanh(q, frac_bits)) << q << " Q" << frac_bits;
    }
  }
  for (int frac_bits = fixed::kMinFracBits; frac_bits <= fixed::kMaxFracBits; ++frac_bits) {
    std::uniform_int_distribution<int64_t> t(0, int64_t{23} << frac_bits);
    for (int i = 0; i < 20000; ++i) {
      const int64_t q = t(random);
      ASSERT_EQ(m0::exp_neg(q, frac_bits), mcuport_fx_exp_neg(q, frac_bits)) << q << " Q" << frac_bits;
      ASSERT_EQ(m0::tanh(q, frac_bits), mcuport_fx_tanh(q, frac_bits)) << q << " Q" << frac_bits;
    }
  }
}

TEST(FixedRuntimeText, EmbeddedTextIsTheFileOnDisk) {
  const std::string path = std::string(MCUPORT_SOURCE_DIR) + "/codegen/runtime/mcuport_fixed.h";
  std::ifstream file(path, std::ios::binary);
  ASSERT_TRUE(file) << "cannot read " << path;
  const std::string on_disk{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  const std::string embedded = mcuport::codegen::fixed_runtime_text();
  EXPECT_GT(on_disk.size(), 1000u);
  // Not EXPECT_EQ: on a mismatch the sizes say more than two pages of C.
  EXPECT_TRUE(embedded == on_disk) << "embedded " << embedded.size() << " bytes, file "
                                   << on_disk.size() << " bytes: re-run cmake";
}

}  // namespace

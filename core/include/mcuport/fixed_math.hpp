// Integer math kernels of the generated C, mirrored in C++ so that the core can simulate fixed
// mode bit for bit: exp(-t) and tanh(x) in Q30, and the rounding and saturation helpers.
//
// Each function does, operation for operation, what its namesake mcuport_fx_* does in
// codegen/runtime/mcuport_fixed.h (the tests compare the two on millions of inputs). The error
// bounds below are what the range analysis may rely on; docs/fixed-point.md derives them.
#pragma once

#include <cstdint>

namespace mcuport::fixed {

// Results are Q30: one is exactly 2^30, and an LSB is 2^-30 (about 9.3e-10).
inline constexpr int kResultFracBits = 30;
inline constexpr int32_t kOneQ30 = int32_t{1} << kResultFracBits;

// Arguments are Q`frac_bits` int64 with frac_bits in this range; other frac_bits return 0.
inline constexpr int kMinFracBits = 8;
inline constexpr int kMaxFracBits = 40;

// value / 2^shift rounded half up. shift <= 0 returns value; shift > 64 returns 0.
uint64_t round_shift(uint64_t value, int shift);
// value / 2^shift rounded half away from zero (symmetric). shift <= 0 returns value.
int64_t round_shift(int64_t value, int shift);
// value / 2^shift rounded half up, floor((value + 2^(shift-1)) / 2^shift), for |value| < 2^63
// and any shift (shift <= 0 returns value). Not a runtime kernel: PCA's generated code rounds
// its outputs this way inline (docs/fixed-point.md, "PCA").
int64_t round_shift_half_up(int64_t value, int shift);
// value clamped to the int32 range.
int32_t saturate_i32(int64_t value);

// exp(-t) in Q30 for t = t_q / 2^frac_bits: one for t <= 0, 0 for t >= 22.
int32_t exp_neg(int64_t t_q, int frac_bits);
// tanh(x) in Q30 for x = x_q / 2^frac_bits: odd, and +-one for |x| >= 11.125.
int32_t tanh(int64_t x_q, int frac_bits);

// The largest |kernel(v) - f(v)| over every argument and every frac_bits in range, in real
// units (not LSBs). The tests measure the true maximum over exhaustive and random sweeps and
// check it against these numbers, which also hold by the error analysis in docs/fixed-point.md.
double exp_neg_max_error();
double tanh_max_error();

}  // namespace mcuport::fixed

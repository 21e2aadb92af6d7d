// The C++ mirror of codegen/runtime/mcuport_fixed.h. Keep the two in step: same constants, same
// operations in the same order, same rounding; the comments there explain each step.
#include "mcuport/fixed_math.hpp"

#include <array>
#include <cmath>

namespace mcuport::fixed {

namespace {

constexpr uint64_t kLn2Q40 = 762123384786u;  // 0.6931471805599453

// One Horner step b - g r, the product rounded by `shift` to b's Q format.
uint32_t horner_step(uint32_t b, uint32_t g, uint32_t r, int shift) {
  return b - static_cast<uint32_t>(round_shift(uint64_t{g} * r, shift));
}

// exp(-t) = y 2^-halvings, y in (1/2, 1] returned in Q63, for t in Q40 with 0 <= t < 23.
uint64_t exp_neg_q40(uint64_t t_q40, int& halvings) {
  const uint32_t t_q16 = static_cast<uint32_t>(t_q40 >> 24);
  uint32_t n = (t_q16 * uint32_t{1477}) >> 26;  // n or n - 1
  uint64_t r_q40 = t_q40 - uint64_t{n} * kLn2Q40;
  if (r_q40 >= kLn2Q40) {
    r_q40 -= kLn2Q40;
    n += 1u;
  }
  const uint32_t r = static_cast<uint32_t>(round_shift(r_q40, 8));  // Q32
  uint32_t g = 2484784244u;                 // b7 Q44
  g = horner_step(2922687261u, g, r, 35);  // b6 Q41
  g = horner_step(2281460761u, g, r, 35);  // b5 Q38
  g = horner_step(2862597229u, g, r, 34);  // b4 Q36
  g = horner_step(2863281659u, g, r, 34);  // b3 Q34
  g = horner_step(2147483054u, g, r, 34);  // b2 Q32
  g = horner_step(2147483640u, g, r, 33);  // b1 Q31
  halvings = static_cast<int>(n);
  return (uint64_t{1} << 63) - uint64_t{g} * r;
}

// ceil(2^31 / (1 + i / 32)), i = 0 .. 32.
constexpr std::array<uint32_t, 33> kReciprocalQ31 = {
    2147483648u, 2082408386u, 2021161081u, 1963413622u, 1908874354u, 1857283156u, 1808407283u,
    1762037866u, 1717986919u, 1676084799u, 1636178018u, 1598127366u, 1561806290u, 1527099484u,
    1493901669u, 1462116527u, 1431655766u, 1402438301u, 1374389535u, 1347440721u, 1321528399u,
    1296593901u, 1272582903u, 1249445032u, 1227133514u, 1205604856u, 1184818565u, 1164736894u,
    1145324613u, 1126548799u, 1108378658u, 1090785346u, 1073741824u};

// tanh(x) in Q30 for 2x in Q40, 0 <= 2x < 22.25: 1 - 2 e / (1 + e) with e = exp(-2x).
int32_t tanh_q40(uint64_t two_x_q40) {
  int halvings = 0;
  const uint64_t y_q32 = round_shift(exp_neg_q40(two_x_q40, halvings), 31);
  const uint64_t e_q32 = y_q32 >> halvings;
  if (e_q32 > 0xFFFFFFFFu) return 0;
  const uint32_t segment = static_cast<uint32_t>(e_q32 >> 27);
  const uint32_t q0_q31 =
      kReciprocalQ31[segment] -
      static_cast<uint32_t>((uint64_t{kReciprocalQ31[segment] - kReciprocalQ31[segment + 1u]} *
                             (static_cast<uint32_t>(e_q32) & 0x7FFFFFFu)) >>
                            27);
  const uint64_t e_q0_q63 = (y_q32 * q0_q31) >> halvings;
  const uint32_t eps_q44 =
      static_cast<uint32_t>(((uint64_t{q0_q31} << 32) + e_q0_q63 - (uint64_t{1} << 63)) >> 19);
  const uint32_t correction_q44 =
      eps_q44 - static_cast<uint32_t>((uint64_t{eps_q44} * eps_q44) >> 44);
  const uint64_t s_q63 = e_q0_q63 - round_shift((e_q0_q63 >> 32) * correction_q44, 12);
  return kOneQ30 - static_cast<int32_t>(round_shift(s_q63, 32));
}

bool frac_bits_in_range(int frac_bits) {
  return frac_bits >= kMinFracBits && frac_bits <= kMaxFracBits;
}

}  // namespace

uint64_t round_shift(uint64_t value, int shift) {
  if (shift <= 0) return value;
  if (shift > 64) return 0u;
  return ((value >> (shift - 1)) >> 1) + ((value >> (shift - 1)) & 1u);
}

int64_t round_shift(int64_t value, int shift) {
  if (shift <= 0) return value;
  const uint64_t magnitude =
      round_shift(value < 0 ? 0u - static_cast<uint64_t>(value) : static_cast<uint64_t>(value),
                  shift);
  return value < 0 ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
}

int64_t round_shift_half_up(int64_t value, int shift) {
  if (shift <= 0) return value;
  if (value >= 0) return static_cast<int64_t>(round_shift(static_cast<uint64_t>(value), shift));
  // floor((v + h) / 2^s) = -ceil((-v - h) / 2^s) = -floor((-v - 1 + h) / 2^s) (2^s - h = h), and
  // -v - 1 = ~v >= 0: minus the half-up rounding of ~v. |result| <= 2^62 for shift >= 1.
  return -static_cast<int64_t>(round_shift(~static_cast<uint64_t>(value), shift));
}

int32_t saturate_i32(int64_t value) {
  if (value > INT32_MAX) return INT32_MAX;
  if (value < INT32_MIN) return INT32_MIN;
  return static_cast<int32_t>(value);
}

int32_t exp_neg(int64_t t_q, int frac_bits) {
  if (!frac_bits_in_range(frac_bits)) return 0;
  if (t_q <= 0) return kOneQ30;
  if (t_q >= (int64_t{22} << frac_bits)) return 0;
  int halvings = 0;
  const uint64_t y_q63 = exp_neg_q40(static_cast<uint64_t>(t_q) << (40 - frac_bits), halvings);
  if (halvings >= 31) return 0;
  return static_cast<int32_t>(round_shift(y_q63, 33 + halvings));
}

int32_t tanh(int64_t x_q, int frac_bits) {
  const uint64_t magnitude =
      x_q < 0 ? 0u - static_cast<uint64_t>(x_q) : static_cast<uint64_t>(x_q);
  if (!frac_bits_in_range(frac_bits)) return 0;
  const int32_t tanh_magnitude = magnitude >= (uint64_t{89} << (frac_bits - 3))
                                     ? kOneQ30
                                     : tanh_q40(magnitude << (41 - frac_bits));
  return x_q < 0 ? -tanh_magnitude : tanh_magnitude;
}

// One LSB each. Every argument is within 0.84 LSB (exp_neg) and 0.91 LSB (tanh): an exhaustive
// sweep of the reduced arguments below ln2 and the analysis above it (docs/fixed-point.md).
double exp_neg_max_error() { return std::ldexp(1.0, -kResultFracBits); }
double tanh_max_error() { return std::ldexp(1.0, -kResultFracBits); }

}  // namespace mcuport::fixed

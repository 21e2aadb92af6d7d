// The C++ mirror of codegen/runtime/mcuport_fixed.h. Keep the two in step: same constants, same
// operations in the same order, same rounding; the comments there explain each step.
#include "mcuport/fixed_math.hpp"

#include <array>
#include <cmath>

namespace mcuport::fixed {

namespace {

constexpr uint64_t kLn2Q40 = 762123384786u;  // 0.6931471805599453

// round((1 - exp(-a / 32)) 2^33), a = 0 .. 22, and round((1 - exp(-b / 2048)) 2^36), b = 0 .. 63.
constexpr std::array<uint32_t, 23> kExpStepQ33 = {
    0u, 264284503u, 520437828u, 768710142u, 1009343921u, 1242574177u, 1468628692u, 1687728241u,
    1900086805u, 2105911783u, 2305404193u, 2498758866u, 2686164641u, 2867804547u, 3043855981u,
    3214490881u, 3379875897u, 3540172551u, 3695537396u, 3846122167u, 3992073931u, 4133535232u,
    4270644226u};
constexpr std::array<uint32_t, 64> kExpFineStepQ36 = {
    0u, 33546241u, 67076107u, 100589604u, 134086741u, 167567527u, 201031968u, 234480073u,
    267911850u, 301327307u, 334726452u, 368109292u, 401475837u, 434826093u, 468160068u, 501477772u,
    534779211u, 568064393u, 601333327u, 634586020u, 667822481u, 701042716u, 734246735u, 767434545u,
    800606154u, 833761570u, 866900800u, 900023854u, 933130738u, 966221460u, 999296029u,
    1032354451u, 1065396737u, 1098422892u, 1131432925u, 1164426843u, 1197404656u, 1230366369u,
    1263311993u, 1296241533u, 1329154998u, 1362052397u, 1394933736u, 1427799023u, 1460648267u,
    1493481476u, 1526298656u, 1559099816u, 1591884964u, 1624654108u, 1657407254u, 1690144412u,
    1722865589u, 1755570793u, 1788260031u, 1820933312u, 1853590643u, 1886232031u, 1918857486u,
    1951467014u, 1984060623u, 2016638321u, 2049200116u, 2081746016u};

// exp(-t) = y 2^-halvings, y returned in Q63 (at most 1), for t in Q40 with 0 <= t < 23.
uint64_t exp_neg_q40(uint64_t t_q40, int& halvings) {
  const uint32_t t_q16 = static_cast<uint32_t>(t_q40 >> 24);
  uint32_t n = (t_q16 * uint32_t{1477}) >> 26;  // n or n - 1
  uint64_t r_q40 = t_q40 - uint64_t{n} * kLn2Q40;
  if (r_q40 >= kLn2Q40) {
    r_q40 -= kLn2Q40;
    n += 1u;
  }
  const uint32_t c1 = kExpStepQ33[static_cast<size_t>(r_q40 >> 35)];
  const uint32_t c2 = kExpFineStepQ36[static_cast<size_t>((r_q40 >> 29) & 63u)];
  const uint32_t g = static_cast<uint32_t>(r_q40) & 0x1FFFFFFFu;  // Q40, < 2^-11
  // 1 - (1 - c1)(1 - c2) in Q33, rounded half up.
  const uint32_t c12 = c1 + static_cast<uint32_t>(((uint64_t{c2} << 33) - uint64_t{c2} * c1 +
                                                    (uint64_t{1} << 35)) >> 36);
  const uint32_t g_top = g >> 13;                                  // Q27
  const uint32_t cg = g - ((g_top * g_top + (uint32_t{1} << 14)) >> 15);  // g - g^2/2, Q40
  halvings = static_cast<int>(n);
  return (uint64_t{1} << 63) - (uint64_t{c12} << 30) - (uint64_t{cg} << 23) +
         ((uint64_t{cg} * c12) >> 10);
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

// One LSB each: the analysis in docs/fixed-point.md, with the stages' errors measured by
// tests/cpp/test_fixed_math.cpp.
double exp_neg_max_error() { return std::ldexp(1.0, -kResultFracBits); }
double tanh_max_error() { return std::ldexp(1.0, -kResultFracBits); }

}  // namespace mcuport::fixed

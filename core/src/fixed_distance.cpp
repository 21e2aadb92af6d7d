// Fixed-point weighted squared distances (see fixed_distance.hpp).
#include "mcuport/fixed_distance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "mcuport/error.hpp"
#include "mcuport/fixed_math.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

namespace {

// One term's mantissa at the binary point F: R = round(s 2^k) for the largest k in [0, 31] with
// R <= limit (s = sqrt(u 2^F)); false when even k = 0 needs more (F too high for this weight).
bool term_mantissa(double s, double limit, uint16_t& root, uint8_t& shift) {
  if (!(s > 0)) {
    root = 0;
    shift = 0;
    return true;
  }
  int k = std::clamp(static_cast<int>(std::floor(std::log2(limit / s))), 0, 31);
  while (k >= 0 && std::round(std::ldexp(s, k)) > limit) --k;
  if (k < 0) return false;
  root = static_cast<uint16_t>(std::round(std::ldexp(s, k)));
  shift = static_cast<uint8_t>(k);
  return true;
}

}  // namespace

bool FixedSquaredDistance::center_fits_int16() const {
  return std::all_of(center.begin(), center.end(),
                     [](int32_t c) { return c >= INT16_MIN && c <= INT16_MAX; });
}

bool FixedSquaredDistance::uniform_shift() const {
  return std::all_of(shift.begin(), shift.end(), [&](uint8_t k) { return k == shift.front(); });
}

bool FixedSquaredDistance::uniform_row_shift() const {
  return std::all_of(row_shift.begin(), row_shift.end(),
                     [&](uint8_t k) { return k == row_shift.front(); });
}

namespace {

// Row r's roots at the binary point F: false if a root passes 2^15 - 1 or (2^31 - 2) / (reach + 1)
// (|q R - C| <= |q - c| R + 1/2 < 2^31, `reach` the largest |q - c| over int16 codes, c the exact
// center) or the row's largest sum reaches 2^62; else sets the smallest nonzero root.
bool row_roots(FixedSquaredDistance& map, const std::vector<double>& unit_weight,
               const std::vector<double>& reach, uint32_t r, int F, uint64_t& sum,
               double& smallest) {
  const uint32_t n = map.n_features;
  sum = 0;
  smallest = 0x1p15;
  for (uint32_t f = 0; f < n; ++f) {
    const std::size_t i = r * n + f;
    const double root = std::round(std::sqrt(std::ldexp(unit_weight[i], F)));
    if (root > std::min(32767.0, std::floor(2147483646.0 / (reach[i] + 1)))) return false;
    map.root[i] = static_cast<uint16_t>(root);
    if (unit_weight[i] > 0) smallest = std::min(smallest, root);
    // The largest |t|, at most reach R + 1/2 < 2^31.
    const uint64_t top = static_cast<uint64_t>(std::floor(reach[i] * map.root[i] + 0.5));
    const uint64_t term = top * top;
    if (sum >= (uint64_t{1} << 62) - term) return false;
    sum += term;
  }
  return true;
}

// The per-row form: each row's largest F_r at which its roots fit (row_roots), then one point for
// every row where all roots keep at least 12 bits there (no shift at all), else each row at its
// own F_r, rounded right by F_r - F once per row. False when a nonzero root would keep fewer
// than 12 bits (then the per-term form is used).
bool quantize_blocks(FixedSquaredDistance& map, const std::vector<double>& unit_weight,
                     const std::vector<double>& code_center, int frac_bits_limit) {
  std::vector<double> reach(code_center.size());  // the largest |q - c| over int16 codes
  for (std::size_t i = 0; i < code_center.size(); ++i) {
    reach[i] = std::max(std::fabs(-32768.0 - code_center[i]), std::fabs(32767.0 - code_center[i]));
  }
  const uint32_t n = map.n_features;
  map.row_frac_bits.assign(map.n_rows, 0);
  map.root.assign(unit_weight.size(), 0);
  map.shift.assign(unit_weight.size(), 0);
  map.row_shift.clear();
  map.bound = 0;
  std::vector<uint64_t> row_bound(map.n_rows, 0);
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    double total = 0;
    for (uint32_t f = 0; f < n; ++f) total += unit_weight[r * n + f] * reach[r * n + f] * reach[r * n + f];
    if (!(total > 0)) return false;
    int F = static_cast<int>(std::floor(62.0 - std::log2(total))) + 1;
    uint64_t sum = 0;
    double smallest = 0;
    while (!row_roots(map, unit_weight, reach, r, F, sum, smallest)) --F;
    if (smallest < 0x1p12) return false;
    map.row_frac_bits[r] = F;
  }
  // One point for every row, where every root keeps 12 bits there.
  const int common = std::min(*std::min_element(map.row_frac_bits.begin(), map.row_frac_bits.end()),
                              frac_bits_limit);
  bool shared = true;
  for (uint32_t r = 0; r < map.n_rows && shared; ++r) {
    double smallest = 0;
    shared = row_roots(map, unit_weight, reach, r, common, row_bound[r], smallest) &&
             smallest >= 0x1p12;
  }
  if (shared) {
    map.row_frac_bits.assign(map.n_rows, common);
  } else {
    for (uint32_t r = 0; r < map.n_rows; ++r) {
      double smallest = 0;
      const bool fits = row_roots(map, unit_weight, reach, r, map.row_frac_bits[r], row_bound[r], smallest);
      MCUPORT_ASSERT(fits);
    }
  }
  map.frac_bits = std::min(*std::min_element(map.row_frac_bits.begin(), map.row_frac_bits.end()),
                           frac_bits_limit);
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    const int k = map.row_frac_bits[r] - map.frac_bits;
    if (k > 62) return false;
    map.row_shift.push_back(static_cast<uint8_t>(k));
    map.bound = std::max(map.bound, fixed::round_shift(row_bound[r], k));
  }
  map.offset.clear();
  for (std::size_t i = 0; i < code_center.size(); ++i) {
    const double offset = std::round(code_center[i] * map.root[i]);  // |c R| < 2^31
    MCUPORT_ASSERT(std::fabs(offset) < 0x1p31);
    map.offset.push_back(static_cast<int32_t>(offset));
  }
  map.blocks = true;
  return true;
}

// One point F for every row: the largest (at most frac_bits_limit; the search starts where the
// largest row sum in real units, `total`, puts it) at which `fit(i, F)` sets term i's tables and
// returns its largest |t| over all int16 inputs (negative: the term does not fit at F), and every
// row's largest sum, the sum of those squares, stays below 2^62.
template <typename Fit>
void search_one_point(FixedSquaredDistance& map, double total, int frac_bits_limit, Fit fit) {
  const uint32_t n = map.n_features;
  map.blocks = false;
  map.row_shift.assign(map.n_rows, 0);
  map.frac_bits = total > 0 ? static_cast<int>(std::floor(61.0 - std::log2(total))) : frac_bits_limit;
  map.frac_bits = std::min(map.frac_bits, frac_bits_limit);
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  for (;; --map.frac_bits) {
    bool fits = true;
    map.bound = 0;
    for (uint32_t r = 0; r < map.n_rows && fits; ++r) {
      uint64_t row_bound = 0;  // stays below 2^62 while fits
      for (uint32_t f = 0; f < n && fits; ++f) {
        const int64_t top = fit(r * n + f, map.frac_bits);  // below 2^32
        const uint64_t term = top < 0 ? kLimit : static_cast<uint64_t>(top) * static_cast<uint64_t>(top);
        if (term >= kLimit || row_bound >= kLimit - term) fits = false;
        row_bound += fits ? term : 0;
      }
      if (fits) map.bound = std::max(map.bound, row_bound);
    }
    if (fits) break;
  }
  map.row_frac_bits.assign(map.n_rows, map.frac_bits);
}

// The per-term form: every term's 16-bit mantissa fits with a shift in [0, 31] and its largest
// value is at |q - P| = reach (reach R < 2^32: a 32-bit product).
void quantize_per_term(FixedSquaredDistance& map, const std::vector<double>& unit_weight,
                       const std::vector<double>& reach, double total, int frac_bits_limit) {
  map.root.assign(unit_weight.size(), 0);
  map.shift.assign(unit_weight.size(), 0);
  search_one_point(map, total, frac_bits_limit, [&](std::size_t i, int F) -> int64_t {
    const double s = std::sqrt(std::ldexp(unit_weight[i], F));
    const double limit = std::min(65535.0, std::floor(4294967295.0 / reach[i]));
    if (!term_mantissa(s, limit, map.root[i], map.shift[i])) return -1;
    return static_cast<int64_t>((static_cast<uint64_t>(reach[i]) * map.root[i]) >> map.shift[i]);
  });
}

// The high-word form: every W = round(s 2^17) stays below 2^31, and a term's largest |t| is at
// one end of the int16 codes (t is monotonic in q). Every center is an int16 code (the caller's
// check), so |q - P| <= 65535 and (q - P) 2^15 is an int32 value.
void quantize_high_word(FixedSquaredDistance& map, const std::vector<double>& unit_weight,
                        double total, int frac_bits_limit) {
  map.high_word = true;
  map.root.assign(unit_weight.size(), 0);
  map.shift.assign(unit_weight.size(), 0);
  map.wide_root.assign(unit_weight.size(), 0);
  search_one_point(map, total, frac_bits_limit, [&](std::size_t i, int F) -> int64_t {
    const double w = std::round(std::ldexp(std::sqrt(std::ldexp(unit_weight[i], F)), 17));
    if (!(w < 0x1p31)) return -1;
    map.wide_root[i] = static_cast<int32_t>(w);
    const int32_t low = high_word_term(INT16_MIN - map.center[i], map.wide_root[i]);
    const int32_t high = high_word_term(INT16_MAX - map.center[i], map.wide_root[i]);
    return std::max(std::llabs(low), std::llabs(high));  // at most 65535 (2^31 - 1) 2^-17 < 2^30
  });
}

}  // namespace

int32_t high_word_term(int32_t d, int32_t wide_root) {
  MCUPORT_ASSERT(d > -65536 && d < 65536 && wide_root >= 0);
  const int64_t product = static_cast<int64_t>(d * 32768) * wide_root;  // |d 2^15| < 2^31
  const auto m = static_cast<uint32_t>(static_cast<uint64_t>(product) >> 32);
  // The int32 whose two's complement is m, as the generated code reads it.
  return m >= 0x80000000u ? -static_cast<int32_t>(~m) - 1 : static_cast<int32_t>(m);
}

FixedSquaredDistance quantize_squared_distance(const std::vector<double>& centers,
                                               const std::vector<double>& weights,
                                               const InputQuantization& quantization,
                                               int frac_bits_limit, bool high_word_terms) {
  FixedSquaredDistance map;
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  map.n_rows = static_cast<uint32_t>(centers.size() / map.n_features);
  const uint32_t n_features = map.n_features;
  const std::size_t n_terms = centers.size();
  MCUPORT_ASSERT(weights.size() == n_terms);

  // Centers in the code domain: c = scale (p - zero_point)  =>  p = c / scale + zero_point,
  // rounded to a whole code P. The largest |q - P| over int16 codes q, reach, must stay below
  // 2^24 (so that the mantissa keeps at least 8 bits: reach * R < 2^32).
  std::vector<double> code_center(n_terms);
  std::vector<double> unit_weight(n_terms);  // u s^2: the weight of a squared code difference
  std::vector<double> reach(n_terms);
  double total = 0;  // the largest row sum, in real units, over all int16 inputs
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    double row_total = 0;
    for (uint32_t f = 0; f < n_features; ++f) {
      const std::size_t i = r * n_features + f;
      const FeatureQuantization& q = quantization.features[f];
      const double p = centers[i] / q.scale + q.zero_point;
      const double rounded = std::round(p);
      if (!(std::fabs(rounded) + 32768.0 < 0x1p24)) {
        throw Error("/input_ranges",
                    "a model center lies more than 2^24 codes outside the input ranges; give "
                    "calibration data that covers the model's parameters");
      }
      code_center[i] = p;
      map.center.push_back(static_cast<int32_t>(rounded));
      reach[i] = std::max(std::fabs(-32768.0 - rounded), std::fabs(32767.0 - rounded));
      const double u = weights[i] * q.scale * q.scale;
      if (!std::isfinite(u)) {
        // A weight (naive Bayes: 1 / (2 var)) large for the span of its input, whose code step
        // is wide: reachable from a document, so a user error, not a broken invariant.
        // Naive Bayes, the only user: row r is class r, its weights 1 / (2 var).
        throw Error("/params/var/" + std::to_string(r) + "/" + std::to_string(f),
                    "fixed mode cannot represent the squared distances: the weight " +
                            format_general(weights[i], 6) + " of feature " + std::to_string(f) +
                            " times the square of its input code step " +
                            format_general(q.scale, 6) +
                            " is beyond the double range (a variance far too small for the "
                            "input ranges, or pipeline stages that stretch them); use float mode");
      }
      MCUPORT_ASSERT(u >= 0);
      unit_weight[i] = u;
      row_total += u * (reach[i] + 0.5) * (reach[i] + 0.5);
    }
    if (!std::isfinite(row_total)) {
      throw Error("/params/var/" + std::to_string(r),
                  "fixed mode cannot represent the squared distances: the largest weighted "
                      "squared distance of row " + std::to_string(r) +
                      " over the input ranges is beyond the double range; use float mode");
    }
    total = std::max(total, row_total);
  }
  if (!quantize_blocks(map, unit_weight, code_center, frac_bits_limit)) {
    if (high_word_terms && map.center_fits_int16()) {
      quantize_high_word(map, unit_weight, total, frac_bits_limit);
    } else {
      quantize_per_term(map, unit_weight, reach, total, frac_bits_limit);
    }
  }
  // The error constants (docs/fixed-point.md, Gaussian naive Bayes).
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    double eta = 0;
    double q = 0;
    for (uint32_t f = 0; f < n_features; ++f) {
      const std::size_t i = r * n_features + f;
      const double s = std::sqrt(std::ldexp(unit_weight[i], map.row_frac_bits[r]));
      const double approx = map.high_word ? std::ldexp(static_cast<double>(map.wide_root[i]), -17)
                                           : std::ldexp(static_cast<double>(map.root[i]), -map.shift[i]);
      const double slope = std::fabs(approx - s);  // |R 2^-k - s|
      const double delta = std::fabs(map.center[i] - code_center[i]);
      // Per-term shifts: |t - s |a|| < 1 + m slope + s delta with m = |q - P| <= reach and
      // m <= |a| + delta (1: the shift rounds down). The mantissa's error counts relative to the
      // term (eta), or, where it stays below one unit at the largest reach (the negligible terms,
      // whose mantissa has few bits), absolutely. High-word terms alike: |t| is within 1 of
      // m W 2^-17 (the floor of a signed value rounds its magnitude down or up), and slope <=
      // 2^-18 keeps every term absolute (reach slope < 1/4).
      double e = 0;
      if (map.blocks) {
        // t = q R - C = (q - c) R + rho with |rho| <= 1/2: | |t| - s |a| | <= 1/2 + |a| slope.
        const double far = std::max(std::fabs(-32768.0 - code_center[i]), std::fabs(32767.0 - code_center[i]));
        if (far * slope <= 1) {
          e = 0.5 + far * slope;
        } else {
          eta = std::max(eta, slope / s);
          e = 0.5;
        }
      } else if (reach[i] * slope <= 1) {
        e = 1 + reach[i] * slope + s * delta;
      } else {
        eta = std::max(eta, slope / s);
        e = 1 + delta * (slope + s);
      }
      q += e * e;
    }
    // Headroom for the double arithmetic of these constants.
    map.eta.push_back(eta * (1 + 1e-9) + 1e-15);
    map.q.push_back(q * (1 + 1e-9));
  }
  return map;
}

uint64_t evaluate_squared_distance(const FixedSquaredDistance& map, const int16_t* codes,
                                   uint32_t row) {
  uint64_t sum = 0;
  if (map.blocks) {
    for (uint32_t f = 0; f < map.n_features; ++f) {
      const std::size_t i = row * map.n_features + f;
      const int32_t t = static_cast<int32_t>(codes[f]) * map.root[i] - map.offset[i];  // < 2^31
      sum += static_cast<uint64_t>(static_cast<int64_t>(t) * t);
    }
    const uint64_t rounded = fixed::round_shift(sum, map.row_shift[row]);
    MCUPORT_ASSERT(rounded <= map.bound);
    return rounded;
  }
  if (map.high_word) {
    int64_t signed_sum = 0;  // as the generated code sums: each t^2 < 2^62, every sum below 2^62
    for (uint32_t f = 0; f < map.n_features; ++f) {
      const std::size_t i = row * map.n_features + f;
      const int32_t t = high_word_term(static_cast<int32_t>(codes[f]) - map.center[i], map.wide_root[i]);
      signed_sum += static_cast<int64_t>(t) * t;
    }
    MCUPORT_ASSERT(signed_sum >= 0 && static_cast<uint64_t>(signed_sum) <= map.bound);
    return static_cast<uint64_t>(signed_sum);
  }
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const std::size_t i = row * map.n_features + f;
    const int32_t d = static_cast<int32_t>(codes[f]) - map.center[i];
    const uint32_t m = static_cast<uint32_t>(d < 0 ? -d : d);
    const uint32_t t = (m * map.root[i]) >> map.shift[i];  // m * R < 2^32
    sum += static_cast<uint64_t>(t) * t;
  }
  MCUPORT_ASSERT(sum <= map.bound);
  return sum;
}

DistanceErrorTerms distance_error_terms(const FixedSquaredDistance& map, uint32_t row) {
  // On the row's own point, with z = T 2^F_r: (2 eta + eta^2) z + 2 (1 + eta) sqrt(z q) + q;
  // in real units the root's term is 2 (1 + eta) sqrt(T q 2^-F_r).
  const double eta = map.eta[row];
  const int F = map.row_frac_bits[row];
  const double q = map.q[row];
  DistanceErrorTerms terms;
  terms.relative = 2 * eta + eta * eta;
  terms.root = 2 * (1 + eta) * std::sqrt(std::ldexp(q, -F));
  // Blocks: the row's final rounding shift adds at most half a unit of 2^-F.
  terms.absolute = std::ldexp(q, -F) + (map.row_shift[row] > 0 ? std::ldexp(0.5, -map.frac_bits) : 0.0);
  return terms;
}

double distance_error_bound(const FixedSquaredDistance& map, uint32_t row, double exact) {
  const DistanceErrorTerms terms = distance_error_terms(map, row);
  const double t = std::max(exact, 0.0);
  return terms.relative * t + terms.root * std::sqrt(t) + terms.absolute;
}

FixedRbfDistance quantize_rbf_distance(const std::vector<double>& centers, double gamma,
                                       const InputQuantization& quantization) {
  MCUPORT_ASSERT(gamma > 0 && std::isfinite(gamma));
  FixedRbfDistance map;
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  map.n_rows = static_cast<uint32_t>(centers.size() / map.n_features);
  const uint32_t n = map.n_features;
  MCUPORT_ASSERT(n < (1u << 12));  // D < n 2^50 < 2^62
  // Feature f in sqrt(gamma) units per code: a_f = sqrt(gamma) s_f. The support vectors in codes:
  // p = sv / s + zero_point. The unit c must keep |y| and |c_sf| below 2^24 for every int16 code
  // and support vector: a_f max(32768, |p_f|) / c < 2^24 (with a margin for the roundings).
  std::vector<double> code_center(centers.size());
  double widest = 0;  // the largest a_f max(32768, |p_f|)
  for (uint32_t f = 0; f < n; ++f) {
    const FeatureQuantization& q = quantization.features[f];
    double reach = 32768.0;
    for (uint32_t r = 0; r < map.n_rows; ++r) {
      const double p = centers[r * n + f] / q.scale + q.zero_point;
      code_center[r * n + f] = p;
      reach = std::max(reach, std::fabs(p));
    }
    widest = std::max(widest, std::sqrt(gamma) * q.scale * reach);
  }
  if (!(widest > 0 && std::isfinite(widest))) {
    throw Error("/params/gamma",
                "the RBF kernel's gamma and input ranges give no usable fixed-point scale");
  }
  // c^2 = 2^-F: the largest F with c >= widest / (2^24 - 2^10).
  const double c_min = widest / (0x1p24 - 0x1p10);
  map.frac_bits = static_cast<int>(std::floor(-2.0 * std::log2(c_min)));
  while (std::ldexp(1.0, -map.frac_bits) < c_min * c_min) --map.frac_bits;
  const double c = std::sqrt(std::ldexp(1.0, -map.frac_bits));
  if (!(c > 0)) {
    // A domain unit whose square 2^-F underflows the double range (a subnormal gamma times a
    // feature some 1e-290 wide): no feature scale sqrt(gamma) s / c is finite.
    throw Error("/params/gamma",
                "the RBF kernel's gamma " + format_general(gamma, 3) +
                    " with these input ranges gives distances too small for fixed mode's RBF "
                    "domain (its unit underflows the double range); use float mode");
  }
  if (!std::isfinite(c)) {
    // |p| near 1e300 codes: no unit can hold it, and an infinite one would zero every feature.
    throw Error("/input_ranges",
                "a support vector lies about " + format_general(widest, 3) +
                    " sqrt(gamma)-units outside the input ranges, more than fixed mode's RBF "
                    "domain can hold; give input ranges (calibration data) that cover the "
                    "support vectors, or use float mode");
  }
  for (uint32_t f = 0; f < n; ++f) {
    const double rho = std::sqrt(gamma) * quantization.features[f].scale / c;  // < 2^9
    // R in [2^29, 2^30). A rho that underflowed to 0 (a feature some 1e300 times narrower than
    // the domain's unit) has no log2: it is the narrowest case below, a zero scale.
    int k = rho > 0 ? 29 - static_cast<int>(std::floor(std::log2(rho))) : 63;
    double mantissa = std::round(std::ldexp(rho, k));
    if (mantissa >= 0x1p30) {
      --k;
      mantissa = std::round(std::ldexp(rho, k));
    }
    if (k > 62) {  // a feature far narrower than the domain's unit: fewer mantissa bits
      k = 62;
      mantissa = std::round(std::ldexp(rho, k));
    }
    MCUPORT_ASSERT(k >= 1 && mantissa >= 0 && mantissa < 0x1p30);
    // With k held at 62 the mantissa has few bits, and its rounding can scale the feature up by
    // as much as 2 (0.5 -> 1): the margin below 2^24 that c keeps for the exact scale no longer
    // covers the extreme codes and support vectors. Refused, not asserted.
    double reach = 32768.0;
    for (uint32_t r = 0; r < map.n_rows; ++r) {
      reach = std::max(reach, std::fabs(code_center[r * n + f]));
    }
    if (!(std::ldexp(mantissa, -k) * reach + 1 < 0x1p24)) {
      throw Error("/input_ranges/" + std::to_string(f),
                  "the support vectors lie so far outside feature " + std::to_string(f) +
                      "'s input range (about " + format_general(reach / 65536.0, 3) +
                      " times its width) that fixed mode's RBF domain cannot hold the feature at "
                      "the precision it needs; give input ranges (calibration data) that cover "
                      "the support vectors, or use float mode");
    }
    map.scale.push_back(static_cast<int32_t>(mantissa));
    map.shift.push_back(static_cast<uint8_t>(k));
    map.max_scale_error = std::max(
        map.max_scale_error, rho > 0 ? std::fabs(std::ldexp(mantissa, -k) / rho - 1) : 1.0);
  }
  for (uint32_t r = 0; r < map.n_rows; ++r) {
    for (uint32_t f = 0; f < n; ++f) {
      const double v = std::round(std::ldexp(map.scale[f], -map.shift[f]) * code_center[r * n + f]);
      MCUPORT_ASSERT(std::fabs(v) < 0x1p24);
      map.center.push_back(static_cast<int32_t>(v));
    }
  }
  map.exp_frac_bits = std::clamp(map.frac_bits, fixed::kMinFracBits, fixed::kMaxFracBits);
  map.exp_shift = map.frac_bits - map.exp_frac_bits;
  return map;
}

void rescale_to_domain(const FixedRbfDistance& map, const int16_t* codes, int32_t* y) {
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int64_t v = fixed::round_shift(static_cast<int64_t>(codes[f]) * map.scale[f], map.shift[f]);
    MCUPORT_ASSERT(v > -(int64_t{1} << 24) && v < (int64_t{1} << 24));
    y[f] = static_cast<int32_t>(v);
  }
}

uint64_t rbf_squared_distance(const FixedRbfDistance& map, const int32_t* y, uint32_t row) {
  uint64_t sum = 0;
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int64_t d = static_cast<int64_t>(y[f]) - map.center[row * map.n_features + f];
    sum += static_cast<uint64_t>(d * d);  // < 2^50
  }
  return sum;
}

int64_t rbf_exp_argument(const FixedRbfDistance& map, uint64_t distance) {
  if (map.exp_shift >= 0) return static_cast<int64_t>(fixed::round_shift(distance, map.exp_shift));
  const int left = std::min(-map.exp_shift, 62);  // beyond, every nonzero D saturates too
  return distance > (kDistanceSaturation >> left) ? static_cast<int64_t>(kDistanceSaturation)
                                                   : static_cast<int64_t>(distance << left);
}

std::vector<double> rbf_kernel_error_bounds(const FixedRbfDistance& map,
                                            const std::vector<double>& from) {
  // The computed argument t' is within delta(t) = A t + B sqrt(t) + C of t: the distance's
  // (2 eta + eta^2) t + 2 (1 + eta) c sqrt(n t) + n c^2 (c^2 = 2^-F), plus half a unit of the
  // exp runtime's format where the distance is rounded into it. Then |exp(-t') - exp(-t)| <=
  // exp(-min(t, t')) delta(t) and <= 1 (both in [0, 1]), with min(t, t') >= t - delta(t).
  // A saturated argument (2^62 in the runtime's format, t' >= 2^22) gives 0 where exp(-t')
  // is below 2^-6000000: no larger difference.
  const double eta = map.max_scale_error;
  const double c2 = std::ldexp(1.0, -map.frac_bits);
  const double n = map.n_features;
  const double A = 2 * eta + eta * eta;
  const double B = 2 * (1 + eta) * std::sqrt(c2 * n);
  const double C = n * c2 + (map.exp_shift > 0 ? std::ldexp(0.5, -map.exp_frac_bits) : 0.0);
  const double trivial = 1 + fixed::exp_neg_max_error();
  const auto delta = [&](double t) { return A * t + B * std::sqrt(t) + C; };
  // delta grows with t: on [t0, t1] the difference is at most exp(-(t0 - delta(t1))) delta(t1).
  // Past T = 128, with A + B <= 1/2 and t >= 1, delta(t) <= t/2 + C, so the difference is at
  // most exp(C) exp(-t/2) (t/2 + C), which falls from exp(C) exp(-64) (64 + C) on.
  constexpr double kEnd = 128;
  constexpr double kStep = 0x1p-10;
  std::vector<double> bounds(from.size(), trivial);
  if (!(A + B <= 0.5) || !(C < 1)) return bounds;
  // The sweep from the end down: `worst` is the largest difference over t >= t0.
  double worst = std::exp(C) * std::exp(-kEnd / 2) * (kEnd / 2 + C);
  for (std::size_t i = static_cast<std::size_t>(kEnd / kStep); i-- > 0;) {
    const double t0 = static_cast<double>(i) * kStep;
    const double d = delta(t0 + kStep);
    worst = std::max(worst, std::min(1.0, std::exp(-std::max(0.0, t0 - d)) * d));
    for (std::size_t k = 0; k < from.size(); ++k) {
      // Headroom for the double arithmetic of the sweep.
      if (t0 <= from[k]) bounds[k] = std::min(bounds[k], worst * (1 + 1e-9) + fixed::exp_neg_max_error());
    }
  }
  return bounds;
}

}  // namespace mcuport

// Pipeline composition and the projection families (see lower_projection.hpp).
#include "mcuport/lower_projection.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "mcuport/error.hpp"
#include "row_matrix.hpp"
#include "mcuport/fixed_math.hpp"

namespace mcuport {

namespace {

using detail::as_matrix;
using detail::as_vector;
using detail::RowMatrix;

// `row` (row r alone, quantized on its own binary point) in place of `into`'s row r, and `into`'s
// bounds updated: `into` then has a point per row.
void take_row(FixedLinear& into, const FixedLinear& row, uint32_t r) {
  const uint32_t n = into.n_features;
  if (into.row_frac_bits.empty()) into.row_frac_bits.assign(into.n_outputs, into.frac_bits);
  std::copy_n(row.weight.begin(), n, into.weight.begin() + static_cast<std::ptrdiff_t>(r) * n);
  into.bias[r] = row.bias[0];
  into.row_frac_bits[r] = row.frac_bits;
  into.row_error_bound[r] = row.error_bound;
  into.error_bound = *std::max_element(into.row_error_bound.begin(), into.row_error_bound.end());
  into.accumulator_bound = 0;
  for (uint32_t k = 0; k < into.n_outputs; ++k) {
    into.accumulator_bound = std::max(into.accumulator_bound, row_accumulator_bound(into, k));
  }
  into.wide = into.weight_bits > 15 || into.accumulator_bound > 0x7fffffffu;
  into.frac_bits = *std::min_element(into.row_frac_bits.begin(), into.row_frac_bits.end());
}

// The smallest right shift after which every |value| <= bound, rounded, is at most `limit`.
int shift_to_fit(uint64_t bound, uint64_t limit, uint64_t& shifted_bound) {
  int shift = 0;
  shifted_bound = bound;
  while (shifted_bound > limit) {
    ++shift;
    shifted_bound = (bound + (uint64_t{1} << (shift - 1))) >> shift;
  }
  return shift;
}

}  // namespace

StageProgram lower_stage(const AffinePrefix& prefix, const InputQuantization* quantization) {
  StageProgram stage;
  stage.n_inputs = prefix.n_inputs;
  stage.n_outputs = prefix.n_outputs;
  stage.diagonal = prefix.diagonal;
  stage.center = prefix.center;
  stage.weight = prefix.diagonal ? prefix.scale : prefix.matrix;
  if (!quantization) return stage;
  // Fixed mode runs a stage only for a projection: per-feature scalers fold into the input
  // quantization (lower.cpp, needs_stage).
  MCUPORT_ASSERT(!prefix.diagonal);

  const std::vector<double> bias = centered_offsets(prefix.matrix, stage.n_outputs, prefix.center);
  stage.fixed = quantize_linear(prefix.matrix, bias, *quantization, 31);
  const int frac_bits = stage.fixed->frac_bits;
  // Output k spans what the raw input ranges map to; its codes get a power-of-two scale, the
  // finest for which 65536 codes cover the span.
  double widest = 0;
  std::vector<std::pair<double, double>> spans;
  for (uint32_t k = 0; k < stage.n_outputs; ++k) {
    double lo = 0;
    double hi = 0;
    for (uint32_t f = 0; f < stage.n_inputs; ++f) {
      const double w = prefix.matrix[k * stage.n_inputs + f];
      const FeatureQuantization& q = quantization->features[f];
      const double a = w * (q.lo - prefix.center[f]);
      const double b = w * (q.hi - prefix.center[f]);
      lo += std::min(a, b);
      hi += std::max(a, b);
    }
    spans.emplace_back(lo, hi);
    widest = std::max(widest, hi - lo);
  }
  // A span beyond the double range (a scaler's scale of 1e-308 in front of the projection) has
  // no code step; one so wide that the step needs a shift past the accumulator's 63 bits has
  // none that int16 codes could carry either.
  const double codes_per_unit = 65535.0 / std::max(widest, 1e-300);
  const double needed_shift = std::ceil(frac_bits - std::log2(codes_per_unit));
  if (!std::isfinite(widest) || !(needed_shift <= 62)) {
    throw Error("/preprocessing",
                "fixed mode cannot represent the pipeline stage's outputs: over the input "
                "ranges they span " + (std::isfinite(widest) ? std::to_string(widest)
                                                             : std::string("beyond the double range")) +
                    " (check the scalers' scale and the input ranges)");
  }
  // 2^(frac_bits - shift) codes per real unit, at most codes_per_unit.
  stage.shift = std::max(0, static_cast<int>(needed_shift));
  const double unit = std::ldexp(1.0, stage.shift - frac_bits);  // real units per code
  stage.output_quantization.source = quantization->source;
  for (uint32_t k = 0; k < stage.n_outputs; ++k) {
    const double mid = (spans[k].first + spans[k].second) / 2;
    const auto offset = static_cast<int32_t>(std::llround(-mid / unit));
    stage.offset.push_back(offset);
    FeatureQuantization q;
    q.lo = spans[k].first;
    q.hi = spans[k].second;
    q.scale = unit;
    q.zero_point = offset;
    stage.output_quantization.features.push_back(q);
  }
  // The exact output's code lies within span / unit / 2 + 1/2 of 0 (the offset is rounded), and
  // span / unit <= 65535. An unsaturated code is within the map's error and half a code of it.
  // Where span / unit <= 65534 the exact code is within [-32767.5, 32767.5], so a saturated code
  // is too; else (at most one code more) within the map's error and one code.
  const double half_codes = widest / unit <= 65534 ? 0.5 : 1.0;
  stage.error_bound = (stage.fixed->error_bound + half_codes * unit) * (1 + 0x1p-40);
  return stage;
}

void evaluate_stage(const StageProgram& stage, const int16_t* codes, int16_t* out) {
  for (uint32_t k = 0; k < stage.n_outputs; ++k) {
    const int64_t v = fixed::round_shift(evaluate_fixed_linear_row(*stage.fixed, codes, k), stage.shift) +
                      stage.offset[k];
    out[k] = static_cast<int16_t>(std::clamp<int64_t>(v, INT16_MIN, INT16_MAX));
  }
}

PcaProgram lower_pca(const Pca& pca, const AffinePrefix& prefix,
                     const InputQuantization* quantization) {
  PcaProgram program;
  program.n_outputs = static_cast<uint32_t>(pca.n_components());
  program.n_features = prefix.n_inputs;
  std::vector<double> w = pca.components;
  for (std::size_t k = 0; k < pca.n_components(); ++k) {
    for (std::size_t f = 0; f < pca.n_inputs(); ++f) w[k * pca.n_inputs() + f] /= pca.output_divisor(k);
  }
  program.weight = prefix.compose(w, pca.n_components());
  program.center = prefix.pull_back(pca.mean);
  if (!quantization) return program;

  // Each output's spread on the training data is sqrt(explained variance) / divisor. The outputs
  // are never compared with each other, so each row has its own binary point and its own check:
  // the rounding of its weights must stay below 2^-10 of that output's spread. The cheapest form
  // that passes for every row: 15-bit weights with int32 accumulators (a bit or two coarser),
  // 15-bit weights at full precision, else 31-bit weights.
  std::vector<double> spread;
  for (std::size_t k = 0; k < pca.n_components(); ++k) {
    spread.push_back(std::sqrt(pca.explained_variance[k]) / pca.output_divisor(k));
  }
  const std::vector<double> bias = centered_offsets(program.weight, program.n_outputs, program.center);
  // With one binary point, every row is held to the largest row's bound (as before each row's
  // own bound was recorded; a check on each row's would choose cheaper forms for some models).
  const auto row_error = [](const FixedLinear& m, uint32_t k) {
    return m.row_frac_bits.empty() ? m.error_bound : m.row_error_bound[k];
  };
  const auto accurate = [&](const FixedLinear& m) {
    for (uint32_t k = 0; k < program.n_outputs; ++k) {
      if (!(row_error(m, k) <= std::ldexp(spread[k], -10))) return false;
    }
    return true;
  };
  // First one binary point for all rows with an int32 accumulator: no per-row output shifts.
  program.fixed = quantize_linear(program.weight, bias, *quantization, 15);
  if (program.fixed->wide || !accurate(*program.fixed)) {
    program.fixed = quantize_linear_rows(program.weight, bias, *quantization, 15, true);
  }
  if (!accurate(*program.fixed)) program.fixed = quantize_linear_rows(program.weight, bias, *quantization, 15, false);
  if (!accurate(*program.fixed)) program.fixed = quantize_linear_rows(program.weight, bias, *quantization, 31, false);
  // One output format for all: the finest in which every row's bound, rounded, fits int32.
  const FixedLinear& map = *program.fixed;
  const auto row_point = [&](uint32_t k) {
    return map.row_frac_bits.empty() ? map.frac_bits : map.row_frac_bits[k];
  };
  std::vector<uint64_t> row_bound(program.n_outputs);
  for (uint32_t k = 0; k < program.n_outputs; ++k) {
    row_bound[k] = row_accumulator_bound(map, k);
    uint64_t shifted = 0;
    const int out_bits = row_point(k) - shift_to_fit(row_bound[k], 0x7fffffffu, shifted);
    program.output_frac_bits = k == 0 ? out_bits : std::min(program.output_frac_bits, out_bits);
  }
  // OUTPUT_SCALE, 2^-output_frac_bits, is a float32 in the header: it must be a normal one.
  // (Components of wildly different sizes, 1e300 beside 0.1, get here; the shifts then stay
  // below 256, the width of the output_shift table, too: rows' binary points are at most 90.)
  if (program.output_frac_bits < -126 || program.output_frac_bits > 126) {
    throw Error("/params/components",
                "fixed mode cannot give the transform's outputs a format: their largest values "
                "need the scale 2^" + std::to_string(-program.output_frac_bits) +
                    ", outside the float32 range of OUTPUT_SCALE (components or whitening "
                    "divisors far too large or too small for the input ranges); use float mode");
  }
  program.output_bound = 0;
  program.error_bound = 0;
  bool word32 = !map.wide;
  int max_shift = 0;
  for (uint32_t k = 0; k < program.n_outputs; ++k) {
    const int shift = row_point(k) - program.output_frac_bits;
    MCUPORT_ASSERT(shift >= 0 && shift <= 255);
    program.output_shift.push_back(shift);
    // Rounded half up, y = floor((a + 2^(s-1)) / 2^s): the largest |y| is at a = +bound, where it
    // is the unsigned rounding of the bound (at a = -bound it is ceil((bound - half) / 2^s), no
    // larger); a row far finer than the output can shift by 64 or more (round_shift takes any).
    program.output_bound = std::max(program.output_bound, fixed::round_shift(row_bound[k], shift));
    program.error_bound = std::max(program.error_bound,
                                   row_error(map, k) +
                                       (shift > 0 ? std::ldexp(0.5, -program.output_frac_bits) : 0.0));
    // Word32 and Word64 hold the half in the accumulator: |a + half| <= bound + half.
    const uint64_t half = shift > 0 && shift <= 31 ? uint64_t{1} << (shift - 1) : 0;
    word32 = word32 && shift <= 31 && row_bound[k] + half <= 0x7fffffffu;
    max_shift = std::max(max_shift, shift);
    program.half_bound = std::max(program.half_bound, row_bound[k] + half);  // < 2^63
  }
  program.rounding = word32                        ? PcaProgram::Rounding::Word32
                     : map.wide && max_shift <= 31 ? PcaProgram::Rounding::Word64
                                                   : PcaProgram::Rounding::Runtime;
  MCUPORT_ASSERT(program.output_bound <= 0x7fffffffu);
  return program;
}

MahalanobisProgram lower_mahalanobis(const Mahalanobis& model, const AffinePrefix& prefix,
                                     const InputQuantization* quantization, bool overlapping_words) {
  MahalanobisProgram program;
  const std::size_t n = model.location.size();
  program.n_rows = static_cast<uint32_t>(n);
  program.n_features = prefix.n_inputs;
  program.has_threshold = model.has_threshold;
  program.threshold = model.threshold;
  // precision = L L^T, so d2 = |L^T (y - location)|^2 with L^T upper triangular.
  const RowMatrix precision = as_matrix(model.precision, n, n);
  const Eigen::LLT<Eigen::MatrixXd> llt((precision + precision.transpose()) / 2);
  MCUPORT_ASSERT(llt.info() == Eigen::Success);  // the loader checked it
  const RowMatrix upper = Eigen::MatrixXd(llt.matrixL()).transpose();
  program.weight = prefix.compose(as_vector(upper), n);
  program.center = prefix.pull_back(model.location);
  program.triangular = prefix.diagonal;
  if (program.triangular) {
    for (uint32_t r = 0; r < program.n_rows; ++r) {
      for (uint32_t f = 0; f < r; ++f) program.weight[r * program.n_features + f] = 0.0;
    }
  }
  if (!quantization) return program;

  const std::vector<double> bias = centered_offsets(program.weight, n, program.center);
  // Each component z_r is within e_r of the exact one (row r's rounding bound), so by
  // Cauchy-Schwarz |score - d2| <= sum_r (2 |z_r| e_r + e_r^2) <= 2 sqrt(E d2) + E, E = sum_r e_r^2.
  // The weights must keep that within 1e-3 (relative) of d2 at the threshold (or, without one,
  // at d2 = n, an inlier's typical squared distance).
  const double at = model.has_threshold && model.threshold > 0 ? model.threshold : static_cast<double>(n);
  const auto accurate = [&](const FixedLinear& m) {
    double e2 = 0;
    for (const double e : m.row_error_bound) e2 += e * e;
    return 2 * std::sqrt(e2 * at) + e2 <= 1e-3 * at;
  };
  // Each row's component is its accumulator rounded right (half up) by row_shift[r] bits into
  // one format 2^-z_frac_bits, the finest in which n squares of the largest fit below 2^62.
  // Empty when some row would need more than 32 bits (a row on a point far finer than the
  // others'; only maps with a point per row get there).
  struct Shifts {
    std::vector<int> row_shift;
    std::vector<uint64_t> shifted_bound;  // per row: its largest |z|
    int z_frac_bits = 0;
  };
  const auto shifts_of = [&](const FixedLinear& m) {
    const auto fits = [&](uint64_t b) {
      return static_cast<long double>(b) * static_cast<long double>(b) * static_cast<long double>(n) <
             0x1p62L;
    };
    const auto point = [&](uint32_t r) { return m.row_frac_bits.empty() ? m.frac_bits : m.row_frac_bits[r]; };
    std::vector<uint64_t> bound(n);
    Shifts out;
    for (uint32_t r = 0; r < n; ++r) {
      bound[r] = row_accumulator_bound(m, r);
      int need = 0;
      uint64_t shifted = bound[r];
      while (!fits(shifted)) {
        ++need;
        shifted = (bound[r] + (uint64_t{1} << (need - 1))) >> need;
      }
      out.z_frac_bits = r == 0 ? point(r) - need : std::min(out.z_frac_bits, point(r) - need);
    }
    for (uint32_t r = 0; r < n; ++r) {
      const int s = point(r) - out.z_frac_bits;  // at least the row's own need
      if (s > 32) return std::optional<Shifts>();
      out.row_shift.push_back(s);
      // Rounded half up: the largest |z| is at +bound, the unsigned rounding of the bound.
      out.shifted_bound.push_back(s > 0 ? (bound[r] + (uint64_t{1} << (s - 1))) >> s : bound[r]);
    }
    return std::optional<Shifts>(out);
  };
  // The cheapest weights that pass: 15 bits on one binary point; else 15 bits with rows on their
  // own points (a row of small weights keeps its bits there, for a shift into the common
  // format), added one at a time in the order of what each saves of sum_r e_r^2 until the check
  // passes; else 23 bits on one point (as overlapping words where the target loads them:
  // 3 bytes a weight); else 31.
  std::optional<Shifts> shifts;
  const auto take = [&](FixedLinear m) {
    if (!accurate(m)) return false;
    shifts = shifts_of(m);
    if (!shifts) return false;
    program.fixed = std::move(m);
    return true;
  };
  const FixedLinear common = quantize_linear(program.weight, bias, *quantization, 15);
  if (!take(common)) {
    // Each row alone on its own point, where that point can hold its offset (a row of small
    // weights on inputs far from it may need more than 64 bits there: it stays on the common
    // point, which holds it).
    std::vector<std::optional<FixedLinear>> own(n);
    std::vector<uint32_t> order;
    for (uint32_t r = 0; r < n; ++r) {
      const auto row = program.weight.begin() + static_cast<std::ptrdiff_t>(r) * program.n_features;
      try {
        own[r] = quantize_linear(std::vector<double>(row, row + program.n_features), {bias[r]},
                                 *quantization, 15);
      } catch (const Error&) {
        continue;
      }
      if (own[r]->frac_bits > common.frac_bits) order.push_back(r);
    }
    const auto saves = [&](uint32_t r) {
      return common.row_error_bound[r] * common.row_error_bound[r] -
             own[r]->error_bound * own[r]->error_bound;
    };
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return saves(a) > saves(b); });
    // Greedily: each row joins unless its point lies too far from the others' for one format
    // (a shift beyond 32 bits), where it stays on the common point and the next is tried.
    FixedLinear mixed = common;
    for (const uint32_t r : order) {
      FixedLinear candidate = mixed;
      take_row(candidate, *own[r], r);
      if (!shifts_of(candidate)) continue;
      mixed = std::move(candidate);
      if (take(mixed)) break;
    }
  }
  if (!program.fixed && overlapping_words) {
    // The weights the code reads, in its order: row r from column r on (triangular), or all.
    std::vector<bool> stored(program.weight.size(), !program.triangular);
    for (uint32_t r = 0; r < n && program.triangular; ++r) {
      for (uint32_t f = r; f < program.n_features; ++f) stored[r * program.n_features + f] = true;
    }
    // The words sit on the 31-bit point, 8 bits finer than the 23-bit one: an offset that the
    // 23-bit point holds may exceed 2^61 there (inputs far from the location), or the chained
    // weights' bound 2^62. The 23-bit candidate is then tried, as on every other target.
    try {
      take(quantize_linear_words(program.weight, bias, *quantization, stored));
    } catch (const Error&) {
    }
  }
  if (!program.fixed) take(quantize_linear(program.weight, bias, *quantization, 23));
  if (!program.fixed) {
    program.fixed = quantize_linear(program.weight, bias, *quantization, 31);
    shifts = shifts_of(*program.fixed);
  }
  // One point: every row's shift is the largest row's need. Its bound is below 2^62, so 32 bits
  // bring it below 2^30, but n of those squares fit below 2^62 only for n < 4; with offsets near
  // 2^61 (inputs far from the location) and many rows the need exceeds 32.
  if (!shifts) {
    throw Error("/input_ranges",
                "fixed mode cannot hold the distance's components: the model's offsets at the "
                "binary point 2^-" + std::to_string(program.fixed->frac_bits) +
                    " that its weights need are so large that " + std::to_string(n) +
                    " of their squares need a shift beyond 32 bits; the input ranges lie far "
                    "from the location: give ranges closer to the data or use float mode");
  }
  program.row_shift = shifts->row_shift;
  const uint64_t shifted = *std::max_element(shifts->shifted_bound.begin(), shifts->shifted_bound.end());
  program.score_bound = shifted * shifted * n;
  const int z_frac_bits = shifts->z_frac_bits;
  program.score_frac_bits = 2 * z_frac_bits;
  program.z_error = 0;
  for (uint32_t r = 0; r < n; ++r) {
    program.z_error = std::max(program.z_error, program.fixed->row_error_bound[r] +
                                                    (program.row_shift[r] > 0 ? std::ldexp(0.5, -z_frac_bits) : 0.0));
  }
  if (model.has_threshold) {
    const long double code = std::floor(std::ldexp(static_cast<long double>(model.threshold),
                                                   program.score_frac_bits));
    program.threshold_code = code >= 0x1p63L ? std::numeric_limits<int64_t>::max()
                                              : static_cast<int64_t>(code);
  }
  return program;
}

double mahalanobis_score_error(const MahalanobisProgram& program, double d2) {
  const double n = program.n_rows;
  const double e = program.z_error;
  return 2 * e * std::sqrt(n * std::max(d2, 0.0)) + n * e * e;
}

void evaluate_pca(const PcaProgram& program, const int16_t* codes, int64_t* out) {
  for (uint32_t k = 0; k < program.n_outputs; ++k) {
    out[k] = fixed::round_shift_half_up(evaluate_fixed_linear_row(*program.fixed, codes, k),
                                        program.output_shift[k]);
  }
}

int64_t evaluate_mahalanobis(const MahalanobisProgram& program, const int16_t* codes) {
  int64_t score = 0;
  for (uint32_t r = 0; r < program.n_rows; ++r) {
    const int s = program.row_shift[r];  // <= 32 (lower_mahalanobis)
    const int64_t acc = evaluate_fixed_linear_row(*program.fixed, codes, r);
    int64_t z = acc;
    if (s > 0) {
      // Rounded half up: z = floor((acc + 2^(s-1)) / 2^s), |z| < 2^31 and no overflow in the sum
      // (|acc| + 2^(s-1) <= bound + 2^(s-1) < 2^(s+31)). As the C computes it: the unsigned
      // shift of the sum's 64 bits is z, or z + 2^(64-s) for a negative sum, so its low word is
      // z's two's complement (s <= 32).
      const uint32_t m = static_cast<uint32_t>(static_cast<uint64_t>(acc + (int64_t{1} << (s - 1))) >> s);
      z = m >= 0x80000000u ? static_cast<int64_t>(m) - (int64_t{1} << 32) : static_cast<int64_t>(m);
    }
    score += z * z;
  }
  return score;
}

}  // namespace mcuport

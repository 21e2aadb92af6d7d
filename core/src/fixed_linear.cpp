// Fixed-point affine maps (see fixed_linear.hpp).
#include "mcuport/fixed_linear.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport {

namespace {

// The input quantization folded into the map: w.x + b = sum (w_f s_f) q_f + (b - sum w_f s_f z_f).
struct Folded {
  std::vector<double> weight;
  std::vector<double> bias;
  double max_weight = 0;
};

Folded fold(const std::vector<double>& weight, const std::vector<double>& bias,
            const InputQuantization& quantization) {
  const std::size_t n_features = quantization.features.size();
  MCUPORT_ASSERT(weight.size() == bias.size() * n_features);
  Folded out{std::vector<double>(weight.size()), bias, 0.0};
  for (std::size_t k = 0; k < bias.size(); ++k) {
    for (std::size_t f = 0; f < n_features; ++f) {
      const FeatureQuantization& q = quantization.features[f];
      const double a = weight[k * n_features + f] * q.scale;
      if (!std::isfinite(a)) {
        // The input range spread over 65536 codes gives a step that no weight code can follow.
        throw Error("/input_ranges",
                    "fixed mode cannot hold the model's affine map: weight " +
                        format_general(weight[k * n_features + f], 6) + " of input " +
                        std::to_string(f) + " times that input's code step " +
                        format_general(q.scale, 6) +
                        " is beyond the double range; give narrower input ranges or use float mode");
      }
      out.weight[k * n_features + f] = a;
      out.bias[k] -= a * q.zero_point;
      out.max_weight = std::max(out.max_weight, std::fabs(a));
    }
  }
  return out;
}

// The offsets at the map's binary point; throws where one cannot be held.
void quantize_offsets(FixedLinear& map, const Folded& folded, uint32_t first_output) {
  map.bias.clear();
  for (uint32_t k = 0; k < map.n_outputs; ++k) {
    const double b = std::round(std::ldexp(folded.bias[k], map.frac_bits));
    if (!(std::fabs(b) < 0x1p61)) {
      throw Error("/input_ranges",
                  "the model's offset " + format_general(folded.bias[k], 6) +
                      " (output " + std::to_string(first_output + k) + ") cannot be held in 64-bit fixed point "
                      "at the binary point 2^-" + std::to_string(map.frac_bits) +
                      " that its weights need: the input ranges lie far from zero, or the "
                      "weights are far smaller than the offset; give ranges closer to the data "
                      "or use float mode");
    }
    map.bias.push_back(static_cast<int64_t>(b));
  }
}

// The map's accumulator bound (max_k |bias_k| + 32768 sum_f |weight_kf|), in units of
// 2^-frac_bits, exact in integers (row_accumulator_bound: at most 2^63 + 65536 2^31 2^15 < 2^64;
// a double sum rounded above 2^53), and each row's rounding bound, sum_f |code - exact| 32768 +
// |bias residual| (|sum_f (code - exact) q_f| over int16 q).
uint64_t measure(FixedLinear& map, const Folded& folded, std::vector<double>& row_error) {
  uint64_t worst = 0;
  row_error.clear();
  for (uint32_t k = 0; k < map.n_outputs; ++k) {
    double error = 0;
    for (uint32_t f = 0; f < map.n_features; ++f) {
      const std::size_t i = static_cast<std::size_t>(k) * map.n_features + f;
      error += std::fabs(map.weight[i] - std::ldexp(folded.weight[i], map.frac_bits)) * 32768.0;
    }
    worst = std::max(worst, row_accumulator_bound(map, k));
    const double b = static_cast<double>(map.bias[k]);
    row_error.push_back(error + std::fabs(b - std::ldexp(folded.bias[k], map.frac_bits)));
  }
  return worst;
}

// The bounds from measure(), checked and recorded.
void set_bounds(FixedLinear& map, uint64_t worst, const std::vector<double>& row_error) {
  map.accumulator_bound = worst;
  map.wide = map.weight_bits > 15 || worst > uint64_t{std::numeric_limits<int32_t>::max()};
  if (worst >= uint64_t{1} << 62) {
    throw Error("/input_ranges", "the model's affine map cannot be held in 64-bit fixed point");
  }
  // The rounding residuals are known exactly; the double sums of at most a few thousand
  // non-negative terms are within n 2^-53 (relative), which the factor covers.
  const double worst_error = row_error.empty() ? 0.0 : *std::max_element(row_error.begin(), row_error.end());
  map.error_bound = std::ldexp(worst_error * (1 + 0x1p-40), -map.frac_bits);
  map.row_error_bound.clear();
  for (const double e : row_error) map.row_error_bound.push_back(std::ldexp(e * (1 + 0x1p-40), -map.frac_bits));
}

// One binary point for all outputs (they are compared with each other): the largest weight
// uses the whole weight range. Clamped as a double: a tiny weight makes the ratio infinite.
int binary_point(double max_weight, double weight_max) {
  const double bits = max_weight > 0 ? std::floor(std::log2(weight_max / max_weight)) : 0.0;
  int frac_bits = static_cast<int>(std::clamp(bits, -60.0, 90.0));
  while (max_weight > 0 && std::round(std::ldexp(max_weight, frac_bits)) > weight_max) --frac_bits;
  return frac_bits;
}

}  // namespace

FixedLinear quantize_linear(const std::vector<double>& weight, const std::vector<double>& bias,
                            const InputQuantization& quantization, int weight_bits,
                            bool int32_accumulator, uint32_t first_output) {
  MCUPORT_ASSERT(weight_bits == 15 || weight_bits == 23 || weight_bits == 31);
  FixedLinear map;
  map.weight_bits = weight_bits;
  const double weight_max = std::ldexp(1.0, weight_bits) - 1;
  map.n_outputs = static_cast<uint32_t>(bias.size());
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  const Folded folded = fold(weight, bias, quantization);
  map.frac_bits = binary_point(folded.max_weight, weight_max);

  uint64_t worst = 0;
  std::vector<double> row_error;  // each row's, in units of 2^-frac_bits
  for (;;) {
    map.weight.clear();
    for (const double a : folded.weight) map.weight.push_back(static_cast<int32_t>(std::round(std::ldexp(a, map.frac_bits))));
    quantize_offsets(map, folded, first_output);
    worst = measure(map, folded, row_error);
    // Asked for an int32 accumulator: one bit coarser until the bound fits (it halves each time,
    // less the roundings; a map whose offset alone overflows gives up and stays wide).
    if (!int32_accumulator || weight_bits > 15 || worst <= uint64_t{std::numeric_limits<int32_t>::max()} || map.frac_bits <= -60) break;
    --map.frac_bits;
  }
  set_bounds(map, worst, row_error);
  return map;
}

FixedLinear quantize_linear_words(const std::vector<double>& weight, const std::vector<double>& bias,
                                  const InputQuantization& quantization,
                                  const std::vector<bool>& stored) {
  MCUPORT_ASSERT(stored.size() == weight.size());
  // The point and the offsets of 31-bit weights (quantize_linear's); the weights in order.
  FixedLinear map;
  map.weight_bits = 31;
  map.n_outputs = static_cast<uint32_t>(bias.size());
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  const Folded folded = fold(weight, bias, quantization);
  map.frac_bits = binary_point(folded.max_weight, 0x1p31 - 1);
  map.weight.assign(weight.size(), 0);
  // W = 256 v + g with g the previous word's top byte (0 to 255) and v in [-2^23, 2^23 - 1]:
  // |W| < 2^31 but for v = -2^23 with g = 0. |exact| < 2^31 - 1/2 (the largest weight rounds to
  // at most 2^31 - 1), so where the clamp bites W is within 255.5 of it at either end (v = -2^23
  // for g > 0: clamping at -(2^23 - 1) there would leave 256 + g - 1/2, up to 510.5).
  const double v_max = 0x1p23 - 1;
  bool first = true;
  uint32_t previous = 0;
  for (std::size_t i = 0; i < weight.size(); ++i) {
    const double exact = std::ldexp(folded.weight[i], map.frac_bits);
    if (!stored[i]) {
      MCUPORT_ASSERT(exact == 0);
      continue;
    }
    if (first) {
      map.weight[i] = static_cast<int32_t>(std::round(exact));
    } else {
      const auto g = static_cast<int32_t>(previous >> 24);
      const double v = std::clamp(std::round((exact - g) / 256), g > 0 ? -0x1p23 : -v_max, v_max);
      map.weight[i] = static_cast<int32_t>(v) * 256 + g;
    }
    first = false;
    previous = static_cast<uint32_t>(map.weight[i]);
  }
  quantize_offsets(map, folded, 0);
  std::vector<double> row_error;
  set_bounds(map, measure(map, folded, row_error), row_error);
  map.overlapping_words = true;
  return map;
}

FixedLinear quantize_linear_rows(const std::vector<double>& weight, const std::vector<double>& bias,
                                 const InputQuantization& quantization, int weight_bits,
                                 bool int32_accumulator) {
  FixedLinear map;
  map.n_outputs = static_cast<uint32_t>(bias.size());
  map.n_features = static_cast<uint32_t>(quantization.features.size());
  map.weight_bits = weight_bits;
  for (uint32_t k = 0; k < map.n_outputs; ++k) {
    const std::vector<double> row(weight.begin() + static_cast<std::ptrdiff_t>(k) * map.n_features,
                                  weight.begin() + static_cast<std::ptrdiff_t>(k + 1) * map.n_features);
    const FixedLinear one = quantize_linear(row, {bias[k]}, quantization, weight_bits, int32_accumulator, k);
    map.weight.insert(map.weight.end(), one.weight.begin(), one.weight.end());
    map.bias.push_back(one.bias[0]);
    map.row_frac_bits.push_back(one.frac_bits);
    map.row_error_bound.push_back(one.error_bound);
    map.accumulator_bound = std::max(map.accumulator_bound, one.accumulator_bound);
    map.wide = map.wide || one.wide;
    map.error_bound = std::max(map.error_bound, one.error_bound);
    map.frac_bits = k == 0 ? one.frac_bits : std::min(map.frac_bits, one.frac_bits);
  }
  return map;
}

uint64_t row_accumulator_bound(const FixedLinear& map, uint32_t k) {
  const int64_t b = map.bias[k];
  uint64_t bound = b < 0 ? 0u - static_cast<uint64_t>(b) : static_cast<uint64_t>(b);
  for (uint32_t f = 0; f < map.n_features; ++f) {
    const int64_t w = map.weight[k * map.n_features + f];
    bound += static_cast<uint64_t>(w < 0 ? -w : w) * 32768u;
  }
  return bound;
}

int64_t evaluate_fixed_linear_row(const FixedLinear& map, const int16_t* codes, uint32_t k) {
  int64_t acc = map.bias[k];
  for (uint32_t f = 0; f < map.n_features; ++f) {
    // int16 x int16 fits int32, as in the C; int32 x int16 is formed in int64 there too.
    acc += map.weight_bits > 15
               ? static_cast<int64_t>(map.weight[k * map.n_features + f]) * codes[f]
               : static_cast<int64_t>(static_cast<int32_t>(map.weight[k * map.n_features + f]) *
                                      static_cast<int32_t>(codes[f]));
  }
  return acc;  // the int32 accumulator of the C code computes the same (proven bound)
}

void evaluate_fixed_linear(const FixedLinear& map, const int16_t* codes, int64_t* out) {
  for (uint32_t k = 0; k < map.n_outputs; ++k) out[k] = evaluate_fixed_linear_row(map, codes, k);
}

}  // namespace mcuport

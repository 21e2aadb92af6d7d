// Input quantization and exact threshold placement (see quantize.hpp for the contract).
#include "mcuport/quantize.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <map>

#include "mcuport/error.hpp"

namespace mcuport {

namespace {

constexpr int32_t kCodeMin = -32768;
constexpr int32_t kCodeMax = 32767;
constexpr double kCodeSpan = 65535.0;

std::vector<InputRange> split_threshold_ranges(const TreeEnsemble& ensemble, int32_t n_features) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<InputRange> ranges(static_cast<std::size_t>(n_features), InputRange{kInf, -kInf});
  for (const Tree& tree : ensemble.trees) {
    for (std::size_t i = 0; i < tree.n_nodes(); ++i) {
      if (tree.is_leaf(i)) continue;
      InputRange& range = ranges[static_cast<std::size_t>(tree.feature[i])];
      range.lo = std::min(range.lo, tree.threshold[i]);
      range.hi = std::max(range.hi, tree.threshold[i]);
    }
  }
  for (InputRange& range : ranges) {
    if (range.lo > range.hi) {  // a feature that no split uses: any range will do
      range = {-1.0, 1.0};
      continue;
    }
    const double margin = std::max((range.hi - range.lo) * 0.01,
                                   std::max(std::fabs(range.lo), std::fabs(range.hi)) * 1e-3);
    const double widened = margin > 0 ? margin : 1e-3;
    range.lo = std::max(range.lo - widened, -static_cast<double>(FLT_MAX));
    range.hi = std::min(range.hi + widened, static_cast<double>(FLT_MAX));
  }
  return ranges;
}

// Threshold placement (tree models). A fast-layout split is `x > T` on the code T: one compare
// with an immediate operand where Thumb-2 can encode T or T + 1 (at most 8 significant bits:
// `cmp`/`cmn` with a modified immediate), else a constant to load first. Most codes are not
// encodable, but a feature's codes may be moved: covering the range with kSlack codes to spare
// at each end (a scale 0.4% coarser) lets its codes slide by up to kSlack either way, and
// within 2 * kSlack = 256 consecutive codes there is always one with 8 significant bits. So each
// feature's codes slide to where its most visited thresholds are immediates, a split at depth d
// counting 2^-d (the share of inputs reaching it when each split halves them). A feature keeps
// the plain quantization unless the placement scores more (digits' pixels: their thresholds lie
// on a grid the plain scale already makes immediates).
constexpr int32_t kSlack = 128;
constexpr uint32_t kPlacementDepth = 8;  // deeper splits weigh less than 2^-8: left out

bool immediate_operand(int64_t value) {
  uint64_t magnitude = static_cast<uint64_t>(value < 0 ? -value : value);
  if (magnitude == 0) return true;
  while ((magnitude & 1u) == 0) magnitude >>= 1;
  return magnitude < 256;
}

// Whether `x > code` compares with an immediate: code or code + 1 is one.
bool immediate_compare(int32_t code) {
  return immediate_operand(code) || immediate_operand(static_cast<int64_t>(code) + 1);
}

// The immediates a shifted code can reach, ascending (about 2,300 of them).
const std::vector<int32_t>& reachable_immediates() {
  static const std::vector<int32_t> values = [] {
    std::vector<int32_t> out;
    for (int32_t v = kCodeMin - kSlack - 1; v <= kCodeMax + kSlack + 1; ++v) {
      if (immediate_operand(v)) out.push_back(v);
    }
    return out;
  }();
  return values;
}

// score[shift + kSlack]: the weight of the splits whose code + shift compares with an
// immediate, for every shift in [-kSlack, kSlack]. Each split adds its weight at the shifts
// that reach an immediate (a few), so the cost is linear in the splits.
std::vector<double> shift_scores(const std::vector<std::pair<int32_t, double>>& splits) {
  const std::vector<int32_t>& immediates = reachable_immediates();
  std::vector<double> score(2 * kSlack + 1, 0.0);
  std::vector<int32_t> shifts;
  for (const auto& [code, weight] : splits) {
    shifts.clear();
    // code + shift == v or code + shift + 1 == v, for v in [code - kSlack, code + kSlack + 1].
    auto it = std::lower_bound(immediates.begin(), immediates.end(), code - kSlack);
    for (; it != immediates.end() && *it <= code + kSlack + 1; ++it) {
      for (const int32_t shift : {*it - code, *it - code - 1}) {
        if (shift >= -kSlack && shift <= kSlack) shifts.push_back(shift);
      }
    }
    std::sort(shifts.begin(), shifts.end());
    shifts.erase(std::unique(shifts.begin(), shifts.end()), shifts.end());
    for (const int32_t shift : shifts) score[static_cast<std::size_t>(shift + kSlack)] += weight;
  }
  return score;
}

// Per feature, the thresholds of the splits of depth < kPlacementDepth and their weights (a
// forest's roots weigh 1 each).
std::vector<std::vector<std::pair<double, double>>> weighted_thresholds(const TreeEnsemble& ensemble,
                                                                        std::size_t n_features) {
  std::vector<std::vector<std::pair<double, double>>> out(n_features);
  for (const Tree& tree : ensemble.trees) {
    if (tree.n_nodes() == 0) continue;
    std::vector<std::pair<int32_t, uint32_t>> stack{{0, 0}};  // node, depth: no recursion
    while (!stack.empty()) {
      const auto [node, depth] = stack.back();
      stack.pop_back();
      const auto i = static_cast<std::size_t>(node);
      if (tree.is_leaf(i) || depth >= kPlacementDepth) continue;
      out[static_cast<std::size_t>(tree.feature[i])].emplace_back(tree.threshold[i],
                                                                  std::ldexp(1.0, -static_cast<int>(depth)));
      stack.push_back({tree.left[i], depth + 1});
      stack.push_back({tree.right[i], depth + 1});
    }
  }
  return out;
}

// `plain` with its codes placed for `thresholds` (see kSlack), or `plain` when that scores no
// more or leaves the float32 range.
FeatureQuantization place_thresholds(const FeatureQuantization& plain,
                                     const std::vector<std::pair<double, double>>& thresholds) {
  if (thresholds.empty()) return plain;
  FeatureQuantization wide;
  wide.scale = (plain.hi - plain.lo) / (kCodeSpan - 2 * kSlack);
  wide.zero_point = kCodeMin + kSlack - plain.lo / wide.scale;
  double best = 0;  // the plain quantization's score
  std::vector<std::pair<int32_t, double>> wide_codes;
  for (const auto& [threshold, weight] : thresholds) {
    if (immediate_compare(quantize_threshold(plain, threshold))) best += weight;
    wide_codes.emplace_back(quantize_threshold(wide, threshold), weight);
  }
  const std::vector<double> scores = shift_scores(wide_codes);
  int32_t best_shift = 0;
  bool placed = false;
  for (int32_t magnitude = 0; magnitude <= kSlack; ++magnitude) {  // the smallest shift wins a tie
    for (const int32_t shift : {magnitude, -magnitude}) {
      const double score = scores[static_cast<std::size_t>(shift + kSlack)];
      if (score > best) {
        best = score;
        best_shift = shift;
        placed = true;
      }
      if (magnitude == 0) break;
    }
  }
  if (!placed) return plain;
  FeatureQuantization out = wide;
  out.zero_point = wide.zero_point + best_shift;
  out.lo = out.scale * (kCodeMin - out.zero_point);
  out.hi = out.scale * (kCodeMax - out.zero_point);
  const double limit = static_cast<double>(FLT_MAX);
  if (!(std::isfinite(out.zero_point) && out.lo >= -limit && out.hi <= limit &&
        out.lo <= plain.lo && out.hi >= plain.hi)) {
    return plain;
  }
  return out;
}

}  // namespace

float largest_float_not_above(double value) {
  MCUPORT_ASSERT(value >= -static_cast<double>(FLT_MAX) && value <= static_cast<double>(FLT_MAX));
  float result = static_cast<float>(value);  // nearest, may be above
  if (static_cast<double>(result) > value) {
    result = std::nextafter(result, -std::numeric_limits<float>::infinity());
  }
  return result;
}

FeatureQuantization quantization_for_range(const InputRange& range) {
  FeatureQuantization q;
  q.lo = range.lo;
  q.hi = range.hi;
  // A (nearly) constant feature, or one whose span is too small for 65535 steps of a normal
  // double: give it a small span around its value, within the float32 range.
  const double magnitude = std::max(std::fabs(q.lo), std::fabs(q.hi));
  if (!(q.hi - q.lo > magnitude * 1e-12) || !(q.hi - q.lo > 1e-290)) {
    const double half = std::max(magnitude, 1.0) * 1e-3;
    q.lo = std::max(q.lo - half, -static_cast<double>(FLT_MAX));
    q.hi = std::min(q.hi + half, static_cast<double>(FLT_MAX));
  }
  q.scale = (q.hi - q.lo) / kCodeSpan;
  q.zero_point = kCodeMin - q.lo / q.scale;
  MCUPORT_ASSERT(std::isfinite(q.scale) && q.scale > 0 && std::isfinite(q.zero_point));
  return q;
}

double dequantize(const FeatureQuantization& quantization, int32_t code) {
  return quantization.scale * (static_cast<double>(code) - quantization.zero_point);
}

float dequantize_to_float32(const FeatureQuantization& quantization, int32_t code) {
  return static_cast<float>(dequantize(quantization, code));
}

int32_t quantize_threshold(const FeatureQuantization& quantization, double threshold) {
  const auto decides_left = [&](int32_t code) {
    return static_cast<double>(dequantize_to_float32(quantization, code)) <= threshold;
  };
  if (!decides_left(kCodeMin)) return kCodeMin - 1;
  // Invariant: decides_left(low) and not decides_left(high + 1), with high + 1 = 32768 "beyond".
  int32_t low = kCodeMin;
  int32_t high = kCodeMax;
  while (low < high) {
    const int32_t mid = low + (high - low + 1) / 2;
    if (decides_left(mid)) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

InputQuantization choose_input_quantization(const Model& model) {
  InputQuantization result;
  std::vector<InputRange> ranges = model.info.input_ranges;
  if (ranges.empty()) {
    ranges = std::visit(
        [&](const auto& family) -> std::vector<InputRange> {
          using T = std::decay_t<decltype(family)>;
          if constexpr (std::is_same_v<T, TreeEnsemble>) {
            return split_threshold_ranges(family, model.info.n_features);
          } else {
            // Arithmetic models have no natural range: it must come from the data.
            throw Error("/input_ranges",
                        "fixed mode needs input ranges for " + model.info.estimator +
                            ", which come from data, and the document has none: " +
                            kInputRangesAdvice);
          }
        },
        model.family);
    result.source = RangeSource::SplitThresholds;
  }
  for (const InputRange& range : ranges) result.features.push_back(quantization_for_range(range));
  if (const auto* trees = std::get_if<TreeEnsemble>(&model.family);
      trees != nullptr && model.preprocessing.empty()) {
    // Features of one plain quantization (one range) are placed together, by the weights of
    // all their splits: equal thresholds then keep equal codes across them, which the compact
    // layout's one table of distinct threshold codes relies on (the 500-tree digits forest:
    // 199 distinct codes placed together, 279 placed apart, and a wider record).
    const auto thresholds = weighted_thresholds(*trees, result.features.size());
    std::map<std::pair<double, double>, std::vector<std::size_t>> groups;
    for (std::size_t f = 0; f < result.features.size(); ++f) {
      groups[{result.features[f].scale, result.features[f].zero_point}].push_back(f);
    }
    for (const auto& [key, features] : groups) {
      std::vector<std::pair<double, double>> all;
      for (const std::size_t f : features) {
        all.insert(all.end(), thresholds[f].begin(), thresholds[f].end());
      }
      const FeatureQuantization plain = result.features[features.front()];
      const FeatureQuantization placed = place_thresholds(plain, all);
      for (const std::size_t f : features) result.features[f] = placed;
      if (placed.scale != plain.scale) result.placed = true;
    }
  }
  return result;
}

}  // namespace mcuport

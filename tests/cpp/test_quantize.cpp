// Numeric analysis tests: float32 threshold placement, int16 threshold placement (brute force
// over every code), and the choice of input ranges.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mcuport/error.hpp"
#include "mcuport/fixed_distance.hpp"
#include "mcuport/fixed_linear.hpp"
#include "mcuport/fixed_math.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower_pipeline.hpp"
#include "mcuport/lower_projection.hpp"
#include "mcuport/quantize.hpp"

namespace {

constexpr double kFloatMax = static_cast<double>(FLT_MAX);
constexpr float kFloatInf = std::numeric_limits<float>::infinity();
constexpr double kDoubleInf = std::numeric_limits<double>::infinity();
constexpr int32_t kCodeMin = -32768;
constexpr int32_t kCodeMax = 32767;

double double_from_bits(uint64_t bits) {
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

float float_from_bits(uint32_t bits) {
  float value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// --- largest_float_not_above --------------------------------------------------------------

// The two properties that make `x <= value` and `x <= result` agree for every float32 x.
void expect_largest_float_not_above(double value) {
  const float result = mcuport::largest_float_not_above(value);
  EXPECT_LE(static_cast<double>(result), value) << std::setprecision(17) << "value " << value;
  EXPECT_GT(static_cast<double>(std::nextafter(result, kFloatInf)), value)
      << std::setprecision(17) << "value " << value << " result " << result;
}

TEST(LargestFloatNotAbove, EdgeValues) {
  const float denorm_min = std::numeric_limits<float>::denorm_min();
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                0.1,
                                -0.1,
                                10.5,
                                0.25,
                                1e-300,
                                -1e-300,
                                static_cast<double>(denorm_min),
                                -static_cast<double>(denorm_min),
                                static_cast<double>(denorm_min) / 2,
                                -static_cast<double>(denorm_min) / 2,
                                static_cast<double>(FLT_MIN),
                                -static_cast<double>(FLT_MIN),
                                kFloatMax,
                                -kFloatMax,
                                std::nextafter(kFloatMax, 0.0),
                                std::nextafter(-kFloatMax, 0.0),
                                16777216.0,
                                16777217.0,
                                -16777217.0};
  // Exact floats, halfway points between neighbouring floats, and the doubles just beside both.
  for (float f : {0.1f, 1.0f, 3.0f, 1e-40f, 1e30f, -2.5f, -1e-38f, 12345.678f, FLT_MIN}) {
    for (float x : {f, -f}) {
      const float up = std::nextafter(x, kFloatInf);
      const double halfway = (static_cast<double>(x) + static_cast<double>(up)) / 2;
      for (double v : {static_cast<double>(x), halfway}) {
        values.push_back(v);
        values.push_back(std::nextafter(v, kDoubleInf));
        values.push_back(std::nextafter(v, -kDoubleInf));
      }
    }
  }
  for (double v : values) expect_largest_float_not_above(v);
}

TEST(LargestFloatNotAbove, NegativeZeroAndZero) {
  EXPECT_EQ(mcuport::largest_float_not_above(-0.0), 0.0f);
  EXPECT_EQ(mcuport::largest_float_not_above(0.0), 0.0f);
  EXPECT_EQ(mcuport::largest_float_not_above(-1e-300), -std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(mcuport::largest_float_not_above(1e-300), 0.0f);
}

TEST(LargestFloatNotAbove, ExactFloatsAreKept) {
  for (float f : {0.25f, 10.5f, -3.0f, FLT_MAX, -FLT_MAX, FLT_MIN}) {
    EXPECT_EQ(mcuport::largest_float_not_above(static_cast<double>(f)), f);
  }
  // 0.1 lies between two floats: the lower one, not the nearest (which is above 0.1).
  EXPECT_EQ(mcuport::largest_float_not_above(0.1), std::nextafter(0.1f, 0.0f));
}

TEST(LargestFloatNotAbove, RandomDoubles) {
  std::mt19937_64 random(20240617);
  int checked = 0;
  while (checked < 200000) {
    // Random bit patterns cover every exponent; keep those in the float32 range.
    const double value = double_from_bits(random());
    if (!(std::fabs(value) <= kFloatMax)) continue;
    expect_largest_float_not_above(value);
    ++checked;
  }
  for (int i = 0; i < 200000; ++i) {
    // Doubles near a random float32: its neighbourhood is where the rounding matters.
    const float f = float_from_bits(static_cast<uint32_t>(random()));
    if (!std::isfinite(f)) continue;
    const double offset = static_cast<double>(static_cast<int64_t>(random() % 2001) - 1000);
    const double value = static_cast<double>(f) * (1 + offset * 0x1p-40);
    if (!(std::fabs(value) <= kFloatMax)) continue;
    expect_largest_float_not_above(value);
  }
}

TEST(LargestFloatNotAbove, OutsideTheFloat32RangeIsAnInternalError) {
  EXPECT_THROW(mcuport::largest_float_not_above(1e39), mcuport::InternalError);
  EXPECT_THROW(mcuport::largest_float_not_above(std::nan("")), mcuport::InternalError);
}

// --- quantize_threshold ---------------------------------------------------------------------

struct RangeCase {
  const char* name;
  mcuport::InputRange range;
};

const std::vector<RangeCase>& range_cases() {
  static const std::vector<RangeCase> cases = {
      {"unit", {0, 1}},
      {"symmetric", {-1, 1}},
      {"temperature", {-40, 125}},
      {"integer_grid", {-32768, 32767}},
      {"coarse_floats", {1e6, 1e6 + 1}},  // float32 steps of 1/16: many codes share a float
      {"tiny", {1e-7, 3e-7}},
      {"negative_huge", {-3e38, -1e38}},
      {"whole_float_range", {-kFloatMax, kFloatMax}},
      {"constant", {5, 5}},
      {"constant_zero", {0, 0}},
  };
  return cases;
}

class QuantizeThreshold : public testing::TestWithParam<RangeCase> {};

// For every threshold and every int16 code q: q <= result exactly when the value q stands for,
// as the model sees it (float32), goes left.
TEST_P(QuantizeThreshold, DecidesLikeTheDequantizedFloatForEveryCode) {
  const mcuport::FeatureQuantization qz = mcuport::quantization_for_range(GetParam().range);
  ASSERT_GT(qz.scale, 0);
  ASSERT_LT(qz.lo, qz.hi);

  std::vector<double> seen(65536);  // double(float32(real(q))), index q + 32768
  for (int32_t q = kCodeMin; q <= kCodeMax; ++q) {
    seen[static_cast<std::size_t>(q - kCodeMin)] =
        static_cast<double>(mcuport::dequantize_to_float32(qz, q));
  }

  std::vector<double> thresholds = {qz.lo,
                                    qz.hi,
                                    qz.lo - (qz.hi - qz.lo),
                                    qz.hi + (qz.hi - qz.lo),
                                    -kFloatMax,
                                    kFloatMax,
                                    0.0,
                                    -0.0,
                                    (qz.lo + qz.hi) / 2};
  std::mt19937_64 random(7);
  std::vector<int32_t> codes = {kCodeMin, kCodeMin + 1, -1, 0, 1, kCodeMax - 1, kCodeMax};
  for (int i = 0; i < 40; ++i) codes.push_back(static_cast<int32_t>(random() % 65536) + kCodeMin);
  for (int32_t q : codes) {
    const double at = seen[static_cast<std::size_t>(q - kCodeMin)];
    thresholds.push_back(at);  // exactly at a dequantized value
    thresholds.push_back(std::nextafter(at, kDoubleInf));
    thresholds.push_back(std::nextafter(at, -kDoubleInf));
    thresholds.push_back(mcuport::dequantize(qz, q));  // the value before rounding to float32
    if (q < kCodeMax) {  // between two codes' values
      thresholds.push_back((at + seen[static_cast<std::size_t>(q - kCodeMin + 1)]) / 2);
    }
  }
  for (int i = 0; i < 40; ++i) {
    const double u = static_cast<double>(random() >> 11) * 0x1p-53;
    thresholds.push_back(qz.lo + (qz.hi - qz.lo) * u);
  }

  for (double threshold : thresholds) {
    if (!(std::fabs(threshold) <= kFloatMax)) continue;  // the loader rejects these
    const int32_t result = mcuport::quantize_threshold(qz, threshold);
    ASSERT_GE(result, kCodeMin - 1) << "threshold " << threshold;
    ASSERT_LE(result, kCodeMax) << "threshold " << threshold;
    for (int32_t q = kCodeMin; q <= kCodeMax; ++q) {
      const bool goes_left = seen[static_cast<std::size_t>(q - kCodeMin)] <= threshold;
      if ((q <= result) != goes_left) {
        ADD_FAILURE() << std::setprecision(17) << "threshold " << threshold << " gave code "
                      << result << " but code " << q << " (float32 "
                      << seen[static_cast<std::size_t>(q - kCodeMin)] << ") "
                      << (goes_left ? "goes left" : "goes right");
        break;
      }
    }
  }
}

TEST_P(QuantizeThreshold, CodesSpanTheRange) {
  const mcuport::InputRange range = GetParam().range;
  const mcuport::FeatureQuantization qz = mcuport::quantization_for_range(range);
  EXPECT_LE(qz.lo, range.lo);
  EXPECT_GE(qz.hi, range.hi);
  const double tolerance = 1e-9 * std::max(std::fabs(qz.lo), std::fabs(qz.hi));
  EXPECT_NEAR(mcuport::dequantize(qz, kCodeMin), qz.lo, tolerance);
  EXPECT_NEAR(mcuport::dequantize(qz, kCodeMax), qz.hi, tolerance);
  EXPECT_TRUE(std::isfinite(mcuport::dequantize_to_float32(qz, kCodeMin)));
  EXPECT_TRUE(std::isfinite(mcuport::dequantize_to_float32(qz, kCodeMax)));
}

INSTANTIATE_TEST_SUITE_P(Ranges, QuantizeThreshold, testing::ValuesIn(range_cases()),
                         [](const testing::TestParamInfo<RangeCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

TEST(QuantizationForRange, ConstantRangeIsWidened) {
  const mcuport::FeatureQuantization qz = mcuport::quantization_for_range({5, 5});
  EXPECT_LT(qz.lo, 5);
  EXPECT_GT(qz.hi, 5);
  // The constant itself is strictly inside, so a split on it stays decidable.
  const int32_t code = mcuport::quantize_threshold(qz, 5);
  EXPECT_GT(code, kCodeMin);
  EXPECT_LT(code, kCodeMax);
}

TEST(QuantizeThreshold, BelowAndAboveTheRange) {
  const mcuport::FeatureQuantization qz = mcuport::quantization_for_range({0, 10});
  EXPECT_EQ(mcuport::quantize_threshold(qz, -0.5), kCodeMin - 1);  // every code goes right
  EXPECT_EQ(mcuport::quantize_threshold(qz, 12.5), kCodeMax);      // every code goes left
  EXPECT_EQ(mcuport::quantize_threshold(qz, 0), kCodeMin);         // only the low end goes left
}

// --- choose_input_quantization --------------------------------------------------------------

// A forest of two trees over three features; feature 2 is never split on.
const char* const kForest = R"({
  "format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
  "estimator": "RandomForestRegressor", "task": "regression", "n_features": 3,
  "params": {"trees": [
    {"children_left": [1, 2, -1, -1, -1], "children_right": [4, 3, -1, -1, -1],
     "feature": [0, 1, -2, -2, -2], "threshold": [-7.25, 0.0, -2, -2, -2],
     "value": [null, null, 1, 2, 3]},
    {"children_left": [1, 2, -1, -1, -1], "children_right": [4, 3, -1, -1, -1],
     "feature": [0, 0, -2, -2, -2], "threshold": [1000.5, 3.0e-5, -2, -2, -2],
     "value": [null, null, 4, 5, 6]}
  ]}
})";

TEST(ChooseInputQuantization, FromInputRanges) {
  std::string text = kForest;
  text.replace(text.find("\"params\""), 0, "\"input_ranges\": [[-10, 10], [0, 0], [2, 3]], ");
  const mcuport::InputQuantization quantization =
      mcuport::choose_input_quantization(mcuport::load_model(text));
  EXPECT_EQ(quantization.source, mcuport::RangeSource::InputRanges);
  ASSERT_EQ(quantization.features.size(), 3u);
  EXPECT_EQ(quantization.features[0].lo, -10);
  EXPECT_EQ(quantization.features[0].hi, 10);
  EXPECT_LT(quantization.features[1].lo, 0);  // constant: widened around 0
  EXPECT_GT(quantization.features[1].hi, 0);
  EXPECT_EQ(quantization.features[2].lo, 2);
  EXPECT_EQ(quantization.features[2].hi, 3);
}

TEST(ChooseInputQuantization, FromSplitThresholds) {
  const mcuport::Model model = mcuport::load_model(kForest);
  const mcuport::InputQuantization quantization = mcuport::choose_input_quantization(model);
  EXPECT_EQ(quantization.source, mcuport::RangeSource::SplitThresholds);
  ASSERT_EQ(quantization.features.size(), 3u);

  // Every threshold is strictly inside its feature's range, so no split is folded away.
  int splits = 0;
  for (const mcuport::Tree& tree : std::get<mcuport::TreeEnsemble>(model.family).trees) {
    for (std::size_t i = 0; i < tree.n_nodes(); ++i) {
      if (tree.is_leaf(i)) continue;
      ++splits;
      const double threshold = tree.threshold[i];
      const mcuport::FeatureQuantization& qz =
          quantization.features[static_cast<std::size_t>(tree.feature[i])];
      EXPECT_LT(qz.lo, threshold) << "feature " << tree.feature[i];
      EXPECT_GT(qz.hi, threshold) << "feature " << tree.feature[i];
      const int32_t code = mcuport::quantize_threshold(qz, threshold);
      EXPECT_GE(code, kCodeMin) << "threshold " << threshold;
      EXPECT_LT(code, kCodeMax) << "threshold " << threshold;
    }
  }
  EXPECT_EQ(splits, 4);
  // Feature 1 has a single threshold, 0: its span is widened to a small interval around it.
  EXPECT_LT(quantization.features[1].lo, 0);
  EXPECT_GT(quantization.features[1].hi, 0);
  // Feature 2 is never split on.
  EXPECT_EQ(quantization.features[2].lo, -1);
  EXPECT_EQ(quantization.features[2].hi, 1);
}

// Whether Thumb-2 compares `q > code` with an immediate operand: code or code + 1 has at most 8
// significant bits.
bool immediate_compare(int32_t code) {
  for (int64_t v : {static_cast<int64_t>(code), static_cast<int64_t>(code) + 1}) {
    uint64_t m = static_cast<uint64_t>(v < 0 ? -v : v);
    while (m != 0 && (m & 1u) == 0) m >>= 1;
    if (m < 256) return true;
  }
  return false;
}

// One split per feature: feature 0 at 15.5 in [-40, 85] (the model-format example), feature 1
// on a grid that the plain scale already makes immediates (digits-like pixels in [0, 16]).
std::string two_feature_tree() {
  return R"({
  "format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
  "estimator": "DecisionTreeClassifier", "task": "classification", "n_features": 2,
  "classes": [0, 1], "input_ranges": [[-40, 85], [0, 16]],
  "params": {"trees": [
    {"children_left": [1, 2, -1, -1, -1], "children_right": [4, 3, -1, -1, -1],
     "feature": [0, 1, -2, -2, -2], "threshold": [15.5, 8.5, -2, -2, -2],
     "value": [null, null, [1, 0], [0, 1], [1, 0]]}
  ]}
})";
}

TEST(ChooseInputQuantization, PlacesTreeThresholdsOnImmediates) {
  const mcuport::Model model = mcuport::load_model(two_feature_tree());
  const mcuport::InputQuantization chosen = mcuport::choose_input_quantization(model);
  const mcuport::FeatureQuantization plain = mcuport::quantization_for_range({-40, 85});
  ASSERT_FALSE(immediate_compare(mcuport::quantize_threshold(plain, 15.5)));  // -3671
  const mcuport::FeatureQuantization& placed = chosen.features[0];
  EXPECT_TRUE(chosen.placed);
  const int32_t code = mcuport::quantize_threshold(placed, 15.5);
  EXPECT_TRUE(immediate_compare(code)) << code;
  // The codes still cover the range, at most 256 codes' worth more, and decide exactly.
  EXPECT_LE(placed.lo, -40);
  EXPECT_GE(placed.hi, 85);
  EXPECT_LE(placed.scale, 125.0 / (65535.0 - 256.0) * (1 + 1e-12));
  EXPECT_EQ(placed.lo, placed.scale * (kCodeMin - placed.zero_point));
  EXPECT_EQ(placed.hi, placed.scale * (kCodeMax - placed.zero_point));
  for (int32_t q = code - 3; q <= code + 3; ++q) {
    EXPECT_EQ(mcuport::dequantize_to_float32(placed, q) <= 15.5, q <= code) << q;
  }
  // Feature 1's split is an immediate already: its plain quantization stays.
  const mcuport::FeatureQuantization grid = mcuport::quantization_for_range({0, 16});
  ASSERT_TRUE(immediate_compare(mcuport::quantize_threshold(grid, 8.5)));
  EXPECT_EQ(chosen.features[1].scale, grid.scale);
  EXPECT_EQ(chosen.features[1].zero_point, grid.zero_point);
}

TEST(ChooseInputQuantization, FeaturesOfOneRangeArePlacedTogether) {
  // Both features span [-40, 85] and split at different thresholds: they get one placement,
  // so that a threshold both used would have one code (one table of distinct codes).
  std::string text = two_feature_tree();
  text.replace(text.find("[0, 16]"), 7, "[-40, 85]");
  const mcuport::InputQuantization chosen =
      mcuport::choose_input_quantization(mcuport::load_model(text));
  ASSERT_TRUE(chosen.placed);
  EXPECT_EQ(chosen.features[0].scale, chosen.features[1].scale);
  EXPECT_EQ(chosen.features[0].zero_point, chosen.features[1].zero_point);
  EXPECT_NE(chosen.features[0].scale, mcuport::quantization_for_range({-40, 85}).scale);
}

TEST(ChooseInputQuantization, PlacementIsForTreesOnly) {
  // The same ranges on a linear model keep the plain formula.
  const mcuport::Model linear = mcuport::load_model(R"({
  "format": "mcuport-model", "format_version": 1, "kind": "linear",
  "estimator": "LinearSVC", "task": "classification", "n_features": 2,
  "classes": [0, 1], "input_ranges": [[-40, 85], [0, 16]],
  "params": {"coef": [[1.5, -2.0]], "intercept": [0.25]}
})");
  const mcuport::InputQuantization chosen = mcuport::choose_input_quantization(linear);
  EXPECT_FALSE(chosen.placed);
  EXPECT_EQ(chosen.features[0].lo, -40);
  EXPECT_EQ(chosen.features[0].hi, 85);
  EXPECT_EQ(chosen.features[0].scale, mcuport::quantization_for_range({-40, 85}).scale);
}

}  // namespace

// Scalers folded into a tree threshold: for every float32 x, x <= folded exactly when
// scikit-learn's float64 scaler arithmetic, then (float), sends x left. Checked on random
// scalers and thresholds, at the folded value's float32 neighbours and on random inputs.
TEST(FoldThreshold, DecidesAsScikitLearnForEveryProbe) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    mcuport::FeatureScaler standard;
    standard.kind = mcuport::FeatureScaler::Kind::Standard;
    standard.offset = {std::ldexp(unit(rng), static_cast<int>(unit(rng) * 20))};
    standard.scale = {std::ldexp(1.0 + std::fabs(unit(rng)), static_cast<int>(unit(rng) * 20))};
    mcuport::FeatureScaler minmax;
    minmax.kind = mcuport::FeatureScaler::Kind::MinMax;
    minmax.scale = {std::ldexp(1.0 + std::fabs(unit(rng)), static_cast<int>(unit(rng) * 10))};
    minmax.offset = {unit(rng)};
    minmax.clip = trial % 3 == 0;
    minmax.clip_lo = -0.5;
    minmax.clip_hi = 0.75;
    std::vector<const mcuport::FeatureScaler*> scalers = {&standard};
    if (trial % 2 == 0) scalers.push_back(&minmax);
    const auto sklearn_left = [&](float x, double threshold) {
      double v = x;
      for (const auto* scaler : scalers) v = scaler->apply(0, v);
      return static_cast<double>(static_cast<float>(v)) <= threshold;
    };
    // A threshold between two scaled training values, as a fitted tree has.
    const float a = static_cast<float>(standard.offset[0] + unit(rng) * standard.scale[0] * 3);
    const double threshold = [&] {
      double v = a;
      for (const auto* scaler : scalers) v = scaler->apply(0, v);
      return v + 1e-7 * unit(rng);
    }();
    const float folded = mcuport::fold_threshold(scalers, 0, threshold);
    float probe = folded;
    for (int i = 0; i < 4; ++i) probe = std::nextafter(probe, -FLT_MAX);
    // The documented exception: when no finite input goes left (a threshold below everything
    // the scalers can produce, which fitting never makes), -FLT_MAX itself is sent left.
    const bool nothing_left = folded == -FLT_MAX && !sklearn_left(-FLT_MAX, threshold);
    for (int i = 0; i < 9; ++i, probe = std::nextafter(probe, FLT_MAX)) {
      if (nothing_left && probe == -FLT_MAX) continue;
      ASSERT_EQ(probe <= folded, sklearn_left(probe, threshold)) << trial << " " << probe;
    }
    for (int i = 0; i < 200; ++i) {
      const float x = static_cast<float>(a + unit(rng) * std::fabs(a) * 2);
      ASSERT_EQ(x <= folded, sklearn_left(x, threshold)) << trial << " " << x;
    }
  }
}

// --- the RBF kernel's common domain (fixed_distance.hpp) ---------------------------------------

namespace {

// Input quantizations for `ranges` and 20 support vectors, each feature drawn within its range
// widened by a fifth on both sides (some support vectors lie outside the ranges).
std::pair<mcuport::InputQuantization, std::vector<double>> rbf_problem(
    const std::vector<std::pair<double, double>>& ranges, std::mt19937_64& random) {
  mcuport::InputQuantization quantization;
  for (const auto& range : ranges) quantization.features.push_back(mcuport::quantization_for_range({range.first, range.second}));
  std::vector<double> centers;
  for (int s = 0; s < 20; ++s) {
    for (const auto& [lo, hi] : ranges) {
      std::uniform_real_distribution<double> inside(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo));
      centers.push_back(inside(random));
    }
  }
  return {quantization, centers};
}

}  // namespace

// Features of very different widths (1e-3 to 1e4, as raw wine's), support vectors inside and
// outside the ranges: the rescaled distance is exact integer arithmetic, every intermediate fits
// its word, and gamma |x - sv|^2 is within the documented bound 2 c sqrt(n t) + n c^2 (plus the
// scale rounding, relative 2^-29) of the exact value on the dequantized input.
TEST(RbfDistance, CommonDomainWithinTheDocumentedBound) {
  std::mt19937_64 random(7);
  const std::vector<std::pair<double, double>> ranges = {
      {0, 1e-3}, {-5, 5}, {100, 2000}, {-1e4, 1e4}, {0.5, 0.6}};
  for (double gamma : {1e-9, 1.6e-6, 0.1, 30.0}) {
    const auto [quantization, centers] = rbf_problem(ranges, random);
    const std::size_t n = ranges.size();
    const mcuport::FixedRbfDistance map = mcuport::quantize_rbf_distance(centers, gamma, quantization);
    const double c2 = std::ldexp(1.0, -map.frac_bits);
    EXPECT_LE(map.max_scale_error, 0x1p-29);
    std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
    std::vector<int16_t> codes(n);
    std::vector<int32_t> y(n);
    for (int trial = 0; trial < 2000; ++trial) {
      for (auto& q : codes) q = static_cast<int16_t>(trial == 0 ? INT16_MIN : trial == 1 ? INT16_MAX : code(random));
      mcuport::rescale_to_domain(map, codes.data(), y.data());
      for (uint32_t s = 0; s < map.n_rows; ++s) {
        long double exact = 0;
        for (std::size_t f = 0; f < n; ++f) {
          const auto& q = quantization.features[f];
          const long double x = q.scale * (codes[f] - q.zero_point);
          const long double d = x - centers[s * n + f];
          exact += gamma * d * d;
        }
        const uint64_t distance = mcuport::rbf_squared_distance(map, y.data(), s);
        ASSERT_LT(distance, uint64_t{1} << 62);
        const double t = static_cast<double>(distance) * c2;
        const double bound = (2 * std::sqrt(c2 * n * static_cast<double>(exact)) + n * c2) * (1 + 1e-6) +
                             static_cast<double>(exact) * 0x1p-28;
        ASSERT_LE(std::fabs(t - static_cast<double>(exact)), bound)
            << "gamma " << gamma << " row " << s << " trial " << trial;
      }
    }
  }
}

// rbf_kernel_error_bounds over every t (and over t >= 1, 4, 16: no larger, and held by every
// kernel value whose exact argument is that far): every Q30 kernel value exp_neg computes
// from the rescaled distance is within the bound of exp(-gamma |x - sv|^2) on the dequantized
// input (long double), at the
// extreme codes and at random, for gammas whose exp argument is rounded into the runtime's
// format (exp_shift > 0) and ones whose argument is shifted left (exp_shift < 0). The bound is
// no trivial 1 (below 1e-2 here, 0.5 for the coarse domain) and within a factor 100 of the
// worst value found.
TEST(RbfKernelErrorBound, HoldsForEveryKernelValue) {
  std::mt19937_64 random(17);
  const std::vector<std::pair<double, double>> four = {{0, 1e-3}, {-5, 5}, {100, 2000}, {0.5, 0.6}};
  // One feature 2e6 wide at gamma 4: the domain's unit is so coarse (c^2 = 2^-6) that the
  // argument is shifted left into the runtime's 8 fractional bits, and the bound is loose.
  const std::vector<std::pair<double, double>> wide = {{-1e6, 1e6}};
  bool rounded = false;
  bool shifted_left = false;
  for (double gamma : {1e-9, 2e-7, 1.6e-6, 0.1, 30.0, 4.0}) {
    const auto& ranges = gamma == 4.0 ? wide : four;
    const auto [quantization, centers] = rbf_problem(ranges, random);
    const std::size_t n = ranges.size();
    const mcuport::FixedRbfDistance map = mcuport::quantize_rbf_distance(centers, gamma, quantization);
    rounded = rounded || map.exp_shift > 0;
    shifted_left = shifted_left || map.exp_shift < 0;
    // Over every t, and over t >= T only (the decision bound's far support vectors): no larger.
    const std::vector<double> from = {0.0, 1.0, 4.0, 16.0};
    const std::vector<double> tail = mcuport::rbf_kernel_error_bounds(map, from);
    ASSERT_EQ(tail.size(), from.size());
    const double bound = tail[0];
    ASSERT_LT(bound, gamma == 4.0 ? 0.5 : 1e-2) << "gamma " << gamma;
    for (std::size_t k = 1; k < from.size(); ++k) {
      EXPECT_LE(tail[k], tail[k - 1]) << "gamma " << gamma << " from " << from[k];
    }
    std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
    std::vector<int16_t> codes(n);
    std::vector<int32_t> y(n);
    double worst = 0;
    for (int trial = 0; trial < 4000; ++trial) {
      // Rows near a support vector (small distances, where the kernel moves most) and at random.
      for (std::size_t f = 0; f < n; ++f) {
        const auto& q = quantization.features[f];
        const double near = centers[(trial % 20) * n + f] / q.scale + q.zero_point +
                            std::uniform_real_distribution<double>(-2000, 2000)(random);
        codes[f] = static_cast<int16_t>(trial == 0   ? INT16_MIN
                                        : trial == 1 ? INT16_MAX
                                        : trial % 2  ? code(random)
                                                     : std::clamp(std::lround(near), long{INT16_MIN}, long{INT16_MAX}));
      }
      mcuport::rescale_to_domain(map, codes.data(), y.data());
      for (uint32_t s = 0; s < map.n_rows; ++s) {
        long double t = 0;
        for (std::size_t f = 0; f < n; ++f) {
          const auto& q = quantization.features[f];
          const long double d = q.scale * (codes[f] - q.zero_point) - static_cast<long double>(centers[s * n + f]);
          t += gamma * d * d;
        }
        const int64_t argument = mcuport::rbf_exp_argument(map, mcuport::rbf_squared_distance(map, y.data(), s));
        const double kernel = std::ldexp(static_cast<double>(mcuport::fixed::exp_neg(argument, map.exp_frac_bits)), -30);
        const double error = std::fabs(kernel - static_cast<double>(std::exp(-t)));
        worst = std::max(worst, error);
        ASSERT_LE(error, bound) << "gamma " << gamma << " row " << s << " trial " << trial;
        for (std::size_t k = 0; k < from.size(); ++k) {
          if (t >= from[k]) {
            ASSERT_LE(error, tail[k]) << "gamma " << gamma << " t >= " << from[k];
          }
        }
      }
    }
    EXPECT_LT(bound, 100 * worst) << "gamma " << gamma << ": bound " << bound << ", worst " << worst;
  }
  EXPECT_TRUE(rounded);
  EXPECT_TRUE(shifted_left);
}

// A fixed-mode pipeline stage (a projection in front of trees, naive Bayes or a kernel SVM):
// every output code, as the value it stands for, is within the stage's error_bound of the exact
// projection of the dequantized input, at the extreme codes and at random; the bound is within a
// factor 2 of the worst error found (the map's error and half a code).
TEST(LowerStage, EveryOutputWithinItsBound) {
  std::mt19937_64 random(23);
  const std::vector<std::pair<double, double>> ranges = {{0, 1e-3}, {-5, 5}, {100, 2000}, {0.5, 0.6}};
  mcuport::InputQuantization quantization;
  for (const auto& range : ranges) quantization.features.push_back(mcuport::quantization_for_range({range.first, range.second}));
  mcuport::AffinePrefix prefix;
  prefix.n_inputs = 4;
  prefix.n_outputs = 3;
  prefix.diagonal = false;
  prefix.matrix = {1e3, 0.2, -1e-3, 5.0,  //
                   -2e2, 0.01, 4e-3, -1.0,  //
                   0.5, -0.7, 1e-4, 30.0};
  prefix.center = {5e-4, 0.1, 1000, 0.55};
  const mcuport::StageProgram stage = mcuport::lower_stage(prefix, &quantization);
  ASSERT_TRUE(stage.fixed.has_value());
  ASSERT_GT(stage.error_bound, 0);
  std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
  std::vector<int16_t> codes(4);
  std::vector<int16_t> out(3);
  double worst = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    for (std::size_t f = 0; f < codes.size(); ++f) {
      codes[f] = static_cast<int16_t>(trial < 16 ? ((trial >> f) & 1 ? INT16_MAX : INT16_MIN) : code(random));
    }
    mcuport::evaluate_stage(stage, codes.data(), out.data());
    for (uint32_t k = 0; k < 3; ++k) {
      long double exact = 0;
      for (std::size_t f = 0; f < 4; ++f) {
        const auto& q = quantization.features[f];
        exact += static_cast<long double>(prefix.matrix[k * 4 + f]) *
                 (q.scale * (codes[f] - q.zero_point) - static_cast<long double>(prefix.center[f]));
      }
      const auto& q = stage.output_quantization.features[k];
      const double value = q.scale * (out[k] - q.zero_point);
      const double error = std::fabs(value - static_cast<double>(exact));
      worst = std::max(worst, error);
      ASSERT_LE(error, stage.error_bound) << "output " << k << " trial " << trial;
    }
  }
  EXPECT_LT(stage.error_bound, 2 * worst);
}

// quantize_linear_rows: each row on its own binary point, within its own error bound for every
// int16 input; with int32 accumulators every row's bound (and so every sum) stays below 2^31.
TEST(QuantizeLinearRows, EachRowWithinItsOwnBoundAndInt32WhenAsked) {
  std::mt19937_64 random(11);
  const std::vector<std::pair<double, double>> ranges = {{0, 1e-3}, {-5, 5}, {100, 2000}, {-1e4, 1e4}};
  mcuport::InputQuantization quantization;
  for (const auto& range : ranges) quantization.features.push_back(mcuport::quantization_for_range({range.first, range.second}));
  const std::size_t n = ranges.size();
  // Rows of very different sizes: one shared binary point would leave the small ones few bits.
  const std::vector<double> weight = {3e2, -1.5, 0.02, 1e-3,    //
                                      1e-4, 2e-6, -3e-7, 1e-9,  //
                                      -0.7, 0.3, 1e-3, -2e-5};
  const std::vector<double> bias = {5, -0.25, 1e-3};
  for (bool int32 : {false, true}) {
    const mcuport::FixedLinear map = mcuport::quantize_linear_rows(weight, bias, quantization, 15, int32);
    ASSERT_EQ(map.row_frac_bits.size(), 3u);
    ASSERT_EQ(map.row_error_bound.size(), 3u);
    EXPECT_GT(map.row_frac_bits[1], map.row_frac_bits[0] + 5);  // the small row keeps its bits
    if (int32) {
      EXPECT_FALSE(map.wide);
    }
    std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
    std::vector<int16_t> codes(n);
    for (int trial = 0; trial < 5000; ++trial) {
      for (auto& q : codes) q = static_cast<int16_t>(trial == 0 ? INT16_MIN : trial == 1 ? INT16_MAX : code(random));
      for (uint32_t k = 0; k < 3; ++k) {
        long double exact = bias[k];
        for (std::size_t f = 0; f < n; ++f) {
          const auto& q = quantization.features[f];
          exact += static_cast<long double>(weight[k * n + f]) * q.scale * (codes[f] - q.zero_point);
        }
        const int64_t value = mcuport::evaluate_fixed_linear_row(map, codes.data(), k);
        if (int32) {
          ASSERT_LT(std::llabs(value), INT64_C(2147483648));
        }
        const long double got = std::ldexp(static_cast<long double>(value), -map.row_frac_bits[k]);
        ASSERT_LE(std::fabs(static_cast<double>(got - exact)), map.row_error_bound[k] * (1 + 1e-9))
            << "row " << k << " trial " << trial << " int32 " << int32;
      }
    }
  }
}

// --- Gaussian naive Bayes's weighted squared distances (fixed_distance.hpp) ----------------------

// Weights up to 10^38 apart within a row (near-zero variances next to wide ones, as digits has:
// the per-term form) or within a factor 10 of the row's spread (per-class blocks), centers inside,
// on and outside the ranges, on whole codes and between them: every sum stays at or below the
// proven largest sum (< 2^62), and the computed distance is within distance_error_bound of the
// exact one on the dequantized input, at the extreme codes, at the class centers and at random.
// Param: 0 the per-term form, 1 blocks at one point, 2 blocks at a point per row (rows 2^16 apart),
// 3 high-word terms (the weights of 0, asked for as on Cortex-M4; centers inside the ranges, so
// that every rounded center is an int16 code).
class NaiveBayesDistance : public ::testing::TestWithParam<int> {};

TEST_P(NaiveBayesDistance, WithinTheDocumentedBound) {
  const bool narrow_spread = GetParam() == 1 || GetParam() == 2;
  const bool rows_apart = GetParam() == 2;
  const bool high_word = GetParam() == 3;
  std::mt19937_64 random(5);
  const std::vector<std::pair<double, double>> ranges = {
      {0, 16}, {0, 1e-3}, {-5, 5}, {100, 2000}, {-1e4, 1e4}, {0.5, 0.6}, {3, 3}};
  mcuport::InputQuantization quantization;
  for (const auto& range : ranges) quantization.features.push_back(mcuport::quantization_for_range({range.first, range.second}));
  const std::size_t n = ranges.size();
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_real_distribution<double> log_variance(narrow_spread ? -2.0 : -30.0,
                                                      narrow_spread ? -1.0 : 8.0);
  for (int model = 0; model < 6; ++model) {
    std::vector<double> centers;
    std::vector<double> weights;
    const uint32_t rows = 4;
    for (uint32_t r = 0; r < rows; ++r) {
      for (std::size_t f = 0; f < n; ++f) {
        const auto [lo, hi] = ranges[f];
        const double width = std::max(hi - lo, 1e-3);
        // Every third center exactly on the range's low end (a constant feature of the class).
        const double center = (r + f) % 3 == 0 ? lo
                              : high_word       ? lo + (hi - lo) * unit(random)
                                                : lo - 0.2 * width + 1.4 * width * unit(random);
        centers.push_back(center);
        // Blocks need every weight of a row within about 2^6 of the row's largest term.
        const double variance = std::pow(10.0, log_variance(random)) * (narrow_spread ? 1.0 : width * width) *
                                (rows_apart ? std::ldexp(1.0, 16 * static_cast<int>(r)) : 1.0) *
                                (narrow_spread ? std::max(32768.0 * quantization.features[f].scale, 1e-300) *
                                                     std::max(32768.0 * quantization.features[f].scale, 1e-300)
                                               : 1.0);
        weights.push_back(0.5 / variance);
      }
    }
    const mcuport::FixedSquaredDistance map =
        mcuport::quantize_squared_distance(centers, weights, quantization, 62, high_word);
    ASSERT_LT(map.bound, uint64_t{1} << 62);
    EXPECT_EQ(map.blocks, narrow_spread);
    EXPECT_EQ(map.high_word, high_word);
    if (narrow_spread) {
      EXPECT_EQ(map.uniform_row_shift() && map.row_shift.front() == 0, !rows_apart);
    }
    for (uint32_t r = 0; r < rows; ++r) {
      // Per-term mantissas keep 16 bits, per-class ones at least 12; every high-word term is
      // counted absolutely (|W 2^-17 - s| reach < 1/4): eta is 0 but for the 1e-15 of headroom
      // every constant carries.
      if (high_word) {
        EXPECT_EQ(map.eta[r], 1e-15);
      } else {
        EXPECT_LE(map.eta[r], narrow_spread ? 0x1p-13 : 0x1p-15);
      }
    }
    if (high_word) {
      // The proven largest sum is the largest one: each term's largest square over every int16
      // code, found by trying them all, summed per row.
      uint64_t largest = 0;
      for (uint32_t r = 0; r < rows; ++r) {
        uint64_t row = 0;
        for (std::size_t f = 0; f < n; ++f) {
          const std::size_t i = r * n + f;
          uint64_t top = 0;
          for (int q = INT16_MIN; q <= INT16_MAX; ++q) {
            const int64_t t = mcuport::high_word_term(q - map.center[i], map.wide_root[i]);
            top = std::max(top, static_cast<uint64_t>(t * t));
          }
          row += top;
        }
        largest = std::max(largest, row);
      }
      EXPECT_EQ(map.bound, largest);
    }
    std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
    std::vector<int16_t> codes(n);
    for (int trial = 0; trial < 3000; ++trial) {
      for (std::size_t f = 0; f < n; ++f) {
        const uint32_t near = static_cast<uint32_t>(trial % rows);
        codes[f] = static_cast<int16_t>(
            trial == 0 ? INT16_MIN : trial == 1 ? INT16_MAX
            : trial % 5 == 2 ? std::clamp<long>(std::lround(centers[near * n + f] / quantization.features[f].scale +
                                                             quantization.features[f].zero_point),
                                                 INT16_MIN, INT16_MAX)  // at a class's center
                             : code(random));
      }
      for (uint32_t r = 0; r < rows; ++r) {
        long double exact = 0;
        for (std::size_t f = 0; f < n; ++f) {
          const auto& q = quantization.features[f];
          const long double x = q.scale * (codes[f] - q.zero_point);
          const long double d = x - centers[r * n + f];
          exact += weights[r * n + f] * d * d;
        }
        const uint64_t distance = mcuport::evaluate_squared_distance(map, codes.data(), r);
        ASSERT_LE(distance, map.bound);
        const double computed = std::ldexp(static_cast<double>(distance), -map.frac_bits);
        const double bound = mcuport::distance_error_bound(map, r, static_cast<double>(exact));
        ASSERT_LE(std::fabs(computed - static_cast<double>(exact)), bound * (1 + 1e-9))
            << "model " << model << " row " << r << " trial " << trial;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, NaiveBayesDistance, ::testing::Values(0, 1, 2, 3),
                         [](const auto& param_info) {
                           return std::string(param_info.param == 0   ? "PerTermShifts"
                                              : param_info.param == 1 ? "BlocksOnePoint"
                                              : param_info.param == 2 ? "BlocksPointPerRow"
                                                                      : "HighWordTerms");
                         });

// high_word_term is floor(d W / 2^17), the high word of d 2^15 W, over the whole domain's edges
// (|d| < 2^16, 0 <= W < 2^31) and at random: each a 64-bit product, floored by integer division.
TEST(NaiveBayesHighWord, TermIsTheFlooredProduct) {
  const auto floored = [](int32_t d, int32_t w) {
    const int64_t product = static_cast<int64_t>(d) * w;
    const int64_t quotient = product / 131072;  // truncates toward zero
    return quotient - ((product % 131072 != 0 && product < 0) ? 1 : 0);
  };
  std::vector<int32_t> ds = {-65535, -65534, -32769, -32768, -2, -1, 0, 1, 2, 32767, 65534, 65535};
  std::vector<int32_t> ws = {0, 1, 2, 131071, 131072, 131073, 0x40000000, 0x7FFFFFFE, 0x7FFFFFFF};
  std::mt19937_64 random(11);
  std::uniform_int_distribution<int32_t> any_d(-65535, 65535);
  std::uniform_int_distribution<int32_t> any_w(0, 0x7FFFFFFF);
  for (int i = 0; i < 200; ++i) {
    ds.push_back(any_d(random));
    ws.push_back(any_w(random));
  }
  for (const int32_t d : ds) {
    for (const int32_t w : ws) {
      ASSERT_EQ(mcuport::high_word_term(d, w), floored(d, w)) << "d = " << d << ", W = " << w;
    }
  }
}

// High-word terms are asked for, not forced: a model whose rounded centers are not all int16
// codes keeps the per-term shifts (|q - P| 2^15 would not be an int32 value), and one that fits
// blocks keeps the blocks.
TEST(NaiveBayesHighWord, OnlyWhereItApplies) {
  mcuport::InputQuantization quantization;
  quantization.features.push_back(mcuport::quantization_for_range({0, 16}));
  quantization.features.push_back(mcuport::quantization_for_range({0, 16}));
  // Weights 2^40 apart within the row: no blocks.
  const std::vector<double> weights = {0.5, 0.5e12, 0.5e12, 0.5};
  const auto inside = mcuport::quantize_squared_distance({8, 3, 1, 15}, weights, quantization, 62, true);
  EXPECT_TRUE(inside.high_word);
  EXPECT_FALSE(inside.blocks);
  const auto outside = mcuport::quantize_squared_distance({8, 3, 1, 40}, weights, quantization, 62, true);
  EXPECT_FALSE(outside.high_word);
  EXPECT_FALSE(outside.blocks);
  const auto blocks = mcuport::quantize_squared_distance({8, 3, 1, 15}, {0.5, 0.4, 0.3, 0.2},
                                                         quantization, 62, true);
  EXPECT_TRUE(blocks.blocks);
  EXPECT_FALSE(blocks.high_word);
}

// The bound is not vacuous: for a class whose inputs sit near its centers the error allowed is a
// small fraction of a unit, and it grows with the distance only as 2^-15 of it plus a square root.
TEST(NaiveBayesDistanceBound, IsTight) {
  mcuport::InputQuantization quantization;
  quantization.features.push_back(mcuport::quantization_for_range({0, 8}));
  quantization.features.push_back(mcuport::quantization_for_range({-1, 1}));
  const mcuport::FixedSquaredDistance map =
      mcuport::quantize_squared_distance({4.1, 0.2}, {0.5 / 0.3, 0.5 / 0.01}, quantization, 62);
  EXPECT_LT(mcuport::distance_error_bound(map, 0, 1.0), 2e-4);  // mostly the centers on whole codes
  EXPECT_LT(mcuport::distance_error_bound(map, 0, 100.0), 100.0 * 0x1p-14);
}

// A row whose offset its own binary point cannot hold is named by its index: each row is
// quantized alone, where it was always "output 0".
TEST(QuantizeLinearRows, NamesTheRowWhoseOffsetCannotBeHeld) {
  mcuport::InputQuantization quantization;
  for (int f = 0; f < 2; ++f) quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
  // Row 2's only weight, 1e-9, puts its point at 2^-59, where its offset 1e8 is about 2^86;
  // row 0's point, 2^-29, holds it.
  const std::vector<double> weight = {1.0, 0.5, 0.25, -1.0, 1e-9, 0.0};
  const std::vector<double> bias = {0.1, 0.2, 1e8};
  try {
    (void)mcuport::quantize_linear_rows(weight, bias, quantization, 15, false);
    FAIL() << "no error";
  } catch (const mcuport::Error& e) {
    EXPECT_EQ(e.path(), "/input_ranges");
    EXPECT_NE(e.detail().find("(output 2)"), std::string::npos) << e.detail();
  }
  // The same rows on one binary point hold it (the point is row 0's).
  EXPECT_NO_THROW((void)mcuport::quantize_linear(weight, bias, quantization, 15));
}

namespace {

// Two inputs on [-1, 1] and the identity in front of the model.
std::pair<mcuport::InputQuantization, mcuport::AffinePrefix> unit_square() {
  mcuport::InputQuantization quantization;
  for (int f = 0; f < 2; ++f) quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
  mcuport::AffinePrefix identity;
  identity.n_inputs = identity.n_outputs = 2;
  identity.scale = {1.0, 1.0};
  identity.center = {0.0, 0.0};
  return {quantization, identity};
}

}  // namespace

// Float mode keeps a pipeline's center apart from a linear map's offsets only where folding it
// would cancel: a standardized feature whose mean is 32 of its spreads from zero adds terms of
// 32 times a centred term's size to the folded sum (kCenterApartRatio), one whose mean is at
// 101325 with a spread of 30, 3,377 times.
TEST(LowerLinear, KeepsACenterApartOnlyWhereFoldingItWouldCancel) {
  const auto apart = [](double mean, double spread) {
    mcuport::AffinePrefix prefix;
    prefix.n_inputs = prefix.n_outputs = 2;
    prefix.scale = {1 / spread, 1.0};
    prefix.center = {mean, 0.0};
    const std::vector<double> weight = {1.0, -1.0};  // one row, on the standardized inputs
    const std::vector<double> bias = {0.0};
    const std::vector<double> composed = prefix.compose(weight, 1);
    return mcuport::keeps_center_apart(prefix, weight, bias, composed,
                                       mcuport::centered_offsets(composed, 1, prefix.center, bias));
  };
  // Folded: |bias'| + |w'_0 mean| = 2 mean / spread; centred: |w_0| + |w_1| = 2.
  EXPECT_TRUE(apart(101325, 30));
  EXPECT_TRUE(apart(-101325, 30));
  EXPECT_TRUE(apart(32.01, 1));
  EXPECT_FALSE(apart(31.99, 1));
  EXPECT_FALSE(apart(5.8, 0.8));  // iris's sepal length
  EXPECT_FALSE(apart(0, 1e-6));
}

// A Mahalanobis map takes the narrowest weights (15, 23 or 31 bits) whose rounding keeps the
// distance within 1e-3 (relative) of the exact one at the threshold (here none: at d2 = n).
// Two features on [-1, 1], precision diag(s^2, 1): the factor's largest weight s sets the
// binary point, and the rounding error of the other row grows with it.
TEST(LowerMahalanobis, TakesTheNarrowestAccurateWeights) {
  const auto [quantization, identity] = unit_square();
  // The check of lower_mahalanobis: E = sum_r e_r^2 over the rows' own bounds (Cauchy-Schwarz).
  const auto accurate = [](const mcuport::FixedLinear& map) {
    double e2 = 0;
    for (const double e : map.row_error_bound) e2 += e * e;
    return 2 * std::sqrt(e2 * 2.0) + e2 <= 1e-3 * 2.0;
  };
  for (const auto& [s, bits] : std::vector<std::pair<double, int>>{{1.0, 15}, {100.0, 23}, {1e6, 31}}) {
    mcuport::Mahalanobis model;
    model.location = {0.1, -0.2};
    model.precision = {s * s, 0.0, 0.0, 1.0};
    const mcuport::MahalanobisProgram program = mcuport::lower_mahalanobis(model, identity, &quantization);
    ASSERT_TRUE(program.fixed.has_value());
    EXPECT_EQ(program.fixed->weight_bits, bits) << "s = " << s;
    EXPECT_TRUE(accurate(*program.fixed) || bits == 31) << "s = " << s;
    for (const int weight_bits : {15, 23, 31}) {
      if (weight_bits >= bits) break;  // every narrower width falls short
      const std::vector<double> bias = mcuport::centered_offsets(program.weight, 2, program.center);
      EXPECT_FALSE(accurate(mcuport::quantize_linear(program.weight, bias, quantization, weight_bits)))
          << "s = " << s << ", " << weight_bits << " bits";
    }
    if (bits > 15) {  // nor does a point per row help: the large weight's own row falls short
      const std::vector<double> bias = mcuport::centered_offsets(program.weight, 2, program.center);
      EXPECT_FALSE(accurate(mcuport::quantize_linear_rows(program.weight, bias, quantization, 15, false)))
          << "s = " << s;
    }
    EXPECT_TRUE(program.fixed->row_frac_bits.empty()) << "s = " << s;
    EXPECT_EQ(program.row_shift[0], program.row_shift[1]) << "s = " << s;
    for (int32_t w : program.fixed->weight) {
      EXPECT_LT(std::abs(static_cast<int64_t>(w)), int64_t{1} << bits);
    }
  }
}

// A row whose offset cannot be held on its own binary point (small weights on an input whose
// location lies far from its range: 1e-6 (x - 1e10), its offset 2^62 at its own point 2^-49)
// stays on the common point, where it can: the port takes the next candidate rather than failing
// (15 bits fall short at a threshold of 1e-4, on one point and with rows 0 and 1 on their own;
// 23 bits on one point hold the offset at 2^-37).
TEST(LowerMahalanobis, KeepsOnTheCommonPointARowWhoseOffsetItsOwnPointCannotHold) {
  const std::size_t n = 3;
  mcuport::InputQuantization quantization;
  for (std::size_t f = 0; f < n; ++f) {
    quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
  }
  mcuport::AffinePrefix identity;
  identity.n_inputs = identity.n_outputs = n;
  identity.scale = {1.0, 1.0, 1.0};
  identity.center = {0.0, 0.0, 0.0};
  mcuport::Mahalanobis model;
  model.location = {0.0, 0.0, 1e10};
  model.precision = {1.0, 0.0, 0.0, 0.0, 0.36, 0.0, 0.0, 0.0, 1e-12};
  model.has_threshold = true;
  model.threshold = 1e-4;
  mcuport::MahalanobisProgram program;
  ASSERT_NO_THROW(program = mcuport::lower_mahalanobis(model, identity, &quantization));
  ASSERT_TRUE(program.fixed.has_value());
  const mcuport::FixedLinear& map = *program.fixed;
  EXPECT_EQ(map.weight_bits, 23);  // as before rows could have points of their own
  EXPECT_TRUE(map.row_frac_bits.empty());
  for (std::size_t r = 0; r < n; ++r) EXPECT_LE(program.row_shift[r], 32) << "row " << r;
  for (const int32_t corner : {0, 1, 2, 3, 4, 5, 6, 7}) {
    std::vector<int16_t> codes(n);
    for (std::size_t f = 0; f < n; ++f) {
      codes[f] = static_cast<int16_t>((corner >> f) & 1 ? INT16_MIN : INT16_MAX);
    }
    long double exact = 0;
    for (std::size_t f = 0; f < n; ++f) {
      const auto& q = quantization.features[f];
      const long double x =
          static_cast<long double>(q.scale) * (codes[f] - q.zero_point) - model.location[f];
      exact += x * x * model.precision[f * n + f];
    }
    const int64_t score = mcuport::evaluate_mahalanobis(program, codes.data());
    const long double got = std::ldexp(static_cast<long double>(score), -program.score_frac_bits);
    EXPECT_LE(std::fabs(static_cast<double>(got - exact)),
              mcuport::mahalanobis_score_error(program, static_cast<double>(exact)) * (1 + 1e-9))
        << "corner " << corner;
  }
}

// Where only 31-bit weights are accurate enough and their offsets come near 2^61 (inputs on
// [-1, 1], the location 32000 away, at 2^-45: 2^59.97), the components need a shift of 33 bits
// once 100 of their squares must fit below 2^62, beyond the 32 the code can round: the port
// says so (an input-range error, as for an offset beyond 2^61) rather than failing an assertion.
TEST(LowerMahalanobis, RefusesComponentsThatNeedAShiftBeyond32Bits) {
  const std::size_t n = 100;
  mcuport::InputQuantization quantization;
  mcuport::AffinePrefix identity;
  identity.n_inputs = identity.n_outputs = n;
  mcuport::Mahalanobis model;
  model.precision.assign(n * n, 0.0);
  for (std::size_t f = 0; f < n; ++f) {
    quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
    identity.scale.push_back(1.0);
    identity.center.push_back(0.0);
    model.location.push_back(32000.0);
    model.precision[f * n + f] = 1.0;
  }
  model.has_threshold = true;
  model.threshold = 1e-16;
  EXPECT_THROW(mcuport::lower_mahalanobis(model, identity, &quantization), mcuport::Error);
  model.location.assign(n, 0.0);  // the same map near its location: 31 bits, a shift of at most 32
  const mcuport::MahalanobisProgram program = mcuport::lower_mahalanobis(model, identity, &quantization);
  ASSERT_TRUE(program.fixed.has_value());
  EXPECT_EQ(program.fixed->weight_bits, 31);
  for (const int shift : program.row_shift) EXPECT_LE(shift, 32);
}

// Where 15-bit weights on one binary point fall short but some rows on their own points pass,
// those rows (the fewest, taken by what each saves) get their own points: here the middle row of
// a factor whose rows are about 18, 8.5 and 1.6 (inputs on [-1, 1], threshold 5). Each row's
// shift brings it to one format, and every score of every int16 input stays within the bound
// mahalanobis_score_error gives from the components' error.
TEST(LowerMahalanobis, GivesRowsTheirOwnPointsWhereOnePointFallsShort) {
  const std::size_t n = 3;
  mcuport::InputQuantization quantization;
  for (std::size_t f = 0; f < n; ++f) quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
  mcuport::AffinePrefix identity;
  identity.n_inputs = identity.n_outputs = n;
  identity.scale = {1.0, 1.0, 1.0};
  identity.center = {0.0, 0.0, 0.0};
  const double u[3][3] = {{17.882, -16.308, -1.528}, {0.0, 8.539, -8.389}, {0.0, 0.0, 1.592}};
  mcuport::Mahalanobis model;
  model.location = {0.0, 0.0, 0.0};
  model.precision.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t k = 0; k < n; ++k) model.precision[i * n + j] += u[k][i] * u[k][j];
    }
  }
  model.has_threshold = true;
  model.threshold = 5.0;
  const mcuport::MahalanobisProgram program = mcuport::lower_mahalanobis(model, identity, &quantization);
  ASSERT_TRUE(program.fixed.has_value());
  const mcuport::FixedLinear& map = *program.fixed;
  EXPECT_EQ(map.weight_bits, 15);
  ASSERT_EQ(map.row_frac_bits.size(), n);
  EXPECT_EQ(map.row_frac_bits[0], map.frac_bits);
  EXPECT_GT(map.row_frac_bits[1], map.frac_bits);  // the middle row alone on its own point
  EXPECT_EQ(map.row_frac_bits[2], map.frac_bits);
  // One point for all fails the check (which is why the row has its own).
  const auto accurate = [&](const mcuport::FixedLinear& m) {
    double e2 = 0;
    for (const double e : m.row_error_bound) e2 += e * e;
    return 2 * std::sqrt(e2 * model.threshold) + e2 <= 1e-3 * model.threshold;
  };
  const std::vector<double> bias = mcuport::centered_offsets(program.weight, n, program.center);
  EXPECT_FALSE(accurate(mcuport::quantize_linear(program.weight, bias, quantization, 15)));
  EXPECT_TRUE(accurate(map));
  const int z_frac_bits = program.score_frac_bits / 2;
  for (std::size_t r = 0; r < n; ++r) {
    EXPECT_EQ(program.row_shift[r], map.row_frac_bits[r] - z_frac_bits) << "row " << r;
    EXPECT_LE(program.row_shift[r], 32);
  }
  EXPECT_GT(program.row_shift[1], program.row_shift[0]);
  std::mt19937_64 random(5);
  std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
  std::vector<int16_t> codes(n);
  for (int trial = 0; trial < 20000; ++trial) {
    for (std::size_t f = 0; f < n; ++f) {
      codes[f] = static_cast<int16_t>(trial < 8 ? ((trial >> f) & 1 ? INT16_MIN : INT16_MAX)
                                      : trial < 10000 ? code(random) / 64 : code(random));
    }
    long double exact = 0;
    for (std::size_t r = 0; r < n; ++r) {
      long double z = 0;
      for (std::size_t f = 0; f < n; ++f) {
        const auto& q = quantization.features[f];
        z += static_cast<long double>(u[r][f]) * q.scale * (codes[f] - q.zero_point);
      }
      exact += z * z;
    }
    const int64_t score = mcuport::evaluate_mahalanobis(program, codes.data());
    ASSERT_GE(score, 0);
    ASSERT_LE(static_cast<uint64_t>(score), program.score_bound);
    const long double got = std::ldexp(static_cast<long double>(score), -program.score_frac_bits);
    ASSERT_LE(std::fabs(static_cast<double>(got - exact)),
              mcuport::mahalanobis_score_error(program, static_cast<double>(exact)) * (1 + 1e-9))
        << "trial " << trial;
  }
}

// quantize_linear_words: the stored weights, in row-major order, chain (each one's low byte is
// the previous one's top byte), the others stay zero, every weight is within 128 of its exact
// value at the 31-bit binary point (255.5 where the range's end clamps it), the offsets and the
// point are quantize_linear's at 31 bits, and each row is within its recorded bound for every
// int16 input tried (the corners and random codes).
TEST(QuantizeLinearWords, ChainsTheBytesAndStaysWithinItsBounds) {
  std::mt19937_64 random(17);
  const std::vector<std::pair<double, double>> ranges = {{0, 1e-3}, {-5, 5}, {100, 2000}, {-1e4, 1e4}, {-1, 1}};
  mcuport::InputQuantization quantization;
  for (const auto& range : ranges) quantization.features.push_back(mcuport::quantization_for_range({range.first, range.second}));
  const std::size_t n = ranges.size();
  std::uniform_real_distribution<double> unit(-1, 1);
  std::uniform_real_distribution<double> magnitude(-6, 6);
  for (int model = 0; model < 40; ++model) {
    const bool triangular = model % 2 == 0;
    std::vector<double> weight(n * n, 0.0);
    std::vector<bool> stored(n * n, !triangular);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t f = triangular ? r : 0; f < n; ++f) {
        stored[r * n + f] = true;
        // Some exact zeros among the stored weights (a zero weight chains too), some at the top
        // of the range (the largest weight of the map: 2^31 - 1 at the point).
        weight[r * n + f] = (model + r + f) % 7 == 3 ? 0.0 : unit(random) * std::pow(10.0, magnitude(random));
      }
    }
    std::vector<double> bias(n);
    for (auto& b : bias) b = unit(random) * 100;
    const mcuport::FixedLinear map = mcuport::quantize_linear_words(weight, bias, quantization, stored);
    const mcuport::FixedLinear plain = mcuport::quantize_linear(weight, bias, quantization, 31);
    ASSERT_TRUE(map.overlapping_words);
    ASSERT_EQ(map.weight_bits, 31);
    ASSERT_TRUE(map.wide);
    ASSERT_EQ(map.frac_bits, plain.frac_bits);
    ASSERT_EQ(map.bias, plain.bias);
    uint64_t bound = 0;
    for (uint32_t r = 0; r < n; ++r) bound = std::max(bound, mcuport::row_accumulator_bound(map, r));
    EXPECT_EQ(map.accumulator_bound, bound);
    bool first = true;
    uint32_t previous = 0;
    for (std::size_t i = 0; i < n * n; ++i) {
      if (!stored[i]) {
        EXPECT_EQ(map.weight[i], 0) << "model " << model << " weight " << i;
        continue;
      }
      const auto w = static_cast<uint32_t>(map.weight[i]);
      if (!first) {
        EXPECT_EQ(w & 0xFFu, previous >> 24) << "model " << model << " weight " << i;
      }
      first = false;
      previous = w;
      const double exact = std::ldexp(weight[i] * quantization.features[i % n].scale, map.frac_bits);
      const double error = std::fabs(static_cast<double>(map.weight[i]) - exact);
      EXPECT_LE(error, std::fabs(exact) < 0x1p31 - 256 ? 128.0 : 255.5) << "model " << model << " weight " << i;
    }
    std::uniform_int_distribution<int> code(INT16_MIN, INT16_MAX);
    std::vector<int16_t> codes(n);
    for (int trial = 0; trial < 2000; ++trial) {
      for (std::size_t f = 0; f < n; ++f) {
        codes[f] = static_cast<int16_t>(trial < 32 ? ((trial >> f) & 1 ? INT16_MIN : INT16_MAX) : code(random));
      }
      for (uint32_t k = 0; k < n; ++k) {
        long double exact = bias[k];
        for (std::size_t f = 0; f < n; ++f) {
          const auto& q = quantization.features[f];
          exact += static_cast<long double>(weight[k * n + f]) * q.scale * (codes[f] - q.zero_point);
        }
        const int64_t value = mcuport::evaluate_fixed_linear_row(map, codes.data(), k);
        ASSERT_LE(static_cast<uint64_t>(value < 0 ? -value : value), mcuport::row_accumulator_bound(map, k));
        const long double got = std::ldexp(static_cast<long double>(value), -map.frac_bits);
        ASSERT_LE(std::fabs(static_cast<double>(got - exact)), map.row_error_bound[k] * (1 + 1e-9))
            << "model " << model << " row " << k << " trial " << trial;
      }
    }
  }
}

// Where a target loads unaligned words (LowerOptions::overlapping_words), a distance that needs
// 24-bit weights takes them as overlapping words: 31-bit integers on a point 8 bits finer, with
// the same check passed and every score within mahalanobis_score_error of the exact one. Models
// that 15 bits serve, or that need 31, are lowered as without the option.
TEST(LowerMahalanobis, TakesOverlappingWordsWhereTwentyFourBitsAreNeeded) {
  const auto [quantization, identity] = unit_square();
  int n_words = 0;
  for (const double s : {1.0, 100.0, 1e6}) {  // 15, 23 and 31 bits without the option
    mcuport::Mahalanobis model;
    model.location = {0.1, -0.2};
    model.precision = {s * s, 0.3 * s, 0.3 * s, 1.0};
    const mcuport::MahalanobisProgram plain = mcuport::lower_mahalanobis(model, identity, &quantization);
    const mcuport::MahalanobisProgram words = mcuport::lower_mahalanobis(model, identity, &quantization, true);
    ASSERT_TRUE(plain.fixed && words.fixed);
    if (plain.fixed->weight_bits != 23) {
      EXPECT_FALSE(words.fixed->overlapping_words) << "s = " << s;
      EXPECT_EQ(words.fixed->weight, plain.fixed->weight) << "s = " << s;
      EXPECT_EQ(words.row_shift, plain.row_shift) << "s = " << s;
      continue;
    }
    ASSERT_TRUE(words.fixed->overlapping_words) << "s = " << s;
    ++n_words;
    EXPECT_EQ(words.fixed->weight_bits, 31);
    EXPECT_EQ(words.fixed->frac_bits, plain.fixed->frac_bits + 8);
    EXPECT_EQ(words.row_shift[0], plain.row_shift[0] + 8);
    EXPECT_EQ(words.score_frac_bits, plain.score_frac_bits);
    // The chain over the stored (upper triangular) weights: row 0's two, then row 1's diagonal.
    const auto& w = words.fixed->weight;
    EXPECT_EQ(w[2], 0);
    EXPECT_EQ(static_cast<uint32_t>(w[1]) & 0xFFu, static_cast<uint32_t>(w[0]) >> 24);
    EXPECT_EQ(static_cast<uint32_t>(w[3]) & 0xFFu, static_cast<uint32_t>(w[1]) >> 24);
    for (int trial = 0; trial < 65536 + 4; ++trial) {
      const int16_t codes[2] = {static_cast<int16_t>(trial < 4 ? ((trial & 1) ? INT16_MIN : INT16_MAX) : trial - 4 - 32768),
                                static_cast<int16_t>(trial < 4 ? ((trial & 2) ? INT16_MIN : INT16_MAX) : (trial * 7919) % 65536 - 32768)};
      long double exact = 0;
      long double y[2];
      for (int f = 0; f < 2; ++f) {
        const auto& q = quantization.features[static_cast<std::size_t>(f)];
        y[f] = static_cast<long double>(q.scale) * (codes[f] - q.zero_point) - model.location[static_cast<std::size_t>(f)];
      }
      for (int i = 0; i < 2; ++i) {
        for (int j = 0; j < 2; ++j) exact += y[i] * y[j] * model.precision[static_cast<std::size_t>(2 * i + j)];
      }
      const int64_t score = mcuport::evaluate_mahalanobis(words, codes);
      ASSERT_LE(static_cast<uint64_t>(score), words.score_bound);
      const long double got = std::ldexp(static_cast<long double>(score), -words.score_frac_bits);
      ASSERT_LE(std::fabs(static_cast<double>(got - exact)),
                mcuport::mahalanobis_score_error(words, static_cast<double>(exact)) * (1 + 1e-9))
          << "trial " << trial;
    }
  }
  EXPECT_EQ(n_words, 1);
}

// The words sit on the 31-bit point, 8 bits finer than the 23-bit one. Inputs far from the
// location (two on [1e8, 1e8 + 1000], the location at 0) give offsets of about 2^56 at the
// 23-bit point, 2^64 at the 31-bit one: the words cannot hold them, and the distance takes the
// 23-bit weights that every other target takes, rather than failing to port on Cortex-M4/M7.
TEST(LowerMahalanobis, TakesTwentyThreeBitsWhereTheWordsCannotHoldTheOffsets) {
  mcuport::InputQuantization quantization;
  for (int f = 0; f < 2; ++f) quantization.features.push_back(mcuport::quantization_for_range({1e8, 1e8 + 1000}));
  mcuport::AffinePrefix identity;
  identity.n_inputs = identity.n_outputs = 2;
  identity.scale = {1.0, 1.0};
  identity.center = {0.0, 0.0};
  mcuport::Mahalanobis model;
  model.location = {0.0, 0.0};
  // The inverse of the covariance [[1, 0.3], [0.3, 2]].
  const double det = 2.0 - 0.09;
  model.precision = {2.0 / det, -0.3 / det, -0.3 / det, 1.0 / det};
  model.has_threshold = true;
  model.threshold = 9.0;
  const mcuport::MahalanobisProgram plain = mcuport::lower_mahalanobis(model, identity, &quantization);
  ASSERT_TRUE(plain.fixed.has_value());
  ASSERT_EQ(plain.fixed->weight_bits, 23);
  EXPECT_THROW((void)mcuport::quantize_linear(plain.weight, {0.0, 0.0}, quantization, 31), mcuport::Error);
  mcuport::MahalanobisProgram words;
  ASSERT_NO_THROW(words = mcuport::lower_mahalanobis(model, identity, &quantization, true));
  ASSERT_TRUE(words.fixed.has_value());
  EXPECT_FALSE(words.fixed->overlapping_words);
  EXPECT_EQ(words.fixed->weight, plain.fixed->weight);
  EXPECT_EQ(words.fixed->bias, plain.fixed->bias);
  EXPECT_EQ(words.row_shift, plain.row_shift);
}

// The clamp at the negative end: after a small negative weight (top byte 255), the map's largest
// weight, negative, at about -(2^31 - 400) on the point. v = round((exact - 255) / 256) is below
// -(2^23 - 1); the word takes v = -2^23 (W = -2^31 + 255, |W| < 2^31), within 256 of the exact
// value (at most 255.5), where clamping v to -(2^23 - 1) left it 463 away.
TEST(QuantizeLinearWords, StaysWithin256AtTheNegativeEnd) {
  mcuport::InputQuantization quantization;
  for (int f = 0; f < 2; ++f) quantization.features.push_back(mcuport::quantization_for_range({-1.0, 1.0}));
  const double scale = quantization.features[1].scale;
  for (const double target : {2147483646.0, 2147483600.0, 2147483400.0, 2147483300.0}) {
    const double x = std::ldexp(target, -40) / scale;  // the point turns out 2^40
    const std::vector<double> weight = {-x * 1e-5, -x};
    const mcuport::FixedLinear map = mcuport::quantize_linear_words(weight, {0.0}, quantization, {true, true});
    ASSERT_EQ(map.frac_bits, 40);
    ASSERT_EQ(static_cast<uint32_t>(map.weight[0]) >> 24, 255u);
    EXPECT_EQ(static_cast<uint32_t>(map.weight[1]) & 0xFFu, 255u);
    EXPECT_GT(map.weight[1], std::numeric_limits<int32_t>::min());
    const double exact = std::ldexp(weight[1] * scale, map.frac_bits);
    EXPECT_LE(std::fabs(static_cast<double>(map.weight[1]) - exact), 255.5) << "target " << target;
  }
}

// The accumulator bound is summed in integers. 32768 inputs of weight code 2^31 - 1 add about
// 2^61, where a double keeps multiples of 512 only, and the bias's code (a double of about 2^56,
// a multiple of 16) lost its low bits in a double sum: the bound missed the exact
// max_k |b_k| + 32768 sum_f |w_kf| by up to 256 either way (short by 16 and by 104 here).
TEST(QuantizeLinear, TheAccumulatorBoundIsExactBeyondADoublesPrecision) {
  const uint32_t n = 32768;
  mcuport::InputQuantization quantization;
  quantization.features.assign(n, mcuport::quantization_for_range({-1, 1}));
  const std::vector<double> weight(n, 1.0);
  int short_by_a_double = 0;
  for (const double b : {1000.123, -1234.5678, 777.0001, 1.0e3 / 3}) {
    const mcuport::FixedLinear map = mcuport::quantize_linear(weight, {b}, quantization, 31);
    const uint64_t exact = mcuport::row_accumulator_bound(map, 0);
    ASSERT_GT(exact, uint64_t{1} << 60);
    EXPECT_EQ(map.accumulator_bound, exact) << "bias " << b;
    // The case is one that a double sum gets wrong (else the test could not fail).
    double sum = std::fabs(static_cast<double>(map.bias[0]));
    for (const int32_t w : map.weight) sum += std::fabs(static_cast<double>(w)) * 32768.0;
    if (static_cast<uint64_t>(sum) != exact) ++short_by_a_double;
  }
  EXPECT_GT(short_by_a_double, 0);
}

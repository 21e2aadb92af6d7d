// The compact tree layout's two formats (counted leaves, leaf codes in the records): emit_trees
// chooses between them by the bytes of their tables counted without writing them, and writes
// only the one it keeps. These tests hold the counts equal to the bytes each format's tables
// take when written, for both formats, on forests of many shapes, so that the count and the
// writer cannot drift apart (a drift would change which format is kept, and so the C).
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "emit.hpp"
#include "mcuport/load.hpp"
#include "mcuport/lower.hpp"
#include "mcuport/target.hpp"
#include "test_files.hpp"

namespace {

using mcuport::Numeric;

// What a random forest document is made of.
struct ForestShape {
  std::string estimator = "RandomForestClassifier";
  uint32_t n_trees = 1;
  uint32_t max_depth = 4;
  double split_chance = 0.85;  // of a node above max_depth
  uint32_t n_features = 4;
  uint32_t n_classes = 3;      // 0: a regressor
  uint32_t threshold_pool = 0;  // thresholds drawn from this many values per feature; 0: any
  double pure_chance = 0.5;     // of a leaf: one class only
  double zero_chance = 0.0;     // of a leaf: all weights 0
  bool nan_left = false;        // missing_go_to_left, random per split
  uint32_t seed = 1;
};

// A model document of a random forest (nodes numbered breadth first: every child after its
// parent, as the loader requires).
std::string forest_document(const ForestShape& shape) {
  std::mt19937 random(shape.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto below = [&](uint32_t n) {
    return std::uniform_int_distribution<uint32_t>(0, n - 1)(random);
  };
  const bool classifier = shape.n_classes != 0;
  std::ostringstream out;
  out << std::setprecision(17);
  out << "{\"format\": \"mcuport-model\", \"format_version\": 1, \"producer\": \"test\", "
         "\"kind\": \"tree_ensemble\", \"estimator\": \""
      << shape.estimator << "\", \"task\": \""
      << (classifier ? "classification" : "regression") << "\", \"n_features\": "
      << shape.n_features << ", ";
  if (classifier) {
    out << "\"classes\": [";
    for (uint32_t c = 0; c < shape.n_classes; ++c) out << (c ? ", " : "") << c;
    out << "], ";
  }
  out << "\"input_ranges\": [";
  for (uint32_t f = 0; f < shape.n_features; ++f) out << (f ? ", " : "") << "[0.0, 100.0]";
  out << "], \"params\": {\"trees\": [";
  for (uint32_t t = 0; t < shape.n_trees; ++t) {
    std::vector<int64_t> left{-1};
    std::vector<int64_t> right{-1};
    std::vector<uint32_t> depth{0};
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (depth[i] < shape.max_depth && (i == 0 || unit(random) < shape.split_chance)) {
        for (int side = 0; side < 2; ++side) {
          (side == 0 ? left : right)[i] = static_cast<int64_t>(left.size());
          left.push_back(-1);
          right.push_back(-1);
          depth.push_back(depth[i] + 1);
        }
      }
    }
    std::ostringstream feature;
    std::ostringstream threshold;
    std::ostringstream value;
    std::ostringstream nan_left;
    for (std::size_t i = 0; i < left.size(); ++i) {
      const char* sep = i ? ", " : "";
      const bool leaf = left[i] < 0;
      const uint32_t f = below(shape.n_features);
      feature << sep << (leaf ? -2 : static_cast<int64_t>(f));
      threshold << sep
                << (leaf ? -2.0
                    : shape.threshold_pool != 0
                        ? 0.5 + 3.0 * f + 7.25 * below(shape.threshold_pool)
                        : 100.0 * unit(random));
      nan_left << sep << (shape.nan_left && !leaf ? below(2) : 0);
      value << sep;
      if (!leaf) {
        value << "null";
      } else if (!classifier) {
        value << "[" << 50.0 * unit(random) - 10.0 << "]";
      } else {
        std::vector<double> weights(shape.n_classes, 0.0);
        const double kind = unit(random);
        if (kind < shape.zero_chance) {
          // all zero
        } else if (kind < shape.zero_chance + shape.pure_chance) {
          weights[below(shape.n_classes)] = 1.0 + below(20);
        } else {
          const uint32_t nonzero = 2 + below(shape.n_classes - 1);
          for (uint32_t k = 0; k < nonzero; ++k) weights[below(shape.n_classes)] += 1 + below(9);
        }
        value << "[";
        for (uint32_t c = 0; c < shape.n_classes; ++c) value << (c ? ", " : "") << weights[c];
        value << "]";
      }
    }
    out << (t ? ", " : "") << "{\"children_left\": [";
    for (std::size_t i = 0; i < left.size(); ++i) out << (i ? ", " : "") << left[i];
    out << "], \"children_right\": [";
    for (std::size_t i = 0; i < right.size(); ++i) out << (i ? ", " : "") << right[i];
    out << "], \"feature\": [" << feature.str() << "], \"threshold\": [" << threshold.str()
        << "], \"value\": [" << value.str() << "], \"missing_go_to_left\": [" << nan_left.str()
        << "]}";
  }
  out << "]}}";
  return out.str();
}

struct Variant {
  Numeric numeric;
  uint32_t proba_bits;
};
constexpr Variant kVariants[] = {{Numeric::Fixed, 16}, {Numeric::Fixed, 8}, {Numeric::Float, 16}};

// How often each format was kept, and how often a format's records had their 16-bit threshold
// first (with a 16-bit low part), over the documents checked.
struct Kept {
  int counted = 0;
  int coded = 0;
  int threshold_first = 0;
  int low16 = 0;
};

// The counted and the written bytes of both formats, in every numeric mode and probability
// width, where int is 32 bits and where it is 16 (there a record whose threshold goes first has
// a 16-bit low part).
void expect_counts_equal_tables(const std::string& what, const std::string& document,
                                Kept& kept) {
  const mcuport::Model model = mcuport::load_model(document);
  for (const char* target : {"host", "avr-atmega328p"})
  for (const Variant& variant : kVariants) {
    mcuport::LowerOptions options;
    options.proba_bits = variant.proba_bits;
    const mcuport::LoweredModel lowered = mcuport::lower(model, variant.numeric, options);
    const auto& program = std::get<mcuport::TreeProgram>(lowered.program);
    const mcuport::codegen::EmitContext context{
        model,
        mcuport::find_target(target),
        variant.numeric,
        "m",
        "M",
        lowered.quantization ? &*lowered.quantization : nullptr,
        nullptr,
        mcuport::TreeLayout::Compact};
    const mcuport::codegen::CompactFormatBytes bytes =
        mcuport::codegen::compact_format_bytes(context, program);
    const std::string where = what + (variant.numeric == Numeric::Fixed ? ", fixed " : ", float ") +
                              std::to_string(variant.proba_bits) + "-bit, " + target;
    EXPECT_EQ(bytes.predicted[0], bytes.written[0]) << where << ": counted leaves";
    EXPECT_EQ(bytes.predicted[1], bytes.written[1]) << where << ": leaf codes";
    EXPECT_GT(bytes.written[0], 0u) << where;
    EXPECT_GT(bytes.written[1], 0u) << where;
    (bytes.coded ? kept.coded : kept.counted) += 1;
    for (int format = 0; format < 2; ++format) {
      kept.threshold_first += bytes.threshold_first[format] ? 1 : 0;
      kept.low16 += bytes.low16[format] ? 1 : 0;
      EXPECT_EQ(bytes.low16[format],
                bytes.threshold_first[format] && std::string(target) != "host")
          << where << ", format " << format;
    }
  }
}

TEST(CompactFormats, CountedBytesAreTheWrittenTablesOnRandomForests) {
  std::vector<ForestShape> shapes;
  // Probability forests: shallow and deep, few and many trees and classes, pure and mixed
  // leaves (pairs of codes that do not fit their record, per-tree bases), all-zero leaves,
  // NaN-left bits, few distinct thresholds (the code less the smallest one) or many.
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    ForestShape s;
    s.seed = seed;
    s.n_trees = 1 + (seed * 7) % 40;
    s.max_depth = 2 + (seed * 5) % 11;
    s.split_chance = seed % 3 == 0 ? 0.95 : 0.75;
    s.n_features = 1 + (seed * 13) % 70;
    s.n_classes = 2 + (seed * 3) % 14;
    s.threshold_pool = seed % 4 == 0 ? 0 : 1 + seed % 5;
    s.pure_chance = seed % 2 == 0 ? 0.9 : 0.3;
    s.zero_chance = seed % 5 == 0 ? 0.05 : 0.0;
    s.nan_left = seed % 3 == 1;
    shapes.push_back(s);
  }
  {
    ForestShape s;  // every leaf pure: no entries at all
    s.n_trees = 30;
    s.max_depth = 9;
    s.pure_chance = 1.0;
    s.seed = 101;
    shapes.push_back(s);
  }
  {
    ForestShape s;  // many mixed leaves per tree: codes far beyond a tree's payload
    s.n_trees = 25;
    s.max_depth = 7;
    s.split_chance = 1.0;
    s.n_classes = 12;
    s.pure_chance = 0.05;
    s.seed = 102;
    shapes.push_back(s);
  }
  {
    ForestShape s;  // a single tree that is one leaf (a split with that leaf on both sides)
    s.n_trees = 3;
    s.max_depth = 0;
    s.seed = 103;
    shapes.push_back(s);
  }
  {
    ForestShape s;  // a regressor: leaves are values, no entries
    s.n_classes = 0;
    s.estimator = "RandomForestRegressor";
    s.n_trees = 12;
    s.max_depth = 8;
    s.seed = 104;
    shapes.push_back(s);
  }
  Kept kept;
  for (const ForestShape& shape : shapes) {
    const std::string what = "forest of seed " + std::to_string(shape.seed);
    expect_counts_equal_tables(what, forest_document(shape), kept);
  }
  // The comparison decides something here: each format is kept somewhere.
  EXPECT_GT(kept.counted, 0);
  EXPECT_GT(kept.coded, 0);
  EXPECT_GT(kept.low16, 0);
}

TEST(CompactFormats, CountedBytesAreTheWrittenTablesOnTheGoldenForests) {
  Kept kept;
  for (const char* stem : {"random_forest_classifier_compact", "random_forest_leaf_codes_compact",
                           "random_forest_regressor_compact", "tree_nan_left_compact",
                           "decision_tree_numeric_labels_compact",
                           "random_forest_threshold_first_compact"}) {
    const std::string path = std::string(MCUPORT_SOURCE_DIR "/tests/golden/") + stem + ".json";
    expect_counts_equal_tables(stem, read_file(path), kept);
  }
  EXPECT_GT(kept.low16, 0);
}

}  // namespace

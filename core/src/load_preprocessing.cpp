// Loader of "preprocessing": the pipeline stages in front of the estimator (scalers and PCA).
#include <string>

#include "families.hpp"
#include "mcuport/error.hpp"
#include "mcuport/limits.hpp"

namespace mcuport::detail {

namespace {

std::vector<double> positive_scale(const JsonCursor& cursor, std::size_t n) {
  std::vector<double> scale = cursor.as_finite_array(n);
  for (std::size_t f = 0; f < n; ++f) {
    if (!(scale[f] > 0)) cursor.at(f).fail("a scale must be > 0, got " + cursor.at(f).describe());
  }
  return scale;
}

FeatureScaler load_scaler(const JsonCursor& stage, const std::string& kind, std::size_t n) {
  FeatureScaler scaler;
  if (kind == "standard_scaler") {
    stage.expect_keys({"kind", "mean", "scale"});
    scaler.kind = FeatureScaler::Kind::Standard;
    if (auto mean = stage.find("mean")) scaler.offset = mean->as_finite_array(n);
    if (auto scale = stage.find("scale")) scaler.scale = positive_scale(*scale, n);
  } else if (kind == "minmax_scaler") {
    stage.expect_keys({"kind", "scale", "min", "clip"});
    scaler.kind = FeatureScaler::Kind::MinMax;
    scaler.scale = positive_scale(stage.at("scale"), n);
    scaler.offset = stage.at("min").as_finite_array(n);
    if (auto clip = stage.find("clip")) {
      const std::vector<double> range = clip->as_finite_array(2);
      if (!(range[0] < range[1])) clip->fail("clip must be [low, high] with low < high, got " + clip->json().dump());
      scaler.clip = true;
      scaler.clip_lo = range[0];
      scaler.clip_hi = range[1];
    }
  } else {
    stage.expect_keys({"kind", "scale"});
    scaler.kind = FeatureScaler::Kind::MaxAbs;
    scaler.scale = positive_scale(stage.at("scale"), n);
  }
  return scaler;
}

}  // namespace

std::vector<Stage> load_preprocessing(const JsonCursor& cursor, std::size_t n_features,
                                      std::size_t& n_outputs) {
  const std::size_t n_stages = cursor.expect_array(0, limits::kMaxStages);
  std::vector<Stage> stages;
  std::size_t width = n_features;
  for (std::size_t i = 0; i < n_stages; ++i) {
    const JsonCursor stage = cursor.at(i);
    stage.expect_object();
    const JsonCursor kind_cursor = stage.at("kind");
    const std::string kind = kind_cursor.as_string(limits::kMaxStringBytes);
    if (kind == "standard_scaler" || kind == "minmax_scaler" || kind == "maxabs_scaler") {
      stages.emplace_back(load_scaler(stage, kind, width));
    } else if (kind == "pca") {
      Pca pca = load_pca(stage, width, true);
      width = pca.n_components();
      stages.emplace_back(std::move(pca));
    } else {
      kind_cursor.fail("unknown preprocessing stage " + kind_cursor.describe() +
                       " (known: standard_scaler, minmax_scaler, maxabs_scaler, pca)");
    }
  }
  n_outputs = width;
  return stages;
}

}  // namespace mcuport::detail

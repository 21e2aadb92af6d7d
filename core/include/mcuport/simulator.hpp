// The integer arithmetic of fixed-mode generated code, run inside the core: what the chip will
// answer, without a cross compiler. It executes the same lowered program the C emitters print,
// operation for operation; a differential test holds the two to bit-identical outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcuport/ir.hpp"
#include "mcuport/lower.hpp"

namespace mcuport {

class Simulator {
 public:
  // Loads, validates, analyses and lowers a model document exactly as port() does in fixed mode
  // (with the same options: port()'s proba_bits is lower_options.proba_bits).
  explicit Simulator(const std::string& model_json, const LowerOptions& lower_options = {});

  const ModelInfo& info() const { return model_.info; }
  const InputQuantization& quantization() const { return *lowered_.quantization; }
  // The length of the score vector (the C code's scores function), and the real value of one
  // unit of it (1 / PROBA_ONE, 2^-SCORE_FRAC_BITS, ...).
  uint32_t n_scores() const;
  double score_unit() const;
  // For regressors: the real value of one unit of predict()'s result (2^-OUTPUT_FRAC_BITS).
  double output_unit() const;

  // <name>_quantize: float inputs to int16 codes, with the same double arithmetic.
  void quantize(const float* x, int16_t* codes) const;
  // <name>_predict on codes: class index, +1/-1, or the regressor's integer output.
  int64_t predict(const int16_t* codes) const;
  // The scores function on codes: the same integers the generated code writes.
  void scores(const int16_t* codes, int64_t* out) const;

 private:
  // The codes the family's program reads: the caller's, or the pipeline stage's outputs.
  const int16_t* staged(const int16_t* codes, std::vector<int16_t>& buffer) const;

  Model model_;
  LoweredModel lowered_;
};

}  // namespace mcuport

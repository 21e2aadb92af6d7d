// Numeric analysis of inputs and thresholds: the float32 and int16 views of the model's inputs.
//
// The fixed-point input contract. Feature f arrives as an int16 q; the value it stands for is
//     real(q) = scale_f * (q - zero_point_f)        (evaluated in IEEE double)
// and the model decides as scikit-learn does on float32(real(q)), which is what scikit-learn
// itself computes when it is given real(q) (it casts inputs to float32). scale_f and zero_point_f
// are chosen per feature so that q = -32768 stands for the range's low end and q = 32767 for its
// high end (for tree models, at or just beyond them: choose_input_quantization); inputs outside
// the range saturate to those codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mcuport/ir.hpp"

namespace mcuport {

struct FeatureQuantization {
  double lo = 0;          // the range the 65536 codes cover
  double hi = 0;
  double scale = 1;       // real units per code, > 0
  double zero_point = 0;  // the (real-valued) code that stands for 0.0
};

enum class RangeSource { InputRanges, SplitThresholds };

// How a model document gets the input ranges fixed mode needs, for the errors that ask for them
// (read by Python users and by the command line's).
inline constexpr const char* kInputRangesAdvice =
    "in Python, pass calibration=X_train (or input_ranges=) to port(), load() or to_json(), which "
    "writes them into the document as input_ranges; or port in float mode";

struct InputQuantization {
  std::vector<FeatureQuantization> features;
  RangeSource source = RangeSource::InputRanges;
  bool placed = false;  // a tree model's codes were placed for its thresholds (some feature's)
};

// The largest float32 that is not above `value` (which must lie within the float32 range), so
// that for every float32 x:  x <= value  <=>  x <= largest_float_not_above(value).
float largest_float_not_above(double value);

FeatureQuantization quantization_for_range(const InputRange& range);

double dequantize(const FeatureQuantization& quantization, int32_t code);
float dequantize_to_float32(const FeatureQuantization& quantization, int32_t code);

// The largest code q in [-32768, 32767] with float32(real(q)) <= threshold, or -32769 when no
// code satisfies it. Because real() is monotonic, `q <= result` then decides exactly as
// `float32(real(q)) <= threshold` does, for every int16 q.
int32_t quantize_threshold(const FeatureQuantization& quantization, double threshold);

// The per-feature quantization of a model: from its "input_ranges" where it has them; a tree
// model without them gets the span of its split thresholds (widened by 1%), which keeps every
// split decidable whatever the input, saturated or not. Other families need ranges. A tree
// model (without a preprocessing stage) may have a feature's codes cover up to 256 codes' worth
// more than its range, placed so that its most visited thresholds are codes of at most 8
// significant bits (immediate operands of a Thumb-2 compare); see quantize.cpp.
InputQuantization choose_input_quantization(const Model& model);

}  // namespace mcuport

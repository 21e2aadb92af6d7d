// Fixed-point affine maps on quantized inputs: out_k = bias_k + sum_f weight_kf x_f, evaluated on
// int16 codes (x_f = scale_f (q_f - zero_point_f)) with int16 weights and an integer accumulator
// whose width is proven from the tables. Shared by every family that is linear in its inputs.
#pragma once

#include <cstdint>
#include <vector>

#include "mcuport/quantize.hpp"

namespace mcuport {

struct FixedLinear {
  uint32_t n_outputs = 0;
  uint32_t n_features = 0;
  // out_k * 2^frac_bits ~= bias[k] + sum_f weight[k][f] * q_f
  std::vector<int32_t> weight;  // n_outputs x n_features, |weight| < 2^weight_bits
  int weight_bits = 15;         // 15: int16 x int16 products; 23 or 31: int32 x int16 in int64
  std::vector<int64_t> bias;    // n_outputs
  int frac_bits = 0;
  // The largest |bias_k + sum_f weight_kf q_f| over all int16 codes: the accumulator never
  // exceeds it; `wide` says it needs int64 (else int32 suffices).
  uint64_t accumulator_bound = 0;
  bool wide = false;
  // Bound on |out_k - exact out_k| in real units, for every int16 input: the largest over k of
  // sum_f |weight rounding residual| * 32768 plus the bias's residual, times 2^-frac_bits (the
  // residuals are known at port time: at most 0.5 each). row_error_bound[k] is row k's own
  // (n_outputs of them).
  double error_bound = 0;
  std::vector<double> row_error_bound;
  // Maps whose outputs are never compared with each other (PCA), or are brought to one format
  // after each row's own shift (Mahalanobis components), may put each row on its own binary
  // point: row k is then in units of 2^-row_frac_bits[k] (frac_bits is the coarsest). Empty:
  // every row on frac_bits.
  std::vector<int> row_frac_bits;
  // quantize_linear_words: the weights the code reads (`stored`), in order, are the
  // little-endian int32 words at bytes 0, 3, 6, ... of one byte stream, so that each one's low
  // byte is the previous one's top byte (31-bit weights, 24 bits of precision, 3 bytes each).
  bool overlapping_words = false;
};

// `weight` is n_outputs x n_features (row-major) in real units of the inputs. Throws
// mcuport::Error when the folded bias cannot be held (input ranges absurdly far from zero).
// weight_bits 15 (int16 weights, cheap products), 23 (an int16 high part and a byte: products
// that sum in int32 where a core has no 32 x 32 -> 64 multiply) or 31 (int32 weights, for
// ill-conditioned uses such as a kernel argument that is raised to a power).
// int32_accumulator (15-bit weights): the finest binary point at which the accumulator bound
// stays below 2^31, so that the sums need no int64 (fewer weight bits).
// first_output numbers the outputs in error messages (a row quantized alone names itself).
FixedLinear quantize_linear(const std::vector<double>& weight, const std::vector<double>& bias,
                            const InputQuantization& quantization, int weight_bits = 15,
                            bool int32_accumulator = false, uint32_t first_output = 0);

// Every row on its own binary point (quantize_linear of that row alone): for outputs that are not
// compared with each other, a row of small weights keeps all its bits.
FixedLinear quantize_linear_rows(const std::vector<double>& weight, const std::vector<double>& bias,
                                 const InputQuantization& quantization, int weight_bits,
                                 bool int32_accumulator);

// 31-bit weights in 3 bytes each: the weights marked in `stored` (n_outputs x n_features, the
// others must be zero), taken in row-major order, are W_0, W_1, ... with W_i's low byte equal to
// W_(i-1)'s top byte (W_0's is free), each the nearest such integer to the exact weight at the
// 31-bit binary point: within 128 (less than 256 at the ends of the range) of it, as 24-bit weights are
// within 0.5 of theirs. Offsets, point and checks as quantize_linear(..., 31); the error
// bounds are the actual roundings'.
FixedLinear quantize_linear_words(const std::vector<double>& weight, const std::vector<double>& bias,
                                  const InputQuantization& quantization,
                                  const std::vector<bool>& stored);

// Row k's accumulator bound, |bias_k| + 32768 sum_f |weight_kf|: the largest |row k| over int16
// inputs, exact in integers (below 2^62, as quantize_linear ensures).
uint64_t row_accumulator_bound(const FixedLinear& map, uint32_t k);

// The same arithmetic the generated code runs, for the simulator: all outputs, or output k.
void evaluate_fixed_linear(const FixedLinear& map, const int16_t* codes, int64_t* out);
int64_t evaluate_fixed_linear_row(const FixedLinear& map, const int16_t* codes, uint32_t k);

}  // namespace mcuport

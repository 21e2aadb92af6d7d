// The fixed-point runtime compiled as on Cortex-M0 (MCUPORT_FX_MUL32_ONLY: 32 x 32 -> 64 products
// from 16-bit halves), in its own translation unit; test_fixed_math.cpp holds it to the same bits
// as the ordinary build.
#define MCUPORT_FX_MUL32_ONLY 1
#include "../../codegen/runtime/mcuport_fixed.h"

#include <cstdint>

namespace mcuport_test_mul32_only {

int32_t exp_neg(int64_t t_q, int frac_bits) { return mcuport_fx_exp_neg(t_q, frac_bits); }
int32_t tanh(int64_t x_q, int frac_bits) { return mcuport_fx_tanh(x_q, frac_bits); }
uint64_t mul_u32(uint32_t a, uint32_t b) { return mcuport_fx_mul_u32(a, b); }
int64_t mul_i32(int32_t a, int32_t b) { return mcuport_fx_mul_i32(a, b); }

}  // namespace mcuport_test_mul32_only

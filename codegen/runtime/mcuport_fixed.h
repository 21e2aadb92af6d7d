/*
 * mcuport fixed-point runtime: integer-only math kernels for generated model headers.
 *
 * Generated headers paste this text verbatim (the C++ core embeds it at build time), so the
 * include guard lets several models share one copy in a translation unit. It is C99 and C++11,
 * uses no floating point, no division and no library call; on a core without a 32x32->64
 * multiplier the 32 x 32 -> 64 products are built from 16-bit halves (mcuport_fx_mul_u32).
 * core/src/fixed_math.cpp mirrors it operation for operation; the tests hold the two to the same
 * bits and measure the errors quoted below. docs/fixed-point.md explains the design.
 *
 * Q formats: a value written "Qf" is the integer v standing for v / 2^f. Results are Q30, so
 * 1.0 is exactly MCUPORT_FX_ONE_Q30. Arguments are Q`frac_bits` with frac_bits in
 * [MCUPORT_FX_MIN_FRAC_BITS, MCUPORT_FX_MAX_FRAC_BITS]; other frac_bits return 0.
 *
 * Rounding is round half away from zero wherever a value is narrowed; the kernels narrow only
 * non-negative values, where that is round half up. Every right shift is of an unsigned value,
 * so nothing depends on implementation-defined behaviour, and no operation can overflow.
 */
#ifndef MCUPORT_FIXED_H
#define MCUPORT_FIXED_H

#include <stdint.h>

/* Bumped whenever a result of this file changes; a generated header can check it. */
#define MCUPORT_FX_RUNTIME_VERSION 1

/* Where the runtime's one table lives: in flash, read with pgm_read_dword, on AVR (a header
 * generated for such a target defines both macros before this file); plain const data elsewhere. */
#ifndef MCUPORT_FX_ROM
#define MCUPORT_FX_ROM
#define MCUPORT_FX_ROM_U32(address) (*(address))
#endif

/* Cores whose only multiply is 32 x 32 -> 32 (Cortex-M0, M0+, M23): there a 64-bit product is a
 * call to the compiler's 64 x 64 helper (__aeabi_lmul), so mcuport_fx_mul_u32 builds the 32 x 32
 * -> 64 products from 16-bit halves instead. Same integers either way; a test may force it. */
#ifndef MCUPORT_FX_MUL32_ONLY
#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__)
#define MCUPORT_FX_MUL32_ONLY 1
#else
#define MCUPORT_FX_MUL32_ONLY 0
#endif
#endif

#define MCUPORT_FX_ONE_Q30 INT32_C(1073741824) /* 1.0 in Q30 */
#define MCUPORT_FX_MIN_FRAC_BITS 8
#define MCUPORT_FX_MAX_FRAC_BITS 40

/* value / 2^shift rounded half up. shift <= 0 returns value; shift > 64 returns 0. */
static inline uint64_t mcuport_fx_round_shift_u64(uint64_t value, int shift) {
    if (shift <= 0) {
        return value;
    }
    if (shift > 64) {
        return 0u;
    }
    /* Adding half first could overflow; the bit below the cut is the same rounding. Two shifts
     * keep shift == 64 defined. */
    return ((value >> (shift - 1)) >> 1) + ((value >> (shift - 1)) & 1u);
}

/* value / 2^shift rounded half away from zero, computed on the magnitude (so the result is
 * symmetric and no negative value is shifted). shift <= 0 returns value. */
static inline int64_t mcuport_fx_round_shift_i64(int64_t value, int shift) {
    uint64_t magnitude;
    if (shift <= 0) {
        return value;
    }
    magnitude = mcuport_fx_round_shift_u64(value < 0 ? 0u - (uint64_t)value : (uint64_t)value,
                                           shift); /* <= 2^62 */
    return value < 0 ? -(int64_t)magnitude : (int64_t)magnitude;
}

/* a * b, exact, for unsigned 32-bit a and b. Where the only multiply is 32 x 32 -> 32: four
 * products of 16-bit halves, each below 2^32, and the middle two summed in 64 bits. */
static inline uint64_t mcuport_fx_mul_u32(uint32_t a, uint32_t b) {
#if MCUPORT_FX_MUL32_ONLY
    const uint32_t al = a & UINT32_C(0xFFFF);
    const uint32_t ah = a >> 16;
    const uint32_t bl = b & UINT32_C(0xFFFF);
    const uint32_t bh = b >> 16;
    const uint64_t middle = (uint64_t)(al * bh) + (uint64_t)(ah * bl); /* < 2^33 */
    return ((uint64_t)(ah * bh) << 32) + (middle << 16) + (uint64_t)(al * bl);
#else
    return (uint64_t)a * b;
#endif
}

/* a * b, exact, for signed 32-bit a and b (the product of the magnitudes, signed). */
static inline int64_t mcuport_fx_mul_i32(int32_t a, int32_t b) {
#if MCUPORT_FX_MUL32_ONLY
    const uint64_t magnitude = mcuport_fx_mul_u32(a < 0 ? 0u - (uint32_t)a : (uint32_t)a,
                                                  b < 0 ? 0u - (uint32_t)b : (uint32_t)b);
    /* <= 2^62: the negation cannot overflow */
    return (a < 0) != (b < 0) ? -(int64_t)magnitude : (int64_t)magnitude;
#else
    return (int64_t)a * b;
#endif
}

/* value clamped to [INT32_MIN, INT32_MAX]. */
static inline int32_t mcuport_fx_saturate_i32(int64_t value) {
    if (value > INT32_MAX) {
        return INT32_MAX;
    }
    if (value < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)value;
}

/* One unsigned Horner step b - g r: the product is Q(s_g + 32), rounded half up by `shift` to b's
 * Q format, as mcuport_fx_round_shift_u64 does. The polynomials below keep it non-negative and
 * below 2^32, and g r < 0.7 * 2^64 (r <= ln2 in Q32), so adding half first cannot wrap. A macro,
 * so that every shift is a constant the compiler folds: as a function, gcc -Os called it with a
 * variable 64-bit shift (on Cortex-M0 a library call). */
#define MCUPORT_FX_HORNER_STEP(b, g, r, shift) \
    ((uint32_t)(b) - (uint32_t)((mcuport_fx_mul_u32((g), (r)) + (UINT64_C(1) << ((shift) - 1))) >> (shift)))

/* Shared core of the kernels: exp(-t) = y * 2^-halvings with y in (1/2, 1], for t in Q40 and
 * 0 <= t < 23. Returns y in Q63 and halvings (0 .. 33).
 *
 * Range reduction t = n ln2 + r with 0 <= r < ln2 makes exp(-t) = exp(-r) 2^-n. Then
 * exp(-r) = 1 - r (b1 - r (b2 - r (... - r b7))): a degree-7 minimax polynomial whose inner
 * values stay positive on [0, ln2], so Horner's rule runs in unsigned 32-bit words, each in the
 * Q format that gives it the most bits (Q31 .. Q44). */
typedef struct {
    uint64_t y_q63;
    int halvings;
} mcuport_fx_exp_core;

static inline mcuport_fx_exp_core mcuport_fx_exp_neg_q40(uint64_t t_q40) {
    mcuport_fx_exp_core result;
    const uint64_t ln2_q40 = UINT64_C(762123384786); /* 0.6931471805599453 */
    /* n from 21 bits of t times 1477 / 2^10 (just below 1 / ln2): n or n - 1; one correction. */
    const uint32_t t_q16 = (uint32_t)(t_q40 >> 24);       /* < 23 * 2^16 */
    uint32_t n = (t_q16 * UINT32_C(1477)) >> 26;          /* product < 2^32 */
    /* n ln2 with ln2_q40 = 177 2^32 + 1914173394: n < 34, so n 177 fits 32 bits. */
    uint64_t r_q40 = t_q40 - (((uint64_t)(n * 177u) << 32) + mcuport_fx_mul_u32(n, UINT32_C(1914173394)));
    uint32_t r;
    uint32_t g;
    if (r_q40 >= ln2_q40) {
        r_q40 -= ln2_q40;
        n += 1u;
    }
    r = (uint32_t)mcuport_fx_round_shift_u64(r_q40, 8); /* Q32, <= ln2 */
    /* g_k = b_k - r g_(k+1), each in the Q format s_k beside its coefficient. */
    g = UINT32_C(2484784244);                                 /* b7 Q44 = 1.4124363e-4 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2922687261), g, r, 35); /* b6 Q41 = 1.3290843e-3 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2281460761), g, r, 35); /* b5 Q38 = 8.2999059e-3 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2862597229), g, r, 34); /* b4 Q36 = 4.1656272e-2 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2863281659), g, r, 34); /* b3 Q34 = 0.16666493 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2147483054), g, r, 34); /* b2 Q32 = 0.49999986 */
    g = MCUPORT_FX_HORNER_STEP(UINT32_C(2147483640), g, r, 33); /* b1 Q31 = 0.99999999627 */
    result.halvings = (int)n;
    /* 1 - r g1 in Q63: the product is exact, and below 2^63 since g1 < 1 and r <= ln2. */
    result.y_q63 = (UINT64_C(1) << 63) - mcuport_fx_mul_u32(g, r);
    return result; /* returned by value, not through a pointer: gcc's AddressSanitizer reported
                    * stack-use-after-scope on such an out-parameter when inlined in a loop */
}

/* exp(-t) in Q30, for t = t_q / 2^frac_bits.
 * t <= 0 gives MCUPORT_FX_ONE_Q30 (exp(0) exactly; negative t saturates at one). t >= 22, where
 * exp(-t) < 2^-31.7, gives 0. Error: below 0.84 LSB (2^-30) for every input; documented as 1 LSB.
 * Cost: 8 multiplies with a 64-bit product (each an __aeabi_lmul call on Cortex-M0) and one
 * 32-bit multiply; no division, no table. */
static inline int32_t mcuport_fx_exp_neg(int64_t t_q, int frac_bits) {
    mcuport_fx_exp_core core;
    if (frac_bits < MCUPORT_FX_MIN_FRAC_BITS || frac_bits > MCUPORT_FX_MAX_FRAC_BITS) {
        return 0;
    }
    if (t_q <= 0) {
        return MCUPORT_FX_ONE_Q30;
    }
    if (t_q >= ((int64_t)22 << frac_bits)) {
        return 0;
    }
    core = mcuport_fx_exp_neg_q40((uint64_t)t_q << (40 - frac_bits));
    if (core.halvings >= 31) {
        return 0; /* exp(-t) <= 2^-31: half an LSB at most */
    }
    /* round(y / 2^(33 + n)) half up = (floor(y / 2^(32 + n)) + 1) / 2 rounded down, and
     * floor(y / 2^(32 + n)) is the high word of y (at most 2^31) shifted by n < 31: no 64-bit
     * shift by a variable amount (a library call on Cortex-M0). */
    return (int32_t)((((uint32_t)(core.y_q63 >> 32) >> core.halvings) + 1u) >> 1);
}

/* tanh(x) for x >= 0 given as two_x_q40 = 2x in Q40, 0 <= 2x < 22.25; result in Q30.
 *
 * With e = exp(-2x) and s = e / (1 + e), tanh x = (1 - e) / (1 + e) = 1 - 2s. The reciprocal
 * q = 1 / (1 + e) needs no division: a table of 33 chords of 1 / (1 + e) gives q0 >= q with
 * relative excess eps = (1 + e) q0 - 1 < 2^-12, and s = e q0 (1 - eps + eps^2) is exact but for
 * a relative eps^3 < 1.4e-11. */
static inline int32_t mcuport_fx_tanh_q40(uint64_t two_x_q40) {
    /* ceil(2^31 / (1 + i / 32)): rounded up, so every chord lies on or above 1 / (1 + e). */
    static const uint32_t reciprocal_q31[33] MCUPORT_FX_ROM = {
        UINT32_C(2147483648), UINT32_C(2082408386), UINT32_C(2021161081), UINT32_C(1963413622),
        UINT32_C(1908874354), UINT32_C(1857283156), UINT32_C(1808407283), UINT32_C(1762037866),
        UINT32_C(1717986919), UINT32_C(1676084799), UINT32_C(1636178018), UINT32_C(1598127366),
        UINT32_C(1561806290), UINT32_C(1527099484), UINT32_C(1493901669), UINT32_C(1462116527),
        UINT32_C(1431655766), UINT32_C(1402438301), UINT32_C(1374389535), UINT32_C(1347440721),
        UINT32_C(1321528399), UINT32_C(1296593901), UINT32_C(1272582903), UINT32_C(1249445032),
        UINT32_C(1227133514), UINT32_C(1205604856), UINT32_C(1184818565), UINT32_C(1164736894),
        UINT32_C(1145324613), UINT32_C(1126548799), UINT32_C(1108378658), UINT32_C(1090785346),
        UINT32_C(1073741824)};
    const mcuport_fx_exp_core core = mcuport_fx_exp_neg_q40(two_x_q40);
    const int halvings = core.halvings;
    /* e = y_q32 2^-halvings / 2^32 keeps 32 significant bits of e whatever its size. */
    const uint64_t y_q32 = mcuport_fx_round_shift_u64(core.y_q63, 31); /* <= 2^32 */
    const uint64_t e_q32 = y_q32 >> halvings; /* rounded down: then q0 >= 1 / (1 + e) */
    uint32_t segment;
    uint32_t q0_q31;
    uint64_t e_q0_q63;
    uint32_t eps_q44;
    uint32_t correction_q44;
    uint64_t s_q63;
    if (e_q32 > UINT32_C(0xFFFFFFFF)) {
        return 0; /* e = 1: x is below about 2^-33, where tanh x rounds to 0 */
    }
    segment = (uint32_t)(e_q32 >> 27);
    q0_q31 = MCUPORT_FX_ROM_U32(&reciprocal_q31[segment]);
    q0_q31 -= (uint32_t)(((uint64_t)(q0_q31 - MCUPORT_FX_ROM_U32(&reciprocal_q31[segment + 1u])) *
                          ((uint32_t)e_q32 & UINT32_C(0x7FFFFFF))) >> 27);
    e_q0_q63 = (y_q32 * q0_q31) >> halvings;
    /* (1 + e) q0 - 1 in Q63, >= 0 because q0 >= 1 / (1 + e); < 2^51, so Q44 fits 32 bits. */
    eps_q44 = (uint32_t)((((uint64_t)q0_q31 << 32) + e_q0_q63 - (UINT64_C(1) << 63)) >> 19);
    correction_q44 = eps_q44 - (uint32_t)(((uint64_t)eps_q44 * eps_q44) >> 44); /* eps - eps^2 */
    s_q63 = e_q0_q63 - mcuport_fx_round_shift_u64((e_q0_q63 >> 32) * correction_q44, 12);
    /* s < 1/2, so 2s in Q30 is at most one. */
    return MCUPORT_FX_ONE_Q30 - (int32_t)mcuport_fx_round_shift_u64(s_q63, 32);
}

/* tanh(x) in Q30, for x = x_q / 2^frac_bits. Odd: tanh(-x) = -tanh(x) bit for bit.
 * |x| >= 11.125, where 1 - tanh|x| < 0.47 LSB, gives +-MCUPORT_FX_ONE_Q30. Error: below 0.91 LSB
 * (2^-30) for every input; documented as 1 LSB. Cost: exp_neg's plus 4 multiplies with a 64-bit
 * product (12 in all) and a 132-byte table; no division. */
static inline int32_t mcuport_fx_tanh(int64_t x_q, int frac_bits) {
    const uint64_t magnitude = x_q < 0 ? 0u - (uint64_t)x_q : (uint64_t)x_q;
    int32_t tanh_magnitude;
    if (frac_bits < MCUPORT_FX_MIN_FRAC_BITS || frac_bits > MCUPORT_FX_MAX_FRAC_BITS) {
        return 0;
    }
    if (magnitude >= (UINT64_C(89) << (frac_bits - 3))) { /* 89 / 8 = 11.125 */
        tanh_magnitude = MCUPORT_FX_ONE_Q30;
    } else {
        tanh_magnitude = mcuport_fx_tanh_q40(magnitude << (41 - frac_bits)); /* 2|x| in Q40 */
    }
    return x_q < 0 ? -tanh_magnitude : tanh_magnitude;
}

#endif /* MCUPORT_FIXED_H */

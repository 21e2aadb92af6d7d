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
#define MCUPORT_FX_RUNTIME_VERSION 2

/* Where the runtime's tables live: in flash, read with pgm_read_dword, on AVR (a header
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

/* 8-bit AVR under avr-gcc: there the C compiler makes every 64-bit shift a call to a library loop
 * (45 to 135 cycles, whatever the constant), every 32-bit shift by other than whole bytes a loop
 * of a bit a turn at -Os, and every 32 x 32 -> 64 product a call to a 64 x 64 helper (about 300
 * cycles). There (MCUPORT_FX_AVR_ASM) the runtime's 32 x 32 -> 64 products are sixteen MUL
 * instructions, and its shifts by a constant move whole bytes, then shift the bytes that can
 * still hold bits: the same integers in a fraction of the cycles. The amounts given to the shift
 * macros are literals below the value's width (the assembler computes with them). Define
 * MCUPORT_FX_AVR_ASM as 0 to compile the plain C instead. */
#ifndef MCUPORT_FX_AVR_ASM
#if defined(__AVR__) && defined(__GNUC__) && !defined(__clang__)
#define MCUPORT_FX_AVR_ASM 1
#else
#define MCUPORT_FX_AVR_ASM 0
#endif
#endif

#if MCUPORT_FX_AVR_ASM
/* Assembler text shifting operand 0 (of `bytes` bytes) right by n. With n % 8 up to 4: byte i
 * takes byte i + n / 8 (or zero, from the bottom up), then n % 8 steps of one bit run over the
 * bytes that can still hold bits. With n % 8 from 5 to 7 it is fewer steps to move one byte
 * further and come back 8 - n % 8 bits to the left, the byte moved out (kept in avr-gcc's
 * __tmp_reg__) giving back its top bits. */
#define MCUPORT_FX_AVR_SHR_TEXT(n, bytes)                                                          \
    ".if ((" #n ") & 7) > 4\n\t"                                                                   \
    "mov __tmp_reg__, %r0+((" #n ") / 8)\n\t"                                                      \
    ".irp i,0,1,2,3,4,5,6,7\n\t"                                                                   \
    ".if \\i < " #bytes "\n\t"                                                                     \
    ".if \\i + ((" #n ") / 8) + 1 < " #bytes "\n\t"                                                \
    "mov %r0+\\i, %r0+\\i+((" #n ") / 8)+1\n\t"                                                    \
    ".else\n\t"                                                                                    \
    "clr %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".rept 8 - ((" #n ") & 7)\n\t"                                                                 \
    "lsl __tmp_reg__\n\t"                                                                          \
    ".irp i,0,1,2,3,4,5,6,7\n\t"                                                                   \
    ".if \\i < " #bytes " - ((" #n ") / 8)\n\t"                                                    \
    "rol %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".endr\n\t"                                                                                    \
    ".else\n\t"                                                                                    \
    ".irp i,0,1,2,3,4,5,6,7\n\t"                                                                   \
    ".if (\\i < " #bytes ") && (((" #n ") / 8) > 0)\n\t"                                           \
    ".if \\i + ((" #n ") / 8) < " #bytes "\n\t"                                                    \
    "mov %r0+\\i, %r0+\\i+((" #n ") / 8)\n\t"                                                      \
    ".else\n\t"                                                                                    \
    "clr %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".rept ((" #n ") & 7)\n\t"                                                                     \
    ".irp i,7,6,5,4,3,2,1,0\n\t"                                                                   \
    ".if \\i == " #bytes " - 1 - ((" #n ") / 8)\n\t"                                               \
    "lsr %r0+\\i\n\t"                                                                              \
    ".elseif \\i < " #bytes " - 1 - ((" #n ") / 8)\n\t"                                            \
    "ror %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".endr\n\t"                                                                                    \
    ".endif"
/* The same to the left: byte i takes byte i - n / 8, or zero, from the top down; with n % 8 from 5
 * to 7, one byte further, and 8 - n % 8 bits back to the right. */
#define MCUPORT_FX_AVR_SHL_TEXT(n, bytes)                                                          \
    ".if ((" #n ") & 7) > 4\n\t"                                                                   \
    "mov __tmp_reg__, %r0+" #bytes "-1-((" #n ") / 8)\n\t"                                         \
    ".irp i,7,6,5,4,3,2,1,0\n\t"                                                                   \
    ".if \\i < " #bytes "\n\t"                                                                     \
    ".if \\i >= ((" #n ") / 8) + 1\n\t"                                                            \
    "mov %r0+\\i, %r0+\\i-((" #n ") / 8)-1\n\t"                                                    \
    ".else\n\t"                                                                                    \
    "clr %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".rept 8 - ((" #n ") & 7)\n\t"                                                                 \
    "lsr __tmp_reg__\n\t"                                                                          \
    ".irp i,7,6,5,4,3,2,1,0\n\t"                                                                   \
    ".if (\\i < " #bytes ") && (\\i >= ((" #n ") / 8))\n\t"                                        \
    "ror %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".endr\n\t"                                                                                    \
    ".else\n\t"                                                                                    \
    ".irp i,7,6,5,4,3,2,1,0\n\t"                                                                   \
    ".if (\\i < " #bytes ") && (((" #n ") / 8) > 0)\n\t"                                           \
    ".if \\i >= ((" #n ") / 8)\n\t"                                                                \
    "mov %r0+\\i, %r0+\\i-((" #n ") / 8)\n\t"                                                      \
    ".else\n\t"                                                                                    \
    "clr %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".rept ((" #n ") & 7)\n\t"                                                                     \
    ".irp i,0,1,2,3,4,5,6,7\n\t"                                                                   \
    ".if \\i == ((" #n ") / 8)\n\t"                                                                \
    "lsl %r0+\\i\n\t"                                                                              \
    ".elseif (\\i > ((" #n ") / 8)) && (\\i < " #bytes ")\n\t"                                     \
    "rol %r0+\\i\n\t"                                                                              \
    ".endif\n\t"                                                                                   \
    ".endr\n\t"                                                                                    \
    ".endr\n\t"                                                                                    \
    ".endif"
#define MCUPORT_FX_SHR64(value, n)                                                                 \
    (__extension__({                                                                               \
        uint64_t mcuport_fx_shr64_ = (uint64_t)(value);                                            \
        __asm__(MCUPORT_FX_AVR_SHR_TEXT(n, 8) : "+r"(mcuport_fx_shr64_));                          \
        mcuport_fx_shr64_;                                                                         \
    }))
#define MCUPORT_FX_SHL64(value, n)                                                                 \
    (__extension__({                                                                               \
        uint64_t mcuport_fx_shl64_ = (uint64_t)(value);                                            \
        __asm__(MCUPORT_FX_AVR_SHL_TEXT(n, 8) : "+r"(mcuport_fx_shl64_));                          \
        mcuport_fx_shl64_;                                                                         \
    }))
#define MCUPORT_FX_SHR32(value, n)                                                                 \
    (__extension__({                                                                               \
        uint32_t mcuport_fx_shr32_ = (uint32_t)(value);                                            \
        __asm__(MCUPORT_FX_AVR_SHR_TEXT(n, 4) : "+r"(mcuport_fx_shr32_));                          \
        mcuport_fx_shr32_;                                                                         \
    }))
#else
/* Shifts of an unsigned value by a literal n below its width. */
#define MCUPORT_FX_SHR64(value, n) ((uint64_t)(value) >> (n))
#define MCUPORT_FX_SHL64(value, n) ((uint64_t)(value) << (n))
#define MCUPORT_FX_SHR32(value, n) ((uint32_t)(value) >> (n))
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

/* value / 2^n rounded half up, for a literal n from 1 to 63: mcuport_fx_round_shift_u64's
 * integer. On AVR the bit below the cut is read from its byte. */
#if MCUPORT_FX_AVR_ASM
#define MCUPORT_FX_ROUND_SHR64(value, n)                                                           \
    (__extension__({                                                                               \
        const uint64_t mcuport_fx_round_ = (uint64_t)(value);                                      \
        MCUPORT_FX_SHR64(mcuport_fx_round_, n) +                                                   \
            (uint64_t)(((uint8_t)MCUPORT_FX_SHR64(mcuport_fx_round_, ((n) - 1) / 8 * 8) >>         \
                        (((n) - 1) % 8)) & 1);                                                     \
    }))
#else
#define MCUPORT_FX_ROUND_SHR64(value, n) mcuport_fx_round_shift_u64((uint64_t)(value), (n))
#endif

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

/* The AVR product needs the MUL instruction (not on classic ATtiny cores: there the plain C).
 * avr-gcc -Os would call it rather than inline it; inlined, the RBF SVC of iris takes 6% fewer
 * cycles on the ATmega328P for 14% more flash (690 bytes). */
#if MCUPORT_FX_AVR_ASM && defined(__AVR_HAVE_MUL__)
#define MCUPORT_FX_AVR_MUL 1
#define MCUPORT_FX_AVR_INLINE __attribute__((always_inline))
#else
#define MCUPORT_FX_AVR_MUL 0
#define MCUPORT_FX_AVR_INLINE
#endif

/* a * b, exact, for unsigned 32-bit a and b. Where the only multiply is 32 x 32 -> 32: four
 * products of 16-bit halves, each below 2^32, and the middle two summed in 64 bits. */
static inline MCUPORT_FX_AVR_INLINE uint64_t mcuport_fx_mul_u32(uint32_t a, uint32_t b) {
#if MCUPORT_FX_MUL32_ONLY
    const uint32_t al = a & UINT32_C(0xFFFF);
    const uint32_t ah = a >> 16;
    const uint32_t bl = b & UINT32_C(0xFFFF);
    const uint32_t bh = b >> 16;
    const uint64_t middle = (uint64_t)(al * bh) + (uint64_t)(ah * bl); /* < 2^33 */
    return ((uint64_t)(ah * bh) << 32) + (middle << 16) + (uint64_t)(al * bl);
#elif MCUPORT_FX_AVR_MUL
    /* Product scanning: the byte products of column k (a_i b_j with i + j = k) are added into
     * bytes k, k + 1 and k + 2 of the product, the last cleared first. A column's sum with the
     * carries from below stays under 2^19, so nothing carries past byte k + 2. MUL writes r1,
     * avr-gcc's zero register, which is cleared at the end. */
    uint64_t product;
    uint8_t zero;
    __asm__("clr %[z]\n\t"
            "mul %A[a],%A[b]\n\tmov %A[p],r0\n\tmov %B[p],r1\n\tclr %C[p]\n\tclr %D[p]\n\t"
            "mul %A[a],%B[b]\n\tadd %B[p],r0\n\tadc %C[p],r1\n\tadc %D[p],%[z]\n\t"
            "mul %B[a],%A[b]\n\tadd %B[p],r0\n\tadc %C[p],r1\n\tadc %D[p],%[z]\n\t"
            "clr %r[p]+4\n\t"
            "mul %A[a],%C[b]\n\tadd %C[p],r0\n\tadc %D[p],r1\n\tadc %r[p]+4,%[z]\n\t"
            "mul %B[a],%B[b]\n\tadd %C[p],r0\n\tadc %D[p],r1\n\tadc %r[p]+4,%[z]\n\t"
            "mul %C[a],%A[b]\n\tadd %C[p],r0\n\tadc %D[p],r1\n\tadc %r[p]+4,%[z]\n\t"
            "clr %r[p]+5\n\t"
            "mul %A[a],%D[b]\n\tadd %D[p],r0\n\tadc %r[p]+4,r1\n\tadc %r[p]+5,%[z]\n\t"
            "mul %B[a],%C[b]\n\tadd %D[p],r0\n\tadc %r[p]+4,r1\n\tadc %r[p]+5,%[z]\n\t"
            "mul %C[a],%B[b]\n\tadd %D[p],r0\n\tadc %r[p]+4,r1\n\tadc %r[p]+5,%[z]\n\t"
            "mul %D[a],%A[b]\n\tadd %D[p],r0\n\tadc %r[p]+4,r1\n\tadc %r[p]+5,%[z]\n\t"
            "clr %r[p]+6\n\t"
            "mul %B[a],%D[b]\n\tadd %r[p]+4,r0\n\tadc %r[p]+5,r1\n\tadc %r[p]+6,%[z]\n\t"
            "mul %C[a],%C[b]\n\tadd %r[p]+4,r0\n\tadc %r[p]+5,r1\n\tadc %r[p]+6,%[z]\n\t"
            "mul %D[a],%B[b]\n\tadd %r[p]+4,r0\n\tadc %r[p]+5,r1\n\tadc %r[p]+6,%[z]\n\t"
            "clr %r[p]+7\n\t"
            "mul %C[a],%D[b]\n\tadd %r[p]+5,r0\n\tadc %r[p]+6,r1\n\tadc %r[p]+7,%[z]\n\t"
            "mul %D[a],%C[b]\n\tadd %r[p]+5,r0\n\tadc %r[p]+6,r1\n\tadc %r[p]+7,%[z]\n\t"
            "mul %D[a],%D[b]\n\tadd %r[p]+6,r0\n\tadc %r[p]+7,r1\n\t"
            "clr __zero_reg__"
            : [p] "=&r"(product), [z] "=&r"(zero)
            : [a] "r"(a), [b] "r"(b));
    return product;
#else
    return (uint64_t)a * b;
#endif
}

/* a * b, exact, for signed 32-bit a and b (the product of the magnitudes, signed). */
static inline int64_t mcuport_fx_mul_i32(int32_t a, int32_t b) {
#if MCUPORT_FX_MUL32_ONLY || MCUPORT_FX_AVR_MUL
    const uint64_t magnitude = mcuport_fx_mul_u32(a < 0 ? 0u - (uint32_t)a : (uint32_t)a,
                                                  b < 0 ? 0u - (uint32_t)b : (uint32_t)b);
    /* <= 2^62: the negation cannot overflow */
    return (a < 0) != (b < 0) ? -(int64_t)magnitude : (int64_t)magnitude;
#else
    return (int64_t)a * b;
#endif
}

/* d * d, exact, for signed 32-bit d (the square of its magnitude). */
static inline uint64_t mcuport_fx_square_i32(int32_t d) {
#if MCUPORT_FX_MUL32_ONLY || MCUPORT_FX_AVR_MUL
    const uint32_t magnitude = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    return mcuport_fx_mul_u32(magnitude, magnitude);
#else
    return (uint64_t)((int64_t)d * d);
#endif
}

/* value / 2^shift rounded down, for shift from 0 to 31. */
static inline uint32_t mcuport_fx_shr_u32(uint32_t value, int shift) {
#if MCUPORT_FX_AVR_ASM
    /* whole bytes first: avr-gcc shifts a bit a turn */
    if ((shift & 16) != 0) {
        value = MCUPORT_FX_SHR32(value, 16);
    }
    if ((shift & 8) != 0) {
        value = MCUPORT_FX_SHR32(value, 8);
    }
    return value >> (shift & 7);
#else
    return value >> shift;
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

/* Shared core of the kernels: exp(-t) = y * 2^-halvings for t in Q40 and 0 <= t < 23, with y
 * within 0.15 LSB (2^-30) of exp(-r) in (1/2, 1] and at most 1. Returns y in Q63 and halvings
 * (0 .. 33).
 *
 * Range reduction t = n ln2 + r with 0 <= r < ln2 makes exp(-t) = exp(-r) 2^-n. Then r is split
 * into its top 5 bits (steps of 1/32), the next 6 (steps of 1/2048) and the rest g < 2^-11:
 * exp(-r) = (1 - c1)(1 - c2)(1 - cg), with c1 = 1 - exp(-a/32) and c2 = 1 - exp(-b/2048) read from
 * two tables and cg = g - g^2/2 (1 - exp(-g) to 2^-35.5). The complements (1 - value) keep
 * exp(0) exact and every factor in an unsigned 32-bit word; two 32 x 32 -> 64 products and one
 * 32-bit square, where a polynomial took seven products. */
typedef struct {
    uint64_t y_q63;
    int halvings;
} mcuport_fx_exp_core;

static inline mcuport_fx_exp_core mcuport_fx_exp_neg_q40(uint64_t t_q40) {
    /* round((1 - exp(-a / 32)) 2^33), a = 0 .. 22 (a / 32 < ln2): below 2^32 */
    static const uint32_t c1_q33[23] MCUPORT_FX_ROM = {
        UINT32_C(0), UINT32_C(264284503), UINT32_C(520437828), UINT32_C(768710142),
        UINT32_C(1009343921), UINT32_C(1242574177), UINT32_C(1468628692), UINT32_C(1687728241),
        UINT32_C(1900086805), UINT32_C(2105911783), UINT32_C(2305404193), UINT32_C(2498758866),
        UINT32_C(2686164641), UINT32_C(2867804547), UINT32_C(3043855981), UINT32_C(3214490881),
        UINT32_C(3379875897), UINT32_C(3540172551), UINT32_C(3695537396), UINT32_C(3846122167),
        UINT32_C(3992073931), UINT32_C(4133535232), UINT32_C(4270644226)};
    /* round((1 - exp(-b / 2048)) 2^36), b = 0 .. 63: below 2^31 */
    static const uint32_t c2_q36[64] MCUPORT_FX_ROM = {
        UINT32_C(0), UINT32_C(33546241), UINT32_C(67076107), UINT32_C(100589604),
        UINT32_C(134086741), UINT32_C(167567527), UINT32_C(201031968), UINT32_C(234480073),
        UINT32_C(267911850), UINT32_C(301327307), UINT32_C(334726452), UINT32_C(368109292),
        UINT32_C(401475837), UINT32_C(434826093), UINT32_C(468160068), UINT32_C(501477772),
        UINT32_C(534779211), UINT32_C(568064393), UINT32_C(601333327), UINT32_C(634586020),
        UINT32_C(667822481), UINT32_C(701042716), UINT32_C(734246735), UINT32_C(767434545),
        UINT32_C(800606154), UINT32_C(833761570), UINT32_C(866900800), UINT32_C(900023854),
        UINT32_C(933130738), UINT32_C(966221460), UINT32_C(999296029), UINT32_C(1032354451),
        UINT32_C(1065396737), UINT32_C(1098422892), UINT32_C(1131432925), UINT32_C(1164426843),
        UINT32_C(1197404656), UINT32_C(1230366369), UINT32_C(1263311993), UINT32_C(1296241533),
        UINT32_C(1329154998), UINT32_C(1362052397), UINT32_C(1394933736), UINT32_C(1427799023),
        UINT32_C(1460648267), UINT32_C(1493481476), UINT32_C(1526298656), UINT32_C(1559099816),
        UINT32_C(1591884964), UINT32_C(1624654108), UINT32_C(1657407254), UINT32_C(1690144412),
        UINT32_C(1722865589), UINT32_C(1755570793), UINT32_C(1788260031), UINT32_C(1820933312),
        UINT32_C(1853590643), UINT32_C(1886232031), UINT32_C(1918857486), UINT32_C(1951467014),
        UINT32_C(1984060623), UINT32_C(2016638321), UINT32_C(2049200116), UINT32_C(2081746016)};
    mcuport_fx_exp_core result;
    const uint64_t ln2_q40 = UINT64_C(762123384786); /* 0.6931471805599453 */
    /* n from 21 bits of t times 1477 / 2^10 (just below 1 / ln2): n or n - 1; one correction. */
    const uint32_t t_q16 = (uint32_t)MCUPORT_FX_SHR64(t_q40, 24); /* < 23 * 2^16 */
    uint32_t n = MCUPORT_FX_SHR32(t_q16 * UINT32_C(1477), 26); /* product < 2^32 */
#if MCUPORT_FX_MUL32_ONLY
    /* n ln2 with ln2_q40 = 11629079 2^16 + 63442: n < 34, so both products fit 32 bits. */
    uint64_t r_q40 = t_q40 - (((uint64_t)(n * UINT32_C(11629079)) << 16) + n * UINT32_C(63442));
#else
    /* n ln2 with ln2_q40 = 177 2^32 + 1914173394: n < 34, so n 177 fits 32 bits. */
    uint64_t r_q40 = t_q40 - (MCUPORT_FX_SHL64(n * 177u, 32) + mcuport_fx_mul_u32(n, UINT32_C(1914173394)));
#endif
    uint32_t c1;
    uint32_t c2;
    uint32_t c12;
    uint32_t g;
    uint32_t g_top;
    uint32_t cg;
    if (r_q40 >= ln2_q40) {
        r_q40 -= ln2_q40;
        n += 1u;
    }
    /* r < ln2 < 2^-0.5: r_q40 < 2^40, so its bits 35..39 are a < 23 and 29..34 are b. */
    c1 = MCUPORT_FX_ROM_U32(&c1_q33[(uint32_t)MCUPORT_FX_SHR64(r_q40, 35)]);
    c2 = MCUPORT_FX_ROM_U32(&c2_q36[(uint32_t)MCUPORT_FX_SHR64(r_q40, 29) & 63u]);
    g = (uint32_t)r_q40 & UINT32_C(0x1FFFFFFF); /* Q40, < 2^-11 */
    /* 1 - (1 - c1)(1 - c2) = c1 + c2 (1 - c1), Q33, rounded half up: c2 (2^33 - c1) < 2^63.96,
     * and the result is 1 - exp(-s) for some s < ln2, below 1/2: it fits 32 bits. */
    c12 = c1 + (uint32_t)MCUPORT_FX_SHR64(
              MCUPORT_FX_SHL64(c2, 33) - mcuport_fx_mul_u32(c2, c1) + (UINT64_C(1) << 35), 36);
    /* g^2 / 2 from g's top 16 bits (Q27, squared Q54), rounded to Q40; (2^16 - 1)^2 + 2^14 < 2^32. */
    g_top = MCUPORT_FX_SHR32(g, 13);
    cg = g - MCUPORT_FX_SHR32(g_top * g_top + (UINT32_C(1) << 14), 15);
    result.halvings = (int)n;
    /* (1 - c12)(1 - cg) = 1 - c12 - cg + cg c12 in Q63; cg c12 is Q73, truncated, and below
     * c12: y <= 2^63. */
    result.y_q63 = (UINT64_C(1) << 63) - MCUPORT_FX_SHL64(c12, 30) - MCUPORT_FX_SHL64(cg, 23) +
                   MCUPORT_FX_SHR64(mcuport_fx_mul_u32(cg, c12), 10);
    return result; /* returned by value, not through a pointer: gcc's AddressSanitizer reported
                    * stack-use-after-scope on such an out-parameter when inlined in a loop */
}

/* exp(-t) in Q30, for t = t_q / 2^frac_bits.
 * t <= 0 gives MCUPORT_FX_ONE_Q30 (exp(0) exactly; negative t saturates at one). t >= 22, where
 * exp(-t) < 2^-31.7, gives 0. Error: below 0.65 LSB (2^-30) for every input; documented as 1 LSB.
 * Cost: 3 multiplies with a 64-bit product (n ln2 and the core's two; n ln2 is two 32-bit ones
 * where MCUPORT_FX_MUL32_ONLY) and two 32-bit multiplies; two tables (348 bytes); no division. */
static inline int32_t mcuport_fx_exp_neg(int64_t t_q, int frac_bits) {
    mcuport_fx_exp_core core;
    if (frac_bits < MCUPORT_FX_MIN_FRAC_BITS || frac_bits > MCUPORT_FX_MAX_FRAC_BITS) {
        return 0;
    }
    if (t_q <= 0) {
        return MCUPORT_FX_ONE_Q30;
    }
#if MCUPORT_FX_AVR_ASM
    if ((uint64_t)t_q >= (UINT64_C(22) << frac_bits)) { /* the same; a constant when inlined */
#else
    if (((uint64_t)t_q >> frac_bits) >= 22u) { /* t_q > 0 here: the same test as t >= 22 */
#endif
        return 0;
    }
    core = mcuport_fx_exp_neg_q40((uint64_t)t_q << (40 - frac_bits));
    if (core.halvings >= 31) {
        return 0; /* exp(-t) <= 2^-31: half an LSB at most */
    }
    /* round(y / 2^(33 + n)) half up = (floor(y / 2^(32 + n)) + 1) / 2 rounded down, and
     * floor(y / 2^(32 + n)) is the high word of y (at most 2^31) shifted by n < 31: no 64-bit
     * shift by a variable amount (a library call on Cortex-M0). */
    return (int32_t)((mcuport_fx_shr_u32((uint32_t)MCUPORT_FX_SHR64(core.y_q63, 32), core.halvings) + 1u) >> 1);
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
    /* Every product below has 32-bit factors (mcuport_fx_mul_u32: no 64 x 64 multiply, which
     * is a library call on Cortex-M0) but y_q32, which may be 2^32 exactly: where the only
     * multiply is 32 x 32 -> 32, its high word (0 or 1) adds one 32-bit product. */
    q0_q31 -= (uint32_t)(mcuport_fx_mul_u32(q0_q31 - MCUPORT_FX_ROM_U32(&reciprocal_q31[segment + 1u]),
                                            (uint32_t)e_q32 & UINT32_C(0x7FFFFFF)) >> 27);
#if MCUPORT_FX_MUL32_ONLY
    e_q0_q63 = (mcuport_fx_mul_u32((uint32_t)y_q32, q0_q31) +
                ((uint64_t)((uint32_t)(y_q32 >> 32) * q0_q31) << 32)) >> halvings;
#else
    e_q0_q63 = (y_q32 * q0_q31) >> halvings; /* UMULL and MLA on Cortex-M4 */
#endif
    /* (1 + e) q0 - 1 in Q63, >= 0 because q0 >= 1 / (1 + e); < 2^51, so Q44 fits 32 bits. */
    eps_q44 = (uint32_t)((((uint64_t)q0_q31 << 32) + e_q0_q63 - (UINT64_C(1) << 63)) >> 19);
    correction_q44 = eps_q44 - (uint32_t)(mcuport_fx_mul_u32(eps_q44, eps_q44) >> 44); /* eps - eps^2 */
    s_q63 = e_q0_q63 - mcuport_fx_round_shift_u64(
                           mcuport_fx_mul_u32((uint32_t)(e_q0_q63 >> 32), correction_q44), 12);
    /* s < 1/2, so 2s in Q30 is at most one. */
    return MCUPORT_FX_ONE_Q30 - (int32_t)mcuport_fx_round_shift_u64(s_q63, 32);
}

/* tanh(x) in Q30, for x = x_q / 2^frac_bits. Odd: tanh(-x) = -tanh(x) bit for bit.
 * |x| >= 11.125, where 1 - tanh|x| < 0.47 LSB, gives +-MCUPORT_FX_ONE_Q30. Error: below 0.76 LSB
 * (2^-30) for every input; documented as 1 LSB. Cost: exp_neg's plus 4 multiplies with a 64-bit
 * product (7 in all) and a 132-byte table beside exp's two; no division. */
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

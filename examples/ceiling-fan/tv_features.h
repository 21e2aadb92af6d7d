/* Ceiling-fan features for firmware: the total variation of each accelerometer axis over one
 * window, sum over n = 1..127 of |a[n] - a[n-1]|, in raw sensor counts.
 *
 * Integer-only, streaming (no window buffer), one subtraction, one absolute value and one
 * addition per sample and axis. tv_codes() turns the sums into the int16 input codes of the
 * generated fan.h, whose input range is [0, 65535] per feature (scale 1, zero point -32768):
 * code = min(total, 65535) - 32768, exactly, with no floating point.
 *
 * Usage:
 *     tv_state_t tv;
 *     tv_reset(&tv);
 *     for (n = 0; n < TV_WINDOW; ++n) { read_sample(sample); tv_add(&tv, sample); }
 *     tv_codes(&tv, codes);
 *     if (fan_predict(codes) < 0) { ... unbalanced ... }
 *
 * examples/ceiling-fan/ceiling_fan.py compiles this file on the host and checks that it gives
 * exactly the features the Python model was trained on.
 */
#ifndef TV_FEATURES_H
#define TV_FEATURES_H

#include <stdint.h>

#define TV_WINDOW 128 /* samples per window: 0.64 s at 200 Hz */
#define TV_AXES 3     /* x, y, z */

typedef struct {
    int16_t previous[TV_AXES];
    int32_t total[TV_AXES]; /* at most 127 * 65535: fits */
    uint32_t count;         /* samples seen */
} tv_state_t;

static inline void tv_reset(tv_state_t *s) {
    uint32_t axis;
    for (axis = 0; axis < TV_AXES; ++axis) {
        s->previous[axis] = 0;
        s->total[axis] = 0;
    }
    s->count = 0;
}

/* One sample (x, y, z) in raw counts. Samples after the first TV_WINDOW are ignored. */
static inline void tv_add(tv_state_t *s, const int16_t sample[TV_AXES]) {
    uint32_t axis;
    if (s->count >= TV_WINDOW) {
        return;
    }
    for (axis = 0; axis < TV_AXES; ++axis) {
        if (s->count > 0) {
            const int32_t step = (int32_t)sample[axis] - (int32_t)s->previous[axis];
            s->total[axis] += step < 0 ? -step : step;
        }
        s->previous[axis] = sample[axis];
    }
    s->count += 1;
}

/* The model's int16 input codes: each total saturated to 65535, minus 32768. */
static inline void tv_codes(const tv_state_t *s, int16_t codes[TV_AXES]) {
    uint32_t axis;
    for (axis = 0; axis < TV_AXES; ++axis) {
        const int32_t total = s->total[axis] > 65535 ? 65535 : s->total[axis];
        codes[axis] = (int16_t)(total - 32768);
    }
}

#endif /* TV_FEATURES_H */

/* Arm semihosting: the debugger (here QEMU's -semihosting) services a BKPT 0xAB; r0 holds the
 * operation, r1 its argument. Only what the example needs: write a string, exit. */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H

#include <stdint.h>

static inline int semihosting_call(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* SYS_WRITE0: a NUL-terminated string to the host's console. */
static inline void semihosting_write(const char *text) {
    (void)semihosting_call(0x04, text);
}

/* SYS_EXIT: ADP_Stopped_ApplicationExit for 0, ADP_Stopped_RunTimeErrorUnknown otherwise. */
static inline void semihosting_exit(int code) {
    (void)semihosting_call(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

#endif /* SEMIHOSTING_H */

/* Start-up code for a bare-metal Cortex-M4F program: the vector table, the copy of .data and the
 * zeroing of .bss, the FPU switched on, then main(); its return value ends the program through
 * semihosting (QEMU exits with it). */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void reset_handler(void);
void fault_handler(void);

void reset_handler(void) {
    uint32_t *source = _sidata;
    uint32_t *target;
    for (target = _sdata; target < _edata;) {
        *target++ = *source++;
    }
    for (target = _sbss; target < _ebss;) {
        *target++ = 0u;
    }
    /* CPACR: full access to coprocessors 10 and 11, the FPU. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
    semihosting_exit(main());
}

void fault_handler(void) {
    semihosting_write("fault\n");
    semihosting_exit(3);
}

/* The initial stack pointer, reset, then NMI, HardFault, MemManage, BusFault, UsageFault,
 * four reserved words, SVCall, DebugMonitor, a reserved word, PendSV and SysTick. */
__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_estack, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};

"""Run generated C on emulated microcontrollers: real firmware, real cross compilers.

A generated header is compiled with the target's cross compiler and flags (plus mcuport's
strict warnings) into firmware for a board that an emulator runs here, and the firmware answers
on whole arrays, like :class:`mcuport.host.HostModel`::

    g = mcuport.generate(clf, numeric="fixed", calibration=X_train, target="cortex-m0")
    with TargetModel(g) as chip:
        classes, proba = chip.run(codes)        # what the chip answers
        cost = chip.measure(codes)              # and what each call costs there
        print(cost.counts.max(), cost.count_unit, cost.peak_stack_bytes, cost.model_flash_bytes)

The firmware is the same on every target: the rows as a constant table (in PROGMEM where the
target keeps constants there, as the generated tables then are), copied one at a time into a
RAM buffer; a ``bench_one`` calling the generated predict (or the scores function of a model
without one) on that buffer and storing the result in a global; and a main loop that prints
results as hex words. Floats travel as bit patterns, so results compare exactly. The model's
code is compiled with exactly the target's flags plus mcuport's strict warnings, so a warning in
a generated header is a :class:`mcuport.host.CompileError`. What differs per instruction set
(``arch`` of :func:`mcuport.targets`) is small: how a line is printed, how the program ends, how
a call is counted. Cortex-M and RISC-V firmware has its own start-up code and links the
toolchain's C library (newlib-nano, picolibc) for memcpy and the float functions; AVR uses
avr-libc's.

Another tool's code can run in the same harness for comparison: :class:`ForeignCode` (C or C++,
float inputs, an adapter defining ``<name>_predict``), compiled with the same target flags but
without mcuport's strict warnings.

How a call is counted, exactly and deterministically:

* rv32 (``qemu-system-riscv32 -M virt -icount shift=0``): the ``minstret`` CSR, read around
  the call: retired instructions.
* avr5 (simavr): Timer1 at prescaler 1 counts CPU cycles; a naked overflow interrupt extends it
  to 32 bits and its own cycles (31 in simavr: 28 of the handler, 3 of the vector's ``jmp``)
  are taken off per overflow. Cycles as simavr models them.
* armv6m, armv7em: QEMU runs the firmware (results and stack) but cannot count instructions on
  M-profile cores, so Unicorn (the QEMU CPU as a library) runs the same ELF's ``bench_one`` on
  each row and counts the instructions it issues, those an IT block skips included; its
  results must equal QEMU's.

Every count is the cost of ``bench_one`` less that of an empty function called the same way, so
call and return cancel out; what remains is the model's code plus the one or two instructions
storing its result. A hand-written loop of known cost measured through the same path
(:func:`measure_known_loop`) checks each counter.

Nothing here estimates: a missing cross compiler, emulator or Unicorn raises
:class:`ToolchainMissing` naming the package to install.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._port import Generated, targets
from .host import STRICT_FLAGS, CompileError

__all__ = [
    "FirmwareError",
    "ForeignCode",
    "Measurement",
    "TargetModel",
    "ToolchainMissing",
    "measure_known_loop",
]


class ToolchainMissing(RuntimeError):
    """A cross compiler, an emulator or Unicorn is not installed; the message names the package
    to install. There is no fallback to estimates."""


class FirmwareError(RuntimeError):
    """The firmware does not fit the target, or did not run to its end on the emulator."""


@dataclass
class Measurement:
    """What the generated code answers on the emulated chip, and what it costs there."""

    target: str
    predictions: Optional[np.ndarray]
    """As :meth:`TargetModel.run`."""
    scores: Optional[np.ndarray]
    counts: np.ndarray
    """Per row, the cost of one predict call (the scores function for models without predict),
    in ``count_unit``: the call less an empty call, so the model's code and its result store.
    A model with both predict and a scores function is counted, like ``peak_stack_bytes``, in
    the firmware that calls predict only (see ``predict_flash_bytes``), whose answers are
    checked against the whole firmware's."""
    count_unit: str
    peak_stack_bytes: int
    """The deepest stack of one call, over all rows. Measured by painting the free stack below
    the caller's stack pointer with a byte pattern, calling, and finding the lowest byte
    changed; twice, with 0xA5 and 0x5A, so a byte that happens to equal one pattern is still
    seen. It includes the call's return address where the call pushes one (AVR) and the
    calling function's saved registers."""
    model_flash_bytes: int
    """Flash (text + data) of the firmware less that of the same firmware with an empty model:
    code, tables and the compiler-library helpers the model pulls in."""
    model_ram_bytes: int
    """Static RAM (data + bss) of the firmware less that of the empty-model firmware. The stack
    is not included (see ``peak_stack_bytes``)."""
    predict_flash_bytes: int
    """As ``model_flash_bytes``, of a firmware that calls predict only: without the scores
    function (predict_proba, decision values) and what only it reads. Equal to
    ``model_flash_bytes`` for a model without both."""
    emulator: str
    """The command line that ran the firmware (and, for Cortex-M, what counted)."""
    compiler_command: str
    """The command that compiled the harness holding the model."""
    firmware_directory: Path
    """Where the firmware of the last measured rows was built (its ELF, ``fw.elf``, and the
    harness source ``compiler_command`` compiles there), kept as long as the
    :class:`TargetModel`'s ``workdir``. For a model with both predict and a scores function it
    is the predict-only firmware, the one counted and whose stack was painted."""


@dataclass(frozen=True)
class ForeignCode:
    """Prediction code written by another tool, built into the same firmware as a generated
    header so that both are measured alike (``bench/compare.py`` uses it for other code
    generators). It takes float32 inputs, as float-mode headers do.

    ``header`` becomes the harness's ``model.h``: the tool's code and a small adapter defining
    ``<name>_predict(float x[])`` (returning ``predict_type``) or the scores function, with the
    includes the code expects. It is compiled in the harness's translation unit with exactly the
    target's flags (its optimisation included); only the language and the warnings differ:

    * ``language="c"``: ``-std=c99``; ``"c++"``: the target's g++ with ``-std=c++11
      -fno-exceptions -fno-rtti``, and the firmware is linked by g++.
    * ``strict_warnings=False`` (the default) leaves out mcuport's warnings-as-errors flags,
      which other tools' code does not promise to pass.
    * ``include_dirs``: ``-I`` directories, such as a library's headers.
    """

    header: str
    name: str
    n_features: int
    predict_type: str = "int32_t"
    scores_function: str = ""
    n_scores: int = 0
    score_type: str = ""
    scores_scalar: bool = False
    language: str = "c"
    include_dirs: Tuple[str, ...] = ()
    strict_warnings: bool = False
    numeric: str = "float"

    def __post_init__(self) -> None:
        if self.language not in ("c", "c++"):
            raise ValueError(f"language must be 'c' or 'c++', got {self.language!r}")
        if self.numeric != "float":
            raise ValueError("foreign code takes float32 inputs (numeric='float')")
        if not self.predict_type and not self.scores_function:
            raise ValueError("foreign code needs a predict_type or a scores_function")


# Flags of a C++ translation unit (foreign code only): what embedded C++ builds use.
_CXX_FLAGS = ("-std=c++11", "-fno-exceptions", "-fno-rtti")


# -- what is known about boards and cores ------------------------------------------------------

# Memory of the boards the emulators provide, keyed by the emulator's machine (-M): where
# firmware may place code and constants ("flash") and data and stack ("ram").
_BOARDS: Dict[str, Dict[str, Tuple[int, int]]] = {
    "microbit": {"flash": (0x00000000, 256 * 1024), "ram": (0x20000000, 16 * 1024)},
    "mps2-an386": {"flash": (0x00000000, 4 * 1024 * 1024), "ram": (0x20000000, 4 * 1024 * 1024)},
    "mps2-an500": {"flash": (0x00000000, 4 * 1024 * 1024), "ram": (0x20000000, 4 * 1024 * 1024)},
    # One RAM at 0x80000000: the first part stands for flash, the rest for RAM.
    "virt": {"flash": (0x80000000, 64 * 1024 * 1024), "ram": (0x84000000, 64 * 1024 * 1024)},
}

# The Unicorn CPU model for each -mcpu of the Cortex-M targets.
_UNICORN_CPUS = {
    "cortex-m0": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m0plus": "UC_CPU_ARM_CORTEX_M0",
    "cortex-m3": "UC_CPU_ARM_CORTEX_M3",
    "cortex-m4": "UC_CPU_ARM_CORTEX_M4",
    "cortex-m7": "UC_CPU_ARM_CORTEX_M7",
    "cortex-m33": "UC_CPU_ARM_CORTEX_M33",
}

# simavr's cost of one Timer1 overflow interrupt with the handler below: 28 cycles of handler
# (pushes, a 16-bit increment, pops, reti) and 3 of the vector's jmp; simavr charges nothing for
# the interrupt response itself. measure_known_loop checks it across many overflows.
_AVR_OVERFLOW_CYCLES = 31

_PAINT_WINDOW = 64 * 1024  # the most stack painted below the caller (free RAM if less)


# -- C sources ---------------------------------------------------------------------------------

_HARNESS = r"""/* mcuport firmware harness: @n_rows@ rows through the model, results in hex. */
@defines@
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if HARNESS_MODEL
#include "model.h"
#endif
#ifdef __cplusplus
extern "C" { /* foreign C++ code: the harness keeps the C names Unicorn and runtime.c use */
#endif
@port@

#define N_ROWS @n_rows@u
#define N_FEATURES @n_features@u

/* Rows as raw words (int16 codes or float32 bit patterns), copied to x_in before each call. */
static const @word_t@ rows[N_ROWS][N_FEATURES] ROWS_STORAGE = {
@rows@
};
@args@
@input_t@ x_in[N_FEATURES];
@predict_t@ result_predict[1];
@score_t@ result_scores[@n_scores_or_1@];

void load_row(uint32_t row) __attribute__((noinline, noclone));
void bench_empty(uint32_t arg) __attribute__((noinline, noclone));
void bench_one(uint32_t arg) __attribute__((noinline, noclone));
void scores_one(void) __attribute__((noinline, noclone));

void load_row(uint32_t row) {
    LOAD_ROW(x_in, rows[row], sizeof x_in);
}

void bench_empty(uint32_t arg) {
    (void)arg;
}

#if !HARNESS_KNOWN_LOOP
/* The measured call: the model on x_in, its result stored. */
void bench_one(uint32_t arg) {
    (void)arg;
#if HARNESS_MODEL
#if @has_predict@
    result_predict[0] = @p@_predict(x_in);
#elif @scores_scalar@
    result_scores[0] = @scores_function@(x_in);
#else
    @scores_function@(x_in, result_scores);
#endif
#endif
}
#endif

/* The score vector of a model that also has predict: filled outside the measured call (left
 * out of the build that measures the flash of predict alone). */
void scores_one(void) {
#if HARNESS_MODEL && HARNESS_SCORES && @has_predict@ && @n_scores@ > 0
#if @scores_scalar@
    result_scores[0] = @scores_function@(x_in);
#else
    @scores_function@(x_in, result_scores);
#endif
#endif
}

/* One shared path for every count, so the call and the counter reads cancel in a difference. */
static uint32_t __attribute__((noinline, noclone)) measure_count(void (*fn)(uint32_t),
                                                                 uint32_t arg) {
    const uint32_t start = counter_start();
    fn(arg);
    return counter_stop(start);
}

/* Paints the free stack below this frame, calls, and returns how deep the call wrote. */
static uint32_t __attribute__((noinline, noclone)) measure_stack(void (*fn)(uint32_t),
                                                                 uint32_t arg, uint8_t paint) {
    uint8_t *const top = stack_top();
    volatile uint8_t *const bottom = stack_floor(top);
    volatile uint8_t *p;
    for (p = bottom; p < top; ++p) {
        *p = paint;
    }
    fn(arg);
    for (p = bottom; p < top && *p == paint; ++p) {
    }
    return (uint32_t)(top - p);
}

static const char hex_digits[] = "0123456789abcdef";

static void emit(char tag, uint32_t word) {
    uint8_t shift;
    port_putc('@');
    port_putc(tag);
    for (shift = 32u; shift > 0u; shift = (uint8_t)(shift - 4u)) {
        port_putc(hex_digits[(word >> (shift - 4u)) & 15u]);
    }
    port_putc('\n');
}

#if @has_predict@ || @n_scores@ > 0
/* Little-endian 32-bit words of a result array (every result type is 4 or 8 bytes). */
static void emit_words(char tag, const void *data, size_t size) {
    const uint8_t *bytes = (const uint8_t *)data;
    size_t i;
    for (i = 0u; i + 4u <= size; i += 4u) {
        uint32_t word;
        memcpy(&word, bytes + i, sizeof word);
        emit(tag, word);
    }
}
#endif

#ifdef __cplusplus
}
#endif

int main(void) {
    uint32_t row;
    port_init();
    {
        uint8_t *const top = stack_top();
        emit('w', (uint32_t)(top - (uint8_t *)stack_floor(top)));
    }
    for (row = 0u; row < N_ROWS; ++row) {
        const uint32_t arg = BENCH_ARG(row);
        uint32_t base, count, stack, other;
        load_row(row);
        base = measure_count(bench_empty, arg);
        stack = measure_stack(bench_one, arg, 0xA5u);
        other = measure_stack(bench_one, arg, 0x5Au);
        count = measure_count(bench_one, arg) - base;
        scores_one();
        emit('r', row);
#if @has_predict@
        emit_words('p', result_predict, sizeof result_predict);
#endif
#if @n_scores@ > 0
        emit_words('s', result_scores, sizeof result_scores);
#endif
        emit('c', count);
        emit('k', other > stack ? other : stack);
    }
    emit('e', N_ROWS);
    port_exit(0);
    return 0;
}
"""

# Cortex-M (armv6m, armv7em): output over semihosting, no counter on the chip (Unicorn counts).
_ARM_PORT = r"""
/* Cortex-M: semihosting output (runtime.c); the stack below the caller down to the end of bss. */
void port_putc(char c);
void port_exit(int code);
extern uint8_t _ebss[];
#define ROWS_STORAGE
#define LOAD_ROW(dst, src, n) memcpy((dst), (src), (n))
static inline void port_init(void) {
}
static inline uint8_t *stack_top(void) {
    uint8_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}
static inline uint8_t *stack_floor(uint8_t *top) {
    return (uint32_t)(top - _ebss) > @window@u ? top - @window@u : _ebss;
}
/* No cycle or instruction counter QEMU models on M-profile: Unicorn counts bench_one. */
static inline uint32_t counter_start(void) {
    return 0u;
}
static inline uint32_t counter_stop(uint32_t start) {
    return start;
}
#if HARNESS_KNOWN_LOOP
/* Known cost: 2 instructions per iteration, then the return. */
__asm__(".syntax unified\n.text\n.balign 2\n.global bench_one\n.thumb_func\n"
        ".type bench_one, %function\nbench_one:\n1: subs r0, r0, #1\n bne 1b\n bx lr\n"
        ".size bench_one, . - bench_one\n");
#endif
"""

_ARM_RUNTIME = r"""/* Cortex-M start-up and semihosting for the mcuport firmware harness. */
#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void port_putc(char c);
void port_exit(int code);
void reset_handler(void);
void fault_handler(void);

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char line[96];
static uint32_t line_length;

void port_putc(char c) {
    line[line_length++] = c;
    if (c == '\n' || line_length == sizeof line - 1u) {
        line[line_length] = 0;
        (void)semihost(0x04, line); /* SYS_WRITE0 */
        line_length = 0u;
    }
}

void port_exit(int code) {
    /* SYS_EXIT: ADP_Stopped_ApplicationExit, or ADP_Stopped_RunTimeErrorUnknown */
    (void)semihost(0x18, (const void *)(code == 0 ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

void fault_handler(void) {
    const char *text = "@f00000000\n";
    while (*text != 0) {
        port_putc(*text++);
    }
    port_exit(3);
}

void reset_handler(void) {
    uint32_t *source = _sidata;
    uint32_t *target;
    for (target = _sdata; target < _edata;) {
        *target++ = *source++;
    }
    for (target = _sbss; target < _ebss;) {
        *target++ = 0u;
    }
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    port_exit(main());
}

__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)_estack, reset_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0,
    fault_handler, fault_handler,
};
"""

# RISC-V (rv32) on QEMU's virt board: 16550 UART, SiFive test device to exit, minstret counts.
_RV_PORT = r"""
/* RV32 on QEMU virt: UART output, minstret (exact with -icount) counts retired instructions. */
void port_putc(char c);
void port_exit(int code);
extern uint8_t _ebss[];
#define ROWS_STORAGE
#define LOAD_ROW(dst, src, n) memcpy((dst), (src), (n))
static inline void port_init(void) {
}
static inline uint8_t *stack_top(void) {
    uint8_t *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    return sp;
}
static inline uint8_t *stack_floor(uint8_t *top) {
    return (uint32_t)(top - _ebss) > @window@u ? top - @window@u : _ebss;
}
static inline uint32_t read_minstret(void) {
    uint32_t n;
    __asm__ volatile(".insn i 0x73, 2, %0, zero, -1278" : "=r"(n)); /* csrr n, minstret */
    return n;
}
static inline uint32_t counter_start(void) {
    return read_minstret();
}
static inline uint32_t counter_stop(uint32_t start) {
    return read_minstret() - start;
}
#if HARNESS_KNOWN_LOOP
/* Known cost: 2 instructions per iteration, then the return. */
__asm__(".text\n.balign 2\n.global bench_one\n.type bench_one, @function\nbench_one:\n"
        "1: addi a0, a0, -1\n bnez a0, 1b\n ret\n.size bench_one, . - bench_one\n");
#endif
"""

_RV_RUNTIME = r"""/* RV32 start-up for QEMU's virt board (mcuport firmware harness). */
#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
int main(void);
void port_putc(char c);
void port_exit(int code);
void reset_handler(void);
void trap_handler(void);

#define UART ((volatile uint8_t *)0x10000000u)
#define TEST_DEVICE ((volatile uint32_t *)0x00100000u)

__asm__(".section .text.start, \"ax\"\n.global _start\n_start:\n"
        " la sp, _estack\n la t0, trap_entry\n"
        " .insn i 0x73, 1, zero, t0, 0x305\n" /* csrw mtvec, t0 (needs no zicsr) */
        " j reset_handler\n"
        ".balign 4\ntrap_entry:\n la sp, _estack\n j trap_handler\n.text\n");

void port_putc(char c) {
    while ((UART[5] & 0x20u) == 0u) { /* LSR: transmit holding register empty */
    }
    UART[0] = (uint8_t)c;
}

void port_exit(int code) {
    *TEST_DEVICE = code == 0 ? 0x5555u : (((uint32_t)code << 16) | 0x3333u);
    for (;;) {
    }
}

void trap_handler(void) {
    const char *text = "@f00000000\n";
    while (*text != 0) {
        port_putc(*text++);
    }
    port_exit(3);
}

void reset_handler(void) {
    uint32_t *source = _sidata;
    uint32_t *target;
    for (target = _sdata; target < _edata;) {
        *target++ = *source++;
    }
    for (target = _sbss; target < _ebss;) {
        *target++ = 0u;
    }
    port_exit(main());
}
"""

# AVR (avr5) under simavr: avr-libc start-up, UART0 output, Timer1 counts cycles.
_AVR_PORT = r"""
/* AVR under simavr: rows in PROGMEM, UART0 output, Timer1 at prescaler 1 counts cycles. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#define ROWS_STORAGE PROGMEM
#define LOAD_ROW(dst, src, n) memcpy_P((dst), (src), (n))
#define OVERFLOW_CYCLES @overflow_cycles@u
extern uint8_t __heap_start[]; /* end of .bss and .noinit (avr-libc's linker script) */
volatile uint16_t timer_overflows;

/* Extends Timer1 to 32 bits. Naked, so that its cost is the same fixed count every time. */
ISR(TIMER1_OVF_vect, ISR_NAKED) {
    __asm__ volatile(
        "push r24\n in r24, __SREG__\n push r24\n push r25\n"
        "lds r24, timer_overflows\n lds r25, timer_overflows+1\n adiw r24, 1\n"
        "sts timer_overflows+1, r25\n sts timer_overflows, r24\n"
        "pop r25\n pop r24\n out __SREG__, r24\n pop r24\n reti\n");
}

static void port_putc(char c) {
    while ((UCSR0A & _BV(UDRE0)) == 0u) {
    }
    UDR0 = (uint8_t)c;
}

static void port_exit(int code) {
    (void)code;
    cli();
    sleep_cpu(); /* simavr ends on sleep with interrupts off */
}

static inline void port_init(void) {
    UBRR0 = 0u; /* 1 Mbaud at 16 MHz */
    UCSR0B = _BV(TXEN0);
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
    TCCR1A = 0u;
    TCCR1B = 0u;
    TIMSK1 = _BV(TOIE1);
    sei();
}

/* SP points at the next free byte: the used stack starts one above it. */
static inline uint8_t *stack_top(void) {
    return (uint8_t *)(uintptr_t)SP + 1;
}
static inline uint8_t *stack_floor(uint8_t *top) {
    (void)top;
    return __heap_start;
}

static inline uint32_t counter_start(void) {
    TCCR1B = 0u;
    TCNT1 = 0u;
    TIFR1 = _BV(TOV1);
    timer_overflows = 0u;
    TCCR1B = _BV(CS10);
    return 0u;
}

/* Ticks so far, less the cycles of the overflow interrupts taken; an overflow still pending
 * (the flag set, its interrupt not taken) counts without them. */
static inline uint32_t counter_stop(uint32_t start) {
    uint16_t ticks, overflows;
    uint8_t pending;
    uint32_t total;
    cli();
    ticks = TCNT1;
    pending = TIFR1 & _BV(TOV1);
    overflows = timer_overflows;
    TCCR1B = 0u;
    sei();
    total = ((uint32_t)overflows << 16) + ticks - (uint32_t)overflows * OVERFLOW_CYCLES;
    if (pending != 0u && ticks < 0x8000u) {
        total += 0x10000ul;
    }
    return total - start;
}
#if HARNESS_KNOWN_LOOP
/* Known cost: 6 cycles per iteration (subi, 3 sbci, taken brne), 1 less for the last. */
__asm__(".text\n.global bench_one\n.type bench_one, @function\nbench_one:\n"
        "1: subi r22, 1\n sbci r23, 0\n sbci r24, 0\n sbci r25, 0\n brne 1b\n ret\n"
        ".size bench_one, . - bench_one\n");
#endif
"""

_LINKER_SCRIPT = """/* mcuport firmware harness */
ENTRY(@entry@)
MEMORY {
  FLASH (rx) : ORIGIN = @flash_origin@, LENGTH = @flash_length@
  RAM (rwx) : ORIGIN = @ram_origin@, LENGTH = @ram_length@
}
SECTIONS {
  .text : {
    KEEP(*(.vectors)) KEEP(*(.text.start))
    *(.text .text.*) *(.rodata .rodata.* .srodata .srodata.*)
    . = ALIGN(4);
  } > FLASH
  .data : {
    _sdata = .;
    *(.data .data.* .sdata .sdata.*)
    . = ALIGN(4);
    _edata = .;
  } > RAM AT > FLASH
  _sidata = LOADADDR(.data);
  .bss (NOLOAD) : {
    _sbss = .;
    *(.bss .bss.* .sbss .sbss.* COMMON)
    . = ALIGN(4);
    _ebss = .;
  } > RAM
  _estack = ORIGIN(RAM) + LENGTH(RAM);
}
"""


@dataclass(frozen=True)
class _Arch:
    """What differs per instruction set."""

    port: str
    runtime: Optional[str]   # own start-up (bare metal), or None: the toolchain's C runtime
    entry: str               # the ELF entry symbol of own start-up
    link_flags: Tuple[str, ...]
    libs: Tuple[str, ...]
    emulator_args: Tuple[str, ...]  # after the target's emulator command; {elf}: the image
    count_unit: str
    counter_on_chip: bool    # False: Unicorn counts (Cortex-M)
    known_loop_cost: Tuple[int, int]  # (per iteration, constant) of the known loop


_ARCHES = {
    # newlib-nano, as most Cortex-M firmware links: a 100-byte struct _reent for the errno of
    # expf and tanhf instead of newlib's 1 KB.
    "armv6m": _Arch(_ARM_PORT, _ARM_RUNTIME, "reset_handler", ("-nostartfiles",
                                                                "--specs=nano.specs"),
                    ("-lm", "-lc", "-lgcc"),
                    ("-nographic", "-semihosting", "-kernel", "{elf}"), "instructions (Unicorn)",
                    False, (2, 0)),
    "rv32": _Arch(_RV_PORT, _RV_RUNTIME, "_start", ("-nostartfiles",),
                  ("-lm", "-lc", "-lgcc"),
                  ("-bios", "none", "-nographic", "-icount", "shift=0", "-kernel", "{elf}"),
                  "instructions (qemu icount)", True, (2, 0)),
    "avr5": _Arch(_AVR_PORT, None, "", (), ("-lm",), ("{elf}",), "cycles (simavr)", True,
                  (6, -1)),
}
_ARCHES["armv7em"] = _ARCHES["armv6m"]


def _find_target(name: str) -> dict:
    for info in targets():
        if name == info["name"] or name in info.get("aliases", ()):
            return info
    known = ", ".join(t["name"] for t in targets())
    raise ValueError(f"unknown target {name!r} (known targets: {known})")


def _require(tool: str, package: str, what: str) -> str:
    if shutil.which(tool) is None:
        raise ToolchainMissing(
            f"{tool} ({what}) is not installed: apt-get install {package} (Debian)")
    return tool


def find_target(name: str) -> dict:
    """The target description (:func:`mcuport.targets`) of a name or alias; ValueError listing
    the known targets otherwise."""
    return _find_target(name)


def require_tools(info: dict) -> Tuple["_Arch", str, str]:
    """Checks that the target of description `info` can be built and emulated here: returns
    (its harness architecture, compiler, size tool). Raises ValueError for the host and
    ToolchainMissing, naming the package, for anything missing; nothing falls back."""
    arch = info["arch"]
    if arch not in _ARCHES:
        if arch == "host":
            raise ValueError(
                f"target {info['name']!r} is this machine: use mcuport.host.HostModel")
        raise ToolchainMissing(
            f"no emulator for target {info['name']!r} (arch {arch}) runs here: "
            f"{info['description']}")
    compiler = _require(info["compiler"], info["toolchain_package"] or "?",
                        "the target's cross compiler")
    emulator = info["emulator"].split()
    if not emulator:
        raise ToolchainMissing(f"target {info['name']!r} names no emulator")
    _require(emulator[0], info["emulator_package"], "the target's emulator")
    size_tool = _require(re.sub(r"gcc$", "size", compiler), info["toolchain_package"],
                         "binutils of the cross compiler")
    return _ARCHES[arch], compiler, size_tool


def _machine(emulator: str) -> str:
    words = emulator.split()
    for flag, value in zip(words, words[1:]):
        if flag in ("-M", "-machine", "--machine"):
            return value.split(",")[0]
    raise ValueError(f"emulator command {emulator!r} names no machine (-M)")


def _cflag(cflags: Sequence[str], prefix: str) -> Optional[str]:
    for flag in cflags:
        if flag.startswith(prefix):
            return flag[len(prefix):]
    return None


def _fill(template: str, values: Dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    leftover = re.search(r"@[a-z_]+@", template)
    if leftover:
        raise AssertionError(f"template key {leftover.group(0)} not filled")
    return template


def _c_rows(words: np.ndarray, hex_digits: int) -> str:
    lines = []
    for row in words:
        lines.append("    {" + ", ".join(f"0x{int(w):0{hex_digits}x}u" for w in row) + "},")
    return "\n".join(lines)


_C_TYPES = {"float": np.float32, "int32_t": np.int32, "int64_t": np.int64}


class _Build:
    """One firmware image: its ELF, sizes and symbols."""

    def __init__(self, elf: Path, sizes: Tuple[int, int, int], command: str) -> None:
        self.elf = elf
        self.text, self.data, self.bss = sizes
        self.command = command

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


class _Firmware:
    """Builds and runs harness firmware for one target (no model knowledge beyond the header's
    symbols): the machinery shared by TargetModel and measure_known_loop."""

    def __init__(self, info: dict, generated: Union[Generated, ForeignCode, None],
                 workdir: Path, timeout: float) -> None:
        self.info = info
        self.generated = generated
        self.workdir = workdir
        self.timeout = timeout
        self.arch, self.compiler, self.size_tool = require_tools(info)
        self.cflags = list(info["cflags"])
        self.machine = _machine(info["emulator"]) if self.arch.runtime is not None else ""
        if self.arch.runtime is not None:
            if self.machine not in _BOARDS:
                raise ValueError(f"no memory map known for emulated machine {self.machine!r}")
            board = _BOARDS[self.machine]
            self.flash_region = (board["flash"][0], min(board["flash"][1], info["flash_bytes"]))
            self.ram_region = (board["ram"][0], min(board["ram"][1], info["ram_bytes"]))
        else:
            self.flash_region = (0, info["flash_bytes"])
            self.ram_region = (0, info["ram_bytes"])
        self._builds = 0

    # -- building ------------------------------------------------------------------------------

    def build(self, words: np.ndarray, *, model: bool, known_loop_args: Optional[Sequence[int]]
              = None, scores: bool = True) -> _Build:
        """Compiles the harness around `words` (one row of raw input words per row); without
        `scores`, a model that has predict is linked without its scores function."""
        self._builds += 1
        directory = self.workdir / f"build-{self._builds}"
        directory.mkdir(parents=True, exist_ok=True)
        g = self.generated
        fixed = g is None or g.numeric == "fixed"
        known_loop = known_loop_args is not None
        args = ""
        bench_arg = "(row)"
        if known_loop:
            args = ("static const uint32_t bench_args[N_ROWS] = {"
                    + ", ".join(f"{int(a)}ul" for a in known_loop_args) + "};\n")
            bench_arg = "(bench_args[row])"
        has_predict = bool(g and g.predict_type)
        n_scores = g.n_scores if g else 0
        port = _fill(self.arch.port, {
            "window": str(_PAINT_WINDOW),
            "overflow_cycles": str(_AVR_OVERFLOW_CYCLES),
        })
        defines = (
            f"#define HARNESS_MODEL {1 if model else 0}\n"
            f"#define HARNESS_KNOWN_LOOP {1 if known_loop else 0}\n"
            f"#define HARNESS_SCORES {1 if scores else 0}\n"
            f"#define BENCH_ARG(row) {bench_arg}"
        )
        source = _fill(_HARNESS, {
            "defines": defines,
            "port": port,
            "n_rows": str(len(words)),
            "n_features": str(words.shape[1]),
            "word_t": "uint16_t" if fixed else "uint32_t",
            "rows": _c_rows(words, 4 if fixed else 8),
            "args": args,
            "input_t": "int16_t" if fixed else "float",
            "predict_t": (g.predict_type if has_predict else "int32_t"),
            "score_t": (g.score_type if n_scores else "int32_t"),
            "n_scores_or_1": str(max(n_scores, 1)),
            "n_scores": str(n_scores),
            "has_predict": "1" if has_predict else "0",
            "scores_scalar": "1" if g and g.scores_scalar else "0",
            "scores_function": (g.scores_function if g and g.scores_function else "(void)"),
            "p": g.name if g else "m",
        })
        # The harness and the model are one translation unit, as in a user's firmware; foreign
        # code sets its language and warnings (runtime.c is always C with the strict flags).
        foreign = g if isinstance(g, ForeignCode) else None
        cplusplus = foreign is not None and foreign.language == "c++"
        harness = "harness.cpp" if cplusplus else "harness.c"
        (directory / harness).write_text(source)
        if g is not None:
            (directory / "model.h").write_text(g.header)
        strict = ["-std=c99", *STRICT_FLAGS]
        language = strict
        compiler = self.compiler
        if foreign is not None:
            language = ([*_CXX_FLAGS] if cplusplus else ["-std=c99"]) + (
                list(STRICT_FLAGS) if foreign.strict_warnings else [])
            language += [f"-I{d}" for d in foreign.include_dirs]
            compiler = self.cxx_compiler() if cplusplus else self.compiler
        sections = ["-ffunction-sections", "-fdata-sections"]
        elf = directory / "fw.elf"
        if self.arch.runtime is None:
            compile_command = [compiler, *self.cflags, *language, *sections, harness,
                               "-Wl,--gc-sections", "-o", "fw.elf", *self.arch.libs]
            self._run_compiler(compile_command, directory)
        else:
            (directory / "runtime.c").write_text(self.arch.runtime)
            (directory / "link.ld").write_text(_fill(_LINKER_SCRIPT, {
                "entry": self.arch.entry,
                "flash_origin": hex(self.flash_region[0]),
                "flash_length": str(self.flash_region[1]),
                "ram_origin": hex(self.ram_region[0]),
                "ram_length": str(self.ram_region[1]),
            }))
            compile_command = [compiler, *self.cflags, *language, *sections, "-c",
                               harness, "-o", "harness.o"]
            self._run_compiler(compile_command, directory)
            self._run_compiler([self.compiler, *self.cflags, *strict, *sections,
                                "-ffreestanding", "-c", "runtime.c", "-o", "runtime.o"],
                               directory)
            self._run_compiler([compiler, *self.cflags, *self.arch.link_flags, "-T",
                                "link.ld", "-Wl,--gc-sections", "harness.o", "runtime.o",
                                "-Wl,--start-group", *self.arch.libs, "-Wl,--end-group",
                                "-o", "fw.elf"], directory)
        return _Build(elf, self._sizes(elf), " ".join(compile_command))

    def cxx_compiler(self) -> str:
        """The C++ driver beside the target's C compiler (arm-none-eabi-g++, avr-g++)."""
        return _require(re.sub(r"gcc$", "g++", self.compiler),
                        self.info["toolchain_package"] or "?", "the target's C++ compiler")

    def _run_compiler(self, command: List[str], directory: Path) -> None:
        try:
            done = subprocess.run(command, cwd=directory, capture_output=True, text=True,
                                  timeout=self.timeout)
        except subprocess.TimeoutExpired as error:
            raise CompileError(f"{' '.join(command)} did not finish in {self.timeout} s") \
                from error
        if done.returncode != 0:
            raise CompileError(f"{' '.join(command)} failed (in {directory}):\n{done.stderr}")

    def _sizes(self, elf: Path) -> Tuple[int, int, int]:
        done = subprocess.run([self.size_tool, str(elf)], capture_output=True, text=True,
                              check=True)
        text, data, bss = (int(v) for v in done.stdout.splitlines()[1].split()[:3])
        return text, data, bss

    # -- running -------------------------------------------------------------------------------

    def emulator_command(self, elf: Path) -> List[str]:
        args = [str(elf) if a == "{elf}" else a for a in self.arch.emulator_args]
        return [*self.info["emulator"].split(), *args]

    def run(self, build: _Build) -> Tuple[Dict[str, List[int]], str]:
        """Runs the firmware; returns the words printed per tag and the command."""
        command = self.emulator_command(build.elf)
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=self.timeout)
        except subprocess.TimeoutExpired as error:
            raise FirmwareError(f"{' '.join(command)} did not finish in {self.timeout} s") \
                from error
        output = done.stdout + done.stderr
        words: Dict[str, List[int]] = {}
        for tag, value in re.findall(r"@([a-z])([0-9a-f]{8})", output):
            words.setdefault(tag, []).append(int(value, 16))
        if "f" in words or "e" not in words:
            tail = "\n".join(output.splitlines()[-20:])
            what = "faulted" if "f" in words else "did not run to its end"
            raise FirmwareError(
                f"the firmware {what} ({' '.join(command)}, exit {done.returncode}):\n{tail}")
        return words, " ".join(command)


class _UnicornCounter:
    """Counts the instructions of bench_one under Unicorn (Cortex-M): the ELF's segments are
    loaded as the start-up code would leave them, each row is loaded by the firmware's own
    load_row, and each function runs from its entry until it returns to a trap address.

    A hook per translated block adds the block's instruction count (decoded once): every
    instruction issued, including those an IT block skips, which occupy the pipeline as real
    cores do. A hook per instruction (``per_instruction``, slower) sees only the ones whose
    condition passes; on ARMv6-M, which has no IT, the two agree.
    """

    def __init__(self, firmware: _Firmware, build: _Build, *, per_instruction: bool = False):
        try:
            import unicorn
            from unicorn import arm_const
            from elftools.elf.elffile import ELFFile
        except ImportError as error:
            raise ToolchainMissing(
                "instruction counts on Cortex-M need Unicorn and pyelftools: "
                "pip install unicorn pyelftools") from error
        self._unicorn = unicorn
        self._arm = arm_const
        cpu = _UNICORN_CPUS.get(_cflag(firmware.cflags, "-mcpu=") or "")
        if cpu is None:
            raise ValueError(f"no Unicorn CPU model for flags {firmware.cflags}")
        # Not UC_MODE_MCLASS: Unicorn 2.1 then ignores the model and emulates a Cortex-M33
        # (single-precision FPU only). The Cortex-M models are M-profile cores by themselves.
        uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB)
        uc.ctl_set_cpu_model(getattr(arm_const, cpu))
        if uc.ctl_get_cpu_model() != getattr(arm_const, cpu):
            raise ToolchainMissing(f"this Unicorn ({unicorn.__version__}) cannot emulate {cpu}")
        self.version = unicorn.__version__
        self.cpu = cpu
        for origin, length in (firmware.flash_region, firmware.ram_region):
            uc.mem_map(origin, (length + 0xFFF) & ~0xFFF)
        with open(build.elf, "rb") as f:
            elf = ELFFile(f)
            for segment in elf.iter_segments():
                if segment["p_type"] == "PT_LOAD" and segment["p_memsz"]:
                    uc.mem_write(segment["p_vaddr"], segment.data())
            self.symbols = {symbol.name: symbol["st_value"]
                            for symbol in elf.get_section_by_name(".symtab").iter_symbols()}
        self.stack_top = self.symbols["_estack"]
        # Returning here ends a call: an address in flash that no code occupies.
        self.trap = firmware.flash_region[0] + firmware.flash_region[1] - 0x10
        self.uc = uc
        self.count = 0
        if per_instruction:
            uc.hook_add(unicorn.UC_HOOK_CODE, self._on_instruction)
        else:
            self._block_sizes: Dict[Tuple[int, int], int] = {}
            uc.hook_add(unicorn.UC_HOOK_BLOCK, self._on_block)

    def _on_instruction(self, uc, address, size, user_data) -> None:
        self.count += 1

    def _on_block(self, uc, address, size, user_data) -> None:
        key = (address, size)
        n = self._block_sizes.get(key)
        if n is None:
            # Thumb: a halfword starting 0b11101, 0b11110 or 0b11111 opens a 32-bit instruction.
            code = bytes(uc.mem_read(address, size))
            n, i = 0, 0
            while i < size:
                halfword = code[i] | (code[i + 1] << 8)
                i += 4 if (halfword >> 11) in (0b11101, 0b11110, 0b11111) else 2
                n += 1
            self._block_sizes[key] = n
        self.count += n

    def call(self, function: str, arg: int) -> int:
        """Runs function(arg) to its return; the instructions it executed."""
        uc, arm = self.uc, self._arm
        uc.reg_write(arm.UC_ARM_REG_SP, self.stack_top)
        uc.reg_write(arm.UC_ARM_REG_LR, self.trap | 1)
        uc.reg_write(arm.UC_ARM_REG_R0, arg)
        self.count = 0
        try:
            uc.emu_start(self.symbols[function] | 1, self.trap, timeout=600 * 1000 * 1000)
        except self._unicorn.UcError as error:
            pc = uc.reg_read(arm.UC_ARM_REG_PC)
            raise FirmwareError(f"Unicorn stopped in {function}({arg}) at {pc:#x}: {error}") \
                from error
        if uc.reg_read(arm.UC_ARM_REG_PC) != self.trap:
            raise FirmwareError(f"{function}({arg}) did not return within 600 s under Unicorn")
        return self.count

    def read(self, symbol: str, size: int) -> bytes:
        return bytes(self.uc.mem_read(self.symbols[symbol], size))


def _split(n: int, capacity: int) -> List[Tuple[int, int]]:
    chunks = max(1, math.ceil(n / capacity))
    bounds = np.linspace(0, n, chunks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


_OPTIMIZE_FLAGS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Og")


class TargetModel:
    """A generated header built into firmware for an emulated microcontroller, callable on
    whole arrays like :class:`mcuport.host.HostModel`. A :class:`ForeignCode` (another tool's
    code, float inputs) runs the same way on the ``target`` given.

    The constructor compiles the firmware once (a warning in the generated header is a
    :class:`mcuport.host.CompileError`) and once more with an empty model, for the sizes. Rows
    that do not fit the target's flash in one image run in several images, transparently.
    ``timeout``: the seconds any one compiler or emulator run may take. ``optimize``: an
    optimisation flag (``"-O0"``, ``"-O2"``, ...) in place of the target's (``-Os``), to run the
    code as an unoptimised debug build or a speed build compiles it.
    """

    def __init__(self, generated: Union[Generated, ForeignCode], target: Optional[str] = None,
                 *, workdir=None, timeout: float = 600.0, optimize: Optional[str] = None) -> None:
        self.generated = generated
        if target is None and isinstance(generated, ForeignCode):
            raise ValueError("foreign code runs on the target given: pass target=")
        name = target if target is not None else generated.target
        self.info = _find_target(name)
        if optimize is not None:
            if optimize not in _OPTIMIZE_FLAGS:
                raise ValueError(f"optimize must be one of {', '.join(_OPTIMIZE_FLAGS)}, got "
                                 f"{optimize!r}")
            self.info = dict(self.info, cflags=[optimize if flag.startswith("-O") else flag
                                                for flag in self.info["cflags"]])
        self.target = self.info["name"]
        self._tmp = None if workdir is not None else tempfile.TemporaryDirectory(
            prefix="mcuport-fw-")
        self.workdir = Path(workdir if workdir is not None else self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._firmware = _Firmware(self.info, generated, self.workdir, timeout)
            self._probe()
        except BaseException:
            self.close()
            raise

    def _probe(self) -> None:
        one = np.zeros((1, self.generated.n_features), dtype=self._word_dtype)
        model = self._firmware.build(one, model=True)
        empty = self._firmware.build(one, model=False)
        self.model_flash_bytes = model.flash - empty.flash
        self._empty_flash = empty.flash
        self._predict_flash: Optional[int] = None
        self.model_ram_bytes = model.ram - empty.ram
        self.compiler_command = model.command
        flash_limit = self._firmware.flash_region[1]
        ram_limit = self._firmware.ram_region[1]
        if model.ram + 64 > ram_limit:
            raise FirmwareError(
                f"the firmware needs {model.ram} bytes of static RAM ({self.model_ram_bytes} of "
                f"them the model's) and at least 64 bytes of stack; {self.target} has {ram_limit}")
        row_bytes = one.itemsize * one.shape[1]
        spare = flash_limit - model.flash - 16  # 16: alignment of a larger row table
        if spare < 0:
            raise FirmwareError(
                f"the firmware takes {model.flash} bytes of flash ({self.model_flash_bytes} of "
                f"them the model's); {self.target} has {flash_limit}")
        self.rows_per_image = 1 + spare // row_bytes
        """How many rows one firmware image holds; more run in several images."""

    @property
    def predict_flash_bytes(self) -> int:
        """Flash of the model in a firmware calling predict only (see Measurement); built on
        first use, and only where the model has both predict and scores."""
        if self._predict_flash is None:
            self._predict_flash = self.model_flash_bytes
            if self.generated.predict_type and self.generated.n_scores:
                one = np.zeros((1, self.generated.n_features), dtype=self._word_dtype)
                alone = self._firmware.build(one, model=True, scores=False)
                self._predict_flash = alone.flash - self._empty_flash
        return self._predict_flash

    @property
    def fixed(self) -> bool:
        return self.generated.numeric == "fixed"

    @property
    def _word_dtype(self):
        return np.uint16 if self.fixed else np.uint32

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "TargetModel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _rows(self, inputs) -> np.ndarray:
        dtype = np.int16 if self.fixed else np.float32
        rows = np.ascontiguousarray(inputs, dtype=dtype)
        n_features = self.generated.n_features
        if rows.ndim != 2 or rows.shape[1] != n_features:
            raise ValueError(f"inputs must have shape (n, {n_features}), got {rows.shape}")
        return rows.view(self._word_dtype)

    def _results(self, words: Dict[str, List[int]], n: int):
        g = self.generated
        y = scores = None
        if g.predict_type:
            data = np.array(words.get("p", []), dtype="<u4").tobytes()
            y = np.frombuffer(data, dtype=_C_TYPES[g.predict_type]).copy()
        if g.n_scores:
            data = np.array(words.get("s", []), dtype="<u4").tobytes()
            scores = np.frombuffer(data, dtype=_C_TYPES[g.score_type]).reshape(n, g.n_scores)
        if (y is not None and len(y) != n) or len(words.get("r", [])) != n:
            raise FirmwareError("the firmware printed an incomplete set of results")
        return y, (scores.copy() if scores is not None else None)

    def _execute(self, inputs, measure: bool):
        rows = self._rows(inputs)
        if len(rows) == 0:
            raise ValueError("inputs hold no rows")
        results, counts, stacks, command = [], [], [], ""
        build = None
        g = self.generated
        # A model with both predict and a scores function is measured in a firmware that calls
        # predict only, the one predict_flash_bytes sizes: what a user who calls predict gets
        # (the compiler may inline a function that has one caller). Its answers must be the
        # whole firmware's.
        alone = measure and bool(g.predict_type and g.n_scores)
        for start, stop in _split(len(rows), self.rows_per_image):
            build = self._firmware.build(rows[start:stop], model=True)
            words, command = self._firmware.run(build)
            y, scores = self._results(words, stop - start)
            results.append((y, scores))
            if alone:
                build = self._firmware.build(rows[start:stop], model=True, scores=False)
                words, command = self._firmware.run(build)
                if self._results(words, stop - start)[0].tobytes() != y.tobytes():
                    raise FirmwareError("the firmware calling predict alone answers differently "
                                        "from the one that also calls the scores function")
            if measure:
                stack = max(words["k"])
                if stack >= words["w"][0]:
                    raise FirmwareError(
                        f"a call used all {words['w'][0]} bytes of free stack: it overflows")
                stacks.append(stack)
                if self._firmware.arch.counter_on_chip:
                    counts.append(np.array(words["c"], dtype=np.int64))
                else:
                    counter = _UnicornCounter(self._firmware, build)
                    counts.append(self._unicorn_counts(counter, stop - start, y, scores))
                    command += (f" ; counts: Unicorn {counter.version} "
                                f"({counter.cpu}) on the same ELF")
        ys = None if results[0][0] is None else np.concatenate([r[0] for r in results])
        ss = None if results[0][1] is None else np.concatenate([r[1] for r in results])
        if not measure:
            return ys, ss
        return Measurement(
            target=self.target,
            predictions=ys,
            scores=ss,
            counts=np.concatenate(counts),
            count_unit=self._firmware.arch.count_unit,
            peak_stack_bytes=int(max(stacks)),
            model_flash_bytes=int(self.model_flash_bytes),
            model_ram_bytes=int(self.model_ram_bytes),
            predict_flash_bytes=int(self.predict_flash_bytes),
            emulator=command,
            compiler_command=self.compiler_command,
            firmware_directory=build.elf.parent,
        )

    def _unicorn_counts(self, counter: _UnicornCounter, n: int, y, scores) -> np.ndarray:
        g = self.generated
        counts = np.empty(n, dtype=np.int64)
        empty = counter.call("bench_empty", 0)
        for row in range(n):
            counter.call("load_row", row)
            counts[row] = counter.call("bench_one", row) - empty
            # Unicorn must compute what QEMU computed, or its counts describe other code.
            if g.predict_type:
                got = counter.read("result_predict", np.dtype(_C_TYPES[g.predict_type]).itemsize)
                if got != y[row:row + 1].tobytes():
                    raise FirmwareError(f"Unicorn and QEMU disagree on row {row}'s prediction")
            elif g.n_scores:
                got = counter.read("result_scores", scores[row].nbytes)
                if got != scores[row].tobytes():
                    raise FirmwareError(f"Unicorn and QEMU disagree on row {row}'s scores")
        return counts

    def run(self, inputs) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """The generated code's answers on the emulated chip; the contract of
        :meth:`mcuport.host.HostModel.run` (int16 codes in fixed mode, float32 rows in float
        mode; returns ``(predictions, scores)``, either None when the model has none)."""
        return self._execute(inputs, measure=False)

    def measure(self, inputs) -> Measurement:
        """Runs the rows and measures each call: counts, peak stack, and the model's sizes."""
        return self._execute(inputs, measure=True)


def measure_known_loop(target: str, iterations: Sequence[int], *, workdir=None,
                       per_instruction: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """The counter's self-check: a hand-written loop of known cost, measured through the same
    path as a model's bench_one. Returns ``(measured, expected)`` per iteration count; they must
    be equal. ``per_instruction`` (Cortex-M) counts with a hook on every instruction instead of
    one per translated block."""
    info = _find_target(target)
    iterations = [int(n) for n in iterations]
    if min(iterations) < 1:
        raise ValueError("the loop runs at least once")
    with tempfile.TemporaryDirectory(prefix="mcuport-fw-") as tmp:
        firmware = _Firmware(info, None, Path(workdir if workdir is not None else tmp), 600.0)
        words = np.zeros((len(iterations), 1), dtype=np.uint16)
        build = firmware.build(words, model=False, known_loop_args=iterations)
        printed, _ = firmware.run(build)
        if firmware.arch.counter_on_chip:
            measured = np.array(printed["c"], dtype=np.int64)
        else:
            counter = _UnicornCounter(firmware, build, per_instruction=per_instruction)
            empty = counter.call("bench_empty", 0)
            measured = np.array([counter.call("bench_one", n) - empty for n in iterations],
                                dtype=np.int64)
    per_iteration, constant = firmware.arch.known_loop_cost
    expected = np.array([per_iteration * n + constant for n in iterations], dtype=np.int64)
    return measured, expected

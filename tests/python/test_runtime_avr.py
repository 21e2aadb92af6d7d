"""The fixed-point runtime's inline assembly for 8-bit AVR (MCUPORT_FX_AVR_ASM, in
codegen/runtime/mcuport_fixed.h) against the plain C of the same file built for the host: every
shift macro at every literal amount, the 32 x 32 -> 64 products and squares, exp and tanh at
several formats, on rows of edge and random operands. The AVR side runs on the ATmega328P under
simavr in the benchmark's harness (ForeignCode, with mcuport's warnings-as-errors flags)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import SVC

import mcuport
from mcuport.firmware import ForeignCode, TargetModel

from conftest import SEED, require, split

RUNTIME = Path(__file__).resolve().parents[2] / "codegen" / "runtime" / "mcuport_fixed.h"
AVR_TARGET = next(t for t in mcuport.targets() if t["arch"] == "avr5")
STRICT = ("-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wsign-conversion", "-Wshadow",
          "-Werror")

# An operand row: a and b (32-bit) and t (64-bit, two's complement), as 16-bit halves in float32
# inputs (the harness's input type; every half is exact in float32).
PRELUDE = r"""#include <stdint.h>
#ifdef __AVR__
#include <avr/pgmspace.h>
#define MCUPORT_FX_ROM PROGMEM
#define MCUPORT_FX_ROM_U32(address) pgm_read_dword(address)
#endif
@runtime@
static inline uint32_t rt_word(const float x[], unsigned i) {
    return ((uint32_t)x[i] << 16) | (uint32_t)x[i + 1u];
}

static void rt_scores(float x[], int64_t out[]) {
    const uint32_t a = rt_word(x, 0u);
    const uint32_t b = rt_word(x, 2u);
    const uint64_t v = ((uint64_t)a << 32) | b;
    const int64_t t = (int64_t)(((uint64_t)rt_word(x, 4u) << 32) | rt_word(x, 6u));
    (void)a;
    (void)b;
    (void)v;
    (void)t;
@body@}
"""


def _group_body(group: str) -> list:
    """The C statements writing out[k], one per line."""
    if group == "products":
        return ["(int64_t)mcuport_fx_mul_u32(a, b)",
                "mcuport_fx_mul_i32((int32_t)a, (int32_t)b)",
                "(int64_t)mcuport_fx_square_i32((int32_t)a)",
                "(int64_t)mcuport_fx_square_i32((int32_t)b)",
                "mcuport_fx_exp_neg(t, 40)", "mcuport_fx_exp_neg(t, 32)",
                "mcuport_fx_exp_neg(t, 8)", "mcuport_fx_tanh(t, 40)", "mcuport_fx_tanh(t, 36)",
                "(int64_t)mcuport_fx_round_shift_u64(v, (int)(b & 63u))",
                "(int64_t)mcuport_fx_shr_u32(a, (int)(b & 31u))"]
    if group == "shr64":
        return [f"(int64_t)MCUPORT_FX_SHR64(v, {n})" for n in range(64)]
    if group == "shl64":
        return [f"(int64_t)MCUPORT_FX_SHL64(v, {n})" for n in range(64)]
    if group == "shr32":
        return ([f"(int64_t)MCUPORT_FX_SHR32(a, {n})" for n in range(32)]
                + [f"(int64_t)mcuport_fx_shr_u32(b, {n})" for n in range(32)])
    if group == "round":
        return [f"(int64_t)MCUPORT_FX_ROUND_SHR64(v, {n})" for n in range(1, 64)]
    raise ValueError(group)


GROUPS = ("products", "shr64", "shl64", "shr32", "round")


def _source(group: str) -> tuple:
    lines = _group_body(group)
    body = "".join(f"    out[{k}] = {line};\n" for k, line in enumerate(lines))
    text = PRELUDE.replace("@runtime@", RUNTIME.read_text()).replace("@body@", body)
    return text, len(lines)


def _operands(n_random: int) -> np.ndarray:
    """Rows of a, b and t: edges (0, 1, the sign bit, all ones, powers of two and their
    neighbours; exp's and tanh's breakpoints: 0, n ln2 in Q40, 22 and 11.125) and random words."""
    rng = np.random.default_rng(SEED)
    words32 = [0, 1, 2, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001,
               0xFFFFFFFF, 0xFFFFFFFE, 0x01000000, 0x00FFFFFF]
    ln2_q40 = 762123384786
    times = [0, 1, -1, -(1 << 40), 1 << 40, 22 << 40, (22 << 40) - 1, (22 << 40) + 1,
             (89 << 37) - 1, 89 << 37, (1 << 63) - 1, -(1 << 63)]
    times += [n * ln2_q40 + d for n in range(0, 33, 4) for d in (-1, 0, 1)]
    times += [(22 << f) + d for f in (8, 32) for d in (-1, 0, 1)]  # exp's t >= 22 in Q8, Q32
    # every pair of edge words (the product's carries: all ones times all ones, INT32_MIN^2)
    pairs = [(a, b) for a in words32 for b in words32]
    rows = [(a, b, times[i % len(times)]) for i, (a, b) in enumerate(pairs)]
    for _ in range(n_random):
        kind = rng.integers(4)
        a = int(rng.integers(0, 1 << 32, dtype=np.uint64))
        b = int(rng.integers(0, 1 << 32, dtype=np.uint64))
        if kind == 0:    # exp's and tanh's working range in Q40
            t = int(rng.integers(0, 23 << 40))
        elif kind == 1:  # small arguments: exp near 1, tanh near its slope
            t = int(rng.integers(0, 1 << int(rng.integers(1, 40))))
        elif kind == 2:
            t = int(rng.integers(-(1 << 62), 1 << 62))
        else:            # narrow operands, as the kernels' distances are
            a >>= int(rng.integers(0, 32))
            b >>= int(rng.integers(0, 32))
            t = int(rng.integers(0, 1 << 45))
        rows.append((a, b, t))
    halves = []
    for a, b, t in rows:
        u = t & ((1 << 64) - 1)
        words = (a >> 16, a & 0xFFFF, b >> 16, b & 0xFFFF,
                 u >> 48, (u >> 32) & 0xFFFF, (u >> 16) & 0xFFFF, u & 0xFFFF)
        halves.append(words)
    return np.array(halves, dtype=np.float32)


def _host_results(source: str, n_out: int, rows: np.ndarray, tmp_path: Path) -> np.ndarray:
    """The same functions built for the host (plain C: MCUPORT_FX_AVR_ASM is 0 there)."""
    require("gcc", "gcc")
    literal = ",\n".join("{" + ", ".join(f"{v:.1f}f" for v in row) + "}" for row in rows)
    program = source + f"""
#include <stdio.h>
#include <inttypes.h>
static float rows[{len(rows)}][8] = {{
{literal}
}};
int main(void) {{
    int64_t out[{n_out}];
    unsigned r, k;
    for (r = 0u; r < {len(rows)}u; ++r) {{
        rt_scores(rows[r], out);
        for (k = 0u; k < {n_out}u; ++k) {{
            printf("%" PRId64 "\\n", out[k]);
        }}
    }}
    return 0;
}}
"""
    c_file = tmp_path / "host.c"
    c_file.write_text(program)
    exe = tmp_path / "host"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(exe),
                    str(c_file)], check=True, capture_output=True, text=True)
    done = subprocess.run([str(exe)], check=True, capture_output=True, text=True)
    return np.array([int(v) for v in done.stdout.split()], dtype=np.int64).reshape(len(rows), n_out)


@pytest.mark.parametrize("group", GROUPS)
def test_avr_assembly_answers_like_the_plain_c(group, tmp_path):
    require(AVR_TARGET["compiler"], AVR_TARGET["toolchain_package"])
    require(AVR_TARGET["emulator"].split()[0], AVR_TARGET["emulator_package"])
    source, n_out = _source(group)
    rows = _operands(n_random=120)
    assert len(rows) == 14 * 14 + 120
    code = ForeignCode(header=source, name="rt", n_features=8, predict_type="",
                       scores_function="rt_scores", n_scores=n_out, score_type="int64_t",
                       strict_warnings=True)
    with TargetModel(code, AVR_TARGET["name"], workdir=tmp_path) as chip:
        _, scores = chip.run(rows)
    expected = _host_results(source, n_out, rows, tmp_path)
    assert scores.shape == expected.shape
    mismatches = np.argwhere(scores != expected)
    assert len(mismatches) == 0, (
        f"{len(mismatches)} results differ, first at row {mismatches[0][0]}, "
        f"{_group_body(group)[mismatches[0][1]]}: AVR {scores[tuple(mismatches[0])]}, "
        f"host {expected[tuple(mismatches[0])]}")


def test_avr_assembly_is_compiled_in(tmp_path):
    """What an RBF kernel takes from the runtime (products, squares, exp in Q40, a rounding
    shift by a literal), built for the ATmega328P, has MUL instructions inline and calls none of
    avr-gcc's 64-bit shift or multiply helpers; with MCUPORT_FX_AVR_ASM 0 it calls them."""
    require(AVR_TARGET["compiler"], AVR_TARGET["toolchain_package"])
    c_file = tmp_path / "rt.c"
    c_file.write_text(PRELUDE.split("@runtime@")[0] + RUNTIME.read_text() + """
uint64_t rt_signed(int64_t v, uint64_t w);
uint64_t rt_signed(int64_t v, uint64_t w) { /* casts as the plain C macros: no warning */
    return MCUPORT_FX_SHR64(v, 3) + MCUPORT_FX_SHL64(v, 5) + MCUPORT_FX_SHR32(w, 7) +
           MCUPORT_FX_ROUND_SHR64(v, 9);
}
int32_t rt_kernel(int32_t d, int32_t e, int32_t coef, int64_t *acc);
int32_t rt_kernel(int32_t d, int32_t e, int32_t coef, int64_t *acc) {
    const uint64_t sum = mcuport_fx_square_i32(d) + mcuport_fx_square_i32(e);
    const int32_t k = mcuport_fx_exp_neg((int64_t)MCUPORT_FX_ROUND_SHR64(sum, 8), 40);
    *acc += mcuport_fx_mul_i32(coef, k);
    return k;
}
""")
    listings = {}
    for asm in ("1", "0"):
        obj = tmp_path / f"rt{asm}.o"
        subprocess.run([AVR_TARGET["compiler"], "-mmcu=atmega328p", "-Os", "-std=c99",
                        *STRICT, f"-DMCUPORT_FX_AVR_ASM={asm}", "-c", "-o", str(obj),
                        str(c_file)], check=True, capture_output=True, text=True)
        listings[asm] = subprocess.run(["avr-objdump", "-dr", str(obj)], check=True,
                                       capture_output=True, text=True).stdout
    helpers = ("__ashldi3", "__lshrdi3", "__muldi3", "__umulsidi3", "__mulsidi3")
    assert [h for h in helpers if h in listings["1"]] == []
    assert [h for h in helpers if h in listings["0"]] != []
    assert "\tmul\t" in listings["1"]


@pytest.mark.parametrize("mcu", ["attiny85", "attiny2313"])
def test_avr_cores_without_mul_take_the_plain_products(mcu, tmp_path):
    """Classic ATtiny cores have no MUL instruction: there the products are the plain C (the
    shifts keep their assembly), and an RBF SVC's fixed header compiles with the strict flags."""
    require(AVR_TARGET["compiler"], AVR_TARGET["toolchain_package"])
    X_train, _, y_train, _ = split("iris")
    svc = SVC(kernel="rbf").fit(X_train, y_train)
    generated = mcuport.generate(svc, name="m", numeric="fixed", calibration=X_train,
                                 target=AVR_TARGET["name"])
    c_file = tmp_path / "m.c"
    c_file.write_text(generated.header + "\nint32_t run(const int16_t x[]);\n"
                      "int32_t run(const int16_t x[]) { return m_predict(x); }\n")
    obj = tmp_path / "m.o"
    subprocess.run([AVR_TARGET["compiler"], f"-mmcu={mcu}", "-Os", "-std=c99", *STRICT, "-c",
                    "-o", str(obj), str(c_file)], check=True, capture_output=True, text=True)
    listing = subprocess.run(["avr-objdump", "-d", str(obj)], check=True, capture_output=True,
                             text=True).stdout
    assert "\tmul\t" not in listing and "\tlsr\t" in listing

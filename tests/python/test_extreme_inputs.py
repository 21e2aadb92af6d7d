"""Extreme inputs through every public function of every family's header, under the sanitizers.

Each model's header is compiled once with AddressSanitizer and UndefinedBehaviorSanitizer (with
float-cast-overflow, which gcc leaves out of -fsanitize=undefined) and the strict warning flags,
into a harness that calls every function the header's API comment lists on every row:

- fixed mode: every feature -32768, every feature 32767, the two alternations, all 0, all -1,
  each feature alone at either end, and random mixes of the ends; then the float extremes below
  through quantize() (and the codes it gives through everything else), and dequantize() of
  every code row;
- float mode: NaN, +inf, -inf, +FLT_MAX, -FLT_MAX, the smallest subnormal, -0.0 and FLT_MIN,
  in every feature at once and in each feature alone (the others at the training mean), and
  random mixes of them;
- label() and feature_name() at every index from -1 to the count and at INT32_MIN/INT32_MAX,
  and dequantize_output() at the ends of int32.

Any sanitizer report, or any output that is not sane (a class index out of range, probabilities
not adding up, a fixed-mode answer different from the simulator's), fails the test. The answers
that docs/user-guide.md ("Non-finite inputs") and docs/fixed-point.md promise for NaN, the
infinities and the saturated codes are checked row by row at the end of this file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import struct
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope, EmpiricalCovariance, MinCovDet
from sklearn.decomposition import PCA
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import STRICT_FLAGS, HostModel, find_compiler

from conftest import SEED, require, split, thin_mahalanobis

SANITIZE = ("-fsanitize=undefined,address,float-cast-overflow", "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer")
CFLAGS = ("-std=c99", "-O1", "-g", *SANITIZE, *STRICT_FLAGS)

FLT_MAX = float(np.finfo(np.float32).max)
FLT_MIN = float(np.finfo(np.float32).tiny)
FLT_TRUE_MIN = float(np.float32(np.finfo(np.float32).smallest_subnormal))
FLOAT_EXTREMES = {
    "nan": float("nan"), "+inf": float("inf"), "-inf": float("-inf"), "+max": FLT_MAX,
    "-max": -FLT_MAX, "subnormal": FLT_TRUE_MIN, "-0": -0.0, "flt_min": FLT_MIN,
}

# name: (factory, data set, labels: "y", "binary" (class 1 against the rest) or None)
MODELS = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=5, random_state=SEED),
                               "iris", "y"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=5, random_state=SEED),
                              "diabetes", "y"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=5, max_depth=4, random_state=SEED), "wine",
        "y"),
    "RandomForestClassifier(pure)": (
        lambda: RandomForestClassifier(n_estimators=5, random_state=SEED), "iris", "y"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=5, max_depth=4, random_state=SEED),
        "diabetes", "y"),
    "ExtraTreesClassifier": (
        lambda: ExtraTreesClassifier(n_estimators=5, max_depth=4, random_state=SEED),
        "breast_cancer", "y"),
    "ExtraTreesRegressor": (
        lambda: ExtraTreesRegressor(n_estimators=5, max_depth=4, random_state=SEED), "diabetes",
        "y"),
    "SVC(linear)": (lambda: SVC(kernel="linear"), "iris", "y"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer", "y"),
    "SVC(rbf)": (lambda: SVC(), "iris", "y"),
    "SVC(rbf, binary)": (lambda: SVC(), "iris", "binary"),
    "SVC(rbf, digits)": (lambda: SVC(), "digits", "y"),  # 64 features, constant ones among them
    "SVC(poly)": (lambda: SVC(kernel="poly"), "wine", "y"),
    "SVC(poly, binary)": (lambda: SVC(kernel="poly", degree=2), "iris", "binary"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris", "y"),
    "SVC(sigmoid, binary)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris", "binary"),
    "NuSVC": (lambda: NuSVC(), "iris", "y"),
    "OneClassSVM(rbf)": (lambda: OneClassSVM(nu=0.2), "iris", None),
    "OneClassSVM(linear)": (lambda: OneClassSVM(kernel="linear", nu=0.2), "iris", None),
    "LinearSVC": (lambda: LinearSVC(random_state=SEED), "wine", "y"),
    "LinearSVC(binary)": (lambda: LinearSVC(random_state=SEED), "iris", "binary"),
    "LinearSVC(digits)": (lambda: LinearSVC(random_state=SEED), "digits", "y"),
    "GaussianNB": (lambda: GaussianNB(), "wine", "y"),
    "GaussianNB(digits)": (lambda: GaussianNB(), "digits", "y"),  # per-term shifts
    "PCA": (lambda: PCA(n_components=3, random_state=SEED), "wine", None),
    "PCA(digits)": (lambda: PCA(n_components=8, random_state=SEED), "digits", None),
    "PCA(whiten)": (lambda: PCA(n_components=3, whiten=True, random_state=SEED), "wine", None),
    "EllipticEnvelope": (lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9),
                         "iris", None),
    # 23-bit weights: an int16 high part and a byte in the Cortex-M0 header
    "EllipticEnvelope(wine)": (lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9),
                               "wine", None),
    # 23-bit weights, some rows' high sums in int64 (row_wide) in the Cortex-M0 header
    "EllipticEnvelope(breast_cancer)": (
        lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9), "breast_cancer", None),
    # 31-bit weights: the 16-bit halves layout of the Cortex-M0 header
    "Mahalanobis(31-bit)": (thin_mahalanobis, "breast_cancer", None),
    # 15-bit weights in the loop form (91 terms): pairs walked by one pointer on Cortex-M4F
    "MinCovDet(wine)": (lambda: MinCovDet(random_state=SEED), "wine", None),
    "EmpiricalCovariance": (lambda: EmpiricalCovariance(), "iris", None),
    "Mahalanobis": (lambda: mcuport.Mahalanobis(np.array([5.8, 3.0, 3.8, 1.2]),
                                                covariance=np.diag([0.7, 0.2, 3.1, 0.6]),
                                                threshold=9.0), "iris", None),
    "StandardScaler+PCA+GaussianNB": (
        lambda: make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED),
                              GaussianNB()), "wine", "y"),
    # A stage before naive Bayes weights far apart (20 components of digits): per-term shifts,
    # and Cortex-M4's high-word terms on the stage's outputs
    "PCA+GaussianNB(digits)": (
        lambda: make_pipeline(PCA(n_components=20, random_state=SEED), GaussianNB()), "digits", "y"),
    "StandardScaler+SVC(rbf)": (lambda: make_pipeline(StandardScaler(), SVC()), "wine", "y"),
    "MaxAbsScaler+LinearSVC": (lambda: make_pipeline(MaxAbsScaler(), LinearSVC(random_state=SEED)),
                               "iris", "y"),
    "MinMaxScaler(clip)+DecisionTreeClassifier": (
        lambda: make_pipeline(MinMaxScaler(clip=True),
                              DecisionTreeClassifier(max_depth=4, random_state=SEED)), "iris", "y"),
    "StandardScaler+RandomForestRegressor": (
        lambda: make_pipeline(StandardScaler(), RandomForestRegressor(
            n_estimators=3, max_depth=4, random_state=SEED)), "diabetes", "y"),
}
TREES = {k for k in MODELS if "Tree" in k or "Forest" in k}


def fitted(kind):
    """MODELS[kind] fitted on its training split: (estimator, X_train)."""
    factory, dataset, labels = MODELS[kind]
    X_train, _, y_train, _ = split(dataset)
    estimator = factory()
    if isinstance(estimator, mcuport.Mahalanobis):
        return estimator, X_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if labels is None:
            estimator.fit(X_train)
        else:
            estimator.fit(X_train, y_train == 1 if labels == "binary" else y_train)
    return estimator, X_train


def cases():
    out = []
    for kind in MODELS:
        layouts = ("fast", "compact") if kind in TREES else (None,)
        for layout in layouts:
            out.append((kind, "float", layout, None, "host"))
            bits = (16, 8) if kind in TREES and "Regressor" not in kind else (None,)
            out.extend((kind, "fixed", layout, b, "host") for b in bits)
        if kind not in TREES:
            # The Cortex-M0 header on the host, its 32 x 32 -> 32 multiply paths forced: the
            # exact squares and products from 16-bit halves, and the Mahalanobis halves layout.
            out.append((kind, "fixed", None, None, "cortex-m0"))
        if kind.startswith(("EllipticEnvelope", "EmpiricalCovariance", "Mahalanobis", "MinCovDet")):
            # Its own loop forms (the pointer walks in pairs; the DSP path runs on the chip,
            # test_emulated.py): the portable branch here.
            out.append((kind, "fixed", None, None, "cortex-m4f"))
        if kind in ("GaussianNB(digits)", "PCA+GaussianNB(digits)"):
            # Cortex-M4's high-word terms (other integers than the per-term shifts), under the
            # sanitizers: every |x - center| up to 65535, both signs.
            out.append((kind, "fixed", None, None, "cortex-m4f"))
    return [pytest.param(*c, id="-".join(str(v) for v in c if v not in (None, "host")))
            for c in out]


# What the host build of another target's header needs (the same code the chip compiles).
TARGET_CFLAGS = {"host": (), "cortex-m0": ("-DMCUPORT_MUL32_ONLY=1", "-DMCUPORT_FX_MUL32_ONLY=1"),
                 "cortex-m4f": ()}


# --- The API: every function the header's comment lists, by the shape of its signature -------

API_LINE = re.compile(r"^ \*   (?P<ret>[\w ]+?\*?) ?(?P<name>\w+)\((?P<params>[^)]*)\);", re.M)
ROW_INPUT = r"const (?:float|int16_t) x\[\]"


def public_functions(header: str, name: str) -> list:
    """(kind, C return type, name, output type, output count macro) of every function in the
    header's API comment. An unknown signature fails: a new function must be added here."""
    block = header.split("API (every symbol")[1].split("*/")[0]
    found = []
    for m in API_LINE.finditer(block):
        ret, fn, params = m.group("ret").strip(), m.group("name"), m.group("params")
        if not fn.startswith(name + "_"):
            continue
        if re.fullmatch(ROW_INPUT, params):
            found.append(("row", ret, fn, None, None))
        elif re.fullmatch(ROW_INPUT + r", (\w+) \w+\[(\w+)\]", params) and ret == "void":
            out_t, count = re.fullmatch(ROW_INPUT + r", (\w+) \w+\[(\w+)\]", params).groups()
            found.append(("row_array", ret, fn, out_t, count))
        elif params == "int32_t index" and ret == "const char *":
            found.append(("index", ret, fn, None, None))
        elif params == "int32_t y" and ret == "float":
            found.append(("output", ret, fn, None, None))
        elif params == "const float x[], int16_t xq[]":
            found.append(("quantize", ret, fn, None, None))
        elif params == "const int16_t xq[], float x[]":
            found.append(("dequantize", ret, fn, None, None))
        else:
            raise AssertionError(f"unknown API signature: {m.group(0)}")
    assert found, "no API comment"
    return found


def _floats_c(rows: np.ndarray) -> str:
    bits = np.asarray(rows, np.float32).view(np.uint32)
    return ",\n".join("{" + ", ".join(f"UINT32_C(0x{b:08x})" for b in row) + "}" for row in bits)


def _codes_c(rows: np.ndarray) -> str:
    return ",\n".join("{" + ", ".join(str(int(v)) if v != -32768 else "-32767 - 1" for v in row)
                       + "}" for row in rows)


def _print_value(c_type: str, expr: str) -> str:
    if c_type == "float":
        return f"print_float({expr});"
    return f"print_int((long long)({expr}));"


def harness(generated, functions, float_rows: np.ndarray, code_rows: np.ndarray) -> str:
    """C source calling every public function on every row; one output line per call:
    `<function> <row> <values>`, floats as f and their bits in hex, integers in decimal."""
    p, P = generated.name, generated.name.upper()
    fixed = generated.numeric == "fixed"
    xt = "int16_t" if fixed else "float"
    calls = []
    for kind, ret, fn, out_t, count in functions:
        if kind == "row":
            calls.append(f'    printf("{fn} %d", row); {_print_value(ret, f"{fn}(x)")} '
                         'printf("\\n");')
        elif kind == "row_array":
            calls.append(
                f"    {{\n        {out_t} out[{count}];\n        uint32_t i;\n"
                f"        {fn}(x, out);\n        printf(\"{fn} %d\", row);\n"
                f"        for (i = 0u; i < (uint32_t)({count}); ++i) {{ "
                f"{_print_value(out_t, 'out[i]')} }}\n        printf(\"\\n\");\n    }}")
    index_fns = [f for k, _, f, _, _ in functions if k == "index"]
    output_fns = [f for k, _, f, _, _ in functions if k == "output"]
    quantize = [f for k, _, f, _, _ in functions if k == "quantize"]
    dequantize = [f for k, _, f, _, _ in functions if k == "dequantize"]
    n_float, n_codes = len(float_rows), len(code_rows)
    src = [
        "#include <stdint.h>", "#include <stdio.h>", "#include <string.h>", '#include "model.h"',
        f"#define NF {P}_N_FEATURES",
        f"static const uint32_t float_rows[{n_float}][NF] = {{{_floats_c(float_rows)}}};",
    ]
    if fixed:
        src.append(f"static const int16_t code_rows[{n_codes}][NF] = {{{_codes_c(code_rows)}}};")
    src += [
        "static void print_float(float v) {",
        "    uint32_t bits;",
        "    memcpy(&bits, &v, sizeof bits);",
        '    printf(" f%08lx", (unsigned long)bits);',
        "}",
        "static void print_int(long long v) {",
        '    printf(" %lld", v);',
        "}",
        f"static void call_all(const {xt} x[], int row) {{",
        *calls,
        "}",
        "static void print_codes(const char *what, const int16_t xq[], int row) {",
        "    uint32_t f;",
        '    printf("%s %d", what, row);',
        "    for (f = 0u; f < (uint32_t)NF; ++f) { print_int(xq[f]); }",
        '    printf("\\n");',
        "}",
        "static void print_floats(const char *what, const float x[], int row) {",
        "    uint32_t f;",
        '    printf("%s %d", what, row);',
        "    for (f = 0u; f < (uint32_t)NF; ++f) { print_float(x[f]); }",
        '    printf("\\n");',
        "}",
        "int main(void) {",
        "    float x[NF];",
        "    int row;",
        "    int32_t i;",
        "    (void)print_codes;",
        "    (void)print_floats;",
        "    i = 0;",
        "    (void)i;",
        f"    for (row = 0; row < {n_float}; ++row) {{",
        "        memcpy(x, float_rows[row], sizeof x);",
    ]
    if fixed:
        q, dq = quantize[0], dequantize[0]
        src += [
            "        {",
            "            int16_t xq[NF];",
            "            float seen[NF];",
            f"            {q}(x, xq);",
            '            print_codes("quantize", xq, row);',
            f"            {dq}(xq, seen);",
            '            print_floats("dequantize", seen, row);',
            f"            call_all(xq, {n_codes} + row);",
            "        }",
            "    }",
            f"    for (row = 0; row < {n_codes}; ++row) {{",
            "        float seen[NF];",
            "        call_all(code_rows[row], row);",
            f"        {dq}(code_rows[row], seen);",
            '        print_floats("dequantize_codes", seen, row);',
            "    }",
        ]
    else:
        src += ["        call_all(x, row);", "    }"]
    for fn in index_fns:
        src += [
            f"    for (i = -2; i <= 1000; ++i) {{",
            f"        const int32_t index = i == -2 ? INT32_MIN : i == 1000 ? INT32_MAX : i;",
            f"        const char *s = {fn}(index);",
            f'        printf("{fn} %ld %s\\n", (long)index, s == NULL ? "-" : "+");',
            "        if (s != NULL && strlen(s) > 10000u) { return 3; }",
            "    }",
        ]
    for fn in output_fns:
        src += [
            "    {",
            "        static const int32_t ys[5] = {INT32_MIN, -1, 0, 1, INT32_MAX};",
            "        for (i = 0; i < 5; ++i) {",
            f'            printf("{fn} %ld", (long)ys[i]);',
            f"            print_float({fn}(ys[i]));",
            '            printf("\\n");',
            "        }",
            "    }",
        ]
    src += ["    return 0;", "}", ""]
    return "\n".join(src)


def float_extreme_rows(X_train: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Every extreme in every feature at once, in each feature alone (the others at the mean),
    and 32 random mixes."""
    n = X_train.shape[1]
    values = list(FLOAT_EXTREMES.values())
    mean = X_train.mean(axis=0)
    rows = [[v] * n for v in values]
    for f in range(n):
        for v in values:
            row = mean.copy()
            row[f] = v
            rows.append(row)
    rng = np.random.default_rng(seed)
    rows.extend(rng.choice(values, size=(32, n)))
    return np.array(rows, np.float64).astype(np.float32)


def code_extreme_rows(n: int, seed: int = SEED) -> np.ndarray:
    lo, hi = -32768, 32767
    rows = [[lo] * n, [hi] * n, [0] * n, [-1] * n,
            [lo if f % 2 == 0 else hi for f in range(n)],
            [hi if f % 2 == 0 else lo for f in range(n)]]
    for f in range(n):
        for v in (lo, hi):
            row = [0] * n
            row[f] = v
            rows.append(row)
    rng = np.random.default_rng(seed)
    rows.extend(rng.choice([lo, hi], size=(32, n)))
    rows.extend(rng.choice([lo, -1, 0, 1, hi], size=(16, n)))
    return np.array(rows, np.int64).astype(np.int16)


def worst_corners(simulated, n_features: int, seed: int = SEED) -> np.ndarray:
    """Corners of the int16 cube (every feature -32768 or 32767) where each score the simulator
    computes is largest and smallest: all 2^n corners for n <= 12, else a coordinate search from
    the best of 2,048 random corners (exact for the linear families, where every term then has
    the sign of the total, so the partial sums grow monotonically to it). These are the rows
    where an accumulator would overflow first."""
    lo, hi = -32768, 32767
    if n_features <= 12:
        bits = (np.arange(2**n_features)[:, None] >> np.arange(n_features)) & 1
        corners = np.where(bits == 1, hi, lo)
    else:
        corners = np.random.default_rng(seed).choice([lo, hi], size=(2048, n_features))
    corners = corners.astype(np.int16)
    scores = np.asarray(simulated.scores_codes(corners), np.float64).reshape(len(corners), -1)
    chosen = []
    for k in range(scores.shape[1]):
        for sign in (1.0, -1.0):
            best = corners[np.argmax(sign * scores[:, k])].copy()
            if n_features > 12:
                for _ in range(3):  # flip every feature that helps, until none does
                    flips = np.repeat(best[None, :], n_features, axis=0)
                    idx = np.arange(n_features)
                    flips[idx, idx] = np.where(best == lo, hi, lo)
                    current = sign * float(np.reshape(simulated.scores_codes(best[None, :]),
                                                      -1)[k])
                    gain = sign * np.asarray(simulated.scores_codes(flips), np.float64).reshape(
                        n_features, -1)[:, k] - current
                    if not np.any(gain > 0):
                        break
                    best = np.where(gain > 0, flips[idx, idx], best).astype(np.int16)
            chosen.append(best)
    return np.array(chosen, np.int16).reshape(-1, n_features)


def sanitized_run(source: str, header: str, workdir, defines=()) -> str:
    """Compile the harness with the sanitizers and run it; fail on any report."""
    compiler = find_compiler()  # $CC, else cc
    require(compiler.split()[0], "gcc")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.h").write_text(header)
    (workdir / "harness.c").write_text(source)
    binary = workdir / "harness"
    command = [*compiler.split(), *CFLAGS, *defines, str(workdir / "harness.c"), "-o",
               str(binary), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)}\n{done.stderr[-4000:]}", pytrace=False)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    done = subprocess.run([str(binary)], capture_output=True, text=True, env=env)
    if done.returncode != 0 or done.stderr != "":
        pytest.fail(f"{binary} exited with {done.returncode}; sanitizer report:\n"
                    f"{done.stderr[:6000]}", pytrace=False)
    return done.stdout


def parse(out: str) -> dict:
    """{function: {row: [values]}}: floats (f and 8 hex digits) as np.float32, integers as int."""
    result = {}
    for line in out.splitlines():
        fn, row, *values = line.split()
        parsed = []
        for v in values:
            if v.startswith("f"):
                parsed.append(np.uint32(int(v[1:], 16)).view(np.float32))
            elif v in "+-" and len(v) == 1:
                parsed.append(v)
            else:
                parsed.append(int(v))
        result.setdefault(fn, {})[int(row)] = parsed
    return result


# --- The harness, run ------------------------------------------------------------------------

def run_extremes(kind, numeric, layout, proba_bits, tmp_path, mutation=None, target="host"):
    """Generate, compile and run the harness; `mutation` (old, new) edits the header first."""
    estimator, X_train = fitted(kind)
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric=numeric, layout=layout,
                                 proba_bits=proba_bits, target=target)
    if mutation is not None:
        assert generated.header.count(mutation[0]) >= 1, mutation[0]
        generated = dataclasses.replace(generated,
                                        header=generated.header.replace(*mutation))
    functions = public_functions(generated.header, "m")
    float_rows = float_extreme_rows(X_train)
    code_rows = code_extreme_rows(generated.n_features)
    if numeric == "fixed" and generated.n_scores:
        simulated = mcuport.load(document, proba_bits=proba_bits or 16, target=target)
        code_rows = np.concatenate([code_rows, worst_corners(simulated, generated.n_features)])
    out = parse(sanitized_run(harness(generated, functions, float_rows, code_rows),
                              generated.header, tmp_path, TARGET_CFLAGS[target]))
    return estimator, document, generated, functions, float_rows, code_rows, out


def _rows(out, fn, n_rows, width=None):
    table = out[fn]
    assert sorted(table) == list(range(n_rows)), fn
    values = [table[r] for r in range(n_rows)]
    if width is not None:
        assert all(len(v) == width for v in values), fn
    return values


@pytest.mark.parametrize("kind,numeric,layout,proba_bits,target", cases())
def test_extreme_inputs_run_clean_and_sane(kind, numeric, layout, proba_bits, target, tmp_path):
    estimator, document, generated, functions, float_rows, code_rows, out = run_extremes(
        kind, numeric, layout, proba_bits, tmp_path, target=target)
    fixed = numeric == "fixed"
    macros = {k: int(v) for k, v in re.findall(r"^#define M_(\w+) (-?\d+)u?\b", generated.header,
                                                 re.M)}
    if fixed:
        # quantize(): NaN and -inf to -32768, +inf to 32767, and the codes stand for the float32
        # that dequantize() gives.
        codes = np.array(_rows(out, "quantize", len(float_rows), generated.n_features))
        np.testing.assert_array_equal(codes, mcuport.load(document).quantize(float_rows))
        assert np.all(codes[np.isnan(float_rows)] == -32768)
        assert np.all(codes[float_rows == np.inf] == 32767)
        assert np.all(codes[float_rows == -np.inf] == -32768)
        seen = np.array(_rows(out, "dequantize", len(float_rows)), np.float32)
        np.testing.assert_array_equal(seen, generated.dequantize(codes))
        seen = np.array(_rows(out, "dequantize_codes", len(code_rows)), np.float32)
        np.testing.assert_array_equal(seen, generated.dequantize(code_rows))
        assert np.all(np.isfinite(seen))
        inputs = np.concatenate([code_rows, codes]).astype(np.int16)
    else:
        inputs = float_rows
    n_rows = len(inputs)
    simulated = mcuport.load(document, proba_bits=proba_bits or 16, target=target) if fixed else None
    n_classes = generated.n_classes
    for kind_, ret, fn, out_t, count in functions:
        if kind_ == "row":
            y = np.array([v[0] for v in _rows(out, fn, n_rows, 1)])
            if fn == "m_predict" and generated.task == "classification":
                assert np.all((0 <= y) & (y < n_classes)), fn
            elif fn == "m_predict" and generated.task == "outlier_detection":
                assert set(y.tolist()) <= {-1, 1}, fn
            elif fn == "m_predict" and not fixed:  # regression: a leaf value, always finite
                assert np.all(np.isfinite(y.astype(np.float32))), fn
            if fixed and fn == "m_predict":
                np.testing.assert_array_equal(y, simulated.predict_codes(inputs))
            if fixed and fn == generated.scores_function:
                np.testing.assert_array_equal(y, simulated.scores_codes(inputs)[:, 0])
            if fn == "m_score" and not fixed:  # a squared distance: NaN or >= 0 (inf allowed)
                y = y.astype(np.float32)
                assert np.all(np.isnan(y) | (y >= 0)), fn
            if fn == "m_score" and fixed:
                assert np.all(y >= 0), fn
        elif kind_ == "row_array":
            width = macros[count[len("M_"):]]
            values = np.array(_rows(out, fn, n_rows, width))
            if fixed and fn == generated.scores_function:
                np.testing.assert_array_equal(values, simulated.scores_codes(inputs))
            if fn == "m_predict_proba":
                if fixed:
                    one = macros["PROBA_ONE"]
                    assert np.all((values >= 0) & (values <= one)), fn
                    # each class's sum is rounded once per tree (docs/fixed-point.md)
                    slack = n_classes * macros.get("N_TREES", 1)
                    assert np.all(np.abs(values.sum(axis=1) - one) <= slack), fn
                else:
                    values = values.astype(np.float32)
                    assert np.all(np.isfinite(values) & (values >= 0) & (values <= 1)), fn
                    np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-5)
        elif kind_ == "index":
            limit = n_classes if fn == "m_label" else generated.n_features
            for index, (mark,) in out[fn].items():
                assert (mark == "+") == (0 <= index < limit), (fn, index)
        elif kind_ == "output":
            values = np.array([v[0] for v in out[fn].values()], np.float32)
            assert np.all(np.isfinite(values)), fn


# A header broken on purpose, as a slip in an emitter would break it: the test must catch each.
BROKEN = {
    # NaN no longer caught before the conversion to int: undefined, UBSan's float-cast-overflow
    "quantize without the NaN guard": (
        ("DecisionTreeClassifier", "fixed", "fast", 16),
        ("if (!(v > -32768.5)) {", "if (v < -32768.5) {"), "outside the range of representable"),
    # one class too many read and written: UBSan's bounds check or AddressSanitizer
    "predict_proba writes out[N_CLASSES]": (
        ("RandomForestClassifier", "float", "fast", None),
        ("for (c = 0u; c < M_N_CLASSES; ++c) {\n        out[c]",
         "for (c = 0u; c <= M_N_CLASSES; ++c) {\n        out[c]"),
        "out of bounds|AddressSanitizer"),
    # an exact square computed in int32 before it is widened: overflows once |t| > 46340
    "a square that overflows int32": (
        ("EllipticEnvelope", "fixed", None, None),
        ("((int64_t)t * t)", "((int64_t)(t * t))"),
        "signed integer overflow"),
}


@pytest.mark.parametrize("what", BROKEN)
def test_a_broken_header_is_caught(what, tmp_path):
    (kind, numeric, layout, proba_bits), mutation, report = BROKEN[what]
    with pytest.raises(pytest.fail.Exception, match=report):
        run_extremes(kind, numeric, layout, proba_bits, tmp_path, mutation=mutation)


# --- What the documentation promises for NaN and infinite inputs ------------------------------
# docs/user-guide.md, "Non-finite inputs": one rule per family, checked here row by row.

def final_step(kind: str) -> str:
    """The family whose rule applies: the last step of a pipeline ("tree" for tree models)."""
    last = kind.split("+")[-1]
    for family in ("SVC(rbf", "SVC(sigmoid", "SVC(poly", "SVC(linear", "NuSVC", "OneClassSVM(rbf",
                   "OneClassSVM(linear", "LinearSVC", "GaussianNB", "PCA"):
        if last.startswith(family):
            return family
    if last.startswith(("EllipticEnvelope", "EmpiricalCovariance", "Mahalanobis", "MinCovDet")):
        return "Mahalanobis"
    assert last in TREES or "Tree" in last or "Forest" in last, kind
    return "tree"


def nonfinite_rows(X: np.ndarray, value: float, n: int = 20) -> np.ndarray:
    """n rows of X, row i with feature i % n_features set to value; and one row all value."""
    rows = X[:n].astype(np.float32).copy()
    rows[np.arange(n), np.arange(n) % X.shape[1]] = value
    return np.concatenate([rows, np.full((1, X.shape[1]), value, np.float32)])


def sklearn_accepts(estimator, rows) -> bool:
    try:
        estimator.predict(rows)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("kind", MODELS)
def test_nonfinite_answers_are_as_documented(kind, tmp_path):
    estimator, X_train = fitted(kind)
    _, X_test, _, _ = split(MODELS[kind][1])
    family = final_step(kind)
    layouts = ("fast", "compact") if family == "tree" else (None,)
    for layout in layouts:
        generated = mcuport.generate(estimator, name="m", numeric="float", layout=layout,
                                     calibration=X_train)
        with HostModel(generated, workdir=tmp_path / str(layout)) as model:
            answers = {v: model.run(nonfinite_rows(X_test, v))
                       for v in (np.nan, np.inf, -np.inf, FLT_MAX, -FLT_MAX)}
        check_documented_rule(kind, family, estimator, generated, X_test, answers)


def sklearn_scores(estimator, family, rows):
    """scikit-learn's values in the sign of the header's scores: libsvm's one-vs-one decision
    values for SVC (the negated decision_function of a binary one), decision_function for the
    linear models, transform for PCA."""
    if family == "PCA":
        return np.asarray(estimator.transform(rows), np.float64)
    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if family == "SVC(linear":
        shape = last.decision_function_shape
        last.decision_function_shape = "ovo"
        try:
            values = np.asarray(estimator.decision_function(rows), np.float64)
        finally:
            last.decision_function_shape = shape
        return -values if values.ndim == 1 else values
    return np.asarray(estimator.decision_function(rows), np.float64)


def check_documented_rule(kind, family, estimator, generated, X_test, answers):
    nan_y, nan_s = answers[np.nan]
    n_classes = generated.n_classes
    def first_rows(a):  # one infinite feature, the others finite (not the last, all-inf row)
        return None if a is None else a[:-1]

    one_inf = {v: tuple(first_rows(a) for a in answers[v]) for v in (np.inf, -np.inf)}
    if family == "tree":
        nan_rows = nonfinite_rows(X_test, np.nan)
        if sklearn_accepts(estimator, nan_rows):  # scikit-learn >= 1.3: missing_go_to_left
            expected = estimator.predict(nan_rows)
            got = estimator.classes_[nan_y] if n_classes else nan_y
            np.testing.assert_array_equal(got, expected) if n_classes else \
                np.testing.assert_allclose(got, expected, rtol=1e-5)
            if n_classes:
                np.testing.assert_allclose(nan_s, estimator.predict_proba(nan_rows), atol=1e-6)
        if "missing_go_to_left" not in mcuport.to_json(estimator):
            # before 1.3 (scikit-learn rejects NaN): NaN goes right at every split, as +inf does
            np.testing.assert_array_equal(nan_y, answers[np.inf][0])
        # +inf goes right and -inf left at every split: the answers at +-FLT_MAX.
        for v, limit in ((np.inf, FLT_MAX), (-np.inf, -FLT_MAX)):
            np.testing.assert_array_equal(answers[v][0], answers[limit][0])
        if "Scaler" not in kind:  # scikit-learn's answer at +-FLT_MAX (it rejects inf)
            for v in (FLT_MAX, -FLT_MAX):
                expected = estimator.predict(nonfinite_rows(X_test, v))
                got = estimator.classes_[answers[v][0]] if n_classes else answers[v][0]
                np.testing.assert_array_equal(got, expected) if n_classes else \
                    np.testing.assert_allclose(got, expected, rtol=1e-5)
        return
    # Every other family: NaN in any feature makes every score NaN.
    assert np.all(np.isnan(nan_s)), kind
    if family in ("SVC(rbf", "SVC(sigmoid", "SVC(poly", "SVC(linear", "NuSVC"):
        # every one-vs-one decision NaN: each pair votes for its second class
        assert np.all(nan_y == n_classes - 1), kind
    elif family in ("LinearSVC", "GaussianNB"):
        assert np.all(nan_y == 0), kind  # no score beats the first: class 0
    elif family in ("OneClassSVM(rbf", "OneClassSVM(linear", "Mahalanobis"):
        if nan_y is not None:
            assert np.all(nan_y == -1), kind  # an outlier
    for v in (np.inf, -np.inf):
        y, s = one_inf[v]
        if family in ("SVC(rbf", "NuSVC", "OneClassSVM(rbf"):
            # every kernel value exp(-gamma inf) = 0: the intercepts alone, whatever the row
            assert np.all(np.isfinite(s)) and np.all(s == s[0]), kind
            np.testing.assert_array_equal(s, one_inf[-v][1])
        elif family == "SVC(sigmoid":
            assert np.all(np.isfinite(s)), kind  # every kernel value tanh(+-inf) = +-1
        elif family == "GaussianNB":
            # every score -inf; behind a PCA stage a row whose stage output is NaN (0 * inf where
            # a pixel's weight is 0, or inf - inf) has every score NaN instead; class 0 either way
            nan_rows = np.isnan(s).any(axis=1)
            assert np.all(np.isnan(s[nan_rows])) and np.all(s[~nan_rows] == -np.inf), kind
            assert "PCA" in kind or not nan_rows.any(), kind
            assert np.all(y == 0), kind
        elif family == "Mahalanobis":
            # +inf, or NaN where the sum meets inf - inf: never a finite distance
            assert np.all((s == np.inf) | np.isnan(s)), kind
            if y is not None:
                assert np.all(y == -1), kind
        elif family in ("SVC(linear", "LinearSVC", "OneClassSVM(linear", "PCA"):
            # +-inf with the sign scikit-learn's answer takes as the input grows without bound
            # (NaN where that feature's weight is 0: 0 * inf)
            assert np.all(np.isinf(s) | np.isnan(s)), kind
            assert np.mean(np.isinf(s)) > 0.5, kind
            rows = nonfinite_rows(X_test, np.sign(v) * 1e30)[:-1]
            expected = sklearn_scores(estimator, family, rows).reshape(s.shape)
            infinite = np.isinf(s)
            np.testing.assert_array_equal(np.sign(s[infinite]), np.sign(expected[infinite]))
        elif family == "SVC(poly":
            assert not np.any(np.isfinite(s)), kind

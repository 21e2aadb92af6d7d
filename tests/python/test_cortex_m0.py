"""Fixed-mode headers cross-compiled for Cortex-M0 (no FPU, soft-float ABI): the predict path
must not reference one floating-point helper, and the build reports its stack usage.

The check reads the undefined symbols of an object holding only the predict-path entry points:
with -mfloat-abi=soft every float or double operation becomes a call into libgcc
(__aeabi_fadd, __aeabi_i2f, __addsf3, ...), so an integer-only predict path has no undefined
symbol outside a short list of integer helpers. A float-mode header is compiled the same way as
a negative control: the same check must flag it.
"""

from __future__ import annotations

import re
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier

import mcuport
from mcuport.host import STRICT_FLAGS, HostModel

from conftest import (OTHER_COMPILERS, REPORT_LINES, SEED, WIDENED_MODELS, arm_functions,
                      extreme_codes, library_stack, require, split, stack_usage, thin_mahalanobis,
                      widened_header)

CC = "arm-none-eabi-gcc"
M0_FLAGS = [
    "-mcpu=cortex-m0",
    "-mthumb",
    "-mfloat-abi=soft",
    "-Os",
    "-std=c99",
    "-fstack-usage",
    "-ffunction-sections",
    *STRICT_FLAGS,
]
# Integer helpers a Cortex-M0 may legitimately call (it has no divide instruction).
INTEGER_HELPERS = {
    "__aeabi_uidiv",
    "__aeabi_idiv",
    "__aeabi_uidivmod",
    "__aeabi_idivmod",
    "__aeabi_lmul",
    "__aeabi_llsl",
    "__aeabi_llsr",
    "__aeabi_lasr",
    "__aeabi_uldivmod",
    "__aeabi_ldivmod",
    "memset",
    "memcpy",
}

def fixed_entry(generated) -> str:
    """Entry points calling the predict path: predict and, if the model has one, the function
    that fills its score vector."""
    entry = '#include "model.h"\n'
    entry += f"{generated.predict_type} entry_predict(const int16_t x[]) {{ return m_predict(x); }}\n"
    if generated.scores_function:
        entry += (f"void entry_scores(const int16_t x[], {generated.score_type} out[]) "
                  f"{{ {generated.scores_function}(x, out); }}\n")
    return entry
FLOAT_ENTRY = """
#include "model.h"
int32_t entry_predict(const float x[]) { return m_predict(x); }
void entry_predict_proba(const float x[], float out[]) { m_predict_proba(x, out); }
"""


def cross_compile(header: str, entry: str, tmp_path):
    """Compiles the entry points; returns (undefined symbols, {function: stack bytes})."""
    require(CC, "gcc-arm-none-eabi")
    (tmp_path / "model.h").write_text(header)
    (tmp_path / "entry.c").write_text(entry)
    obj = tmp_path / "entry.o"
    subprocess.run([CC, *M0_FLAGS, "-c", "entry.c", "-o", "entry.o"], cwd=tmp_path, check=True)
    nm = subprocess.run(
        ["arm-none-eabi-nm", "--undefined-only", str(obj)],
        capture_output=True, text=True, check=True,
    )
    undefined = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    stack = {name: size for name, (size, _) in stack_usage(tmp_path / "entry.su").items()}
    return undefined, stack


def helper_stack(undefined: set, tmp_path) -> dict:
    """The stack of the integer helpers the predict path calls, which no .su file of ours
    reports: {helper: bytes it and the deepest chain of helpers it calls push}, from the
    disassembly of entry.o linked with the toolchain's libraries (conftest.arm_functions)."""
    called = undefined & INTEGER_HELPERS
    if not called:
        return {}
    subprocess.run([CC, *M0_FLAGS, "-nostdlib", "-Wl,-e,entry_predict", "entry.o", "-lgcc",
                    "-lc", "-lgcc", "-o", "entry.elf"], cwd=tmp_path, check=True)
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(tmp_path / "entry.elf")],
                             check=True, capture_output=True, text=True).stdout
    functions = arm_functions(listing)
    library = library_stack(functions, [name for name in functions if name.startswith("entry_")],
                            ("m_", "mcuport_", "entry_"))
    assert len(library) >= len(called), (sorted(called), sorted(library))
    return library


def float_helpers(undefined: set) -> set:
    return undefined - INTEGER_HELPERS


FIXED_MODELS = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(random_state=SEED), "digits"),
    "RandomForestClassifier": (lambda: RandomForestClassifier(random_state=SEED), "digits"),
    "RandomForestClassifier(max_depth=6)": (
        lambda: RandomForestClassifier(n_estimators=20, max_depth=6, random_state=SEED),
        "wine",
    ),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=20, random_state=SEED),
        "diabetes",
    ),
    "LinearSVC": (lambda: LinearSVC(dual=True, max_iter=20000, random_state=SEED), "wine"),
    # 64 inputs: rows on widened inputs, the Thumb-1 assembly
    "LinearSVC(digits)": (lambda: LinearSVC(dual=True, max_iter=20000, random_state=SEED),
                          "digits"),
    "SVC(linear)": (lambda: SVC(kernel="linear"), "iris"),
    "OneClassSVM(linear)": (lambda: OneClassSVM(kernel="linear", nu=0.2), "iris"),
    "GaussianNB": (lambda: GaussianNB(), "digits"),
    "SVC(rbf)": (lambda: SVC(), "wine"),
    "SVC(poly)": (lambda: SVC(kernel="poly"), "wine"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris"),
}


@pytest.mark.parametrize("kind", FIXED_MODELS)
def test_fixed_predict_path_is_integer_only_on_cortex_m0(kind, tmp_path):
    factory, dataset = FIXED_MODELS[kind]
    X_train, _, y_train, _ = split(dataset)
    estimator = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(estimator, OneClassSVM):
            estimator.fit(X_train)
        else:
            estimator.fit(X_train, y_train)
    generated = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X_train,
                                 target="cortex-m0")
    undefined, stack = cross_compile(generated.header, fixed_entry(generated), tmp_path)
    assert float_helpers(undefined) == set(), f"predict path calls {sorted(undefined)}"
    # A known, small stack: the per-class accumulators plus a few words. The peak of a call is
    # at most its entry point's frame plus the frames of every helper it may call.
    # Fast-layout tree functions (m_tree_<t>) and a large forest's groups of trees
    # (m_trees_<g>) call nothing and are called one after another, so only the largest counts.
    sequential = re.compile(r"m_trees?_\d+(\.constprop(\.\d+)?)?")
    trees = [size for name, size in stack.items() if sequential.fullmatch(name)]
    helpers = sum(size for name, size in stack.items()
                  if not name.startswith("entry_") and not sequential.fullmatch(name))
    helpers += max(trees, default=0)
    # libgcc's helpers (__aeabi_lmul pushes 28 bytes): the deepest, called from the deepest frame.
    library = helper_stack(undefined, tmp_path)
    helpers += max(library.values(), default=0)
    peak = max(size for name, size in stack.items() if name.startswith("entry_")) + helpers
    # The per-class (or per-pair) values are at most 8 bytes each, held by predict and by the
    # function that fills them.
    budget = 96 + 2 * 8 * max(generated.n_classes, generated.n_scores, 1)
    # Fast tree code copies the inputs it reads into int32 words on the stack
    # (Target::stack_input_words): 4 bytes an input.
    budget += 4 * max((int(n) for n in re.findall(r"int32_t xs\[(\d+)\]", generated.header)),
                      default=0)
    # So do maps on widened inputs (int32_t x[n], padded to a multiple of 4), followed by the
    # state of the rows' assembly (8 words, where it also keeps the registers it borrows: it
    # pushes nothing that -fstack-usage could not see).
    widened = re.findall(r"typedef struct \{\n    int32_t x\[(\d+)\];", generated.header)
    budget += max((4 * int(n) + 32 for n in widened), default=0)
    if "mcuport_fx_" in generated.header:
        # The fixed-point runtime's exp or tanh, usually inlined (docs/fixed-point.md: 72 and
        # 104 bytes of their own on Cortex-M0), and the wider kernel loop around them.
        budget += 192
    REPORT_LINES.append(
        f"Cortex-M0 -Os stack of {kind} predict: peak <= {peak} bytes "
        f"(per function: {', '.join(f'{k} {v}' for k, v in sorted({**stack, **library}.items()))})"
    )
    assert peak <= budget, (peak, stack)


def test_negative_control_float_header_is_flagged(tmp_path):
    X_train, _, y_train, _ = split("iris")
    estimator = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=SEED)
    estimator.fit(X_train, y_train)
    generated = mcuport.generate(estimator, name="m", numeric="float")
    undefined, _ = cross_compile(generated.header, FLOAT_ENTRY, tmp_path)
    found = float_helpers(undefined)
    assert found, "the check failed to see the float helpers of a float-mode header"
    assert all(re.match(r"__aeabi_[a-z0-9]*(f|d)", s) or "sf" in s or "df" in s for s in found)


@pytest.mark.parametrize("dataset,form", [("iris", "straight line"), ("wine", "bytes"),
                                          ("breast_cancer", "halves")])
def test_mahalanobis_cortex_m0_builds_no_64_bit_product(dataset, form, tmp_path):
    """Mahalanobis distances for Cortex-M0: iris's EllipticEnvelope (10 multiply-accumulates) as
    straight-line code, wine's (91, 23-bit weights) as the loop over an int16 high part and a
    byte, a breast_cancer distance at a threshold of 1 (465, 31-bit weights: conftest's
    thin_mahalanobis) as the 16-bit halves loop. None may call __aeabi_lmul (gcc folds a single
    x hi * 2^b into a 64-bit product unless the header keeps it a 32-bit one)."""
    from sklearn.covariance import EllipticEnvelope

    X_train, _, _, _ = split(dataset)
    estimator = (thin_mahalanobis() if form == "halves" else
                 EllipticEnvelope(random_state=SEED, support_fraction=0.9).fit(X_train))
    generated = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X_train,
                                 target="cortex-m0")
    assert ("32-bit weights" in generated.header) == (form == "halves")
    assert mahalanobis_form(generated.header) == form
    assert_no_64_bit_product(generated.header, tmp_path)


def assert_no_64_bit_product(header: str, tmp_path) -> None:
    entry = ('#include "model.h"\n'
             "int32_t entry_predict(const int16_t x[]) { return m_predict(x); }\n"
             "int64_t entry_score(const int16_t x[]) { return m_score(x); }\n")
    undefined, _ = cross_compile(header, entry, tmp_path)
    assert "__aeabi_lmul" not in undefined, sorted(undefined)
    assert float_helpers(undefined) == set(), sorted(undefined)


def test_mahalanobis_straight_line_23_bit_weights_split_at_bit_8(tmp_path):
    """The golden EllipticEnvelope document (4 features, 23-bit weights) for Cortex-M0: straight
    line, each row offset + H 2^8 + L with H = sum hi x and L = sum lo x of 32-bit products (lo a
    byte, so L is one int32 sum), a single-term H kept a 32-bit product; no __aeabi_lmul. (The
    emulated tests hold its answers to the simulator on the chip.)"""
    from pathlib import Path

    document = (Path(__file__).resolve().parents[1] / "golden" / "elliptic_envelope.json").read_text()
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    header = generated.header
    assert mahalanobis_form(header) == "straight line" and "24-bit weights" in header
    assert ") * 256\n" in header and "65536" not in header.split("m_squared_distance")[1]
    assert "m_signed((uint32_t)(int32_t)x[3] * (uint32_t)" in header
    assert_no_64_bit_product(header, tmp_path)



# Affine maps of at most 64 nonzero weights, written out row by row for cores whose only
# multiply is 32 x 32 -> 32 (codegen/src/emit_affine.cpp, kStraightLineMul32Terms): int32 rows
# (PCA, LinearSVC), an int64 row summed in int32 pairs (the 30-feature linear SVC on breast
# cancer, wine's LinearSVC) and a linear SVC's votes reading its rows one by one.
MUL32_ROW_MODELS = {  # (estimator, data set, rows, their sums' type)
    "PCA": (lambda: PCA(n_components=4, random_state=SEED), "wine", 4, "int32_t"),
    "LinearSVC": (lambda: LinearSVC(dual=True, max_iter=20000, random_state=SEED), "wine", 3,
                  "int64_t"),
    "SVC(linear, binary)": (lambda: SVC(kernel="linear"), "breast_cancer", 1, "int64_t"),
    "SVC(linear, votes)": (lambda: SVC(kernel="linear"), "iris", 3, "int32_t"),
    # L1 with a strong penalty: rows whose weights are all 0 (the row reads no input).
    "LinearSVC(l1, zero rows)": (
        lambda: LinearSVC(penalty="l1", dual=False, C=1e-3, random_state=SEED), "iris", 3,
        "int32_t"),
}
HOST_COMPILERS = (("gcc", "-std=c99"), *OTHER_COMPILERS)


def answers_like_the_simulator(generated, simulated, codes, tmp_path, *, mul32_only):
    """Builds the header on the host with gcc (UndefinedBehaviorSanitizer, no recovery), clang,
    g++ and clang++ and the strict flags (MCUPORT_MUL32_ONLY forced where `mul32_only`), runs the
    int16 rows `codes(host)` and holds predictions and scores to the simulator's, bit for bit.
    Returns the last build's predictions."""
    macro = ("-DMCUPORT_MUL32_ONLY=1",) if mul32_only else ()
    for i, (cc, *std) in enumerate(HOST_COMPILERS):
        require(cc, "clang" if "clang" in cc else ("g++" if cc == "g++" else "gcc"))
        sanitize = ("-fsanitize=undefined", "-fno-sanitize-recover=all") if cc == "gcc" else ()
        with HostModel(generated, cc=cc, cflags=(*std, "-O1", *macro, *sanitize, *STRICT_FLAGS),
                       workdir=tmp_path / f"cc{i}") as host:
            X = codes(host)
            predictions, scores = host.run(X)
        if predictions is not None:
            np.testing.assert_array_equal(predictions, simulated.predict_codes(X))
        np.testing.assert_array_equal(scores, simulated.scores_codes(X))
    return predictions


@pytest.mark.parametrize("kind", MUL32_ROW_MODELS)
def test_written_out_rows_answer_like_the_simulator_on_every_compiler(kind, tmp_path):
    """The Cortex-M0 header's written-out rows (MCUPORT_MUL32_ONLY forced on the host), built by
    gcc (with UndefinedBehaviorSanitizer, no recovery), clang, g++ and clang++ with the strict
    flags: on the whole test split and on codes at the ends of the int16 range (where a group
    summed in int32 beyond its bound would overflow), the same predictions and scores as the
    simulator, bit for bit."""
    factory, dataset, n_rows, sum_type = MUL32_ROW_MODELS[kind]
    X_train, X_test, y_train, _ = split(dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = factory().fit(X_train) if kind == "PCA" else factory().fit(X_train, y_train)
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    rows = re.findall(r"^static inline (int32_t|int64_t) m_\w+_(\d+)\(const int16_t x\[\]\) \{$",
                      generated.header, flags=re.M)
    assert [int(k) for _, k in rows] == list(range(n_rows))
    assert {t for t, _ in rows} == {sum_type}
    if "zero rows" in kind:
        assert "(void)x; /* every weight of this row is 0 */" in generated.header
    simulated = mcuport.load(document)
    rng = np.random.default_rng(SEED)
    extremes = rng.choice(np.array([-32768, -32767, -1, 0, 1, 32767], np.int16),
                          size=(500, X_test.shape[1]))
    answers_like_the_simulator(
        generated, simulated, lambda host: np.vstack([host.quantize(X_test)[0], extremes]),
        tmp_path, mul32_only=True)


def test_large_maps_keep_their_table_on_cortex_m0():
    """Beyond 64 nonzero weights (digits' PCA: 64 x 8) a map keeps its weight table and loop."""
    X_train, _, _, _ = split("digits")
    generated = mcuport.generate(PCA(n_components=8, random_state=SEED).fit(X_train), name="m",
                                 numeric="fixed", calibration=X_train, target="cortex-m0")
    assert "MCUPORT_MUL32_ONLY\n/* Row 0" not in generated.header
    assert "const int32_t* w = m_component_weight[k];" in generated.header


@pytest.mark.parametrize("kind", WIDENED_MODELS)
def test_widened_rows_answer_like_the_simulator_on_every_compiler(kind, tmp_path):
    """The Cortex-M0 header's rows on widened inputs, as portable C (the host has no Thumb-1),
    built by gcc (UndefinedBehaviorSanitizer, no recovery), clang, g++ and clang++ with the strict
    flags: on the whole test split and on codes at the ends of the int16 range, the simulator's
    predictions and scores, bit for bit. (The assembly runs on the emulated chip:
    test_emulated.py.)"""
    generated, simulated, X_test = widened_header(kind)
    extremes = extreme_codes(X_test.shape[1], 400)
    answers_like_the_simulator(
        generated, simulated, lambda host: np.vstack([host.quantize(X_test)[0], extremes]),
        tmp_path, mul32_only=True)


@pytest.mark.parametrize("n_features, widened", [(16, False), (17, True), (128, True),
                                                  (129, False)])
def test_widened_rows_at_the_width_limits(n_features, widened, tmp_path):
    """Maps of 17 to 128 inputs take widened inputs on Cortex-M0 (17: padded to 20), 16 and 129
    do not; every form answers like the simulator (portable C on the host, four compilers)."""
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(400, n_features))
    y = np.argmax(X[:, :4], axis=1)  # 4 classes: 68 nonzero weights at 17 inputs, not written out
    X_train, X_test = X[:300], X[300:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = LinearSVC(dual=True, max_iter=20000, random_state=SEED).fit(X_train, y[:300])
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    assert ("m_scores_row_inputs(x, &xw);" in generated.header) == widened
    if widened:
        n = (n_features + 3) // 4 * 4
        assert f"static const int32_t m_linear_weight[4][{n}] = " in generated.header
    answers_like_the_simulator(
        generated, mcuport.load(document, target="cortex-m0"),
        lambda host: np.vstack([host.quantize(X_test)[0], extreme_codes(n_features, 100)]),
        tmp_path, mul32_only=True)


def write_widened_entry(kind, tmp_path):
    """A WIDENED_MODELS header as model.h and entry.c calling its scores function."""
    generated, _, _ = widened_header(kind)
    (tmp_path / "model.h").write_text(generated.header)
    (tmp_path / "entry.c").write_text(
        f'#include "model.h"\nvoid entry(const int16_t x[], {generated.score_type} out[]) '
        f'{{ {generated.scores_function}(x, out); }}\n')


ARM_COMPILERS = {
    "gcc": ("arm-none-eabi-gcc", "gcc-arm-none-eabi", ("-x", "c", "-std=c99")),
    "g++": ("arm-none-eabi-g++", "g++-arm-none-eabi", ("-x", "c++", "-std=c++17")),
    "clang": ("clang", "clang", ("--target=armv6m-none-eabi", "-x", "c", "-std=c99",
                                 "--sysroot=/usr/lib/arm-none-eabi",
                                 "-isystem", "/usr/lib/arm-none-eabi/include")),
}


@pytest.mark.parametrize("optimize", ["-O0", "-Os", "-O2"])
@pytest.mark.parametrize("compiler", ARM_COMPILERS)
def test_widened_rows_take_the_assembly_on_every_arm_compiler(compiler, optimize, tmp_path):
    """The rows' Thumb-1 assembly (int32 and int64 sums of pairs, and 31-bit terms) is what gcc, g++ and clang take for a
    Cortex-M0 at every optimisation level (MCUPORT_THUMB1_ASM is 1; an unoptimised build keeps
    r7 for its frame pointer, which the assembly saves), and the header compiles without a
    warning under the strict flags; MCUPORT_NO_ASM turns it off."""
    cc, package, language = ARM_COMPILERS[compiler]
    require(cc, package)
    for kind in ("PCA(digits)", "LinearSVC(int32 rows)", "SVC(poly, wine)"):
        write_widened_entry(kind, tmp_path)
        base = [cc, "-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft", optimize, *language,
                *STRICT_FLAGS]
        subprocess.run([*base, "-c", "entry.c", "-o", "entry.o"], cwd=tmp_path, check=True)
        for extra, value in (((), "1"), (("-DMCUPORT_NO_ASM",), "0")):
            macros = subprocess.run([*base, *extra, "-dM", "-E", "entry.c"], cwd=tmp_path,
                                    check=True, capture_output=True, text=True).stdout
            assert re.search(rf"^#define MCUPORT_THUMB1_ASM {value}$", macros, flags=re.M)
        if compiler != "clang":
            # gcc's inline assembly is divided syntax: the block ends in it (gcc 5 and older
            # would go on in the block's unified syntax); clang takes unified syntax only, and
            # would refuse the directive.
            assembly = subprocess.run([*base, "-S", "-o", "-", "entry.c"], cwd=tmp_path,
                                      check=True, capture_output=True, text=True).stdout
            ends = re.findall(r"ldm r6, \{r4, r5, r6, r7\}\n(.*)\n", assembly)
            assert ends and all(end.strip() == ".syntax divided" for end in ends), ends


@pytest.mark.parametrize("cpu", ["arm7tdmi", "arm926ej-s", "cortex-m0plus", "cortex-m23"])
def test_widened_rows_assemble_on_every_thumb1_core(cpu, tmp_path):
    """MCUPORT_THUMB1_ASM is taken wherever the compiler generates Thumb-1 code (__thumb__
    without __thumb2__): ARMv4T and ARMv5TE cores in Thumb state as well as ARMv6-M and ARMv8-M
    Baseline. The assembly assembles on each (a MOV between two low registers is ARMv6 and
    later: it copies its operand with MOVS)."""
    require(CC, "gcc-arm-none-eabi")
    for kind in ("PCA(digits)", "LinearSVC(int32 rows)", "SVC(poly, wine)"):
        write_widened_entry(kind, tmp_path)
        base = [CC, f"-mcpu={cpu}", "-mthumb", "-mfloat-abi=soft", "-Os", "-std=c99",
                *STRICT_FLAGS]
        macros = subprocess.run([*base, "-dM", "-E", "entry.c"], cwd=tmp_path, check=True,
                                capture_output=True, text=True).stdout
        assert re.search(r"^#define MCUPORT_THUMB1_ASM 1$", macros, flags=re.M)
        subprocess.run([*base, "-c", "entry.c", "-o", "entry.o"], cwd=tmp_path, check=True)


# RBF distances where the core has no 32 x 32 -> 64 multiply (codegen/src/emit_svm.cpp,
# rbf_mul32_distance_loop): each |d| < 2^25 split into 13-bit halves, three 32-bit sums joined to
# the 64-bit distance once per support vector (wine, 13 features) or every 63 features (digits,
# 64: one chunk of 63 and one of 1). A sum that outgrew 32 bits, a wrong shift or a dropped
# term would change the distances, and with them the decision values.
@pytest.mark.parametrize("dataset, chunked", [("wine", False), ("digits", True)])
def test_rbf_distances_from_32_bit_sums_answer_like_the_simulator(dataset, chunked, tmp_path):
    """The Cortex-M0 header's RBF distance (MCUPORT_MUL32_ONLY forced on the host), built by gcc
    (UndefinedBehaviorSanitizer, no recovery), clang, g++ and clang++ with the strict flags: on
    the whole test split and on codes at the ends of the int16 range (the largest differences),
    the same predictions and decision values as the simulator, bit for bit."""
    X_train, X_test, y_train, _ = split(dataset)
    document = mcuport.to_json(SVC().fit(X_train, y_train), calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    assert ("const uint32_t stop = f > 63u ? f - 63u : 0u;" in generated.header) == chunked
    assert "hl += mh * ml;" in generated.header
    simulated = mcuport.load(document)
    rng = np.random.default_rng(SEED)
    extremes = rng.choice(np.array([-32768, -32767, -1, 0, 1, 32767], np.int16),
                          size=(200, X_test.shape[1]))
    predictions = answers_like_the_simulator(
        generated, simulated, lambda host: np.vstack([host.quantize(X_test)[0], extremes]),
        tmp_path, mul32_only=True)
    assert predictions is not None


def header_array(header: str, name: str) -> np.ndarray:
    """The integers of `static const <type> name[...]... = {...};` in a generated header."""
    match = re.search(rf"\b{name}(?:\[\w+\])+ = \{{(.*?)\}};", header, re.S)
    assert match, name
    text = match.group(1).replace("INT16_MIN", "-32768")  # how -32768 is written
    return np.array([int(v) for v in re.findall(r"-?\d+", text)], np.int64)


def test_rbf_distance_chunks_hold_the_largest_low_halves(tmp_path):
    """The 63-feature chunks of the Cortex-M0 RBF distance at their limit: 200 features of equal
    width (every feature reaches the domain's 2^24), and rows whose codes are chosen, feature by
    feature, to make the low half ml of |y - sv| as large as the codes allow against one support
    vector each. Over 127 features those ml^2 sum past 2^32 (a chunk that long would wrap the
    32-bit sum, which the earlier tests' data never do), over 63 they cannot. gamma keeps every
    kernel above exp(-2), so a wrapped sum would change the decision values; gcc with UBSan and
    the macro forced on the host must answer like the simulator, bit for bit."""
    rng = np.random.default_rng(SEED)
    n_features = 200
    X = rng.uniform(-1, 1, size=(300, n_features))
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    document = mcuport.to_json(SVC(gamma=0.5 / n_features).fit(X, y), calibration=X)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    assert "const uint32_t stop = f > 63u ? f - 63u : 0u;" in generated.header
    scale = header_array(generated.header, "m_sv_scale")
    shift = header_array(generated.header, "m_sv_shift")
    sv = header_array(generated.header, "m_sv").reshape(-1, n_features)
    codes = np.arange(-32768, 32768, dtype=np.int64)[:, None]
    product = codes * scale[None, :]  # y = round(code scale / 2^shift), half away from zero
    y_all = np.sign(product) * ((np.abs(product) + (1 << (shift - 1))) >> shift)
    assert np.abs(y_all).max() < 1 << 24
    rows = []
    for s in range(0, len(sv), max(1, len(sv) // 20)):
        low = np.abs(y_all - sv[s][None, :]) & 0x1FFF
        best = low.argmax(axis=0)
        rows.append(best - 32768)
        ml = low[best, np.arange(n_features)]
        squares = np.convolve(ml * ml, np.ones(127, np.int64), mode="valid")
        assert squares.max() >= 1 << 32  # 127 features would wrap the 32-bit sum ...
        assert 63 * (0x1FFF ** 2) < 1 << 32  # ... 63 never can
    X_codes = np.array(rows, np.int16)
    simulated = mcuport.load(document)
    require("gcc", "gcc")
    with HostModel(generated, cc="gcc",
                   cflags=("-std=c99", "-O1", "-DMCUPORT_MUL32_ONLY=1", "-fsanitize=undefined",
                           "-fno-sanitize-recover=all", *STRICT_FLAGS),
                   workdir=tmp_path) as host:
        predictions, scores = host.run(X_codes)
    np.testing.assert_array_equal(predictions, simulated.predict_codes(X_codes))
    np.testing.assert_array_equal(scores, simulated.scores_codes(X_codes))


def mahalanobis_form(header: str) -> str:
    """Which Cortex-M0 form a fixed Mahalanobis header takes (codegen/src/emit_mahalanobis.cpp)."""
    if "m_squared_distance(const int16_t x[], int64_t start)" in header:
        return "straight line"
    if "static const uint8_t m_row_weight_lo[" in header:
        return "bytes"
    assert "static const uint16_t m_row_weight_lo[" in header
    return "halves"


def row_extremes(header: str, n_features: int) -> np.ndarray:
    """For each row of a Cortex-M0 byte-weight header (triangular: row r from column r on; or
    dense, after a PCA stage), the two codes that drive its high sum (sum_f hi_f xq_f) to the
    ends of its proven bound +-32768 sum_f |hi_f|, and the same for its low sum (every lo is
    >= 0): the sums the int32 bounds are about."""
    hi = header_array(header, "m_row_weight_hi")
    n_rows = int(re.search(r"#define M_N_ROWS (\d+)u", header).group(1))
    triangular = len(hi) == n_features * (n_features + 1) // 2 and n_rows == n_features
    assert triangular or len(hi) == n_rows * n_features
    rows = []
    start = 0
    for r in range(n_rows):
        first = r if triangular else 0
        h = hi[start:start + n_features - first]
        start += n_features - first
        for sign in (1, -1):
            codes = np.zeros(n_features, np.int64)
            codes[first:] = np.where(sign * h >= 0, 32767, -32768)
            rows.append(codes)
    rows.append(np.full(n_features, -32768))
    rows.append(np.full(n_features, 32767))
    assert start == len(hi)
    return np.array(rows, np.int16)


# 23-bit Mahalanobis weights on Cortex-M0 (codegen/src/emit_mahalanobis.cpp, kFixedScoreBytes):
# hi * 2^8 + lo, the row's sums of hi xq and lo xq in int32 where their bounds are below 2^31,
# the high sum in int64 in the rows marked in row_wide. wine's default fit has no such row,
# breast_cancer's has some, and behind a 12-component PCA (dense rows of 30 weights) every row
# is one. A row whose high sum were int32 beyond its bound would overflow at its extreme codes,
# which UndefinedBehaviorSanitizer (gcc, no recovery) stops.
@pytest.mark.parametrize("dataset, pca, wide_rows", [("wine", 0, "none"),
                                                     ("breast_cancer", 0, "some"),
                                                     ("breast_cancer", 12, "all")])
def test_mahalanobis_weight_bytes_answer_like_the_simulator(dataset, pca, wide_rows, tmp_path):
    """The Cortex-M0 header's byte-weight loop, built on the host by gcc (UBSan), clang, g++ and
    clang++ with the strict flags: on the whole test split, on codes at the ends of every row's
    bounds and at the corners of the int16 cube, the simulator's scores and decisions, bit for
    bit, with inliers and outliers among them."""
    from sklearn.covariance import EllipticEnvelope
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, _, _ = split(dataset)
    estimator = EllipticEnvelope(random_state=SEED)
    if pca:
        estimator = make_pipeline(StandardScaler(), PCA(pca, random_state=SEED), estimator)
    document = mcuport.to_json(estimator.fit(X_train), calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    header = generated.header
    assert mahalanobis_form(header) == "bytes" and "24-bit weights" in header
    assert ("m_row_wide[" in header) == (wide_rows == "some")
    assert ("int32_t high = 0;" in header) == (wide_rows != "all")
    assert ("int64_t high = 0;" in header) == (wide_rows != "none")
    if wide_rows == "some":
        assert 0 < header_array(header, "m_row_wide").sum() < X_test.shape[1]
    simulated = mcuport.load(document)
    extremes = row_extremes(header, X_test.shape[1])
    predictions = answers_like_the_simulator(
        generated, simulated, lambda host: np.vstack([host.quantize(X_test)[0], extremes]),
        tmp_path, mul32_only=False)
    assert set(np.unique(predictions)) == {-1, 1}


def cube_corners(n: int) -> np.ndarray:
    """The 2^n corners of the int16 cube: each coordinate -32768 or 32767."""
    return np.array([[-32768 if (k >> f) & 1 else 32767 for f in range(n)] for k in range(2**n)],
                    np.int16)


def mahalanobis_from_weight_codes(codes: np.ndarray) -> str:
    """The document of a mcuport.Mahalanobis whose fixed weights are exactly `codes` (upper
    triangular, positive diagonal, largest |code| 2^23 - 1): inputs on [-32, 32 - 2^-10] step
    2^-10 from a zero point of 0, so the factor codes / 2^13 folds to codes * 2^-23 and its
    largest weight puts the binary point at 2^-23; the bias is 0."""
    factor = np.asarray(codes, float) / 8192.0
    n = len(codes)
    model = mcuport.Mahalanobis(np.zeros(n), precision=factor.T @ factor, threshold=float(n))
    return mcuport.to_json(model, input_ranges=[(-32.0, 32.0 - 2.0**-10)] * n)


def edge_weight_codes(n: int) -> np.ndarray:
    """23-bit weight codes at the edges of the Cortex-M0 split w = hi 2^8 + lo: row 0's high
    parts -32768 and -32768 (bound 32768 sum |hi| = 2^31 exactly, every hi negative, so an int32
    high sum overflows at xq = 32767), row 1's -32768 and 32767 (2^31 - 32768, the largest int32
    bound), weights -1 (hi -1, lo 255) and -(2^23 - 256) (hi -32767, lo 0); with n = 4 (straight
    line) a row with a single hi of -32768 and one with 32767 and lo 255."""
    top = 2**23 - 1
    codes = np.zeros((n, n), np.int64)
    for r in range(n):
        codes[r, r] = 1 + 37 * r  # hi 0
    codes[0, 1] = codes[0, 2] = -top
    if n == 4:
        codes[1, 3] = -top
        codes[2, 3] = top
        codes[3, 3] = 200
        return codes
    codes[1, 2], codes[1, 3] = -top, top
    codes[2, 3:] = -1
    codes[3, 4], codes[3, 5] = -(2**23 - 256), -257
    return codes


@pytest.mark.parametrize("n_features", [4, 9])
def test_mahalanobis_weight_bytes_at_the_int32_edges(n_features, tmp_path):
    """23-bit weight codes built to sit on the bounds of the Cortex-M0 byte split (straight line
    with 4 features, the loop with 9): a row whose high sum reaches exactly 2^31 (int64: marked in
    row_wide, or its products widened) beside one at 2^31 - 32768 (int32), hi = -32768 alone in a
    row (the unsigned single-term product) and lo = 255 under negative weights. gcc (UBSan, no
    recovery), clang, g++ and clang++ must answer like the simulator, bit for bit, on every
    corner of the int16 cube and at every row's extreme codes (the wine and breast cancer tests
    never put a row on 2^31 itself: a bound test off by one passes them and fails here)."""
    codes = edge_weight_codes(n_features)
    document = mahalanobis_from_weight_codes(codes)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    header = generated.header
    assert "24-bit weights" in header
    if n_features == 4:
        assert mahalanobis_form(header) == "straight line"
        assert "(int64_t)((int32_t)x[1] * (-32768)) + (int64_t)((int32_t)x[2] * (-32768))" in header
        assert "m_signed((uint32_t)(int32_t)x[3] * (uint32_t)(-32768)) * 256" in header
        extremes = cube_corners(n_features)
    else:
        assert mahalanobis_form(header) == "bytes"
        packed = np.concatenate([codes[r, r:] for r in range(n_features)])
        hi = header_array(header, "m_row_weight_hi")
        np.testing.assert_array_equal(hi * 256 + header_array(header, "m_row_weight_lo"), packed)
        assert 32768 * np.abs(hi[:n_features]).sum() == 2**31
        assert 32768 * np.abs(hi[n_features:2 * n_features - 1]).sum() == 2**31 - 32768
        wide = header_array(header, "m_row_wide")
        np.testing.assert_array_equal(wide, [1] + [0] * (n_features - 1))
        extremes = row_extremes(header, n_features)
    simulated = mcuport.load(document)
    rng = np.random.default_rng(SEED)
    X = np.vstack([extremes, rng.integers(-32768, 32768, (100, n_features))]).astype(np.int16)
    predictions = answers_like_the_simulator(generated, simulated, lambda host: X, tmp_path,
                                             mul32_only=False)
    assert predictions is not None
    assert_no_64_bit_product(header, tmp_path)


# Mahalanobis maps whose 15-bit weights pass the accuracy check only with a binary point per row
# (core/src/lower_projection.cpp): rows of small weights keep their bits, and each meets the
# common format by its own rounding shift. Upper-triangular factors (rows from the diagonal on)
# on inputs in [-1, 1], and the threshold the check is taken at. The forms: an int32 row beside a
# biased uint32 one (the ceiling fan's shape); biased uint32 rows beside int64 ones shifted in
# line; a loop (9 x 9: 45 multiply-accumulates, more than the straight line takes) reading each
# row's shift from a table.
PER_ROW_POINTS = {
    "int32 and biased rows": (
        [[17.882, -16.308, -1.528], [8.539, -8.389], [1.592]], 5.0,
        ("int32_t acc32;", "uint32_t accu;", "accu >> 1) - UINT32_C(1073741824)")),
    "biased and int64 rows": (
        [[120.334, -47.643, 111.601], [1.023, -0.143], [1.04]], 33.88,
        ("uint32_t accu;", "int64_t acc;", "m_signed((uint32_t)((uint64_t)acc >> ")),
    "a shift table": (
        [[7.399, 4.457, 6.079, 3.71, 1.125, -0.241, 1.11, -3.392, 4.145],
         [0.135, -0.069, 0.01, -0.022, 0.233, 0.023, -0.245, 0.052],
         [0.022, 0.001, -0.044, -0.041, -0.028, -0.003, 0.007],
         [0.142, -0.264, 0.319, -0.342, -1.022, -0.397], [3.811, -3.702, -1.155, -1.366, 3.146],
         [2.293, 1.465, 8.771, -0.107], [12.967, 1.104, 7.631], [0.099, -0.107], [0.031]], 7.46,
        ("static const uint8_t m_row_shift[9]", "m_component_by(acc, m_row_shift[r])",
         "folded in, * 2^(the row's point) */\nstatic const int16_t m_row_weight[45]")),
}


def per_row_points_document(case: str) -> str:
    rows, threshold, _ = PER_ROW_POINTS[case]
    n = len(rows)
    factor = np.zeros((n, n))
    for r, row in enumerate(rows):
        factor[r, r:] = row
    model = mcuport.Mahalanobis(np.zeros(n), precision=factor.T @ factor, threshold=threshold)
    return mcuport.to_json(model, input_ranges=[(-1.0, 1.0)] * n)


def per_row_points_codes(n: int) -> np.ndarray:
    """Every corner of the int16 cube (each row's sum at both ends of its bound), random codes,
    and small ones near the location (inliers)."""
    rng = np.random.default_rng(SEED)
    return np.vstack([cube_corners(n), rng.integers(-32768, 32768, (100, n)),
                      rng.integers(-300, 300, (100, n))]).astype(np.int16)


@pytest.mark.parametrize("mul32_only", [True, False], ids=["mul32-only", "64-bit-products"])
@pytest.mark.parametrize("case", PER_ROW_POINTS)
def test_mahalanobis_rows_on_their_own_points_answer_like_the_simulator(case, mul32_only,
                                                                          tmp_path):
    """Each form of rows on their own binary points, built on the host by gcc (UBSan, no
    recovery), clang, g++ and clang++ with the strict flags, with and without the Cortex-M0
    multiply: the simulator's scores and decisions, bit for bit, at every corner of the int16
    cube (where a biased row beyond its bound would wrap), at random codes and near the
    location, inliers and outliers among them."""
    document = per_row_points_document(case)
    target = "cortex-m0" if mul32_only else "cortex-m4f"
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    header = generated.header
    assert "16-bit weights" in header and "each row on its own binary point" in header
    for text in PER_ROW_POINTS[case][2]:
        assert text in header
    n = len(PER_ROW_POINTS[case][0])
    simulated = mcuport.load(document, target=target)
    predictions = answers_like_the_simulator(generated, simulated,
                                             lambda host: per_row_points_codes(n), tmp_path,
                                             mul32_only=mul32_only)
    assert set(np.unique(predictions)) == {-1, 1}

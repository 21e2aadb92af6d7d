"""Generated headers built into firmware and run on emulated microcontrollers (mcuport.firmware):
the chip's answers must be identical to the host's and, in fixed mode, to the core's simulator,
on whole test splits; the counters must measure a loop of known cost exactly.

By default a representative subset runs (one target per emulated instruction set: armv6m,
armv7em, avr5, rv32; a tree, a forest, naive Bayes, an rbf SVC and PCA in fixed mode, a tree in
float mode). MCUPORT_FULL_TARGETS=1 (scripts/test-targets) runs every family on every emulated
target in both numeric modes.

Float mode is held to identical predictions; its scores are identical where the arithmetic is
the same on every machine (IEEE float32 operations), and within float32 rounding where it
involves a C library's expf/tanhf/logf or the width of `double` (32 bits on AVR).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope, EmpiricalCovariance, MinCovDet
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.firmware import (ForeignCode, TargetModel, ToolchainMissing, _UnicornCounter,
                              measure_known_loop)
from mcuport.host import HostModel

from conftest import (OTHER_COMPILERS, REPORT_LINES, SEED, arm_functions, compile_everywhere,
                      extreme_codes, far_from_zero, library_stack, require, split, stack_usage,
                      thin_mahalanobis, threshold_edge_rows, widened_header)

FULL = os.environ.get("MCUPORT_FULL_TARGETS") == "1"
EMULATED_ARCHES = ("armv6m", "armv7em", "avr5", "rv32")


def emulated_targets(one_per_arch: bool) -> list:
    """Targets an emulator runs here, in the table's order; the first of each arch if asked."""
    chosen, seen = [], set()
    for target in mcuport.targets():
        if target["arch"] in EMULATED_ARCHES and (not one_per_arch or target["arch"] not in seen):
            chosen.append(target["name"])
            seen.add(target["arch"])
    return chosen


SUBSET_TARGETS = emulated_targets(one_per_arch=True)
ALL_TARGETS = emulated_targets(one_per_arch=False)
TARGET_INFO = {t["name"]: t for t in mcuport.targets()}


def require_target(name: str) -> None:
    """Fail (not skip) when the target's cross compiler, emulator or counter is missing."""
    info = TARGET_INFO[name]
    require(info["compiler"], info["toolchain_package"])
    require(info["emulator"].split()[0], info["emulator_package"])
    if info["arch"] in ("armv6m", "armv7em"):
        for module in ("unicorn", "elftools"):
            if importlib.util.find_spec(module) is None:
                pytest.fail(f"Python module {module} is missing: pip install unicorn pyelftools")


# name: (factory, data set, labels: "y", "binary" (class 1 against the rest) or None)
MODELS = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=6, random_state=SEED),
                               "iris", "y"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=6, random_state=SEED),
                              "diabetes", "y"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=5, random_state=SEED), "wine",
        "y"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=10, max_depth=5, random_state=SEED),
        "diabetes", "y"),
    "LinearSVC": (lambda: LinearSVC(random_state=SEED), "wine", "y"),
    "SVC(linear)": (lambda: SVC(kernel="linear"), "iris", "y"),
    "SVC(rbf)": (lambda: SVC(), "iris", "y"),
    "SVC(poly)": (lambda: SVC(kernel="poly"), "wine", "y"),
    "SVC(rbf, binary)": (lambda: SVC(), "iris", "binary"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris", "y"),
    "OneClassSVM(rbf)": (lambda: OneClassSVM(nu=0.2), "iris", None),
    "GaussianNB": (lambda: GaussianNB(), "wine", "y"),
    # per-term shifts (weights within a class 2^30 apart); on Armv7E-M the DSP build's |d|
    "GaussianNB(digits)": (lambda: GaussianNB(), "digits", "y"),
    "PCA": (lambda: PCA(3), "wine", None),
    # 64 inputs: the int16 rows' loop (on Cortex-M0 a pointer into the row and one into the input)
    "PCA(digits)": (lambda: PCA(8, random_state=SEED), "digits", None),
    "EllipticEnvelope": (lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9),
                         "iris", None),
    # 23-bit weights on wine: on Cortex-M0 an int16 high part and a byte, summed in int32 (the
    # high sum in int64 in the rows marked in row_wide)
    "EllipticEnvelope(wine)": (lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9),
                               "wine", None),
    # 23-bit weights on breast_cancer, some rows' high sums in int64 (row_wide) on Cortex-M0
    "EllipticEnvelope(breast_cancer)": (
        lambda: EllipticEnvelope(random_state=SEED, support_fraction=0.9), "breast_cancer", None),
    # 31-bit weights: the 16-bit halves layout of the Cortex-M0 header
    "Mahalanobis(31-bit)": (thin_mahalanobis, "breast_cancer", None),
    # 15-bit weights in the loop form: on Cortex-M4F pairs walked by one pointer, SMLALD
    "MinCovDet(wine)": (lambda: MinCovDet(random_state=SEED), "wine", None),
    "EmpiricalCovariance": (lambda: EmpiricalCovariance(), "iris", None),
    "StandardScaler+SVC(rbf)": (lambda: make_pipeline(StandardScaler(), SVC()), "wine", "y"),
}
# LinearSVC and EllipticEnvelope: the int16 dot products, whose Armv7E-M build takes the DSP path
# (SMLAD/SMLALD) while the host takes the portable one; the two must agree bit for bit.
SUBSET_FIXED = ("DecisionTreeClassifier", "RandomForestClassifier", "GaussianNB",
                "GaussianNB(digits)", "SVC(rbf)",
                "PCA", "PCA(digits)", "LinearSVC", "EllipticEnvelope", "EllipticEnvelope(wine)",
                "EllipticEnvelope(breast_cancer)", "Mahalanobis(31-bit)", "MinCovDet(wine)")
SUBSET_FLOAT = ("DecisionTreeClassifier",)


def fitted(kind):
    factory, dataset, labels = MODELS[kind]
    X_train, X_test, y_train, _ = split(dataset)
    estimator = factory()
    if isinstance(estimator, mcuport.Mahalanobis):  # given, not fitted
        return estimator, X_train, X_test
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if labels is None:
            estimator.fit(X_train)
        else:
            estimator.fit(X_train, y_train == 1 if labels == "binary" else y_train)
    return estimator, X_train, X_test


def matrix(kinds_fixed, kinds_float, targets):
    cases = [(t, k, "fixed") for t in targets for k in kinds_fixed]
    cases += [(t, k, "float") for t in targets for k in kinds_float]
    return [pytest.param(t, k, n, id=f"{t}-{k}-{n}") for t, k, n in cases]


if FULL:
    CASES = matrix(MODELS, MODELS, ALL_TARGETS)
else:
    CASES = matrix(SUBSET_FIXED, SUBSET_FLOAT, SUBSET_TARGETS)


def predict_path(generated) -> str:
    """The header up to the conveniences (quantize, dequantize) that the predict path skips."""
    return generated.header.split("Conveniences outside the predict path")[0]


def uses_libm(generated) -> bool:
    return any(f"{name}f(" in predict_path(generated) for name in ("exp", "tanh", "log"))


def exact_float_scores(generated, target: str) -> bool:
    """Whether float-mode scores must be bit-identical to the host's: no C library
    transcendental in the predict path, and a 64-bit double where the header uses double."""
    uses_double = "double" in predict_path(generated)
    return not uses_libm(generated) and not (
        uses_double and TARGET_INFO[target]["double_bits"] != 64)


@pytest.mark.parametrize("target,kind,numeric", CASES)
def test_target_answers_like_host(target, kind, numeric, tmp_path):
    """The whole test split on the chip: what the host build answers, bit for bit, and in fixed
    mode what the simulator answers; a count per row, the stack and the sizes."""
    require_target(target)
    estimator, X_train, X_test = fitted(kind)
    document = mcuport.to_json(estimator, calibration=X_train)
    on_target = mcuport.generate(document, name="m", numeric=numeric, target=target)
    # The host's header, or where the target's lowering gives other integers (Cortex-M4F's
    # overlapping Mahalanobis words, Cortex-M4F's and RV32IMC's naive Bayes high-word terms) the
    # target's header built on the host, its portable C.
    own_integers = numeric == "fixed" and (TARGET_INFO[target]["unaligned_words"] or
                                           TARGET_INFO[target]["high_word_multiply"])
    on_host = on_target if own_integers else mcuport.generate(document, name="m", numeric=numeric)
    with HostModel(on_host, workdir=tmp_path / "host") as host:
        X = host.quantize(X_test)[0] if numeric == "fixed" else X_test.astype(np.float32)
        expected_y, expected_scores = host.run(X)
    with TargetModel(on_target, workdir=tmp_path / "target") as chip:
        measured = chip.measure(X)
    if expected_y is None:
        assert measured.predictions is None
    else:
        np.testing.assert_array_equal(measured.predictions, expected_y)
    if expected_scores is None:
        assert measured.scores is None
    elif numeric == "fixed" or exact_float_scores(on_target, target):
        np.testing.assert_array_equal(measured.scores, expected_scores)
    else:  # float32 rounding of the library's transcendentals, relative to the largest score
        scale = max(float(np.abs(expected_scores).max()), 1e-30)
        np.testing.assert_allclose(measured.scores, expected_scores, rtol=0, atol=1e-5 * scale)
    if numeric == "fixed":
        simulated = mcuport.load(document, target=target)
        if expected_y is not None:
            np.testing.assert_array_equal(measured.predictions, simulated.predict_codes(X))
        if expected_scores is not None:
            np.testing.assert_array_equal(measured.scores, simulated.scores_codes(X))
    assert measured.counts.shape == (len(X),) and np.all(measured.counts > 0)
    assert 0 <= measured.peak_stack_bytes < 1024  # a leaf function may need none (RISC-V)
    assert measured.model_flash_bytes > 0
    # predict alone: a build of its own when there are scores too (not always smaller: with one
    # caller left, a compiler may inline differently; avr-gcc does, by a few bytes).
    if expected_y is not None and expected_scores is not None:
        assert 0 < measured.predict_flash_bytes
    else:
        assert measured.predict_flash_bytes == measured.model_flash_bytes
    # No writable globals, and tables where the target keeps constants (flash or PROGMEM). Only
    # the C library's expf/tanhf/logf bring RAM of their own: errno and its reentrancy state.
    if uses_libm(on_target):
        assert measured.model_ram_bytes <= 128
    else:
        assert measured.model_ram_bytes == 0
    REPORT_LINES.append(
        f"{target} {kind} {numeric}: {int(np.median(measured.counts))} {measured.count_unit} "
        f"(median; {measured.counts.min()}..{measured.counts.max()}), stack "
        f"{measured.peak_stack_bytes} B, flash {measured.model_flash_bytes} B, RAM "
        f"{measured.model_ram_bytes} B")


def far_from_zero_model(kind):
    """Float models whose inputs are centred once per prediction (behind MaxAbsScaler by the
    scaler's own center; for the linear map, the pipeline's center kept apart): air pressure in
    Pa and temperature in K."""
    X = far_from_zero(2000)
    value = X[:, 0] + 0.2 * X[:, 2] - 101325 - 30 * (X[:, 1] - 293.15)
    if kind == "GaussianNB":
        estimator = GaussianNB().fit(X[:1500], value[:1500] > 0)
    elif kind == "MaxAbsScaler+GaussianNB":  # the scaler's center takes the class means' centers
        estimator = make_pipeline(MaxAbsScaler(), GaussianNB()).fit(X[:1500], value[:1500] > 0)
    elif kind == "OneClassSVM":
        X = X[:, [0]]
        estimator = OneClassSVM(gamma="scale", nu=0.05).fit(X[:1500])
    else:
        estimator = make_pipeline(StandardScaler(), LinearSVC(random_state=SEED)).fit(
            X[:1500], np.digitize(value[:1500], [-20, 20]))
    return estimator, X[1500:1600].astype(np.float32)


@pytest.mark.parametrize("kind,table", [("GaussianNB", "m_input_center"),
                                        ("MaxAbsScaler+GaussianNB", "m_stage_center_lo"),
                                        ("OneClassSVM", "m_sv_center"),
                                        ("StandardScaler+LinearSVC", "m_linear_center")])
@pytest.mark.parametrize("target", ALL_TARGETS if FULL else SUBSET_TARGETS)
def test_float_centring_answers_like_host(target, kind, table, tmp_path):
    """The float centring's tables read on every instruction set (on AVR from flash, by the
    header's accessors): the chip answers as the host build and as scikit-learn on 100 rows far
    from zero, its scores the host's bit for bit (within float32 rounding of expf for the
    one-class SVM)."""
    require_target(target)
    estimator, X = far_from_zero_model(kind)
    on_target = mcuport.generate(estimator, name="m", numeric="float", target=target)
    assert f"{table}[" in on_target.header
    with HostModel(mcuport.generate(estimator, name="m", numeric="float"),
                   workdir=tmp_path / "host") as host:
        expected_y, expected_scores = host.run(X)
    with TargetModel(on_target, workdir=tmp_path / "target") as chip:
        measured = chip.measure(X)
    np.testing.assert_array_equal(measured.predictions, expected_y)
    labels = estimator.predict(X.astype(np.float64))
    if hasattr(estimator, "classes_"):
        labels = np.searchsorted(estimator.classes_, labels)
    np.testing.assert_array_equal(measured.predictions, labels)
    if exact_float_scores(on_target, target):
        np.testing.assert_array_equal(measured.scores, expected_scores)
    else:
        scale = float(np.abs(expected_scores).max())
        np.testing.assert_allclose(measured.scores, expected_scores, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("target", ALL_TARGETS if FULL else SUBSET_TARGETS)
def test_counter_measures_a_known_loop_exactly(target):
    """A hand-written loop of known cost through the same path as bench_one. On AVR (6 cycles
    an iteration) 10922 and 10923 iterations end just before and just after Timer1's first
    overflow, and the longer loops span many."""
    require_target(target)
    iterations = [1, 2, 1000, 10922, 10923, 100000, 250000]
    measured, expected = measure_known_loop(target, iterations)
    np.testing.assert_array_equal(measured, expected)
    REPORT_LINES.append(f"{target} counter self-check: {dict(zip(iterations, measured.tolist()))}")


@pytest.mark.parametrize("target", SUBSET_TARGETS)
def test_counts_are_deterministic(target, tmp_path):
    require_target(target)
    estimator, X_train, X_test = fitted("RandomForestClassifier")
    generated = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X_train,
                                 target=target)
    codes = mcuport.load(estimator, calibration=X_train).quantize(X_test)
    with TargetModel(generated, workdir=tmp_path) as chip:
        first, second = chip.measure(codes), chip.measure(codes)
    np.testing.assert_array_equal(first.counts, second.counts)
    assert first.peak_stack_bytes == second.peak_stack_bytes
    assert len(np.unique(first.counts)) > 1  # the count follows the path through the trees


def test_unicorn_block_counts_equal_instruction_counts_on_armv6m(tmp_path):
    """Counting per translated block (fast) equals a hook on every instruction where no IT block
    can skip one (ARMv6-M has none)."""
    target = next(t for t in SUBSET_TARGETS if TARGET_INFO[t]["arch"] == "armv6m")
    require_target(target)
    estimator, X_train, X_test = fitted("SVC(rbf)")
    generated = mcuport.generate(estimator, name="m", numeric="fixed", calibration=X_train,
                                 target=target)
    codes = mcuport.load(estimator, calibration=X_train).quantize(X_test)[:8]
    with TargetModel(generated, workdir=tmp_path) as chip:
        counts = chip.measure(codes).counts
        firmware = chip._firmware
        # the firmware measure() counts in: SVC has decision values, so predict alone
        build = firmware.build(codes.view(np.uint16), model=True, scores=False)
        counter = _UnicornCounter(firmware, build, per_instruction=True)
        empty = counter.call("bench_empty", 0)
        per_instruction = []
        for row in range(len(codes)):
            counter.call("load_row", row)
            per_instruction.append(counter.call("bench_one", row) - empty)
    np.testing.assert_array_equal(counts, per_instruction)


def test_rows_beyond_flash_run_in_several_images(tmp_path):
    """digits' 450 test rows (57 KB of int16 codes) do not fit an ATmega328P's 32 KB of flash."""
    target = next((t for t in SUBSET_TARGETS if TARGET_INFO[t]["arch"] == "avr5"), None)
    if target is None:
        pytest.skip("no AVR target")
    require_target(target)
    X_train, X_test, y_train, _ = split("digits")
    estimator = DecisionTreeClassifier(max_depth=6, random_state=SEED).fit(X_train, y_train)
    document = mcuport.to_json(estimator, calibration=X_train)
    codes = mcuport.load(document).quantize(X_test)
    assert codes.nbytes > TARGET_INFO[target]["flash_bytes"]
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    with TargetModel(generated, workdir=tmp_path) as chip:
        predictions, scores = chip.run(codes)
        assert chip.rows_per_image < len(codes)
    np.testing.assert_array_equal(predictions, mcuport.load(document).predict_codes(codes))
    np.testing.assert_array_equal(scores, mcuport.load(document).scores_codes(codes))


# A depth-2 tree written by hand, as another tool might emit it: in C, and in C++ (a class in a
# namespace, as micromlgen writes), each with the adapter the harness calls.
_STUMP = "(x[{f0}] <= {t0}f ? {a} : (x[{f1}] <= {t1}f ? {b} : {c}))"
_FOREIGN = {
    "c": "static inline int32_t stump_predict(float x[]) {{ return {expression}; }}\n",
    "c++": ("namespace Other {{ class Stump {{ public: int predict(float *x) {{ return {expression};"
            " }} }}; }}\nstatic inline int32_t stump_predict(float x[]) {{ Other::Stump s; "
            "return s.predict(x); }}\n"),
}


@pytest.mark.parametrize("language", ["c", "c++"])
@pytest.mark.parametrize("arch", ["armv6m", "avr5"])
def test_foreign_code_runs_in_the_same_harness(arch, language, tmp_path):
    """ForeignCode (another tool's C or C++ on float inputs) builds with the target's flags and
    answers like the scikit-learn tree it encodes, counted like a generated header."""
    target = next((t for t in SUBSET_TARGETS if TARGET_INFO[t]["arch"] == arch), None)
    if target is None:
        pytest.skip(f"no {arch} target")
    require_target(target)
    X_train, X_test, y_train, _ = split("iris")
    tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, y_train)
    t = tree.tree_
    right = t.children_right[0]

    def leaf(node):
        return int(np.argmax(t.value[node]))

    expression = _STUMP.format(
        f0=t.feature[0], t0=np.float32(t.threshold[0]), a=leaf(t.children_left[0]),
        f1=t.feature[right], t1=np.float32(t.threshold[right]), b=leaf(t.children_left[right]),
        c=leaf(t.children_right[right]))
    assert t.children_left[t.children_left[0]] == -1  # the shape the expression assumes
    code = ForeignCode(header="#include <stdint.h>\n" + _FOREIGN[language].format(
        expression=expression), name="stump", n_features=4, language=language)
    with pytest.raises(ValueError, match="target"):
        TargetModel(code)
    rows = X_test.astype(np.float32)
    with TargetModel(code, target, workdir=tmp_path) as chip:
        measured = chip.measure(rows)
    np.testing.assert_array_equal(measured.predictions, tree.predict(rows))
    assert measured.counts.min() > 0 and measured.model_flash_bytes > 0


def test_targets_without_an_emulator_are_refused():
    X_train, _, y_train, _ = split("iris")
    tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, y_train)
    with pytest.raises(ValueError, match="HostModel"):
        TargetModel(mcuport.generate(tree, name="m"))
    for target in mcuport.targets():
        if not target["emulator"] and target["arch"] != "host":
            with pytest.raises(ToolchainMissing, match="no emulator"):
                TargetModel(mcuport.generate(tree, name="m", target=target["name"]))


def test_a_missing_cross_compiler_names_its_package(monkeypatch):
    X_train, _, y_train, _ = split("iris")
    tree = DecisionTreeClassifier(max_depth=2, random_state=SEED).fit(X_train, y_train)
    target = SUBSET_TARGETS[0]
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == TARGET_INFO[target][
        "compiler"] else real_which(tool))
    with pytest.raises(ToolchainMissing, match=re.escape(TARGET_INFO[target]["toolchain_package"])):
        TargetModel(mcuport.generate(tree, name="m", target=target))


def test_flash_of_predict_alone_leaves_out_the_scores_function(tmp_path):
    """A decision tree's predict reads a class per leaf; its predict_proba reads a row of
    probabilities per leaf. The firmware calling predict alone links no probability table."""
    require_target("cortex-m0")
    X_train, X_test, y_train, _ = split("digits")
    tree = DecisionTreeClassifier(max_depth=8, random_state=SEED).fit(X_train, y_train)
    generated = mcuport.generate(tree, name="m", numeric="fixed", calibration=X_train,
                                 target="cortex-m0", layout="fast")
    rows, classes = map(int, re.search(r"uint16_t m_leaf_proba\[(\d+)\]\[(\d+)\]",
                                       generated.header).groups())
    assert classes == len(tree.classes_)
    proba_bytes = rows * classes * 2  # the distinct leaves' probabilities, uint16 each
    with HostModel(generated, workdir=tmp_path / "host") as host:
        codes = host.quantize(X_test[:5])[0]
    with TargetModel(generated, workdir=tmp_path / "target") as chip:
        measured = chip.measure(codes)
    assert measured.model_flash_bytes - measured.predict_flash_bytes >= proba_bytes


def test_predict_is_counted_in_the_firmware_that_calls_predict_alone(tmp_path):
    """The cost and stack of predict are those of the firmware predict_flash_bytes sizes: the
    same as for a model without a scores function, whatever the compiler inlines where predict
    is the one caller (here a fast forest's sums, inlined into predict only then)."""
    require_target("cortex-m4f")
    X_train, X_test, y_train, _ = split("breast_cancer")
    forest = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=SEED).fit(
        X_train, y_train)
    generated = mcuport.generate(forest, name="m", numeric="fixed", calibration=X_train,
                                 target="cortex-m4f", layout="fast")
    assert generated.n_scores == 2 and generated.predict_type
    predict_only = dataclasses.replace(generated, n_scores=0, scores_function="")
    with HostModel(generated, workdir=tmp_path / "host") as host:
        codes = host.quantize(X_test)[0]
        expected = host.run(codes)[0]
    with TargetModel(generated, workdir=tmp_path / "both") as chip:
        both = chip.measure(codes)
    with TargetModel(predict_only, workdir=tmp_path / "alone") as chip:
        alone = chip.measure(codes)
    np.testing.assert_array_equal(both.predictions, expected)
    assert both.scores is not None and both.scores.shape == (len(codes), 2)
    np.testing.assert_array_equal(both.counts, alone.counts)
    assert both.peak_stack_bytes == alone.peak_stack_bytes
    assert both.predict_flash_bytes == alone.model_flash_bytes < both.model_flash_bytes


def test_cortex_m0_forest_reads_its_inputs_from_stack_words(tmp_path):
    """On Cortex-M0 (Target::stack_input_words) a fast forest with many splits per input copies
    its inputs into int32 stack words first; the answers on the chip are the host's, row for
    row, over the whole test split, and the Cortex-M4F header keeps reading x[] directly."""
    require_target("cortex-m0")
    X_train, X_test, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=10, max_depth=8, random_state=SEED).fit(
        X_train, y_train)
    m0 = mcuport.generate(forest, name="m", numeric="fixed", calibration=X_train,
                          target="cortex-m0", layout="fast")
    m4 = mcuport.generate(forest, name="m", numeric="fixed", calibration=X_train,
                          target="cortex-m4f", layout="fast")
    read = int(re.search(r"int32_t xs\[(\d+)\];", m0.header).group(1))
    assert 0 < read <= 64 and "xs[" not in m4.header
    with HostModel(m4, workdir=tmp_path / "host") as host:
        codes = host.quantize(X_test)[0]
        expected = host.run(codes)
    with TargetModel(m0, workdir=tmp_path / "m0") as chip:
        got = chip.run(codes)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("n_classes,spread", [(2, 1.0), (3, 1.0), (3, 64.0)],
                         ids=["two-classes", "three-classes", "point-per-class"])
@pytest.mark.parametrize("target", ["cortex-m4f", "cortex-m0"])
def test_naive_bayes_straight_line_predict_on_the_chip(target, n_classes, spread, tmp_path):
    """GaussianNB's straight-line predict as each core compiles it (Cortex-M4F: SMLAxy on input
    pairs, squared for three classes, the two factors of one product per feature for two;
    Cortex-M0: squares from 16-bit halves) against the simulator on random and extreme codes.
    Two classes: close but different, so that every product counts; three (at one binary point,
    and with a point per class where the variances are 64 times apart): the last two the same,
    so that rows near them are ties the first index must win."""
    from conftest import extreme_codes

    require_target(target)
    random = np.random.default_rng(SEED)
    if n_classes == 2:  # 15 features: straight-line (30 terms), roots below 2^14
        X = np.concatenate([random.normal(0, 1.0, (60, 15)), random.normal(0.4, 1.1, (60, 15))])
        y = np.repeat(np.arange(2), 60)
    else:
        X = np.concatenate([random.normal(c, spread ** c, (60, 5)) for c in range(2)])
        X = np.concatenate([X, X[60:]])
        y = np.repeat(np.arange(3), 60)
    document = mcuport.to_json(GaussianNB().fit(X, y), calibration=X)
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    # the DSP branch (taken on Cortex-M4F): SMLAxy on input pairs, squared or multiplied
    assert "__smlatt(pair" in generated.header
    assert ("__smlabt(pair" in generated.header) == (n_classes == 2)
    assert ("mcuport_fx_round_shift_u64(sum," in generated.header) == (spread > 1)
    simulated = mcuport.load(document, target=target)
    with HostModel(generated, workdir=tmp_path / "host") as host:
        codes = np.concatenate([host.quantize(X)[0], extreme_codes(X.shape[1], 400)])
    with TargetModel(generated, workdir=tmp_path / "target") as chip:
        measured = chip.measure(codes)
    expected = simulated.predict_codes(codes)
    np.testing.assert_array_equal(measured.predictions, expected)
    assert np.sum(expected == 0) > 50 and np.sum(expected == 1) > 50


@pytest.mark.parametrize("n_trees", [10, 30])
def test_cortex_m4f_forest_keeps_its_sums_in_registers(n_trees, tmp_path):
    """On Cortex-M4F (Target::register_sums) a fast forest with probability leaves adds them to
    local sums s0..s9 instead of acc[]: in one function (10 trees, 1,000 splits) and in groups
    of trees that load and store the sums (30 trees, 3,000 splits). The chip answers as the
    simulator does, predictions and probabilities, row for row over the whole test split; the
    Cortex-M0 header keeps its sums in memory."""
    X_train, X_test, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=n_trees, max_depth=8, random_state=SEED).fit(
        X_train, y_train)
    document = mcuport.to_json(forest, calibration=X_train)
    m4 = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m4f",
                          layout="fast")
    m0 = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0",
                          layout="fast")
    assert "uint32_t s9 = " in m4.header and "acc[3u]" not in m4.header
    # One function whose first tree has 105 leaves of 10 classes: its sums start at a hidden zero
    # (kOpaqueSumsMinCopies); groups load theirs from acc[].
    assert ("M_OPAQUE(s9);" in m4.header) == (n_trees == 10)
    assert ("m_trees_1(" in m4.header) == (n_trees == 30)
    assert "uint32_t s9 = " not in m0.header and "acc[3u]" in m0.header
    compile_everywhere(m4, tmp_path)  # C99 under clang, C++ under g++ and clang++
    require_target("cortex-m4f")
    simulated = mcuport.load(document)
    with HostModel(m4, workdir=tmp_path / "host") as host:
        codes = host.quantize(X_test)[0]
    with TargetModel(m4, workdir=tmp_path / "m4") as chip:
        y, scores = chip.run(codes)
    np.testing.assert_array_equal(y, simulated.predict_codes(codes))
    np.testing.assert_array_equal(scores, simulated.scores_codes(codes))


def test_cortex_m4f_forest_hides_the_zeros_of_its_sums(tmp_path):
    """M_OPAQUE (kOpaqueSumsMinCopies) is there for flash: the 10-tree depth-8 digits forest on
    Cortex-M4F, built with it and with it emptied, answers alike, and with it its predict takes
    at most 95% of the flash (measured: 16,880 B where 18,892; gcc writes every sum in every leaf
    of the first tree when it knows they start at zero)."""
    require_target("cortex-m4f")
    X_train, X_test, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=10, max_depth=8, random_state=SEED).fit(
        X_train, y_train)
    hidden = mcuport.generate(forest, name="m", numeric="fixed", target="cortex-m4f",
                              layout="fast", calibration=X_train)
    define = '#define M_OPAQUE(v) __asm__("" : "+r"(v))\n'
    assert hidden.header.count(define) == 1
    known = dataclasses.replace(hidden, header=hidden.header.replace(
        define, "#define M_OPAQUE(v) ((void)0)\n"))
    with HostModel(hidden, workdir=tmp_path / "host") as host:
        codes = host.quantize(X_test)[0]
    measured = {}
    for name, generated in (("hidden", hidden), ("known", known)):
        with TargetModel(generated, workdir=tmp_path / name) as chip:
            measured[name] = (chip.measure(codes), chip.predict_flash_bytes)
    np.testing.assert_array_equal(measured["hidden"][0].predictions,
                                  measured["known"][0].predictions)
    assert measured["hidden"][1] <= 0.95 * measured["known"][1], measured


@pytest.mark.parametrize("target", SUBSET_TARGETS)
def test_mahalanobis_straight_line_wide_weights(target, tmp_path):
    """The golden EllipticEnvelope document (4 features, 23-bit weights, 10 multiply-accumulates):
    straight-line code (on Cortex-M0 each weight split at bit 8, hi 2^8 + lo, a single-term row's
    product kept 32 bits wide; the loop on AVR), on the chip, against the simulator, on codes over
    the whole int16 range, at its corners and near the data, scores and decisions alike."""
    require_target(target)
    from pathlib import Path

    document = (Path(__file__).resolve().parents[1] / "golden" / "elliptic_envelope.json").read_text()
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    assert "24-bit weights" in generated.header
    simulated = mcuport.load(document, target=target)
    rng = np.random.default_rng(SEED)
    corners = np.array([[-32768 if (k >> f) & 1 else 32767 for f in range(4)] for k in range(16)])
    centre = simulated.quantize(np.array([[5.8, 3.0, 3.8, 1.2]]))
    codes = np.concatenate([
        rng.integers(-32768, 32768, (60, 4)),
        corners,
        centre + rng.integers(-3000, 3001, (60, 4)),
    ]).clip(-32768, 32767).astype(np.int16)
    with TargetModel(generated, workdir=tmp_path) as chip:
        measured = chip.measure(codes)
    np.testing.assert_array_equal(measured.predictions, simulated.predict_codes(codes))
    np.testing.assert_array_equal(measured.scores, simulated.scores_codes(codes))
    assert set(np.unique(measured.predictions)) == {-1, 1}


# Compact trees whose threshold codes span more than half the int16 range: a 16-bit threshold
# field, stored first in each record (the code + 32768, compared with the input's code + 32768
# unsigned). The depth-6 forest gives counted leaves (a record of 24 bits), the others leaf codes
# in the records (32 bits); where int is 16 bits the records' low part is the threshold itself.
WIDE_THRESHOLD_MODELS = {  # features, estimator, leaf codes (else counted leaves)
    "forest-3-features": (3, lambda: RandomForestClassifier(
        n_estimators=10, max_depth=6, random_state=SEED), False),
    "forest-30-features": (30, lambda: RandomForestClassifier(
        n_estimators=10, max_depth=8, random_state=SEED), True),
    "tree-5-features": (5, lambda: DecisionTreeClassifier(random_state=SEED), True),
}


@pytest.mark.parametrize("kind", WIDE_THRESHOLD_MODELS)
@pytest.mark.parametrize("target", ["cortex-m0", "avr-atmega328p"])
def test_compact_records_whose_threshold_goes_first(kind, target, tmp_path):
    """Such a model on a 32-bit core and on the ATmega328P (16-bit int, 16-bit record parts):
    on the chip and compiled for the host by gcc, clang, g++ and clang++ (the target's header),
    the same classes and probability codes as the simulator, on the test split, on inputs at and
    just above the split thresholds and on codes over the whole int16 range and at its ends."""
    from sklearn.datasets import make_classification

    require_target(target)
    n_features, factory, coded = WIDE_THRESHOLD_MODELS[kind]
    X, y = make_classification(n_samples=2000, n_features=n_features, n_informative=3,
                               n_redundant=0, random_state=SEED)
    X_train, X_test, y_train = X[:1500], X[1500:], y[:1500]
    estimator = factory().fit(X_train, y_train)
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", layout="compact",
                                 target=target)
    header = generated.header
    assert "bits 0-15 its threshold code + 32768" in header
    assert ("the payload" in header) == coded
    # 16-bit int: the threshold is a record's low 16-bit part, also where a 32-bit part would
    # take the same bytes (a record of leaf codes); no 32-bit record is put together
    assert ("static const uint16_t m_split_low[" in header) == (
        target == "avr-atmega328p" or not coded)
    assert "m_split_at(" not in header
    simulated = mcuport.load(document)
    rng = np.random.default_rng(SEED)
    edges = threshold_edge_rows(estimator, X_test, 600)
    with HostModel(generated, workdir=tmp_path / "host") as host:
        codes = np.concatenate([host.quantize(X_test)[0], host.quantize(edges)[0],
                                extreme_codes(n_features, 400)])
        on_host = host.run(codes)
    expected = (simulated.predict_codes(codes), simulated.scores_codes(codes))
    for got, want in zip(on_host, expected):
        np.testing.assert_array_equal(got, want)
    for i, (cc, *std) in enumerate(OTHER_COMPILERS):
        with HostModel(generated, cc=cc, cflags=(*std, *mcuport.host.STRICT_FLAGS),
                       workdir=tmp_path / f"cc{i}") as other:
            np.testing.assert_array_equal(other.run(codes)[1], expected[1])
    on_chip = codes[rng.permutation(len(codes))[:300]]  # the emulators are slower
    with TargetModel(generated, workdir=tmp_path / "chip") as chip:
        classes, proba = chip.run(on_chip)
    np.testing.assert_array_equal(classes, simulated.predict_codes(on_chip))
    np.testing.assert_array_equal(proba, simulated.scores_codes(on_chip))


def zero_value_codes(header: str, simulated) -> np.ndarray:
    """Codes on which a linear SVC's pair has a decision value of exactly 0 (a vote for its
    second class), one set per pair: bias + w_f x_f + w_g x_g = 0 solved in the header's integers
    for the first two features that allow it, the other codes 0, confirmed by the simulator."""
    weights = re.search(r"m_pair_weight\[\d+\]\[\d+\] = \{(.*?)\};", header, re.S).group(1)
    rows = [[int(v) for v in re.findall(r"-?\d+", row)] for row in re.findall(r"\{([^}]*)\}", weights)]
    biases = [int(v) for v in re.findall(r"INT64_C\((-?\d+)\)|(?<![\w(])(-?\d+)(?=[,\s}])",
                                          re.search(r"m_pair_bias\[\d+\] = \{(.*?)\};", header,
                                                    re.S).group(1)) for v in v if v]
    found = []
    free = np.arange(-32768, 32768, dtype=np.int64)
    for k, (w, bias) in enumerate(zip(rows, biases)):
        for f, g in ((f, g) for f in range(len(w)) for g in range(len(w)) if f != g and w[f]):
            rest = -(bias + w[g] * free)
            solved = (rest % w[f] == 0) & (np.abs(rest // w[f] + 0.5) < 32768)
            if solved.any():
                break
        codes = np.zeros((int(min(solved.sum(), 10)), len(w)), dtype=np.int64)
        codes[:, f], codes[:, g] = (rest[solved] // w[f])[:10], free[solved][:10]
        codes = codes.astype(np.int16)
        assert len(codes) > 0 and np.all(simulated.scores_codes(codes)[:, k] == 0), k
        found.append(codes)
    return np.concatenate(found)


@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4f"])
def test_binary_linear_svc_decides_a_zero_value_as_libsvm(target, tmp_path):
    """A two-class linear SVC with int32 rows answers with the sign bit of its value less one:
    class 1 exactly where the value is at most 0 (libsvm votes for class 0 on a positive value).
    Codes on which the value is exactly 0 (zero_value_codes) are run, with their neighbours and
    the ends of the int16 range, on the chip and on the host, against the simulator."""
    require_target(target)
    X_train, _, y_train, _ = split("breast_cancer")
    X_train, y_train = X_train[:, :2], y_train
    svc = SVC(kernel="linear", C=0.01).fit(X_train, y_train)
    document = mcuport.to_json(svc, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    assert ">> 31);" in generated.header  # the sign bit: no compare and select
    simulated = mcuport.load(document)
    zeros = zero_value_codes(generated.header, simulated).astype(np.int64)
    codes = np.concatenate([zeros, zeros + [1, 0], zeros - [1, 0], zeros + [0, 1],
                            zeros - [0, 1], [[-32768, -32768], [32767, 32767],
                                             [-32768, 32767], [32767, -32768]]])
    codes = codes.clip(-32768, 32767).astype(np.int16)
    expected = simulated.predict_codes(codes)
    assert np.all(expected[:len(zeros)] == 1)  # value 0: class 1, as libsvm
    assert len(np.unique(expected)) == 2
    with HostModel(generated, workdir=tmp_path / "host") as host:
        np.testing.assert_array_equal(host.run(codes)[0], expected)
    with TargetModel(generated, workdir=tmp_path / "chip") as chip:
        np.testing.assert_array_equal(chip.run(codes)[0], expected)


def libsvm_winner(votes_for_second: int, n_classes: int) -> int:
    """libsvm's one-vs-one election: pair k of (i, j), i < j, in order (0,1), (0,2), ..., (1,2),
    votes for j where bit k is set, else for i; the most votes win, ties to the lowest class."""
    votes = [0] * n_classes
    k = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            votes[j if (votes_for_second >> k) & 1 else i] += 1
            k += 1
    return max(range(n_classes), key=lambda c: (votes[c], -c))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@pytest.mark.parametrize("n_classes", [3, 4])
@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4f"])
def test_svc_vote_table_elects_as_libsvm(target, n_classes, kernel, tmp_path):
    """SVC with 3 or 4 classes: predict reads the winner from a table indexed by the pairs'
    votes. The table equals libsvm's election of every vote pattern (counted here, apart from
    mcuport), and predict answers as the simulator on the chip and on the host, on the test
    split and on codes over the whole int16 range, in fixed mode; in float mode the host build
    answers as scikit-learn."""
    from sklearn.datasets import make_classification

    require_target(target)
    X, y = make_classification(n_samples=600, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, n_clusters_per_class=1, random_state=SEED)
    X_train, X_test, y_train = X[:450], X[450:], y[:450]
    svc = SVC(kernel=kernel).fit(X_train, y_train)
    document = mcuport.to_json(svc, calibration=X_train)
    n_pairs = n_classes * (n_classes - 1) // 2
    for numeric in ("fixed", "float"):
        generated = mcuport.generate(document, name="m", numeric=numeric, target=target)
        table = re.search(r"m_vote_winner\[(\d+)\] = \{([^}]*)\}", generated.header)
        assert table is not None and int(table.group(1)) == 1 << n_pairs
        winners = [int(v) for v in table.group(2).replace("\n", " ").split(",")]
        assert winners == [libsvm_winner(i, n_classes) for i in range(1 << n_pairs)]
        with HostModel(generated, workdir=tmp_path / f"host-{numeric}") as host:
            if numeric == "float":
                rows = X_test.astype(np.float32)
                np.testing.assert_array_equal(host.run(rows)[0], svc.predict(rows))
                continue
            codes = np.concatenate([host.quantize(X_test)[0],
                                    np.random.default_rng(SEED).integers(
                                        -32768, 32768, (300, 5)).astype(np.int16)])
            simulated = mcuport.load(document)
            if kernel == "linear":  # and codes on which a pair's value is exactly 0
                codes = np.concatenate([codes, zero_value_codes(generated.header, simulated)])
            expected = simulated.predict_codes(codes)
            assert len(np.unique(expected)) == n_classes
            np.testing.assert_array_equal(host.run(codes)[0], expected)
        with TargetModel(generated, workdir=tmp_path / "chip") as chip:
            np.testing.assert_array_equal(chip.run(codes)[0], expected)


def test_avr_compact_records_of_17_to_32_bits_are_two_16_bit_parts(tmp_path):
    """Where int is 16 bits, a compact record of 17 to 32 bits is stored as two 16-bit parts, not
    one 32-bit part (the same bytes): here a 300-feature, 40-class tree whose 9-bit feature, 9-bit
    threshold rank, flags and payload fill 27 bits. The walk reads each field from its part in
    16-bit arithmetic (the 32-bit record took 1,842 cycles a prediction, 772 now). On the chip
    and compiled for the host, it answers as the simulator."""
    from sklearn.datasets import make_classification

    require_target("avr-atmega328p")
    X, y = make_classification(n_samples=1200, n_features=300, n_informative=6, n_redundant=0,
                               n_classes=40, n_clusters_per_class=1, random_state=7)
    X = X * np.linspace(1.0, 50.0, 300)
    estimator = DecisionTreeClassifier(random_state=SEED).fit(X[:600], y[:600])
    document = mcuport.to_json(estimator, calibration=X[:600])
    generated = mcuport.generate(document, name="m", numeric="fixed", layout="compact",
                                 target="avr-atmega328p")
    header = generated.header
    assert "static const uint16_t m_split_low[" in header
    assert "static const uint16_t m_split_high[" in header
    assert not re.search(r"static const u?int32_t m_\w+\[", header)
    simulated = mcuport.load(document)
    with HostModel(generated, workdir=tmp_path / "host") as host:
        codes = np.concatenate([host.quantize(X[600:700])[0], extreme_codes(300, 100)])
        np.testing.assert_array_equal(host.run(codes)[0], simulated.predict_codes(codes))
    with TargetModel(generated, workdir=tmp_path / "chip") as chip:
        np.testing.assert_array_equal(chip.run(codes)[0], simulated.predict_codes(codes))


@pytest.mark.parametrize("case", ["int32 and biased rows", "biased and int64 rows",
                                  "a shift table"])
@pytest.mark.parametrize("target", ["cortex-m4f", "cortex-m0", "avr-atmega328p"])
def test_mahalanobis_rows_on_their_own_points_on_the_chip(target, case, tmp_path):
    """Mahalanobis rows on their own binary points (test_cortex_m0.PER_ROW_POINTS) as each core
    compiles them: the straight-line rows of Cortex-M4F (SMLAxy) and Cortex-M0 (MULS), and the
    ATmega328P's loop over its PROGMEM tables with the row_shift table, which it takes for every
    map; the simulator's scores and decisions at every corner of the int16 cube, at random codes
    and near the location."""
    from test_cortex_m0 import per_row_points_codes, per_row_points_document

    require_target(target)
    document = per_row_points_document(case)
    generated = mcuport.generate(document, name="m", numeric="fixed", target=target)
    header = generated.header
    assert "each row on its own binary point" in header
    assert ("m_row_shift[" in header) == (target == "avr-atmega328p" or case == "a shift table")
    n = int(re.search(r"#define M_N_FEATURES (\d+)", header).group(1))
    codes = per_row_points_codes(n)
    simulated = mcuport.load(document, target=target)
    with TargetModel(generated, workdir=tmp_path / "target") as chip:
        measured = chip.measure(codes)
    np.testing.assert_array_equal(measured.predictions, simulated.predict_codes(codes))
    np.testing.assert_array_equal(measured.scores, simulated.scores_codes(codes))
    assert set(np.unique(measured.predictions)) == {-1, 1}


# Cortex-M0 rows on widened inputs run their Thumb-1 assembly on the chip (codegen/src/
# emit_affine.cpp): int64 rows (digits' PCA, 64 inputs; breast cancer's 30 padded to 32; digits'
# LinearSVC, whose scores are the rows' whole int64 sums, where a PCA output keeps only the low
# bits of a row's high word; all of these take eight products a turn, and 17 inputs padded to
# 20, four a turn) and int32 rows (22 inputs padded to 24), at the target's -Os,
# unoptimised (r7 is then the frame pointer, which the assembly saves and restores) and at -O2;
# and the 31-bit rows, a term a turn, of the poly and sigmoid kernels' arguments and of a
# pipeline's stage.
@pytest.mark.parametrize("optimize", ["-Os", "-O0", "-O2"])
@pytest.mark.parametrize("kind", ["PCA(digits)", "StandardScaler+PCA(breast_cancer)",
                                  "PCA(17 inputs)", "LinearSVC(digits)", "LinearSVC(int32 rows)",
                                  "SVC(poly, wine)", "StandardScaler+SVC(poly, wine)",
                                  "SVC(sigmoid, iris)", "StandardScaler+PCA+GaussianNB(wine)"])
def test_cortex_m0_widened_rows_on_the_chip(kind, optimize, tmp_path):
    """The whole test split and codes over the int16 range and at its ends: the simulator's
    predictions and scores, bit for bit."""
    require_target("cortex-m0")
    generated, simulated, X_test = widened_header(kind)
    X = np.vstack([simulated.quantize(X_test), extreme_codes(X_test.shape[1], 100)])
    with TargetModel(generated, workdir=tmp_path, optimize=optimize) as chip:
        assert optimize in chip.compiler_command
        predictions, scores = chip.run(X)
    np.testing.assert_array_equal(scores, simulated.scores_codes(X))
    if predictions is not None:
        np.testing.assert_array_equal(predictions, simulated.predict_codes(X))


def stack_usage_bound(build_dir, command: str) -> tuple:
    """Recompiles a firmware build's harness (holding the model) with -fstack-usage, by the
    command that built it: (bench_one's frame plus every model function's, {function: bytes}).
    The sum bounds the deepest call whatever it inlines, as long as every frame is one the
    compiler sees (a frame the compiler reports as dynamic fails). Calls from the model into
    code compiled elsewhere (libgcc's helpers: __aeabi_lmul, a 64 x 64 multiply, pushes 28
    bytes) add the bytes their disassembly pushes: no .su file reports them."""
    subprocess.run(shlex.split(command) + ["-fstack-usage"], cwd=build_dir, check=True,
                   capture_output=True, text=True)
    frames = {}
    for name, (size, qualifier) in stack_usage(build_dir / "harness.su").items():
        if name == "bench_one" or name.startswith(("m_", "mcuport_")):
            assert qualifier == "static", (name, qualifier)
            frames[name] = size
    assert "bench_one" in frames, frames
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(build_dir / "fw.elf")],
                             check=True, capture_output=True, text=True).stdout
    frames.update(library_stack(arm_functions(listing), ["bench_one"],
                                ("bench_one", "m_", "mcuport_")))
    return sum(frames.values()), frames


@pytest.mark.parametrize("kind", ["PCA(digits)", "LinearSVC(int32 rows)", "SVC(poly, wine)",
                                  "SVC(sigmoid, iris)", "StandardScaler+PCA+GaussianNB(wine)"])
def test_cortex_m0_widened_rows_stack_is_what_the_compiler_reports(kind, tmp_path):
    """The rows' Thumb-1 assembly keeps the registers it borrows in the widened inputs' struct
    (a C object, in the caller's frame), not in pushes of its own: the deepest stack painted on
    the chip is at most the sum of the frames -fstack-usage reports, so a build's stack report
    is a true bound. (With pushes inside the assembly, the painted peak of digits' PCA, the
    int32 rows and the pipeline's stage exceeded that sum by 8 to 20 bytes.)"""
    require_target("cortex-m0")
    generated, simulated, X_test = widened_header(kind)
    with TargetModel(generated, workdir=tmp_path) as chip:
        measured = chip.measure(simulated.quantize(X_test))
    bound, frames = stack_usage_bound(measured.firmware_directory, measured.compiler_command)
    REPORT_LINES.append(f"Cortex-M0 -Os stack of {kind}: painted {measured.peak_stack_bytes} B, "
                        f"-fstack-usage sum {bound} B ({frames})")
    assert 0 < measured.peak_stack_bytes <= bound, (measured.peak_stack_bytes, frames)


def test_an_unknown_optimisation_flag_is_refused():
    X_train, _, _, _ = split("iris")
    generated = mcuport.generate(DecisionTreeClassifier(random_state=SEED).fit(X_train, X_train[:, 0] > 5),
                                 name="m", numeric="fixed", target="cortex-m0")
    with pytest.raises(ValueError, match="optimize must be one of -O0, -O1"):
        TargetModel(generated, optimize="-O9; rm -rf /")

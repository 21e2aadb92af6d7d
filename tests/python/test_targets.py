"""Targets: every model family, in both numeric modes, cross-compiled with the target's own
compiler and flags under mcuport's strict warnings, and the target decisions that show in the
built object (AVR tables in flash, not in its 2 KB of RAM).

The emulated runs of the same headers are in test_emulated.py.
"""

from __future__ import annotations

import functools
import re
import subprocess
import warnings

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import STRICT_FLAGS

from conftest import REPORT_LINES, SEED, require, split

TARGETS = {t["name"]: t for t in mcuport.targets()}
# Every target with a toolchain here: the Debian packages of scripts/setup provide them.
CROSS_TARGETS = ["cortex-m0", "cortex-m4f", "cortex-m7", "avr-atmega328p", "rv32imc"]

# One model per family (and the kernels and tasks that change the generated code), small enough
# for the 32 KB of an ATmega328P in both modes.
FAMILIES = {
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(max_depth=6, random_state=SEED), "wine"),
    "RandomForestClassifier": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=5, random_state=SEED), "wine"),
    "ExtraTreesClassifier": (
        lambda: ExtraTreesClassifier(n_estimators=5, max_depth=5, random_state=SEED), "iris"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=6, random_state=SEED), "diabetes"),
    "RandomForestRegressor": (
        lambda: RandomForestRegressor(n_estimators=5, max_depth=5, random_state=SEED), "diabetes"),
    "LinearSVC": (lambda: LinearSVC(dual=True, max_iter=20000, random_state=SEED), "wine"),
    "SVC(linear)": (lambda: SVC(kernel="linear"), "iris"),
    "SVC(rbf)": (lambda: SVC(), "iris"),
    "SVC(poly)": (lambda: SVC(kernel="poly"), "iris"),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", gamma="auto"), "iris"),
    "OneClassSVM(rbf)": (lambda: OneClassSVM(nu=0.2), "iris"),
    "GaussianNB": (lambda: GaussianNB(), "wine"),
    "PCA(whiten)": (lambda: PCA(n_components=4, whiten=True), "wine"),
    "EllipticEnvelope": (lambda: EllipticEnvelope(random_state=SEED), "iris"),
    "Pipeline(StandardScaler, PCA, GaussianNB)": (
        lambda: make_pipeline(StandardScaler(), PCA(n_components=4), GaussianNB()), "wine"),
}
UNSUPERVISED = (PCA, EllipticEnvelope, OneClassSVM)


@functools.lru_cache(maxsize=None)
def fitted(kind: str):
    factory, dataset = FAMILIES[kind]
    X_train, _, y_train, _ = split(dataset)
    estimator = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(estimator, UNSUPERVISED):
            estimator.fit(X_train)
        else:
            estimator.fit(X_train, y_train)
    return estimator, X_train


def generate(kind: str, numeric: str, target: str):
    estimator, X_train = fitted(kind)
    return mcuport.generate(estimator, name="m", numeric=numeric, calibration=X_train,
                            target=target)


def entry_source(generated) -> str:
    """A translation unit that calls every function of the predict path, so that each one is
    compiled, checked and linked: predict (or the transform), and the score vector."""
    xt = "int16_t" if generated.numeric == "fixed" else "float"
    lines = ['#include "model.h"']
    if generated.predict_type:
        lines.append(f"{generated.predict_type} entry_predict(const {xt} x[]) "
                     "{ return m_predict(x); }")
    if generated.scores_function:
        if generated.scores_scalar:
            lines.append(f"{generated.score_type} entry_scores(const {xt} x[]) "
                         f"{{ return {generated.scores_function}(x); }}")
        else:
            lines.append(f"void entry_scores(const {xt} x[], {generated.score_type} out[]) "
                         f"{{ {generated.scores_function}(x, out); }}")
    if generated.task == "classification":
        lines.append("const char *entry_label(int32_t i) { return m_label(i); }")
    return "\n".join(lines) + "\n"


def cross_compile(target: str, header: str, source: str, tmp_path, *, cplusplus=False):
    """Compiles `source` with the target's compiler and flags plus the strict warnings;
    returns the object's path. Any warning fails (-Werror)."""
    description = TARGETS[target]
    compiler = description["compiler"]
    require(compiler, description["toolchain_package"])
    if cplusplus:
        compiler = compiler.replace("gcc", "g++")
    (tmp_path / "model.h").write_text(header)
    name = "entry.cpp" if cplusplus else "entry.c"
    (tmp_path / name).write_text(source)
    standard = "-std=c++11" if cplusplus else "-std=c99"
    command = [compiler, *description["cflags"], standard, *STRICT_FLAGS, "-c", name, "-o", "entry.o"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", f"{' '.join(command)}:\n{done.stderr}"
    return tmp_path / "entry.o"


def section_sizes(target: str, obj) -> dict:
    """Bytes per section of an object, from the target's size tool in its SysV format."""
    size_tool = TARGETS[target]["compiler"].replace("gcc", "size")
    out = subprocess.run([size_tool, "-A", str(obj)], capture_output=True, text=True, check=True)
    sizes = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def ram_bytes(sizes: dict) -> int:
    """Static RAM of an object: its data and bss sections, whatever their suffixes."""
    return sum(v for k, v in sizes.items() if k.startswith((".data", ".bss", ".sdata", ".sbss")))


@pytest.mark.parametrize("numeric", ["fixed", "float"])
@pytest.mark.parametrize("target", CROSS_TARGETS)
@pytest.mark.parametrize("kind", FAMILIES)
def test_every_family_cross_compiles_without_a_warning(kind, target, numeric, tmp_path):
    generated = generate(kind, numeric, target)
    assert generated.target == target
    assert f"Target: {target}." in generated.header
    cross_compile(target, generated.header, entry_source(generated), tmp_path)


@pytest.mark.parametrize("target", ["avr-atmega328p", "cortex-m0"])
@pytest.mark.parametrize("numeric", ["fixed", "float"])
def test_headers_compile_as_cplusplus_for_arduino_style_builds(target, numeric, tmp_path):
    # Arduino sketches are C++: the PROGMEM reads and the runtime must compile there too.
    for kind in ("RandomForestClassifier", "SVC(sigmoid)", "EllipticEnvelope"):
        generated = generate(kind, numeric, target)
        cross_compile(target, generated.header, entry_source(generated), tmp_path, cplusplus=True)


@pytest.mark.parametrize("kind", FAMILIES)
def test_avr_tables_stay_in_flash_whatever_the_model_size(kind, tmp_path):
    """On AVR, `static const` data is copied to RAM at start-up unless it is PROGMEM: the model's
    static RAM (data + bss of the object holding every predict-path function) must be zero in
    both modes, while its flash grows with the model."""
    for numeric in ("fixed", "float"):
        generated = generate(kind, numeric, "avr-atmega328p")
        obj = cross_compile("avr-atmega328p", generated.header, entry_source(generated), tmp_path)
        sizes = section_sizes("avr-atmega328p", obj)
        ram = ram_bytes(sizes)
        REPORT_LINES.append(
            f"ATmega328P {kind} {numeric}: {ram} bytes of static RAM, "
            f"{generated.table_bytes} bytes of tables in flash"
        )
        assert ram == 0, (kind, numeric, sizes)
        # The tables are there, in flash (the compiler may drop one that no entry point reads).
        # A fast-layout tree regressor has none: its leaves are constants in the code.
        if generated.table_bytes > 0:
            assert sizes.get(".progmem.data", 0) > 0, sizes
        else:
            assert generated.layout == "fast" and "leaf_value" not in generated.header


def test_avr_ram_does_not_grow_with_the_forest(tmp_path):
    X_train, _, y_train, _ = split("digits")
    flash = []
    for n_trees in (1, 4, 12):
        forest = RandomForestClassifier(n_estimators=n_trees, max_depth=6, random_state=SEED)
        forest.fit(X_train, y_train)
        generated = mcuport.generate(forest, name="m", numeric="fixed", target="atmega328p",
                                     layout="compact")
        obj = cross_compile("avr-atmega328p", generated.header, entry_source(generated), tmp_path)
        sizes = section_sizes("avr-atmega328p", obj)
        assert ram_bytes(sizes) == 0, (n_trees, sizes)
        flash.append(sizes[".progmem.data"])
    assert flash[0] < flash[1] < flash[2], flash


def test_the_same_code_keeps_tables_as_plain_const_data_off_avr(tmp_path):
    generated = generate("RandomForestClassifier", "fixed", "cortex-m0")
    assert "PROGMEM" not in generated.header and "pgm_read" not in generated.header
    sizes = section_sizes("cortex-m0", cross_compile(
        "cortex-m0", generated.header, entry_source(generated), tmp_path))
    assert ram_bytes(sizes) == 0 and sizes.get(".rodata", 0) > 0, sizes


def test_a_model_too_large_for_the_target_is_refused_with_its_sizes():
    X_train, _, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=80, random_state=SEED).fit(X_train, y_train)
    with pytest.raises(ValueError, match=r"the model's constant tables take \d+ bytes, more than "
                                         r"the 32768 bytes of flash of avr-atmega328p; choose a "
                                         r"smaller model"):
        mcuport.generate(forest, numeric="fixed", target="arduino-uno")
    with pytest.raises(ValueError, match=r"the model's code and tables take at least \d+ bytes, "
                                         r"more than the 32768 bytes of flash of avr-atmega328p; "
                                         r"the fast layout's code for \d+ split nodes takes at "
                                         r"least \d+ bytes \(at least 8 a split on "
                                         r"avr-atmega328p\); use layout=\"compact\""):
        mcuport.generate(forest, numeric="fixed", target="arduino-uno", layout="fast")
    # The same model is fine where the flash is.
    assert mcuport.generate(forest, numeric="fixed", target="cortex-m4").target == "cortex-m4f"


def n_splits(generated) -> int:
    """The split nodes the header says it has (after folding), from its opening comment."""
    match = re.search(r"([\d,]+) split nodes", generated.header)
    assert match, generated.header[:400]
    return int(match.group(1).replace(",", ""))


@functools.lru_cache(maxsize=None)
def dense_trees(numeric: str):
    """Forests whose fast code is the densest measured: one or two inputs (a split's input is
    often in a register already), thousands of splits, two classes (a leaf is one add), leaves
    shared across trees. At most what the ATmega328P's flash lets port() take at its figures
    (4,096 splits in fixed mode, 1,638 in float mode; scikit-learn 1.9 grows 3,250 and 2,699
    splits in fixed mode, 1,244 and 1,120 in float mode, and a release that grew more would make
    port() refuse them on the ATmega328P, which fails the test)."""
    rng = np.random.default_rng(SEED)
    rows, trees = (4000, (4, 8)) if numeric == "fixed" else (2000, (3, 6))
    X1 = rng.uniform(-1, 1, size=(rows, 1))
    y1 = (np.sin(9 * X1[:, 0]) + 0.8 * rng.normal(size=rows) > 0).astype(int)
    X2 = rng.uniform(-1, 1, size=(rows, 2))
    y2 = (np.sin(3 * X2[:, 0]) + X2[:, 1] + 0.3 * rng.normal(size=rows) > 0).astype(int)
    return {
        "forest, one input": (
            RandomForestClassifier(n_estimators=trees[0], random_state=SEED).fit(X1, y1), X1),
        "forest, two inputs": (
            RandomForestClassifier(n_estimators=trees[1], random_state=SEED).fit(X2, y2), X2),
    }


@pytest.mark.parametrize("numeric", ["fixed", "float"])
@pytest.mark.parametrize("target", CROSS_TARGETS + ["cortex-m0plus"])
def test_fast_tree_code_takes_more_than_the_figure_port_refuses_by(target, numeric, tmp_path):
    """port() refuses fast tree code when its splits times the target's fast_split_bytes, plus
    its tables, exceed the flash. The figure must stay below what the code takes, or a model
    that fits would be refused: checked on the densest trees measured, compiled for the target
    (code only; the tables are counted apart)."""
    per_split = TARGETS[target][f"fast_split_bytes_{numeric}"]["least"]
    for what, (forest, X) in dense_trees(numeric).items():
        generated = mcuport.generate(forest, name="m", numeric=numeric, calibration=X,
                                     target=target, layout="fast")
        sizes = section_sizes(target, cross_compile(target, generated.header,
                                                    entry_source(generated), tmp_path))
        code = sum(v for k, v in sizes.items() if k.startswith(".text"))
        splits = n_splits(generated)
        assert splits > 1000, (what, splits)
        assert code > per_split * splits, (what, target, numeric, code / splits, per_split)


def test_the_default_layout_is_fast_where_its_code_takes_a_quarter_of_the_flash(tmp_path):
    """The default layout is fast while the splits times the target's typical bytes a split take
    at most a quarter of the flash. The bench's 50-tree depth-8 wine forest on the ATmega328P:
    fast in fixed mode, whose code takes less than a quarter of the 32 KB, compact in float
    mode, whose fast code (forced) takes more."""
    X_train, _, y_train, _ = split("wine")
    forest = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=SEED).fit(
        X_train, y_train)
    quarter = TARGETS["avr-atmega328p"]["flash_bytes"] // 4
    for numeric, default in (("fixed", "fast"), ("float", "compact")):
        chosen = mcuport.generate(forest, name="m", numeric=numeric, calibration=X_train,
                                  target="avr-atmega328p")
        assert chosen.layout == default, numeric
        fast = mcuport.generate(forest, name="m", numeric=numeric, calibration=X_train,
                                target="avr-atmega328p", layout="fast")
        sizes = section_sizes("avr-atmega328p", cross_compile(
            "avr-atmega328p", fast.header, entry_source(fast), tmp_path))
        flash = sizes[".text"] + sizes.get(".progmem.data", 0)
        typical = TARGETS["avr-atmega328p"][f"fast_split_bytes_{numeric}"]["typical"]
        assert (typical * n_splits(fast) <= quarter) == (default == "fast"), numeric
        assert (flash <= quarter) == (default == "fast"), (numeric, flash, quarter)


def test_a_fast_forest_that_fits_the_atmega328p_is_ported_and_links(tmp_path):
    """A 2,900-split forest whose fast code fits the 32 KB of an ATmega328P: port() takes it
    (at 16 bytes a split, its former figure, it refused it) and the firmware links."""
    require("avr-gcc", TARGETS["avr-atmega328p"]["toolchain_package"])
    rng = np.random.default_rng(SEED)
    X = rng.uniform(-1, 1, size=(4000, 2))
    y = (np.sin(3 * X[:, 0]) + X[:, 1] + 0.3 * rng.normal(size=4000) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=9, random_state=SEED).fit(X, y)
    generated = mcuport.generate(forest, name="m", numeric="fixed", calibration=X,
                                 target="avr-atmega328p", layout="fast")
    assert 16 * n_splits(generated) > 32768
    (tmp_path / "model.h").write_text(generated.header)
    (tmp_path / "firmware.c").write_text(
        entry_source(generated) + "int main(void) {\n    static volatile int16_t x[2];\n"
        "    return (int)entry_predict((const int16_t *)x);\n}\n")
    command = ["avr-gcc", *TARGETS["avr-atmega328p"]["cflags"], "-std=c99", *STRICT_FLAGS,
               "firmware.c", "-o", "firmware.elf"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    text = section_sizes("avr-atmega328p", tmp_path / "firmware.elf")[".text"]
    assert 24000 < text <= 32768, text


def test_targets_describe_what_the_issue_asks_for():
    names = set(TARGETS)
    assert {"host", "cortex-m0", "cortex-m0plus", "cortex-m4f", "cortex-m7", "avr-atmega328p",
            "rv32imc", "esp32"} <= names
    avr = TARGETS["avr-atmega328p"]
    assert (avr["flash_bytes"], avr["ram_bytes"], avr["int_bits"], avr["const_storage"]) == (
        32768, 2048, 16, "progmem")
    assert TARGETS["cortex-m0"]["default_numeric"] == "fixed"
    assert TARGETS["host"]["default_numeric"] == "float"
    assert TARGETS["esp32"]["arch"] == "xtensa" and TARGETS["esp32"]["emulator"] == ""
    for target in TARGETS.values():
        for key in ("clock_hz", "flash_bytes", "ram_bytes", "cflags", "compiler", "emulator"):
            assert key in target
    assert "cortex-m4" in TARGETS["cortex-m4f"]["aliases"]


def test_linear_svc_votes_read_int32_rows_where_int_is_32_bits():
    """A fixed linear SVC whose rows are int32 sums votes from its rows one by one where int is
    32 bits (Cortex-M, host: fewer instructions than through the int64 array), and keeps the
    array on the ATmega328P, whose 16-bit int makes the rows no cheaper (measured in cycles)."""
    X_train, _, y_train, _ = split("iris")
    svc = SVC(kernel="linear").fit(X_train, y_train)
    headers = {t: mcuport.generate(svc, name="m", numeric="fixed", calibration=X_train,
                                   target=t).header
               for t in ("cortex-m4f", "cortex-m0", "avr-atmega328p")}
    by_row = "index = (unsigned)((uint32_t)((int32_t)m_decision_values_row(x, 0u) - 1) >> 31);"
    assert "magnitude is at most" in headers["cortex-m4f"] and "int32_t acc" in headers["cortex-m4f"]
    assert by_row in headers["cortex-m4f"] and by_row in headers["cortex-m0"]
    assert by_row not in headers["avr-atmega328p"]
    assert "index = (dec[0] > 0 ? 0u : 1u);" in headers["avr-atmega328p"]

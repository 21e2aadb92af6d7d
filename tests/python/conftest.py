"""Shared fixtures of the Python test tiers: data splits and header helpers."""

from __future__ import annotations

import functools
import pathlib
import re
import shutil
import sys
import warnings
from typing import Optional

import numpy as np
import pytest
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

CLASSIFICATION_DATASETS = ("iris", "wine", "breast_cancer", "digits")
SEED = 0

# The host compilers beside gcc (HostModel's default) that every header must build with,
# without a warning under the strict flags: (driver, flags).
OTHER_COMPILERS = (
    ("clang", "-std=c99"),
    ("g++", "-std=c++11", "-x", "c++"),
    ("clang++", "-std=c++11", "-x", "c++"),
)


def compile_everywhere(generated, tmp_path) -> None:
    """The header (through the host driver, which calls every function) compiles without a
    warning as C99 under clang and as C++11 under g++ and clang++."""
    from mcuport.host import STRICT_FLAGS, HostModel

    for i, (cc, *std) in enumerate(OTHER_COMPILERS):
        HostModel(generated, cc=cc, cflags=(*std, *STRICT_FLAGS), workdir=tmp_path / f"cc{i}")


def code_values(generated, codes):
    """The float64 values int16 codes stand for, scale * (q - zero_point): the header's input
    contract, on which fixed mode's printed bounds hold. (dequantize() rounds them to float32,
    which moves a wine feature near 1,000 by up to 3e-5, more than some bounds.)"""
    quantization = generated.input_quantization
    return quantization[:, 2] * (np.asarray(codes, np.float64) - quantization[:, 3])


def find_cli(command: str = "mcuport") -> Optional[str]:
    """A command installed with the mcuport package under test (mcuport, mcuport-report): beside
    the package
    (pip install --target DIR puts it in DIR/bin), beside the Python running the tests, or on
    PATH. PATH alone is not enough: pyenv's shims put the interpreter's own bin directory, with
    the system-wide mcuport, in front of it."""
    import mcuport

    for candidate in (pathlib.Path(mcuport.__file__).resolve().parents[1] / "bin" / command,
                      pathlib.Path(sys.executable).parent / command):
        if candidate.is_file():
            return str(candidate)
    return shutil.which(command)


@functools.lru_cache(maxsize=None)
def split(name: str):
    """(X_train, X_test, y_train, y_test) of a scikit-learn data set, fixed seed, 25% test."""
    loader = getattr(datasets, f"load_{name}")
    X, y = loader(return_X_y=True)
    stratify = None if name == "diabetes" else y
    return train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=stratify)


def thin_mahalanobis():
    """A mcuport.Mahalanobis that takes 31-bit weights (the 16-bit halves of the Cortex-M0
    header): breast_cancer's training mean and covariance with a threshold of 1, where the score
    must be within 1e-3 of d2 (23-bit weights pass from a threshold of about 3). Every fitted
    covariance of the tests' data sets takes 15 or 23 bits at its own threshold."""
    import mcuport

    X_train = split("breast_cancer")[0]
    return mcuport.Mahalanobis(X_train.mean(axis=0), covariance=np.cov(X_train, rowvar=False),
                               threshold=1.0)


def far_from_zero(n_rows):
    """Air pressure in Pa (about 101325, spread 30) and temperature in K (about 293, spread
    0.2, correlated with it): features whose mean is far from zero next to their spread."""
    rng = np.random.default_rng(SEED)
    X = np.c_[101325 + 30 * rng.normal(size=n_rows), 293.15 + 0.2 * rng.normal(size=n_rows),
              rng.normal(size=n_rows)]
    X[:, 1] += 0.004 * (X[:, 0] - 101325)
    return X


def _int32_rows_data():
    """(X_train, X_test, y_train): four normal signals (the class is the largest) and 18 noise
    features of a tenth of their spread."""
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(600, 22)) * np.r_[np.ones(4), np.full(18, 0.1)]
    y = np.argmax(X[:, :4], axis=1)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=SEED,
                                                   stratify=y)
    return X_train, X_test, y_train


def int32_rows_linear_svc():
    """(estimator, X_train, X_test): a 4-class LinearSVC on 22 features whose int16 rows sum in
    int32 (bound 1.97e9, just under 2^31): the noise features' small weights leave the rows'
    sums of |weight| under 2^16 (_int32_rows_data). 88 nonzero weights: a looped map, not
    written out, on Cortex-M0."""
    X_train, X_test, y_train = _int32_rows_data()
    estimator = LinearSVC(dual=True, max_iter=20000, random_state=SEED).fit(X_train, y_train)
    return estimator, X_train, X_test


def int32_rows_linear_kernel_svc():
    """(estimator, X_train, X_test): SVC(kernel="linear") on int32_rows_linear_svc's data: six
    pairs of int32 rows (132 nonzero weights). Its predict reads the rows through the decision
    values, which widen the inputs once (codegen/src/emit_svm.cpp), not row by row on int16
    codes as it does where the rows are not widened."""
    X_train, X_test, y_train = _int32_rows_data()
    return SVC(kernel="linear").fit(X_train, y_train), X_train, X_test


# Cortex-M0, a looped map of 17 to 128 inputs (more than 64 nonzero weights): its rows take the
# codes widened to int32 once per prediction (padded with zeros to a multiple of 4), the weights
# are int32 (padded alike), and the inner loop is Thumb-1 assembly where the compiler generates
# Thumb-1 code, portable C elsewhere (codegen/src/emit_affine.cpp). name: (a function returning
# (estimator, X_train, X_test), the widened length, the rows' sum type)
def _fitted(factory, dataset, labelled=True):
    def fit():
        X_train, X_test, y_train, _ = split(dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator = factory().fit(X_train, y_train) if labelled else factory().fit(X_train)
        return estimator, X_train, X_test
    return fit


def _pca_of_first_features(n_features):
    """StandardScaler and PCA(4) of breast_cancer's first n_features features: 4 n_features
    nonzero 16-bit weights."""
    def fit():
        X_train, X_test, _, _ = split("breast_cancer")
        X_train, X_test = X_train[:, :n_features], X_test[:, :n_features]
        estimator = make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED))
        return estimator.fit(X_train), X_train, X_test
    return fit


WIDENED_MODELS = {
    "PCA(digits)": (_fitted(lambda: PCA(n_components=16, random_state=SEED), "digits", False),
                    64, "int64"),
    "SVC(linear, digits)": (_fitted(lambda: SVC(kernel="linear"), "digits"), 64, "int64"),
    "LinearSVC(digits)": (
        _fitted(lambda: LinearSVC(dual=True, max_iter=20000, random_state=SEED), "digits"), 64,
        "int64"),
    # 30 inputs padded to 32
    "StandardScaler+PCA(breast_cancer)": (
        _fitted(lambda: make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED)),
                "breast_cancer", False), 32, "int64"),
    # a widened length that is not a multiple of 8: four products a turn; 17 inputs are copied
    # four a turn and one more, then padded with three zeros
    "PCA(17 inputs)": (_pca_of_first_features(17), 20, "int64"),
    "PCA(20 inputs)": (_pca_of_first_features(20), 20, "int64"),
    # 22 inputs padded to 24, int32 rows
    "LinearSVC(int32 rows)": (int32_rows_linear_svc, 24, "int32"),
    "SVC(linear, int32 rows)": (int32_rows_linear_kernel_svc, 24, "int32"),
    # 31-bit weights (the kernels' arguments): one int32 x int16 term a turn, no padding; on
    # standardised features some weights are negative (on raw wine and iris none is)
    "SVC(poly, wine)": (_fitted(lambda: SVC(kernel="poly"), "wine"), 13, "int64 terms"),
    "StandardScaler+SVC(poly, wine)": (
        _fitted(lambda: make_pipeline(StandardScaler(), SVC(kernel="poly")), "wine"), 13,
        "int64 terms"),
    "SVC(sigmoid, iris)": (_fitted(lambda: SVC(kernel="sigmoid", gamma="auto"), "iris"), 4,
                           "int64 terms"),
    # a pipeline's stage (scaler and PCA composed, 31-bit weights) in front of naive Bayes
    "StandardScaler+PCA+GaussianNB(wine)": (
        _fitted(lambda: make_pipeline(StandardScaler(), PCA(n_components=5, random_state=SEED),
                                      GaussianNB()), "wine"), 13, "int64 terms"),
}


def widened_header(kind):
    """(generated, simulated, X_test) for a WIDENED_MODELS case, its Cortex-M0 header checked for
    the widened form: the widening function (and its zero padding), int32 weights padded to the
    widened length, and the assembly of the rows' sum type."""
    import mcuport

    fit, n, sum_type = WIDENED_MODELS[kind]
    estimator, X_train, X_test = fit()
    document = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(document, name="m", numeric="fixed", target="cortex-m0")
    header = generated.header
    assert re.search(r"static inline void (m_\w+)_inputs\(const int16_t x\[\], \1_widened\* xw\)",
                     header)
    assert re.search(rf"typedef struct {{\n    int32_t x\[{n}\];\n#if MCUPORT_THUMB1_ASM\n", header)
    assert re.search(rf"static const int32_t m_\w+_weight\[\d+\]\[{n}\] = ", header)
    assert "#if MCUPORT_THUMB1_ASM" in header
    assert ('"adds r5, r5, r0\\n\\t"' in header) == (sum_type == "int64")  # s2, an int64 row's
    assert ("(an int32 row: s2 is unused)" in header) == (sum_type == "int32")
    assert ('"adcs r5, r5, r2\\n\\t"' in header) == (sum_type == "int64 terms")
    # The codes copied four a turn where there are eight or more, then the padding written out.
    n_features = X_test.shape[1]
    looped = n_features // 4 * 4 if n_features >= 8 else 0
    assert (f"    }} while (dst != xw->x + {looped});\n" in header) == (looped > 0)
    assert (f"    xw->x[{n - 1}] = 0;\n" in header) == (n > n_features)
    # 16-bit weights: four products a turn, eight where the widened length is a multiple of 8.
    pairs = header.count('"ldm r7!, {r2, r3}\\n\\t"')
    assert pairs == (0 if sum_type == "int64 terms" else 4 if n % 8 == 0 else 2), pairs
    return generated, mcuport.load(document, target="cortex-m0"), X_test


def header_macros(header: str, name: str = "m") -> dict:
    """The numeric #defines of a generated header, without the prefix: {"N_TREES": 100, ...}.
    Macros that are not numbers (function-like or attribute macros) are left out."""
    prefix = name.upper() + "_"
    macros = {}
    number = re.compile(r"(INT64_C\()?-?[0-9.][0-9.eE+-]*\)?[uf]?")
    for key, value in re.findall(r"^#define (\w+) (\S+)", header, flags=re.M):
        if key.startswith(prefix) and number.fullmatch(value):
            if value.startswith("INT64_C(") and value.endswith(")"):
                value = value[len("INT64_C("):-1]
            value = value.rstrip("u")
            try:
                macros[key[len(prefix):]] = int(value)
            except ValueError:
                macros[key[len(prefix):]] = float(value.rstrip("f"))
    return macros


def float32_floor(t: np.ndarray) -> np.ndarray:
    """The largest float32 not above each float64 value."""
    t = np.asarray(t, dtype=np.float64)
    f = t.astype(np.float32)
    above = f.astype(np.float64) > t
    f[above] = np.nextafter(f[above], np.float32(-np.inf))
    return f


def threshold_edge_rows(estimator, X: np.ndarray, n_rows: int, seed: int = SEED) -> np.ndarray:
    """Rows of X with one feature moved to the float32 at, or just above, a split threshold:
    the inputs where a wrongly placed threshold would decide differently."""
    trees = [estimator] if hasattr(estimator, "tree_") else estimator.estimators_
    pairs = []
    for tree in trees:
        t = tree.tree_
        split = t.children_left != -1
        pairs.append(np.stack([t.feature[split].astype(np.float64), t.threshold[split]], axis=1))
    pairs = np.concatenate(pairs)
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, len(X), n_rows)].astype(np.float32)
    chosen = pairs[rng.integers(0, len(pairs), n_rows)]
    at = float32_floor(chosen[:, 1])
    just_above = np.nextafter(at, np.float32(np.inf))
    values = np.where(rng.random(n_rows) < 0.5, at, just_above)
    rows[np.arange(n_rows), chosen[:, 0].astype(int)] = values
    return rows


def extreme_codes(n_features: int, n_random: int, seed: int = SEED) -> np.ndarray:
    """int16 input rows: uniform over the whole int16 range, plus all-min, all-max and mixes."""
    rng = np.random.default_rng(seed)
    random_rows = rng.integers(-32768, 32768, size=(n_random, n_features), dtype=np.int64)
    ends = rng.choice([-32768, 32767], size=(64, n_features))
    fixed_rows = np.array(
        [[-32768] * n_features, [32767] * n_features, [0] * n_features, [-1] * n_features]
    )
    return np.concatenate([random_rows, ends, fixed_rows]).astype(np.int16)


# Measurements the tests want every run to show (e.g. Cortex-M0 stack usage), printed in the
# terminal summary.
REPORT_LINES: list = []


def pytest_terminal_summary(terminalreporter):
    if REPORT_LINES:
        terminalreporter.section("mcuport measurements")
        for line in REPORT_LINES:
            terminalreporter.write_line(line)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def stack_usage(path) -> dict:
    """The frames of a gcc -fstack-usage file: {function: (bytes, "static" | "dynamic" | ...)}."""
    frames = {}
    for line in pathlib.Path(path).read_text().splitlines():
        location, size, qualifier = line.split("\t")
        frames[location.rsplit(":", 1)[-1]] = (int(size), qualifier)
    return frames


def arm_functions(listing: str) -> dict:
    """An `objdump -d` listing of Arm code by function: {name: (callees, bytes pushed)}. The
    bytes are what the function's PUSH and STMDB SP! instructions and its SUBs of an immediate
    from SP reserve, summed: its own stack where those are its prologue (libgcc's integer
    helpers, which no -fstack-usage file reports), an over-estimate, never an under-estimate,
    otherwise. A SUB of a register from SP (a frame sized at run time) gives None."""
    functions = {}
    name = None
    for line in listing.splitlines():
        start = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if start:
            name = start.group(1)
            functions[name] = (set(), [0])
            continue
        if name is None:
            continue
        callees, pushed = functions[name]
        call = re.search(r"\tblx?\s+[0-9a-f]+ <([^>+]+)>", line)
        if call:
            callees.add(call.group(1))
        saved = re.search(r"\t(?:push(?:\.w)?|stmdb(?:\.w)?\s+sp!,)\s*\{([^}]*)\}", line)
        if saved and pushed[0] is not None:
            pushed[0] += 4 * len(saved.group(1).split(","))
        reserved = re.search(r"\tsub(?:\.w|w)?\s+sp,\s*(?:sp,\s*)?(#?)(\w+)", line)
        if reserved and pushed[0] is not None:
            pushed[0] = pushed[0] + int(reserved.group(2), 0) if reserved.group(1) else None
    return {name: (callees, pushed[0]) for name, (callees, pushed) in functions.items()}


def library_stack(functions: dict, roots, ours: tuple) -> dict:
    """The stack of the code compiled elsewhere (libgcc's integer helpers, libc) that calls from
    `roots` reach, in an arm_functions() map: {helper: bytes it and the deepest chain of helpers
    it calls push}, for every reached function whose name does not start with one of `ours`
    (objdump names an address by one of its aliases: __aeabi_uidiv may be __udivsi3)."""
    reached, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(functions[name][0])

    def deepest(name: str, seen: frozenset) -> int:
        callees, pushed = functions[name]
        assert pushed is not None, f"{name} sizes its frame at run time"
        return pushed + max((deepest(c, seen | {name}) for c in callees - seen), default=0)
    return {name: deepest(name, frozenset()) for name in reached if not name.startswith(ours)}


def require(tool: str, package: str) -> None:
    """Fail (not skip) when a tool the README's set-up installs is missing."""
    if not have(tool):
        pytest.fail(f"{tool} is not installed; run scripts/setup (Debian package {package})")

"""End to end, the third test tier: scikit-learn tree models -> mcuport -> C compiled with the
strict flags by gcc, clang, g++ and clang++ -> run on whole test splits -> compared with
scikit-learn.

Float mode must agree exactly (class predictions, and probabilities to float32 rounding), also
on inputs placed exactly at the float32 edges of the split thresholds. Fixed mode is compared
with scikit-learn run on the dequantized inputs (what the integer codes stand for): single trees
and vote-based forests must agree exactly; forests with probability leaves may only disagree on
near-ties inside the documented quantization bound of the leaf probabilities, which the test
proves for every disagreement.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import HostModel

from conftest import (
    CLASSIFICATION_DATASETS,
    OTHER_COMPILERS,
    SEED,
    compile_everywhere,
    extreme_codes,
    header_macros,
    split,
    threshold_edge_rows,
)

def proba_code_one(proba_bits: int) -> int:
    """A leaf probability of 1.0 in fixed mode (documented): 255 * 2**(proba_bits - 8), 65280
    by default, 255 with proba_bits=8."""
    return 255 << (proba_bits - 8)

CLASSIFIERS = {
    "DecisionTreeClassifier": lambda: DecisionTreeClassifier(random_state=SEED),
    "DecisionTreeClassifier(max_depth=4)": lambda: DecisionTreeClassifier(
        max_depth=4, random_state=SEED
    ),
    "RandomForestClassifier": lambda: RandomForestClassifier(random_state=SEED),
    "RandomForestClassifier(max_depth=6)": lambda: RandomForestClassifier(
        n_estimators=50, max_depth=6, random_state=SEED
    ),
    "ExtraTreesClassifier": lambda: ExtraTreesClassifier(random_state=SEED),
    "ExtraTreesClassifier(max_depth=6)": lambda: ExtraTreesClassifier(
        n_estimators=50, max_depth=6, random_state=SEED
    ),
}

REGRESSORS = {
    "DecisionTreeRegressor": lambda: DecisionTreeRegressor(random_state=SEED),
    "DecisionTreeRegressor(max_depth=5)": lambda: DecisionTreeRegressor(
        max_depth=5, random_state=SEED
    ),
    "RandomForestRegressor": lambda: RandomForestRegressor(random_state=SEED),
    "ExtraTreesRegressor": lambda: ExtraTreesRegressor(random_state=SEED),
}

_fitted = {}


def fitted(kind: str, dataset: str):
    key = (kind, dataset)
    if key not in _fitted:
        X_train, _, y_train, _ = split(dataset)
        factory = CLASSIFIERS.get(kind) or REGRESSORS[kind]
        _fitted[key] = factory().fit(X_train, y_train)
    return _fitted[key]


def check_other_compilers(generated: mcuport.Generated, tmp_path) -> None:
    """The header (through the host driver, which calls every function) also compiles without a
    warning as C99 under clang and as C++11 under g++ and clang++. Fast-layout code of a large
    forest (over 5,000 splits, tens of seconds per compiler) is checked by gcc only: its code
    shapes are those of the smaller models, which all four compilers check."""
    if generated.layout == "fast" and header_macros(generated.header)["N_SPLITS"] > 5000:
        return
    for i, (cc, *std) in enumerate(OTHER_COMPILERS):
        HostModel(
            generated,
            cc=cc,
            cflags=(*std, *mcuport.host.STRICT_FLAGS),
            workdir=tmp_path / f"cc{i}",
        )


def n_trees(estimator) -> int:
    return 1 if hasattr(estimator, "tree_") else len(estimator.estimators_)


# Both code layouts must give the same answers: every test runs on each.
LAYOUTS = ("fast", "compact")

@pytest.mark.parametrize("dataset", CLASSIFICATION_DATASETS)
@pytest.mark.parametrize("kind", CLASSIFIERS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_float_classifier_agrees_exactly(kind, dataset, layout, tmp_path):
    estimator = fitted(kind, dataset)
    _, X_test, _, _ = split(dataset)
    generated = mcuport.generate(estimator, name="m", numeric="float", layout=layout)
    X = np.concatenate([X_test.astype(np.float32), threshold_edge_rows(estimator, X_test, 3000)])
    assert generated.layout == layout
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        classes, proba = model.run(X)
    check_other_compilers(generated, tmp_path)

    expected = estimator.predict(X)
    agree = estimator.classes_[classes] == expected
    assert agree.all(), f"{(~agree).sum()} of {len(X)} predictions differ from scikit-learn"
    np.testing.assert_allclose(proba, estimator.predict_proba(X), rtol=0, atol=2e-6)


# Fixed mode at the default 16-bit leaf probabilities and with proba_bits=8 (documented bound
# 0.5/255 of a tree's vote per class instead of 0.5/65280).
@pytest.mark.parametrize("dataset", CLASSIFICATION_DATASETS)
@pytest.mark.parametrize("kind", CLASSIFIERS)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("proba_bits", (16, 8))
def test_fixed_classifier_is_decision_exact(kind, dataset, layout, proba_bits, tmp_path):
    estimator = fitted(kind, dataset)
    X_train, X_test, _, _ = split(dataset)
    generated = mcuport.generate(
        estimator, name="m", numeric="fixed", calibration=X_train, layout=layout,
        proba_bits=None if proba_bits == 16 else proba_bits,
    )
    assert generated.proba_bits == proba_bits
    macros = header_macros(generated.header)
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        codes, seen = model.quantize(X_test)
        # The generated dequantize() is the documented contract, bit for bit.
        np.testing.assert_array_equal(seen, generated.dequantize(codes))
        all_codes = np.concatenate([codes, extreme_codes(generated.n_features, 2000)])
        classes, proba = model.run(all_codes)
    check_other_compilers(generated, tmp_path)

    X_seen = generated.dequantize(all_codes)
    expected_proba = estimator.predict_proba(X_seen)
    expected = estimator.predict(X_seen)
    one = macros["PROBA_ONE"]
    votes = one == n_trees(estimator)  # pure leaves: a leaf is a vote, nothing is rounded
    per_class_bound = 0.0 if votes else 0.5 / proba_code_one(proba_bits)
    # The header states the bound it keeps (and none where nothing is rounded).
    printed = f"every probability within 0.5/{proba_code_one(proba_bits)} of"
    assert (printed in generated.header) == (not votes), printed
    proba_error = np.abs(proba / one - expected_proba).max()
    assert proba_error <= per_class_bound + 1e-12, proba_error

    disagree = np.flatnonzero(estimator.classes_[classes] != expected)
    if hasattr(estimator, "tree_") or votes:
        assert disagree.size == 0, f"{disagree.size} decisions differ from scikit-learn"
    # Forests with probability leaves: a flip needs a near-tie within twice the per-class bound.
    sk_index = np.searchsorted(estimator.classes_, expected[disagree])
    margins = expected_proba[disagree, sk_index] - expected_proba[disagree, classes[disagree]]
    assert np.all(margins <= 2 * per_class_bound + 1e-12), margins.max()


@pytest.mark.parametrize("numeric", ["float", "fixed"])
def test_fast_layout_of_a_forest_beyond_the_default_split_limit(numeric, tmp_path):
    """A forest above 16,384 splits (kFastMaxSplits) gets the fast layout only when asked: its
    trees are cut into groups of at most 512 splits, each a function, and a tree's leaves that
    do the same (a vote for one class) jump to one block of it. The answers are scikit-learn's:
    float mode exactly, on the test split and at the thresholds' float32 edges; fixed mode on the
    values the codes stand for (pure leaves are votes: nothing is rounded)."""
    X_train, X_test, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=110, random_state=SEED).fit(X_train, y_train)
    options = {"calibration": X_train} if numeric == "fixed" else {}
    generated = mcuport.generate(forest, name="m", numeric=numeric, layout="fast", **options)
    assert header_macros(generated.header)["N_SPLITS"] > 16384
    assert "m_trees_1(" in generated.header and "t0_l0:" in generated.header
    # one add per class and tree, at most: the leaves that vote for it share it
    adds = [len(re.findall(rf"acc\[{c}u\] = ", generated.header)) for c in range(10)]
    assert 0 < min(adds) and max(adds) <= 110, adds
    with HostModel(generated, workdir=tmp_path) as model:
        if numeric == "float":
            X = np.concatenate([X_test.astype(np.float32),
                                threshold_edge_rows(forest, X_test, 2000)])
            classes, proba = model.run(X)
        else:
            codes = np.concatenate([model.quantize(X_test)[0], extreme_codes(64, 500)])
            classes, proba = model.run(codes)
            X = generated.dequantize(codes)
            proba = proba / header_macros(generated.header)["PROBA_ONE"]
    agree = forest.classes_[classes] == forest.predict(X)
    assert agree.all(), f"{(~agree).sum()} of {len(X)} predictions differ from scikit-learn"
    np.testing.assert_allclose(proba, forest.predict_proba(X), rtol=0, atol=2e-6)


@pytest.mark.parametrize("kind", REGRESSORS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_float_regressor_within_1e5_relative(kind, layout, tmp_path):
    estimator = fitted(kind, "diabetes")
    _, X_test, _, _ = split("diabetes")
    generated = mcuport.generate(estimator, name="m", numeric="float", layout=layout)
    X = np.concatenate([X_test.astype(np.float32), threshold_edge_rows(estimator, X_test, 3000)])
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        values, _ = model.run(X)
    check_other_compilers(generated, tmp_path)
    np.testing.assert_allclose(values, estimator.predict(X), rtol=1e-5, atol=0)


@pytest.mark.parametrize("kind", REGRESSORS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_fixed_regressor_within_documented_bound(kind, layout, tmp_path):
    estimator = fitted(kind, "diabetes")
    X_train, X_test, _, _ = split("diabetes")
    generated = mcuport.generate(
        estimator, name="m", numeric="fixed", calibration=X_train, layout=layout
    )
    frac_bits = header_macros(generated.header)["OUTPUT_FRAC_BITS"]
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        codes, _ = model.quantize(X_test)
        all_codes = np.concatenate([codes, extreme_codes(generated.n_features, 2000)])
        values, _ = model.run(all_codes)
    check_other_compilers(generated, tmp_path)
    expected = estimator.predict(generated.dequantize(all_codes))
    # Each tree's leaf is rounded to the nearest 2^-frac_bits after division by the tree count.
    bound = n_trees(estimator) * 0.5 * 2.0**-frac_bits
    error = np.abs(np.ldexp(values.astype(np.float64), -frac_bits) - expected)
    assert np.all(error <= bound + 1e-12 * np.abs(expected)), error.max()
    assert bound < 1e-4  # the documented bound is tight enough to matter to nobody


@pytest.mark.parametrize("numeric", ["float", "fixed"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_trees_that_are_a_single_leaf(numeric, layout, tmp_path):
    """Forests where some trees never split (and one where none does): the compact layout gives
    such a tree a split with its leaf on both sides; both layouts must answer as scikit-learn."""
    X_train, X_test, y_train, _ = split("iris")
    mixed = RandomForestClassifier(n_estimators=20, min_impurity_decrease=0.3,
                                   random_state=SEED).fit(X_train, y_train)
    sizes = [tree.tree_.node_count for tree in mixed.estimators_]
    assert 1 in sizes and max(sizes) > 1  # the case this test is about
    stumps = RandomForestRegressor(n_estimators=3, min_impurity_decrease=1e9,
                                   random_state=SEED).fit(X_train, y_train)
    for estimator in (mixed, stumps):
        generated = mcuport.generate(estimator, name="m", numeric=numeric, layout=layout,
                                     calibration=X_train if numeric == "fixed" else None)
        with HostModel(generated, workdir=tmp_path / f"{type(estimator).__name__}") as model:
            if numeric == "fixed":
                codes, _ = model.quantize(X_test)
                X_seen = generated.dequantize(codes)
                got, _ = model.run(codes)
            else:
                X_seen = X_test.astype(np.float32)
                got, _ = model.run(X_seen)
        expected = estimator.predict(X_seen)
        if isinstance(estimator, RandomForestClassifier):
            np.testing.assert_array_equal(estimator.classes_[got], expected)
        elif numeric == "fixed":
            frac_bits = header_macros(generated.header)["OUTPUT_FRAC_BITS"]
            np.testing.assert_allclose(np.ldexp(got.astype(np.float64), -frac_bits), expected,
                                       atol=3 * 0.5 * 2.0**-frac_bits, rtol=0)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("numeric", ["float", "fixed"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", [RandomForestClassifier, ExtraTreesClassifier])
def test_a_forest_fitted_on_one_class(kind, numeric, layout, tmp_path):
    """A one-class monitor: predict had 'top = acc[0]' set and never read, which -Wall -Werror
    refused (gcc, clang and g++). It answers the one class, and predict_proba 1."""
    X_train, X_test, _, _ = split("iris")
    estimator = kind(n_estimators=5, random_state=SEED).fit(X_train, ["only"] * len(X_train))
    generated = mcuport.generate(estimator, name="m", numeric=numeric, layout=layout,
                                 calibration=X_train)
    compile_everywhere(generated, tmp_path)
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        rows = model.quantize(X_test)[0] if numeric == "fixed" else X_test.astype(np.float32)
        got, proba = model.run(rows)
    assert got.tolist() == [0] * len(X_test)
    one = 1.0 if numeric == "float" else header_macros(generated.header)["PROBA_ONE"]
    np.testing.assert_array_equal(proba, np.full((len(X_test), 1), one))


def test_a_float_leaf_below_float32_is_refused():
    """A leaf of 3.3e-46 was written as 0 (and one of 4.5e-44 as a subnormal 0.35% off): the
    float-mode refusal of such constants did not reach the trees' leaves."""
    X_train = split("iris")[0]
    for target, shown in ((1e-45 / 3, "3.33333e-46"), (4.5e-44, "4.5e-44")):
        tree = DecisionTreeRegressor(max_depth=2, random_state=SEED).fit(
            X_train, np.full(len(X_train), target))
        with pytest.raises(ValueError, match=rf"^\(/params/trees/0/value/\d+\) the generated code "
                                             rf"would need the float32 leaf "
                                             rf"value {shown}, below the float32 range"):
            mcuport.port(tree, numeric="float")
    forest = RandomForestRegressor(n_estimators=4, max_depth=2, random_state=SEED).fit(
        X_train, np.full(len(X_train), 2e-38))  # 5e-39 a tree
    with pytest.raises(ValueError, match=r"^\(/params/trees/0/value/\d+\) .*the float32 leaf "
                                         r"value / tree count 5e-39, below"):
        mcuport.port(forest, numeric="float")
    mcuport.port(forest, numeric="fixed", calibration=X_train)  # fixed mode ports it


@pytest.mark.parametrize("numeric", ["float", "fixed"])
def test_compact_layout_with_wide_words_and_32_bit_indices(numeric, tmp_path):
    """A forest beyond the 16-bit cases: 300 features, thousands of thresholds and thousands of
    leaves under a node make the split records wider than 32 bits, and more than 65,535 splits
    make the walk's indices 32-bit."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=5000, n_features=300, n_informative=40, random_state=SEED)
    X_train, X_test, y_train = X[:4000], X[4000:], y[:4000]
    forest = ExtraTreesRegressor(n_estimators=18, random_state=SEED).fit(X_train, y_train)
    generated = mcuport.generate(forest, name="m", numeric=numeric, layout="compact",
                                 calibration=X_train if numeric == "fixed" else None)
    assert header_macros(generated.header)["N_SPLITS"] > 65535
    assert "static const uint32_t m_split_low[" in generated.header  # 32 + 8 bits a record
    assert "static const uint8_t m_split_high[" in generated.header
    # n_left (or the payload) straddles the two parts: its bits from each, no 40-bit record
    assert re.search(r"\(uint(_fast16|32)_t\)\(split >> \d+\) \| \(uint(_fast16|32)_t\)\(\(uint_fast8_t\)"
                     r"m_split_high\[node\]\) << \d+", generated.header)
    assert "uint32_t node = (uint32_t)m_tree_first[t];" in generated.header
    with HostModel(generated, workdir=tmp_path / "gcc") as model:
        if numeric == "fixed":
            codes, _ = model.quantize(X_test)
            X_seen = generated.dequantize(codes)
            got, _ = model.run(codes)
            frac_bits = header_macros(generated.header)["OUTPUT_FRAC_BITS"]
            got = np.ldexp(got.astype(np.float64), -frac_bits)
            bound = n_trees(forest) * 0.5 * 2.0**-frac_bits
        else:
            X_seen = X_test.astype(np.float32)
            got, _ = model.run(X_seen)
            # float32 sums of 18 leaves of up to |y| each: a few ulps of the largest.
            bound = n_trees(forest) * np.finfo(np.float32).eps * np.abs(y_train).max()
    expected = forest.predict(X_seen)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=bound + 1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_class_probability_codes_add_up_to_one(layout, tmp_path):
    """With two classes a leaf's class-0 code is 65535 less its class-1 code (as close to the
    probability as rounding it), so predict_proba's two integers add up to PROBA_ONE exactly on
    every row: the fast layout keeps only class 1's sum and relies on it."""
    estimator = fitted("RandomForestClassifier(max_depth=6)", "breast_cancer")
    X_train, X_test, _, _ = split("breast_cancer")
    generated = mcuport.generate(
        estimator, name="m", numeric="fixed", calibration=X_train, layout=layout
    )
    one = header_macros(generated.header)["PROBA_ONE"]
    assert one == n_trees(estimator) * proba_code_one(16)
    with HostModel(generated, workdir=tmp_path) as model:
        codes, _ = model.quantize(X_test)
        all_codes = np.concatenate([codes, extreme_codes(generated.n_features, 2000)])
        classes, proba = model.run(all_codes)
    np.testing.assert_array_equal(proba.sum(axis=1), np.full(len(all_codes), one))
    # predict is the argmax of those two sums, a tie going to class 0 as numpy's argmax.
    np.testing.assert_array_equal(classes, np.argmax(proba, axis=1))
    # Fast code adds every leaf's class-1 code where it is reached: no table at all.
    assert (layout == "fast") == (header_macros(generated.header)["TABLE_BYTES"] == 0)


@pytest.mark.parametrize("target", ["cortex-m4f", "cortex-m0", "avr-atmega328p"])
def test_fast_mixed_leaves_inline_or_called_as_the_target_says(target, tmp_path):
    """Fast code adds a mixed leaf of a many-class forest inline on cores where a 16-bit constant
    is one instruction (Cortex-M4F), and calls a shared function reading a table where that
    saves flash (Cortex-M0, AVR). The two forms give the same sums, bit for bit."""
    X_train, X_test, y_train, _ = split("digits")
    estimator = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=SEED)
    estimator.fit(X_train, y_train)  # small enough for the fast layout on AVR
    options = dict(name="m", numeric="fixed", calibration=X_train, layout="fast")
    generated = mcuport.generate(estimator, target=target, **options)
    on_host = mcuport.generate(estimator, **options)  # host: inline
    assert "m_add_mixed" not in on_host.header
    assert ("m_add_mixed" in generated.header) == (target != "cortex-m4f")
    with HostModel(on_host, workdir=tmp_path / "host") as host:
        codes, _ = host.quantize(X_test)
        expected = host.run(codes)
    # The target's header, compiled for the host: the same classes and the same sums.
    with HostModel(generated, workdir=tmp_path / "target") as model:
        got = model.run(codes)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


ALL_ZERO_LEAF = (pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "regressions"
                 / "extra_trees_all_zero_leaf.json")


@pytest.mark.parametrize("target", ["host", "cortex-m0"])
@pytest.mark.parametrize("proba_bits", [16, 8])
def test_a_leaf_whose_probabilities_round_to_zero(target, proba_bits, tmp_path):
    """A leaf whose probabilities are all 2.2e-308 (codes 0 in fixed mode; a fuzzer's find, in
    tests/fuzz/regressions/): it adds nothing. Both layouts' C answers as the simulator does,
    predictions and probability codes, on 2,000 random rows that reach it and the others (the
    compact layout once read past its entry runs; Cortex-M0's fast code keeps it in a table)."""
    document = ALL_ZERO_LEAF.read_text()
    simulated = mcuport.load(document, proba_bits=proba_bits)
    rng = np.random.default_rng(SEED)
    X = rng.uniform(-3, 3, (2000, 3))
    reach = (X[:, 2] > -1.2038951349245974) & (X[:, 1] <= -1.095708928925427)
    assert reach.sum() > 100  # rows that end in the all-zero leaf of tree 0
    for layout in LAYOUTS:
        generated = mcuport.generate(document, name="m", numeric="fixed", layout=layout,
                                     target=target, proba_bits=proba_bits)
        with HostModel(generated, workdir=tmp_path / layout) as model:
            codes, _ = model.quantize(X)
            y, scores = model.run(codes)
        np.testing.assert_array_equal(y, simulated.predict_codes(codes))
        np.testing.assert_array_equal(scores, simulated.scores_codes(codes))


def wide_class_forest_document(n_classes: int = 300, n_features: int = 4, depth: int = 6,
                               n_trees: int = 3, seed: int = SEED) -> str:
    """A model document of a forest of full trees whose leaves each hold two to four of
    `n_classes` classes in one of five weight patterns: mixed leaves with only five distinct
    probabilities (1/4, 1/3, 1/2, 2/3, 3/4) over class indices up to n_classes - 1."""
    import json

    rng = np.random.default_rng(seed)
    patterns = [(1, 1), (1, 1, 1), (1, 2), (1, 1, 2), (1, 3)]
    trees = []
    for _ in range(n_trees):
        n_nodes = 2 ** (depth + 1) - 1
        n_splits = 2 ** depth - 1
        left = [2 * i + 1 if i < n_splits else -1 for i in range(n_nodes)]
        right = [2 * i + 2 if i < n_splits else -1 for i in range(n_nodes)]
        feature, threshold, value = [], [], []
        for i in range(n_nodes):
            if i < n_splits:
                feature.append(int(rng.integers(n_features)))
                threshold.append(float(rng.uniform(0, 100)))
                value.append(None)
                continue
            feature.append(-2)
            threshold.append(-2.0)
            pattern = patterns[int(rng.integers(len(patterns)))]
            weights = [0.0] * n_classes
            for c, w in zip(rng.choice(n_classes, size=len(pattern), replace=False), pattern):
                weights[int(c)] = float(w)
            value.append(weights)
        trees.append({"children_left": left, "children_right": right, "feature": feature,
                      "threshold": threshold, "value": value,
                      "missing_go_to_left": [0] * n_nodes})
    return json.dumps({
        "format": "mcuport-model", "format_version": 1, "producer": "test",
        "kind": "tree_ensemble", "estimator": "RandomForestClassifier",
        "task": "classification", "n_features": n_features, "classes": list(range(n_classes)),
        "input_ranges": [[0.0, 100.0]] * n_features, "params": {"trees": trees}})


@pytest.mark.parametrize("target", ["host", "avr-atmega328p"])
@pytest.mark.parametrize("numeric", ["fixed", "float"])
def test_compact_entries_in_class_order_with_a_class_wider_than_a_byte(numeric, target, tmp_path):
    """Compact mixed-leaf entries in ascending class order (a leaf ends before an entry whose
    class is not above its last one's), 300 classes (9 class bits) and 5 distinct probabilities
    (3 rank bits): 12-bit entries in a byte and a nibble, the class straddling the two. The walk
    compares the next entry's whole class, its 9th bit from the nibble table too. The C (the
    target's header, compiled for the host) answers as the simulator does in fixed mode, and as
    the walk of the document does in float mode, on 2,000 random rows."""
    document = wide_class_forest_document()
    generated = mcuport.generate(document, name="m", numeric=numeric, layout="compact",
                                 target=target)
    header = generated.header
    assert "in ascending class order" in header
    assert "static const uint8_t m_entry_low[" in header
    assert "static const uint8_t m_entry_high[" in header
    # the class: 8 bits from the byte, its 9th from the nibble
    assert "acc[(uint_fast16_t)entry | (uint_fast16_t)(entry_high & 0x1u) << 8]" in header
    rng = np.random.default_rng(SEED)
    X = rng.uniform(-10, 110, (2000, 4)).astype(np.float32)
    with HostModel(generated, workdir=tmp_path) as model:
        if numeric == "fixed":
            codes, _ = model.quantize(X)
            classes, scores = model.run(codes)
        else:
            classes, scores = model.run(X)
    if numeric == "fixed":
        simulated = mcuport.load(document)
        np.testing.assert_array_equal(scores, simulated.scores_codes(codes))
        np.testing.assert_array_equal(classes, simulated.predict_codes(codes))
        return
    # float mode: the mean over the trees of the normalized leaf weights
    import json

    expected = np.zeros((len(X), 300))
    for tree in json.loads(document)["params"]["trees"]:
        for r, row in enumerate(X):
            i = 0
            while tree["children_left"][i] >= 0:
                go_left = row[tree["feature"][i]] <= np.float32(tree["threshold"][i])
                i = tree["children_left"][i] if go_left else tree["children_right"][i]
            weights = np.array(tree["value"][i])
            expected[r] += weights / weights.sum()
    expected /= 3
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(classes, np.argmax(scores, axis=1))


def test_trees_fitted_on_nan():
    """scikit-learn 1.3 and later fit trees on data with NaN. wine's training split with 15% of
    its values NaN: the tree and the extra trees route NaN by missing_go_to_left and answer the
    test split, 15% NaN too, as scikit-learn does; the random forest has splits with an infinite
    threshold (NaN one way, every number the other), which the format does not describe, and is
    refused naming the first. (The refusal said "fitted on data with missing values", which the
    other two are too.) scikit-learn refuses NaN itself in trees before 1.3, in random forests
    before 1.4 and in extra trees before 1.6."""
    X_train, X_test, y_train, _ = split("wine")
    rng = np.random.default_rng(SEED)
    X_train, X_test = X_train.copy(), X_test.astype(np.float32)
    X_train[rng.random(X_train.shape) < 0.15] = np.nan
    X_test[rng.random(X_test.shape) < 0.15] = np.nan
    forest = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=SEED)
    estimators = [DecisionTreeClassifier(random_state=SEED),
                  ExtraTreesClassifier(n_estimators=10, random_state=SEED), forest]
    fitted = []
    for estimator in estimators:
        try:
            fitted.append(estimator.fit(X_train, y_train))
        except ValueError as error:  # a scikit-learn release before this estimator took NaN
            assert "NaN" in str(error)
    def infinite_splits(tree):
        return np.flatnonzero((tree.children_left != -1) & ~np.isfinite(tree.threshold))

    for estimator in (e for e in estimators[:2] if e in fitted):
        trees = getattr(estimator, "estimators_", [estimator])
        assert not any(infinite_splits(t.tree_).size for t in trees), \
            "scikit-learn's splits changed: pick a model without infinite thresholds here"
        generated = mcuport.generate(estimator, name="m", numeric="float")
        with HostModel(generated) as model:
            classes, _ = model.run(X_test)
        np.testing.assert_array_equal(estimator.classes_[classes], estimator.predict(X_test))
    if forest not in fitted:
        return
    infinite = [infinite_splits(t.tree_) for t in forest.estimators_]
    assert any(nodes.size for nodes in infinite), \
        "scikit-learn's splits changed: pick a forest with an infinite threshold here"
    first = next(i for i, nodes in enumerate(infinite) if nodes.size)
    with pytest.raises(ValueError, match=rf"^node {infinite[first][0]} of tree {first} "
                                         rf"\(estimators_\[{first}\]\) is a split with an infinite "
                                         r"threshold: .* impute missing values before fitting"):
        mcuport.port(forest)

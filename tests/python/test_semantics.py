"""scikit-learn's semantics at the places where porting tools usually go wrong: argmax ties,
probability averaging instead of votes, and several models in one program."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

import mcuport
from mcuport.host import STRICT_FLAGS, HostModel

from conftest import SEED, split


def forest_document(leaves_per_tree, n_classes=3):
    """A RandomForestClassifier document of one-split trees on feature 0 at 0.5; each tree's
    pair of leaves (left, right) holds the given class weights."""
    trees = [
        {
            "children_left": [1, -1, -1],
            "children_right": [2, -1, -1],
            "feature": [0, -2, -2],
            "threshold": [0.5, -2, -2],
            "value": [None, left, right],
        }
        for left, right in leaves_per_tree
    ]
    return json.dumps({
        "format": "mcuport-model", "format_version": 1, "kind": "tree_ensemble",
        "estimator": "RandomForestClassifier", "task": "classification", "n_features": 1,
        "classes": [f"c{i}" for i in range(n_classes)], "input_ranges": [[0.0, 1.0]],
        "params": {"trees": trees},
    })


@pytest.mark.parametrize("numeric", ["float", "fixed"])
@pytest.mark.parametrize(
    "leaves, left_class, right_class",
    [
        # Votes: left ties classes 2 and 1 (one tree each) -> 1; right ties 0 and 2 -> 0.
        ([([0, 0, 1], [1, 0, 0]), ([0, 1, 0], [0, 0, 1])], 1, 0),
        # Probabilities: left sums to (0.5, 1.0, 0.5) -> 1; right to (0.75, 0.5, 0.75) -> 0.
        ([([1, 2, 1], [1, 0, 1]), ([0, 2, 2], [1, 2, 1])], 1, 0),
        # Averaged probabilities overrule hard votes: the votes would say 2, 2 vs 0 ...
        ([([0, 0.4, 0.6], [1, 0, 0]), ([0, 0.4, 0.6], [1, 0, 0]), ([1, 0, 0], [1, 0, 0]),
          ([0, 1, 0], [1, 0, 0])], 1, 0),  # ... but the mean is (0.25, 0.45, 0.3): class 1
    ],
)
def test_forest_ties_and_averaging(leaves, left_class, right_class, numeric, tmp_path):
    generated = mcuport.generate(forest_document(leaves), name="m", numeric=numeric)
    inputs = np.array([[0.25], [0.75]], np.float32)
    with HostModel(generated, workdir=tmp_path) as model:
        if numeric == "fixed":
            inputs, _ = model.quantize(inputs)
        classes, _ = model.run(inputs)
    assert classes.tolist() == [left_class, right_class]


def test_scikit_learn_agrees_with_these_semantics():
    """The same semantics, asked of scikit-learn itself: averaged probabilities, first max."""
    X_train, X_test, y_train, _ = split("digits")
    forest = RandomForestClassifier(n_estimators=7, max_depth=3, random_state=SEED)
    forest.fit(X_train, y_train)
    mean = np.mean([tree.predict_proba(X_test) for tree in forest.estimators_], axis=0)
    np.testing.assert_array_equal(forest.predict(X_test), forest.classes_[np.argmax(mean, axis=1)])


def test_several_models_link_into_one_program(tmp_path):
    X_train, X_test, y_train, _ = split("iris")
    forest = RandomForestClassifier(n_estimators=5, random_state=SEED).fit(X_train, y_train)
    tree = DecisionTreeRegressor(max_depth=3, random_state=SEED).fit(X_train, X_train[:, 0])
    (tmp_path / "a.h").write_text(mcuport.port(forest, name="a", numeric="fixed"))
    (tmp_path / "b.h").write_text(mcuport.port(tree, name="b"))
    (tmp_path / "c.h").write_text(mcuport.port(forest, name="c"))
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "a.h"\n#include "b.h"\n#include "c.h"\n'
        "int main(void) {\n"
        "    const float x[4] = {5.9f, 3.0f, 5.1f, 1.8f};\n"
        "    int16_t xq[A_N_FEATURES];\n"
        "    a_quantize(x, xq);\n"
        '    printf("%d %d %.3f\\n", (int)a_predict(xq), (int)c_predict(x), (double)b_predict(x));\n'
        "    return 0;\n}\n"
    )
    subprocess.run(["cc", "-std=c99", *STRICT_FLAGS, "main.c", "-o", "main"], cwd=tmp_path,
                   check=True)
    out = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, check=True)
    a, c, b = out.stdout.split()
    x = np.array([[5.9, 3.0, 5.1, 1.8]], np.float32)
    assert int(c) == int(np.searchsorted(forest.classes_, forest.predict(x)[0]))
    assert int(a) == int(c)  # far from any threshold, fixed mode decides alike
    assert abs(float(b) - tree.predict(x)[0]) < 1e-3


def _uniform_rows(X: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    low, high = X.min(axis=0), X.max(axis=0)
    return (low + rng.random((n, X.shape[1])) * (high - low)).astype(np.float32)


@pytest.mark.parametrize("n_estimators, max_depth", [(3, 2), (1, 2), (5, 3)])
def test_float_forest_breaks_exact_ties_as_scikit_learn(n_estimators, max_depth, tmp_path):
    """Small forests with impure leaves produce exact ties between classes all over the input
    space (0.4722... = 0.4722...); scikit-learn's float64 rounding decides them, and so must the
    generated code, on every one of 20,000 inputs."""
    X_train, _, y_train, _ = split("iris")
    forest = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=1)
    forest.fit(X_train, y_train)
    X = _uniform_rows(X_train, 20000)
    with HostModel(mcuport.generate(forest, name="m", numeric="float"), workdir=tmp_path) as model:
        classes, proba = model.run(X)
    expected = forest.predict(X)
    assert np.array_equal(forest.classes_[classes], expected), np.sum(
        forest.classes_[classes] != expected
    )
    np.testing.assert_allclose(proba, forest.predict_proba(X), atol=1e-7, rtol=0)

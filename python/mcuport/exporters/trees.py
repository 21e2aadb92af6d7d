"""Decision trees, random forests and extra trees: scikit-learn's ``tree_`` arrays, verbatim.

Thresholds, children and leaf weights are exported exactly as fitted (float64 thresholds,
raw leaf weights); the C++ core decides how to place thresholds and quantize leaves.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from .common import class_labels, header

_CLASSIFIERS = (DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier)


def _tree(tree_: Any, classifier: bool, n_classes: int, which: str) -> dict:
    """One tree's arrays; `which` names it in errors ("the tree", "tree 3 (estimators_[3])")."""
    if tree_.n_outputs != 1:
        raise ValueError(
            "the tree was fitted on several outputs (multi-output); mcuport ports "
            "single-output models only"
        )
    left = tree_.children_left
    split = left != -1
    if not np.all(np.isfinite(tree_.threshold[split])):
        node = int(np.flatnonzero(split & ~np.isfinite(tree_.threshold))[0])
        raise ValueError(
            f"node {node} of {which} is a split with an infinite threshold: scikit-learn makes "
            "such a split when it fits data with missing values (NaN) and sends the NaN samples "
            "one way and every number the other, which mcuport does not support yet; impute "
            "missing values before fitting (trees fitted on NaN without such a split are ported, "
            "and route NaN as scikit-learn does)"
        )
    # The node arrays stay numpy arrays: the core takes them whole (mcuport.generate) and
    # json.dumps lists them (mcuport.to_json). "value" holds a leaf's weights and null at a split:
    # one tolist() of the leaves' rows per tree, not one per leaf (a large forest's port time).
    leaves = np.flatnonzero(~split)
    if classifier:
        rows = tree_.value[leaves, 0, :n_classes].tolist()
    else:
        rows = tree_.value[leaves, 0, 0].tolist()
    values: list = [None] * len(left)
    for node, row in zip(leaves.tolist(), rows):
        values[node] = row
    document = {
        "children_left": left,
        "children_right": tree_.children_right,
        "feature": tree_.feature,
        "threshold": tree_.threshold,
        "value": values,
    }
    # scikit-learn >= 1.3 routes a NaN input by each split's missing_go_to_left (fitted without
    # NaN: towards the child that had more training samples). Written when some split sends NaN
    # left; absent, every split sends it right.
    missing = getattr(tree_, "missing_go_to_left", None)
    if missing is not None and np.any(np.asarray(missing)[split]):
        document["missing_go_to_left"] = (np.asarray(missing).astype(bool) & split).astype(
            int).tolist()
    return document


@functools.lru_cache(maxsize=None)
def _predict_proba_normalizes() -> bool:
    """Whether this scikit-learn's tree predict_proba divides ``tree_.value`` by its sum.

    Releases before 1.4 store class counts and divide; newer ones store fractions and return
    them as they are, even where they do not sum to exactly 1. Asked of the installed release
    with a one-leaf tree whose fractions (1/6, 4/6, 1/6) sum to 0.9999999999999999.
    """
    X = np.zeros((6, 1))
    tree = DecisionTreeClassifier().fit(X, [0, 1, 1, 1, 1, 2])
    return not np.array_equal(tree.predict_proba(X[:1])[0], tree.tree_.value[0, 0])


def export_tree_ensemble(estimator: Any) -> dict:
    classifier = isinstance(estimator, _CLASSIFIERS)
    document = header(estimator, "tree_ensemble", "classification" if classifier else "regression")
    n_classes = 0
    if classifier:
        document["classes"] = class_labels(estimator)
        n_classes = len(document["classes"])
    elif getattr(estimator, "n_outputs_", 1) != 1:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on several outputs (multi-output); "
            "mcuport ports single-output models only"
        )
    trees = [estimator] if hasattr(estimator, "tree_") else list(estimator.estimators_)
    single = hasattr(estimator, "tree_")
    document["params"] = {"trees": [
        _tree(t.tree_, classifier, n_classes, "the tree" if single else f"tree {i} (estimators_[{i}])")
        for i, t in enumerate(trees)]}
    if classifier:
        document["params"]["leaf_proba"] = "normalize" if _predict_proba_normalizes() else "value"
    return document


EXPORTERS = {
    cls: export_tree_ensemble
    for cls in (
        DecisionTreeClassifier,
        DecisionTreeRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
        ExtraTreesClassifier,
        ExtraTreesRegressor,
    )
}

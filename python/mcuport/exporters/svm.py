"""SVC, NuSVC and OneClassSVM in libsvm's layout, as scikit-learn keeps them internally.

The private ``_dual_coef_`` and ``_intercept_`` are libsvm's own (scikit-learn negates the
public ``dual_coef_``/``intercept_`` of binary classifiers); the core reproduces libsvm's
one-vs-one decision values from them and scikit-learn's sign conventions on top.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import SVC, NuSVC, OneClassSVM

from .common import class_labels, header


def export_svm(estimator: Any) -> dict:
    name = type(estimator).__name__
    if callable(estimator.kernel) or estimator.kernel == "precomputed":
        raise ValueError(
            f"this {name} uses a {'callable' if callable(estimator.kernel) else 'precomputed'} "
            "kernel, which cannot be ported; use 'linear', 'poly', 'rbf' or 'sigmoid'"
        )
    one_class = isinstance(estimator, OneClassSVM)
    if not one_class and getattr(estimator, "break_ties", False) and len(estimator.classes_) > 2:
        raise ValueError(
            f"this {name} has break_ties=True, which predicts by the one-vs-rest decision "
            "function; mcuport ports libsvm's one-vs-one vote (break_ties=False, the default)"
        )
    document = header(estimator, "svm", "outlier_detection" if one_class else "classification")
    if not one_class:
        document["classes"] = class_labels(estimator)
    support_vectors = estimator.support_vectors_
    if hasattr(support_vectors, "toarray"):  # fitted on sparse data
        support_vectors = support_vectors.toarray()
    support_vectors = np.asarray(support_vectors, dtype=np.float64)
    n_support = [len(support_vectors)] if one_class else np.asarray(estimator._n_support).tolist()
    dual_coef = estimator._dual_coef_
    if hasattr(dual_coef, "toarray"):
        dual_coef = dual_coef.toarray()
    document["params"] = {
        "kernel": estimator.kernel,
        "gamma": float(estimator._gamma),
        "coef0": float(estimator.coef0),
        "degree": int(estimator.degree),
        "support_vectors": support_vectors.tolist(),
        "n_support": [int(n) for n in n_support],
        "dual_coef": np.asarray(dual_coef, dtype=np.float64).tolist(),
        "intercept": np.asarray(estimator._intercept_, dtype=np.float64).ravel().tolist(),
    }
    return document


EXPORTERS = {cls: export_svm for cls in (SVC, NuSVC, OneClassSVM)}

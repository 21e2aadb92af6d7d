"""LinearSVC: ``coef_`` and ``intercept_``, one row per output (one for two classes)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import LinearSVC

from .common import class_labels, header


def export_linear(estimator: Any) -> dict:
    document = header(estimator, "linear", "classification")
    document["classes"] = class_labels(estimator)
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    n_outputs = coef.shape[0]
    # intercept_ is a scalar 0.0 when fit_intercept=False.
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=np.float64), (n_outputs,))
    document["params"] = {"coef": coef.tolist(), "intercept": intercept.tolist()}
    return document


EXPORTERS = {LinearSVC: export_linear}

"""PCA: ``mean_``, ``components_``, ``explained_variance_`` and ``whiten`` (task "transform").

``transform(x) = (x - mean_) @ components_.T``, each output then divided by
``max(sqrt(explained_variance_), eps)`` when ``whiten``. The same fields describe a PCA stage of
a pipeline (see pipeline.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from .common import header


def pca_params(estimator: Any) -> dict:
    """The fields of a fitted PCA, as the "pca" params or (with "kind") a pipeline stage."""
    n_components = int(estimator.n_components_)
    if n_components == 0:
        raise ValueError(
            "this PCA has n_components_ = 0 (it was fitted with n_components=0): it has no "
            "output to compute; refit with n_components >= 1"
        )
    variance = np.asarray(estimator.explained_variance_, dtype=np.float64)
    zero = np.flatnonzero(~(variance > 0))
    if zero.size:
        raise ValueError(
            f"this PCA has an explained variance of {float(variance[zero[0]])!r} for component "
            f"{zero[0]}: the training data span fewer than n_components directions; refit "
            f"with n_components <= {zero[0]}"
        )
    return {
        "mean": np.asarray(estimator.mean_, dtype=np.float64).tolist(),
        "components": np.asarray(estimator.components_, dtype=np.float64).tolist(),
        "explained_variance": variance.tolist(),
        "whiten": bool(estimator.whiten),
    }


def export_pca(estimator: Any) -> dict:
    document = header(estimator, "pca", "transform")
    document["params"] = pca_params(estimator)
    return document


EXPORTERS = {PCA: export_pca}

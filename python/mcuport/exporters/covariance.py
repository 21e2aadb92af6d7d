"""Mahalanobis distances: scikit-learn's covariance estimators and mcuport.Mahalanobis.

All are kind "mahalanobis": a ``location`` (``location_``), a ``precision`` matrix
(``get_precision()``, the inverse covariance) and, for an outlier detector, a ``threshold`` on
the squared distance ``d2(x) = (x - location)^T precision (x - location)``, which is what
scikit-learn's ``mahalanobis(X)`` returns. EllipticEnvelope (task "outlier_detection") predicts
+1 when ``-d2 - offset_ >= 0``, so its threshold is ``-offset_``; EmpiricalCovariance, MinCovDet,
ShrunkCovariance, LedoitWolf and OAS have no decision (task "distance").
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from sklearn.covariance import (
    OAS,
    EllipticEnvelope,
    EmpiricalCovariance,
    LedoitWolf,
    MinCovDet,
    ShrunkCovariance,
)

from ..mahalanobis import Mahalanobis, positive_definite
from .common import header


def _document(estimator: Any, location: Any, precision: Any, threshold: Optional[float]) -> dict:
    task = "distance" if threshold is None else "outlier_detection"
    document = header(estimator, "mahalanobis", task)
    params = {
        "location": np.asarray(location, dtype=np.float64).tolist(),
        "precision": np.asarray(precision, dtype=np.float64).tolist(),
    }
    if threshold is not None:
        params["threshold"] = float(threshold)
    document["params"] = params
    return document


def export_covariance(estimator: Any) -> dict:
    name = type(estimator).__name__
    precision = np.asarray(estimator.get_precision(), dtype=np.float64)
    if not np.all(np.isfinite(precision)) or not positive_definite((precision + precision.T) / 2):
        raise ValueError(
            f"the covariance of this {name} is singular or nearly so (a constant feature, or "
            "features that are linear combinations of others), so its precision matrix is not "
            "positive definite; use sklearn.covariance.LedoitWolf, OAS or ShrunkCovariance, or "
            "remove the redundant features"
        )
    threshold = None
    if isinstance(estimator, EllipticEnvelope):
        threshold = -float(estimator.offset_)
        if not (np.isfinite(threshold) and threshold >= 0):
            raise ValueError(
                f"this EllipticEnvelope has offset_ = {estimator.offset_!r}; a threshold of "
                "-offset_ on the squared distance must be finite and >= 0"
            )
    return _document(estimator, estimator.location_, precision, threshold)


def export_mahalanobis(estimator: Mahalanobis) -> dict:
    # The constructor has validated everything; the precision is exactly symmetric.
    return _document(estimator, estimator.location_, estimator.precision_, estimator.threshold_)


_ESTIMATORS = (EllipticEnvelope, EmpiricalCovariance, MinCovDet, ShrunkCovariance, LedoitWolf, OAS)
EXPORTERS = {**{cls: export_covariance for cls in _ESTIMATORS}, Mahalanobis: export_mahalanobis}

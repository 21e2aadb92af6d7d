"""GaussianNB: per-class means (``theta_``), variances (``var_``, ``sigma_`` before
scikit-learn 1.0; the fitted variance smoothing is already in them) and priors."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.naive_bayes import GaussianNB

from .common import class_labels, header


def export_gaussian_nb(estimator: Any) -> dict:
    document = header(estimator, "gaussian_nb", "classification")
    document["classes"] = class_labels(estimator)
    variance = getattr(estimator, "var_", None)
    if variance is None:
        variance = estimator.sigma_
    if np.any(np.asarray(estimator.class_prior_) <= 0):
        raise ValueError(
            "this GaussianNB has a class prior of 0: that class can never be predicted; "
            "refit without it or with priors > 0"
        )
    if np.any(np.asarray(variance) <= 0):
        raise ValueError(
            "this GaussianNB has a variance of 0 (a feature constant within a class, fitted "
            "with var_smoothing=0); refit with var_smoothing > 0"
        )
    document["params"] = {
        "theta": np.asarray(estimator.theta_, dtype=np.float64).tolist(),
        "var": np.asarray(variance, dtype=np.float64).tolist(),
        "class_prior": np.asarray(estimator.class_prior_, dtype=np.float64).tolist(),
    }
    return document


EXPORTERS = {GaussianNB: export_gaussian_nb}

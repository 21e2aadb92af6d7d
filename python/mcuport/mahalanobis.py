"""mcuport.Mahalanobis: a squared Mahalanobis distance (and optionally an outlier detector) built
from a location and a covariance or precision matrix, without fitting anything.

    >>> detector = mcuport.Mahalanobis(mu, covariance=sigma, threshold=9.0)
    >>> detector.predict(X)                   # +1 inlier (d2 <= 9), -1 outlier
    >>> print(mcuport.port(detector))

The distance is scikit-learn's ``mahalanobis(X)``: the *squared* distance
``d2(x) = (x - location)^T precision (x - location)``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

# What the C++ loader accepts as a precision matrix (core/src/load_mahalanobis.cpp): symmetric
# within a relative 1e-9 of its largest entry, and a Cholesky factorisation whose smallest pivot
# is not lost in the rounding of the largest (smallest^2 > 1e-13 * largest^2). The constructor
# is stricter on symmetry (1e-10), and checks definiteness by the same rule, so that whatever it
# accepts ports.
SYMMETRY_TOLERANCE = 1e-10
_PIVOT_RATIO_SQUARED = 1e-13


def positive_definite(matrix: np.ndarray) -> bool:
    """Whether a symmetric float64 matrix is positive definite by the rule the C++ loader applies
    to a precision matrix: its Cholesky factorisation succeeds and its smallest pivot, squared,
    exceeds 1e-13 times the largest pivot squared (a singular matrix can factor "successfully" in
    floating point, with a pivot that is only rounding noise)."""
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    pivots = np.diag(factor)
    smallest, largest = float(pivots.min()), float(pivots.max())
    return (
        smallest > 0
        and np.isfinite(largest)
        and smallest * smallest > _PIVOT_RATIO_SQUARED * largest * largest
    )


def _as_float_array(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an array of numbers") from None
    return array


def _symmetric_matrix(value: Any, what: str, n: int) -> np.ndarray:
    matrix = _as_float_array(value, what)
    if matrix.shape != (n, n):
        raise ValueError(
            f"{what} must be an n x n matrix with n = {n} (the length of location), "
            f"got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{what} holds a NaN or infinite value")
    scale = float(np.abs(matrix).max())
    asymmetry = float(np.abs(matrix - matrix.T).max())
    if asymmetry > SYMMETRY_TOLERANCE * scale:
        i, j = np.unravel_index(int(np.argmax(np.abs(matrix - matrix.T))), matrix.shape)
        raise ValueError(
            f"{what} is not symmetric: entry [{i}][{j}] is {float(matrix[i, j])!r} but [{j}][{i}] "
            f"is {float(matrix[j, i])!r} (allowed: a difference of {SYMMETRY_TOLERANCE:g} times "
            "the largest entry, from rounding)"
        )
    return (matrix + matrix.T) / 2


_COVARIANCE_ADVICE = (
    "add a small ridge (covariance + 1e-6 * trace/n * I) or use sklearn.covariance.LedoitWolf"
)


class Mahalanobis:
    """A squared Mahalanobis distance from a given location and covariance (or precision), and,
    with a threshold, an outlier detector: ``predict`` is +1 (inlier) when ``d2 <= threshold``
    and -1 otherwise.

    Give exactly one of ``covariance`` (inverted here through its Cholesky factorisation) and
    ``precision`` (the inverse covariance, used as given after symmetrisation). Either must be a
    symmetric positive definite ``n x n`` matrix, ``n = len(location)``. ``threshold`` is a bound
    on the *squared* distance, finite and >= 0 (e.g. ``scipy.stats.chi2.ppf(0.99, n)`` for
    Gaussian data). ``feature_names`` (optional, ``n`` strings) name the inputs in the generated
    header.

    The object is always "fitted": port it with ``mcuport.port(Mahalanobis(...))``. Its model
    document has estimator ``"Mahalanobis"``, kind ``"mahalanobis"``, and task
    ``"outlier_detection"`` with a threshold or ``"distance"`` without.
    """

    def __init__(
        self,
        location: Any,
        covariance: Any = None,
        precision: Any = None,
        threshold: Optional[float] = None,
        feature_names: Optional[Sequence[str]] = None,
    ) -> None:
        if (covariance is None) == (precision is None):
            raise ValueError("give exactly one of covariance and precision")
        location = _as_float_array(location, "location")
        if location.ndim != 1 or location.size == 0:
            raise ValueError(
                f"location must be a 1-D array of n >= 1 numbers, got shape {location.shape}"
            )
        if not np.all(np.isfinite(location)):
            raise ValueError("location holds a NaN or infinite value")
        n = location.size

        if covariance is not None:
            covariance = _symmetric_matrix(covariance, "covariance", n)
            if not positive_definite(covariance):
                raise ValueError(
                    "the covariance is singular or not positive definite: " + _COVARIANCE_ADVICE
                )
            factor = np.linalg.cholesky(covariance)  # covariance = L L^T
            factor_inverse = np.linalg.solve(factor, np.eye(n))
            precision = factor_inverse.T @ factor_inverse  # (L L^T)^-1 = L^-T L^-1
            precision = (precision + precision.T) / 2
            if not np.all(np.isfinite(precision)) or not positive_definite(precision):
                raise ValueError(
                    "the covariance is too close to singular to invert reliably: "
                    + _COVARIANCE_ADVICE
                )
        else:
            precision = _symmetric_matrix(precision, "precision", n)
            if not positive_definite(precision):
                raise ValueError(
                    "the precision is singular or not positive definite (it must be the inverse "
                    "of a positive definite covariance): regularise the covariance it came from "
                    "(" + _COVARIANCE_ADVICE + ")"
                )

        if threshold is not None:
            if isinstance(threshold, (bool, np.bool_, str, bytes)):
                raise ValueError(f"threshold must be a number, got {threshold!r}")
            try:
                threshold = float(threshold)
            except (TypeError, ValueError):
                raise ValueError(f"threshold must be a number, got {threshold!r}") from None
            if not (np.isfinite(threshold) and threshold >= 0):
                raise ValueError(
                    "threshold must be a finite number >= 0 (a bound on the squared distance), "
                    f"got {threshold!r}"
                )

        if feature_names is not None:
            if isinstance(feature_names, (str, bytes)):
                raise ValueError("feature_names must be a sequence of strings, not one string")
            names = list(feature_names)
            if len(names) != n or not all(isinstance(name, str) for name in names):
                raise ValueError(f"feature_names must be {n} strings, one per feature")
            self.feature_names_in_ = np.asarray(names, dtype=object)

        self.location_ = location
        self.precision_ = precision
        self.threshold_ = threshold
        self.n_features_in_ = n

    def __repr__(self) -> str:
        return f"Mahalanobis(n_features={self.n_features_in_}, threshold={self.threshold_!r})"

    def _inputs(self, X: Any) -> np.ndarray:
        X = _as_float_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in_}), got {X.shape}"
            )
        return X

    def mahalanobis(self, X: Any) -> np.ndarray:
        """The squared Mahalanobis distance of each row of X (as scikit-learn's mahalanobis)."""
        centered = self._inputs(X) - self.location_
        return np.sum((centered @ self.precision_) * centered, axis=1)

    def score_samples(self, X: Any) -> np.ndarray:
        """The negated squared distance (as scikit-learn's EllipticEnvelope.score_samples)."""
        return -self.mahalanobis(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``threshold - d2``: >= 0 for an inlier (EllipticEnvelope's, with threshold
        ``-offset_``)."""
        return self._threshold("decision_function") - self.mahalanobis(X)

    def predict(self, X: Any) -> np.ndarray:
        """+1 (inlier) where ``d2 <= threshold``, -1 (outlier) elsewhere."""
        threshold = self._threshold("predict")
        return np.where(self.mahalanobis(X) <= threshold, 1, -1)

    def _threshold(self, method: str) -> float:
        if self.threshold_ is None:
            raise ValueError(
                f"{method} needs a threshold: this Mahalanobis was made without one "
                "(it is a distance only; use mahalanobis(X))"
            )
        return self.threshold_

"""scikit-learn estimators -> model documents (dicts), one module per model family.

Each family module registers the estimator classes it exports in ``EXPORTERS``. Types are
matched exactly: a subclass may change what predict means, so it is not assumed to be supported.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..mahalanobis import Mahalanobis
from . import covariance, decomposition, linear, naive_bayes, pipeline, svm, trees

EXPORTERS: Dict[type, Callable[[Any], dict]] = {}
for family in (trees, svm, linear, naive_bayes, decomposition, covariance, pipeline):
    EXPORTERS.update(family.EXPORTERS)

# Estimators whose exporter checks fitting itself: mcuport's own Mahalanobis is made complete by
# its constructor (it has no fit, which check_is_fitted requires), and a Pipeline's steps are
# checked one by one (scikit-learn's check looks at the last step only).
_CHECKS_ITS_OWN_FIT = (Mahalanobis, pipeline.Pipeline)


def supported_estimators() -> list:
    return sorted(cls.__name__ for cls in EXPORTERS)


def export_estimator(estimator: Any) -> dict:
    """The model document of a fitted estimator as JSON values (dicts, lists, numbers, strings,
    None), ready for json.dumps. Not yet validated: the core does that."""
    return _lists(export_values(estimator))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lists(item) for item in value]
    return json_default(value) if isinstance(value, np.ndarray) else value


def json_default(value: Any) -> Any:
    """json.dumps's ``default`` for what export_values may hold besides JSON values: a numpy
    array is its list."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def export_values(estimator: Any) -> dict:
    """As :func:`export_estimator`, where an exporter may keep an array as a numpy array (a
    tree's node arrays): what mcuport.generate hands the core (``_core.port_document`` takes
    arrays whole). Such an array may be the fitted estimator's own (a view of ``tree_``'s), so
    the document is to be read, not changed in place."""
    if isinstance(estimator, type):
        raise TypeError(
            f"mcuport was given the class {estimator.__name__} itself, not an estimator: "
            f"create and fit one first ({estimator.__name__}(...).fit(X, y))"
        )
    exporter = EXPORTERS.get(type(estimator))
    if exporter is None:
        raise TypeError(
            f"mcuport cannot port a {type(estimator).__name__}; supported estimators: "
            + ", ".join(supported_estimators())
            + " (give a fitted one of these, or a model document's text)"
        )
    if type(estimator) in _CHECKS_ITS_OWN_FIT:
        return exporter(estimator)
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ValueError(
            f"this {type(estimator).__name__} is not fitted yet: call fit(X, y) before porting it"
        ) from None
    return exporter(estimator)

"""Fields every model document has."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core


def header(estimator: Any, kind: str, task: str) -> dict:
    import sklearn

    document = {
        "format": _core.FORMAT_NAME,
        "format_version": _core.FORMAT_VERSION,
        "producer": f"mcuport {_core.__version__}, scikit-learn {sklearn.__version__}",
        "kind": kind,
        "estimator": type(estimator).__name__,
        "task": task,
        "n_features": int(estimator.n_features_in_),
    }
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        document["feature_names"] = [str(name) for name in names]
    return document


def label(value: Any) -> Any:
    """A class label as JSON: numbers stay numbers, everything else becomes its text."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"class label {value!r} is not a finite number")
        return float(value)
    return str(value)


def class_labels(estimator: Any) -> list:
    classes = estimator.classes_
    if isinstance(classes, list) or np.ndim(classes) != 1:
        raise ValueError(
            f"{type(estimator).__name__} was fitted on several outputs (multi-output); "
            "mcuport ports single-output models only"
        )
    return [label(value) for value in classes.tolist()]

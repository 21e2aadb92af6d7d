"""scikit-learn Pipeline (and make_pipeline): preprocessing stages in front of an estimator.

Every step but the last must be a StandardScaler, MinMaxScaler, MaxAbsScaler or PCA (steps that
are ``'passthrough'`` or ``None`` are skipped); they become the document's "preprocessing" stages,
applied in order to the raw input. The last step is exported as on its own (with all of its
checks), so "kind", "estimator", "task" and "params" are its; "n_features" and "feature_names"
describe the pipeline's raw input instead of the last step's.
"""

from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .decomposition import pca_params

MAX_STAGES = 8  # kMaxStages in core/include/mcuport/limits.hpp

_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler)
_STAGES = _SCALERS + (PCA,)
_ALLOWED = "StandardScaler, MinMaxScaler, MaxAbsScaler, PCA or 'passthrough'"


def _floats(values: Any) -> list:
    return np.asarray(values, dtype=np.float64).tolist()


def _stage(step: Any) -> dict:
    cls = type(step)
    if cls is StandardScaler:
        # mean_ is computed whenever with_std is (for the variance), but only subtracted with
        # with_mean; scale_ is None without with_std.
        stage = {"kind": "standard_scaler"}
        if step.with_mean and step.mean_ is not None:
            stage["mean"] = _floats(step.mean_)
        if step.with_std and step.scale_ is not None:
            stage["scale"] = _floats(step.scale_)
        return stage
    if cls is MinMaxScaler:
        stage = {"kind": "minmax_scaler", "scale": _floats(step.scale_), "min": _floats(step.min_)}
        if getattr(step, "clip", False):
            stage["clip"] = [float(bound) for bound in step.feature_range]
        return stage
    if cls is MaxAbsScaler:
        return {"kind": "maxabs_scaler", "scale": _floats(step.scale_)}
    return {"kind": "pca", **pca_params(step)}


def _output_width(step: Any) -> int:
    return int(step.n_components_) if type(step) is PCA else int(step.n_features_in_)


def _describe(name: str, step: Any) -> str:
    return f"step {name!r} ({type(step).__name__})"


def _export_final(export_values: Any, name: str, final: Any) -> dict:
    """The last step's document, by the registry, with its errors naming the step."""
    try:
        return export_values(final)
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"the last {_describe(name, final)} of this Pipeline: {error}") from None


def export_pipeline(pipeline: Pipeline) -> dict:
    from . import EXPORTERS, export_values  # the registry imports this module

    steps: List[Tuple[str, Any]] = [
        (name, step)
        for name, step in pipeline.steps
        if step is not None and not (isinstance(step, str) and step == "passthrough")
    ]
    if not steps:
        raise TypeError(
            "this Pipeline has only 'passthrough' steps; mcuport ports a pipeline ending in an "
            "estimator or PCA"
        )
    *stages, (final_name, final) = steps
    if type(final) in _SCALERS:
        raise TypeError(
            f"this Pipeline ends in a {type(final).__name__} ({final_name!r}): mcuport ports a "
            "pipeline ending in an estimator or PCA (a scaler alone computes nothing to port)"
        )
    if type(final) is Pipeline:
        raise TypeError(
            f"the last step {final_name!r} of this Pipeline is itself a Pipeline: flatten it "
            "(make_pipeline of all the steps) before porting"
        )
    if type(final) not in EXPORTERS:
        _export_final(export_values, final_name, final)  # raises the registry's TypeError
    for name, step in stages:
        if type(step) not in _STAGES:
            raise TypeError(
                f"{_describe(name, step)} of this Pipeline cannot be ported: every step but the "
                f"last must be a {_ALLOWED}"
            )
    if len(stages) > MAX_STAGES:
        raise ValueError(
            f"this Pipeline has {len(stages)} preprocessing steps in front of its estimator; "
            f"mcuport ports at most {MAX_STAGES}"
        )
    for name, step in stages:
        try:
            check_is_fitted(step)
        except NotFittedError:
            raise ValueError(
                f"{_describe(name, step)} of this Pipeline is not fitted yet: call fit(X, y) on "
                "the pipeline before porting it"
            ) from None

    # A fitted pipeline is consistent; a pipeline assembled from separately fitted steps may not
    # be. The C++ loader checks this too, but cannot name the steps.
    width = int(stages[0][1].n_features_in_) if stages else None
    for (name, step), (next_name, next_step) in zip(steps, steps[1:]):
        produced = _output_width(step)
        expected = getattr(next_step, "n_features_in_", None)
        if expected is not None and int(expected) != produced:
            raise ValueError(
                f"{_describe(next_name, next_step)} of this Pipeline expects {int(expected)} "
                f"inputs, but {_describe(name, step)} before it gives {produced}"
            )

    preprocessing = []
    for name, step in stages:
        try:
            preprocessing.append(_stage(step))
        except ValueError as error:
            raise ValueError(f"{_describe(name, step)} of this Pipeline: {error}") from None
    document = _export_final(export_values, final_name, final)
    if not stages:
        return document  # nothing in front of the estimator: exactly the estimator's document

    names = getattr(stages[0][1], "feature_names_in_", None)
    result = {}
    for key, value in document.items():
        if key in ("feature_names", "params"):
            continue
        if key == "n_features":
            result[key] = width
            if names is not None:
                result["feature_names"] = [str(name) for name in names]
        else:
            result[key] = value
    result["preprocessing"] = preprocessing
    result["params"] = document["params"]
    return result

EXPORTERS = {Pipeline: export_pipeline}

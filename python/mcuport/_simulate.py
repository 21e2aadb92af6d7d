"""mcuport.load: the fixed-mode generated code, simulated bit for bit by the C++ core."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core


def _rows(values: Any, n_features: int, what: str, dtype: Any) -> np.ndarray:
    """values as a C-ordered (n, n_features) array, or a ValueError that says what to pass."""
    from ._port import real_array

    try:
        array = np.asarray(values) if dtype is None else real_array(values, dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{what} must be an array of numbers of shape (n_samples, {n_features}): {error}"
        ) from None
    if array.ndim != 2 or array.shape[1] != n_features:
        hint = (
            "; for one sample pass [x] or x.reshape(1, -1)"
            if array.ndim == 1 and array.size == n_features
            else ""
        )
        raise ValueError(
            f"{what} must have shape (n_samples, {n_features}), one column per feature of the "
            f"model; got {array.shape}{hint}"
        )
    return array


def _int16(codes: Any) -> np.ndarray:
    array = np.asarray(codes)
    if array.dtype != np.int16:
        if array.size and (not np.issubdtype(array.dtype, np.integer)
                           or array.min() < -32768 or array.max() > 32767):
            raise ValueError("codes must be integers in the int16 range [-32768, 32767]")
        array = array.astype(np.int16)
    return array


def _label_value(text: str, numeric: bool) -> Any:
    if not numeric:
        return text
    return float(text) if any(c in text for c in ".eE") else int(text)


class SimulatedModel:
    """What the chip will answer, without a cross compiler.

    The core loads the model, chooses the same quantization and lowers it to the same integer
    program that ``port(..., numeric="fixed")`` emits, and runs that program's arithmetic. Its
    outputs are bit-identical to the compiled header's (a differential test holds them to it).
    """

    def __init__(self, model_json: Union[str, bytes], proba_bits: int = 16,
                 target: str = "host") -> None:
        self._sim = _core.Simulator(model_json, proba_bits, target)
        # The target's own name where an alias was given ("cortex-m4" -> "cortex-m4f").
        self.target = next((t["name"] for t in _core.targets()
                            if target == t["name"] or target in t["aliases"]), target)
        self.task = self._sim.task
        self.n_features = self._sim.n_features
        self.classes_ = (
            np.array([_label_value(text, numeric) for text, numeric in self._sim.classes])
            if self._sim.classes
            else None
        )

    def quantize(self, X: Any) -> np.ndarray:
        """The header's ``quantize()``: float rows to int16 codes (saturating)."""
        return self._sim.quantize(_rows(X, self.n_features, "X", np.float32))

    def predict_codes(self, codes: Any) -> np.ndarray:
        """``predict()`` on int16 codes: class indices, +1/-1, or the regressor's integers."""
        return self._sim.predict(_int16(_rows(codes, self.n_features, "codes", None)))

    def scores_codes(self, codes: Any) -> np.ndarray:
        """The score vector's integers on int16 codes (class probabilities times PROBA_ONE,
        decision values times 2^SCORE_FRAC_BITS)."""
        return self._sim.scores(_int16(_rows(codes, self.n_features, "codes", None)))

    def predict(self, X: Any) -> np.ndarray:
        """Quantize float rows, then predict: class labels, +1/-1, or regression values."""
        result = self.predict_codes(self.quantize(X))
        if self.task == "classification":
            return self.classes_[result]
        if self.task == "regression":
            return result * self._sim.output_unit
        return result

    def transform(self, X: Any) -> np.ndarray:
        """PCA (and pipelines ending in it): the outputs of ``transform()`` in real units."""
        if self.task != "transform":
            raise ValueError(f"transform() is for PCA models; this model's task is {self.task!r}")
        return self.scores_codes(self.quantize(X)) * self._sim.score_unit

    def mahalanobis(self, X: Any) -> np.ndarray:
        """Mahalanobis models: the squared distance ``score()`` computes, in real units."""
        if self.task not in ("distance", "outlier_detection") or self._sim.n_scores != 1:
            raise ValueError("mahalanobis() is for Mahalanobis distance models")
        return self.scores_codes(self.quantize(X))[:, 0] * self._sim.score_unit

    def decision_function(self, X: Any) -> np.ndarray:
        """The score vector in real units: class probabilities for trees, decision values for
        SVMs (libsvm's one-vs-one sign) and linear models."""
        return self.scores_codes(self.quantize(X)) * self._sim.score_unit


def load(
    model: Any,
    *,
    classmap: Optional[Mapping[int, Any]] = None,
    calibration: Any = None,
    input_ranges: Optional[Sequence[Sequence[float]]] = None,
    proba_bits: Optional[int] = 16,
    target: Optional[str] = "host",
) -> SimulatedModel:
    """Simulate the fixed-mode code of a model document (or a fitted estimator, with the same
    ``classmap``/``calibration``/``input_ranges``/``proba_bits`` as :func:`mcuport.port`).

    ``target`` is the header's (:func:`mcuport.targets`, as for :func:`mcuport.port`): a few
    layouts give other integers on some targets (a Mahalanobis distance's 24-bit weights on
    Cortex-M4/M7, and the terms of a naive Bayes model whose weights lie far apart on
    Cortex-M4/M7 and RV32IMC), and the simulation computes that target's."""
    from ._port import (_no_estimator_options, check_proba_bits, check_str_option, document_bytes,
                        to_json, with_file_name_hint)

    check_str_option("target", target, "(or None)")
    if proba_bits is not None:
        check_proba_bits(proba_bits, "(or None)")
    target = "host" if target is None else target
    proba_bits = 16 if proba_bits is None else proba_bits
    if isinstance(model, (str, bytes)):
        _no_estimator_options(classmap, calibration, input_ranges)
        text = document_bytes(model)
    else:
        text = to_json(model, classmap=classmap, calibration=calibration, input_ranges=input_ranges)
    try:
        simulated = SimulatedModel(text, proba_bits, target)
    except _core.ModelError as error:
        raise with_file_name_hint(error, text) from None
    # A document keeps labels as JSON numbers or text (True as "True"); an estimator's own
    # classes_ keep their dtype (bool, int8, uint64, ...), so that predict() answers as
    # scikit-learn's does.
    classes = getattr(model, "classes_", None) if classmap is None else None
    if (simulated.classes_ is not None and isinstance(classes, np.ndarray) and classes.ndim == 1
            and len(classes) == len(simulated.classes_)):
        simulated.classes_ = classes.copy()
    return simulated

"""The public Python entry points: to_json, port, generate."""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core
from .exporters import export_values, json_default
from .exporters.common import label

_NUMERIC_MODES = ("float", "fixed")
_MAX_STRING_BYTES = 256  # kMaxStringBytes in core/include/mcuport/limits.hpp
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_LAYOUTS = ("fast", "compact")
_STYLES = ("c", "micromlgen")
_PLATFORMS = ("arduino", "attiny")  # micromlgen's; accepted in the micromlgen style


@dataclass(frozen=True)
class Generated:
    """The result of porting a model: the header and what mcuport decided on the way."""

    header: str
    """The C99 header."""
    name: str
    """The model name: the prefix of every symbol in the header."""
    task: str
    """``"classification"``, ``"regression"``, ``"outlier_detection"``, ``"transform"`` (PCA) or
    ``"distance"`` (a Mahalanobis distance without a threshold)."""
    n_features: int
    n_classes: int
    """0 for regressors."""
    numeric: str
    """The numeric mode used: ``"float"`` or ``"fixed"``."""
    table_bytes: int
    """Bytes of the constant tables the predict path reads."""
    predict_type: str
    """The C return type of ``<name>_predict``: ``"int32_t"`` or ``"float"``; ``""`` when the
    model has no predict (transforms and distances)."""
    scores_function: str
    """The generated function filling the model's score vector (class probabilities of trees,
    libsvm's pairwise decision values of SVMs, the decision function of linear models, the
    joint log-likelihood of naive Bayes), or ``""``."""
    n_scores: int
    score_type: str
    input_quantization: Optional[np.ndarray]
    """Fixed mode: one row per feature, ``(low, high, scale, zero_point)``; the int16 code q
    stands for ``scale * (q - zero_point)``. ``None`` in float mode."""
    scores_scalar: bool = False
    """The scores function returns its single score (``<name>_score(x)`` of a Mahalanobis
    distance) instead of filling an array."""
    target: str = "host"
    """The target the header was generated for (its canonical name, see :func:`targets`)."""
    layout: Optional[str] = None
    """Tree models: the code layout emitted, ``"fast"`` or ``"compact"``; ``None`` otherwise."""
    proba_bits: Optional[int] = None
    """Tree classifiers in fixed mode: the bits of a leaf probability code (16, or 8 when asked
    for); ``None`` otherwise."""

    def dequantize(self, codes: np.ndarray) -> np.ndarray:
        """The float32 values that int16 codes stand for, exactly as the model sees them."""
        if self.input_quantization is None:
            raise ValueError("dequantize() needs a fixed-mode model (numeric='fixed')")
        codes = np.asarray(codes)
        scale = self.input_quantization[:, 2]
        zero_point = self.input_quantization[:, 3]
        return (scale * (codes.astype(np.float64) - zero_point)).astype(np.float32)


def to_json(
    estimator: Any,
    *,
    classmap: Optional[Mapping[int, Any]] = None,
    calibration: Any = None,
    input_ranges: Optional[Sequence[Sequence[float]]] = None,
    indent: Optional[int] = None,
) -> str:
    """Export a fitted scikit-learn estimator as a model document (format version 1).

    ``classmap`` replaces the class labels ({index: label}, as in micromlgen).
    ``calibration`` (an array of typical inputs) or ``input_ranges`` (one ``(low, high)`` per
    feature) set the input ranges that fixed-point code represents. For a Mahalanobis detector,
    calibration ranges are widened to contain its inlier ellipsoid's bounding box, so that an
    outlier beyond the calibration data still saturates to an outlier.
    The document is validated by the C++ core before it is returned.

    Given a model document (``str`` or ``bytes``) instead of an estimator, the core loads it and
    writes it back from what it loaded: the document round-trips (export, load, export gives
    the same keys and the same numbers), and anything the core does not keep is gone.
    """
    if isinstance(estimator, (str, bytes)):
        _no_estimator_options(classmap, calibration, input_ranges)
        text = document_bytes(estimator)
        try:
            return _core.canonical(text, -1 if indent is None else indent)
        except _core.ModelError as error:
            raise with_file_name_hint(error, text) from None
    text = _document_text(estimator, classmap, calibration, input_ranges, indent)
    _core.validate(text)
    return text


def _document_text(estimator, classmap, calibration, input_ranges, indent=None) -> str:
    """The model document of an estimator as JSON text, not yet validated by the core."""
    document = _document(estimator, classmap, calibration, input_ranges)
    separators = (",", ":") if indent is None else None
    return json.dumps(document, allow_nan=False, indent=indent, separators=separators,
                      default=json_default)


def _document(estimator, classmap, calibration, input_ranges) -> dict:
    """The model document of an estimator as Python values (what json.dumps writes, numpy arrays
    among them), not yet validated by the core."""
    document = export_values(estimator)
    _apply_classmap(document, classmap)
    ranges = _input_ranges(document["n_features"], calibration, input_ranges)
    if ranges is not None and calibration is not None:
        ranges = _cover_inlier_box(document, ranges)
    if ranges is not None:
        # In the core's order (schema/model-v1.schema.json): before "preprocessing" and "params",
        # so that the core writes the document back byte for byte (mcuport.to_json(text)).
        tail = {key: document.pop(key) for key in ("preprocessing", "params") if key in document}
        document["input_ranges"] = ranges
        document.update(tail)
    return document


def check_str_option(option: str, value: Any, none: str = "") -> None:
    """A str option (name=, target=) named in the error, where pybind11's would not say which."""
    if not (value is None and none) and not isinstance(value, str):
        raise TypeError(f"{option} must be a str{' ' + none if none else ''}, got "
                        f"{type(value).__name__}")


def check_proba_bits(proba_bits: Any, none: str = "") -> None:
    if (isinstance(proba_bits, bool) or not isinstance(proba_bits, numbers.Integral)
            or proba_bits not in (8, 16)):
        raise ValueError(f"proba_bits must be 8 or 16{' ' + none if none else ''}, got "
                         f"{proba_bits!r} ({type(proba_bits).__name__})")


def generate(
    estimator: Any,
    name: Optional[str] = None,
    classmap: Optional[Mapping[int, Any]] = None,
    numeric: Optional[str] = None,
    calibration: Any = None,
    target: Optional[str] = None,
    input_ranges: Optional[Sequence[Sequence[float]]] = None,
    layout: Optional[str] = None,
    proba_bits: Optional[int] = None,
    style: str = "c",
    classname: Optional[str] = None,
    platform: Optional[str] = None,
) -> Generated:
    """Like :func:`port`, but returns a :class:`Generated` with the decisions made."""
    if style not in _STYLES:
        raise ValueError(f"style must be 'c' or 'micromlgen', got {style!r}")
    if style == "c" and (classname is not None or platform is not None):
        raise ValueError(
            "classname and platform are micromlgen's arguments: pass style='micromlgen' (or use "
            "mcuport.micromlgen.port) to get its class; the C style's symbols take name="
        )
    if style == "micromlgen" and name is not None:
        raise ValueError(
            "in the micromlgen style the class name prefixes the C symbols too: pass classname=, "
            "not name="
        )
    if platform is not None and platform not in _PLATFORMS:
        raise ValueError(
            f"platform must be 'arduino' or 'attiny' (micromlgen's), got {platform!r}; the chip "
            "is chosen with target= (mcuport.targets())"
        )
    if classname is not None and not isinstance(classname, str):
        raise TypeError(f"classname must be a str, got {type(classname).__name__}")
    if numeric is not None and numeric not in _NUMERIC_MODES:
        raise ValueError(f"numeric must be 'float' or 'fixed', got {numeric!r}")
    if layout is not None and layout not in _LAYOUTS:
        raise ValueError(f"layout must be 'fast' or 'compact' (or None), got {layout!r}")
    for option, value in (("name", name), ("target", target)):
        check_str_option(option, value, "(or None)")
    if proba_bits is not None:
        check_proba_bits(proba_bits, "(or None)")
    options = ("model" if name is None else name, numeric,
               target if target is not None else "host", layout,
               None if proba_bits is None else int(proba_bits), style,
               "" if classname is None else classname)
    if isinstance(estimator, (str, bytes)):
        _no_estimator_options(classmap, calibration, input_ranges)
        text = document_bytes(estimator)
        try:
            result = _core.port_model(text, *options)
        except _core.ModelError as error:
            raise with_file_name_hint(error, text) from None
    else:
        # The document goes to the core as Python values, not JSON text (the same document and
        # validation as to_json's; writing and parsing the text was half of a large forest's
        # port). The core loads and validates it as to_json would: once is enough.
        result = _core.port_document(
            _document(estimator, classmap, calibration, input_ranges), *options)
    quantization = result["input_quantization"]
    return Generated(
        header=result["header"],
        name=result["name"],
        task=result["task"],
        n_features=int(result["n_features"]),
        n_classes=int(result["n_classes"]),
        numeric=result["numeric"],
        table_bytes=int(result["table_bytes"]),
        predict_type=result["predict_type"],
        scores_function=result["scores_function"],
        n_scores=int(result["n_scores"]),
        score_type=result["score_type"],
        input_quantization=None if quantization is None else np.array(quantization, np.float64),
        scores_scalar=bool(result["scores_scalar"]),
        target=result["target"],
        layout=result["layout"],
        proba_bits=result["proba_bits"],
    )


def port(
    estimator: Any,
    name: Optional[str] = None,
    classmap: Optional[Mapping[int, Any]] = None,
    numeric: Optional[str] = None,
    calibration: Any = None,
    target: Optional[str] = None,
    input_ranges: Optional[Sequence[Sequence[float]]] = None,
    layout: Optional[str] = None,
    proba_bits: Optional[int] = None,
    style: str = "c",
    classname: Optional[str] = None,
    platform: Optional[str] = None,
) -> str:
    """Port a fitted scikit-learn estimator (or a model document) to one C99 header.

    name: prefix of every generated symbol (``name_predict``, ``NAME_N_FEATURES``); default
        ``"model"``.
    classmap: ``{index: label}`` replacing the class labels (micromlgen's argument).
    numeric: ``"float"`` (float32 arithmetic) or ``"fixed"`` (integer-only predict path);
        default: the target's (``"float"`` on the host).
    calibration: typical inputs, shape (n_samples, n_features); their per-feature min and max
        become the ranges that fixed-point inputs represent (values outside saturate).
    input_ranges: the same ranges given directly, one ``(low, high)`` per feature.
    target: a target name (see :func:`targets`), default ``"host"``.
    layout: tree models only: ``"fast"`` (each tree as straight-line compares and jumps: the
        fewest cycles) or ``"compact"`` (packed node words walked by one loop: the least flash).
        Both give the same answers. Default: fast when the fast code, at the typical bytes a
        split measured on the target, takes at most a quarter of the target's flash (and the
        model has at most 16,384 split nodes), else compact. Fast code that cannot fit (its
        splits at the fewest bytes a split measured on the target, plus its tables, exceed
        the flash) raises :class:`ModelError`.
    proba_bits: tree models in fixed mode only: the bits of a leaf probability code, 16 (the
        default: error at most 0.5/65280 of a tree's vote per class) or 8 (half the bytes per
        probability, error at most 0.5/255; see docs/fixed-point.md). It changes the answers
        only where scikit-learn's top two classes are that close.
    style: ``"c"`` (the C API) or ``"micromlgen"``: the C API plus micromlgen's C++ class
        ``Eloquent::ML::Port::<classname>`` (``predict(float *x)``, ``predictLabel``,
        ``idxToLabel``, ``transform``), for code written against micromlgen
        (docs/migrating-from-micromlgen.md; :func:`mcuport.micromlgen.port` has its signature).
    classname: the micromlgen style's class name, which also prefixes the C symbols; default:
        micromlgen's for the estimator (``RandomForest``, ``DecisionTree``, ``SVM``, ...).
    platform: micromlgen's ``"arduino"`` or ``"attiny"``, accepted in the micromlgen style; the
        code does not depend on it (``target`` chooses the chip).
    """
    return generate(
        estimator,
        name=name,
        classmap=classmap,
        numeric=numeric,
        calibration=calibration,
        target=target,
        input_ranges=input_ranges,
        layout=layout,
        proba_bits=proba_bits,
        style=style,
        classname=classname,
        platform=platform,
    ).header


def document_bytes(document: Union[str, bytes]) -> bytes:
    """A model document's text as the bytes the core reads. The core, not a Python codec, judges
    the encoding, so that text that is not UTF-8 (bytes as read from a file, or a str holding
    lone surrogates) is refused with ModelError naming the string's JSON pointer."""
    if isinstance(document, bytes):
        return document
    return document.encode("utf-8", "surrogatepass")


def with_file_name_hint(error: Exception, text: Union[str, bytes]) -> Exception:
    """ModelError for a document that does not even begin as JSON, such as a file name given in
    place of the file's contents, says so."""
    head = text.lstrip()[:1] if isinstance(text, str) else text.lstrip()[:1].decode("latin-1")
    if head in ("{", "[", ""):
        return error
    return _core.ModelError(
        f"{error} (mcuport expects a model document's text here; to use a file, pass its "
        "contents: open(path).read())"
    )


def targets() -> list:
    """The known targets, as dicts (name, description, default_numeric, compiler, ...)."""
    return _core.targets()


def _no_estimator_options(classmap, calibration, input_ranges) -> None:
    if classmap is not None or calibration is not None or input_ranges is not None:
        raise ValueError(
            "classmap, calibration and input_ranges apply to estimators; a model document "
            "already carries its classes and input ranges"
        )


def _apply_classmap(document: dict, classmap: Optional[Mapping[int, Any]]) -> None:
    """Replaces the document's class labels. Wrong kinds of keys or labels are TypeErrors; keys
    that do not cover the classes exactly, and labels that are not finite, too long or not
    distinct, are ValueErrors."""
    if classmap is None:
        return
    if not isinstance(classmap, Mapping):
        raise TypeError(
            f"classmap must be a dict {{index: label}}, got {type(classmap).__name__}; "
            "e.g. {0: 'idle', 1: 'busy'}"
        )
    if document.get("task") != "classification":
        raise ValueError("classmap applies to classifiers only; leave it out for this model")
    classes = document["classes"]
    n_classes = len(classes)
    for key in classmap:
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise TypeError(
                f"classmap keys must be class indices, the integers 0..{n_classes - 1} (positions "
                f"in the estimator's classes_ {classes}), got the key {key!r} "
                f"({type(key).__name__})"
            )
    keys = {int(key) for key in classmap}
    expected = set(range(n_classes))
    if keys != expected:
        missing = sorted(expected - keys)
        extra = sorted(keys - expected)
        raise ValueError(
            f"classmap must map every class index 0..{n_classes - 1} to a label"
            + (f"; missing indices {missing}" if missing else "")
            + (f"; unknown keys {extra}" if extra else "")
            + f" (the estimator's classes_ are {classes})"
        )
    labels = []
    first_index: dict = {}  # label -> class index; 1 and 1.0 are one key, as in the loader
    for index in range(n_classes):
        value = classmap[index]
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (str, int, float, np.integer, np.floating)
        ):
            raise TypeError(
                f"classmap label of class {index} must be a string or a number, got {value!r} "
                f"({type(value).__name__})"
            )
        if isinstance(value, (float, np.floating)) and not np.isfinite(value):
            raise ValueError(
                f"classmap label of class {index} is {value!r}; a numeric label must be finite"
            )
        mapped = label(value)
        if isinstance(mapped, str) and len(mapped.encode("utf-8")) > _MAX_STRING_BYTES:
            raise ValueError(
                f"classmap label of class {index} is {len(mapped.encode('utf-8'))} bytes of "
                f"UTF-8, more than the limit of {_MAX_STRING_BYTES}; give a shorter label"
            )
        if mapped in first_index:
            raise ValueError(
                f"classmap gives classes {first_index[mapped]} and {index} the same label "
                f"{mapped!r}; every class needs a label of its own"
            )
        first_index[mapped] = index
        labels.append(mapped)
    document["classes"] = labels


def _cover_inlier_box(document: dict, ranges: list) -> list:
    """Calibration ranges of a Mahalanobis detector, widened to contain the bounding box of its
    inlier ellipsoid {d2 <= threshold} with a 1% margin.

    Calibration data of normal operation does not reach where outliers are: an outlier beyond
    the calibrated range would saturate to the range's edge and could look normal. With the box
    inside the ranges, an input that saturates lands at least 1% (per coordinate) outside the
    box, so it is an outlier, as the input itself is. Explicit ``input_ranges`` are taken as
    given (they state where inputs can be, such as a sensor's full scale). Pipelines are left
    as they are: give their ranges explicitly.
    """
    params = document.get("params", {})
    if document.get("kind") != "mahalanobis" or "threshold" not in params or document.get(
        "preprocessing"
    ):
        return ranges
    covariance = np.linalg.inv(np.asarray(params["precision"], dtype=np.float64))
    half = 1.01 * np.sqrt(params["threshold"] * np.diag(covariance))
    center = np.asarray(params["location"], dtype=np.float64)
    return [
        [min(lo, float(c - h)), max(hi, float(c + h))]
        for (lo, hi), c, h in zip(ranges, center, half)
    ]


def real_array(values: Any, dtype: Any = np.float64) -> np.ndarray:
    """values as a real array: numpy would drop a complex number's imaginary part with only a
    ComplexWarning (an object array of Python complex numbers fails the conversion itself)."""
    if np.iscomplexobj(values):
        raise ValueError("it holds complex numbers; give real ones")
    return np.asarray(values, dtype=dtype)


def _input_ranges(n_features: int, calibration: Any, input_ranges: Any) -> Optional[list]:
    if calibration is not None and input_ranges is not None:
        raise ValueError("give calibration or input_ranges, not both")
    if calibration is not None:
        try:
            X = real_array(calibration)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"calibration must be an array of numbers of shape (n_samples, {n_features}): "
                f"{error}"
            ) from None
        if X.ndim != 2 or X.shape[1] != n_features or X.shape[0] == 0:
            hint = _calibration_hint(X, n_features)
            raise ValueError(
                f"calibration must have shape (n_samples >= 1, {n_features}), one row per "
                f"sample, one column per feature; got {X.shape}{hint}"
            )
        bad = np.argwhere(~np.isfinite(X))
        if bad.size:
            row, column = bad[0]
            raise ValueError(
                f"calibration data holds a NaN or infinite value (row {row}, column {column}); "
                "remove or impute such rows first"
            )
        bad = np.argwhere(np.abs(X) > _FLOAT32_MAX)
        if bad.size:
            row, column = bad[0]
            raise ValueError(
                f"calibration value {float(X[row, column])!r} (row {row}, column {column}) is "
                "beyond the float32 range that inputs are compared in; remove such rows or "
                "rescale the feature"
            )
        return [[float(lo), float(hi)] for lo, hi in zip(X.min(axis=0), X.max(axis=0))]
    if input_ranges is not None:
        try:
            R = real_array(input_ranges)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"input_ranges must be numbers, one (low, high) pair per feature, shape "
                f"({n_features}, 2): {error}"
            ) from None
        if R.shape != (n_features, 2):
            raise ValueError(
                f"input_ranges must have one (low, high) pair per feature, shape "
                f"({n_features}, 2), got {R.shape}"
            )
        for feature, (low, high) in enumerate(R.tolist()):
            where = f"input_ranges[{feature}] = ({low!r}, {high!r})"
            if not (np.isfinite(low) and np.isfinite(high)):
                raise ValueError(f"{where} is not finite: give finite bounds with low <= high")
            if low > high:
                raise ValueError(f"{where} has low > high: give (low, high) with low <= high")
            if max(abs(low), abs(high)) > _FLOAT32_MAX:
                raise ValueError(
                    f"{where} reaches beyond the float32 range that inputs are compared in "
                    f"(+-{_FLOAT32_MAX:g})"
                )
        return R.tolist()
    return None


def _calibration_hint(X: np.ndarray, n_features: int) -> str:
    if X.ndim == 1 and X.size == n_features:
        return "; for one sample pass [x] or x.reshape(1, -1)"
    if X.ndim == 2 and X.shape[0] == 0:
        return "; give at least one row"
    if X.ndim == 2:
        return (f"; the model has {n_features} inputs: pass data with the columns it was "
                "fitted on")
    return ""

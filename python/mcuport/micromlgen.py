"""A drop-in for micromlgen's ``port``: change one import,

    >>> from mcuport.micromlgen import port      # was: from micromlgen import port
    >>> print(port(clf, classname="Gesture", classmap={0: "rest", 1: "wave"}))

and the sketch that includes the header keeps compiling: it gets micromlgen's C++ class
(``Eloquent::ML::Port::Gesture`` with ``predict(float *x)``, ``predictLabel``, ``idxToLabel``,
and ``transform`` for PCA) on mcuport's C, with scikit-learn's answers. mcuport's own options
(``numeric="fixed"`` with ``calibration=X_train`` for integer-only code, ``target=``, ``layout=``)
may be added. docs/migrating-from-micromlgen.md lists every difference a user will notice.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ._port import port as _port

__all__ = ["port"]


def port(
    clf: Any,
    classname: Optional[str] = None,
    classmap: Optional[Mapping[int, Any]] = None,
    platform: str = "arduino",
    precision: Optional[int] = None,
    **options: Any,
) -> str:
    """micromlgen's ``port(clf, classname=None, classmap=None, platform='arduino',
    precision=None)``, returning one header with the C API and micromlgen's class.

    classname: the class name (default: micromlgen's: ``RandomForest``, ``DecisionTree``,
        ``SVM``, ``OneClassSVM``, ``GaussianNB``, ``PCA``, ...); it also prefixes the C symbols,
        so that two models in one sketch need two class names, as in micromlgen.
    classmap: ``{index: label}``, the labels ``predictLabel`` and ``idxToLabel`` return.
    platform: ``"arduino"`` or ``"attiny"``, accepted as micromlgen does; the code does not
        depend on it (pass ``target=`` to choose the chip: ``mcuport.targets()``).
    precision: micromlgen's number of decimals for its constants; accepted and not used:
        mcuport's constants are the fitted values (float32, or fixed point within proven bounds).
    options: :func:`mcuport.port`'s other arguments (``numeric``, ``calibration``, ``target``,
        ``input_ranges``, ``layout``, ``proba_bits``).
    """
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)):
        raise TypeError(f"precision must be an int or None (as in micromlgen), got {precision!r}")
    for key in ("style", "name"):
        if key in options:
            raise TypeError(
                f"mcuport.micromlgen.port() takes no {key!r}: it always writes micromlgen's class, "
                "whose class name (classname=) prefixes the C symbols; use mcuport.port for the C "
                "style"
            )
    return _port(clf, classmap=classmap, style="micromlgen", classname=classname,
                 platform=platform, **options)

"""mcuport: trained scikit-learn models to small, exact, allocation-free C for microcontrollers.

    >>> from mcuport import port
    >>> print(port(clf))                      # float32 C, decisions exactly as scikit-learn
    >>> print(port(clf, numeric="fixed", calibration=X_train))   # integer-only C

Every call goes through the same C++ core as the ``mcuport`` command-line tool: the estimator
is exported to a versioned model document (:func:`to_json`), which the core validates,
analyses, lowers and emits as one C99 header.
"""

from ._core import FORMAT_VERSION, ModelError, __version__
from . import host
from .mahalanobis import Mahalanobis
from ._port import Generated, generate, port, targets, to_json
from ._report import Report, report
from ._simulate import SimulatedModel, load

__all__ = [
    "FORMAT_VERSION",
    "Generated",
    "ModelError",
    "__version__",
    "generate",
    "host",
    "load",
    "Mahalanobis",
    "SimulatedModel",
    "port",
    "report",
    "Report",
    "targets",
    "to_json",
]

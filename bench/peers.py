"""The tools compared in bench/compare.py: mcuport and other code generators from PyPI.

Each peer turns a fitted estimator into C or C++ with its own Python call (timed by the bench),
and this module wraps that code with a small adapter so that the firmware harness of
:mod:`mcuport.firmware` runs it like a generated header: ``peer_predict(float x[])`` returning
the class index (or +1/-1 for an outlier detector), or ``peer_transform(float x[], float y[])``
for PCA. The adapter does only what a user of the tool has to write to get scikit-learn's
answer: convert the inputs to the tool's type, call it, and turn its outputs into a class
(argmax, or libsvm's one-vs-one vote for m2cgen's SVC decision values). Its cost is counted
with the peer's.

Peers are used where their documentation says they support the model (SUPPORTS below); a peer
that should support a model but fails is recorded with its error, never skipped.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import re
from typing import Callable, Tuple

from mcuport.firmware import ForeignCode

# What an Arduino sketch gets from Arduino.h, which the peers' code assumes (math.h for exp and
# pow, string.h for memcpy, stdint.h for uint8_t).
PRELUDE = """#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
"""

# Model kinds (bench/compare.py's `kind`) each peer documents as supported.
SUPPORTS = {
    # emlearn.convert: trees and forests, GaussianNB, EllipticEnvelope (emlearn/convert.py).
    "emlearn": {"tree", "forest", "gaussian_nb", "elliptic_envelope"},
    # emlearn's node tables (convert(method='loadable')): trees and forests, int16 features.
    "emlearn-table": {"tree", "forest"},
    # micromlgen.platforms.ALLOWED_CLASSIFIERS: SVC, trees, forests, GaussianNB, PCA, ...
    "micromlgen": {"tree", "forest", "svc", "gaussian_nb", "pca"},
    # m2cgen's supported models: linear models, SVMs, trees, forests, boosting.
    "m2cgen": {"tree", "forest", "svc"},
    # sklearn-porter 0.7.4, language C: SVC, DecisionTree, RandomForest, ExtraTrees.
    "sklearn-porter": {"tree", "forest", "svc"},
}

PEERS = ("emlearn", "emlearn-table", "micromlgen", "m2cgen", "sklearn-porter")

# Targets a peer is not run on, and why (recorded in the results as the row's failure).
NOT_RUN = {
    "emlearn-table": {
        "avr-atmega328p": "not run: its node tables are plain const data, which avr-gcc keeps "
                          "in the 2 KB of RAM (the 10-tree forests overflow it or leave the "
                          "stack too little: simavr ran 400 s without an answer)",
    },
}

# The import name of each peer, and the pip distribution where it is not the peer's name.
_MODULES = {"emlearn": "emlearn", "emlearn-table": "emlearn", "micromlgen": "micromlgen",
            "m2cgen": "m2cgen", "sklearn-porter": "sklearn_porter"}
_DISTRIBUTIONS = {"emlearn-table": "emlearn"}

# emlearn's tables take int16 features and truncate the float thresholds to integers, so its
# documentation has users scale their features to the int16 range. The adapter does that for
# the user: a copy of the model whose thresholds are multiplied by a per-feature scale (trees
# split the same way on scaled features), and the same scale on the inputs, saturated to int16.
TABLE_RANGE = 16384.0  # the largest |threshold| becomes this; inputs beyond saturate


def table_scales(estimator) -> list:
    """Per feature: TABLE_RANGE over the largest |threshold| on it (1 where none is used)."""
    trees = [estimator] if hasattr(estimator, "tree_") else list(estimator.estimators_)
    n = int(estimator.n_features_in_)
    largest = [0.0] * n
    for tree in trees:
        for feature, threshold in zip(tree.tree_.feature, tree.tree_.threshold):
            if feature >= 0:
                largest[feature] = max(largest[feature], abs(float(threshold)))
    return [TABLE_RANGE / m if m > 0 else 1.0 for m in largest]


def _scaled_copy(estimator):
    scaled = copy.deepcopy(estimator)
    scales = table_scales(estimator)
    for tree in [scaled] if hasattr(scaled, "tree_") else scaled.estimators_:
        threshold = tree.tree_.threshold  # a writable view of the tree's nodes
        for i, feature in enumerate(tree.tree_.feature):
            if feature >= 0:
                threshold[i] *= scales[feature]
    return scaled


def version(peer: str) -> str:
    try:
        return importlib.metadata.version(_DISTRIBUTIONS.get(peer, peer))
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def short_error(error: BaseException, limit: int = 160) -> str:
    """The first meaningful line of an error, for a table cell."""
    text = f"{type(error).__name__}: {error}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:  # a compiler's first error line says most
        if re.search(r"(error|Error):", line) and not line.startswith(("CompileError", "arm-")):
            text = line
            break
    else:
        text = lines[0] if lines else type(error).__name__
    text = re.sub(r"/tmp/\S+/", "", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _import(peer: str):
    return importlib.import_module(_MODULES[peer])


def port_call(peer: str, estimator, kind: str) -> Callable[[], str]:
    """The peer's own Python call producing the code (the bench times it). Raises as the tool
    raises, import errors included."""
    module = _import(peer)
    if peer == "emlearn":
        if kind in ("tree", "forest"):
            # Float inputs: dtype='float' (the default int16_t truncates float thresholds).
            return lambda: module.convert(estimator, dtype="float").save(name="eml_model")
        if kind == "elliptic_envelope":
            # The default method (None) raises "Unsupported classifier method 'None'"; 'inline'
            # is the only one this emlearn has for it.
            return lambda: module.convert(estimator, method="inline").save(name="eml_model")
        return lambda: module.convert(estimator).save(name="eml_model")
    if peer == "emlearn-table":
        scaled = _scaled_copy(estimator)  # outside the timed call: the user's scaling
        return lambda: module.convert(scaled, method="loadable").save(name="eml_model")
    if peer == "micromlgen":
        return lambda: module.port(estimator)
    if peer == "m2cgen":
        return lambda: module.export_to_c(estimator)
    if peer == "sklearn-porter":
        return lambda: module.Porter(estimator, language="c").export()
    raise ValueError(peer)


def adapt(peer: str, code: str, estimator, kind: str, n_features: int,
          n_outputs: int = 0) -> ForeignCode:
    """The peer's code with the adapter the harness calls (n_outputs: PCA's components)."""
    n = n_features
    if kind == "pca":
        signature = ("void", "peer_transform(float x[], float y[])")
    else:
        signature = ("int32_t", "peer_predict(float x[])")
    if peer == "emlearn":
        if kind == "elliptic_envelope":
            # eml_elliptic_envelope_predict returns 1 for an outlier: scikit-learn's -1.
            body = ("float distance;\n    return eml_elliptic_envelope_predict("
                    f"&eml_model_classifier, x, {n}, &distance) ? -1 : 1;")
        else:
            body = f"return eml_model_predict(x, {n});"
        return _foreign(code, signature, body, n, n_outputs, kind, language="c",
                        include_dirs=(_import("emlearn").includedir,))
    if peer == "emlearn-table":
        scales = ", ".join(f"{v!r}f" for v in table_scales(estimator))
        body = (f"static const float scale[{n}] = {{{scales}}};\n    int16_t features[{n}];\n"
                f"    int32_t i;\n    for (i = 0; i < {n}; ++i) {{\n"
                "        const float v = x[i] * scale[i];\n"
                "        features[i] = (int16_t)(v > 32767.0f ? 32767.0f : "
                "v < -32768.0f ? -32768.0f : v);\n    }\n"
                f"    return eml_model_predict(features, {n});")
        return _foreign(code, signature, body, n, n_outputs, kind, language="c",
                        include_dirs=(_import("emlearn").includedir,))
    if peer == "micromlgen":
        classname = re.search(r"\bclass (\w+)", code).group(1)
        if kind == "pca":
            body = f"Eloquent::ML::Port::{classname} pca;\n    pca.transform(x, y);"
        else:
            body = f"Eloquent::ML::Port::{classname} clf;\n    return clf.predict(x);"
        return _foreign(code, signature, body, n, n_outputs, kind, language="c++")
    if peer == "m2cgen":
        body = _m2cgen_body(code, estimator, kind, n)
        return _foreign(code, signature, body, n, n_outputs, kind, language="c")
    raise ValueError(f"no adapter for {peer}")


def _m2cgen_body(code: str, estimator, kind: str, n: int) -> str:
    """m2cgen's score() takes doubles and returns class scores: probabilities of trees and
    forests, a binary SVC's decision value, or a multi-class SVC's one-vs-one decision values
    (scikit-learn's ovo decision_function)."""
    lines = [f"double input[{n}];", "int32_t i;", f"for (i = 0; i < {n}; ++i) "
             "input[i] = (double)x[i];"]
    if re.search(r"^double score\(double \* input\)", code, re.M):
        # Binary SVC: scikit-learn's decision value, positive for classes_[1].
        return "\n    ".join(lines + ["return score(input) > 0.0 ? 1 : 0;"])
    n_classes = len(estimator.classes_)
    if kind == "svc":
        n_out = n_classes * (n_classes - 1) // 2
        lines += [f"double output[{n_out}];", f"int32_t votes[{n_classes}] = {{0}};",
                  "int32_t a, b, k = 0, best = 0;", "score(input, output);",
                  f"for (a = 0; a < {n_classes}; ++a) for (b = a + 1; b < {n_classes}; ++b) "
                  "votes[output[k++] > 0.0 ? a : b] += 1;",
                  f"for (a = 1; a < {n_classes}; ++a) if (votes[a] > votes[best]) best = a;",
                  "return best;"]
    else:
        lines += [f"double output[{n_classes}];", "int32_t best = 0;", "score(input, output);",
                  f"for (i = 1; i < {n_classes}; ++i) if (output[i] > output[best]) best = i;",
                  "return best;"]
    return "\n    ".join(lines)


def _foreign(code: str, signature: Tuple[str, str], body: str, n: int, n_outputs: int,
             kind: str, *,
             language: str, include_dirs: Tuple[str, ...] = ()) -> ForeignCode:
    returns, declaration = signature
    header = (f"/* adapter prelude */\n{PRELUDE}\n/* the peer's code */\n{code}\n\n"
              f"/* adapter */\nstatic inline {returns} {declaration} {{\n    {body}\n}}\n")
    if kind == "pca":
        return ForeignCode(header=header, name="peer", n_features=n, predict_type="",
                           scores_function="peer_transform", n_scores=n_outputs,
                           score_type="float",
                           language=language, include_dirs=include_dirs)
    return ForeignCode(header=header, name="peer", n_features=n, language=language,
                       include_dirs=include_dirs)


def compile_unit(foreign: ForeignCode) -> Tuple[str, str]:
    """(file name, calling code) for the compile-time measurement: one external function calling
    the adapter, so that the compiler must generate the code it includes."""
    if foreign.predict_type:
        call = "int32_t bench_call(float x[]) { return peer_predict(x); }\n"
    else:
        call = "void bench_call(float x[], float y[]) { peer_transform(x, y); }\n"
    suffix = "cpp" if foreign.language == "c++" else "c"
    return f"unit.{suffix}", call

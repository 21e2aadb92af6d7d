"""Writes tests/hostile/: hostile model documents, one file each, and expected.json, the error
each must produce (its JSON pointer and a part of its message, both written here by hand).

Every document but the malformed texts is one of the small valid documents below (BASES) with
exactly one thing changed, so that it fails for the reason its name says and for no other. The
files are committed; tests/python/test_hostile.py checks that this script still writes them
byte for byte, and that every base document is valid. Rerun after changing a case:

    python3 tests/hostile/make_corpus.py

The corpus is read by three tests: tests/cpp/test_hostile.cpp (the C++ loader),
tests/python/test_hostile.py (mcuport.port, mcuport.load and the mcuport command line).
"""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any, Callable, List, NamedTuple, Optional, Union

HERE = pathlib.Path(__file__).resolve().parent

HEADER = {"format": "mcuport-model", "format_version": 1}

# Node 0 splits feature 0 into leaf 2 and node 1; node 1 splits feature 1 into leaves 3 and 4.
TREE = {
    "children_left": [1, 3, -1, -1, -1],
    "children_right": [2, 4, -1, -1, -1],
    "feature": [0, 1, -2, -2, -2],
    "threshold": [0.5, 1.5, -2.0, -2.0, -2.0],
    "value": [None, None, [0.0, 4.0], [3.0, 0.0], [1.0, 1.0]],
}

BASES = {
    "tree": {
        **HEADER, "kind": "tree_ensemble", "estimator": "DecisionTreeClassifier",
        "task": "classification", "n_features": 2, "feature_names": ["speed", "load"],
        "classes": ["idle", "busy"], "input_ranges": [[0.0, 1.0], [0.0, 3.0]],
        "params": {"trees": [copy.deepcopy(TREE)], "leaf_proba": "normalize"},
    },
    "forest": {
        **HEADER, "kind": "tree_ensemble", "estimator": "RandomForestClassifier",
        "task": "classification", "n_features": 2, "classes": [0, 1],
        "params": {"trees": [copy.deepcopy(TREE), copy.deepcopy(TREE)]},
    },
    "regressor": {
        **HEADER, "kind": "tree_ensemble", "estimator": "DecisionTreeRegressor",
        "task": "regression", "n_features": 2,
        "params": {"trees": [{
            "children_left": [1, -1, -1], "children_right": [2, -1, -1], "feature": [1, -2, -2],
            "threshold": [0.25, -2.0, -2.0], "value": [None, 1.5, [-2.5]],
        }]},
    },
    "svc": {
        **HEADER, "kind": "svm", "estimator": "SVC", "task": "classification", "n_features": 2,
        "classes": [0, 1],
        "params": {
            "kernel": "rbf", "gamma": 0.5, "coef0": 0.0, "degree": 3,
            "support_vectors": [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]], "n_support": [2, 1],
            "dual_coef": [[1.0, 0.5, -1.5]], "intercept": [0.1],
        },
    },
    "one_class_svm": {
        **HEADER, "kind": "svm", "estimator": "OneClassSVM", "task": "outlier_detection",
        "n_features": 2,
        "params": {
            "kernel": "rbf", "gamma": 0.5, "coef0": 0.0, "degree": 3,
            "support_vectors": [[0.0, 0.0], [1.0, 1.0]], "n_support": [2],
            "dual_coef": [[0.5, 0.5]], "intercept": [-0.3],
        },
    },
    "linear": {
        **HEADER, "kind": "linear", "estimator": "LinearSVC", "task": "classification",
        "n_features": 2, "classes": ["a", "b", "c"],
        "params": {"coef": [[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]], "intercept": [0.0, 0.1, -0.1]},
    },
    "naive_bayes": {
        **HEADER, "kind": "gaussian_nb", "estimator": "GaussianNB", "task": "classification",
        "n_features": 2, "classes": [1, 2],
        "params": {
            "theta": [[0.0, 1.0], [2.0, 3.0]], "var": [[1.0, 0.5], [2.0, 0.25]],
            "class_prior": [0.4, 0.6],
        },
    },
    "pca": {
        **HEADER, "kind": "pca", "estimator": "PCA", "task": "transform", "n_features": 3,
        "params": {
            "mean": [0.0, 1.0, 2.0], "components": [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]],
            "explained_variance": [2.0, 0.5], "whiten": False,
        },
    },
    "elliptic_envelope": {
        **HEADER, "kind": "mahalanobis", "estimator": "EllipticEnvelope",
        "task": "outlier_detection", "n_features": 2,
        "params": {"location": [0.0, 1.0], "precision": [[2.0, 0.5], [0.5, 1.0]], "threshold": 9.0},
    },
    "covariance": {
        **HEADER, "kind": "mahalanobis", "estimator": "EmpiricalCovariance", "task": "distance",
        "n_features": 2,
        "params": {"location": [0.0, 1.0], "precision": [[2.0, 0.5], [0.5, 1.0]]},
    },
    # Three inputs -> MinMaxScaler -> StandardScaler -> PCA to 2 -> GaussianNB.
    "pipeline": {
        **HEADER, "kind": "gaussian_nb", "estimator": "GaussianNB", "task": "classification",
        "n_features": 3, "classes": ["ok", "fault"],
        "preprocessing": [
            {"kind": "minmax_scaler", "scale": [0.5, 0.25, 1.0], "min": [0.0, 0.5, -1.0]},
            {"kind": "standard_scaler", "mean": [0.5, 0.5, 0.5], "scale": [0.3, 0.3, 0.3]},
            {"kind": "pca", "mean": [0.0, 0.0, 0.0],
             "components": [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], "explained_variance": [2.0, 0.5],
             "whiten": True},
        ],
        "params": {
            "theta": [[0.0, 0.5], [1.0, -0.5]], "var": [[1.0, 1.0], [0.5, 2.0]],
            "class_prior": [0.7, 0.3],
        },
    },
}

# Marks a value to be written as raw text after dumping (NaN, 1e999: no Python float prints so).
RAW = "@@raw:"


def raw(text: str) -> str:
    return RAW + text + "@@"


def _pointer_parts(pointer: str) -> List[Union[str, int]]:
    parts: List[Union[str, int]] = []
    for token in pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        parts.append(int(token) if token.lstrip("-").isdigit() else token)
    return parts


def set_at(document: dict, pointer: str, value: Any) -> dict:
    *parents, last = _pointer_parts(pointer)
    node: Any = document
    for part in parents:
        node = node[part]
    if isinstance(node, list) and last == len(node):
        node.append(value)  # one element past the end: added
    else:
        node[last] = value
    return document


def drop(document: dict, pointer: str) -> dict:
    *parents, last = _pointer_parts(pointer)
    node: Any = document
    for part in parents:
        node = node[part]
    del node[last]
    return document


def dumps(value: Any, indent: int = 0) -> str:
    """JSON with objects one key a line and arrays of numbers (or of such arrays) on one line."""
    pad = "  " * indent

    def flat(v: Any) -> bool:
        return not isinstance(v, (dict, list)) or (
            isinstance(v, list) and all(not isinstance(e, (dict, list)) or
                                        (isinstance(e, list) and flat(e)) for e in v))

    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and not flat(value):
        items = [pad + "  " + dumps(v, indent + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))


def render(document: Any) -> bytes:
    text = dumps(document) + "\n"
    while RAW in text:
        start = text.index('"' + RAW)
        end = text.index('@@"', start + 1 + len(RAW))
        text = text[:start] + text[start + 1 + len(RAW):end] + text[end + 3:]
    return text.encode("utf-8")


class Case(NamedTuple):
    name: str        # the file is <name>.json
    category: str    # the category, for the counts in docs/model-format.md
    make: Callable[[], Union[dict, bytes]]
    path: str        # the JSON pointer the error names ("" for the text as a whole)
    message: str     # a distinctive part of the message


def base(name: str) -> dict:
    return copy.deepcopy(BASES[name])


def change(name: str, pointer: str, value: Any) -> Callable[[], dict]:
    return lambda: set_at(base(name), pointer, value)


def remove(name: str, pointer: str) -> Callable[[], dict]:
    return lambda: drop(base(name), pointer)


def text(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def edit(name: str, fn: Callable[[dict], Any]) -> Callable[[], dict]:
    def make() -> dict:
        document = base(name)
        fn(document)
        return document
    return make


TREE0 = "/params/trees/0"
GOOD_TREE_TEXT = render(BASES["tree"])

CASES: List[Case] = [
    # --- Malformed JSON: the text itself ---------------------------------------------------
    Case("malformed_empty_file", "malformed", text(b""), "",
         "malformed model JSON: [json.exception.parse_error.101] parse error at line 1, column 1"),
    Case("malformed_truncated_inside_a_tree", "malformed",
         text(GOOD_TREE_TEXT[:GOOD_TREE_TEXT.index(b"[1, 3")] + b"[1, 3, "),
         TREE0 + "/children_left/2", "unexpected end of input"),
    Case("malformed_truncated_after_a_key", "malformed",
         text(GOOD_TREE_TEXT[:GOOD_TREE_TEXT.index(b'"classes"') + len(b'"classes":')]),
         "/classes", "unexpected end of input"),
    Case("malformed_trailing_garbage", "malformed", text(GOOD_TREE_TEXT + b"garbage\n"), "",
         "expected end of input"),
    Case("malformed_two_documents", "malformed", text(GOOD_TREE_TEXT + GOOD_TREE_TEXT), "",
         "expected end of input"),
    Case("malformed_trailing_comma", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"busy"]', b'"busy",]')), "/classes/2",
         "syntax error while parsing value"),
    Case("malformed_single_quoted_string", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"idle"', b"'idle'")), "/classes/0", "invalid literal"),
    Case("malformed_comment", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"n_features"', b'// two inputs\n  "n_features"')), "/",
         "syntax error while parsing object key"),
    Case("malformed_invalid_utf8_in_a_label", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"busy"', b'"bus\xff"')), "/classes/1",
         "ill-formed UTF-8 byte; last read: '\"bus\\xff'"),
    Case("malformed_invalid_utf8_in_a_key", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"task"', b'"t\xc3\x28sk"')), "/",
         "ill-formed UTF-8 byte"),
    Case("malformed_utf16_text", "malformed", text(b'\xff\xfe{\x00}\x00'), "",
         "parse error at line 1, column 1"),
    Case("malformed_control_character_in_a_string", "malformed",
         text(GOOD_TREE_TEXT.replace(b'"speed"', b'"spe\x01ed"')), "/feature_names/0",
         "control character U+0001 (SOH) must be escaped"),
    Case("malformed_nesting_100000_brackets", "malformed", text(b"[" * 100000), "",
         "malformed model JSON: nesting deeper than 64 levels at byte 64"),
    Case("malformed_nesting_65_levels_in_a_leaf", "malformed",
         change("tree", TREE0 + "/value/2", raw("[" * 63 + "0" + "]" * 63)), "",
         "nesting deeper than 64 levels"),
    # --- NaN and infinities (JSON has neither) ----------------------------------------------
    Case("nan_literal_threshold", "nan_infinite",
         change("tree", TREE0 + "/threshold/0", raw("NaN")),
         TREE0 + "/threshold/0", "JSON has no NaN or Infinity"),
    Case("infinity_literal_variance", "nan_infinite",
         change("naive_bayes", "/params/var/1/0", raw("Infinity")), "/params/var/1/0",
         "JSON has no NaN or Infinity"),
    Case("negative_infinity_literal_input_range", "nan_infinite",
         change("tree", "/input_ranges/1/0", raw("-Infinity")), "/input_ranges/1/0",
         "JSON has no NaN or Infinity"),
    Case("number_1e999_support_vector", "nan_infinite",
         change("svc", "/params/support_vectors/2/1", raw("1e999")), "/params/support_vectors/2/1",
         "number 1e999 is beyond the range of a double"),
    Case("number_minus_1e999_precision", "nan_infinite",
         change("elliptic_envelope", "/params/precision/0/0", raw("-1e999")),
         "/params/precision/0/0", "number -1e999 is beyond the range of a double"),
    Case("nan_as_a_string_pca_mean", "nan_infinite", change("pca", "/params/mean/1", "NaN"),
         "/params/mean/1", 'expected a number, got a string "NaN"'),
    Case("threshold_beyond_float32", "nan_infinite",
         change("tree", TREE0 + "/threshold/1", 1e39), TREE0 + "/threshold/1",
         "threshold 1e+39 is outside the float32 range"),
    Case("nan_literal_linear_coef", "nan_infinite",
         change("linear", "/params/coef/2/1", raw("NaN")), "/params/coef/2/1",
         "JSON has no NaN or Infinity"),
    Case("infinity_literal_in_a_stage_mean", "nan_infinite",
         change("pipeline", "/preprocessing/1/mean/0", raw("Infinity")),
         "/preprocessing/1/mean/0", "JSON has no NaN or Infinity"),
    Case("regression_leaf_beyond_float32", "nan_infinite",
         change("regressor", TREE0 + "/value/1", -1e300), TREE0 + "/value/1",
         "leaf value -1e+300 is outside the float32 range"),
    # --- Wrong types -----------------------------------------------------------------------
    Case("type_document_is_an_array", "wrong_type", lambda: [base("tree")], "/",
         "expected an object, got an array of 1 element"),
    Case("type_format_version_a_string", "wrong_type", change("tree", "/format_version", "1"),
         "/format_version", 'unsupported format version "1"'),
    Case("type_n_features_a_string", "wrong_type", change("svc", "/n_features", "2"),
         "/n_features", 'expected an integer, got a string "2"'),
    Case("type_n_features_a_float", "wrong_type", change("linear", "/n_features", 2.0),
         "/n_features", "expected an integer, got a number 2.0"),
    Case("type_classes_an_object", "wrong_type", change("naive_bayes", "/classes", {"1": 1}),
         "/classes", "expected an array, got an object"),
    Case("type_label_a_boolean", "wrong_type", change("tree", "/classes/1", True), "/classes/1",
         "a class label must be a string or a number, got a boolean"),
    Case("type_label_null", "wrong_type", change("linear", "/classes/2", None), "/classes/2",
         "a class label must be a string or a number, got null"),
    Case("type_child_index_a_float", "wrong_type",
         change("tree", TREE0 + "/children_left/0", 1.0), TREE0 + "/children_left/0",
         "expected an integer, got a number 1.0"),
    Case("type_threshold_a_string", "wrong_type", change("tree", TREE0 + "/threshold/0", "0.5"),
         TREE0 + "/threshold/0", 'expected a number, got a string "0.5"'),
    Case("type_gamma_null", "wrong_type", change("svc", "/params/gamma", None), "/params/gamma",
         "expected a number, got null"),
    Case("type_kernel_a_number", "wrong_type", change("svc", "/params/kernel", 2),
         "/params/kernel", "expected a string, got an integer 2"),
    Case("type_degree_a_fraction", "wrong_type", change("svc", "/params/degree", 2.5),
         "/params/degree", "expected an integer, got a number 2.5"),
    Case("type_whiten_a_string", "wrong_type", change("pca", "/params/whiten", "yes"),
         "/params/whiten", 'expected true or false, got "yes"'),
    Case("type_variance_row_a_number", "wrong_type", change("naive_bayes", "/params/var/0", 1.0),
         "/params/var/0", "expected an array, got 1.0"),
    Case("type_precision_flat", "wrong_type",
         change("covariance", "/params/precision", [2.0, 0.5, 0.5, 1.0]), "/params/precision",
         "expected an array of 2 elements, got 4"),
    Case("type_preprocessing_an_object", "wrong_type",
         edit("pipeline", lambda d: d.update(preprocessing=d["preprocessing"][0])),
         "/preprocessing", "expected an array, got an object"),
    Case("type_params_an_array", "wrong_type", change("linear", "/params", [1, 2]), "/params",
         "expected an object, got an array of 2 elements"),
    Case("type_stage_a_string", "wrong_type", change("pipeline", "/preprocessing/1", "scaler"),
         "/preprocessing/1", 'expected an object, got "scaler"'),
    # --- Missing and unknown keys ----------------------------------------------------------
    Case("missing_format", "missing_unknown_key", remove("tree", "/format"), "/",
         'missing required key "format"'),
    Case("missing_params", "missing_unknown_key", remove("one_class_svm", "/params"), "/",
         'missing required key "params"'),
    Case("missing_classes_of_a_classifier", "missing_unknown_key", remove("svc", "/classes"), "/",
         'missing required key "classes" (a classifier needs its labels)'),
    Case("missing_tree_value", "missing_unknown_key", remove("forest", "/params/trees/1/value"),
         "/params/trees/1", 'missing required key "value"'),
    Case("missing_dual_coef", "missing_unknown_key", remove("svc", "/params/dual_coef"), "/params",
         'missing required key "dual_coef"'),
    Case("missing_class_prior", "missing_unknown_key",
         remove("naive_bayes", "/params/class_prior"), "/params",
         'missing required key "class_prior"'),
    Case("missing_threshold_of_a_detector", "missing_unknown_key",
         remove("elliptic_envelope", "/params/threshold"), "/params",
         'missing required key "threshold" (an outlier detector decides d2 <= threshold)'),
    Case("missing_minmax_min", "missing_unknown_key", remove("pipeline", "/preprocessing/0/min"),
         "/preprocessing/0", 'missing required key "min"'),
    Case("missing_pca_components", "missing_unknown_key", remove("pca", "/params/components"),
         "/params", 'missing required key "components"'),
    Case("missing_linear_intercept", "missing_unknown_key", remove("linear", "/params/intercept"),
         "/params", 'missing required key "intercept"'),
    Case("unknown_key_in_linear_params", "missing_unknown_key",
         change("linear", "/params/penalty", "l2"), "/params/penalty",
         'unknown key "penalty" (allowed here: coef, intercept)'),
    Case("classes_on_a_pca", "missing_unknown_key", change("pca", "/classes", [0, 1]), "/classes",
         "a transform has no classes; remove this key"),
    Case("classes_on_a_distance_model", "missing_unknown_key",
         change("covariance", "/classes", ["a"]), "/classes",
         "a distance model has no classes; remove this key"),
    Case("unknown_top_level_key", "missing_unknown_key", change("tree", "/comment", "hello"),
         "/comment", 'unknown key "comment" (allowed here: format, format_version'),
    Case("unknown_key_in_a_tree", "missing_unknown_key",
         change("tree", TREE0 + "/impurity", [0.5, 0.2, 0.0, 0.0, 0.5]), TREE0 + "/impurity",
         'unknown key "impurity" (allowed here: children_left, children_right'),
    Case("unknown_key_in_svm_params", "missing_unknown_key",
         change("svc", "/params/probability", True), "/params/probability",
         'unknown key "probability"'),
    Case("unknown_key_in_a_stage", "missing_unknown_key",
         change("pipeline", "/preprocessing/1/with_mean", True), "/preprocessing/1/with_mean",
         'unknown key "with_mean" (allowed here: kind, mean, scale)'),
    Case("unknown_key_with_slash_and_tilde", "missing_unknown_key",
         change("naive_bayes", "/params/a~1b~0c", 1), "/params/a~1b~0c",
         'unknown key "a/b~c"'),
    Case("classes_on_a_regressor", "missing_unknown_key", change("regressor", "/classes", [0, 1]),
         "/classes", "a regressor has no classes; remove this key"),
    Case("threshold_on_a_distance_model", "missing_unknown_key",
         change("covariance", "/params/threshold", 9.0), "/params/threshold",
         'a distance model (task "distance") has no threshold'),
    Case("unknown_kind", "missing_unknown_key", change("tree", "/kind", "neural_net"), "/kind",
         'unknown model kind "neural_net" (known: tree_ensemble, svm'),
    Case("unknown_stage_kind", "missing_unknown_key",
         change("pipeline", "/preprocessing/1/kind", "robust_scaler"), "/preprocessing/1/kind",
         'unknown preprocessing stage "robust_scaler"'),
    Case("estimator_not_of_the_task", "missing_unknown_key",
         change("svc", "/estimator", "SVR"), "/estimator",
         'estimator "SVR" is not a classification model of kind "svm"'),
    Case("kernel_precomputed", "missing_unknown_key",
         change("svc", "/params/kernel", "precomputed"),
         "/params/kernel", "precomputed and callable kernels cannot be ported"),
    # --- Format version and name -----------------------------------------------------------
    Case("format_version_2", "format_version", change("tree", "/format_version", 2),
         "/format_version", "unsupported format version 2 (this mcuport reads version 1)"),
    Case("format_version_0", "format_version", change("pca", "/format_version", 0),
         "/format_version", "unsupported format version 0"),
    Case("format_version_1_point_0", "format_version", change("svc", "/format_version", 1.0),
         "/format_version", "unsupported format version 1.0"),
    Case("format_version_beyond_int64", "format_version",
         change("linear", "/format_version", 2**64 + 1), "/format_version",
         "unsupported format version 1.8446744073709552e+19"),
    Case("format_name_unknown", "format_version", change("tree", "/format", "onnx"), "/format",
         'expected "mcuport-model", got "onnx"'),
    # --- Sizes that disagree ---------------------------------------------------------------
    Case("format_version_2_pipeline", "format_version", change("pipeline", "/format_version", 2),
         "/format_version", "unsupported format version 2"),
    Case("format_version_negative_naive_bayes", "format_version",
         change("naive_bayes", "/format_version", -1), "/format_version",
         "unsupported format version -1"),
    Case("format_version_missing_mahalanobis", "format_version",
         remove("elliptic_envelope", "/format_version"), "/",
         'missing required key "format_version"'),
    Case("size_feature_names_too_short", "inconsistent_size",
         change("tree", "/feature_names", ["speed"]),
         "/feature_names", "expected an array of 2 elements, got 1"),
    Case("size_input_ranges_too_long", "inconsistent_size",
         change("tree", "/input_ranges", [[0, 1], [0, 1], [0, 1]]), "/input_ranges",
         "expected an array of 2 elements, got 3"),
    Case("size_tree_feature_shorter_than_children", "inconsistent_size",
         change("tree", TREE0 + "/feature", [0, 1, -2, -2]), TREE0 + "/feature",
         "expected an array of 5 elements, got 4"),
    Case("size_leaf_with_three_weights_for_two_classes", "inconsistent_size",
         change("forest", "/params/trees/1/value/3", [1.0, 1.0, 1.0]), "/params/trees/1/value/3",
         "expected an array of 2 elements, got 3"),
    Case("size_support_vector_of_three_features", "inconsistent_size",
         change("svc", "/params/support_vectors/1", [1.0, 1.0, 1.0]), "/params/support_vectors/1",
         "expected an array of 2 elements, got 3"),
    Case("size_n_support_disagrees_with_support_vectors", "inconsistent_size",
         change("svc", "/params/n_support", [2, 2]), "/params/support_vectors",
         "expected an array of 4 elements, got 3"),
    Case("size_n_support_one_per_class", "inconsistent_size",
         change("svc", "/params/n_support", [3]), "/params/n_support",
         "expected an array of 2 elements, got 1"),
    Case("size_dual_coef_row", "inconsistent_size",
         change("one_class_svm", "/params/dual_coef", [[0.5, 0.5, 0.5]]), "/params/dual_coef/0",
         "expected an array of 2 elements, got 3"),
    Case("size_linear_coef_two_rows_for_three_classes", "inconsistent_size",
         change("linear", "/params/coef", [[1.0, -1.0], [0.5, 0.5]]), "/params/coef",
         "expected an array of 3 elements, got 2"),
    Case("size_naive_bayes_theta_row", "inconsistent_size",
         change("naive_bayes", "/params/theta/1", [2.0]), "/params/theta/1",
         "expected an array of 2 elements, got 1"),
    Case("size_pca_components_and_variances", "inconsistent_size",
         change("pca", "/params/explained_variance", [2.0]), "/params/components",
         "expected one component per explained variance (1), got 2"),
    Case("size_pca_more_components_than_inputs", "inconsistent_size",
         change("pca", "/params/explained_variance", [2.0, 1.0, 0.5, 0.25]),
         "/params/explained_variance", "expected an array of 1 to 3 elements, got 4"),
    Case("size_location_of_three", "inconsistent_size",
         change("elliptic_envelope", "/params/location", [0.0, 1.0, 2.0]), "/params/location",
         "expected an array of 2 elements, got 3"),
    Case("size_precision_not_square", "inconsistent_size",
         change("covariance", "/params/precision", [[2.0, 0.5], [0.5, 1.0], [0.0, 0.0]]),
         "/params/precision", "expected an array of 2 elements, got 3"),
    Case("size_scaler_of_two_on_three_inputs", "inconsistent_size",
         change("pipeline", "/preprocessing/1/scale", [0.3, 0.3]), "/preprocessing/1/scale",
         "expected an array of 3 elements, got 2"),
    Case("size_estimator_wider_than_pca_output", "inconsistent_size",
         change("pipeline", "/params/theta", [[0.0, 0.5, 1.0], [1.0, -0.5, 1.0]]),
         "/params/theta/0", "expected an array of 2 elements, got 3"),
    # --- Feature indices -------------------------------------------------------------------
    Case("size_linear_intercept", "inconsistent_size",
         change("linear", "/params/intercept", [0.0, 0.1]), "/params/intercept",
         "expected an array of 3 elements, got 2"),
    Case("feature_index_equal_to_n_features", "feature_index",
         change("tree", TREE0 + "/feature/1", 2), TREE0 + "/feature/1",
         "expected an integer in [-2, 1], got 2"),
    Case("feature_index_2_pow_31", "feature_index",
         change("forest", "/params/trees/1/feature/0", 2**31), "/params/trees/1/feature/0",
         "expected an integer in [-2, 1], got 2147483648"),
    Case("feature_index_undefined_on_a_split", "feature_index",
         change("regressor", TREE0 + "/feature/0", -2), TREE0 + "/feature/0",
         "split node 0 has feature index -2, out of range [0, 2)"),
    # --- Tree structure --------------------------------------------------------------------
    Case("feature_index_beyond_the_pca_stage_output", "feature_index",
         edit("tree", lambda d: (d.update(n_features=3, preprocessing=[
             {"kind": "pca", "mean": [0.0, 0.0, 0.0], "components": [[0.6, 0.8, 0.0]],
              "explained_variance": [2.0], "whiten": False}]), d.pop("feature_names"),
             d.pop("input_ranges"))),
         TREE0 + "/feature/1", "expected an integer in [-2, 0], got 1"),
    Case("child_index_outside_the_tree", "tree_structure",
         change("tree", TREE0 + "/children_right/1", 5), TREE0 + "/children_right/1",
         "expected an integer in [-1, 4], got 5"),
    Case("child_index_below_minus_one", "tree_structure",
         change("tree", TREE0 + "/children_left/0", -2), TREE0 + "/children_left/0",
         "expected an integer in [-1, 4], got -2"),
    Case("child_index_beyond_int64", "tree_structure",
         change("regressor", TREE0 + "/children_left/0", 2**64), TREE0 + "/children_left/0",
         "expected an integer in [-1, 2], got 1.8446744073709552e+19"),
    Case("node_shared_by_two_parents", "tree_structure",
         change("tree", TREE0 + "/children_right/1", 2), TREE0 + "/children_right/1",
         "child index 2 is already the child of another node: nodes cannot be shared"),
    Case("both_children_the_same_node", "tree_structure",
         change("tree", TREE0 + "/children_right/1", 3), TREE0 + "/children_right/1",
         "child index 3 is already the child of another node"),
    Case("cycle_back_to_the_root", "tree_structure",
         change("tree", TREE0 + "/children_left/1", 0), TREE0 + "/children_left/1",
         "child index 0 of node 1 must be greater than the node's own index"),
    Case("self_loop", "tree_structure", change("forest", "/params/trees/1/children_right/1", 1),
         "/params/trees/1/children_right/1",
         "child index 1 of node 1 must be greater than the node's own index"),
    Case("one_child_only", "tree_structure", change("tree", TREE0 + "/children_right/1", -1),
         TREE0 + "/children_right/1", "node 1 has one child only"),
    Case("unreachable_node", "tree_structure",
         edit("regressor", lambda d: d["params"]["trees"][0].update(
             children_left=[2, -1, -1, -1], children_right=[3, -1, -1, -1], feature=[1, -2, -2, -2],
             threshold=[0.25, -2.0, -2.0, -2.0], value=[None, 1.0, 1.5, -2.5])),
         TREE0 + "/children_left", "node 1 is not the child of any node"),
    Case("decision_tree_with_two_trees", "tree_structure",
         change("tree", "/params/trees/1", copy.deepcopy(TREE)), "/params/trees",
         "a DecisionTreeClassifier has exactly one tree, got 2"),
    Case("tree_without_nodes", "tree_structure",
         change("regressor", TREE0, {k: [] for k in TREE}), TREE0 + "/children_left",
         "expected an array of 1 to 16777216 elements, got 0"),
    # --- Limits ----------------------------------------------------------------------------
    Case("limit_n_features_65536", "limit", change("naive_bayes", "/n_features", 65536),
         "/n_features", "expected an integer in [1, 65535], got 65536"),
    Case("limit_classes_1025", "limit", change("linear", "/classes", list(range(1025))),
         "/classes", "expected an array of 1 to 1024 elements, got 1025"),
    Case("limit_trees_10001", "limit", change("forest", "/params/trees", [0] * 10001),
         "/params/trees", "expected an array of 1 to 10000 elements, got 10001"),
    Case("limit_label_of_257_bytes", "limit", change("tree", "/classes/0", "x" * 257),
         "/classes/0", "string of 257 bytes is longer than the limit of 256"),
    Case("limit_feature_name_of_129_two_byte_characters", "limit",
         change("tree", "/feature_names/1", "\u00e9" * 129), "/feature_names/1",
         "string of 258 bytes is longer than the limit of 256"),
    Case("limit_nine_stages", "limit",
         edit("pipeline", lambda d: d.update(preprocessing=[
             {"kind": "maxabs_scaler", "scale": [1.0, 1.0, 1.0]}] * 9)),
         "/preprocessing", "expected an array of 0 to 8 elements, got 9"),
    Case("limit_poly_degree_17", "limit",
         edit("svc", lambda d: d["params"].update(kernel="poly", degree=17)), "/params/degree",
         "expected an integer in [0, 16], got 17"),
    # --- Sizes that claim billions of entries, huge and negative sizes -----------------------
    Case("limit_producer_of_257_bytes", "limit", change("pca", "/producer", "p" * 257), "/producer",
         "string of 257 bytes is longer than the limit of 256"),
    Case("limit_n_features_65536_mahalanobis", "limit",
         change("elliptic_envelope", "/n_features", 65536), "/n_features",
         "expected an integer in [1, 65535], got 65536"),
    Case("billions_n_features_3000000000", "billions", change("pca", "/n_features", 3000000000),
         "/n_features", "expected an integer in [1, 65535], got 3000000000"),
    Case("billions_n_support_3000000000", "billions",
         change("svc", "/params/n_support", [3000000000, 1]), "/params/n_support/0",
         "expected an integer in [0, 1048576], got 3000000000"),
    Case("billions_n_support_adds_up_beyond_the_limit", "billions",
         change("svc", "/params/n_support", [1048576, 1048576]), "/params/n_support",
         "the model must have 1 to 1048576 support vectors, these counts add up to 2097152"),
    Case("billions_support_vectors_times_features", "billions",
         edit("one_class_svm", lambda d: (d.update(n_features=65),
                                          d["params"].update(n_support=[1048576]))),
         "/params/support_vectors",
         "1048576 support vectors of 65 features exceed the limit of 67108864 numbers"),
    Case("billions_linear_kernel_pairs", "billions",
         edit("svc", lambda d: (d.update(n_features=129, classes=list(range(1024))),
                                d["params"].update(kernel="linear",
                                                   n_support=[1] + [0] * 1023))),
         "/params/kernel", "523776 pairs x 129 features = 67567104 numbers"),
    Case("billions_precision_8193_squared", "billions",
         change("covariance", "/n_features", 8193), "/params",
         "the model has more than 67108864 parameters"),
    Case("billions_pipeline_n_features_4294967297", "billions",
         change("pipeline", "/n_features", 4294967297), "/n_features",
         "expected an integer in [1, 65535], got 4294967297"),
    Case("huge_n_features_1e30", "billions", change("linear", "/n_features", 1e30),
         "/n_features", "expected an integer in [1, 65535], got 1e+30"),
    Case("negative_n_features", "billions", change("tree", "/n_features", -1), "/n_features",
         "expected an integer in [1, 65535], got -1"),
    Case("zero_n_features", "billions", change("pca", "/n_features", 0), "/n_features",
         "expected an integer in [1, 65535], got 0"),
    Case("negative_n_support", "billions", change("svc", "/params/n_support", [-1, 4]),
         "/params/n_support/0", "expected an integer in [0, 1048576], got -1"),
    Case("negative_degree", "billions", change("svc", "/params/degree", -3), "/params/degree",
         "expected an integer in [0, 2147483647], got -3"),
    # --- Zero and negative variances, scales, priors ----------------------------------------
    Case("variance_zero", "variance", change("naive_bayes", "/params/var/1/1", 0.0),
         "/params/var/1/1", "a variance must be > 0, got 0.0"),
    Case("variance_negative", "variance", change("pipeline", "/params/var/0/0", -1.0),
         "/params/var/0/0", "a variance must be > 0, got -1.0"),
    Case("explained_variance_zero", "variance",
         change("pca", "/params/explained_variance/1", 0.0), "/params/explained_variance/1",
         "an explained variance must be > 0, got 0.0"),
    Case("explained_variance_negative_in_a_stage", "variance",
         change("pipeline", "/preprocessing/2/explained_variance/0", -2.0),
         "/preprocessing/2/explained_variance/0", "an explained variance must be > 0, got -2.0"),
    Case("scale_zero", "variance", change("pipeline", "/preprocessing/1/scale/2", 0.0),
         "/preprocessing/1/scale/2", "a scale must be > 0, got 0.0"),
    Case("scale_negative", "variance", change("pipeline", "/preprocessing/0/scale/0", -0.5),
         "/preprocessing/0/scale/0", "a scale must be > 0, got -0.5"),
    Case("class_prior_zero", "variance", change("naive_bayes", "/params/class_prior/0", 0.0),
         "/params/class_prior/0", "a class prior must be > 0"),
    Case("gamma_negative", "variance", change("svc", "/params/gamma", -0.5), "/params/gamma",
         "gamma must be >= 0, got -0.5"),
    Case("class_weight_negative", "variance",
         change("forest", "/params/trees/0/value/4", [1.0, -1.0]), "/params/trees/0/value/4/1",
         "class weight must be >= 0, got -1.0"),
    Case("detector_threshold_negative", "variance",
         change("elliptic_envelope", "/params/threshold", -1.0), "/params/threshold",
         "the threshold on the squared distance must be >= 0, got -1.0"),
    Case("input_range_reversed", "variance", change("tree", "/input_ranges/0", [1.0, 0.0]),
         "/input_ranges/0", "input range must satisfy lo <= hi, got [1.0,0.0]"),
    Case("minmax_clip_reversed", "variance",
         change("pipeline", "/preprocessing/0/clip", [1.0, 0.0]), "/preprocessing/0/clip",
         "clip must be [low, high] with low < high, got [1.0,0.0]"),
    # --- Precision matrices that are not positive definite ----------------------------------
    Case("precision_singular", "not_positive_definite",
         change("elliptic_envelope", "/params/precision", [[1.0, 1.0], [1.0, 1.0]]),
         "/params/precision", "the precision matrix is not positive definite"),
    Case("precision_negative_definite", "not_positive_definite",
         change("covariance", "/params/precision", [[-2.0, 0.0], [0.0, -1.0]]),
         "/params/precision", "the precision matrix is not positive definite"),
    Case("precision_indefinite", "not_positive_definite",
         change("covariance", "/params/precision", [[1.0, 2.0], [2.0, 1.0]]),
         "/params/precision", "the precision matrix is not positive definite"),
    Case("precision_nearly_singular", "not_positive_definite",
         change("elliptic_envelope", "/params/precision", [[1.0, 1.0], [1.0, 1.0000000000001]]),
         "/params/precision", "singular or nearly so"),
    Case("precision_zero", "not_positive_definite",
         change("covariance", "/params/precision", [[0.0, 0.0], [0.0, 0.0]]),
         "/params/precision", "the precision matrix is not positive definite"),
    Case("precision_asymmetric", "not_positive_definite",
         change("covariance", "/params/precision/0/1", 0.6), "/params/precision/0/1",
         "the precision matrix must be symmetric: entry [0][1] is 0.6 but [1][0] is 0.5"),
    # --- Empty class lists and too few classes ----------------------------------------------
    Case("classes_empty", "empty_classes", change("tree", "/classes", []), "/classes",
         "expected an array of 1 to 1024 elements, got 0"),
    Case("classes_empty_naive_bayes", "empty_classes", change("naive_bayes", "/classes", []),
         "/classes", "expected an array of 1 to 1024 elements, got 0"),
    Case("svc_with_one_class", "empty_classes", change("svc", "/classes", [0]), "/params",
         "an SVM classifier needs at least 2 classes, got 1"),
    Case("linear_with_one_class", "empty_classes", change("linear", "/classes", ["a"]), "/params",
         "a linear classifier needs at least 2 classes"),
    Case("svm_without_support_vectors", "empty_classes",
         change("svc", "/params/n_support", [0, 0]), "/params/n_support",
         "these counts add up to 0"),
    Case("trees_empty", "empty_classes", change("forest", "/params/trees", []), "/params/trees",
         "expected an array of 1 to 10000 elements, got 0"),
    # --- Duplicate labels ------------------------------------------------------------------
    Case("classes_empty_pipeline", "empty_classes", change("pipeline", "/classes", []), "/classes",
         "expected an array of 1 to 1024 elements, got 0"),
    Case("pca_without_components", "empty_classes",
         edit("pca", lambda d: d["params"].update(components=[], explained_variance=[])),
         "/params/explained_variance", "expected an array of 1 to 3 elements, got 0"),
    Case("location_empty", "empty_classes", change("covariance", "/params/location", []),
         "/params/location", "expected an array of 2 elements, got 0"),
    Case("duplicate_string_labels", "duplicate_labels", change("linear", "/classes/2", "a"),
         "/classes/2", 'duplicate class label "a"'),
    Case("duplicate_labels_1_and_1_0", "duplicate_labels",
         change("naive_bayes", "/classes", [1, 1.0]),
         "/classes/1", "duplicate class label 1.0"),
    Case("duplicate_labels_0_and_minus_0", "duplicate_labels",
         change("forest", "/classes", [0, -0.0]),
         "/classes/1", "duplicate class label -0.0"),
    Case("duplicate_labels_1e0", "duplicate_labels", change("svc", "/classes", [1, raw("1e0")]),
         "/classes/1", "duplicate class label 1.0"),
    Case("duplicate_labels_beyond_int64", "duplicate_labels",
         change("tree", "/classes", [2**63, 2**63]), "/classes/1",
         "duplicate class label 9223372036854775808"),
    Case("duplicate_labels_pipeline", "duplicate_labels",
         change("pipeline", "/classes", ["fault", "fault"]), "/classes/1",
         'duplicate class label "fault"'),
]


def build(case: Case) -> bytes:
    made = case.make()
    return made if isinstance(made, bytes) else render(made)


def expected() -> dict:
    return {case.name: {"category": case.category, "path": case.path, "message": case.message}
            for case in CASES}


def main() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for old in HERE.glob("*.json"):
        if old.name != "expected.json":
            old.unlink()
    for case in CASES:
        (HERE / f"{case.name}.json").write_bytes(build(case))
    (HERE / "expected.json").write_text(json.dumps(expected(), indent=1, ensure_ascii=True) + "\n")
    print(f"{len(CASES)} documents in {HERE}")


if __name__ == "__main__":
    main()

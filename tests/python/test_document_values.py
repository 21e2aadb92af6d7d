"""An estimator reaches the core as Python values (``_core.port_document``), not as JSON text:
mcuport.generate skips writing and parsing the text, which was about half the port of a large
forest. These tests hold that path to the text one: the same header for every supported
estimator and every checked-in document, and the text's errors (a number that is not finite, a
value JSON has no type for, too deep a nesting) still refused, with the JSON path named.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.covariance import (
    OAS,
    EllipticEnvelope,
    EmpiricalCovariance,
    LedoitWolf,
    MinCovDet,
    ShrunkCovariance,
)
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport import _core
from mcuport.exporters import EXPORTERS

from conftest import SEED, split, thin_mahalanobis

ROOT = Path(__file__).resolve().parents[2]

# (estimator, data set, fitted without labels): one or more per exporter.
ESTIMATORS = {
    "DecisionTreeClassifier": (DecisionTreeClassifier(random_state=SEED), "wine", False),
    "DecisionTreeRegressor": (DecisionTreeRegressor(max_depth=6, random_state=SEED), "diabetes",
                              False),
    "RandomForestClassifier": (RandomForestClassifier(n_estimators=5, random_state=SEED),
                               "iris", False),
    "RandomForestRegressor": (RandomForestRegressor(n_estimators=3, max_depth=5,
                                                    random_state=SEED), "diabetes", False),
    "ExtraTreesClassifier": (ExtraTreesClassifier(n_estimators=3, random_state=SEED),
                             "breast_cancer", False),
    "ExtraTreesRegressor": (ExtraTreesRegressor(n_estimators=3, max_depth=4, random_state=SEED),
                            "diabetes", False),
    "SVC": (SVC(kernel="rbf"), "iris", False),
    "NuSVC": (NuSVC(kernel="poly", degree=2), "wine", False),
    "OneClassSVM": (OneClassSVM(kernel="rbf", nu=0.1), "iris", True),
    "LinearSVC": (LinearSVC(dual=True, max_iter=20000, random_state=SEED), "iris", False),
    "GaussianNB": (GaussianNB(), "digits", False),
    "PCA": (PCA(n_components=3, whiten=True, random_state=SEED), "wine", True),
    "EllipticEnvelope": (EllipticEnvelope(random_state=SEED), "iris", True),
    "EmpiricalCovariance": (EmpiricalCovariance(), "iris", True),
    "MinCovDet": (MinCovDet(random_state=SEED), "iris", True),
    "ShrunkCovariance": (ShrunkCovariance(), "wine", True),
    "LedoitWolf": (LedoitWolf(), "wine", True),
    "OAS": (OAS(), "wine", True),
    "Pipeline": (make_pipeline(StandardScaler(), PCA(n_components=4, random_state=SEED),
                               GaussianNB()), "wine", False),
    "Pipeline(MinMaxScaler, DecisionTreeClassifier)": (
        make_pipeline(MinMaxScaler(), DecisionTreeClassifier(max_depth=5, random_state=SEED)),
        "breast_cancer", False),
}


def fitted(kind):
    if kind == "Mahalanobis":
        return thin_mahalanobis(), split("breast_cancer")[0]
    estimator, dataset, unlabelled = ESTIMATORS[kind]
    X_train, _, y_train, _ = split(dataset)
    return (estimator.fit(X_train) if unlabelled else estimator.fit(X_train, y_train)), X_train


def test_every_exporter_is_covered():
    names = {kind.split("(")[0] for kind in ESTIMATORS} | {"Mahalanobis"}
    assert names == {cls.__name__ for cls in EXPORTERS}


@pytest.mark.parametrize("kind", [*ESTIMATORS, "Mahalanobis"])
def test_an_estimator_ports_as_its_document_text_does(kind):
    """Float mode, and fixed mode with calibration (the ranges are part of the document)."""
    estimator, X_train = fitted(kind)
    float_text = mcuport.to_json(estimator)
    assert mcuport.port(estimator, numeric="float") == mcuport.port(float_text, numeric="float")
    fixed_text = mcuport.to_json(estimator, calibration=X_train)
    generated = mcuport.generate(estimator, numeric="fixed", calibration=X_train,
                                 target="cortex-m4f")
    assert generated.header == mcuport.port(fixed_text, numeric="fixed", target="cortex-m4f")


CHECKED_IN = sorted(path for pattern in ("tests/golden/*.json", "tests/fuzz/corpus/*.json",
                                         "tests/fuzz/regressions/*.json", "tests/hostile/*.json")
                    for path in ROOT.glob(pattern) if path.name != "expected.json")


class TextOnly(Exception):
    """A document whose text says what no Python value can: read differently by json.loads."""


def faithful_values(data: bytes):
    """The document as json.loads reads it, where that is what the core's parser reads: not for
    text that is not UTF-8, nor NaN or Infinity literals, numbers beyond a double, duplicate
    keys (json.loads keeps the last, the core refuses them) or a text json.loads refuses."""
    def no_constant(name):
        raise TextOnly(name)

    def pairs(items):
        keys = [key for key, _ in items]
        if len(set(keys)) != len(keys):
            raise TextOnly("duplicate key")
        return dict(items)

    def number(text):
        value = float(text)
        if not math.isfinite(value):
            raise TextOnly(text)
        return value

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constant,
                          object_pairs_hook=pairs, parse_float=number)
    except (TextOnly, UnicodeDecodeError, ValueError, RecursionError):
        return TextOnly


DOCUMENTS = [path for path in CHECKED_IN if faithful_values(path.read_bytes()) is not TextOnly]
TEXT_ONLY = [path for path in CHECKED_IN if path not in DOCUMENTS]


def test_only_documents_the_core_refuses_as_text_are_left_out():
    """The documents no Python value can say are hostile text, refused by the core's parser."""
    assert len(DOCUMENTS) > 150 and TEXT_ONLY
    for path in TEXT_ONLY:
        assert path.parent.name == "hostile", path
        with pytest.raises(mcuport.ModelError):
            _core.port_model(path.read_bytes(), "m", "float", "host")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_checked_in_document_ports_alike_as_values(path):
    """json.loads reads the text as the core's parser does (the same doubles, the same
    integers): the values port to the same header, or fail with the same error and path. The
    hostile corpus (tests/hostile) and the fuzzer's regressions are most of the errors."""
    data = path.read_bytes()
    values = faithful_values(data)
    text = data.decode("utf-8")
    for numeric in ("float", "fixed"):
        options = ("m", numeric, "host")
        try:
            expected = _core.port_model(text, *options)["header"]
        except mcuport.ModelError as error:
            with pytest.raises(mcuport.ModelError) as caught:
                _core.port_document(values, *options)
            nesting = "nesting deeper than 64 levels"
            if nesting in str(error):  # the text's says at which byte, the values' at which path
                assert nesting in str(caught.value)
            else:
                assert str(caught.value) == str(error)
            continue
        assert _core.port_document(values, *options)["header"] == expected


@pytest.fixture(scope="module")
def tree_text():
    X_train, _, y_train, _ = split("iris")
    tree = DecisionTreeClassifier(max_depth=3, random_state=SEED).fit(X_train, y_train)
    return mcuport.to_json(tree)


@pytest.fixture
def tree_document(tree_text):
    return json.loads(tree_text)  # a test's own copy to change


def port_values(document):
    return _core.port_document(document, "m", "float", "host")["header"]


def test_numpy_arrays_port_as_the_lists_they_hold(tree_document):
    expected = port_values(tree_document)
    trees = tree_document["params"]["trees"]
    for dtype in (np.int64, np.int32, np.int16):
        trees[0]["children_left"] = np.array(trees[0]["children_left"], dtype=dtype)
        trees[0]["feature"] = np.array(trees[0]["feature"], dtype=dtype)
        assert port_values(tree_document) == expected
    # an array that is a strided view, not contiguous
    trees[0]["children_right"] = np.repeat(np.array(trees[0]["children_right"]), 2)[::2]
    assert not trees[0]["children_right"].flags.c_contiguous
    trees[0]["threshold"] = np.asarray(trees[0]["threshold"], dtype=np.float64)
    assert port_values(tree_document) == expected
    # a 2-D array is an array of arrays
    tree_document["input_ranges"] = np.array([[0.0, 10.0]] * 4)
    with_ranges = port_values(tree_document)
    tree_document["input_ranges"] = [[0.0, 10.0]] * 4
    assert port_values(tree_document) == with_ranges
    # 0-d arrays are scalars, of any integer dtype
    tree_document["n_features"] = np.array(4, dtype=np.uint8)
    assert port_values(tree_document) == with_ranges


@pytest.mark.parametrize("bad, where", [
    (float("nan"), "/params/trees/0/threshold/2"),
    (math.inf, "/params/trees/0/threshold/2"),
    (np.array([1.0, np.nan]), "/params/trees/0/threshold/2/1"),
    (np.float64(-np.inf), "/params/trees/0/threshold/2"),
])
def test_a_number_that_is_not_finite_is_refused_with_its_path(tree_document, bad, where):
    tree_document["params"]["trees"][0]["threshold"][2] = bad
    with pytest.raises(mcuport.ModelError, match=rf"^\({where}\) a number is not finite"):
        port_values(tree_document)


@pytest.mark.parametrize("bad, message", [
    (np.int64(3), "Object of type int64 is not JSON serializable at /params/trees/0/feature/0"),
    (object(), "Object of type object is not JSON serializable at /params/trees/0/feature/0"),
    (np.array(["a"]), "a numpy array of dtype <U1 has no JSON value at /params/trees/0/feature/0"),
    ({1: 2}, "a key of type int (keys must be strings) at /params/trees/0/feature/0"),
])
def test_a_value_json_has_no_type_for_is_a_type_error_with_its_path(tree_document, bad, message):
    """Stricter than json.dumps, which writes a key 1 as "1" and lists any numpy array: the
    exporters build none of these, so a TypeError here is mcuport's bug, not the user's."""
    tree_document["params"]["trees"][0]["feature"][0] = bad
    with pytest.raises(TypeError) as caught:
        port_values(tree_document)
    assert str(caught.value) == message


def nested_lists(levels):
    value = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize("inner", ["lists", "numpy"])
def test_the_values_path_keeps_the_texts_nesting_limit(tree_document, inner):
    """64 levels (the document's object and 63 under "producer") are read, 65 are not, as the
    text's parser counts them; numpy dimensions count as levels."""
    def at(levels):  # "producer" holding `levels` nested arrays
        if inner == "lists":
            return nested_lists(levels)
        value = np.zeros((1,) * 30)  # numpy 1.x allows 32 dimensions
        for _ in range(levels - 30):
            value = [value]
        return value

    for levels, refused in ((63, False), (64, True)):
        tree_document["producer"] = at(levels)
        with pytest.raises(mcuport.ModelError) as values:
            port_values(tree_document)
        with pytest.raises(mcuport.ModelError) as parsed:
            _core.port_model(json.dumps(tree_document, default=lambda a: a.tolist()), "m",
                             "float", "host")
        nesting = "nesting deeper than 64 levels"
        assert (nesting in str(values.value)) == refused, str(values.value)
        assert (nesting in str(parsed.value)) == refused, str(parsed.value)
        if not refused:  # a string was expected: both say so of the same place
            assert str(values.value) == str(parsed.value)


def test_a_0_d_array_is_a_number_at_any_depth(tree_document):
    """A 0-d numpy array is a scalar, not a level: in the 64th level's array it is read."""
    inner = [np.array(2.5)]
    for _ in range(62):
        inner = [inner]
    tree_document["producer"] = inner  # the document and 63 arrays: 64 levels
    with pytest.raises(mcuport.ModelError) as values:
        port_values(tree_document)
    assert "nesting" not in str(values.value) and str(values.value).startswith("(/producer) ")


def test_integers_beyond_64_bits_are_doubles_as_the_parser_reads_them(tree_document):
    tree_document["n_features"] = 2**70
    with pytest.raises(mcuport.ModelError) as values:
        port_values(tree_document)
    text = json.dumps(tree_document)
    with pytest.raises(mcuport.ModelError) as parsed:
        _core.port_model(text, "m", "float", "host")
    assert str(values.value) == str(parsed.value)
    assert str(values.value).startswith("(/n_features) ")


def test_an_error_of_the_document_names_the_same_path_either_way(tree_document):
    tree_document["params"]["trees"][0]["children_left"][0] = 10**6
    with pytest.raises(mcuport.ModelError) as values:
        port_values(tree_document)
    with pytest.raises(mcuport.ModelError) as parsed:
        _core.port_model(json.dumps(tree_document), "m", "float", "host")
    assert str(values.value) == str(parsed.value)
    assert str(values.value).startswith("(/params/trees/0/children_left/0) ")


def test_a_string_with_a_lone_surrogate_is_refused_with_its_path(tree_document):
    """Python strings can hold what UTF-8 cannot: refused as the text path refuses it."""
    tree_document["classes"][1] = "a\ud800b"
    with pytest.raises(mcuport.ModelError, match=r"^\(/classes/1\) a string is not valid Unicode"):
        port_values(tree_document)
    tree_document["classes"][1] = 1
    tree_document["params"]["a\udc00"] = 1
    with pytest.raises(mcuport.ModelError, match=r"^\(/params\) a key is not valid Unicode"):
        port_values(tree_document)

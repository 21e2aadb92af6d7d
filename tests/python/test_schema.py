"""schema/model-v1.schema.json against what the exporter writes and what the C++ loader accepts.

The C++ loader is the authority on what a valid model document is; the JSON Schema describes
format version 1 as far as JSON Schema can. These tests check that the two agree where it
matters: every document the exporter writes validates against the schema, and documents that
are invalid in ways the schema can express are rejected by both.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport import _core

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "model-v1.schema.json"
DOCS_PATH = ROOT / "docs" / "model-format.md"
LIMITS_PATH = ROOT / "core" / "include" / "mcuport" / "limits.hpp"
GOLDEN_PATH = ROOT / "tests" / "golden" / "tiny_tree_classifier.json"

CLASSIFIERS = [DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier]
REGRESSORS = [DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor]


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def make(cls):
    if cls in (DecisionTreeClassifier, DecisionTreeRegressor):
        return cls(random_state=0)
    return cls(n_estimators=3, random_state=0)


def fitted(cls, iris, diabetes, labels=None):
    X, y = iris if cls in CLASSIFIERS else diabetes
    if labels is not None:
        y = np.asarray(labels)[y]
    return make(cls).fit(X, y), X


def assert_schema_valid(validator, document: dict) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/' + '/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:10]
    )


# --- The schema itself -------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator


def test_schema_constants_match_the_core(schema):
    assert schema["properties"]["format"]["const"] == _core.FORMAT_NAME
    assert schema["properties"]["format_version"]["const"] == mcuport.FORMAT_VERSION == 1


def _property_schemas(node, in_conditional=False):
    """Yields (pointer, subschema) for every entry of a "properties" object outside allOf/if/then
    (those branches only narrow properties that are described where they are declared)."""
    if isinstance(node, dict):
        for key, value in node.items():
            conditional = in_conditional or key in ("allOf", "if", "then", "else")
            if key == "properties" and isinstance(value, dict) and not in_conditional:
                for name, sub in value.items():
                    yield name, sub
            yield from _property_schemas(value, conditional)
    elif isinstance(node, list):
        for item in node:
            yield from _property_schemas(item, in_conditional)


def test_every_property_has_a_description(schema):
    properties = list(_property_schemas(schema))
    assert len(properties) >= 16  # 11 top-level keys, trees, and the 5 arrays of a tree
    missing = [name for name, sub in properties if not sub.get("description")]
    assert not missing, f"properties without a description: {missing}"
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), f"$defs/{name} has no description"


def _limits() -> dict:
    limits = {}
    for name, expression in re.findall(
        r"constexpr\s+[\w:]+\s+(k\w+)\s*=\s*([^;]+);", LIMITS_PATH.read_text(encoding="utf-8")
    ):
        expression = re.sub(r"std::size_t\{(\d+)\}", r"\1", expression)
        expression = re.sub(r"(\d+)u\b", r"\1", expression)
        match = re.fullmatch(r"\s*(\d+)\s*(?:<<\s*(\d+)\s*)?", expression)
        assert match, f"limits.hpp: cannot read {name} = {expression}"
        limits[name] = int(match.group(1)) << int(match.group(2) or 0)
    return limits


def test_schema_limits_match_limits_hpp(schema):
    limits = _limits()
    top = schema["properties"]
    defs = schema["$defs"]
    tree = defs["tree"]["properties"]
    assert top["n_features"]["maximum"] == limits["kMaxFeatures"]
    assert top["feature_names"]["maxItems"] == limits["kMaxFeatures"]
    assert top["input_ranges"]["maxItems"] == limits["kMaxFeatures"]
    assert top["classes"]["maxItems"] == limits["kMaxClasses"]
    assert top["producer"]["maxLength"] == limits["kMaxStringBytes"]
    assert top["feature_names"]["items"]["maxLength"] == limits["kMaxStringBytes"]
    assert defs["label"]["anyOf"][0]["maxLength"] == limits["kMaxStringBytes"]
    assert defs["treeEnsembleParams"]["properties"]["trees"]["maxItems"] == limits["kMaxTrees"]
    for key in ("children_left", "children_right", "feature", "threshold", "value"):
        assert tree[key]["maxItems"] == limits["kMaxNodesPerTree"], key
    for key in ("children_left", "children_right"):
        assert tree[key]["items"]["maximum"] == limits["kMaxNodesPerTree"] - 1, key
    assert tree["feature"]["items"]["maximum"] == limits["kMaxFeatures"] - 1
    for name in ("nodeValue", "classifierNodeValue"):
        assert defs[name]["anyOf"][-1]["maxItems"] == limits["kMaxClasses"], name


def test_docs_repeat_the_limits_of_limits_hpp():
    docs = DOCS_PATH.read_text(encoding="utf-8")
    for name, value in _limits().items():
        row = next((line for line in docs.splitlines() if f"`{name}`" in line), None)
        assert row is not None, f"docs/model-format.md has no row for {name}"
        assert str(value) in row, f"docs/model-format.md gives {name} another value than {value}"


# --- Documents that must validate --------------------------------------------------------------


def test_golden_document_is_valid(validator):
    text = GOLDEN_PATH.read_text(encoding="utf-8")
    _core.validate(text)
    assert_schema_valid(validator, json.loads(text))


def test_documented_example_is_valid(validator):
    docs = DOCS_PATH.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", docs, flags=re.S)
    assert blocks, "docs/model-format.md has no ```json example"
    for block in blocks:
        _core.validate(block)
        assert_schema_valid(validator, json.loads(block))


@pytest.mark.parametrize("calibrated", [False, True], ids=["no-calibration", "calibration"])
@pytest.mark.parametrize("cls", CLASSIFIERS + REGRESSORS, ids=lambda c: c.__name__)
def test_exported_documents_validate(validator, iris, diabetes, cls, calibrated):
    estimator, X = fitted(cls, iris, diabetes)
    text = mcuport.to_json(estimator, calibration=X if calibrated else None)
    document = json.loads(text)
    assert document["estimator"] == cls.__name__
    assert ("input_ranges" in document) == calibrated
    assert_schema_valid(validator, document)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_exported_documents_with_string_labels_validate(validator, iris, diabetes, cls):
    estimator, _ = fitted(cls, iris, diabetes, labels=["setosa", "versicolor", "virginica"])
    document = json.loads(mcuport.to_json(estimator))
    assert document["classes"] == ["setosa", "versicolor", "virginica"]
    assert_schema_valid(validator, document)


def test_exported_documents_with_classmap_and_input_ranges_validate(validator, iris, diabetes):
    estimator, X = fitted(RandomForestClassifier, iris, diabetes)
    ranges = [(float(lo), float(hi)) for lo, hi in zip(X.min(axis=0), X.max(axis=0))]
    text = mcuport.to_json(
        estimator, classmap={0: "a", 1: 2, 2: 3.5}, input_ranges=ranges, indent=2
    )
    document = json.loads(text)
    assert document["classes"] == ["a", 2, 3.5]
    assert_schema_valid(validator, document)


@pytest.mark.parametrize("cls", [DecisionTreeClassifier, RandomForestRegressor],
                         ids=lambda c: c.__name__)
def test_exported_documents_with_feature_names_validate(validator, iris, diabetes, cls):
    import pandas as pd  # installed by scripts/setup
    X, y = iris if cls in CLASSIFIERS else diabetes
    names = [f"feature {i} (\"unit\")" for i in range(X.shape[1])]
    estimator = make(cls).fit(pd.DataFrame(X, columns=names), y)
    document = json.loads(mcuport.to_json(estimator, calibration=X))
    assert document["feature_names"] == names
    assert_schema_valid(validator, document)


# --- Documents that must be rejected by both ---------------------------------------------------


@pytest.fixture(scope="module")
def classifier_document(iris, diabetes) -> dict:
    estimator, X = fitted(RandomForestClassifier, iris, diabetes)
    return json.loads(mcuport.to_json(estimator, calibration=X))


@pytest.fixture(scope="module")
def regressor_document(iris, diabetes) -> dict:
    estimator, _ = fitted(DecisionTreeRegressor, iris, diabetes)
    return json.loads(mcuport.to_json(estimator))


def _set(key, value):
    def mutate(document):
        document[key] = value

    return mutate


def _delete(key):
    def mutate(document):
        del document[key]

    return mutate


def _first_tree(mutate_tree):
    def mutate(document):
        mutate_tree(document["params"]["trees"][0])

    return mutate


def _first_leaf_value(value):
    def mutate(document):
        tree = document["params"]["trees"][0]
        leaf = tree["children_left"].index(-1)
        tree["value"][leaf] = value

    return mutate


def _duplicate_tree(document):
    document["params"]["trees"].append(copy.deepcopy(document["params"]["trees"][0]))


# (base document, mutation, the JSON pointer the C++ loader names)
INVALID = {
    "unknown top-level key": ("classifier", _set("comment", "hello"), "/comment"),
    "unknown key in params": ("classifier", lambda d: d["params"].update(depth=3), "/params/depth"),
    "unknown key in a tree": (
        "classifier",
        _first_tree(lambda t: t.update(impurity=[0.0] * len(t["value"]))),
        "/params/trees/0/impurity",
    ),
    "classifier without classes": ("classifier", _delete("classes"), "/"),
    "regressor with classes": ("regressor", _set("classes", [0, 1]), "/classes"),
    "format_version 2": ("classifier", _set("format_version", 2), "/format_version"),
    "format_version 0": ("regressor", _set("format_version", 0), "/format_version"),
    "format_version as a string": ("classifier", _set("format_version", "1"), "/format_version"),
    "wrong format name": ("classifier", _set("format", "sklearn-model"), "/format"),
    "classifier estimator with task regression": (
        "regressor", _set("estimator", "DecisionTreeClassifier"), "/estimator"),
    "regressor estimator with task classification": (
        "classifier", _set("estimator", "RandomForestRegressor"), "/estimator"),
    "unknown estimator": ("classifier", _set("estimator", "GradientBoostingClassifier"),
                          "/estimator"),
    "unknown task": ("classifier", _set("task", "clustering"), "/task"),
    "unknown kind": ("classifier", _set("kind", "linear"), "/kind"),
    "missing params": ("regressor", _delete("params"), "/"),
    "n_features 0": ("classifier", _set("n_features", 0), "/n_features"),
    "n_features beyond the limit": ("classifier", _set("n_features", 65536), "/n_features"),
    "duplicate class labels": ("classifier", _set("classes", ["a", "b", "a"]), "/classes/2"),
    "boolean class label": ("classifier", _set("classes", [True, "b", "c"]), "/classes/0"),
    "class label longer than 256 bytes": ("classifier", _set("classes", ["x" * 257, "b", "c"]),
                                          "/classes/0"),
    "input range of three numbers": (
        "classifier", lambda d: d["input_ranges"][0].append(1.0), "/input_ranges/0"),
    "two trees for a DecisionTreeRegressor": ("regressor", _duplicate_tree, "/params/trees"),
    "no trees": ("regressor", lambda d: d["params"].update(trees=[]), "/params/trees"),
    "tree without threshold": ("classifier", _first_tree(lambda t: t.pop("threshold")),
                               "/params/trees/0"),
    "negative class weight": ("classifier", _first_leaf_value([1.0, -1.0, 0.0]), None),
    "classifier leaf value as a bare number": ("classifier", _first_leaf_value(1.0), None),
    "regressor leaf value of two numbers": ("regressor", _first_leaf_value([1.0, 2.0]), None),
    "threshold as a string": (
        "regressor", _first_tree(lambda t: t["threshold"].__setitem__(0, "0.5")),
        "/params/trees/0/threshold/0"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_documents_are_rejected_by_schema_and_loader(
    validator, classifier_document, regressor_document, case
):
    base, mutate, pointer = INVALID[case]
    document = copy.deepcopy(classifier_document if base == "classifier" else regressor_document)
    _core.validate(json.dumps(document))  # the unmodified document is valid
    mutate(document)

    assert not validator.is_valid(document), f"the schema accepts: {case}"
    with pytest.raises(mcuport.ModelError) as raised:
        _core.validate(json.dumps(document))
    if pointer is not None:
        assert str(raised.value).startswith(f"({pointer}) "), str(raised.value)
    else:
        assert str(raised.value).startswith("(/params/trees/0/value/"), str(raised.value)

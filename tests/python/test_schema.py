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
from sklearn.covariance import EllipticEnvelope, EmpiricalCovariance, MinCovDet
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport import _core
from mcuport.exporters import export_estimator

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


def _standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.fixture(scope="module")
def datasets(iris):
    """Classification data for the arithmetic models: standardized (the solvers converge without
    warnings), as iris with its three classes, iris reduced to its two overlapping classes, and
    wine (13 features)."""
    X, y = iris
    Xw, yw = load_wine(return_X_y=True)
    Xs = _standardized(X)
    return {
        "iris": (Xs, y),
        "iris-binary": (Xs[y > 0], y[y > 0]),
        "wine": (_standardized(Xw), yw),
    }


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

    svm = defs["svmParams"]["properties"]
    n_classes = limits["kMaxClasses"]
    assert svm["degree"]["minimum"] == 0
    assert svm["degree"]["maximum"] == limits["kMaxPolyDegree"]
    assert svm["support_vectors"]["maxItems"] == limits["kMaxSupportVectors"]
    assert svm["support_vectors"]["items"]["maxItems"] == limits["kMaxFeatures"]
    assert svm["n_support"]["maxItems"] == n_classes
    assert svm["n_support"]["items"]["maximum"] == limits["kMaxSupportVectors"]
    assert svm["dual_coef"]["maxItems"] == n_classes - 1
    assert svm["dual_coef"]["items"]["maxItems"] == limits["kMaxSupportVectors"]
    assert svm["intercept"]["maxItems"] == n_classes * (n_classes - 1) // 2
    linear = defs["linearParams"]["properties"]
    assert linear["coef"]["maxItems"] == linear["intercept"]["maxItems"] == n_classes
    assert linear["coef"]["items"]["maxItems"] == limits["kMaxFeatures"]
    nb = defs["gaussianNbParams"]["properties"]
    for key in ("theta", "var", "class_prior"):
        assert nb[key]["maxItems"] == n_classes, key
    for key in ("theta", "var"):
        assert nb[key]["items"]["maxItems"] == limits["kMaxFeatures"], key
    assert top["preprocessing"]["maxItems"] == limits["kMaxStages"]
    pca = defs["pcaParams"]["properties"]
    for key in ("mean", "components", "explained_variance"):
        assert pca[key]["maxItems"] == limits["kMaxFeatures"], key
    assert pca["components"]["items"]["maxItems"] == limits["kMaxFeatures"]
    for stage in ("standardScalerStage", "minmaxScalerStage", "maxabsScalerStage"):
        for key, value in defs[stage]["properties"].items():
            if key not in ("kind", "clip"):
                assert value["maxItems"] == limits["kMaxFeatures"], (stage, key)
    # A precision matrix is n x n <= kMaxParameters numbers: n <= 8192.
    mahalanobis = defs["mahalanobisParams"]["properties"]
    n_max = mahalanobis["location"]["maxItems"]
    assert n_max * n_max == limits["kMaxParameters"]
    assert mahalanobis["precision"]["maxItems"] == n_max
    assert mahalanobis["precision"]["items"]["maxItems"] == n_max
    # kMaxParameters bounds a product (support vectors x features), which JSON Schema cannot
    # express: the $comment of svmParams states it instead.
    assert "2^26" in defs["svmParams"]["$comment"]
    assert "2^20" in defs["svmParams"]["$comment"]


def test_schema_kinds_and_estimators_match_the_loader(schema, validator, iris):
    """The kind, task and estimator enums agree with the loader's registry of kinds: for every
    combination, the schema accepts the estimator name exactly when the loader does (the loader
    is asked with the params of a real model of that kind, so that only the names differ)."""
    top = schema["properties"]
    kinds = top["kind"]["enum"]
    tasks = top["task"]["enum"]
    estimators = top["estimator"]["enum"]
    assert kinds == ["tree_ensemble", "svm", "linear", "gaussian_nb", "pca", "mahalanobis"]
    assert tasks == ["classification", "regression", "outlier_detection", "transform", "distance"]
    X, y = iris
    real = {
        ("tree_ensemble", "classification"): DecisionTreeClassifier(random_state=0).fit(X, y),
        ("tree_ensemble", "regression"): DecisionTreeRegressor(random_state=0).fit(X, y),
        ("svm", "classification"): SVC().fit(X, y),
        ("svm", "outlier_detection"): OneClassSVM().fit(X),
        ("linear", "classification"): LinearSVC(random_state=0).fit(_standardized(X), y),
        ("gaussian_nb", "classification"): GaussianNB().fit(X, y),
        ("pca", "transform"): PCA(n_components=2).fit(X),
        ("mahalanobis", "outlier_detection"): EllipticEnvelope(random_state=0).fit(X),
        ("mahalanobis", "distance"): EmpiricalCovariance().fit(X),
    }
    accepted = set()
    for (kind, task), estimator in real.items():
        base = export_estimator(estimator)
        for name in estimators:
            document = dict(base, estimator=name)
            try:
                _core.validate(json.dumps(document))
                loader_accepts = True
            except mcuport.ModelError:
                loader_accepts = False
            assert validator.is_valid(document) == loader_accepts, (kind, task, name)
            if loader_accepts:
                accepted.add((kind, task, name))
    assert accepted == {
        ("tree_ensemble", "classification", "DecisionTreeClassifier"),
        ("tree_ensemble", "classification", "RandomForestClassifier"),
        ("tree_ensemble", "classification", "ExtraTreesClassifier"),
        ("tree_ensemble", "regression", "DecisionTreeRegressor"),
        ("tree_ensemble", "regression", "RandomForestRegressor"),
        ("tree_ensemble", "regression", "ExtraTreesRegressor"),
        ("svm", "classification", "SVC"),
        ("svm", "classification", "NuSVC"),
        ("svm", "outlier_detection", "OneClassSVM"),
        ("linear", "classification", "LinearSVC"),
        ("gaussian_nb", "classification", "GaussianNB"),
        ("pca", "transform", "PCA"),
        ("mahalanobis", "outlier_detection", "EllipticEnvelope"),
        ("mahalanobis", "outlier_detection", "Mahalanobis"),
        ("mahalanobis", "distance", "EmpiricalCovariance"),
        ("mahalanobis", "distance", "MinCovDet"),
        ("mahalanobis", "distance", "ShrunkCovariance"),
        ("mahalanobis", "distance", "LedoitWolf"),
        ("mahalanobis", "distance", "OAS"),
        ("mahalanobis", "distance", "Mahalanobis"),
    }


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


# The arithmetic models: id -> (dataset, estimator factory). Fixed seeds throughout.
KERNELS = ["linear", "poly", "rbf", "sigmoid"]
ARITHMETIC = {
    **{
        f"SVC-{kernel}-{data}": (
            data, lambda kernel=kernel: SVC(kernel=kernel, coef0=0.5, random_state=0))
        for kernel in KERNELS
        for data in ("iris-binary", "iris")
    },
    "SVC-rbf-wine-gamma-auto": ("wine", lambda: SVC(gamma="auto", C=10.0, random_state=0)),
    "NuSVC-rbf-wine": ("wine", lambda: NuSVC(nu=0.3, random_state=0)),
    "NuSVC-poly-iris-binary": ("iris-binary", lambda: NuSVC(kernel="poly", degree=2, random_state=0)),
    "OneClassSVM-rbf-iris": ("iris", lambda: OneClassSVM(nu=0.1)),
    "OneClassSVM-sigmoid-wine": ("wine", lambda: OneClassSVM(kernel="sigmoid", nu=0.2)),
    "LinearSVC-iris-binary": ("iris-binary", lambda: LinearSVC(random_state=0)),
    "LinearSVC-iris": ("iris", lambda: LinearSVC(random_state=0)),
    "LinearSVC-wine-no-intercept": ("wine", lambda: LinearSVC(fit_intercept=False, random_state=0)),
    "GaussianNB-iris": ("iris", lambda: GaussianNB()),
    "GaussianNB-wine": ("wine", lambda: GaussianNB()),
    "GaussianNB-iris-binary-priors": ("iris-binary", lambda: GaussianNB(priors=[0.3, 0.7])),
}
EXPECTED_KIND = {"SVC": "svm", "NuSVC": "svm", "OneClassSVM": "svm", "LinearSVC": "linear",
                 "GaussianNB": "gaussian_nb"}


def fitted_arithmetic(case, datasets):
    data, factory = ARITHMETIC[case]
    X, y = datasets[data]
    estimator = factory()
    if isinstance(estimator, OneClassSVM):
        return estimator.fit(X), X
    return estimator.fit(X, y), X


@pytest.mark.parametrize("calibrated", [False, True], ids=["no-calibration", "calibration"])
@pytest.mark.parametrize("case", list(ARITHMETIC), ids=list(ARITHMETIC))
def test_exported_arithmetic_documents_validate(validator, datasets, case, calibrated):
    estimator, X = fitted_arithmetic(case, datasets)
    text = mcuport.to_json(estimator, calibration=X if calibrated else None)
    _core.validate(text)
    document = json.loads(text)
    name = type(estimator).__name__
    assert document["estimator"] == name
    assert document["kind"] == EXPECTED_KIND[name]
    if name == "OneClassSVM":
        assert document["task"] == "outlier_detection"
        assert "classes" not in document
        assert document["params"]["n_support"] == [len(estimator.support_vectors_)]
    else:
        assert document["task"] == "classification"
        assert document["classes"] == estimator.classes_.tolist()
    if document["kind"] == "svm":
        assert document["params"]["kernel"] == estimator.kernel
        assert document["params"]["gamma"] == estimator._gamma
    assert ("input_ranges" in document) == calibrated
    assert_schema_valid(validator, document)


@pytest.mark.parametrize("cls", [SVC, LinearSVC, GaussianNB], ids=lambda c: c.__name__)
def test_exported_arithmetic_documents_with_string_labels_validate(validator, datasets, cls):
    X, y = datasets["wine"]
    labels = np.asarray(["barolo", "grignolino", "barbera"])[y]
    estimator = cls(random_state=0) if cls is not GaussianNB else cls()
    document = json.loads(mcuport.to_json(estimator.fit(X, labels)))
    assert document["classes"] == ["barbera", "barolo", "grignolino"]
    assert_schema_valid(validator, document)


# The model kinds of PCA, Mahalanobis distances and pipelines: id -> (data, factory). The
# documents come from export_estimator (the C++ loader's check is test_exporters_issue4's and the
# end-to-end tests' business); "wine-raw" is the unscaled wine data that pipelines scale.
def _wine_mahalanobis(threshold):
    X, _ = load_wine(return_X_y=True)
    return mcuport.Mahalanobis(X.mean(axis=0), covariance=np.cov(X, rowvar=False),
                               threshold=threshold)


NEW_KINDS = {
    "PCA-whiten": ("wine", lambda: PCA(n_components=5, whiten=True, random_state=0)),
    "PCA-no-whiten": ("wine", lambda: PCA(n_components=0.9)),
    "EllipticEnvelope": ("wine-raw", lambda: EllipticEnvelope(random_state=0)),
    "EmpiricalCovariance": ("wine-raw", lambda: EmpiricalCovariance()),
    "MinCovDet": ("wine-raw", lambda: MinCovDet(random_state=0)),
    "Mahalanobis-threshold": (None, lambda: _wine_mahalanobis(30.0)),
    "Mahalanobis-distance": (None, lambda: _wine_mahalanobis(None)),
    "StandardScaler+SVC": ("wine-raw", lambda: make_pipeline(StandardScaler(), SVC())),
    "MinMaxScaler-clip+DecisionTreeClassifier": (
        "wine-raw",
        lambda: make_pipeline(MinMaxScaler(clip=True), DecisionTreeClassifier(random_state=0))),
    "MaxAbsScaler+LinearSVC": (
        "wine-raw", lambda: make_pipeline(MaxAbsScaler(), LinearSVC(random_state=0))),
    "StandardScaler+PCA+EllipticEnvelope": (
        "wine-raw",
        lambda: make_pipeline(StandardScaler(), PCA(n_components=4),
                              EllipticEnvelope(random_state=0))),
    "StandardScaler-no-mean+GaussianNB": (
        "wine-raw", lambda: make_pipeline(StandardScaler(with_mean=False), GaussianNB())),
    "StandardScaler+PCA": (
        "wine-raw", lambda: make_pipeline(StandardScaler(), PCA(n_components=3, whiten=True))),
}
# id -> (kind, estimator, task, the kinds of the preprocessing stages or None for no key).
NEW_KINDS_EXPECTED = {
    "PCA-whiten": ("pca", "PCA", "transform", None),
    "PCA-no-whiten": ("pca", "PCA", "transform", None),
    "EllipticEnvelope": ("mahalanobis", "EllipticEnvelope", "outlier_detection", None),
    "EmpiricalCovariance": ("mahalanobis", "EmpiricalCovariance", "distance", None),
    "MinCovDet": ("mahalanobis", "MinCovDet", "distance", None),
    "Mahalanobis-threshold": ("mahalanobis", "Mahalanobis", "outlier_detection", None),
    "Mahalanobis-distance": ("mahalanobis", "Mahalanobis", "distance", None),
    "StandardScaler+SVC": ("svm", "SVC", "classification", ["standard_scaler"]),
    "MinMaxScaler-clip+DecisionTreeClassifier": (
        "tree_ensemble", "DecisionTreeClassifier", "classification", ["minmax_scaler"]),
    "MaxAbsScaler+LinearSVC": ("linear", "LinearSVC", "classification", ["maxabs_scaler"]),
    "StandardScaler+PCA+EllipticEnvelope": (
        "mahalanobis", "EllipticEnvelope", "outlier_detection", ["standard_scaler", "pca"]),
    "StandardScaler-no-mean+GaussianNB": (
        "gaussian_nb", "GaussianNB", "classification", ["standard_scaler"]),
    "StandardScaler+PCA": ("pca", "PCA", "transform", ["standard_scaler"]),
}


def fitted_new_kind(case, datasets):
    data, factory = NEW_KINDS[case]
    estimator = factory()
    if data is None:
        return estimator, None
    X, y = load_wine(return_X_y=True) if data == "wine-raw" else datasets[data]
    task = NEW_KINDS_EXPECTED[case][2]
    return (estimator.fit(X, y) if task == "classification" else estimator.fit(X)), X


@pytest.mark.parametrize("case", list(NEW_KINDS), ids=list(NEW_KINDS))
def test_exported_new_kind_documents_validate(validator, datasets, case):
    estimator, _ = fitted_new_kind(case, datasets)
    document = export_estimator(estimator)
    kind, name, task, stages = NEW_KINDS_EXPECTED[case]
    assert (document["kind"], document["estimator"], document["task"]) == (kind, name, task)
    assert ("classes" in document) == (task == "classification")
    assert document["n_features"] == 13  # the raw input, also behind a PCA stage
    if stages is None:
        assert "preprocessing" not in document
    else:
        assert [stage["kind"] for stage in document["preprocessing"]] == stages
    if kind == "mahalanobis":
        assert ("threshold" in document["params"]) == (task == "outlier_detection")
    json.dumps(document, allow_nan=False)  # what to_json writes
    assert_schema_valid(validator, document)


def test_exported_pipeline_with_feature_names_validates(validator):
    import pandas as pd  # installed by scripts/setup
    X, y = load_wine(return_X_y=True, as_frame=True)
    pipeline = make_pipeline(StandardScaler(), PCA(n_components=3), SVC())
    pipeline.set_output(transform="pandas")  # the SVC then sees names pca0, pca1, pca2
    document = export_estimator(pipeline.fit(X, y))
    assert isinstance(X, pd.DataFrame)
    assert document["feature_names"] == list(X.columns)
    assert_schema_valid(validator, document)


# The formulas the schema and docs/model-format.md give, in numpy, against scikit-learn: if these
# disagree, the documentation of the format is wrong.


def _kernel(params, X, V):
    gamma, coef0, degree = params["gamma"], params["coef0"], params["degree"]
    dot = X @ V.T
    if params["kernel"] == "linear":
        return dot
    if params["kernel"] == "poly":
        return (gamma * dot + coef0) ** degree
    if params["kernel"] == "rbf":
        return np.exp(-gamma * ((X[:, None, :] - V[None, :, :]) ** 2).sum(axis=-1))
    return np.tanh(gamma * dot + coef0)


def _svm_decisions(document, X):
    params = document["params"]
    K = _kernel(params, X, np.asarray(params["support_vectors"]))
    coef = np.asarray(params["dual_coef"])
    intercept = params["intercept"]
    if document["task"] == "outlier_detection":
        return K @ coef[0] + intercept[0]
    start = np.cumsum([0] + params["n_support"])
    n = len(params["n_support"])
    decisions = []
    for i in range(n):
        for j in range(i + 1, n):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            decisions.append(K[:, si] @ coef[j - 1, si] + K[:, sj] @ coef[i, sj]
                             + intercept[len(decisions)])
    return np.stack(decisions, axis=1)


def _documented_predict(document, X):
    """(predict as class index or +1/-1, decision values comparable with scikit-learn's)."""
    params = document["params"]
    if document["kind"] == "svm":
        dec = _svm_decisions(document, X)
        if document["task"] == "outlier_detection":
            return np.where(dec > 0, 1, -1), dec
        n = len(params["n_support"])
        votes = np.zeros((len(X), n), dtype=int)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        for p, (i, j) in enumerate(pairs):
            votes[np.arange(len(X)), np.where(dec[:, p] > 0, i, j)] += 1
        return votes.argmax(axis=1), (-dec[:, 0] if n == 2 else dec)
    if document["kind"] == "linear":
        scores = X @ np.asarray(params["coef"]).T + np.asarray(params["intercept"])
        if scores.shape[1] == 1:
            return (scores[:, 0] > 0).astype(int), scores[:, 0]
        return scores.argmax(axis=1), scores
    theta, var, prior = (np.asarray(params[k]) for k in ("theta", "var", "class_prior"))
    jll = (np.log(prior) - 0.5 * np.log(2 * np.pi * var).sum(axis=1)
           - 0.5 * (((X[:, None, :] - theta) ** 2) / var).sum(axis=-1))
    return jll.argmax(axis=1), jll


@pytest.mark.parametrize("case", list(ARITHMETIC), ids=list(ARITHMETIC))
def test_documented_semantics_reproduce_scikit_learn(datasets, case):
    estimator, X = fitted_arithmetic(case, datasets)
    document = json.loads(mcuport.to_json(estimator))
    predicted, values = _documented_predict(document, X)
    if isinstance(estimator, GaussianNB):
        reference = estimator.predict_joint_log_proba(X)
    elif isinstance(estimator, (SVC, NuSVC)):
        estimator.set_params(decision_function_shape="ovo")
        reference = estimator.decision_function(X)
    else:
        reference = estimator.decision_function(X)
    np.testing.assert_allclose(values, reference, rtol=1e-9, atol=1e-9)
    if isinstance(estimator, OneClassSVM):
        np.testing.assert_array_equal(predicted, estimator.predict(X))
    else:
        np.testing.assert_array_equal(estimator.classes_[predicted], estimator.predict(X))


# --- Documents that must be rejected by both ---------------------------------------------------


@pytest.fixture(scope="module")
def base_documents(iris, diabetes, datasets) -> dict:
    """Valid documents that the cases below break, by name."""
    documents = {}
    estimator, X = fitted(RandomForestClassifier, iris, diabetes)
    documents["classifier"] = json.loads(mcuport.to_json(estimator, calibration=X))
    estimator, _ = fitted(DecisionTreeRegressor, iris, diabetes)
    documents["regressor"] = json.loads(mcuport.to_json(estimator))
    for name, case in [
        ("svc", "SVC-rbf-iris"),
        ("svc_binary", "SVC-poly-iris-binary"),
        ("ocsvm", "OneClassSVM-rbf-iris"),
        ("linear", "LinearSVC-iris"),
        ("linear_binary", "LinearSVC-iris-binary"),
        ("gnb", "GaussianNB-iris"),
    ]:
        estimator, _ = fitted_arithmetic(case, datasets)
        documents[name] = json.loads(mcuport.to_json(estimator))
    for document in documents.values():
        _core.validate(json.dumps(document))  # the unmodified documents are valid
    return documents


def _set(key, value):
    def mutate(document):
        document[key] = value

    return mutate


def _delete(key):
    def mutate(document):
        del document[key]

    return mutate


def _params(mutate_params):
    def mutate(document):
        mutate_params(document["params"])

    return mutate


def _set_param(key, value):
    return _params(lambda params: params.__setitem__(key, value))


def _set_element(key, index, value):
    """params[key][index] = value, or params[key][i][j] = value for index = (i, j)."""

    def mutate(params):
        if isinstance(index, tuple):
            params[key][index[0]][index[1]] = value
        else:
            params[key][index] = value

    return _params(mutate)


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


def _duplicate_row(key):
    return _params(lambda params: params[key].append(copy.deepcopy(params[key][0])))


def _flatten(key):
    return _params(lambda params: params.__setitem__(
        key, [x for row in params[key] for x in row]))


# name -> (base document, mutation, the JSON pointer the C++ loader names[, a fragment of its
# message]); None: any pointer into the first tree's values.
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
    "unknown kind": ("classifier", _set("kind", "neural_network"), "/kind", "unknown model kind"),
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
    "tree estimator with kind svm": (
        "classifier", _set("kind", "svm"), "/estimator", "is not a classification model of kind"),
    # Kinds, tasks and estimators of the arithmetic models.
    "SVC with task regression": ("svc", _set("task", "regression"), "/estimator",
                                 "that kind has no regression models"),
    "SVC with kind linear": ("svc", _set("kind", "linear"), "/estimator"),
    "SVC with task outlier_detection": (
        "svc", _set("task", "outlier_detection"), "/estimator", "expected one of: OneClassSVM"),
    "OneClassSVM with task classification": (
        "ocsvm", _set("task", "classification"), "/estimator"),
    "OneClassSVM with classes": ("ocsvm", _set("classes", [-1, 1]), "/classes",
                                 "outlier detector has no classes"),
    "LinearSVC with kind svm": ("linear", _set("kind", "svm"), "/estimator"),
    "GaussianNB with kind tree_ensemble": ("gnb", _set("kind", "tree_ensemble"), "/estimator"),
    "GaussianNB with task outlier_detection": (
        "gnb", lambda d: (d.update(task="outlier_detection"), d.pop("classes")), "/estimator",
        "that kind has no outlier_detection models"),
    # svm params.
    "unknown kernel": ("svc", _set_param("kernel", "precomputed"), "/params/kernel",
                       "unknown kernel"),
    "unknown key in svm params": ("svc", _set_param("class_weight", None), "/params/class_weight"),
    "svm without dual_coef": ("svc", _params(lambda p: p.pop("dual_coef")), "/params",
                              'missing required key "dual_coef"'),
    "negative gamma": ("svc", _set_param("gamma", -0.5), "/params/gamma"),
    "gamma as a string": ("svc", _set_param("gamma", "scale"), "/params/gamma"),
    "degree beyond kMaxPolyDegree": ("svc_binary", _set_param("degree", 17), "/params/degree",
                                     "[0, 16]"),
    "negative degree": ("svc_binary", _set_param("degree", -1), "/params/degree"),
    "SVC with one class": ("svc_binary", lambda d: d["classes"].pop(), "/params",
                           "at least 2 classes"),
    "support vectors as one flat array": ("svc", _flatten("support_vectors"),
                                          "/params/support_vectors"),
    "support vector that is not an array": (
        "svc", _set_element("support_vectors", 0, 1.0), "/params/support_vectors/0"),
    "support vector component null": (
        "svc", _set_element("support_vectors", (0, 0), None), "/params/support_vectors/0/0"),
    "n_support all zero": ("svc", _set_param("n_support", [0, 0, 0]), "/params/n_support",
                           "1 to 1048576 support vectors"),
    "negative n_support": ("svc", _set_element("n_support", 0, -1), "/params/n_support/0"),
    "n_support count beyond kMaxSupportVectors": (
        "svc", _set_element("n_support", 0, 1048577), "/params/n_support/0"),
    "binary SVC with two dual_coef rows": ("svc_binary", _duplicate_row("dual_coef"),
                                           "/params/dual_coef", "expected an array of 1 elements"),
    "binary SVC with two intercepts": (
        "svc_binary", _params(lambda p: p["intercept"].append(0.0)), "/params/intercept"),
    "binary SVC with three n_support counts": (
        "svc_binary", _params(lambda p: p["n_support"].append(0)), "/params/n_support"),
    "multiclass SVC with one dual_coef row": (
        "svc", _params(lambda p: p["dual_coef"].pop()), "/params/dual_coef"),
    "multiclass SVC with two intercepts": (
        "svc", _params(lambda p: p["intercept"].pop()), "/params/intercept"),
    "one-class SVM with two n_support counts": (
        "ocsvm", _params(lambda p: p["n_support"].append(0)), "/params/n_support"),
    "one-class SVM with two dual_coef rows": ("ocsvm", _duplicate_row("dual_coef"),
                                              "/params/dual_coef"),
    "one-class SVM with two intercepts": (
        "ocsvm", _params(lambda p: p["intercept"].append(0.0)), "/params/intercept"),
    # linear params.
    "unknown key in linear params": ("linear", _set_param("penalty", "l2"), "/params/penalty"),
    "binary LinearSVC with two coef rows": ("linear_binary", _duplicate_row("coef"),
                                            "/params/coef", "expected an array of 1 elements"),
    "binary LinearSVC with coef as a flat array": ("linear_binary", _flatten("coef"),
                                                   "/params/coef"),
    "multiclass LinearSVC with one coef row": (
        "linear", _params(lambda p: p["coef"].__delitem__(slice(1, None))), "/params/coef"),
    "LinearSVC intercept as a number": ("linear_binary", _set_param("intercept", 0.5),
                                        "/params/intercept"),
    "LinearSVC with one class": ("linear_binary", lambda d: d["classes"].pop(), "/params",
                                 "at least 2 classes"),
    # gaussian_nb params.
    "zero variance": ("gnb", _set_element("var", (0, 0), 0.0), "/params/var/0/0",
                      "a variance must be > 0"),
    "negative variance": ("gnb", _set_element("var", (1, 2), -1.0), "/params/var/1/2"),
    "zero prior": ("gnb", _set_element("class_prior", 2, 0.0), "/params/class_prior/2",
                   "a class prior must be > 0"),
    "negative prior": ("gnb", _set_element("class_prior", 0, -0.5), "/params/class_prior/0"),
    "GaussianNB with sigma instead of var": (
        "gnb", _params(lambda p: p.__setitem__("sigma", p.pop("var"))), "/params/sigma"),
    "GaussianNB without class_prior": ("gnb", _params(lambda p: p.pop("class_prior")), "/params"),
    "theta as a flat array": ("gnb", _flatten("theta"), "/params/theta"),
    "theta entry as a string": ("gnb", _set_element("theta", (0, 0), "5.0"), "/params/theta/0/0"),
}


def _case_parts(case):
    base, mutate, pointer, *fragment = case
    return base, mutate, pointer, (fragment[0] if fragment else None)


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_invalid_documents_are_rejected_by_schema_and_loader(validator, base_documents, case):
    base, mutate, pointer, fragment = _case_parts(INVALID[case])
    document = copy.deepcopy(base_documents[base])
    mutate(document)

    assert not validator.is_valid(document), f"the schema accepts: {case}"
    with pytest.raises(mcuport.ModelError) as raised:
        _core.validate(json.dumps(document))
    if pointer is not None:
        assert str(raised.value).startswith(f"({pointer}) "), str(raised.value)
    else:
        assert str(raised.value).startswith("(/params/trees/0/value/"), str(raised.value)
    if fragment is not None:
        assert fragment in str(raised.value), str(raised.value)


# Rules that JSON Schema cannot express (they relate two fields, or the spelling of a number):
# only the loader rejects these. The schema states them in $comment; if it ever expresses one,
# move the case to INVALID.
LOADER_ONLY = {
    "support vector shorter than n_features": (
        "svc", _params(lambda p: p["support_vectors"][3].pop()), "/params/support_vectors/3",
        "expected an array of 4 elements, got 3"),
    "n_support adding up to more than the support vectors": (
        "svc", _params(lambda p: p["n_support"].__setitem__(0, p["n_support"][0] + 1)),
        "/params/support_vectors"),
    "n_support counts for four classes in a three-class model": (
        "svc", _params(lambda p: p["n_support"].append(0)), "/params/n_support",
        "expected an array of 3 elements, got 4"),
    "dual_coef row shorter than the support vectors": (
        "svc", _params(lambda p: p["dual_coef"][1].pop()), "/params/dual_coef/1"),
    "multiclass SVC with four intercepts": (
        "svc", _params(lambda p: p["intercept"].append(0.0)), "/params/intercept",
        "expected an array of 3 elements, got 4"),
    "degree written as 3.0": ("svc_binary", _set_param("degree", 3.0), "/params/degree",
                              "expected an integer"),
    "multiclass LinearSVC coef row longer than n_features": (
        "linear", _params(lambda p: p["coef"][2].append(1.0)), "/params/coef/2"),
    "multiclass LinearSVC with four coef rows": (
        "linear", _duplicate_row("coef"), "/params/coef"),
    "GaussianNB theta for four classes": ("gnb", _duplicate_row("theta"), "/params/theta"),
    "GaussianNB var row shorter than n_features": (
        "gnb", _params(lambda p: p["var"][1].pop()), "/params/var/1"),
    "GaussianNB class_prior for two classes": (
        "gnb", _params(lambda p: p["class_prior"].pop()), "/params/class_prior"),
}


@pytest.mark.parametrize("case", list(LOADER_ONLY), ids=list(LOADER_ONLY))
def test_cross_field_rules_are_enforced_by_the_loader(validator, base_documents, case):
    base, mutate, pointer, fragment = _case_parts(LOADER_ONLY[case])
    document = copy.deepcopy(base_documents[base])
    mutate(document)

    assert validator.is_valid(document), f"the schema now rejects {case}: move it to INVALID"
    with pytest.raises(mcuport.ModelError) as raised:
        _core.validate(json.dumps(document))
    assert str(raised.value).startswith(f"({pointer}) "), str(raised.value)
    if fragment is not None:
        assert fragment in str(raised.value), str(raised.value)


# --- The new kinds: documents that both must refuse, and rules the schema cannot express -------


@pytest.fixture(scope="module")
def new_kind_documents() -> dict:
    """Valid documents of the new kinds that the cases below break, by name (from
    export_estimator: the unmodified documents are checked here, not by to_json)."""
    X, y = load_wine(return_X_y=True)
    documents = {
        "pca": export_estimator(PCA(n_components=3, whiten=True).fit(X)),
        "envelope": export_estimator(EllipticEnvelope(random_state=0).fit(X)),
        "empirical": export_estimator(EmpiricalCovariance().fit(X)),
        "pipeline": export_estimator(
            make_pipeline(StandardScaler(), MinMaxScaler(clip=True), MaxAbsScaler(),
                          PCA(n_components=4), SVC()).fit(X, y)),
    }
    for document in documents.values():
        _core.validate(json.dumps(document))
    return documents


def _stage(index, mutate_stage):
    def mutate(document):
        mutate_stage(document["preprocessing"][index])

    return mutate


def _set_stage_element(index, key, position, value):
    return _stage(index, lambda stage: stage[key].__setitem__(position, value))


# name -> (base document, mutation, the JSON pointer the C++ loader names[, a fragment of its
# message]).
INVALID_NEW_KINDS = {
    # pca.
    "PCA with classes": ("pca", _set("classes", [0, 1]), "/classes", "a transform has no classes"),
    "PCA with task classification": ("pca", _set("task", "classification"), "/estimator"),
    "PCA with kind mahalanobis": ("pca", _set("kind", "mahalanobis"), "/estimator"),
    "PCA with task distance": ("pca", _set("task", "distance"), "/estimator"),
    "PCA explained variance 0": ("pca", _set_element("explained_variance", 1, 0.0),
                                 "/params/explained_variance/1", "must be > 0"),
    "PCA explained variance negative": ("pca", _set_element("explained_variance", 0, -1.0),
                                        "/params/explained_variance/0"),
    "PCA whiten as a string": ("pca", _set_param("whiten", "true"), "/params/whiten"),
    "PCA whiten as 1": ("pca", _set_param("whiten", 1), "/params/whiten"),
    "PCA without mean": ("pca", _params(lambda p: p.pop("mean")), "/params",
                         'missing required key "mean"'),
    "PCA without explained_variance": ("pca", _params(lambda p: p.pop("explained_variance")),
                                       "/params"),
    "PCA components as one flat array": ("pca", _flatten("components"), "/params/components"),
    "PCA with n_components in params": ("pca", _set_param("n_components", 3),
                                        "/params/n_components"),
    "PCA with no components": (
        "pca", lambda d: d["params"].update(components=[], explained_variance=[]),
        "/params/explained_variance"),
    # mahalanobis.
    "EllipticEnvelope without threshold": ("envelope", _params(lambda p: p.pop("threshold")),
                                           "/params", 'missing required key "threshold"'),
    "EllipticEnvelope with task distance": ("envelope", _set("task", "distance"), "/estimator"),
    "EmpiricalCovariance with a threshold": ("empirical", _set_param("threshold", 10.0),
                                             "/params/threshold"),
    "EmpiricalCovariance with task outlier_detection": (
        "empirical",
        lambda d: (d.update(task="outlier_detection"), d["params"].update(threshold=10.0)),
        "/estimator"),
    "Mahalanobis with task transform": (
        "empirical", lambda d: d.update(estimator="Mahalanobis", task="transform"), "/estimator"),
    "Mahalanobis with classes": (
        "envelope", lambda d: d.update(estimator="Mahalanobis", classes=[-1, 1]), "/classes"),
    "negative threshold": ("envelope", _set_param("threshold", -1.0), "/params/threshold"),
    "threshold as a string": ("envelope", _set_param("threshold", "43.7"), "/params/threshold"),
    "precision as one flat array": ("empirical", _flatten("precision"), "/params/precision"),
    "precision entry null": ("empirical", _set_element("precision", (0, 0), None),
                             "/params/precision/0/0"),
    "covariance instead of precision": (
        "empirical", _params(lambda p: p.__setitem__("covariance", p.pop("precision"))),
        "/params/covariance"),
    "empty location": ("empirical", _set_param("location", []), "/params/location"),
    "distance estimator OAS with kind pca": (
        "empirical", lambda d: d.update(estimator="OAS", kind="pca"), "/estimator"),
    # preprocessing.
    "preprocessing as an object": (
        "pipeline", lambda d: d.update(preprocessing=d["preprocessing"][0]), "/preprocessing"),
    "nine stages": (
        "pipeline",
        lambda d: d["preprocessing"].extend(copy.deepcopy(d["preprocessing"][2:3]) * 5),
        "/preprocessing"),
    "unknown stage kind": ("pipeline", _stage(0, lambda s: s.update(kind="robust_scaler")),
                           "/preprocessing/0/kind", "unknown preprocessing stage"),
    "stage without kind": ("pipeline", _stage(2, lambda s: s.pop("kind")), "/preprocessing/2"),
    "stage kind null": ("pipeline", _stage(2, lambda s: s.update(kind=None)),
                        "/preprocessing/2/kind"),
    "standard scaler with var": ("pipeline", _stage(0, lambda s: s.update(var=s["scale"])),
                                 "/preprocessing/0/var"),
    "standard scaler negative scale": ("pipeline", _set_stage_element(0, "scale", 3, -1.0),
                                       "/preprocessing/0/scale/3", "a scale must be > 0"),
    "standard scaler zero scale": ("pipeline", _set_stage_element(0, "scale", 0, 0.0),
                                   "/preprocessing/0/scale/0"),
    "minmax scaler without min": ("pipeline", _stage(1, lambda s: s.pop("min")),
                                  "/preprocessing/1"),
    "minmax scaler negative scale": ("pipeline", _set_stage_element(1, "scale", 1, -0.5),
                                     "/preprocessing/1/scale/1"),
    "minmax clip of three numbers": ("pipeline", _stage(1, lambda s: s["clip"].append(2.0)),
                                     "/preprocessing/1/clip"),
    "minmax clip true": ("pipeline", _stage(1, lambda s: s.update(clip=True)),
                         "/preprocessing/1/clip"),
    "minmax clip as strings": ("pipeline", _stage(1, lambda s: s.update(clip=["0", "1"])),
                               "/preprocessing/1/clip/0"),
    "maxabs scaler without scale": ("pipeline", _stage(2, lambda s: s.pop("scale")),
                                    "/preprocessing/2"),
    "maxabs scaler zero scale": ("pipeline", _set_stage_element(2, "scale", 0, 0.0),
                                 "/preprocessing/2/scale/0"),
    "maxabs scaler with clip": ("pipeline", _stage(2, lambda s: s.update(clip=[0.0, 1.0])),
                                "/preprocessing/2/clip"),
    "pca stage without whiten": ("pipeline", _stage(3, lambda s: s.pop("whiten")),
                                 "/preprocessing/3"),
    "pca stage explained variance 0": (
        "pipeline", _set_stage_element(3, "explained_variance", 0, 0.0),
        "/preprocessing/3/explained_variance/0"),
    "pca stage with a scale": ("pipeline", _stage(3, lambda s: s.update(scale=[1.0] * 13)),
                               "/preprocessing/3/scale"),
    "scaler kind as the estimator": ("pca", _set("kind", "standard_scaler"), "/kind"),
}


@pytest.mark.parametrize("case", list(INVALID_NEW_KINDS), ids=list(INVALID_NEW_KINDS))
def test_invalid_new_kind_documents_are_rejected_by_schema_and_loader(
        validator, new_kind_documents, case):
    base, mutate, pointer, fragment = _case_parts(INVALID_NEW_KINDS[case])
    document = copy.deepcopy(new_kind_documents[base])
    mutate(document)

    assert not validator.is_valid(document), f"the schema accepts: {case}"
    with pytest.raises(mcuport.ModelError) as raised:
        _core.validate(json.dumps(document))
    assert str(raised.value).startswith(f"({pointer}) "), str(raised.value)
    if fragment is not None:
        assert fragment in str(raised.value), str(raised.value)


def _asymmetric(params):
    params["precision"][0][1] += 1.0


def _indefinite(params):
    n = len(params["location"])
    params["precision"] = [[-1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def _too_many_components(document):
    document["n_features"] = 2
    document["params"].update(mean=[0.0, 0.0], components=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                              explained_variance=[1.0, 1.0, 1.0])


# Rules of the new kinds that relate two fields or two numbers: only the loader rejects these.
# The schema states them in $comment; if it ever expresses one, move the case to
# INVALID_NEW_KINDS.
LOADER_ONLY_NEW_KINDS = {
    "PCA mean shorter than n_features": ("pca", _params(lambda p: p["mean"].pop()),
                                         "/params/mean"),
    "PCA more components than explained variances": ("pca", _duplicate_row("components"),
                                                     "/params/components"),
    "PCA component shorter than n_features": (
        "pca", _params(lambda p: p["components"][1].pop()), "/params/components/1"),
    "PCA more components than inputs": ("pca", _too_many_components,
                                        "/params/explained_variance"),
    "asymmetric precision": ("empirical", _params(_asymmetric), "/params/precision/0/1",
                             "must be symmetric"),
    "indefinite precision": ("empirical", _params(_indefinite), "/params/precision",
                             "not positive definite"),
    "location longer than n_features": (
        "empirical", _params(lambda p: p["location"].append(0.0)), "/params/location"),
    "precision row shorter than n_features": (
        "empirical", _params(lambda p: p["precision"][2].pop()), "/params/precision/2"),
    "clip with lo > hi": ("pipeline", _stage(1, lambda s: s.update(clip=[1.0, 0.0])),
                          "/preprocessing/1/clip"),
    "scaler narrower than its input": ("pipeline", _stage(2, lambda s: s["scale"].pop()),
                                       "/preprocessing/2/scale"),
    "estimator sized by n_features instead of the PCA stage's output": (
        "pipeline", _params(lambda p: p["support_vectors"][0].extend([0.0] * 9)),
        "/params/support_vectors/0", "expected an array of 4 elements, got 13"),
}


@pytest.mark.parametrize("case", list(LOADER_ONLY_NEW_KINDS), ids=list(LOADER_ONLY_NEW_KINDS))
def test_cross_field_rules_of_new_kinds_are_enforced_by_the_loader(
        validator, new_kind_documents, case):
    base, mutate, pointer, fragment = _case_parts(LOADER_ONLY_NEW_KINDS[case])
    document = copy.deepcopy(new_kind_documents[base])
    mutate(document)

    assert validator.is_valid(document), (
        f"the schema now rejects {case}: move it to INVALID_NEW_KINDS")
    with pytest.raises(mcuport.ModelError) as raised:
        _core.validate(json.dumps(document))
    assert str(raised.value).startswith(f"({pointer}) "), str(raised.value)
    if fragment is not None:
        assert fragment in str(raised.value), str(raised.value)

"""The exporters of PCA, Mahalanobis distances (scikit-learn's covariance estimators and
mcuport.Mahalanobis) and pipelines, without the C++ core: the documents they write (fields equal
to the estimators' attributes, and the documented formulas reproducing scikit-learn), the numpy
reference methods of mcuport.Mahalanobis, and the errors for what cannot be ported."""

from __future__ import annotations

import re

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
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import mcuport
from mcuport._port import _apply_classmap
from mcuport.exporters import export_estimator, supported_estimators

from conftest import SEED, split

COVARIANCE_ESTIMATORS = [EmpiricalCovariance, MinCovDet, ShrunkCovariance, LedoitWolf, OAS,
                         EllipticEnvelope]


@pytest.fixture(scope="module")
def wine():
    """The wine split of the other tests (fixed seed): X_train, X_test, y_train, y_test."""
    return split("wine")


def _make(cls):
    return cls(random_state=SEED) if cls in (MinCovDet, EllipticEnvelope) else cls()


def _documented_pca(params, X):
    """The "pca" formula of docs/model-format.md."""
    y = (X - np.asarray(params["mean"])) @ np.asarray(params["components"]).T
    if params["whiten"]:
        y /= np.maximum(np.sqrt(np.asarray(params["explained_variance"])), np.finfo(float).eps)
    return y


def _documented_d2(params, X):
    """The "mahalanobis" formula of docs/model-format.md."""
    centered = X - np.asarray(params["location"])
    return np.einsum("si,ij,sj->s", centered, np.asarray(params["precision"]), centered)


def _documented_stages(stages, X):
    """The "preprocessing" formulas of docs/model-format.md, in float64 and in their order."""
    X = np.array(X, dtype=np.float64)
    for stage in stages:
        if stage["kind"] == "standard_scaler":
            if "mean" in stage:
                X = X - np.asarray(stage["mean"])
            if "scale" in stage:
                X = X / np.asarray(stage["scale"])
        elif stage["kind"] == "minmax_scaler":
            X = X * np.asarray(stage["scale"]) + np.asarray(stage["min"])
            if "clip" in stage:
                X = np.clip(X, *stage["clip"])
        elif stage["kind"] == "maxabs_scaler":
            X = X / np.asarray(stage["scale"])
        else:
            X = _documented_pca(stage, X)
    return X


# --- PCA ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("whiten", [False, True], ids=["plain", "whiten"])
@pytest.mark.parametrize("n_components", [1, 4, 0.95, None], ids=lambda n: f"n_components={n}")
def test_pca_document_holds_the_fitted_attributes(wine, whiten, n_components):
    X_train, X_test, _, _ = wine
    pca = PCA(n_components=n_components, whiten=whiten, random_state=SEED).fit(X_train)
    document = export_estimator(pca)
    assert (document["kind"], document["estimator"], document["task"]) == (
        "pca", "PCA", "transform")
    assert document["n_features"] == 13
    assert "classes" not in document and "preprocessing" not in document
    params = document["params"]
    assert set(params) == {"mean", "components", "explained_variance", "whiten"}
    assert params["mean"] == pca.mean_.tolist()
    assert params["components"] == pca.components_.tolist()
    assert params["explained_variance"] == pca.explained_variance_.tolist()
    assert params["whiten"] is whiten
    assert len(params["components"]) == pca.n_components_
    # The documented formula is scikit-learn's transform (which may centre after projecting:
    # equal up to rounding).
    for X in (X_train, X_test):
        np.testing.assert_allclose(_documented_pca(params, X), pca.transform(X),
                                   rtol=1e-9, atol=1e-9 * np.abs(pca.transform(X)).max())


def test_pca_with_no_components_is_refused(wine):
    pca = PCA(n_components=0).fit(wine[0])
    with pytest.raises(ValueError, match=r"n_components_ = 0 .*refit with n_components >= 1"):
        export_estimator(pca)


def test_pca_with_a_zero_explained_variance_is_refused(wine):
    pca = PCA(n_components=3).fit(wine[0])
    pca.explained_variance_ = np.array([2.0, 1.0, 0.0])  # rank-deficient training data
    with pytest.raises(ValueError, match=r"explained variance of 0\.0 for component 2.*"
                                         r"n_components <= 2"):
        export_estimator(pca)


def test_unfitted_pca_is_refused():
    with pytest.raises(ValueError, match=r"this PCA is not fitted yet: call fit"):
        export_estimator(PCA(n_components=2))


# --- scikit-learn's covariance estimators -------------------------------------------------------


@pytest.mark.parametrize("cls", COVARIANCE_ESTIMATORS, ids=lambda c: c.__name__)
def test_covariance_document_holds_the_fitted_attributes(wine, cls):
    X_train, X_test, _, _ = wine
    estimator = _make(cls).fit(X_train)
    document = export_estimator(estimator)
    detector = cls is EllipticEnvelope
    assert document["kind"] == "mahalanobis"
    assert document["estimator"] == cls.__name__
    assert document["task"] == ("outlier_detection" if detector else "distance")
    assert document["n_features"] == 13 and "classes" not in document
    params = document["params"]
    assert set(params) == ({"location", "precision", "threshold"} if detector
                           else {"location", "precision"})
    assert params["location"] == estimator.location_.tolist()
    assert params["precision"] == estimator.get_precision().tolist()
    if detector:
        assert params["threshold"] == -estimator.offset_
    # The documented squared distance is scikit-learn's mahalanobis(X); for the detector, the
    # documented decision (d2 <= threshold) is its predict.
    for X in (X_train, X_test):
        np.testing.assert_allclose(_documented_d2(params, X), estimator.mahalanobis(X),
                                   rtol=1e-10)
        if detector:
            np.testing.assert_array_equal(
                np.where(_documented_d2(params, X) <= params["threshold"], 1, -1),
                estimator.predict(X))


def test_precision_not_stored_is_computed(wine):
    estimator = EmpiricalCovariance(store_precision=False).fit(wine[0])
    assert estimator.precision_ is None
    params = export_estimator(estimator)["params"]
    assert params["precision"] == estimator.get_precision().tolist()


def test_singular_empirical_covariance_is_refused(wine):
    X = wine[0].copy()
    X[:, 5] = 2.0 * X[:, 3] - X[:, 0]  # a feature that is a combination of others
    with pytest.raises(ValueError, match=r"covariance of this EmpiricalCovariance is singular.*"
                                         r"LedoitWolf"):
        export_estimator(EmpiricalCovariance().fit(X))
    # The shrunk estimate of the same data is fine.
    assert export_estimator(LedoitWolf().fit(X))["kind"] == "mahalanobis"


def test_unfitted_covariance_estimator_is_refused():
    with pytest.raises(ValueError, match=r"this EllipticEnvelope is not fitted yet"):
        export_estimator(EllipticEnvelope())


# --- mcuport.Mahalanobis --------------------------------------------------------------------


def test_mahalanobis_is_exported_by_the_package():
    assert mcuport.Mahalanobis is mcuport.mahalanobis.Mahalanobis
    assert "Mahalanobis" in mcuport.__all__
    for name in ("PCA", "Pipeline", "Mahalanobis", "EllipticEnvelope", "EmpiricalCovariance",
                 "MinCovDet", "ShrunkCovariance", "LedoitWolf", "OAS"):
        assert name in supported_estimators()


def test_mahalanobis_attributes(wine):
    X_train = wine[0]
    location = X_train.mean(axis=0)
    covariance = np.cov(X_train, rowvar=False)
    names = [f"f{i}" for i in range(13)]
    model = mcuport.Mahalanobis(location, covariance=covariance, threshold=20,
                                feature_names=names)
    assert model.n_features_in_ == 13
    assert model.location_.tolist() == location.tolist()
    assert model.threshold_ == 20.0 and isinstance(model.threshold_, float)
    assert model.feature_names_in_.tolist() == names
    assert model.precision_.dtype == np.float64
    np.testing.assert_array_equal(model.precision_, model.precision_.T)  # exactly symmetric
    np.testing.assert_allclose(model.precision_ @ covariance, np.eye(13), atol=1e-8)
    assert not hasattr(mcuport.Mahalanobis(location, covariance=covariance), "feature_names_in_")
    assert mcuport.Mahalanobis(location, covariance=covariance).threshold_ is None
    assert "n_features=13" in repr(model)


@pytest.mark.parametrize("given", ["covariance", "precision"])
def test_mahalanobis_distance_equals_empirical_covariance(wine, given):
    X_train, X_test, _, _ = wine
    reference = EmpiricalCovariance().fit(X_train)
    matrix = reference.covariance_ if given == "covariance" else reference.precision_
    model = mcuport.Mahalanobis(reference.location_, **{given: matrix})
    # A precision used as given reproduces scikit-learn to rounding; one inverted here from the
    # covariance (condition number ~1e7 on wine) to a few parts in 1e10.
    rtol = 1e-13 if given == "precision" else 1e-9
    for X in (X_train, X_test):
        np.testing.assert_allclose(model.mahalanobis(X), reference.mahalanobis(X), rtol=rtol)
        np.testing.assert_array_equal(model.score_samples(X), -model.mahalanobis(X))
    with pytest.raises(ValueError, match=r"predict needs a threshold"):
        model.predict(X_test)
    with pytest.raises(ValueError, match=r"decision_function needs a threshold"):
        model.decision_function(X_test)


def test_mahalanobis_detector_equals_elliptic_envelope(wine):
    X_train, X_test, _, _ = wine
    envelope = EllipticEnvelope(random_state=SEED).fit(X_train)
    model = mcuport.Mahalanobis(envelope.location_, precision=envelope.precision_,
                                threshold=-envelope.offset_)
    for X in (X_train, X_test):
        np.testing.assert_array_equal(model.predict(X), envelope.predict(X))
        np.testing.assert_allclose(model.score_samples(X), envelope.score_samples(X), rtol=1e-13)
        np.testing.assert_allclose(model.decision_function(X), envelope.decision_function(X),
                                   rtol=1e-12, atol=1e-12 * abs(envelope.offset_))
    assert set(model.predict(X_train)) == {-1, 1}  # both decisions occur
    # The threshold is inclusive: a point exactly at the threshold is an inlier.
    point = X_test[:1]
    exact = mcuport.Mahalanobis(envelope.location_, precision=envelope.precision_,
                                threshold=float(model.mahalanobis(point)[0]))
    assert exact.predict(point).tolist() == [1]


def test_mahalanobis_document(wine):
    X_train = wine[0]
    location = X_train.mean(axis=0)
    covariance = np.cov(X_train, rowvar=False)
    names = [f"feature {i}" for i in range(13)]
    detector = mcuport.Mahalanobis(location, covariance=covariance, threshold=30.0,
                                   feature_names=names)
    document = export_estimator(detector)
    assert (document["kind"], document["estimator"], document["task"]) == (
        "mahalanobis", "Mahalanobis", "outlier_detection")
    assert document["n_features"] == 13 and document["feature_names"] == names
    assert document["params"] == {"location": location.tolist(),
                                  "precision": detector.precision_.tolist(),
                                  "threshold": 30.0}
    distance = mcuport.Mahalanobis(location, precision=detector.precision_)
    document = export_estimator(distance)
    assert document["task"] == "distance" and "feature_names" not in document
    assert set(document["params"]) == {"location", "precision"}
    assert document["params"]["precision"] == detector.precision_.tolist()


def test_mahalanobis_of_one_feature():
    model = mcuport.Mahalanobis([1.0], covariance=[[4.0]], threshold=1.0)
    assert model.precision_.tolist() == [[0.25]]
    assert model.mahalanobis([[3.0], [1.0], [-2.0]]).tolist() == [1.0, 0.0, 2.25]
    assert model.predict([[3.0], [-2.0]]).tolist() == [1, -1]


def test_mahalanobis_symmetrises_within_rounding():
    covariance = np.array([[2.0, 0.5], [0.5 * (1 + 4e-11), 1.0]])
    model = mcuport.Mahalanobis([0.0, 0.0], covariance=covariance)
    np.testing.assert_array_equal(model.precision_, model.precision_.T)
    precision = np.linalg.inv(np.array([[2.0, 0.5], [0.5, 1.0]]))
    precision[1, 0] *= 1 + 4e-11
    model = mcuport.Mahalanobis([0.0, 0.0], precision=precision)
    mean = (precision[0, 1] + precision[1, 0]) / 2
    assert model.precision_[0, 1] == model.precision_[1, 0] == mean


SINGULAR = "the covariance is singular or not positive definite: add a small ridge"
ONE, TWO, I2 = [0.0], [0.0, 0.0], np.eye(2)


@pytest.mark.parametrize(
    "arguments, message",
    [
        # Covariance and precision: exactly one.
        ({"location": ONE}, "give exactly one of covariance and precision"),
        ({"location": ONE, "covariance": [[1.0]], "precision": [[1.0]]}, "exactly one"),
        # Shapes.
        ({"location": [[0.0, 1.0]], "covariance": I2},
         r"1-D array of n >= 1 numbers, got shape \(1, 2\)"),
        ({"location": [], "covariance": np.eye(0)},
         r"1-D array of n >= 1 numbers, got shape \(0,\)"),
        ({"location": 1.0, "covariance": [[1.0]]}, r"got shape \(\)"),
        ({"location": TWO, "covariance": np.eye(3)},
         r"covariance must be an n x n matrix with n = 2 .* got shape \(3, 3\)"),
        ({"location": TWO, "precision": [1.0, 1.0]},
         r"precision must be an n x n matrix with n = 2 .* got shape \(2,\)"),
        ({"location": TWO, "covariance": np.ones((2, 3))}, r"got shape \(2, 3\)"),
        ({"location": ["a", "b"], "covariance": I2}, "location must be an array of numbers"),
        # Finiteness.
        ({"location": [0.0, np.nan], "covariance": I2}, "location holds a NaN or infinite"),
        ({"location": TWO, "covariance": [[1.0, 0.0], [0.0, np.inf]]}, "covariance holds a NaN"),
        ({"location": TWO, "precision": [[np.nan, 0.0], [0.0, 1.0]]}, "precision holds a NaN"),
        # Symmetry.
        ({"location": TWO, "covariance": [[2.0, 0.5], [0.4, 1.0]]},
         r"covariance is not symmetric: entry \[0\]\[1\] is 0\.5 but \[1\]\[0\] is 0\.4"),
        ({"location": TWO, "precision": [[2.0, 0.5], [0.5 * (1 + 1e-8), 1.0]]},
         "precision is not symmetric"),
        # Definiteness.
        ({"location": TWO, "covariance": [[1.0, 1.0], [1.0, 1.0]]}, SINGULAR),
        ({"location": TWO, "covariance": [[1.0, 2.0], [2.0, 1.0]]}, SINGULAR),
        ({"location": TWO, "covariance": [[-1.0, 0.0], [0.0, 1.0]]}, SINGULAR),
        ({"location": TWO, "covariance": np.zeros((2, 2))}, SINGULAR),
        ({"location": TWO, "covariance": [[1.0, 0.0], [0.0, 1e-15]]}, SINGULAR),
        ({"location": TWO, "precision": [[1.0, 1.0], [1.0, 1.0]]},
         r"precision is singular or not positive definite .*add a small ridge"),
        # Threshold.
        ({"location": ONE, "covariance": [[1.0]], "threshold": -1.0},
         r"finite number >= 0 .* got -1\.0"),
        ({"location": ONE, "covariance": [[1.0]], "threshold": np.inf}, r"finite number >= 0"),
        ({"location": ONE, "covariance": [[1.0]], "threshold": np.nan}, r"finite number >= 0"),
        ({"location": ONE, "covariance": [[1.0]], "threshold": "9"}, "threshold must be a number"),
        ({"location": ONE, "covariance": [[1.0]], "threshold": True}, "threshold must be a number"),
        # Feature names.
        ({"location": TWO, "covariance": I2, "feature_names": ["a"]}, "must be 2 strings"),
        ({"location": TWO, "covariance": I2, "feature_names": ["a", 2]}, "must be 2 strings"),
        ({"location": TWO, "covariance": I2, "feature_names": "ab"}, "not one string"),
    ],
)
def test_mahalanobis_refuses_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        mcuport.Mahalanobis(**arguments)


def test_nearly_singular_covariance_of_real_data_is_refused(wine):
    X = wine[0]
    X = np.column_stack([X, X[:, 0] + 1e-9 * X[:, 1]])  # a nearly duplicated feature
    covariance = np.cov(X, rowvar=False)
    with pytest.raises(ValueError, match="covariance is .*LedoitWolf"):
        mcuport.Mahalanobis(X.mean(axis=0), covariance=covariance)
    # The remedy the message gives works.
    n = covariance.shape[0]
    ridge = covariance + 1e-6 * np.trace(covariance) / n * np.eye(n)
    assert mcuport.Mahalanobis(X.mean(axis=0), covariance=ridge).n_features_in_ == 14


def test_mahalanobis_methods_check_the_input_width():
    model = mcuport.Mahalanobis([0.0, 0.0], covariance=np.eye(2), threshold=1.0)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\), got \(1, 3\)"):
        model.predict([[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"got \(2,\)"):
        model.mahalanobis([0.0, 0.0])


# --- Pipelines -----------------------------------------------------------------------------------


def _stages(pipeline):
    return [step for _, step in pipeline.steps[:-1] if step not in (None, "passthrough")]


def _check_stage(stage, step):
    """The stage fields equal the fitted step's attributes."""
    if isinstance(step, StandardScaler):
        assert stage["kind"] == "standard_scaler"
        assert ("mean" in stage) == step.with_mean
        assert ("scale" in stage) == step.with_std
        if step.with_mean:
            assert stage["mean"] == step.mean_.tolist()
        if step.with_std:
            assert stage["scale"] == step.scale_.tolist()
    elif isinstance(step, MinMaxScaler):
        assert stage["kind"] == "minmax_scaler"
        assert stage["scale"] == step.scale_.tolist() and stage["min"] == step.min_.tolist()
        if step.clip:
            assert stage["clip"] == [float(step.feature_range[0]), float(step.feature_range[1])]
        else:
            assert "clip" not in stage
    elif isinstance(step, MaxAbsScaler):
        assert stage == {"kind": "maxabs_scaler", "scale": step.scale_.tolist()}
    else:
        assert stage == {"kind": "pca", **export_estimator(step)["params"]}


PIPELINES = {
    "StandardScaler+SVC": lambda: make_pipeline(StandardScaler(), SVC()),
    "MinMaxScaler-clip+DecisionTreeClassifier": lambda: make_pipeline(
        MinMaxScaler(feature_range=(-1, 2), clip=True), DecisionTreeClassifier(random_state=SEED)),
    "MinMaxScaler+GaussianNB": lambda: make_pipeline(MinMaxScaler(), GaussianNB()),
    "MaxAbsScaler+LinearSVC": lambda: make_pipeline(MaxAbsScaler(), LinearSVC(random_state=SEED)),
    "StandardScaler+PCA+EllipticEnvelope": lambda: make_pipeline(
        StandardScaler(), PCA(n_components=4), EllipticEnvelope(random_state=SEED)),
    "StandardScaler-no-mean+GaussianNB": lambda: make_pipeline(
        StandardScaler(with_mean=False), GaussianNB()),
    "StandardScaler-no-std+LedoitWolf": lambda: make_pipeline(
        StandardScaler(with_std=False), LedoitWolf()),
    "StandardScaler+PCA-whiten": lambda: make_pipeline(
        StandardScaler(), PCA(n_components=3, whiten=True)),
    "passthrough-and-None": lambda: Pipeline([
        ("skip", "passthrough"), ("scale", MaxAbsScaler()), ("none", None),
        ("pca", PCA(n_components=5)), ("svc", SVC())]),
    "every-stage": lambda: make_pipeline(
        StandardScaler(), PCA(n_components=8), MinMaxScaler(), MaxAbsScaler(),
        PCA(n_components=4, whiten=True), SVC(kernel="linear")),
}


def _fit(pipeline, X, y):
    final = pipeline.steps[-1][1]
    if isinstance(final, (PCA, EllipticEnvelope, LedoitWolf)):
        return pipeline.fit(X)
    return pipeline.fit(X, y)


@pytest.mark.parametrize("case", list(PIPELINES), ids=list(PIPELINES))
def test_pipeline_document(wine, case):
    X_train, X_test, y_train, _ = wine
    pipeline = _fit(PIPELINES[case](), X_train, y_train)
    final = pipeline.steps[-1][1]
    document = export_estimator(pipeline)
    alone = export_estimator(final)
    # The final step's document, with the pipeline's input and the stages.
    assert document["n_features"] == 13
    assert document["estimator"] == type(final).__name__
    for key in ("kind", "task", "params", "classes"):
        assert document.get(key) == alone.get(key), key
    stages = _stages(pipeline)
    assert len(document["preprocessing"]) == len(stages)
    for stage, step in zip(document["preprocessing"], stages):
        _check_stage(stage, step)
    assert list(document)[-2:] == ["preprocessing", "params"]
    # The documented stage formulas are scikit-learn's transforms: bit for bit for the scalers,
    # to rounding through a PCA.
    for X in (X_train, X_test):
        reference = X
        for step in stages:
            reference = step.transform(reference)
        computed = _documented_stages(document["preprocessing"], X)
        if any(isinstance(step, PCA) for step in stages):
            np.testing.assert_allclose(computed, reference, rtol=1e-9,
                                       atol=1e-9 * np.abs(reference).max())
        else:
            np.testing.assert_array_equal(computed, reference)


def test_pipeline_with_clip_clips(wine):
    X_train, X_test, y_train, _ = wine
    pipeline = _fit(PIPELINES["MinMaxScaler-clip+DecisionTreeClassifier"](), X_train, y_train)
    stage = export_estimator(pipeline)["preprocessing"][0]
    assert stage["clip"] == [-1.0, 2.0]
    wide = np.vstack([X_test, X_train.min(axis=0) - 10, X_train.max(axis=0) + 10])
    np.testing.assert_array_equal(_documented_stages([stage], wide), pipeline[0].transform(wide))
    assert _documented_stages([stage], wide).min() == -1.0


def test_pipeline_of_the_final_step_alone_is_the_final_steps_document(wine):
    X_train, _, y_train, _ = wine
    svc = SVC().fit(X_train, y_train)
    document = export_estimator(Pipeline([("skip", "passthrough"), ("svc", svc)]))
    assert document == export_estimator(svc)
    assert "preprocessing" not in document


def test_pipeline_feature_names_are_the_raw_inputs(wine):
    import pandas as pd  # installed by scripts/setup

    X_train, _, y_train, _ = wine
    names = [f"sensor {i}" for i in range(13)]
    frame = pd.DataFrame(X_train, columns=names)
    pipeline = make_pipeline(StandardScaler(), PCA(n_components=3), SVC())
    pipeline.set_output(transform="pandas")  # the SVC sees pca0, pca1, pca2
    document = export_estimator(pipeline.fit(frame, y_train))
    assert list(pipeline[-1].feature_names_in_) == ["pca0", "pca1", "pca2"]
    assert document["feature_names"] == names and document["n_features"] == 13
    keys = list(document)
    assert keys.index("feature_names") == keys.index("n_features") + 1
    # Without names on the raw input, the document has none.
    document = export_estimator(make_pipeline(StandardScaler(), SVC()).fit(X_train, y_train))
    assert "feature_names" not in document


def test_classmap_applies_to_a_pipeline_ending_in_a_classifier(wine):
    X_train, _, y_train, _ = wine
    document = export_estimator(make_pipeline(StandardScaler(), SVC()).fit(X_train, y_train))
    _apply_classmap(document, {0: "barolo", 1: "grignolino", 2: "barbera"})
    assert document["classes"] == ["barolo", "grignolino", "barbera"]
    document = export_estimator(make_pipeline(StandardScaler(), PCA(2)).fit(X_train))
    with pytest.raises(ValueError, match="classmap applies to classifiers only"):
        _apply_classmap(document, {0: "a"})


ALLOWED = re.escape("StandardScaler, MinMaxScaler, MaxAbsScaler, PCA or 'passthrough'")


@pytest.mark.parametrize(
    "steps, error, message",
    [
        ([("norm", Normalizer()), ("svc", SVC())], TypeError,
         r"step 'norm' \(Normalizer\) of this Pipeline cannot be ported: every step but the last "
         r"must be a " + ALLOWED),
        ([("scale", StandardScaler()), ("lr", LogisticRegression()), ("svc", SVC())], TypeError,
         r"step 'lr' \(LogisticRegression\)"),
        ([("pca", PCA(2)), ("scale", StandardScaler())], TypeError,
         r"this Pipeline ends in a StandardScaler \('scale'\): mcuport ports a pipeline ending "
         r"in an estimator or PCA"),
        ([("scale", MinMaxScaler()), ("skip", "passthrough")], TypeError,
         r"ends in a MinMaxScaler \('scale'\)"),
        ([("skip", "passthrough")], TypeError, r"only 'passthrough' steps"),
        ([("scale", StandardScaler()), ("lr", LogisticRegression())], TypeError,
         r"the last step 'lr' \(LogisticRegression\) of this Pipeline: mcuport cannot port a "
         r"LogisticRegression; supported estimators: DecisionTreeClassifier"),
        ([("scale", StandardScaler()), ("inner", make_pipeline(PCA(2), SVC()))], TypeError,
         r"the last step 'inner' of this Pipeline is itself a Pipeline: flatten it"),
        ([("scale", StandardScaler())] * 9 + [("svc", SVC())], ValueError,
         r"9 preprocessing steps .* at most 8"),
    ],
    ids=["Normalizer", "LogisticRegression-in-the-middle", "ends-in-StandardScaler",
         "ends-in-MinMaxScaler-then-passthrough", "only-passthrough", "unsupported-last-step",
         "nested-pipeline", "nine-stages"],
)
def test_unportable_pipelines_are_refused(steps, error, message):
    with pytest.raises(error, match=message):
        export_estimator(Pipeline(steps))


def test_unfitted_pipeline_names_the_step(wine):
    X_train, _, y_train, _ = wine
    with pytest.raises(ValueError, match=r"step 'standardscaler' \(StandardScaler\) of this "
                                         r"Pipeline is not fitted yet: call fit\(X, y\) on the "
                                         r"pipeline"):
        export_estimator(make_pipeline(StandardScaler(), SVC()))
    # A fitted scaler in front of an unfitted estimator: the estimator's own check, named.
    scaler = StandardScaler().fit(X_train)
    with pytest.raises(ValueError, match=r"the last step 'svc' \(SVC\) of this Pipeline: this SVC "
                                         r"is not fitted yet"):
        export_estimator(Pipeline([("scaler", scaler), ("svc", SVC())]))
    # The final step's other checks run too.
    pca = PCA(n_components=0).fit(X_train)
    with pytest.raises(ValueError, match=r"the last step 'pca' \(PCA\) .* n_components_ = 0"):
        export_estimator(Pipeline([("scaler", scaler), ("pca", pca)]))
    # And those of a stage.
    pca = PCA(n_components=3).fit(X_train)
    svc = SVC().fit(pca.transform(X_train), y_train)
    pca.explained_variance_[2] = 0.0
    with pytest.raises(ValueError, match=r"step 'pca' \(PCA\) of this Pipeline: this PCA has an "
                                         r"explained variance of 0\.0 for component 2"):
        export_estimator(Pipeline([("pca", pca), ("svc", svc)]))


def test_pipeline_of_inconsistent_steps_is_refused(wine):
    X_train, _, y_train, _ = wine
    scaler = StandardScaler().fit(X_train)
    pca = PCA(n_components=4).fit(X_train)
    svc = SVC().fit(X_train[:, :5], y_train)
    with pytest.raises(ValueError, match=r"step 'svc' \(SVC\) of this Pipeline expects 5 inputs, "
                                         r"but step 'pca' \(PCA\) before it gives 4"):
        export_estimator(Pipeline([("scaler", scaler), ("pca", pca), ("svc", svc)]))
    small = StandardScaler().fit(X_train[:, :3])
    with pytest.raises(ValueError, match=r"step 'pca' \(PCA\) of this Pipeline expects 13 inputs, "
                                         r"but step 'small' \(StandardScaler\) before it gives 3"):
        export_estimator(Pipeline([("small", small), ("pca", pca), ("svc", svc)]))

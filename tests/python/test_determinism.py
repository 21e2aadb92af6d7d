"""The same model document and options give a byte-identical header in every process, whatever
Python's hash seed, for every family and numeric mode; and a model document round-trips through
the core (export -> load -> export) unchanged (issue 7, determinism)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC
from sklearn.tree import DecisionTreeRegressor

import mcuport

from conftest import SEED, find_cli, split
from test_injection import FAMILIES, fit_family, hostile_document

# Ports each (document, numeric mode) of a jobs file and writes {job: header or error} as JSON.
SCRIPT = """
import json, sys, mcuport
headers = {}
for job, (path, numeric) in json.load(open(sys.argv[1])).items():
    try:
        headers[job] = mcuport.port(open(path).read(), name="m", numeric=numeric)
    except Exception as error:
        headers[job] = f"error: {error!r}"
json.dump(headers, sys.stdout)
"""
SEEDS = ("0", "12345")


@pytest.fixture(scope="module")
def other_processes(tmp_path_factory):
    """Every family fitted and exported here, and its document ported in both numeric modes by
    one other process per hash seed (one process for all families: an interpreter's start and
    imports cost more than the ports): ({kind: (estimator, X_train, document)},
    {seed: {"kind|numeric": header}})."""
    directory = tmp_path_factory.mktemp("determinism")
    fitted, jobs = {}, {}
    for i, kind in enumerate(FAMILIES):
        estimator, X_train = fit_family(kind)
        document = mcuport.to_json(estimator, calibration=X_train)
        fitted[kind] = (estimator, X_train, document)
        path = directory / f"model-{i}.json"
        path.write_text(document)
        for numeric in ("float", "fixed"):
            jobs[f"{kind}|{numeric}"] = (str(path), numeric)
    (directory / "jobs.json").write_text(json.dumps(jobs))
    headers = {}
    for seed in SEEDS:
        run = subprocess.run([sys.executable, "-c", SCRIPT, str(directory / "jobs.json")],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        headers[seed] = json.loads(run.stdout)
    return fitted, headers


@pytest.mark.parametrize("kind", FAMILIES)
def test_headers_are_identical_across_processes(kind, other_processes):
    fitted, headers = other_processes
    estimator, X_train, document = fitted[kind]
    assert mcuport.to_json(estimator, calibration=X_train) == document
    for numeric in ("float", "fixed"):
        expected = mcuport.port(document, name="m", numeric=numeric)
        assert mcuport.port(document, name="m", numeric=numeric) == expected
        for seed in SEEDS:
            assert headers[seed][f"{kind}|{numeric}"] == expected, (numeric, seed)


def same_json(a, b, path="") -> None:
    """a and b are the same JSON value: the same types (an integer is not a float), the same keys
    in the same order, every float the same double (-0.0 is not 0.0)."""
    assert type(a) is type(b), (path, a, b)
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            same_json(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same_json(x, y, f"{path}/{i}")
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), (path, a, b)
    else:
        assert a == b, (path, a, b)


# Beyond FAMILIES: what else a document can carry (numeric and string labels through classmap,
# float labels, every scaler and its options, the other SVM kernels and classes, regressor
# leaves, a distance model, a document without input ranges).
MORE = {
    "ExtraTreesClassifier, classmap": (
        lambda: ExtraTreesClassifier(n_estimators=3, max_depth=4, random_state=SEED), "iris",
        {"classmap": {0: "setosa", 1: 7, 2: "virginica"}}),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(max_depth=5, random_state=SEED),
                              "diabetes", {}),
    "NuSVC(poly), float labels": (lambda: NuSVC(kernel="poly", degree=2), "iris",
                                       {"labels": [-1.0, 2.0, 4096.0]}),
    "SVC(sigmoid)": (lambda: SVC(kernel="sigmoid", coef0=0.5), "breast_cancer", {}),
    "LinearSVC": (lambda: LinearSVC(random_state=SEED), "wine", {}),
    "Pipeline(MinMaxScaler(clip), StandardScaler(no mean), MaxAbsScaler, SVC)": (
        lambda: make_pipeline(MinMaxScaler(clip=True), StandardScaler(with_mean=False),
                              MaxAbsScaler(), SVC()), "wine", {}),
    "EmpiricalCovariance": (lambda: EmpiricalCovariance(), "iris", {"unsupervised": True}),
    "no input ranges": (lambda: SVC(), "iris", {"no_calibration": True}),
}


def fit_more(kind):
    factory, dataset, extra = MORE[kind]
    X_train, _, y_train, _ = split(dataset)
    if "labels" in extra:
        y_train = np.asarray(extra["labels"])[y_train]
    estimator = factory()
    estimator.fit(X_train) if extra.get("unsupervised") else estimator.fit(X_train, y_train)
    calibration = None if extra.get("no_calibration") else X_train
    return mcuport.to_json(estimator, calibration=calibration, classmap=extra.get("classmap"))


def exported(kind):
    if kind in MORE:
        return fit_more(kind)
    estimator, X_train = fit_family(kind)
    return mcuport.to_json(estimator, calibration=X_train)


@pytest.mark.parametrize("kind", [*FAMILIES, *MORE])
def test_the_model_document_round_trips_byte_for_byte(kind):
    document = exported(kind)
    saved = mcuport.to_json(document)
    same_json(json.loads(document), json.loads(saved))
    assert saved == document
    # Indented, the same document again.
    same_json(json.loads(mcuport.to_json(document, indent=2)), json.loads(document))


@pytest.mark.parametrize("kind", FAMILIES)
def test_hostile_strings_round_trip(kind):
    """Labels and feature names with quotes, newlines, NUL bytes and non-ASCII text come back
    the same strings, escaped as Python's json.dumps escapes them (printable ASCII only)."""
    document = hostile_document(kind)
    saved = mcuport.to_json(json.dumps(document))
    assert all(0x20 <= byte < 0x7F for byte in saved.encode()), "unescaped byte"
    reread = json.loads(saved)
    assert saved == json.dumps(reread, separators=(",", ":"))
    for key in ("feature_names", "classes"):
        if key in document:
            same_json(document[key], reread[key], key)
    assert mcuport.to_json(saved) == saved


def test_the_command_line_writes_the_document_back(tmp_path):
    cli = find_cli()
    assert cli, "the mcuport command is not on PATH: pip install . installs it"
    document = exported("Pipeline(StandardScaler, PCA, GaussianNB)")
    path = tmp_path / "model.json"
    path.write_text(document)
    done = subprocess.run([cli, "--json", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == document + "\n"


def test_a_document_with_estimator_options_is_refused():
    document = exported("GaussianNB")
    with pytest.raises(ValueError, match="already carries its classes and input ranges"):
        mcuport.to_json(document, calibration=np.zeros((2, 13)))

"""Writes tests/fuzz/corpus/: small valid model documents of the families and variants that the
golden models (tests/golden/*.json, which scripts/fuzz adds to the corpus at run time) leave
out. Each model is fit on a few rows so that its document stays under a few kilobytes, the size
libFuzzer mutates well. Rerun after a format change:  python3 tests/fuzz/make_seeds.py
"""
import pathlib

import numpy as np
from sklearn.covariance import EllipticEnvelope, EmpiricalCovariance, LedoitWolf
from sklearn.decomposition import PCA
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, StandardScaler
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport

rng = np.random.default_rng(7)
X = rng.normal(size=(24, 3)).round(2)
y3 = np.arange(24) % 3
y2 = (X[:, 0] + X[:, 1] > 0).astype(int)
yr = (X[:, 0] * 2 - X[:, 2]).round(2)

models = {
    "svc_rbf_three_classes": (SVC(kernel="rbf", gamma=0.5, C=1.0), y3, {}),
    "svc_poly_binary": (SVC(kernel="poly", degree=3, gamma=0.5, coef0=1.0), y2, {}),
    "svc_sigmoid_binary": (SVC(kernel="sigmoid", gamma=0.1, coef0=0.5), y2, {}),
    "nusvc_rbf": (NuSVC(nu=0.5, gamma=0.5), y3, {}),
    "one_class_svm_rbf": (OneClassSVM(gamma=0.5, nu=0.2), None, {}),
    "gaussian_nb": (GaussianNB(), y3, {"classmap": {0: "idle", 1: "wave", 2: "tap"}}),
    "linear_svc_binary": (LinearSVC(C=1.0, dual=True, max_iter=5000), y2, {}),
    "extra_trees_classifier": (ExtraTreesClassifier(n_estimators=2, max_depth=3, random_state=0), y3, {}),
    "extra_trees_regressor": (ExtraTreesRegressor(n_estimators=2, max_depth=2, random_state=0), yr, {}),
    "decision_tree_regressor_ranges": (DecisionTreeRegressor(max_depth=2, random_state=0), yr,
                                       {"calibration": X}),
    "decision_tree_string_labels_calibrated": (DecisionTreeClassifier(max_depth=2, random_state=0), y3,
                                               {"classmap": {0: "a", 1: "b", 2: "c"}, "calibration": X}),
    "random_forest_binary": (RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0), y2, {}),
    "pipeline_standard_tree": (make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=2, random_state=0)), y3, {}),
    "pipeline_minmax_clip_svc": (make_pipeline(MinMaxScaler(clip=True), SVC(gamma=0.5)), y2, {}),
    "pipeline_maxabs_linear_svc": (make_pipeline(MaxAbsScaler(), LinearSVC(dual=True, max_iter=5000)), y3, {}),
    "pipeline_standard_pca_svc": (make_pipeline(StandardScaler(), PCA(n_components=2), SVC(gamma=0.5)), y3, {}),
    "pca_plain": (PCA(n_components=2), None, {}),
    "empirical_covariance": (EmpiricalCovariance(), None, {}),
    "ledoit_wolf": (LedoitWolf(), None, {}),
    "elliptic_envelope_calibrated": (EllipticEnvelope(random_state=0), None, {"calibration": X}),
}

out = pathlib.Path(__file__).resolve().parent / "corpus"
out.mkdir(exist_ok=True)
for name, (estimator, target, options) in models.items():
    estimator.fit(X, target) if target is not None else estimator.fit(X)
    (out / f"{name}.json").write_text(mcuport.to_json(estimator, **options) + "\n")
    print(name)

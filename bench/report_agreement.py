"""Agreement report: every supported estimator on iris, wine, breast_cancer and digits (diabetes
for regressors), in both numeric modes, against scikit-learn on the whole test split.

Float mode is compared with scikit-learn on the same float32 inputs. Fixed mode is compared
with scikit-learn on the values the int16 codes stand for (the documented input contract); the
fixed-mode outputs come from the core's simulator, which is bit-identical to the generated C.
Per row it prints the share of equal predictions and the worst absolute error of the decision
values (scores) against scikit-learn's. It measures; it asserts nothing.

    python3 bench/report_agreement.py
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn import datasets
from sklearn.ensemble import (
    ExtraTreesClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC, NuSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import mcuport
from mcuport.host import HostModel

CLASSIFIERS = {
    "DecisionTreeClassifier": lambda: DecisionTreeClassifier(random_state=0),
    "RandomForestClassifier": lambda: RandomForestClassifier(random_state=0),
    "RandomForest(max_depth=6)": lambda: RandomForestClassifier(n_estimators=50, max_depth=6,
                                                                random_state=0),
    "ExtraTreesClassifier": lambda: ExtraTreesClassifier(random_state=0),
    "SVC(rbf)": lambda: SVC(),
    "SVC(linear)": lambda: SVC(kernel="linear"),
    "SVC(poly)": lambda: SVC(kernel="poly"),
    "SVC(sigmoid)": lambda: SVC(kernel="sigmoid", gamma="auto"),
    "NuSVC(rbf)": lambda: NuSVC(nu=0.1),
    "LinearSVC": lambda: LinearSVC(random_state=0),
    "GaussianNB": lambda: GaussianNB(),
}


def reference_scores(estimator, X):
    """scikit-learn's counterpart of the generated score vector."""
    if hasattr(estimator, "predict_joint_log_proba") and isinstance(estimator, GaussianNB):
        return estimator.predict_joint_log_proba(X)
    if isinstance(estimator, (SVC, NuSVC)):
        # One-vs-one values with libsvm's sign, as the generated code's decision values
        # (scikit-learn negates the binary case).
        decision = estimator._decision_function(X).reshape(len(X), -1)
        return -decision if len(estimator.classes_) == 2 else decision
    if isinstance(estimator, LinearSVC):
        return estimator.decision_function(X).reshape(len(X), -1)
    return estimator.predict_proba(X)


def row(name, dataset, numeric, estimator, X_train, X_test):
    try:
        generated = mcuport.generate(estimator, name="m", numeric=numeric,
                                     calibration=X_train if numeric == "fixed" else None)
    except ValueError as error:
        return f"{name:28} {dataset:14} {numeric:6} {'-':>9} {'-':>12}  {str(error)[:60]}"
    if numeric == "float":
        seen = X_test.astype(np.float32)
        with HostModel(generated) as model:
            predictions, scores = model.run(seen)
        unit = 1.0
    else:
        simulated = mcuport.load(mcuport.to_json(estimator, calibration=X_train))
        codes = simulated.quantize(X_test)
        seen = generated.dequantize(codes)
        predictions = simulated.predict_codes(codes)
        scores = simulated.scores_codes(codes)
        unit = simulated._sim.score_unit
    agree = np.mean(estimator.classes_[predictions] == estimator.predict(seen))
    error = "-"
    if scores is not None and scores.size:
        error = f"{np.max(np.abs(scores * unit - reference_scores(estimator, seen))):.3g}"
    return f"{name:28} {dataset:14} {numeric:6} {100 * agree:8.2f}% {error:>12}"


def main() -> None:
    print(f"command: {' '.join([sys.executable.split('/')[-1], *sys.argv])}")
    print(f"mcuport {mcuport.__version__}\n")
    print(f"{'model':28} {'data set':14} {'mode':6} {'agreement':>9} {'worst |score error|':>12}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for dataset in ("iris", "wine", "breast_cancer", "digits"):
        X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
        X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0,
                                                       stratify=y)
        for name, factory in CLASSIFIERS.items():
            estimator = factory().fit(X_train, y_train)
            for numeric in ("float", "fixed"):
                print(row(name, dataset, numeric, estimator, X_train, X_test), flush=True)
    X, y = datasets.load_diabetes(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    for name, estimator in (("DecisionTreeRegressor", DecisionTreeRegressor(random_state=0)),
                            ("RandomForestRegressor", RandomForestRegressor(random_state=0))):
        estimator.fit(X_train, y_train)
        for numeric in ("float", "fixed"):
            generated = mcuport.generate(estimator, name="m", numeric=numeric,
                                         calibration=X_train if numeric == "fixed" else None)
            with HostModel(generated) as model:
                if numeric == "fixed":
                    codes, seen = model.quantize(X_test)
                    values, _ = model.run(codes)
                    frac = int(generated.header.split("#define M_OUTPUT_FRAC_BITS ")[1].split()[0])
                    values = np.ldexp(values.astype(float), -frac)
                else:
                    seen = X_test.astype(np.float32)
                    values, _ = model.run(seen)
            error = np.max(np.abs(values - estimator.predict(seen)))
            print(f"{name:28} {'diabetes':14} {numeric:6} {'':>9} {error:12.3g}")


if __name__ == "__main__":
    main()

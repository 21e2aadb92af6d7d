"""Where micromlgen's generated code answers differently from scikit-learn, and mcuport's (with
micromlgen's interface, mcuport.micromlgen.port) does not: each case trains a small model with
a fixed seed, ports it with both tools, compiles both headers with g++ into the same sketch-like
program (`clf.predict(x)` or `clf.transform(x)` on float rows) and counts, over the whole test
split, the rows whose answer differs from scikit-learn's. docs/migrating-from-micromlgen.md
quotes its output.

    build/bench-venv/bin/python bench/micromlgen_differences.py     (bench/run makes the venv)
"""

from __future__ import annotations

import subprocess
from importlib import metadata
import sys
import tempfile
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, OneClassSVM

import micromlgen
import mcuport.micromlgen

SEED = 0

PROGRAM = r"""
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "model.h"

Eloquent::ML::Port::%(classname)s clf;

int main() {
    float x[%(width)d];
    for (;;) {
        for (int i = 0; i < %(n)d; i++) if (scanf("%%a", &x[i]) != 1) return 0;
%(body)s    }
}
"""
PREDICT = '        printf("%d\\n", (int)clf.predict(x));\n'
TRANSFORM = ('        clf.transform(x);\n'
             '        for (int k = 0; k < %d; k++) printf("%%a ", (double)x[k]);\n'
             '        printf("\\n");\n')


def split(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)


def run(header, classname, X, body, workdir):
    (workdir / "model.h").write_text(header)
    width = X.shape[1]
    (workdir / "main.cpp").write_text(PROGRAM % {"classname": classname, "width": width,
                                                  "n": width, "body": body})
    binary = workdir / "main"
    subprocess.run(["g++", "-std=c++11", "-O1", "-w", str(workdir / "main.cpp"), "-o",
                    str(binary)], check=True)
    rows = "\n".join(" ".join(float(v).hex() for v in row) for row in X.astype(np.float32))
    out = subprocess.run([str(binary)], input=rows + "\n", capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


def case(title, estimator, dataset, *, unsupervised=False, transform=False, prepare=None,
         outliers=False):
    X_train, X_test, y_train, _ = split(dataset)
    estimator.fit(X_train) if unsupervised else estimator.fit(X_train, y_train)
    if outliers:  # the test rows, and the same rows moved 3 standard deviations away
        X_test = np.vstack([X_test, X_test + 3 * X_train.std(axis=0)])
    X = X_test.astype(np.float32).astype(np.float64)
    classname = "Model"
    if prepare is not None:
        prepare(estimator)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        answers = {}
        for tool, header in (("micromlgen", micromlgen.port(estimator, classname=classname)),
                             ("mcuport", mcuport.micromlgen.port(estimator, classname=classname))):
            if transform:
                lines = run(header, classname, X, TRANSFORM % estimator.n_components_, workdir)
                answers[tool] = np.array([[float.fromhex(v) for v in line.split()]
                                          for line in lines])
            else:
                answers[tool] = np.array([int(line) for line in run(header, classname, X,
                                                                      PREDICT, workdir)])
    if transform:
        expected = estimator.transform(X)
        # A row differs where any output is off by more than float32's share of it.
        wrong = {tool: ~np.all(np.abs(got - expected) <= 1e-4 * (1 + np.abs(expected)), axis=1)
                 for tool, got in answers.items()}
    else:
        expected = estimator.predict(X)
        if not unsupervised:
            expected = np.searchsorted(estimator.classes_, expected)  # the class index
        wrong = {tool: got != expected for tool, got in answers.items()}
    print(f"{title} ({dataset}, {len(X)} rows): rows answered differently from "
          f"scikit-learn: micromlgen {int(wrong['micromlgen'].sum())}, "
          f"mcuport {int(wrong['mcuport'].sum())}")
    if outliers:
        for tool in ("micromlgen", "mcuport"):
            pairs = sorted({(int(e), int(g)) for e, g in zip(expected, answers[tool])})
            print(f"  {tool} answers (scikit-learn's, its own): {pairs}")
    first = np.flatnonzero(wrong["micromlgen"])
    if first.size:
        i = first[0]
        shown = (lambda a: np.array2string(np.asarray(a), precision=4, separator=", "))
        print(f"  first such row: test row {i}: scikit-learn {shown(expected[i])}, "
              f"micromlgen {shown(answers['micromlgen'][i])}, "
              f"mcuport {shown(answers['mcuport'][i])}")


def main():
    print(f"micromlgen {metadata.version('micromlgen')}, scikit-learn {sklearn.__version__}, "
          f"mcuport {mcuport.__version__}; command: {' '.join(sys.argv)}")
    case("RandomForestClassifier(n_estimators=10, max_depth=4): hard votes",
         RandomForestClassifier(n_estimators=10, max_depth=4, random_state=SEED), "digits")
    # micromlgen asks for an explicit float gamma, even for the linear kernel.
    case("SVC(kernel='rbf', gamma=1e-4), two classes: the binary decision's sign",
         SVC(gamma=1e-4), "breast_cancer")
    case("SVC(kernel='linear'), two classes: the binary decision's sign",
         SVC(kernel="linear", gamma=1e-4), "breast_cancer")

    def old_attribute(estimator):
        estimator.sigma_ = estimator.var_  # micromlgen reads the name scikit-learn 1.2 removed
    case("GaussianNB(): micromlgen's likelihood formula", GaussianNB(), "wine",
         prepare=old_attribute)
    case("PCA(n_components=2, whiten=True): whitening", PCA(n_components=2, whiten=True), "iris",
         unsupervised=True, transform=True)
    case("OneClassSVM(nu=0.1, gamma=0.1): +1/-1", OneClassSVM(nu=0.1, gamma=0.1), "iris",
         unsupervised=True, outliers=True)


if __name__ == "__main__":
    main()

"""Benchmark: host instructions per prediction of the generated code, next to the arithmetic the
model needs (multiply-accumulates, kernel evaluations), so the overhead is visible.

Each header is compiled with the host C compiler (-O2) into a driver that reads the test split
into memory and then calls predict on every row inside one function; valgrind's callgrind
counts the instructions executed in that function (--toggle-collect), divided by the rows.
Instruction counts are exact and repeatable, unlike timings. It measures; it asserts nothing.

    python3 bench/instructions_per_prediction.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

import mcuport

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

#if M_FIXED_POINT
typedef int16_t input_t;
#else
typedef float input_t;
#endif

volatile long sink;

__attribute__((noinline)) void run_predictions(const input_t *rows, long n) {
    long i;
    long total = 0;
    for (i = 0; i < n; ++i) {
        total += (long)m_predict(rows + i * M_N_FEATURES);
    }
    sink = total;
}

int main(void) {
    static input_t rows[1 << 20];
    const long n = (long)(fread(rows, sizeof(input_t) * M_N_FEATURES,
                                (sizeof rows / sizeof rows[0]) / M_N_FEATURES, stdin));
    run_predictions(rows, n);
    return 0;
}
"""


def count_instructions(generated: mcuport.Generated, inputs: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "model.h").write_text(generated.header)
        Path(tmp, "driver.c").write_text(DRIVER)
        subprocess.run(["cc", "-std=c99", "-O2", "driver.c", "-o", "driver", "-lm"], cwd=tmp,
                       check=True)
        Path(tmp, "rows.bin").write_bytes(np.ascontiguousarray(inputs).tobytes())
        with open(Path(tmp, "rows.bin"), "rb") as rows:
            subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=run_predictions",
                            "--callgrind-out-file=cg.out", "./driver"], cwd=tmp, stdin=rows,
                           check=True, capture_output=True)
        summary = subprocess.run(["callgrind_annotate", "cg.out"], cwd=tmp, capture_output=True,
                                 text=True, check=True).stdout
        total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", summary).group(1)
                    .replace(",", ""))
    return total / len(inputs)


def work(estimator, n_features: int) -> str:
    """The arithmetic one prediction needs, in the issue's terms."""
    if isinstance(estimator, LinearSVC):
        return f"{estimator.coef_.size} MAC"
    if isinstance(estimator, SVC) and estimator.kernel == "linear":
        n_pairs = len(estimator.intercept_)
        return f"{n_pairs * n_features} MAC"
    if isinstance(estimator, SVC):
        n_sv = len(estimator.support_vectors_)
        extra = {"rbf": "exp", "sigmoid": "tanh", "poly": "pow"}[estimator.kernel]
        return f"{n_sv * n_features} MAC + {n_sv} {extra}"
    if isinstance(estimator, GaussianNB):
        return f"{2 * estimator.theta_.size} mul-add"
    return "-"


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian package valgrind)")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"mcuport {mcuport.__version__}; host cc -O2; instructions counted by callgrind\n")
    print(f"{'model':24} {'data set':8} {'mode':6} {'instructions/prediction':>24}  work")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for dataset in ("wine", "digits"):
        X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0,
                                                       stratify=y)
        models = {
            "LinearSVC": LinearSVC(random_state=0),
            "SVC(linear)": SVC(kernel="linear"),
            "SVC(rbf)": SVC(kernel="rbf"),
            "SVC(poly)": SVC(kernel="poly"),
            "GaussianNB": GaussianNB(),
        }
        for name, estimator in models.items():
            estimator.fit(X_train, y_train)
            for numeric in ("float", "fixed"):
                try:
                    generated = mcuport.generate(estimator, name="m", numeric=numeric,
                                                 calibration=X_train)
                except ValueError as error:  # a refusal, said in the table
                    print(f"{name:24} {dataset:8} {numeric:6} not ported: {str(error)[:60]}",
                          flush=True)
                    continue
                inputs = X_test.astype(np.float32)
                if numeric == "fixed":
                    inputs = mcuport.load(mcuport.to_json(estimator, calibration=X_train)).quantize(X_test)
                per = count_instructions(generated, inputs)
                print(f"{name:24} {dataset:8} {numeric:6} {per:24,.0f}  "
                      f"{work(estimator, X.shape[1])}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: instructions per prediction of the fixed-mode arithmetic families on emulated
Cortex-M4F and Cortex-M0 (Unicorn counts on the target's own -Os build, mcuport.firmware), next
to the model's multiply-accumulates and the model's flash. It measures; it asserts nothing.

MACs: linear SVC n_pairs * n_features, LinearSVC n_classes * n_features, kernel SVMs
n_sv * n_features, GaussianNB n_classes * n_features, PCA n_components * n_features,
Mahalanobis n_features^2 + n_features. Raw (unscaled) features, as a user would port them.

    python3 bench/emulated_cost_per_mac.py [families] [data sets] [targets]
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn.covariance import EllipticEnvelope, MinCovDet
from sklearn.datasets import load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.svm import SVC, LinearSVC, OneClassSVM

import mcuport
from mcuport.firmware import TargetModel


def models(X_train, y_train, n_features, n_classes):
    pairs = n_classes * (n_classes - 1) // 2
    n_sv = lambda e: e.support_vectors_.shape[0] * n_features  # noqa: E731
    mahalanobis = lambda e: e.location_.shape[0] ** 2 + e.location_.shape[0]  # noqa: E731
    yield "SVC(linear)", lambda: SVC(kernel="linear").fit(X_train, y_train), lambda e: pairs * n_features
    # random_state: the dual solver visits the samples in a random order.
    yield "LinearSVC", lambda: LinearSVC(dual=True, max_iter=20000, random_state=0).fit(
        X_train, y_train), lambda e: n_classes * n_features
    yield "SVC(rbf)", lambda: SVC(gamma="scale").fit(X_train, y_train), n_sv
    yield "SVC(poly)", lambda: SVC(kernel="poly", gamma="scale").fit(X_train, y_train), n_sv
    yield "SVC(sigmoid)", lambda: SVC(kernel="sigmoid", gamma="scale").fit(X_train, y_train), n_sv
    yield "OneClassSVM", lambda: OneClassSVM(gamma="scale").fit(X_train), n_sv
    yield "GaussianNB", lambda: GaussianNB().fit(X_train, y_train), lambda e: n_classes * n_features
    yield "PCA(4)", lambda: PCA(4).fit(X_train), lambda e: 4 * n_features
    yield "EllipticEnvelope", lambda: EllipticEnvelope(random_state=0).fit(X_train), mahalanobis
    yield "MinCovDet", lambda: MinCovDet(random_state=0).fit(X_train), mahalanobis


def main() -> None:
    warnings.simplefilter("ignore")
    only = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else None
    data_sets = sys.argv[2].split(",") if len(sys.argv) > 2 else ["wine", "digits"]
    targets = sys.argv[3].split(",") if len(sys.argv) > 3 else ["cortex-m4f", "cortex-m0"]
    print(f"{'model':18s} {'data':7s} {'target':11s} {'instructions':>13s} {'MACs':>7s} "
          f"{'per MAC':>8s} {'flash':>8s}")
    for name in data_sets:
        X, y = (load_wine if name == "wine" else load_digits)(return_X_y=True)
        X_train, X_test, y_train, _ = train_test_split(X, y, random_state=0)
        for kind, fit, macs in models(X_train, y_train, X.shape[1], len(set(y))):
            if only and kind not in only:
                continue
            try:
                estimator = fit()
            except Exception as error:  # noqa: BLE001 (a singular covariance on digits)
                print(f"{kind:18s} {name:7s} fit failed: {error}")
                continue
            n_macs = macs(estimator)
            rows = X_test[: 20 if n_macs < 5000 else 4]
            for target in targets:
                try:
                    generated = mcuport.generate(estimator, numeric="fixed", calibration=X_train,
                                                 target=target)
                except Exception as error:  # noqa: BLE001 (too large for the target, singular)
                    print(f"{kind:18s} {name:7s} {target:11s} not ported: {str(error)[:60]}")
                    continue
                q = generated.input_quantization
                codes = np.clip(np.round(rows / q[:, 2] + q[:, 3]), -32768, 32767).astype(np.int16)
                with TargetModel(generated) as chip:
                    cost = chip.measure(codes)
                count = float(cost.counts.mean())
                print(f"{kind:18s} {name:7s} {target:11s} {count:13,.0f} {n_macs:7d} "
                      f"{count / n_macs:8.2f} {cost.model_flash_bytes:8,d}", flush=True)


if __name__ == "__main__":
    main()

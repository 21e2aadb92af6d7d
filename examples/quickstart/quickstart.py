"""mcuport quickstart: train, port, compile, run, compare.

Trains a random forest on scikit-learn's digits data set, ports it to C in both numeric modes,
compiles each header with the host C compiler (strict C99 flags), runs the compiled code on the
whole test split and prints how often it agrees with scikit-learn and how big the model is.

    python3 examples/quickstart/quickstart.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mcuport
from mcuport.host import HostModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="build/quickstart", help="where the headers go")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    clf = RandomForestClassifier(n_estimators=30, max_depth=10, random_state=0)
    clf.fit(X_train, y_train)
    print(
        f"RandomForestClassifier(n_estimators=30, max_depth=10) on digits: "
        f"{len(X_train)} training rows, {len(X_test)} test rows, {X.shape[1]} features\n"
    )

    rows = []
    for numeric, layout in (("float", "fast"), ("fixed", "fast"), ("fixed", "compact")):
        generated = mcuport.generate(
            clf, name="digits", numeric=numeric, layout=layout,
            calibration=X_train if numeric == "fixed" else None,
        )
        path = out / f"digits_{numeric}_{layout}.h"
        path.write_text(generated.header)
        with HostModel(generated) as model:
            if numeric == "float":
                inputs = X_test.astype(np.float32)
                seen = inputs  # the float32 values scikit-learn itself compares
            else:
                inputs, seen = model.quantize(X_test)  # int16 codes, and what they stand for
            classes, _ = model.run(inputs)
        predicted = clf.classes_[classes]
        agree = int(np.sum(predicted == clf.predict(seen)))
        accuracy = float(np.mean(predicted == y_test))
        rows.append((numeric, agree, accuracy, generated.table_bytes, layout, path))

    print(f"{'mode':6} {'agrees with scikit-learn':>26} {'accuracy':>9} {'model tables':>14}  "
          f"{'layout':8} header")
    for numeric, agree, accuracy, table_bytes, layout, path in rows:
        share = f"{agree}/{len(X_test)} ({100.0 * agree / len(X_test):.2f}%)"
        print(f"{numeric:6} {share:>26} {100 * accuracy:8.2f}% {table_bytes:>8,} bytes  "
              f"{layout:8} {path}")
    print(
        "\nfloat: float32 inputs, compared with scikit-learn on the same inputs.\n"
        "fixed: int16 inputs, integer-only code; compared with scikit-learn on the values the\n"
        "       int16 codes stand for (see the input contract at the top of the header).\n"
        "fast: each tree is straight-line code (its splits are code, not tables); compact: the\n"
        "       splits are packed tables walked by one loop, for the least flash."
    )


if __name__ == "__main__":
    main()

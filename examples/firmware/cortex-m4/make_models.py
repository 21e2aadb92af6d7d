"""Generates what the firmware includes: two models ported by mcuport and the rows they run on.

    python3 make_models.py [--out DIR]       (the Makefile runs it; DIR defaults to build/)

- forest.h: a random forest on iris, fixed mode (integer-only predict), for Cortex-M4F;
- bayes.h: a Gaussian naive Bayes on the same features, float mode (the M4F has an FPU);
- rows.h: the test split as float rows (hexadecimal literals, exact);
- expected.txt: scikit-learn's answer for each row, one line per row, as the firmware prints it
  ("<row> <forest label> <bayes label>"): the forest's on the values its int16 codes stand for
  (fixed mode's contract), the naive Bayes' on the float32 rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB

import mcuport

SEED = 0
NAMES = {0: "setosa", 1: "versicolor", 2: "virginica"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "build")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=SEED,
                                                   stratify=y)
    forest = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=SEED)
    forest.fit(X_train, y_train)
    bayes = GaussianNB().fit(X_train, y_train)

    target = "cortex-m4f"
    fixed = mcuport.generate(forest, name="forest", classmap=NAMES, numeric="fixed",
                             calibration=X_train, target=target)
    (out / "forest.h").write_text(fixed.header)
    (out / "bayes.h").write_text(mcuport.port(bayes, name="bayes", classmap=NAMES,
                                              numeric="float", target=target))

    rows = X_test.astype(np.float32)
    literals = ",\n".join("    {" + ", ".join(f"{float(v).hex()}f" for v in row) + "}"
                          for row in rows)
    (out / "rows.h").write_text(
        "/* The iris test split (25%, seed 0) as float32, written by make_models.py. */\n"
        f"#define ROWS_N {len(rows)}u\n"
        f"static const float rows[ROWS_N][{rows.shape[1]}] = {{\n{literals}\n}};\n")

    # What scikit-learn answers: the forest on the values the fixed-mode codes stand for.
    codes = mcuport.load(mcuport.to_json(forest, classmap=NAMES, calibration=X_train)).quantize(rows)
    seen = fixed.dequantize(codes).astype(np.float64)
    expected_forest = forest.predict(seen)
    expected_bayes = bayes.predict(rows.astype(np.float64))
    (out / "expected.txt").write_text("".join(
        f"{i} {NAMES[a]} {NAMES[b]}\n" for i, (a, b) in enumerate(zip(expected_forest,
                                                                       expected_bayes))))


if __name__ == "__main__":
    main()

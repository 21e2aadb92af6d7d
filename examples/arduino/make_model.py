"""Writes the headers the Arduino sketch and the PlatformIO project include.

    python3 make_model.py --out iris_classifier           (the sketch's folder)
    python3 make_model.py --out platformio/include        (the PlatformIO project)

- model.h: a random forest on iris, ported by mcuport for the ATmega328P (Arduino Uno) in fixed
  mode: integer-only predict, tables and labels in flash (PROGMEM). It carries both interfaces:
  the C API (iris_predict, iris_quantize, iris_label) and micromlgen's class
  (Eloquent::ML::Port::Iris).
- rows.h: the test split as float rows in flash, for the sketch to classify.
- expected.txt: what the sketch must print, line by line: scikit-learn's answers (on the values
  the int16 codes stand for, fixed mode's contract).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mcuport

SEED = 0
NAMES = {0: "setosa", 1: "versicolor", 2: "virginica"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=SEED,
                                                   stratify=y)
    forest = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=SEED)
    forest.fit(X_train, y_train)
    generated = mcuport.generate(forest, classmap=NAMES, numeric="fixed", calibration=X_train,
                                 target="avr-atmega328p", style="micromlgen", classname="Iris")
    (out / "model.h").write_text(generated.header)

    rows = X_test.astype(np.float32)
    literals = ",\n".join("    {" + ", ".join(f"{float(v).hex()}f" for v in row) + "}"
                          for row in rows)
    (out / "rows.h").write_text(
        "/* The iris test split (25%, seed 0) as float32, in flash; written by make_model.py. */\n"
        "#include <avr/pgmspace.h>\n"
        f"#define ROWS_N {len(rows)}u\n"
        f"static const float rows[ROWS_N][{rows.shape[1]}] PROGMEM = {{\n{literals}\n}};\n")

    codes = mcuport.load(mcuport.to_json(forest, classmap=NAMES, calibration=X_train)).quantize(rows)
    expected = forest.predict(generated.dequantize(codes).astype(np.float64))
    (out / "expected.txt").write_text("".join(f"{i} {NAMES[k]}\n" for i, k in enumerate(expected)))


if __name__ == "__main__":
    main()

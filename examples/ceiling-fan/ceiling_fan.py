"""mcuport ceiling-fan example: an unbalanced-blade detector, from accelerometer windows to C.

Reads the ceiling-fan recordings (one CSV per 1 s window of x, y, z acceleration in g at
200 Hz), computes one feature per axis the way firmware would (the total variation of the first
128 samples, integers only), fits a Mahalanobis detector on normal running-fan windows, ports
it to integer-only C with mcuport, runs the generated C on this machine and prints, side by
side for numpy and for the C code, the detection rate on unbalanced-blade recordings and the
false-alarm rate on held-out normal recordings, their agreement, and the model's flash and RAM
on a Cortex-M4.

    python3 examples/ceiling-fan/ceiling_fan.py [--subset N] [--out DIR] [--data DIR]
    python3 examples/ceiling-fan/ceiling_fan.py --compare-features   # the feature study
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import mcuport
from mcuport.host import STRICT_FLAGS, HostModel, find_compiler

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ceiling-fan"

SEED = 0
WINDOW = 128  # samples per window: 0.64 s at 200 Hz, as in the original analysis
COUNTS_PER_G = 2048  # the CSV values are multiples of 1/2048 g: the sensor's raw counts
SPEEDS = ("low", "med", "high")
NORMAL = {speed: f"fan_0_{speed}_0_weight" for speed in SPEEDS}
UNBALANCED = {speed: f"fan_0_{speed}_1_weight" for speed in SPEEDS}
# Normal recordings the detector is not trained on: the fan switched off (firmware skips these
# windows, see README) and the fan running at low speed while being moved around.
OTHER_NORMAL = {"off": "fan_0_off_0_weight", "moving": "fan_0_low_0_weight-moving"}
# The input range of each feature in fixed mode: the int16 code is total - 32768, exactly.
INPUT_RANGES = [(0.0, 65535.0)] * 3


# --------------------------------------------------------------------------------------------
# Features: what the firmware computes (tv_features.h is the same function in C).

def window_features(window: np.ndarray) -> np.ndarray:
    """Total variation of each axis: sum over n = 1..127 of |a[n] - a[n-1]|, in raw counts.

    window: (128, 3) integer counts (x, y, z). Returns 3 integers.
    """
    steps = np.diff(window.astype(np.int64), axis=0)
    return np.abs(steps).sum(axis=0)


def features(windows: np.ndarray) -> np.ndarray:
    """window_features of every window: (n, 128, 3) counts -> (n, 3) float64 (exact integers)."""
    return np.array([window_features(w) for w in windows], dtype=np.float64).reshape(-1, 3)


# --------------------------------------------------------------------------------------------
# Data

def load_condition(folder: Path, subset: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first WINDOW rows of the files of one condition (at most `subset` of them).

    Returns (windows (n, 128, 3) int16 counts, their file indices in recording order), both in
    the order of a fixed-seed shuffle: the splits below take consecutive slices of it.
    """
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {folder}")
    order = np.random.default_rng(SEED).permutation(len(files))
    if subset is not None:
        order = order[:subset]
    windows = []
    for index in order:
        g = np.loadtxt(files[index], delimiter=",", max_rows=WINDOW, ndmin=2)
        if g.shape != (WINDOW, 3):
            raise SystemExit(f"{files[index]}: expected at least {WINDOW} rows of x, y, z")
        windows.append(np.round(g * COUNTS_PER_G))
    return np.asarray(windows, dtype=np.int16), order


def split(n: int, normal: bool) -> dict:
    """Slices of the shuffled files: normal 60/20/20 train/val/test, others 50/50 val/test."""
    if normal:
        n_test = round(0.2 * n)
        n_val = round(0.2 * n)
        return {"test": slice(0, n_test), "val": slice(n_test, n_test + n_val),
                "train": slice(n_test + n_val, n)}
    return {"test": slice(0, n // 2), "val": slice(n // 2, n)}


def load_all(data: Path, subset: int | None) -> dict:
    """{condition: {"windows", "order", "splits"}} for every condition of the data set."""
    conditions = {}
    for kind, table in (("normal", NORMAL), ("unbalanced", UNBALANCED), ("other", OTHER_NORMAL)):
        for key, folder in table.items():
            windows, order = load_condition(data / folder, subset)
            conditions[(kind, key)] = {
                "windows": windows,
                "order": order,
                "splits": split(len(windows), kind == "normal"),
            }
    return conditions


def part(conditions: dict, kind: str, key: str, role: str, X: dict) -> np.ndarray:
    c = conditions[(kind, key)]
    return X[(kind, key)][c["splits"][role]]


# --------------------------------------------------------------------------------------------
# Mahalanobis detector in numpy (the original recipe)

def fit_mahalanobis(X_train: np.ndarray, X_val: np.ndarray):
    """Mean and covariance of the training rows; threshold on the squared distance from the
    validation distances: (mean + 3 std)^2, the original analysis's rule on distances."""
    location = X_train.mean(axis=0)
    covariance = np.cov(X_train, rowvar=False)
    precision = np.linalg.inv(covariance)
    distance = np.sqrt(squared_distance(X_val, location, precision))
    threshold = float(distance.mean() + 3 * distance.std()) ** 2
    return location, covariance, precision, threshold


def squared_distance(X: np.ndarray, location: np.ndarray, precision: np.ndarray) -> np.ndarray:
    centered = X - location
    return np.einsum("ij,jk,ik->i", centered, precision, centered)


# --------------------------------------------------------------------------------------------
# Port and run

def port_model(location, covariance, threshold):
    """The detector as an mcuport model, and its integer-only C.

    The input ranges are the sensor's, not the training data's (calibration=X_train): an
    anomaly lies outside the training data by definition, and a code saturated at the edge of
    the training range can look normal (README: "Input ranges").
    """
    model = mcuport.Mahalanobis(location=location, covariance=covariance, threshold=threshold)
    generated = mcuport.generate(model, name="fan", numeric="fixed", input_ranges=INPUT_RANGES)
    return model, generated


def c_features(windows: np.ndarray, workdir: Path) -> np.ndarray:
    """The int16 codes tv_features.h computes from the windows, compiled for this machine."""
    driver = workdir / "tv_driver.c"
    driver.write_text(
        '#include <stdio.h>\n#include "tv_features.h"\n'
        "int main(void) {\n"
        "    int16_t window[TV_WINDOW][TV_AXES];\n"
        "    int16_t codes[TV_AXES];\n"
        "    while (fread(window, sizeof window, 1, stdin) == 1) {\n"
        "        tv_state_t tv;\n"
        "        uint32_t n;\n"
        "        tv_reset(&tv);\n"
        "        for (n = 0; n < TV_WINDOW; ++n) tv_add(&tv, window[n]);\n"
        "        tv_codes(&tv, codes);\n"
        "        if (fwrite(codes, sizeof codes, 1, stdout) != 1) return 1;\n"
        "    }\n"
        "    return 0;\n"
        "}\n"
    )
    binary = workdir / "tv_driver"
    subprocess.run(
        [*find_compiler().split(), "-std=c99", "-O1", *STRICT_FLAGS, f"-I{HERE}", str(driver),
         "-o", str(binary)],
        check=True, capture_output=True, text=True,
    )
    rows = np.ascontiguousarray(windows, dtype=np.int16)
    out = subprocess.run([str(binary)], input=rows.tobytes(), capture_output=True, check=True)
    return np.frombuffer(out.stdout, dtype=np.int16).reshape(len(windows), 3).copy()


# --------------------------------------------------------------------------------------------
# Flash and RAM on a Cortex-M4

M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-ffunction-sections", "-fdata-sections",
            "-std=c99", "-fstack-usage", *STRICT_FLAGS, "-c"]
# Three programs: the model's share is "model" minus "baseline"; "features" adds tv_features.h
# fed one sample at a time, as firmware would.
PROGRAMS = {
    "baseline": """#include <stdint.h>
volatile int16_t fan_input[3];
volatile int32_t fan_output;
void fan_entry(void) {
    int16_t x[3];
    int i;
    for (i = 0; i < 3; ++i) x[i] = fan_input[i];
    fan_output = x[0];
}
""",
    "model": """#include <stdint.h>
#include "fan.h"
volatile int16_t fan_input[3];
volatile int32_t fan_output;
void fan_entry(void) {
    int16_t x[3];
    int i;
    for (i = 0; i < 3; ++i) x[i] = fan_input[i];
    fan_output = fan_predict(x);
}
""",
    "features": """#include <stdint.h>
#include "fan.h"
#include "tv_features.h"
volatile int16_t fan_input[3];
volatile int32_t fan_output;
static tv_state_t tv;
void fan_entry(void) {
    int16_t x[3];
    int16_t codes[3];
    int i;
    uint32_t n;
    tv_reset(&tv);
    for (n = 0; n < TV_WINDOW; ++n) {
        for (i = 0; i < 3; ++i) x[i] = fan_input[i];
        tv_add(&tv, x);
    }
    tv_codes(&tv, codes);
    fan_output = fan_predict(codes);
}
""",
}


def cortex_m4_size(header: str, workdir: Path) -> dict | None:
    """Flash and RAM on a Cortex-M4: object sizes (arm-none-eabi-size) of a translation unit
    calling fan_predict on a volatile input, minus the same program without the model; RAM is
    static data plus the stack frames (-fstack-usage, summed: an upper bound)."""
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("arm-none-eabi-size")):
        return None
    (workdir / "fan.h").write_text(header)
    shutil.copy(HERE / "tv_features.h", workdir / "tv_features.h")
    sizes = {}
    for name, program in PROGRAMS.items():
        (workdir / f"m4_{name}.c").write_text(program)
        subprocess.run(["arm-none-eabi-gcc", *M4_FLAGS, f"m4_{name}.c", "-o", f"m4_{name}.o"],
                       cwd=workdir, check=True, capture_output=True, text=True)
        out = subprocess.run(["arm-none-eabi-size", f"m4_{name}.o"], cwd=workdir, check=True,
                             capture_output=True, text=True).stdout
        text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
        stack = sum(int(line.split("\t")[1])
                    for line in (workdir / f"m4_{name}.su").read_text().splitlines())
        sizes[name] = {"text": text, "data": data, "bss": bss, "stack": stack}
    base = sizes["baseline"]
    share = {}
    for name in ("model", "features"):
        s = sizes[name]
        static = (s["data"] + s["bss"]) - (base["data"] + base["bss"])
        stack = s["stack"] - base["stack"]
        share[name] = {"flash": (s["text"] + s["data"]) - (base["text"] + base["data"]),
                       "static_ram": static, "stack": stack, "ram": static + stack}
    return {
        "command": "arm-none-eabi-gcc " + " ".join(M4_FLAGS) + " m4_model.c; "
                   "arm-none-eabi-size m4_model.o",
        "objects": sizes,
        **share["model"],
        "with_features": share["features"],
    }


# --------------------------------------------------------------------------------------------
# Report

def rate(flags: np.ndarray) -> float:
    return float(np.mean(flags)) if len(flags) else float("nan")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"the ceiling-fan folder (default {DEFAULT_DATA})")
    parser.add_argument("--subset", type=int, default=None,
                        help="use at most N files per condition (fixed seed)")
    parser.add_argument("--out", type=Path, default=Path("build/ceiling-fan"),
                        help="where fan.h, results.json and the size build go "
                             "(default build/ceiling-fan)")
    parser.add_argument("--compare-features", action="store_true",
                        help="print the feature study on the validation split and stop")
    args = parser.parse_args(argv)
    if args.subset is not None and args.subset < 10:
        parser.error("--subset needs at least 10 files per condition")
    if not args.data.is_dir():
        raise SystemExit(f"data folder not found: {args.data} (pass --data)")
    started = time.perf_counter()
    conditions = load_all(args.data, args.subset)

    if args.compare_features:
        sys.path.insert(0, str(HERE))
        from feature_study import compare_features

        study = compare_features(conditions)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "feature_study.json").write_text(json.dumps(study, indent=2))
        return study

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    X = {key: features(c["windows"]) for key, c in conditions.items()}
    X_train = np.vstack([part(conditions, "normal", s, "train", X) for s in SPEEDS])
    X_val = np.vstack([part(conditions, "normal", s, "val", X) for s in SPEEDS])
    location, covariance, precision, threshold = fit_mahalanobis(X_train, X_val)
    model, generated = port_model(location, covariance, threshold)
    (out / "fan.h").write_text(generated.header)

    # Every test window, through numpy and through the generated C (features and model).
    test = [(kind, key) for kind, table in (("unbalanced", UNBALANCED), ("normal", NORMAL),
                                            ("other", OTHER_NORMAL)) for key in table]
    windows = np.concatenate([conditions[k]["windows"][conditions[k]["splits"]["test"]]
                              for k in test])
    X_test = np.concatenate([part(conditions, *k, "test", X) for k in test])
    owner = np.concatenate([[i] * len(part(conditions, *k, "test", X))
                            for i, k in enumerate(test)])
    d2 = squared_distance(X_test, location, precision)
    numpy_mahalanobis = np.where(d2 <= threshold, 1, -1)
    numpy_model = model.predict(X_test)
    codes = c_features(windows, out)
    if not np.array_equal(codes.astype(np.int64) + 32768, np.minimum(X_test, 65535)):
        raise SystemExit("tv_features.h disagrees with window_features()")
    with HostModel(generated) as host:
        quantized, _ = host.quantize(X_test)  # the header's own fan_quantize(), in float
        if not np.array_equal(quantized, codes):
            raise SystemExit("tv_codes() disagrees with the header's input contract")
        c_model, scores = host.run(codes)
    agree = c_model == numpy_model
    size = cortex_m4_size(generated.header, out)

    # The share of windows flagged as outliers, per condition and pooled.
    def flagged(mask):
        return {"n": int(mask.sum()), "numpy": rate(numpy_mahalanobis[mask] == -1),
                "c": rate(c_model[mask] == -1)}

    rows = [{"kind": kind, "condition": key, **flagged(owner == i)}
            for i, (kind, key) in enumerate(test)]
    detection = flagged(np.isin(owner, [i for i, k in enumerate(test) if k[0] == "unbalanced"]))
    false_alarm = flagged(np.isin(owner, [i for i, k in enumerate(test) if k[0] == "normal"]))

    n_train = len(X_train)
    shown = os.path.relpath(args.data.resolve(), ROOT)
    print(f"Ceiling fan, {shown}: {WINDOW}-sample windows (0.64 s at 200 Hz), "
          f"{'all files' if args.subset is None else f'at most {args.subset} files'} per condition")
    print("features: total variation of x, y, z (sum of |a[n] - a[n-1]|, raw counts)")
    print(f"Mahalanobis detector fitted on {n_train} normal windows (low/med/high, 60%), "
          f"threshold from {len(X_val)} validation windows (20%):\n"
          f"  distance <= mean + 3 std = {np.sqrt(threshold):.3f}, squared {threshold:.3f}")
    print(f"\n{'':34}{'windows':>8}{'numpy':>9}{'generated C':>13}")
    print("detection rate (unbalanced blade, held-out files)")
    for row in rows:
        if row["kind"] == "unbalanced":
            print(f"  {row['condition']:32}{row['n']:>8}{100 * row['numpy']:8.1f}%"
                  f"{100 * row['c']:12.1f}%")
    print(f"  {'overall':32}{detection['n']:>8}{100 * detection['numpy']:8.1f}%"
          f"{100 * detection['c']:12.1f}%")
    print("false-alarm rate (normal, held-out test files)")
    for row in rows:
        if row["kind"] == "normal":
            print(f"  {row['condition']:32}{row['n']:>8}{100 * row['numpy']:8.1f}%"
                  f"{100 * row['c']:12.1f}%")
    print(f"  {'overall (running fan)':32}{false_alarm['n']:>8}"
          f"{100 * false_alarm['numpy']:8.1f}%{100 * false_alarm['c']:12.1f}%")
    for row in rows:
        if row["kind"] == "other":
            note = {"off": "off (not trained, see README)",
                    "moving": "low + moved around (not trained)"}[row["condition"]]
            print(f"  {note:32}{row['n']:>8}{100 * row['numpy']:8.1f}%{100 * row['c']:12.1f}%")
    print(f"\nagreement, generated C vs mcuport.Mahalanobis.predict: {int(agree.sum())}/"
          f"{len(agree)} ({100 * agree.mean():.2f}%) identical decisions on every test window")
    frac_bits = int(re.search(r"#define FAN_SCORE_FRAC_BITS (\d+)", generated.header)[1])
    c_d2 = scores[:, 0].astype(np.float64) / 2.0 ** frac_bits
    score_error = float(np.max(np.abs(c_d2 - d2)))
    numpy_agree = float(np.mean(numpy_model == numpy_mahalanobis))
    print(f"  squared distance: max |fan_score / 2^{frac_bits} - numpy| = {score_error:.3g} "
          f"(threshold {threshold:.3f}); mcuport.Mahalanobis vs the numpy column "
          f"{100 * numpy_agree:.2f}%")
    print(f"  features: tv_features.h compiled on this machine gives the same codes as "
          f"window_features() + fan_quantize() on all {len(codes)} windows")
    if size is None:
        print("\nCortex-M4 size: arm-none-eabi-gcc not found, not measured")
    else:
        o = size["objects"]
        f = size["with_features"]
        print(f"\nCortex-M4, the model's share of a program calling fan_predict: flash "
              f"{size['flash']} bytes (tables {generated.table_bytes}), RAM {size['ram']} bytes "
              f"(static {size['static_ram']} + stack {size['stack']})")
        print(f"  with tv_features.h fed sample by sample: flash {f['flash']} bytes, RAM "
              f"{f['ram']} bytes (static {f['static_ram']} + stack {f['stack']})")
        print(f"  {size['command']}")
        print("  text/data/bss/stack: " + ", ".join(
            f"{name} {v['text']}/{v['data']}/{v['bss']}/{v['stack']}" for name, v in o.items()))
    elapsed = time.perf_counter() - started
    print(f"\nheader: {out / 'fan.h'}; {elapsed:.1f} s")

    results = {
        "subset": args.subset,
        "n_train": n_train,
        "threshold": threshold,
        "rows": rows,
        "detection": detection,
        "false_alarm": false_alarm,
        "agreement": float(agree.mean()),
        "n_agreement": int(len(agree)),
        "score_error": score_error,
        "table_bytes": generated.table_bytes,
        "cortex_m4": size,
        "seconds": elapsed,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

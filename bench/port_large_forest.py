"""Benchmark: port a 500-tree RandomForestClassifier (no depth limit) trained on digits.

Prints the time to export the estimator (Python), to port the model document (C++ core, load
through emit), the header size and the bytes of the model's tables, per numeric mode, and the
size of the code the host compiler makes of it. It measures; it asserts nothing.

    python3 bench/port_large_forest.py [--trees 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mcuport


def best_of(repeat: int, fn):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def compiled_size(header: str, numeric: str):
    """(text, rodata) bytes of an object calling predict and predict_proba, host cc -Os."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    xt, pt = ("int16_t", "int32_t") if numeric == "fixed" else ("float", "float")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "model.h").write_text(header)
        Path(tmp, "entry.c").write_text(
            f'#include "model.h"\nint32_t entry(const {xt} x[]) {{ return big_predict(x); }}\n'
            f"void entry_proba(const {xt} x[], {pt} out[]) {{ big_predict_proba(x, out); }}\n"
        )
        start = time.perf_counter()
        subprocess.run([cc, "-std=c99", "-Os", "-c", "entry.c", "-o", "entry.o"], cwd=tmp, check=True)
        seconds = time.perf_counter() - start
        sizes = subprocess.run(["size", "-A", "entry.o"], cwd=tmp, capture_output=True, text=True)
        sections = {}
        for line in sizes.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                sections[parts[0]] = int(parts[1])
        text = sum(v for k, v in sections.items() if k.startswith(".text"))
        rodata = sum(v for k, v in sections.items() if k.startswith(".rodata"))
        return text, rodata, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trees", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    start = time.perf_counter()
    forest = RandomForestClassifier(n_estimators=args.trees, random_state=0, n_jobs=-1)
    forest.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    nodes = sum(t.tree_.node_count for t in forest.estimators_)
    depth = max(t.tree_.max_depth for t in forest.estimators_)

    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, "
          f"mcuport {mcuport.__version__}")
    print(f"model:   RandomForestClassifier(n_estimators={args.trees}), digits, "
          f"{nodes:,} nodes, max depth {depth} (fit in {fit_seconds:.1f} s)\n")

    export_seconds, document = best_of(args.repeat, lambda: mcuport.to_json(forest))
    print(f"export to model JSON (Python): {export_seconds:.3f} s, {len(document):,} bytes of JSON")
    print(f"\n{'numeric':8} {'port (C++)':>11} {'from forest':>12} {'header':>14} "
          f"{'model tables':>14} {'host .text':>11} {'host .rodata':>13} {'cc -Os':>8}")
    for numeric in ("float", "fixed"):
        kwargs = {"numeric": numeric, "name": "big"}
        port_seconds, generated = best_of(args.repeat, lambda: mcuport.generate(document, **kwargs))
        direct_seconds, direct = best_of(args.repeat, lambda: mcuport.generate(forest, **kwargs))
        if direct.header != generated.header:
            raise SystemExit("the forest and its document ported to different headers")
        sizes = compiled_size(generated.header, numeric)
        text, rodata, cc_seconds = sizes if sizes else (0, 0, 0.0)
        print(f"{numeric:8} {port_seconds:10.3f}s {direct_seconds:11.3f}s "
              f"{len(generated.header):>10,} B {generated.table_bytes:>10,} B {text:>9,} B "
              f"{rodata:>11,} B {cc_seconds:7.2f}s")
    print("\nport: best of", args.repeat, "runs of mcuport.generate(model_json) (load, validate, "
          "analyse, lower, emit);\nfrom forest: of mcuport.generate(forest), export included, the "
          "document handed to the core\nas Python values (no JSON text).\nmodel tables: the "
          "constant tables the predict path reads.")


if __name__ == "__main__":
    main()

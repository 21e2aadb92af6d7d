"""mcuport's compact tree layout beside emlearn's table mode ("loadable"), on flash.

    build/bench-venv/bin/python bench/table_mode.py     # the environment bench/run creates

emlearn's node tables take int16 features only (its `loadable` method refuses dtype='float',
and float thresholds are truncated to integers), so bench/compare.py, whose harness feeds float
rows to every peer, runs emlearn inline. This script compares the two table layouts where they
can be compared without running them: the same fitted forests (bench/compare.py's tree rows),
each tool's generated code compiled alone for Cortex-M4F with the target's flags and -Os, and
the object's flash (text + data) counted: tables plus the code that walks them. mcuport is in
fixed mode (int16 inputs, like emlearn's table mode), with its default 16-bit leaf probabilities
and, in the last columns, with proba_bits=8. It prints a table; it asserts nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import compare  # noqa: E402

import mcuport  # noqa: E402
from mcuport.firmware import find_target  # noqa: E402

TREE_SPECS = ("dt", "dt_d8", "rf10_d8", "rf50_d8")


def object_flash(source: str, language: str, include_dirs=()) -> int:
    """text + data of `source` compiled alone for Cortex-M4F (-Os, the target's flags)."""
    target = find_target("cortex-m4f")
    compiler = "arm-none-eabi-g++" if language == "c++" else "arm-none-eabi-gcc"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("unit.c" if language == "c" else "unit.cpp")
        path.write_text(source)
        command = [compiler, *target["cflags"], "-ffunction-sections", "-fdata-sections",
                   *(f"-I{d}" for d in include_dirs), "-c", str(path), "-o", f"{tmp}/unit.o"]
        subprocess.run(command, check=True, capture_output=True, text=True)
        done = subprocess.run(["arm-none-eabi-size", f"{tmp}/unit.o"], check=True,
                              capture_output=True, text=True)
    text, data = (int(v) for v in done.stdout.splitlines()[1].split()[:2])
    return text + data


def main() -> int:
    import emlearn

    print(f"emlearn {emlearn.__version__ if hasattr(emlearn, '__version__') else '?'} "
          f"(method='loadable', int16 features) beside mcuport {mcuport.__version__} "
          f"(layout='compact', fixed); Cortex-M4F object flash, -Os")
    print("command: python3 bench/table_mode.py "
          "(emlearn installed: scripts/setup, or bench/run's environment)\n")
    print(f"{'model':38} {'data set':14} {'splits':>7} {'emlearn':>9} {'mcuport':>9} {'ratio':>6}"
          f" {'8-bit':>9} {'ratio':>6}")
    for spec in compare.SPECS:
        if spec.key not in TREE_SPECS:
            continue
        for name in spec.datasets:
            data = compare.load_dataset(name)
            estimator = spec.make(data)
            trees = [estimator] if hasattr(estimator, "tree_") else estimator.estimators_
            splits = sum(int((t.tree_.children_left != -1).sum()) for t in trees)
            n = data.X_train.shape[1]
            eml = emlearn.convert(estimator, method="loadable").save(name="eml_model")
            eml_flash = object_flash(
                eml + f"\nint32_t run(const int16_t *x) {{ return eml_model_predict(x, {n}); }}\n",
                "c", (emlearn.includedir,))
            flash = []
            for proba_bits in (None, 8):
                g = mcuport.generate(estimator, name="m", numeric="fixed", layout="compact",
                                     calibration=data.X_train, target="cortex-m4f",
                                     proba_bits=proba_bits)
                flash.append(object_flash(g.header + "\nint32_t run(const int16_t *x) "
                                          "{ return m_predict(x); }\n", "c"))
            ours, narrow = flash
            print(f"{spec.label:38} {name:14} {splits:7,} {eml_flash:9,} {ours:9,} "
                  f"{ours / eml_flash:6.2f} {narrow:9,} {narrow / eml_flash:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

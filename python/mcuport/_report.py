"""What a model costs on a chip, measured: flash, RAM, stack, cycles, time and accuracy.

    >>> r = mcuport.report(clf, X_test, y_test, target="cortex-m4f", calibration=X_train)
    >>> print(r)          # one row per numeric mode, then the confusion matrices
    >>> r.plot()          # the same as a figure (needs matplotlib)

For every numeric mode, :func:`report` ports the model for the target, builds firmware with the
target's cross compiler and flags, runs every test row on the target's emulator
(:mod:`mcuport.firmware`) and reads back the answers and the costs. Nothing is estimated: when a
toolchain or an emulator is missing, it raises :class:`mcuport.firmware.ToolchainMissing`
naming the package to install.

The command line does the same from a model document and a CSV file of test rows::

    mcuport-report model.json test.csv --target cortex-m0 --label species
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import _core
from ._port import Generated, document_bytes, generate, to_json, with_file_name_hint
from .host import HostModel

__all__ = ["Report", "ReportRow", "report", "main"]


@dataclass
class ReportRow:
    """The measurements of one numeric mode on one target."""

    numeric: str
    flash_bytes: int
    """Flash of the model: the firmware's text and data against the same firmware without it."""
    ram_bytes: int
    """Static RAM of the model (data and bss against the same firmware without it)."""
    stack_bytes: int
    """Peak stack of one predict call, largest over the test rows."""
    cost_mean: float
    """Cycles or instructions (see ``Report.cost_unit``) per prediction, mean over the rows."""
    cost_max: int
    time_us: float
    """``cost_mean`` at the target's clock, in microseconds."""
    accuracy: Optional[float]
    """Fraction of the test rows predicted as ``y_test`` (classifiers and detectors)."""
    agreement: Optional[float]
    """Fraction of the test rows where the firmware answers as scikit-learn (regressors: within
    1e-4 of the target's range, relative)."""
    r2: Optional[float] = None
    """Regressors: the coefficient of determination on ``y_test``."""
    max_abs_difference: Optional[float] = None
    """Regressors: the largest |firmware - scikit-learn| over the rows."""
    confusion: Optional[np.ndarray] = None
    """``confusion[i, j]``: rows of true class i predicted as class j (``Report.classes``)."""
    table_bytes: int = 0
    proba_bits: Optional[int] = None
    """Tree classifiers in fixed mode: the bits of a leaf probability code (16, or 8)."""
    predictions: Optional[np.ndarray] = field(default=None, repr=False)


@dataclass
class Report:
    """Per numeric mode, what the model costs on the target and how well it does."""

    target: Dict[str, Any]
    """The target description (:func:`mcuport.targets`)."""
    cost_unit: str
    """What ``cost_mean`` counts: ``"cycles (simavr)"`` or ``"instructions (...)"`` where the
    emulator cannot count cycles."""
    rows: List[ReportRow]
    task: str
    n_test: int
    classes: Optional[List[Any]]
    emulator: str
    compiler_command: str
    notes: List[str]

    def table(self) -> str:
        """The measurements as a plain-text table."""
        clock_mhz = self.target["clock_hz"] / 1e6
        headers = ["numeric", "flash B", "RAM B", "stack B", f"{self.cost_unit}/prediction",
                   f"us @ {clock_mhz:g} MHz"]
        if self.task == "regression":
            headers += ["R2", "max |diff| vs sklearn"]
        else:
            headers += ["accuracy", "agreement"]
        lines = []
        for row in self.rows:
            cells = [row.numeric, str(row.flash_bytes), str(row.ram_bytes), str(row.stack_bytes),
                     f"{row.cost_mean:.1f} (max {row.cost_max})", f"{row.time_us:.2f}"]
            if self.task == "regression":
                cells += [_fmt(row.r2, "{:.4f}"), _fmt(row.max_abs_difference, "{:.3g}")]
            else:
                cells += [_fmt(row.accuracy, "{:.2%}"), _fmt(row.agreement, "{:.2%}")]
            lines.append(cells)
        widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(headers)]
        out = [f"mcuport report: {self.target['name']} ({self.target['description']}), "
               f"{self.n_test} test rows, emulator: {self.emulator}",
               "  ".join(h.ljust(w) for h, w in zip(headers, widths)),
               "  ".join("-" * w for w in widths)]
        out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in lines]
        for row in self.rows:
            if row.confusion is not None:
                out.append("")
                out.append(f"confusion matrix ({row.numeric}): rows are y_test, columns predictions")
                out += _confusion_lines(row.confusion, self.classes)
        if self.notes:
            out.append("")
            out += [f"note: {note}" for note in self.notes]
        out.append(f"compiled with: {self.compiler_command}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain data (JSON-serialisable)."""
        rows = []
        for row in self.rows:
            rows.append({
                "numeric": row.numeric, "flash_bytes": row.flash_bytes,
                "ram_bytes": row.ram_bytes, "stack_bytes": row.stack_bytes,
                "cost_mean": row.cost_mean, "cost_max": row.cost_max, "time_us": row.time_us,
                "accuracy": row.accuracy, "agreement": row.agreement, "r2": row.r2,
                "max_abs_difference": row.max_abs_difference, "table_bytes": row.table_bytes,
                "proba_bits": row.proba_bits,
                "confusion": None if row.confusion is None else row.confusion.tolist(),
            })
        return {"target": self.target["name"], "cost_unit": self.cost_unit, "task": self.task,
                "n_test": self.n_test,
                "classes": None if self.classes is None else [str(c) for c in self.classes],
                "emulator": self.emulator, "compiler_command": self.compiler_command,
                "notes": self.notes, "rows": rows}

    def plot(self, path: Optional[str] = None):
        """Draws the report: flash, RAM, stack and time per numeric mode against the target's
        capacities, and the confusion matrices. Returns the matplotlib figure; saves it to
        ``path`` when given. Needs matplotlib (``pip install matplotlib``)."""
        try:
            import matplotlib
            if path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError("Report.plot() needs matplotlib: pip install matplotlib") from error
        confusions = [row for row in self.rows if row.confusion is not None]
        n_columns = 4 + len(confusions)
        figure, axes = plt.subplots(1, n_columns, figsize=(3.2 * n_columns, 3.4))
        modes = [row.numeric for row in self.rows]
        colors = ["#4C72B0", "#DD8452", "#55A868"][: len(modes)]
        bars = [
            ("flash (bytes)", [row.flash_bytes for row in self.rows], self.target["flash_bytes"]),
            ("RAM: static + stack (bytes)", [row.ram_bytes + row.stack_bytes for row in self.rows],
             self.target["ram_bytes"]),
            (f"{self.cost_unit} per prediction", [row.cost_mean for row in self.rows], None),
            ("accuracy" if self.task != "regression" else "R2",
             [(row.accuracy if self.task != "regression" else row.r2) or 0.0 for row in self.rows],
             None),
        ]
        for axis, (title, values, capacity) in zip(axes, bars):
            axis.bar(modes, values, color=colors)
            axis.set_title(title, fontsize=9)
            for x, value in enumerate(values):
                label = f"{value:.3g}" if isinstance(value, float) else str(value)
                axis.annotate(label, (x, value), ha="center", va="bottom", fontsize=8)
            if capacity:
                axis.set_title(f"{title}\nof {capacity} on the chip "
                               f"({100.0 * max(values) / capacity:.2g}% used)", fontsize=9)
        for axis, row in zip(axes[4:], confusions):
            axis.imshow(row.confusion, cmap="Blues")
            axis.set_title(f"confusion ({row.numeric})", fontsize=9)
            axis.set_xlabel("predicted")
            axis.set_ylabel("true")
            for (i, j), count in np.ndenumerate(row.confusion):
                axis.text(j, i, str(count), ha="center", va="center", fontsize=7)
        figure.suptitle(f"mcuport report on {self.target['name']}: {self.n_test} test rows",
                        fontsize=10)
        figure.tight_layout()
        if path is not None:
            figure.savefig(path, dpi=110)
        return figure


def _fmt(value: Optional[float], pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)


def _confusion_lines(confusion: np.ndarray, classes: Optional[Sequence[Any]]) -> List[str]:
    names = [str(c) for c in classes] if classes is not None else [
        str(i) for i in range(confusion.shape[0])]
    width = max(5, *(len(n) for n in names), *(len(str(v)) for v in confusion.ravel()))
    lines = [" " * width + "  " + "  ".join(n.rjust(width) for n in names)]
    for name, counts in zip(names, confusion):
        lines.append(name.rjust(width) + "  " + "  ".join(str(v).rjust(width) for v in counts))
    return lines


def _labels_of(generated: Generated, estimator: Any, document: Dict[str, Any],
               predictions: np.ndarray) -> np.ndarray:
    """Class indices (classifiers) as the labels scikit-learn would return."""
    if generated.task != "classification":
        return predictions
    if estimator is not None and hasattr(estimator, "classes_"):
        classes = np.asarray(estimator.classes_)
    else:
        classes = np.asarray(document["classes"])
    return classes[predictions.astype(np.int64)]


def _regression_values(generated: Generated, predictions: np.ndarray) -> np.ndarray:
    """A regressor's predictions as values: float mode as is, fixed mode codes times
    2^-OUTPUT_FRAC_BITS (the header's macro)."""
    if generated.numeric == "float":
        return predictions.astype(np.float64)
    macro = generated.name.upper() + "_OUTPUT_FRAC_BITS"
    found = re.search(r"^#define " + macro + r" (\d+)", generated.header, flags=re.M)
    if not found:
        raise ValueError(f"fixed-point regressor header without {macro}")
    return predictions.astype(np.float64) * 2.0 ** -int(found.group(1))


def report(
    estimator_or_model: Any,
    X_test: Any,
    y_test: Any = None,
    *,
    target: str = "cortex-m4f",
    numeric: Optional[Any] = None,
    calibration: Any = None,
    name: str = "model",
    reference: Any = None,
    print_table: bool = True,
    proba_bits: Optional[int] = None,
) -> Report:
    """Measure a model on a target's emulator, per numeric mode.

    ``estimator_or_model``: a fitted scikit-learn estimator (or pipeline) or a model document
    (:func:`mcuport.to_json` text). ``X_test``, ``y_test``: the test rows and their true labels
    (or values; ``y_test`` may be None: then only costs and agreement are measured).
    ``target``: a target name (:func:`mcuport.targets`). ``numeric``: ``"fixed"``,
    ``"float"`` or a list of them; default both, fixed first. ``calibration``: typical inputs
    for the fixed-point ranges (your training data); default ``X_test``, which the report then
    says. ``reference``: scikit-learn's predictions for ``X_test`` when ``estimator_or_model``
    is a document (an estimator is asked directly). ``proba_bits``: tree classifiers in fixed
    mode, as in :func:`mcuport.port` (8: 8-bit leaf probabilities); the report says which.

    Returns a :class:`Report` and prints its table unless ``print_table=False``.
    """
    from .firmware import TargetModel, find_target, require_tools

    description = find_target(target)
    modes = ["fixed", "float"] if numeric is None else (
        [numeric] if isinstance(numeric, str) else list(numeric))
    for mode in modes:
        if mode not in ("fixed", "float"):
            raise ValueError(f"numeric must be 'fixed', 'float' or a list of them, got {mode!r}")

    X = np.asarray(X_test, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X_test must be a non-empty 2-D array, got shape {X.shape}")
    y = None if y_test is None else np.asarray(y_test)
    if y is not None and len(y) != len(X):
        raise ValueError(f"y_test has {len(y)} rows, X_test {len(X)}")

    require_tools(description)  # before any work: a missing package is said first
    is_document = isinstance(estimator_or_model, (str, bytes))
    estimator = None if is_document else estimator_or_model
    notes: List[str] = []
    if is_document:
        # The loader judges the document first (ModelError naming the pointer); what it accepts
        # is valid UTF-8 JSON that json.loads reads.
        data = document_bytes(estimator_or_model)
        try:
            _core.validate(data)
        except _core.ModelError as error:
            raise with_file_name_hint(error, data) from None
        text = data.decode("utf-8")
        if "fixed" in modes and calibration is not None:
            raise ValueError("calibration applies to estimators; a model document carries its "
                             "input ranges (input_ranges)")
    else:
        n_features = getattr(estimator_or_model, "n_features_in_", None)
        if n_features is not None and n_features != X.shape[1]:
            raise ValueError(f"X_test has {X.shape[1]} columns; the model takes {n_features} "
                             "features")
        if calibration is None and "fixed" in modes:
            calibration = X
            notes.append("fixed-point ranges calibrated on X_test (pass calibration=X_train)")
        text = to_json(estimator, calibration=calibration)
    document = json.loads(text)
    if document["n_features"] != X.shape[1]:
        raise ValueError(f"X_test has {X.shape[1]} columns; the model takes "
                         f"{document['n_features']} features")
    task = document["task"]

    expected = None
    if estimator is not None and hasattr(estimator, "predict"):
        expected = np.asarray(estimator.predict(X))
    elif reference is not None:
        expected = np.asarray(reference)
        if len(expected) != len(X):
            raise ValueError(f"reference has {len(expected)} rows, X_test {len(X)}")

    rows: List[ReportRow] = []
    cost_unit = ""
    emulator = ""
    compiler_command = ""
    classes = None
    for mode in modes:
        generated = generate(text, name=name, numeric=mode, target=description["name"],
                             proba_bits=proba_bits if mode == "fixed" else None)
        if generated.proba_bits is not None:
            unit = _core.proba_one_code(generated.proba_bits)
            notes.append(f"fixed: tree leaf probabilities in {generated.proba_bits} bits "
                         f"(proba_bits={generated.proba_bits}): each within 0.5/{unit} of "
                         "scikit-learn's per class and tree")
        with HostModel(generated) as host:
            inputs = host.quantize(X)[0] if mode == "fixed" else X.astype(np.float32)
        with TargetModel(generated, description["name"]) as firmware:
            measured = firmware.measure(inputs)
        cost_unit, emulator = measured.count_unit, measured.emulator
        compiler_command = measured.compiler_command
        raw = measured.predictions
        counts = np.asarray(measured.counts, dtype=np.float64)
        row = ReportRow(
            numeric=mode,
            flash_bytes=int(measured.model_flash_bytes),
            ram_bytes=int(measured.model_ram_bytes),
            stack_bytes=int(measured.peak_stack_bytes),
            cost_mean=float(counts.mean()),
            cost_max=int(counts.max()),
            time_us=float(counts.mean() / description["clock_hz"] * 1e6),
            accuracy=None,
            agreement=None,
            table_bytes=generated.table_bytes,
            proba_bits=generated.proba_bits,
        )
        if raw is not None:
            if task == "regression":
                values = _regression_values(generated, np.asarray(raw))
                row.predictions = values
                if y is not None:
                    residual = np.sum((y - values) ** 2)
                    total = np.sum((y - y.mean()) ** 2)
                    row.r2 = float(1.0 - residual / total) if total > 0 else None
                if expected is not None:
                    difference = np.abs(values - expected)
                    row.max_abs_difference = float(difference.max())
                    span = float(np.ptp(expected)) or 1.0
                    row.agreement = float(np.mean(difference <= 1e-4 * span))
            else:
                labels = _labels_of(generated, estimator, document, np.asarray(raw))
                row.predictions = labels
                if y is not None:
                    row.accuracy = float(np.mean(labels == y))
                    classes = sorted(set(np.unique(y).tolist()) | set(np.unique(labels).tolist()))
                    index = {c: i for i, c in enumerate(classes)}
                    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
                    for truth, guess in zip(y.tolist(), labels.tolist()):
                        confusion[index[truth], index[guess]] += 1
                    row.confusion = confusion
                if expected is not None:
                    row.agreement = float(np.mean(labels == expected))
        rows.append(row)
    if expected is None:
        notes.append("agreement with scikit-learn needs the estimator or reference=")
    if cost_unit.startswith("instructions"):
        notes.append(f"time assumes one instruction per cycle at {description['clock_hz'] / 1e6:g} "
                     "MHz; the emulator counts instructions, not cycles")
    result = Report(target=description, cost_unit=cost_unit, rows=rows, task=task, n_test=len(X),
                    classes=classes, emulator=emulator, compiler_command=compiler_command,
                    notes=notes)
    if print_table:
        print(result.table())
    return result


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _document_feature_names(document: bytes) -> Optional[list]:
    """The document's feature_names, or None (none, or not a document: report() says why)."""
    try:
        names = json.loads(document).get("feature_names")
    except (ValueError, AttributeError):
        return None
    return names if isinstance(names, list) and all(isinstance(n, str) for n in names) else None


def _read_csv(path: str, label: Optional[str], reference: Optional[str],
              feature_names: Optional[Sequence[str]] = None):
    """(X, y, reference) from a CSV file with a header line; y and reference are None unless
    their columns are named. Where the model names its features and the CSV's feature columns
    carry names of them, the columns are taken by name, in any order; a column that names no
    feature, or a feature without a column, is an error (taken by position, a CSV whose columns
    are in another order ran silently, its accuracy meaningless)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if not rows:
        raise ValueError(f"{path}: empty CSV file")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if all(_is_number(name) for name in header):
        raise ValueError(f"{path}: the first line must name the columns (a header line)")
    if not body:
        raise ValueError(f"{path}: no test rows after the header line")
    special = {}
    for option, name in (("--label", label), ("--reference", reference)):
        if name is not None:
            if name not in header:
                raise ValueError(f"{path}: no column named {name!r} (for {option}); columns: "
                                 + ", ".join(header))
            if header.count(name) > 1:
                raise ValueError(f"{path}: {header.count(name)} columns are named {name!r} (for "
                                 f"{option}); name each column once")
            special[option] = header.index(name)
    features = [i for i in range(len(header)) if i not in special.values()]
    # By name only where the names tell the features apart (a document may repeat a name).
    unique = feature_names and len(set(feature_names)) == len(feature_names)
    if unique and any(header[i] in feature_names for i in features):
        column_of = {header[i]: i for i in features}
        named = set(feature_names)
        unknown = [name for name in column_of if name not in named]
        missing = [name for name in feature_names if name not in column_of]
        if unknown or missing or len(features) != len(feature_names):
            raise ValueError(
                f"{path}: the model names its features and the columns name some of them, so "
                f"they are taken by name: "
                + (f"columns that name no feature: {', '.join(unknown)}; " if unknown else "")
                + (f"features without a column: {', '.join(missing)}; " if missing else "")
                + ("a feature named by two columns; " if not unknown and not missing else "")
                + f"the model's features: {', '.join(feature_names)}")
        features = [column_of[name] for name in feature_names]
    X = np.zeros((len(body), len(features)))
    for line_number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}:{line_number}: {len(row)} fields, the header has "
                             f"{len(header)}")
        for j, i in enumerate(features):
            if not _is_number(row[i]):
                raise ValueError(f"{path}:{line_number}: column {header[i]!r} is not a number: "
                                 f"{row[i][:40]!r}")
            X[line_number - 2, j] = float(row[i])

    def column(option):
        if option not in special:
            return None
        values = [row[special[option]] for row in body]
        if all(_is_number(v) for v in values):
            return np.array([float(v) for v in values])
        return np.array(values, dtype=object)

    return X, column("--label"), column("--reference")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``mcuport-report MODEL.json TEST.csv --target T``: the report from the command line."""
    parser = argparse.ArgumentParser(
        prog="mcuport-report",
        description="Build a model document into firmware for a target, run the CSV's rows on "
                    "its emulator and print flash, RAM, stack, cycles, time and accuracy per "
                    "numeric mode.")
    parser.add_argument("model", help="model document (JSON, from mcuport.to_json)")
    parser.add_argument("csv", help="test rows: a header line, one column per feature (taken by "
                                    "name where the model names its features, else in the "
                                    "model's order), plus the --label (and --reference) columns")
    parser.add_argument("--target", default="cortex-m4f", help="target name (default cortex-m4f)")
    parser.add_argument("--numeric", choices=["fixed", "float", "both"], default="both")
    parser.add_argument("--label", default=None, help="the column with the true labels or values")
    parser.add_argument("--reference", default=None,
                        help="the column with scikit-learn's predictions (for the agreement)")
    parser.add_argument("--name", default="model", help="model name in the generated C")
    parser.add_argument("--proba-bits", type=int, choices=[8, 16], default=None,
                        help="tree classifiers in fixed mode: bits of a leaf probability "
                             "(default 16)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead")
    parser.add_argument("--plot", metavar="PNG", help="also draw the report into this PNG file")
    args = parser.parse_args(argv)
    try:
        with open(args.model, "rb") as handle:  # bytes: the loader judges the encoding
            document = handle.read()
        X, y, ref = _read_csv(args.csv, args.label, args.reference,
                              _document_feature_names(document))
        numeric = None if args.numeric == "both" else args.numeric
        result = report(document, X, y, target=args.target, numeric=numeric, name=args.name,
                        reference=ref, print_table=not args.json, proba_bits=args.proba_bits)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"mcuport-report: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    if args.plot:
        result.plot(args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())

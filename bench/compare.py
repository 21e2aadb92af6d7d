"""mcuport beside other code generators on emulated microcontrollers (issue 6's benchmark).

    bench/run                              # creates the peers' environment, then runs this
    bench/run --from-json bench/results.json   # only regenerates the docs from saved results

The same fitted scikit-learn models (fixed seeds, the 25% stratified test split of
tests/python/conftest.py) go through mcuport (fixed mode with calibration=X_train, and float
mode; for trees once per layout) and through the
peers from PyPI at pinned versions (bench/requirements.txt) wherever they support the model.
Every result is built by mcuport.firmware into real firmware for Cortex-M4F and Cortex-M0 (QEMU
runs it, Unicorn counts the instructions on the same ELF) and ATmega328P (simavr counts
cycles), after the counters' self-check. A peer's failure is recorded with its error.

Writes bench/results.json, a generated section of docs/benchmarks.md and one chart per target
(docs/bench-<target>.png). It is not part of scripts/test.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "python"))

import compare_doc  # noqa: E402
import peers  # noqa: E402

TARGETS = ("cortex-m4f", "cortex-m0", "avr-atmega328p")
COMPILE_TARGET = "cortex-m4f"
COMPILE_TIMEOUT = 180.0  # seconds for the compile-time measurement of one generated file
BUILD_TIMEOUT = 400.0    # seconds for any one firmware build or emulator run
PCA_TOLERANCE = 1e-3     # PCA agrees when every output is within this share of the row's largest


# -- data ---------------------------------------------------------------------------------------

@dataclass
class DataSet:
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def load_dataset(name: str) -> DataSet:
    if name == "ceiling-fan":
        return _ceiling_fan()
    from conftest import split  # the test suite's split: 25% test, stratified, seed 0

    X_train, X_test, y_train, y_test = split(name)
    return DataSet(name, X_train, X_test, y_train, y_test)


def _ceiling_fan() -> DataSet:
    """The ceiling-fan example's features (total variation per axis of a 128-sample window) of
    every normal (label 0) and unbalanced-blade (label 1) recording at low, med and high speed,
    split like the scikit-learn data sets."""
    from sklearn.model_selection import train_test_split

    spec = importlib.util.spec_from_file_location(
        "ceiling_fan", ROOT / "examples" / "ceiling-fan" / "ceiling_fan.py")
    fan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fan)
    if not fan.DEFAULT_DATA.is_dir():
        raise SystemExit(f"ceiling-fan data not found at {fan.DEFAULT_DATA} "
                         "(see ../shared/data/README.md)")
    X, y = [], []
    for label, table in ((0, fan.NORMAL), (1, fan.UNBALANCED)):
        for folder in table.values():
            windows, _ = fan.load_condition(fan.DEFAULT_DATA / folder, None)
            X.append(fan.features(windows))
            y.append(np.full(len(windows), label))
    X_all, y_all = np.vstack(X), np.concatenate(y)
    X_train, X_test, y_train, y_test = train_test_split(
        X_all, y_all, test_size=0.25, random_state=0, stratify=y_all)
    return DataSet("ceiling-fan", X_train, X_test, y_train, y_test)


# -- models -------------------------------------------------------------------------------------

def _svc(kernel: str):
    def make(d: DataSet):
        from sklearn.svm import SVC

        # gamma given as the number gamma='scale' resolves to (micromlgen requires a float);
        # the fitted model is the one gamma='scale' gives.
        gamma = float(1.0 / (d.X_train.shape[1] * d.X_train.var()))
        return SVC(kernel=kernel, gamma=gamma, random_state=0).fit(d.X_train, d.y_train)
    return make


def _tree(max_depth):
    def make(d: DataSet):
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(max_depth=max_depth, random_state=0).fit(
            d.X_train, d.y_train)
    return make


def _forest(n_estimators, max_depth):
    def make(d: DataSet):
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth,
                                      random_state=0).fit(d.X_train, d.y_train)
    return make


def _gaussian_nb(d: DataSet):
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB().fit(d.X_train, d.y_train)


def _pca(n_components: Dict[str, int]):
    def make(d: DataSet):
        from sklearn.decomposition import PCA

        return PCA(n_components=n_components[d.name], random_state=0).fit(d.X_train)
    return make


def _elliptic_envelope(d: DataSet):
    """Fitted on the normal rows (label 0) for the ceiling fan, on every training row else."""
    from sklearn.covariance import EllipticEnvelope

    X = d.X_train[d.y_train == 0] if d.name == "ceiling-fan" else d.X_train
    return EllipticEnvelope(random_state=0).fit(X)


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    kind: str   # tree, forest, svc, gaussian_nb, pca, elliptic_envelope
    make: Callable[[DataSet], object]
    datasets: Tuple[str, ...]
    targets: Tuple[str, ...] = TARGETS
    note: str = ""
    max_rows: Optional[int] = None  # a lower cap on the measured rows than --max-rows


PCA_COMPONENTS = {"wine": 4, "digits": 16, "ceiling-fan": 2}

SPECS = (
    Spec("dt", "DecisionTree (unlimited)", "tree", _tree(None),
         ("iris", "breast_cancer", "digits", "ceiling-fan")),
    Spec("dt_d8", "DecisionTree (max_depth=8)", "tree", _tree(8), ("wine", "digits")),
    Spec("rf10_d8", "RandomForest (10 trees, max_depth=8)", "forest", _forest(10, 8),
         ("iris", "breast_cancer", "digits", "ceiling-fan")),
    Spec("rf50_d8", "RandomForest (50 trees, max_depth=8)", "forest", _forest(50, 8),
         ("wine", "digits")),
    Spec("rf200", "RandomForest (200 trees, unlimited)", "forest", _forest(200, None),
         ("digits",), targets=("cortex-m4f",),
         note="Cortex-M4F only: the port- and compile-time row (about 64,000 nodes)"),
    Spec("svc_rbf", "SVC (rbf)", "svc", _svc("rbf"), ("iris", "breast_cancer", "ceiling-fan"),
         max_rows=100, note="at most 100 rows: up to 2 million instructions a prediction"),
    Spec("svc_linear", "SVC (linear)", "svc", _svc("linear"),
         ("iris", "breast_cancer", "ceiling-fan")),
    Spec("gnb", "GaussianNB", "gaussian_nb", _gaussian_nb, ("iris", "digits", "ceiling-fan")),
    Spec("pca", "PCA", "pca", _pca(PCA_COMPONENTS), ("wine", "digits", "ceiling-fan")),
    Spec("ee", "EllipticEnvelope", "elliptic_envelope", _elliptic_envelope,
         ("breast_cancer", "ceiling-fan")),
)


def work_of(spec: Spec, estimator, rows: np.ndarray) -> Dict[str, object]:
    """The arithmetic the model needs per prediction: decision nodes visited (trees, from
    scikit-learn's decision_path on the measured rows, averaged) or multiply-accumulates."""
    n_features = rows.shape[1]
    if spec.kind in ("tree", "forest"):
        paths = estimator.decision_path(rows)
        paths = paths[0] if isinstance(paths, tuple) else paths
        n_trees = len(getattr(estimator, "estimators_", [estimator]))
        visited = np.asarray(paths.sum(axis=1)).ravel() - n_trees  # less one leaf per tree
        return {"work": float(visited.mean()), "unit": "nodes"}
    if spec.kind == "svc":
        n_sv = int(estimator.support_vectors_.shape[0])
        n_classes = len(estimator.classes_)
        if estimator.kernel == "linear":
            n_pairs = n_classes * (n_classes - 1) // 2
            # mcuport collapses each pair into one weight vector; the peers evaluate the kernel
            # with every support vector.
            return {"work": float(n_pairs * n_features), "unit": "MAC",
                    "peer_work": float(n_sv * n_features)}
        return {"work": float(n_sv * n_features), "unit": "MAC"}
    if spec.kind == "gaussian_nb":
        return {"work": float(len(estimator.classes_) * n_features), "unit": "MAC"}
    if spec.kind == "pca":
        return {"work": float(estimator.n_components_ * n_features), "unit": "MAC"}
    if spec.kind == "elliptic_envelope":
        return {"work": float(n_features ** 2 + n_features), "unit": "MAC"}
    raise ValueError(spec.kind)


# -- measuring ----------------------------------------------------------------------------------

def best_of(call: Callable[[], object], repeat: int = 3) -> Tuple[object, float]:
    """The call's result and its best wall time over `repeat` runs."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return result, best


def compile_seconds(unit_name: str, header: str, call: str, flags: Sequence[str],
                    compiler: str, timeout: float) -> Tuple[Optional[float], str]:
    """Wall time of `compiler <flags> -c` on a file including the generated code as model.h and
    calling it once, as a user's file would; (None, error) on failure or timeout."""
    with tempfile.TemporaryDirectory(prefix="mcuport-bench-") as tmp:
        (Path(tmp) / "model.h").write_text(header)
        (Path(tmp) / unit_name).write_text('#include "model.h"\n' + call)
        command = [compiler, *flags, "-c", unit_name, "-o", "unit.o"]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"compile did not finish in {timeout:.0f} s"
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if "error" in line.lower()
                     and "Assembler messages" not in line]
            text = lines[0] if lines else done.stderr.strip()
            count = len(lines)
            text = re.sub(r"/tmp/\S+?/|/tmp/", "", text)[:200]
            return None, text + (f" (and {count - 1} more)" if count > 1 else "")
    return seconds, ""


def classify_failure(error: BaseException) -> str:
    from mcuport.firmware import FirmwareError
    from mcuport.host import CompileError

    text = str(error)
    if isinstance(error, CompileError):
        if "did not finish" in text:
            return "compile timeout"
        if re.search(r"will not fit|overflowed|region .* overflow|is not within region", text):
            return "does not fit"
        return "compile error"
    if isinstance(error, FirmwareError):
        if "bytes of flash" in text or "static RAM" in text:
            return "does not fit"
        return "run error"
    return "error"


def fit_error_text(error: BaseException) -> str:
    text = str(error)
    match = re.search(r"(the firmware (takes|needs) \d+ bytes[^;]*; \S+ has \d+)", text)
    if match:
        return match.group(1)
    match = re.search(r"region `?(\w+)'? overflowed by (\d+) bytes", text)
    if match:
        return f"region {match.group(1)} overflowed by {match.group(2)} bytes"
    match = re.search(r"section `([.\w]+)' is not within region `(\w+)'", text)
    if match:
        return f"section {match.group(1)} is not within region {match.group(2)} (linker)"
    return peers.short_error(error)


def agreement(kind: str, reference: np.ndarray, predictions, scores) -> Dict[str, object]:
    if kind == "pca":
        scale = np.maximum(np.abs(reference).max(axis=1), 1e-30)
        error = (np.abs(scores.astype(np.float64) - reference).max(axis=1)) / scale
        agree = error <= PCA_TOLERANCE
        return {"agree": int(agree.sum()), "n": int(len(agree)),
                "worst_relative_error": float(error.max())}
    agree = np.asarray(predictions).astype(np.int64) == reference.astype(np.int64)
    return {"agree": int(agree.sum()), "n": int(len(agree))}


def measure_on_target(code, target: str, inputs: np.ndarray, kind: str, reference: np.ndarray,
                      output_scale: float = 1.0,
                      dequantized_reference: Optional[np.ndarray] = None) -> Dict[str, object]:
    """`dequantized_reference` (mcuport fixed mode): scikit-learn's answers on the values the
    int16 codes stand for, the fixed-mode contract; the agreement with it is recorded too."""
    from mcuport.firmware import TargetModel

    started = time.perf_counter()
    try:
        with TargetModel(code, target, timeout=BUILD_TIMEOUT) as chip:
            m = chip.measure(inputs)
    except Exception as error:  # recorded, never hidden
        status = classify_failure(error)
        text = fit_error_text(error) if status == "does not fit" else peers.short_error(error)
        return {"status": status, "error": text, "seconds": time.perf_counter() - started}
    scores = None if m.scores is None else m.scores.astype(np.float64) * output_scale
    result = {
        "status": "ok",
        "flash": m.model_flash_bytes,
        "flash_predict": m.predict_flash_bytes,
        "ram": m.model_ram_bytes,
        "stack": m.peak_stack_bytes,
        "cost": float(m.counts.mean()),
        "cost_max": int(m.counts.max()),
        "cost_unit": m.count_unit,
        "seconds": time.perf_counter() - started,
    }
    result.update(agreement(kind, reference, m.predictions, scores))
    if dequantized_reference is not None:
        result["agree_dequantized"] = agreement(kind, dequantized_reference, m.predictions,
                                                scores)["agree"]
    return result


# -- the tools ----------------------------------------------------------------------------------

def mcuport_variants(kind: str) -> List[Tuple[str, Optional[str]]]:
    """(numeric mode, layout) runs of mcuport for a model kind: one per layout for trees, one
    with no layout (the option is for trees only) otherwise."""
    layouts: List[Optional[str]] = ["fast", "compact"] if kind in ("tree", "forest") else [None]
    return [(numeric, layout) for numeric in ("fixed", "float") for layout in layouts]


def run_mcuport(spec: Spec, estimator, data: DataSet, rows: np.ndarray, reference: np.ndarray,
                numeric: str, layout: Optional[str], targets: Sequence[str]) -> Dict[str, object]:
    import mcuport
    from mcuport.firmware import find_target
    from mcuport.host import STRICT_FLAGS, HostModel

    options = {"name": "model", "numeric": numeric}
    if numeric == "fixed":
        options["calibration"] = data.X_train
    if layout is not None:
        options["layout"] = layout
    entry: Dict[str, object] = {"tool": "mcuport", "numeric": numeric, "layout": layout,
                                "variant": " ".join(v for v in (numeric, layout) if v),
                                "call": "mcuport.generate(model, " + ", ".join(
                                    f"{k}={'X_train' if k == 'calibration' else repr(v)}"
                                    for k, v in options.items() if k != "name")
                                + ", target=...)",
                                "targets": {}}
    try:
        generated, entry["port_s"] = best_of(
            lambda: mcuport.generate(estimator, target=COMPILE_TARGET, **options))
    except Exception as error:
        entry["port_error"] = peers.short_error(error)
        return entry
    entry["code_bytes"] = len(generated.header.encode())
    entry["table_bytes"] = generated.table_bytes
    input_type = "int16_t" if numeric == "fixed" else "float"
    if generated.predict_type:
        call = (f"int32_t bench_call(const {input_type} x[]) "
                f"{{ return model_predict(x); }}\n")
    else:
        call = (f"void bench_call(const {input_type} x[], {generated.score_type} y[]) "
                f"{{ model_transform(x, y); }}\n")
    info = find_target(COMPILE_TARGET)
    entry["compile_s"], error = compile_seconds(
        "unit.c", generated.header, call, [*info["cflags"], "-std=c99", *STRICT_FLAGS],
        info["compiler"], COMPILE_TIMEOUT)
    if error:
        entry["compile_error"] = error
    inputs = rows.astype(np.float32)
    output_scale = 1.0
    dequantized = None
    if numeric == "fixed":
        with HostModel(generated, cflags=("-std=c99", "-O0")) as host:
            inputs = host.quantize(rows)[0]
        # scikit-learn on the values the codes stand for: where it agrees and the raw inputs do
        # not, the codes saturated (an input beyond the calibration range; PCA on wine).
        deq = generated.dequantize(inputs)
        dequantized = (estimator.transform(deq.astype(np.float64)) if spec.kind == "pca"
                       else estimator.predict(deq))
        bits = re.search(r"#define MODEL_OUTPUT_FRAC_BITS (\d+)", generated.header)
        if spec.kind == "pca" and bits:
            output_scale = 2.0 ** -int(bits.group(1))
    for target in targets:
        try:
            code = (generated if target == COMPILE_TARGET else
                    mcuport.generate(estimator, target=target, **options))
        except Exception as error:
            text = peers.short_error(error)
            status = "does not fit" if re.search(r"flash|exceed", text) else "port error"
            entry["targets"][target] = {"status": status, "error": text}
            progress(spec, data, entry, target)
            continue
        entry["targets"][target] = measure_on_target(code, target, inputs, spec.kind, reference,
                                                     output_scale, dequantized)
        progress(spec, data, entry, target)
    return entry


def run_peer(peer: str, spec: Spec, estimator, data: DataSet, rows: np.ndarray,
             reference: np.ndarray, targets: Sequence[str]) -> Dict[str, object]:
    from mcuport.firmware import find_target

    variant = "int16 tables" if peer == "emlearn-table" else "float"
    entry: Dict[str, object] = {"tool": peer, "variant": variant, "targets": {}}
    try:
        call = peers.port_call(peer, estimator, spec.kind)
        # emlearn's convert builds a host extension in ./tmp: keep it out of the repository.
        with tempfile.TemporaryDirectory(prefix="mcuport-bench-") as tmp:
            here = os.getcwd()
            os.chdir(tmp)
            try:
                code, entry["port_s"] = best_of(call)
            finally:
                os.chdir(here)
    except Exception as error:
        entry["port_error"] = peers.short_error(error)
        return entry
    n_outputs = int(getattr(estimator, "n_components_", 0)) if spec.kind == "pca" else 0
    foreign = peers.adapt(peer, code, estimator, spec.kind, rows.shape[1], n_outputs)
    entry["language"] = foreign.language
    entry["code_bytes"] = len(code.encode())
    info = find_target(COMPILE_TARGET)
    unit, call = peers.compile_unit(foreign)
    if foreign.language == "c++":
        compiler = re.sub(r"gcc$", "g++", info["compiler"])
        flags = [*info["cflags"], "-std=c++11", "-fno-exceptions", "-fno-rtti"]
    else:
        compiler, flags = info["compiler"], [*info["cflags"], "-std=c99"]
    flags += [f"-I{d}" for d in foreign.include_dirs]
    entry["compile_s"], error = compile_seconds(unit, foreign.header, call, flags, compiler,
                                                COMPILE_TIMEOUT)
    if error:
        entry["compile_error"] = error
    for target in targets:
        reason = peers.NOT_RUN.get(peer, {}).get(target)
        if reason:
            entry["targets"][target] = {"status": "not run", "error": reason}
            continue
        if target == COMPILE_TARGET and error:
            # The firmware compiles the same code with the same flags: it would fail alike.
            status = "compile timeout" if "did not finish" in error else "compile error"
            entry["targets"][target] = {"status": status, "error": f"{error} (code alone)"}
            continue
        entry["targets"][target] = measure_on_target(
            foreign, target, rows.astype(np.float32), spec.kind, reference)
        progress(spec, data, entry, target)
    return entry


def progress(spec: Spec, data: DataSet, entry: dict, target: str) -> None:
    r = entry["targets"][target]
    if r["status"] == "ok":
        what = (f"{r['cost']:>12,.0f} {r['cost_unit'].split()[0]:<12} flash {r['flash']:>8,} "
                f"agree {r['agree']}/{r['n']}")
    else:
        what = f"{r['status']}: {r['error'][:90]}"
    print(f"  {spec.key:<10} {data.name:<13} {entry['tool']:<14} {entry['variant']:<14} "
          f"{target:<15} {what}  ({r.get('seconds', 0):.1f} s)", flush=True)


def run_model(spec: Spec, data: DataSet, max_rows: int, targets: Sequence[str],
              tools: Sequence[str]) -> Dict[str, object]:
    estimator = spec.make(data)
    rows = data.X_test[:min(max_rows, spec.max_rows or max_rows)]
    if spec.kind == "pca":
        reference = estimator.transform(rows)
    else:
        reference = estimator.predict(rows)
    model: Dict[str, object] = {
        "key": spec.key, "label": spec.label, "kind": spec.kind, "dataset": data.name,
        "estimator": repr(estimator), "n_train": int(len(data.X_train)),
        "n_test": int(len(data.X_test)), "n_rows": int(len(rows)),
        "n_features": int(rows.shape[1]), "note": spec.note,
        "targets": [t for t in targets if t in spec.targets], "entries": [],
    }
    model.update(work_of(spec, estimator, rows))
    if spec.kind in ("tree", "forest"):
        trees = getattr(estimator, "estimators_", [estimator])
        model["nodes"] = int(sum(t.tree_.node_count for t in trees))
        # The layout port() picks by itself for each target (fixed mode, layout=None).
        import mcuport

        model["default_layout"] = {}
        for target in model["targets"]:
            try:
                model["default_layout"][target] = mcuport.generate(
                    estimator, name="model", numeric="fixed", calibration=data.X_train,
                    target=target).layout
            except Exception as error:  # too large for the target in either layout
                model["default_layout"][target] = f"none ({peers.short_error(error)})"
    if spec.kind == "svc":
        model["n_support_vectors"] = int(estimator.support_vectors_.shape[0])
    model_targets = model["targets"]
    if "mcuport" in tools:
        for numeric, layout in mcuport_variants(spec.kind):
            model["entries"].append(run_mcuport(spec, estimator, data, rows, reference, numeric,
                                                layout, model_targets))
    for peer in peers.PEERS:
        if peer in tools and spec.kind in peers.SUPPORTS[peer]:
            model["entries"].append(run_peer(peer, spec, estimator, data, rows, reference,
                                             model_targets))
    for entry in model["entries"]:
        if "port_error" in entry:
            print(f"  {spec.key:<10} {data.name:<13} {entry['tool']:<14} {entry['variant']:<14} "
                  f"port failed: {entry['port_error']}", flush=True)
    return model


# -- environment --------------------------------------------------------------------------------

def first_line(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def environment() -> Dict[str, object]:
    import sklearn

    import mcuport

    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = first_line(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    try:
        import unicorn
        unicorn_version = unicorn.__version__
    except ImportError:
        unicorn_version = "not installed"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(),
        "tools": {
            "mcuport": f"{commit}{' (modified)' if dirty else ''}",
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            **{peer: peers.version(peer) for peer in peers.PEERS},
        },
        "compilers": {
            "arm-none-eabi-gcc": first_line(["arm-none-eabi-gcc", "--version"]),
            "arm-none-eabi-g++": first_line(["arm-none-eabi-g++", "--version"]),
            "avr-gcc": first_line(["avr-gcc", "--version"]),
            "avr-g++": first_line(["avr-g++", "--version"]),
            "qemu-system-arm": first_line(["qemu-system-arm", "--version"]),
            "simavr": first_line(["dpkg-query", "-W", "-f=${Version}", "simavr"]),
            "unicorn": unicorn_version,
        },
    }


def self_check(targets: Sequence[str]) -> Dict[str, object]:
    """firmware.measure_known_loop on every target: a loop of known cost through the same
    measuring path; any difference stops the benchmark."""
    from mcuport.firmware import measure_known_loop

    iterations = [1, 2, 3, 10, 100, 1000, 70000]
    checks = {}
    for target in targets:
        measured, expected = measure_known_loop(target, iterations)
        ok = bool(np.array_equal(measured, expected))
        checks[target] = {"iterations": iterations, "measured": measured.tolist(),
                          "expected": expected.tolist(), "ok": ok}
        print(f"self-check {target:<15} {'ok' if ok else 'FAILED'}: measured "
              f"{measured.tolist()} expected {expected.tolist()}", flush=True)
        if not ok:
            raise SystemExit(f"the counter self-check failed on {target}: benchmark stopped")
    return checks


# -- main ---------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="regenerate the docs and charts from saved results, run nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json",
                        help="where the raw results go (default bench/results.json)")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="the document whose generated section is replaced")
    parser.add_argument("--charts", type=Path, default=ROOT / "docs",
                        help="where the charts go (default docs/)")
    parser.add_argument("--max-rows", type=int, default=200,
                        help="test rows measured per model, the first of the split (default 200)")
    parser.add_argument("--only", default="",
                        help="comma-separated model keys (dt, rf50_d8, svc_rbf, ...) to run")
    parser.add_argument("--datasets", default="", help="comma-separated data sets to run")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help=f"comma-separated targets (default {','.join(TARGETS)})")
    parser.add_argument("--tools", default=",".join(("mcuport",) + peers.PEERS),
                        help="comma-separated tools (default: mcuport and every peer)")
    args = parser.parse_args(argv)

    if args.from_json:
        results = json.loads(args.from_json.read_text())
        compare_doc.publish(results, args.doc, args.charts)
        return 0

    started = time.perf_counter()
    command = os.environ.get("BENCH_COMMAND") or shlex.join(
        ["python3", "bench/compare.py", *(argv if argv is not None else sys.argv[1:])])
    targets = [t for t in args.targets.split(",") if t]
    tools = [t for t in args.tools.split(",") if t]
    only = {k for k in args.only.split(",") if k}
    datasets = {d for d in args.datasets.split(",") if d}
    results: Dict[str, object] = {"command": command, "max_rows": args.max_rows,
                                  "environment": environment(), "targets": targets}
    print(f"{command}\n{json.dumps(results['environment']['tools'])}", flush=True)
    results["self_check"] = self_check(targets)
    loaded: Dict[str, DataSet] = {}
    models = []
    for spec in SPECS:
        if only and spec.key not in only:
            continue
        for name in spec.datasets:
            if datasets and name not in datasets:
                continue
            if name not in loaded:
                loaded[name] = load_dataset(name)
            print(f"{spec.label} on {name}", flush=True)
            models.append(run_model(spec, loaded[name], args.max_rows, targets, tools))
    results["models"] = models
    results["wall_s"] = time.perf_counter() - started
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nresults: {args.out}; {results['wall_s'] / 60:.1f} min", flush=True)
    compare_doc.publish(results, args.doc, args.charts)
    return 0


if __name__ == "__main__":
    sys.exit(main())

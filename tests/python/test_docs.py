"""Every code block of the README and of docs/ is run by a test (issue 8), so that none can rot.

Each fenced block is preceded by a marker that says how it is checked:

    <!-- doctest: KIND [ARGUMENT ...] -->

KIND is one of
- ``python [setup=NAME]``: executed, after the named setup (which defines the names the
  block uses: ``clf``, ``X_train``, ...), in a namespace shared by the document's python blocks,
  in a temporary directory;
- ``sh [setup=NAME]``: each line run by bash in a temporary directory holding the setup's
  files; it must exit 0;
- ``console [setup=NAME]``: ``$ command`` lines run as above; the lines after each must be its
  output (standard output and error), exactly;
- ``c [setup=NAME] [wrap]``, ``cpp [setup=NAME] [arduino|mcuport]``: compiled with the strict
  warnings (``wrap``: the statements inside a function; ``arduino``: with avr-g++ against the
  Arduino core, after ``#include <Arduino.h>``; ``mcuport``: C++17 against mcuport's headers);
- ``json valid``: a whole model document that the core loads;
- ``output NAME [timings] [within=F]``: a part of the output of the named producer
  (``script:PATH``, a Python script of the repository, or a producer defined here), line for
  line; with ``timings``, the times in seconds are measured and may differ; with ``within=F``,
  each number but a percentage may differ by a factor up to F (zero stays zero): errors
  measured against a solver's solution (liblinear, libsvm) move with the numpy and scipy the
  machine has;
- ``signatures FILE``: each line declares a function that FILE defines with that signature;
- ``messages``: each line is the message of a document of the hostile corpus (tests/hostile);
- ``layout``: each directory the block lists exists;
- ``names``: every identifier the block mentions (a diagram) exists in the sources;
- ``covered-by FILE ...``: a command the suite itself runs (scripts/test, the quickstart): each
  script the block calls is called by one of the FILEs;
- ``formula`` or ``diagram``: not code (a formula or a picture set in monospace): not run.

A block without a marker fails ``test_every_block_has_a_marker``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mcuport
import mcuport.micromlgen

from conftest import find_cli

# One worker runs every block (a document's python blocks share a namespace, in order) under
# scripts/test's pytest-xdist (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("docs")

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
STRICT = ("-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Werror")
MARKER = re.compile(r"^<!-- doctest: (.*?) -->$")
ARDUINO_CORE = Path("/usr/share/arduino/hardware/arduino/avr")


class Block:
    def __init__(self, path: Path, index: int, line: int, language: str, text: str,
                 marker):
        self.path, self.index, self.line = path, index, line
        self.language, self.text = language, text
        words = marker.split() if marker else []
        self.kind = words[0] if words else None
        self.args = words[1:]
        self.options = dict(w.split("=", 1) for w in self.args if "=" in w)
        self.flags = {w for w in self.args if "=" not in w}

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks_of(path: Path) -> list:
    lines = path.read_text().splitlines()
    out = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            language = lines[i][3:].strip()
            start = i
            i += 1
            body = []
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            marker = MARKER.match(lines[start - 1]) if start > 0 else None
            out.append(Block(path, len(out), start + 1, language, "\n".join(body) + "\n",
                             marker.group(1) if marker else None))
        i += 1
    return out


BLOCKS = [block for path in DOCUMENTS for block in blocks_of(path)]


def test_every_block_has_a_marker():
    missing = [block.id for block in BLOCKS if block.kind is None]
    assert not missing, f"code blocks without a <!-- doctest: ... --> marker: {missing}"
    assert len(BLOCKS) > 40  # the README and docs/ hold about 50 blocks


# --- setups: what the blocks' names stand for ------------------------------------------------

def _classifier():
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    clf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X_train,
                                                                                  y_train)
    # A few test rows keep the emulated reports short.
    return {"clf": clf, "X_train": X_train, "X_test": X_test[:40], "y_test": y_test[:40]}


def _unsupervised():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    mean = X.mean(axis=0)
    cov = np.cov(X, rowvar=False)
    return {"X": X, "y": y, "mean": mean, "cov": cov, "t": 9.0}


def _documents(directory: Path) -> None:
    """model.json, forest.json, fan.json (a classifier with input ranges) and test.csv (its test
    rows, with the labels in "species" and scikit-learn's answers in "sklearn")."""
    names = _classifier()
    clf, X_test, y_test = names["clf"], names["X_test"], names["y_test"]
    document = mcuport.to_json(clf, calibration=names["X_train"])
    for name in ("model.json", "forest.json", "fan.json"):
        (directory / name).write_text(document)
    columns = [f"f{i}" for i in range(X_test.shape[1])] + ["species", "sklearn"]
    lines = [",".join(columns)]
    for row, label, answer in zip(X_test, y_test, clf.predict(X_test)):
        lines.append(",".join([repr(float(v)) for v in row] + [str(label), str(answer)]))
    (directory / "test.csv").write_text("\n".join(lines) + "\n")


def _first_json_document(path: Path) -> str:
    return next(b.text for b in blocks_of(path) if b.kind == "json")


def _bad_documents(directory: Path) -> None:
    """The two broken documents of model-format.md's "Errors": its first example with one thing
    changed each, as the text says."""
    document = json.loads(_first_json_document(ROOT / "docs/model-format.md"))
    bad = json.loads(json.dumps(document))
    bad["params"]["trees"][0]["value"][1] = [8.0, 1.0]
    (directory / "bad_value.json").write_text(json.dumps(bad))
    bad = json.loads(json.dumps(document))
    bad["estimator"] = "DecisionTreeRegressor"
    (directory / "bad_estimator.json").write_text(json.dumps(bad))


def _gesture_header(directory: Path, micromlgen: bool) -> None:
    names = _classifier()
    if micromlgen:
        header = mcuport.micromlgen.port(names["clf"], classname="Gesture",
                                         classmap={0: "rest", 1: "wave"}, numeric="fixed",
                                         calibration=names["X_train"], target="avr-atmega328p")
    else:
        header = mcuport.port(names["clf"], name="gesture", numeric="fixed",
                              calibration=names["X_train"], target="cortex-m0")
    (directory / "gesture.h").write_text(header)


def _tree_arrays(directory: Path) -> None:
    """The arrays of model-format.md's example tree, for its tree walk in C."""
    (directory / "prelude.h").write_text(
        "#include <stdint.h>\n"
        "static const int32_t children_left[5] = {1, -1, 3, -1, -1};\n"
        "static const int32_t children_right[5] = {2, -1, 4, -1, -1};\n"
        "static const int32_t feature[5] = {0, -2, 1, -2, -2};\n"
        "static const double threshold[5] = {15.5, -2.0, 60.0, -2.0, -2.0};\n"
        "static const float x[2] = {20.0f, 50.0f};\n")


NAME_SETUPS = {"classifier": _classifier, "unsupervised": _unsupervised}
FILE_SETUPS = {
    "documents": _documents,
    "bad-documents": _bad_documents,
    "gesture": lambda d: _gesture_header(d, False),
    "gesture-micromlgen": lambda d: _gesture_header(d, True),
    "tree-arrays": _tree_arrays,
}


def _prepare(block: Block, directory: Path) -> dict:
    setup = block.options.get("setup")
    if setup is None:
        return {}
    if setup in FILE_SETUPS:
        FILE_SETUPS[setup](directory)
        return {}
    assert setup in NAME_SETUPS, f"{block.id}: unknown setup {setup!r}"
    return NAME_SETUPS[setup]()


# --- output producers -----------------------------------------------------------------------

def _quickstart() -> str:
    done = subprocess.run([sys.executable, "examples/quickstart/quickstart.py"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("mode "))
    return "\n".join(lines[start:start + 4]) + "\n"


def _dump() -> str:
    document = _first_json_document(ROOT / "docs/model-format.md")
    return mcuport._core.dump(document)


def _micromlgen_differences() -> str:
    done = subprocess.run([sys.executable, "bench/micromlgen_differences.py"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return "".join(line + "\n" for line in done.stdout.splitlines()[1:])  # past the versions


OUTPUTS = {"quickstart": _quickstart, "dump": _dump,
           "micromlgen-differences": _micromlgen_differences}


# --- runners --------------------------------------------------------------------------------

NAMESPACES: dict = {}


def run_python(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = NAMESPACES.setdefault(block.path, {})
    namespace.update(_prepare(block, tmp_path))
    exec(compile(block.text, block.id, "exec"), namespace)  # noqa: S102 - the docs' own code


def _shell_env() -> dict:
    """PATH with the commands installed with the mcuport under test first (conftest.find_cli:
    pyenv's shims would otherwise put the system-wide mcuport in front)."""
    import os

    directories = [str(Path(find_cli(name)).parent) for name in ("mcuport", "mcuport-report")
                   if find_cli(name)]
    return {**os.environ, "PATH": os.pathsep.join([*dict.fromkeys(directories),
                                                   os.environ.get("PATH", "")])}


def run_sh(block, tmp_path, monkeypatch):
    _prepare(block, tmp_path)
    for line in block.text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        done = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True,
                              env=_shell_env())
        assert done.returncode == 0, f"{block.id}: {line}\n{done.stdout}{done.stderr}"


def run_console(block, tmp_path, monkeypatch):
    _prepare(block, tmp_path)
    command, expected = None, []

    def check():
        if command is None:
            return
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                              text=True, env=_shell_env())
        assert (done.stdout + done.stderr).splitlines() == expected, (block.id, command)

    for line in block.text.splitlines():
        if line.startswith("$ "):
            check()
            command, expected = line[2:], []
        else:
            expected.append(line)
    check()


def _compile(block, tmp_path, source: str, compiler: list, suffix: str):
    path = tmp_path / f"block{suffix}"
    path.write_text(source)
    done = subprocess.run([*compiler, *STRICT, "-I", str(tmp_path), "-c", str(path), "-o",
                           str(tmp_path / "block.o")], capture_output=True, text=True)
    assert done.returncode == 0, f"{block.id}:\n{source}\n{done.stderr}"


def _wrapped(text: str, directory: Path) -> str:
    """#include lines at the top (after the setup's prelude.h, if it wrote one), the statements
    inside a function; read_features leaves the input as it is, and what the statements compute
    is used."""
    includes = ['#include "prelude.h"'] if (directory / "prelude.h").exists() else []
    includes += [line for line in text.splitlines() if line.startswith("#include")]
    body = [line for line in text.splitlines() if not line.startswith("#include")]
    # The variables the statements declare at the top level, used once at the end.
    names = re.findall(r"^(?:const\s+)?\w[\w ]*?[\s*]+(\w+)\s*(?:\[[^]]*\])?\s*=", text, re.M)
    names += re.findall(r"^(?:const\s+)?\w+\s+(\w+)\[", text, re.M)
    uses = "".join(f"    (void){name};\n" for name in dict.fromkeys(names))
    stub = ("static void read_features(void *features) { (void)features; }\n"
            if "read_features(" in text else "")
    return ("\n".join(includes) + "\n" + stub + "void example(void);\nvoid example(void) {\n"
            + "\n".join(body) + "\n" + uses + "}\n")


def run_c(block, tmp_path, monkeypatch):
    _prepare(block, tmp_path)
    source = _wrapped(block.text, tmp_path) if "wrap" in block.flags else block.text
    _compile(block, tmp_path, source, ["gcc", "-std=c99"], ".c")


def run_cpp(block, tmp_path, monkeypatch):
    _prepare(block, tmp_path)
    if "arduino" in block.flags:
        assert shutil.which("avr-g++"), "avr-g++ is missing: scripts/setup installs gcc-avr"
        assert ARDUINO_CORE.exists(), "scripts/setup installs arduino-core-avr"
        source = ("#include <Arduino.h>\n"
                  "static void read_features(float *x) { for (int i = 0; i < 30; i++) x[i] = 0; }\n"
                  + block.text)
        compiler = ["avr-g++", "-std=gnu++11", "-mmcu=atmega328p", "-Os", "-DF_CPU=16000000L",
                    "-DARDUINO=10807", "-DARDUINO_AVR_UNO", "-DARDUINO_ARCH_AVR",
                    "-I", str(ARDUINO_CORE / "cores/arduino"),
                    "-I", str(ARDUINO_CORE / "variants/standard")]
    elif "mcuport" in block.flags:  # the C++ API, against the source tree's headers
        source = block.text
        compiler = ["g++", "-std=c++17", *(f"-I{ROOT / d / 'include'}"
                                          for d in ("core", "codegen", "targets"))]
    else:
        source = block.text
        compiler = ["g++", "-std=c++11"]
    _compile(block, tmp_path, source, compiler, ".cpp")


def run_json(block, tmp_path, monkeypatch):
    assert block.args == ["valid"], block.id
    mcuport._core.validate(block.text)


def _script(path: str) -> str:
    done = subprocess.run([sys.executable, path], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return done.stdout


SECONDS = re.compile(r"\b\d+(\.\d+)? ?s\b")
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.%])")


def _within(expected: str, output: str, factor: float) -> bool:
    """Whether some run of output's lines matches expected's lines, their words equal and each
    number (not a percentage) within `factor` of expected's, zero only where expected has zero.
    Spaces are not compared: a right-aligned column shifts with its number's width."""
    want = expected.splitlines()
    have = output.splitlines()

    def same(a: str, b: str) -> bool:
        if NUMBER.sub("#", a).split() != NUMBER.sub("#", b).split():
            return False
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)):
            x, y = float(x), float(y)
            if (x == 0) != (y == 0) or (x != 0 and not 1 / factor <= y / x <= factor):
                return False
        return True

    return any(all(same(w, h) for w, h in zip(want, have[i:i + len(want)]))
               for i in range(len(have) - len(want) + 1))


def run_output(block, tmp_path, monkeypatch):
    """The block is a part of the producer's output, line for line; with `timings`, times in
    seconds may differ (they are measured, not computed); with `within=F`, other numbers than
    percentages by a factor up to F."""
    (name,) = [a for a in block.args if a != "timings" and not a.startswith("within=")]
    output = _script(name[len("script:"):]) if name.startswith("script:") else OUTPUTS[name]()
    expected = block.text
    if "timings" in block.flags:
        output, expected = SECONDS.sub("<time>", output), SECONDS.sub("<time>", expected)
    if "within" in block.options:
        factor = float(block.options["within"])
        assert factor >= 1 and _within(expected, output, factor), (
            f"{block.id}: the output of {name} has changed beyond a factor {factor}:\n{output}")
        return
    assert expected in output, (f"{block.id}: the output of {name} has changed:\n{output}")



def test_within_holds_words_and_percentages_and_numbers_to_a_factor():
    expected = "SVC(linear)  wine  fixed  100.00%  0.000404\nGaussianNB  wine  fixed  100.00%  0\n"
    output = "header\n" + expected.replace("0.000404", "0.00061") + "footer\n"
    assert _within(expected, output, 4)
    assert not _within(expected, output.replace("0.00061", "0.0017"), 4)  # 4.2 times
    assert not _within(expected, output.replace("100.00%", "99.50%"), 4)  # percentages exact
    assert not _within(expected, output.replace("  0\n", "  1e-09\n"), 4)  # zero stays zero
    assert not _within(expected, output.replace("wine  fixed", "wine  float"), 4)
    assert not _within(expected, "header\n", 4)
    # spaces are not compared (a right-aligned column moves with its number's width); words are
    assert _within(expected, output.replace("  0.00061", " 0.000611"), 4)
    assert not _within(expected, output.replace("wine  fixed", "wine  fi xed"), 4)

def run_signatures(block, tmp_path, monkeypatch):
    (file,) = block.args
    source = re.sub(r"\s+", " ", (ROOT / file).read_text())
    for line in block.text.splitlines():
        declaration = line.split("/*")[0].strip().rstrip(";")
        if declaration:
            assert re.search(r"static inline " + re.escape(declaration) + r" \{", source), (
                f"{block.id}: {file} defines no {declaration}")


def run_messages(block, tmp_path, monkeypatch):
    messages = set()
    for path in (ROOT / "tests/hostile").iterdir():
        if path.suffix == ".json" and path.name != "expected.json":
            try:
                mcuport._core.validate(path.read_bytes())
            except mcuport.ModelError as error:
                messages.add(str(error))
    for line in block.text.splitlines():
        assert line in messages, f"{block.id}: no document of tests/hostile gives {line!r}"


def run_layout(block, tmp_path, monkeypatch):
    for line in block.text.splitlines():
        first = line.split()[0] if line.strip() else ""
        if first.endswith("/"):
            assert (ROOT / first).is_dir(), f"{block.id}: {first} does not exist"


def run_names(block, tmp_path, monkeypatch):
    sources = "".join(p.read_text() for d in ("core", "codegen") for p in (ROOT / d).rglob("*.[ch]pp"))
    for name in set(re.findall(r"[A-Za-z_]\w*", block.text)) - {"model", "JSON", "C", "header"}:
        if "_" in name or name[0].isupper():
            assert name in sources, f"{block.id}: {name} is not in core/ or codegen/"


def run_covered_by(block, tmp_path, monkeypatch):
    callers = "".join((ROOT / file).read_text() for file in block.args)
    for line in block.text.splitlines():
        for command in line.split("#")[0].split("&&"):
            scripts = [w for w in command.split() if "/" in w]
            for script in scripts:
                assert script in callers, f"{block.id}: {script} is not run by {block.args}"


def run_nothing(block, tmp_path, monkeypatch):
    assert not block.args, block.id


RUNNERS = {"python": run_python, "sh": run_sh, "console": run_console, "c": run_c,
           "cpp": run_cpp, "json": run_json, "output": run_output,
           "signatures": run_signatures, "messages": run_messages, "layout": run_layout,
           "names": run_names, "covered-by": run_covered_by, "formula": run_nothing,
           "diagram": run_nothing}


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind is not None],
                         ids=lambda b: b.id)
def test_block(block, tmp_path, monkeypatch):
    assert block.kind in RUNNERS, f"{block.id}: unknown doctest kind {block.kind!r}"
    RUNNERS[block.kind](block, tmp_path, monkeypatch)


def test_the_supported_estimators_table_names_every_exporter():
    """The user guide's table of supported estimators lists every estimator class that
    mcuport.to_json exports, so that the table stays true as families are added."""
    from mcuport.exporters import EXPORTERS

    guide = (ROOT / "docs/user-guide.md").read_text()
    start = guide.index("## Supported estimators: what is exact")
    table = guide[start:guide.index("\n## ", start + 1)]
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    first_cells = " ".join(row.split("|")[1] for row in rows[1:])
    missing = [cls.__name__ for cls in EXPORTERS if cls.__name__ not in first_cells]
    assert not missing, f"the supported-estimators table misses {missing}"

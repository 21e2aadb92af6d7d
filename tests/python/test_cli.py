"""The mcuport command-line tool: model JSON in, header out, same options as port()."""

from __future__ import annotations

import json
import subprocess

import pytest
from sklearn.ensemble import RandomForestClassifier

import mcuport

from conftest import SEED, find_cli, split

CLI = find_cli()


@pytest.fixture(scope="module")
def document():
    X_train, _, y_train, _ = split("wine")
    forest = RandomForestClassifier(n_estimators=5, random_state=SEED).fit(X_train, y_train)
    return mcuport.to_json(forest, calibration=X_train)


def run(*args, stdin=None):
    assert CLI, "the mcuport command is not on PATH: pip install . installs it"
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True)


def test_cli_writes_the_same_header_as_python(document, tmp_path):
    (tmp_path / "m.json").write_text(document)
    done = run(str(tmp_path / "m.json"), "-o", str(tmp_path / "m.h"), "--name", "wine",
               "--numeric", "fixed", "--target", "cortex-m0")
    assert done.returncode == 0, done.stderr
    expected = mcuport.port(document, name="wine", numeric="fixed", target="cortex-m0")
    assert (tmp_path / "m.h").read_text() == expected
    assert run("-", "--name", "wine", stdin=document).stdout == mcuport.port(document, name="wine")


@pytest.mark.parametrize("layout", ["fast", "compact"])
def test_cli_layout_is_the_python_layout(document, tmp_path, layout):
    (tmp_path / "m.json").write_text(document)
    done = run(str(tmp_path / "m.json"), "--layout", layout, "--numeric", "fixed")
    assert done.returncode == 0, done.stderr
    assert done.stdout == mcuport.port(document, numeric="fixed", layout=layout)
    assert f"Layout: {layout}" in done.stdout


def test_cli_proba_bits_is_the_python_proba_bits(document, tmp_path):
    (tmp_path / "m.json").write_text(document)
    done = run(str(tmp_path / "m.json"), "--proba-bits", "8", "--numeric", "fixed",
               "--layout", "compact")
    assert done.returncode == 0, done.stderr
    assert done.stdout == mcuport.port(document, numeric="fixed", layout="compact", proba_bits=8)


def test_cli_errors_name_the_path_and_write_nothing(document, tmp_path):
    bad = json.loads(document)
    bad["params"]["trees"][1]["feature"][0] = 99
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    out = tmp_path / "out.h"
    done = run(str(tmp_path / "bad.json"), "-o", str(out))
    assert done.returncode == 1
    assert "(/params/trees/1/feature/0)" in done.stderr and "99" in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "bad.json"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "pdp11"], "unknown target \"pdp11\" (known targets: host,"),
        (["--numeric", "half"], "unknown numeric mode \"half\""),
        (["--layout", "dense"], "unknown tree layout \"dense\" (expected \"fast\" or \"compact\")"),
        (["--proba-bits", "12"], "unknown proba_bits \"12\" (expected 8 or 16)"),
        (["--name", "1x"], "does not start with a letter"),
        (["--frobnicate"], "unknown option --frobnicate"),
        # An option given twice was taken silently, the last one winning.
        (["--numeric", "float", "--numeric", "fixed"], "--numeric given more than once"),
        (["-o", "a.h", "--output", "b.h"], "--output given more than once"),
        (["--dump", "--json"], "--dump and --json exclude each other"),
        # The options alone decide it: a usage error (it was found after loading, exit 1).
        (["--proba-bits", "8", "--numeric", "float"], "proba_bits applies to fixed mode"),
        (["--proba-bits", "8"], "proba_bits applies to fixed mode"),  # the host target: float
    ],
)
def test_cli_option_errors(document, tmp_path, args, message):
    """Usage errors exit 2, before the document is read, and write nothing."""
    (tmp_path / "m.json").write_text(document)
    done = subprocess.run([CLI, str(tmp_path / "m.json"), *args], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_cli_fixed_mode_without_input_ranges_says_how_to_get_them(tmp_path):
    """A fixed-mode port of an SVC document written without calibration: the error names the
    missing field and says how a document gets it (it told command-line users to pass
    calibration= to port())."""
    from sklearn.svm import SVC

    X_train, _, y_train, _ = split("iris")
    (tmp_path / "svc.json").write_text(mcuport.to_json(SVC().fit(X_train, y_train)))
    done = run(str(tmp_path / "svc.json"), "--numeric", "fixed")
    assert done.returncode == 1
    assert ("(/input_ranges) fixed mode needs input ranges for SVC, which come from data, and the "
            "document has none: in Python, pass calibration=X_train (or input_ranges=) to port(), "
            "load() or to_json(), which writes them into the document as input_ranges; or port "
            "in float mode") in done.stderr, done.stderr
    assert run(str(tmp_path / "svc.json"), "--numeric", "float").returncode == 0


def test_cli_dump_version_and_targets(document, tmp_path):
    (tmp_path / "m.json").write_text(document)
    assert "estimator: RandomForestClassifier" in run(str(tmp_path / "m.json"), "--dump").stdout
    assert run("--version").stdout.startswith("mcuport 0.1.0")
    assert "cortex-m0\tfixed" in run("--list-targets").stdout
    assert run(str(tmp_path / "missing.json")).returncode == 1


def test_cli_says_why_a_file_cannot_be_read_or_written(document, tmp_path):
    """A directory reads as empty text on Linux: it was reported as malformed JSON."""
    (tmp_path / "m.json").write_text(document)
    done = run(str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == f"mcuport: error: cannot read {tmp_path}: it is a directory\n"
    done = run(str(tmp_path / "missing.json"))
    assert done.stderr == (f"mcuport: error: cannot read {tmp_path / 'missing.json'}: "
                           "No such file or directory\n")
    done = run(str(tmp_path / "m.json"), "-o", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == f"mcuport: error: cannot write {tmp_path}: it is a directory\n"
    done = run(str(tmp_path / "m.json"), "-o", str(tmp_path / "no" / "m.h"))
    assert done.returncode == 1
    assert done.stderr == (f"mcuport: error: cannot write {tmp_path / 'no' / 'm.h'}: "
                           "No such file or directory\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]

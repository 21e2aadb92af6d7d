"""The hostile corpus (tests/hostile/) through the Python entrances (port, load, to_json,
report) and the command line: every document is refused with mcuport.ModelError (a ValueError)
naming the JSON pointer and the message that tests/hostile/expected.json gives, and the command
line exits 1, prints that message and writes no header (an existing one is left as it was).
tests/cpp/test_hostile.cpp checks the same documents in the C++ loader."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import subprocess

import numpy as np
import pytest

import mcuport

from conftest import find_cli

CORPUS = pathlib.Path(__file__).resolve().parents[1] / "hostile"
EXPECTED = json.loads((CORPUS / "expected.json").read_text())
NAMES = sorted(EXPECTED)
CLI = find_cli()


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expect_message(text: str, name: str) -> None:
    """text is "(POINTER) DETAIL", or DETAIL alone for the text as a whole, with the expected
    part in DETAIL."""
    path, message = EXPECTED[name]["path"], EXPECTED[name]["message"]
    if path:
        assert text.startswith(f"({path}) "), (name, text)
    else:
        assert not text.startswith("("), (name, text)
    assert message in text, (name, text)


def test_corpus_is_what_make_corpus_writes():
    generator = _make_corpus()
    files = {p.name for p in CORPUS.glob("*.json")} - {"expected.json"}
    assert files == {f"{case.name}.json" for case in generator.CASES}
    for case in generator.CASES:
        assert (CORPUS / f"{case.name}.json").read_bytes() == generator.build(case), case.name
    assert EXPECTED == generator.expected()
    assert len(files) >= 60
    categories = {entry["category"] for entry in EXPECTED.values()}
    assert categories == {
        "malformed", "nan_infinite", "wrong_type", "missing_unknown_key", "format_version",
        "inconsistent_size", "feature_index", "tree_structure", "limit", "billions", "variance",
        "not_positive_definite", "empty_classes", "duplicate_labels",
    }


@pytest.mark.parametrize("family", sorted(_make_corpus().BASES))
def test_base_documents_are_valid(family):
    """Each hostile document is one of these with one thing changed: they must port."""
    text = json.dumps(_make_corpus().BASES[family])
    mcuport._core.validate(text)
    assert mcuport.port(text, numeric="float").startswith("/*")


def test_model_error_is_a_value_error():
    assert issubclass(mcuport.ModelError, ValueError)


@pytest.mark.parametrize("name", NAMES)
def test_port_refuses(name):
    data = (CORPUS / f"{name}.json").read_bytes()
    with pytest.raises(mcuport.ModelError) as error:
        mcuport.port(data)
    expect_message(str(error.value), name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    with pytest.raises(mcuport.ModelError) as error:
        mcuport.port(text, numeric="fixed")
    expect_message(str(error.value), name)


@pytest.mark.parametrize("name", NAMES)
def test_load_refuses(name):
    with pytest.raises(mcuport.ModelError) as error:
        mcuport.load((CORPUS / f"{name}.json").read_bytes())
    expect_message(str(error.value), name)


@pytest.mark.parametrize("name", NAMES)
def test_to_json_refuses(name):
    """mcuport.to_json(document) loads the document to write it back."""
    with pytest.raises(mcuport.ModelError) as error:
        mcuport.to_json((CORPUS / f"{name}.json").read_bytes())
    expect_message(str(error.value), name)


@pytest.mark.parametrize("name", NAMES)
def test_report_refuses(name):
    """mcuport.report validates a document before it reads any field of it."""
    with pytest.raises(mcuport.ModelError) as error:
        mcuport.report((CORPUS / f"{name}.json").read_bytes(), np.zeros((1, 2)),
                       print_table=False)
    expect_message(str(error.value), name)


@pytest.mark.parametrize("name", NAMES)
def test_cli_refuses_and_writes_nothing(name, tmp_path):
    assert CLI, "the mcuport command is not on PATH: pip install . installs it"
    document = CORPUS / f"{name}.json"
    fresh = tmp_path / "fresh.h"
    done = subprocess.run([CLI, str(document), "-o", str(fresh)], capture_output=True)
    assert done.returncode == 1, done.stderr
    stderr = done.stderr.decode("ascii")  # the message is ASCII even for bytes that are not
    prefix = f"mcuport: error: {document}: "
    assert stderr.startswith(prefix) and stderr.endswith("\n") and stderr.count("\n") == 1
    expect_message(stderr[len(prefix):-1], name)
    assert done.stdout == b""
    assert list(tmp_path.iterdir()) == []  # no header, no temporary file left behind

    # A header that exists already is left exactly as it was.
    existing = tmp_path / "existing.h"
    existing.write_bytes(b"/* the previous header */\n")
    done = subprocess.run([CLI, str(document), "--numeric", "fixed", "-o", str(existing)],
                          capture_output=True)
    assert done.returncode == 1
    assert existing.read_bytes() == b"/* the previous header */\n"
    assert list(tmp_path.iterdir()) == [existing]


def test_report_command_names_the_pointer_of_a_document_that_is_not_utf8(tmp_path):
    """mcuport-report reads the document as bytes: the loader, not Python's codec, refuses it."""
    command = find_cli("mcuport-report")
    assert command, "mcuport-report is not installed"
    (tmp_path / "rows.csv").write_text("speed,load\n0.5,1.0\n")
    name = "malformed_invalid_utf8_in_a_label"
    done = subprocess.run([command, str(CORPUS / f"{name}.json"), str(tmp_path / "rows.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 1
    prefix = "mcuport-report: error: "
    assert done.stderr.startswith(prefix)
    expect_message(done.stderr[len(prefix):].strip(), name)

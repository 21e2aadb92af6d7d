"""The examples run in the tests, so none can rot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One worker runs them one after another: some build in the examples' own directories.
pytestmark = pytest.mark.xdist_group("examples")


def test_quickstart_ports_compiles_and_agrees(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples/quickstart/quickstart.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=True,
    )
    rows = re.findall(r"^(float|fixed)\s+(\d+)/(\d+) .*?([\d,]+) bytes\s+(fast|compact)",
                      done.stdout, flags=re.M)
    assert [(row[0], row[4]) for row in rows] == [
        ("float", "fast"), ("fixed", "fast"), ("fixed", "compact")], done.stdout
    for numeric, agree, total, table_bytes, layout in rows:
        assert agree == total  # the quickstart model has no near-ties: it must agree fully
        # Fixed fast code on the host adds every leaf where it is reached: no tables at all.
        expect_tables = not (numeric == "fixed" and layout == "fast")
        assert (int(table_bytes.replace(",", "")) > 0) == expect_tables, done.stdout
    for name in ("float_fast", "fixed_fast", "fixed_compact"):
        assert (tmp_path / f"digits_{name}.h").exists()


def test_cortex_m4_firmware_with_two_models_agrees_on_qemu(tmp_path):
    """examples/firmware/cortex-m4: `make check` builds the two-model firmware, runs it under
    qemu-system-arm and diffs its semihosting lines with scikit-learn's answers."""
    for tool in ("make", "arm-none-eabi-gcc", "qemu-system-arm"):
        assert shutil.which(tool), f"{tool} is missing: scripts/setup installs it"
    example = ROOT / "examples/firmware/cortex-m4"
    done = subprocess.run(["make", "-C", str(example), "check", f"BUILD={tmp_path}",
                           f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "firmware agrees with scikit-learn" in done.stdout
    answers = (tmp_path / "answers.txt").read_text().splitlines()
    assert len(answers) == 38 and answers == (tmp_path / "expected.txt").read_text().splitlines()
    # Both models answered: every line has a forest label and a naive Bayes label.
    labels = {"setosa", "versicolor", "virginica"}
    assert all(set(line.split()[1:]) <= labels and len(line.split()) == 3 for line in answers)


def test_arduino_sketch_and_platformio_project_agree_on_simavr(tmp_path):
    """examples/arduino: `make check` builds the .ino sketch (C API) and the PlatformIO project's
    main.cpp (micromlgen's interface) against Debian's Arduino AVR core, runs both on simavr
    and diffs their UART lines with scikit-learn's answers."""
    for tool in ("make", "avr-g++", "simavr"):
        assert shutil.which(tool), f"{tool} is missing: scripts/setup installs it"
    core = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h")
    assert core.exists(), "the Arduino AVR core is missing: scripts/setup installs arduino-core-avr"
    done = subprocess.run(["make", "-C", str(ROOT / "examples/arduino"), "check",
                           f"BUILD={tmp_path}", f"PYTHON={sys.executable}"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "both programs agree with scikit-learn" in done.stdout
    expected = (tmp_path / "gen/expected.txt").read_text().splitlines()
    assert len(expected) == 38
    for program in ("sketch", "platformio"):
        assert (tmp_path / f"{program}.txt").read_text().splitlines() == expected, program


def test_host_tool_builds_against_an_installed_mcuport(tmp_path):
    """examples/host-tool: mcuport installed into a temporary prefix (cmake --install), the
    example configured with find_package(mcuport) against it, built, and run on a model
    document: its header must be the one mcuport.port writes."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    import mcuport

    for tool in ("cmake", "c++"):
        assert shutil.which(tool), f"{tool} is missing: scripts/setup installs it"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    # scripts/test has built the C++ tree already (build/tests): install from it, rebuilding
    # the library if a source changed since; otherwise configure and build one here.
    build = ROOT / "build" / "tests"
    if not (build / "CMakeCache.txt").exists():
        build = tmp_path / "mcuport-build"
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), *generator,
                        "-DMCUPORT_BUILD_TESTS=OFF", "-DCMAKE_BUILD_TYPE=Release"],
                       check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "mcuport", "mcuport_cli", "-j",
                    "2"], check=True, capture_output=True)
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)], check=True,
                   capture_output=True)
    assert (prefix / "lib/cmake/mcuport/mcuportConfig.cmake").exists()
    assert (prefix / "include/mcuport/port.hpp").exists() and (prefix / "bin/mcuport").exists()

    tool_build = tmp_path / "host-tool"
    done = subprocess.run(["cmake", "-S", str(ROOT / "examples/host-tool"), "-B",
                           str(tool_build), *generator, f"-DCMAKE_PREFIX_PATH={prefix}"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run(["cmake", "--build", str(tool_build)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

    X, y = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    document = mcuport.to_json(forest, calibration=X)
    (tmp_path / "forest.json").write_text(document)
    done = subprocess.run([str(tool_build / "model_to_c"), str(tmp_path / "forest.json"),
                           "forest", "cortex-m0", "fixed", str(tmp_path / "forest.h")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("RandomForestClassifier (classification), 4 features, 3 classes")
    assert (tmp_path / "forest.h").read_text() == mcuport.port(
        document, name="forest", target="cortex-m0", numeric="fixed")
    # A bad document: the library's error, naming the field, and no header.
    (tmp_path / "bad.json").write_text(document.replace('"n_features":4', '"n_features":0'))
    done = subprocess.run([str(tool_build / "model_to_c"), str(tmp_path / "bad.json"), "bad",
                           "host", "float", str(tmp_path / "bad.h")], capture_output=True,
                          text=True)
    assert done.returncode == 1 and "(/n_features)" in done.stderr
    assert not (tmp_path / "bad.h").exists()

"""mcuport.report(): flash, RAM, stack, cost and accuracy per numeric mode, measured on the
target's emulator, and the same from the command line (mcuport-report)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import confusion_matrix, r2_score
from sklearn.naive_bayes import GaussianNB

import mcuport
from mcuport.firmware import ToolchainMissing
from mcuport.host import HostModel

from conftest import REPORT_LINES, SEED, find_cli, split


@pytest.fixture(scope="module")
def iris_forest():
    X_train, X_test, y_train, y_test = split("iris")
    forest = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=SEED)
    return forest.fit(X_train, y_train), X_train, X_test, y_test


def host_predictions(estimator, X, numeric, target, calibration):
    generated = mcuport.generate(estimator, name="model", numeric=numeric, target=target,
                                 calibration=calibration)
    with HostModel(generated) as host:
        inputs = host.quantize(X)[0] if numeric == "fixed" else X.astype(np.float32)
        classes, _ = host.run(inputs)
    return estimator.classes_[classes]


def test_report_on_cortex_m4_measures_both_modes_and_scores_them_as_the_host_build(
        iris_forest, capsys):
    forest, X_train, X_test, y_test = iris_forest
    report = mcuport.report(forest, X_test, y_test, target="cortex-m4", calibration=X_train)
    printed = capsys.readouterr().out
    assert report.target["name"] == "cortex-m4f"
    assert [row.numeric for row in report.rows] == ["fixed", "float"]
    assert report.cost_unit.startswith("instructions")
    for row in report.rows:
        expected = host_predictions(forest, X_test, row.numeric, "cortex-m4f", X_train)
        # The emulated firmware answers as the host build, row for row, and the report's
        # scores are computed from those answers.
        np.testing.assert_array_equal(row.predictions, expected)
        assert row.accuracy == pytest.approx(np.mean(expected == y_test))
        assert row.agreement == pytest.approx(np.mean(expected == forest.predict(X_test)))
        np.testing.assert_array_equal(row.confusion, confusion_matrix(y_test, expected))
        # Flash holds the tables and the code (fixed mode on Cortex-M4F: no tables, every
        # leaf is added where it is reached).
        assert row.flash_bytes > row.table_bytes >= (0 if row.numeric == "fixed" else 1)
        assert row.ram_bytes == 0  # the model has no writable globals
        assert 0 < row.stack_bytes < 512
        assert 0 < row.cost_mean <= row.cost_max
        assert row.time_us == pytest.approx(row.cost_mean / 168.0)
        REPORT_LINES.append(
            f"report cortex-m4f iris forest {row.numeric}: flash {row.flash_bytes} B, stack "
            f"{row.stack_bytes} B, {row.cost_mean:.0f} {report.cost_unit}, accuracy "
            f"{row.accuracy:.3f}")
    # Integer-only code is smaller than float code with float thresholds and probabilities.
    fixed, floating = report.rows
    assert fixed.table_bytes < floating.table_bytes
    for text in ("numeric", "flash B", "RAM B", "stack B", "accuracy", "agreement",
                 "confusion matrix (fixed)", "confusion matrix (float)", "us @ 168 MHz"):
        assert text in printed
    assert printed.strip() == report.table().strip()


def test_report_on_avr_counts_cycles_and_keeps_the_model_out_of_ram(capsys):
    X_train, X_test, y_train, y_test = split("iris")
    model = GaussianNB().fit(X_train, y_train)
    report = mcuport.report(model, X_test, y_test, target="atmega328p", numeric="fixed",
                            calibration=X_train)
    row, = report.rows
    assert report.cost_unit == "cycles (simavr)"
    assert row.ram_bytes == 0
    assert row.time_us == pytest.approx(row.cost_mean / 16.0)
    np.testing.assert_array_equal(
        row.predictions, host_predictions(model, X_test, "fixed", "avr-atmega328p", X_train))
    REPORT_LINES.append(f"report ATmega328P iris GaussianNB fixed: {row.cost_mean:.0f} cycles, "
                        f"{row.time_us:.1f} us, flash {row.flash_bytes} B")


def test_report_states_8_bit_leaf_probabilities(iris_forest, capsys):
    forest, X_train, X_test, y_test = iris_forest
    report = mcuport.report(forest, X_test, y_test, target="atmega328p", numeric="fixed",
                            calibration=X_train, proba_bits=8)
    printed = capsys.readouterr().out
    row, = report.rows
    assert row.proba_bits == 8 and report.to_dict()["rows"][0]["proba_bits"] == 8
    assert "tree leaf probabilities in 8 bits (proba_bits=8): each within 0.5/255 " in printed
    generated = mcuport.generate(forest, name="model", numeric="fixed", target="atmega328p",
                                 calibration=X_train, proba_bits=8)
    with HostModel(generated) as host:
        expected = forest.classes_[host.run(host.quantize(X_test)[0])[0]]
    np.testing.assert_array_equal(row.predictions, expected)
    default_report = mcuport.report(forest, X_test, y_test, target="atmega328p",
                                    numeric="fixed", calibration=X_train, print_table=False)
    default, = default_report.rows
    assert default.proba_bits == 16
    # the unit the header uses (docs/fixed-point.md: 65280 at 16 bits)
    assert any("in 16 bits (proba_bits=16): each within 0.5/65280 " in note
               for note in default_report.notes)


def test_report_on_a_regressor_gives_r2_and_the_distance_to_scikit_learn(capsys):
    X_train, X_test, y_train, y_test = split("diabetes")
    forest = RandomForestRegressor(n_estimators=4, max_depth=4, random_state=SEED)
    forest.fit(X_train, y_train)
    report = mcuport.report(forest, X_test, y_test, target="rv32imc", calibration=X_train)
    assert report.cost_unit.startswith("instructions")
    for row in report.rows:
        assert row.r2 == pytest.approx(r2_score(y_test, row.predictions))
        if row.numeric == "float":
            np.testing.assert_allclose(row.predictions, forest.predict(X_test), rtol=1e-5)
        else:
            # Fixed mode decides exactly on the value each int16 code stands for: compare with
            # scikit-learn on those values (a raw input near a threshold may round across it).
            generated = mcuport.generate(forest, name="model", numeric="fixed",
                                         calibration=X_train, target="rv32imc")
            with HostModel(generated) as host:
                codes, seen = host.quantize(X_test)
            np.testing.assert_allclose(row.predictions, forest.predict(seen.astype(np.float64)),
                                       rtol=0, atol=1e-3 * np.ptp(y_test))
    assert "R2" in capsys.readouterr().out


def test_report_plot_draws_a_png(iris_forest, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is the optional plotting dependency")
    forest, X_train, X_test, y_test = iris_forest
    report = mcuport.report(forest, X_test, y_test, target="cortex-m0", numeric="fixed",
                            calibration=X_train, print_table=False)
    path = tmp_path / "report.png"
    report.plot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_names_the_missing_package_and_never_estimates(iris_forest, monkeypatch):
    forest, X_train, X_test, y_test = iris_forest
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolchainMissing, match="gcc-avr"):
        mcuport.report(forest, X_test, y_test, target="avr-atmega328p", numeric="fixed",
                       print_table=False)


def test_report_rejects_bad_arguments_clearly(iris_forest):
    forest, X_train, X_test, y_test = iris_forest
    with pytest.raises(ValueError, match="unknown target 'z80'"):
        mcuport.report(forest, X_test, y_test, target="z80")
    with pytest.raises(ValueError, match="X_test has 3 columns; the model takes 4 features"):
        mcuport.report(forest, X_test[:, :3], y_test, print_table=False)
    with pytest.raises(ValueError, match="y_test has 5 rows, X_test 38"):
        mcuport.report(forest, X_test, y_test[:5], print_table=False)
    with pytest.raises(ValueError, match="numeric must be"):
        mcuport.report(forest, X_test, y_test, numeric="double", print_table=False)
    with pytest.raises(ToolchainMissing, match="no emulator for target .esp32."):
        mcuport.report(forest, X_test, y_test, target="esp32", numeric="float",
                       print_table=False)


def write_csv(path, X, y, reference=None, names=None):
    columns = list(names or [f"f{i}" for i in range(X.shape[1])]) + ["species"]
    if reference is not None:
        columns.append("sklearn")
    lines = [",".join(columns)]
    for i, row in enumerate(X):
        cells = [repr(float(v)) for v in row] + [str(y[i])]
        if reference is not None:
            cells.append(str(reference[i]))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def run_cli(*args):
    """The installed mcuport-report command (pyproject's [project.scripts])."""
    command = find_cli("mcuport-report")
    assert command is not None, "mcuport-report is not installed: run scripts/setup"
    return subprocess.run([command, *args], capture_output=True, text=True)


def test_report_from_the_command_line(iris_forest, tmp_path):
    forest, X_train, X_test, y_test = iris_forest
    model = tmp_path / "model.json"
    model.write_text(mcuport.to_json(forest, calibration=X_train))
    rows = tmp_path / "test.csv"
    write_csv(rows, X_test, y_test, forest.predict(X_test))
    done = run_cli(str(model), str(rows), "--target", "rv32imc", "--label", "species",
                   "--reference", "sklearn", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["target"] == "rv32imc" and [r["numeric"] for r in result["rows"]] == [
        "fixed", "float"]
    python = mcuport.report(model.read_text(), X_test, y_test, target="rv32imc",
                            reference=forest.predict(X_test), print_table=False)
    for cli_row, row in zip(result["rows"], python.rows):
        assert cli_row["accuracy"] == row.accuracy and cli_row["agreement"] == row.agreement
        assert cli_row["cost_mean"] == row.cost_mean  # the counters are deterministic
    table = run_cli(str(model), str(rows), "--target", "rv32imc", "--label", "species",
                    "--reference", "sklearn", "--numeric", "fixed")
    assert table.returncode == 0 and "accuracy" in table.stdout and "rv32imc" in table.stdout


@pytest.mark.parametrize("content, message", [
    ("1,2,3,4\n5,6,7,8\n", "the first line must name the columns"),
    ("a,b,c,d,species\n1,2,3\n", "test.csv:2: 3 fields, the header has 5"),
    ("a,b,c,d,species\n1,2,x,4,0\n", "column 'c' is not a number"),
    ("a,b,c,d\n1,2,3,4\n", "no column named 'species'"),
    ("a,b,c,d,species\n", "no test rows"),
    ("a,b,c,species,species\n1,2,3,0,0\n", "2 columns are named 'species' (for --label)"),
])
def test_the_command_line_names_what_is_wrong_with_the_csv(iris_forest, tmp_path, content,
                                                           message):
    forest, X_train, _, _ = iris_forest
    model = tmp_path / "model.json"
    model.write_text(mcuport.to_json(forest, calibration=X_train))
    rows = tmp_path / "test.csv"
    rows.write_text(content)
    done = run_cli(str(model), str(rows), "--label", "species")
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def named_model(iris_forest):
    """The forest's document with its features named (as from a DataFrame)."""
    forest, X_train, _, _ = iris_forest
    document = json.loads(mcuport.to_json(forest, calibration=X_train))
    document["feature_names"] = NAMES
    return json.dumps(document)


def test_the_command_line_takes_named_columns_by_name(iris_forest, named_model, tmp_path):
    """A CSV whose columns name the model's features in another order: taken by position it ran
    and reported 33% accuracy (found by an adversarial review); the columns are now taken by
    name, and the report is the one of the CSV in the model's order."""
    forest, _, X_test, y_test = iris_forest
    model = tmp_path / "model.json"
    model.write_text(named_model)
    order = [3, 2, 1, 0]
    in_order, shuffled = tmp_path / "in_order.csv", tmp_path / "shuffled.csv"
    write_csv(in_order, X_test, y_test, forest.predict(X_test), names=NAMES)
    write_csv(shuffled, X_test[:, order], y_test, forest.predict(X_test),
              names=[NAMES[i] for i in order])
    results = []
    for rows in (in_order, shuffled):
        done = run_cli(str(model), str(rows), "--target", "rv32imc", "--label", "species",
                       "--reference", "sklearn", "--numeric", "fixed", "--json")
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout)["rows"][0])
    assert results[1]["agreement"] == results[0]["agreement"] >= 0.97
    assert results[1]["accuracy"] == results[0]["accuracy"]
    assert results[1]["cost_mean"] == results[0]["cost_mean"]


@pytest.mark.parametrize("header, message", [
    ("sepal_length,sepal_width,petal_length,petal_wid,species",
     "columns that name no feature: petal_wid; features without a column: petal_width"),
    ("sepal_length,sepal_width,petal_length,species", "features without a column: petal_width"),
    ("sepal_length,sepal_width,petal_length,petal_width,petal_length,species",
     "a feature named by two columns"),
])
def test_the_command_line_says_which_named_columns_do_not_match(named_model, tmp_path, header,
                                                                 message):
    model = tmp_path / "model.json"
    model.write_text(named_model)
    rows = tmp_path / "test.csv"
    n = header.count(",")
    rows.write_text(header + "\n" + ",".join(["1.0"] * n + ["0"]) + "\n")
    done = run_cli(str(model), str(rows), "--label", "species")
    assert done.returncode == 1
    assert message in done.stderr and "the model's features: " + ", ".join(NAMES) in done.stderr
    assert "Traceback" not in done.stderr

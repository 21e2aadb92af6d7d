"""The ceiling-fan example on real accelerometer data: the ported detector must decide as numpy
does, detect unbalanced blades and stay quiet on held-out normal recordings, and report its
Cortex-M4 size.

Runs examples/ceiling-fan/ceiling_fan.py on a fixed-seed subset (100 files per condition) and
reads the results.json it writes. The floors and ceilings leave margin below what that subset
measures (examples/ceiling-fan/README.md has the full-data numbers):

                           subset 100   full data   asserted
  detection, overall          74.0%       67.3%      >= 55%
  detection, low / med        82 / 100    72 / 100   >= 60 / 90%
  false alarms, running fan    1.7%        0.3%      <= 5%
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPORT_LINES, require

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ceiling-fan" / "ceiling_fan.py"
DATA = ROOT.parent / "shared" / "data" / "ceiling-fan"
SUBSET = 100

pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"ceiling-fan data not found at {DATA} (../shared/data/ceiling-fan)"
)


def run_example(tmp_path, *extra):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--data", str(DATA), "--subset", str(SUBSET),
         "--out", str(tmp_path), *extra],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ceiling_fan_detector_ported_to_c(tmp_path):
    require("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    stdout = run_example(tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    by_row = {(row["kind"], row["condition"]): row for row in results["rows"]}

    # The generated C decides as mcuport.Mahalanobis.predict on the same windows, and its score
    # is the squared distance to far below the threshold's scale.
    assert results["n_agreement"] >= 300
    assert results["agreement"] >= 0.99, stdout
    assert results["score_error"] < 1e-3 * results["threshold"], stdout

    for column in ("numpy", "c"):
        assert results["detection"][column] >= 0.55, (column, stdout)
        assert by_row[("unbalanced", "low")][column] >= 0.60, (column, stdout)
        assert by_row[("unbalanced", "med")][column] >= 0.90, (column, stdout)
        assert results["false_alarm"][column] <= 0.05, (column, stdout)
    assert results["detection"]["n"] == 3 * SUBSET // 2
    assert results["false_alarm"]["n"] == 3 * round(0.2 * SUBSET)

    size = results["cortex_m4"]
    assert size is not None, stdout
    assert size["flash"] > 0 and size["ram"] > 0 and size["static_ram"] >= 0, size
    assert size["with_features"]["flash"] > size["flash"], size
    assert (tmp_path / "fan.h").read_text().count("fan_predict") >= 1
    REPORT_LINES.append(
        f"ceiling fan (subset {SUBSET}): detection {100 * results['detection']['c']:.1f}%, "
        f"false alarms {100 * results['false_alarm']['c']:.1f}%, C agrees on "
        f"{100 * results['agreement']:.2f}% of {results['n_agreement']} windows; Cortex-M4 flash "
        f"{size['flash']} B, RAM {size['ram']} B (with features {size['with_features']['flash']} "
        f"B / {size['with_features']['ram']} B)"
    )


def test_ceiling_fan_feature_study_favours_total_variation(tmp_path):
    """The README's feature choice holds on the subset too: total variation detects more than
    the original MAD and than the standard deviation, on both validation protocols."""
    run_example(tmp_path, "--compare-features")
    study = json.loads((tmp_path / "feature_study.json").read_text())
    tv, mad, std = study["TV"], study["MAD (original)"], study["STD"]
    for protocol in ("mean", "chronological"):
        assert tv[protocol] > mad[protocol] + 0.3, study
        assert tv[protocol] > std[protocol], study
    assert tv["auc"] > mad["auc"], study

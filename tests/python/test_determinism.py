"""The same model document and options give a byte-identical header in every process, whatever
Python's hash seed, for every family and numeric mode (issue 7, determinism)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import mcuport

from test_injection import FAMILIES, fit_family

SCRIPT = (
    "import sys, mcuport; "
    "sys.stdout.write(mcuport.port(open(sys.argv[1]).read(), name='m', numeric=sys.argv[2]))"
)


@pytest.mark.parametrize("kind", FAMILIES)
def test_headers_are_identical_across_processes(kind, tmp_path):
    estimator, X_train = fit_family(kind)
    document = mcuport.to_json(estimator, calibration=X_train)
    assert mcuport.to_json(estimator, calibration=X_train) == document
    path = tmp_path / "model.json"
    path.write_text(document)
    for numeric in ("float", "fixed"):
        expected = mcuport.port(document, name="m", numeric=numeric)
        assert mcuport.port(document, name="m", numeric=numeric) == expected
        for seed in ("0", "12345"):
            run = subprocess.run([sys.executable, "-c", SCRIPT, str(path), numeric],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONHASHSEED": seed})
            assert run.stdout == expected, (numeric, seed)

"""The examples run in the tests, so none can rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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

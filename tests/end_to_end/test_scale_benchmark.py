"""The scale benchmark runs at 1x within CI time and prints its table (issue: scale curve)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import PROJECT_ROOT


def test_scale_benchmark_runs_at_one_x() -> None:
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "bench_scale.py"), "--sizes", "1",
         "--base-mb", "0.5", "--books", "8"],
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    row = next(line for line in done.stdout.splitlines() if line.strip().startswith("1x"))
    numbers = [float(x.replace(",", "")) for x in re.findall(r"[\d,]+\.?\d*", row)[1:]]
    input_mb, records, tokens, wall = numbers[:4]
    assert input_mb > 0.3 and records > 0 and tokens > 0 and wall > 0
    assert "peak RSS MB per stage" in done.stdout

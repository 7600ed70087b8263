"""The short soak in the suite (issue 12, point 7b): the real line, model and store for 150 parts in one
process, open files and threads sampled every 10 parts (``bench/bench_soak.py``, the long run's
script, in a process of its own). Open files and threads must not grow once the line runs;
memory is reported by the long run (docs/reliability.md), not asserted: a few hundred parts are
too few to tell allocator noise from a leak.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_soak.py"
PARTS, EVERY, WARMUP = 150, 10, 30

pytestmark = pytest.mark.slow


def test_open_files_and_threads_stay_flat_over_a_short_soak(tmp_path):
    out, samples = tmp_path / "soak.json", tmp_path / "samples.csv"
    proc = subprocess.run([sys.executable, str(BENCH), "--parts", str(PARTS), "--every", str(EVERY),
                           "--warmup", str(WARMUP), "--size", "128", "--data", str(tmp_path / "station"),
                           "--json", str(out), "--csv", str(samples)], capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["parts"] == PARTS and not result["errors"] and not result["aborted"], result
    assert result["counts"]["NG"] + result["counts"]["REVIEW"] >= 1 and result["audit_ok"], result
    rows = [{k: int(float(v)) for k, v in r.items()} for r in csv.DictReader(samples.open())]
    assert [r["parts"] for r in rows] == list(range(EVERY, PARTS + 1, EVERY))
    steady = [r for r in rows if r["parts"] > WARMUP]
    half = len(steady) // 2
    first, second = steady[:half], steady[half:]
    assert max(r["fds"] for r in second) <= max(r["fds"] for r in first), rows
    assert max(r["threads"] for r in second) <= max(r["threads"] for r in first), rows
    stored = list((tmp_path / "station" / "images").glob("??/??/*.png"))
    assert len(stored) >= PARTS - 5  # a new image file per part (noise), kept on disk, not in memory

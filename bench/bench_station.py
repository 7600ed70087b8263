"""The station's own analyse time with explanations running beside the line, against the bench figure.

Teaches BR-100 from the sample good parts once, then inspects the 22-part sample line through the
facade (the same path as ``inspector inspect`` and the app) in three runs, each in a fresh
process so torch's thread pool is set once:

* ``bench``: explanations off, torch threads as the budget gives them (all cores): the bench figure;
* ``station``: explanations on (async, the explainer busy on every flagged part) with the thread
  budget (``torch_threads`` 0 = auto: half the cores);
* ``station-all-threads``: explanations on, every torch call on all cores (the old behaviour).

Reported per run: mean and median of the analysis time per part (``Inspection.timings_ms["analyze.total"]``,
the model's own timing, so reading and storing images is not counted) and the run's wall time.
Usage::

    python bench/bench_station.py --json bench/results/bench_station_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ROOT / "sample_data/workorders/WO-1001_bracket.txt"
GOOD = ROOT / "sample_data/parts/BR-100/good"
LINE = ROOT / "sample_data/parts/BR-100/line"
RUNS = {"bench": ("off", 0), "station": ("async", 0), "station-all-threads": ("async", os.cpu_count() or 1)}


def one_run(data_dir: str, explain: str, threads: int, repeat: int) -> dict:
    """Runs inside a child process: inspect the line ``repeat`` times, return the timings."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    s = Settings(data_dir=Path(data_dir), device="cpu", explain=explain, torch_threads=threads)
    with Inspector(s) as insp:
        wo = insp.load_work_order(ORDER)
        if not insp.backend.is_taught(wo.part_number):
            insp.teach(wo.part_number, sorted(GOOD.glob("*.png")), work_order=wo)
        import torch

        ms: list[float] = []
        t0 = time.perf_counter()
        for _ in range(repeat):
            insp.run(str(LINE), wo, on_result=lambda r: ms.append(r.inspection.timings_ms["analyze.total"])
                     if "analyze.total" in r.inspection.timings_ms else None)
        wall = time.perf_counter() - t0
        waited = time.perf_counter()
        insp.wait_explanations(timeout=1800)
        return {"explain": explain, "torch_threads": torch.get_num_threads(), "parts": len(ms),
                "analyse_ms_mean": float(np.mean(ms)), "analyse_ms_median": float(np.median(ms)),
                "analyse_ms_p90": float(np.percentile(ms, 90)), "line_s": round(wall, 2),
                "explanations_after_line_s": round(time.perf_counter() - waited, 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=2, help="passes over the 22-part line per run (default 2)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--child", nargs=4, metavar=("DATA", "EXPLAIN", "THREADS", "REPEAT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        data, explain, threads, repeat = args.child
        print(json.dumps(one_run(data, explain, int(threads), int(repeat))))
        return 0
    out: dict = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                 "command": "python bench/bench_station.py", "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-station-") as data:
        for name, (explain, threads) in RUNS.items():
            res = subprocess.run([sys.executable, __file__, "--child", data, explain, str(threads), str(args.repeat)],
                                 capture_output=True, text=True, check=True)
            out["runs"][name] = json.loads(res.stdout.strip().splitlines()[-1])
            r = out["runs"][name]
            print(f"{name:20s} explain {r['explain']:5s} threads {r['torch_threads']}: analyse mean "
                  f"{r['analyse_ms_mean']:.1f} ms, median {r['analyse_ms_median']:.1f} ms, p90 {r['analyse_ms_p90']:.1f} ms "
                  f"({r['parts']} parts, line {r['line_s']} s)", flush=True)
    bench = out["runs"]["bench"]["analyse_ms_median"]
    for name in ("station", "station-all-threads"):
        out["runs"][name]["ratio_to_bench"] = round(out["runs"][name]["analyse_ms_median"] / bench, 2)
        print(f"{name}: {out['runs'][name]['ratio_to_bench']}x the bench median")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of `inspector reinspect` per worker: parts re-judged per second, local and on Dask.

    python bench/bench_reinspect.py                          # 22 sample parts x 2, local + dask 1 and 2 workers
    python bench/bench_reinspect.py --repeat 5 --workers 1,2,4 --threads 0,1 --out bench/results/bench_reinspect_cpu.json

Set-up (not timed): BR-100 taught from the 12 sample good images, WO-1001 loaded, the 22 sample
line images inspected ``--repeat`` times (a lot of 22 x repeat stored parts). Timed: one dry run
(``Inspector.rejudge_plan``, nothing written) per engine: ``local`` (this process, the station's
backend and thread budget) and ``dask`` with a ``distributed.LocalCluster`` of N worker processes
(each worker loads the model once, timed apart as ``load_seconds``), for each ``--threads`` value
(settings ``torch_threads``: 0 = auto, i.e. the station's budget in-process and the host's cores
shared by the workers on it for Dask; 1 = one torch/OpenCV thread per worker). Parts/s
counts the analysis phase only; "per worker" divides by the number of workers. The dev boxes are
shared: the load average before and after each run is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from inspector.pipeline import Inspector  # noqa: E402
from inspector.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(facade: Inspector, engine: str, workers: int, threads: int) -> dict:
    before = load()
    t0 = time.perf_counter()
    if engine == "local":
        plan = facade.rejudge_plan("WO-1001")
    else:
        plan = facade.rejudge_plan("WO-1001", engine="dask", workers=workers, processes=True)
    wall = time.perf_counter() - t0
    s = plan.summary()
    n = s["parts"] - s["errors"]
    per_s = s["parts_per_s"] or 0.0
    return {"engine": engine, "workers": plan.workers, "torch_threads": threads or "auto", "parts": n, "wall_s": round(wall, 2),
            "load_seconds": s["load_seconds"], "analysis_s": round(s["seconds"] - s["load_seconds"], 2),
            "parts_per_s": per_s, "parts_per_s_per_worker": round(per_s / plan.workers, 3),
            "per_worker_parts": {k: v for k, v in plan.per_worker.items()}, "errors": s["errors"],
            "loadavg_before": before, "loadavg_after": load()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="times the 22 sample parts are stored (default 2)")
    ap.add_argument("--threads", default="0,1", help="torch_threads settings to measure (default 0,1; 0 = auto)")
    ap.add_argument("--workers", default="1,2", help="Dask cluster sizes, comma separated (default 1,2)")
    ap.add_argument("--no-local", action="store_true", help="skip the in-process engine")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)
    data = Path(tempfile.mkdtemp(prefix="bench-reinspect-"))
    settings = Settings(data_dir=data, device=args.device, explain="off", station="bench")
    results = []
    with Inspector(settings) as facade:
        wo = facade.load_work_order(SAMPLES / "workorders" / "WO-1001_bracket.txt")
        facade.teach(wo.part_number, sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png")))
        for _ in range(args.repeat):
            facade.run(str(SAMPLES / "parts" / "BR-100" / "line"), wo)
    for threads in [int(x) for x in args.threads.split(",") if x.strip()]:
        with Inspector(replace(settings, torch_threads=threads)) as facade:
            runs = ([] if args.no_local else [("local", 1)]) + [
                ("dask", int(n)) for n in args.workers.split(",") if n.strip()]
            for engine, n in runs:
                results.append(measure(facade, engine, n, threads))
                print(json.dumps(results[-1]), file=sys.stderr)
    out = {"bench": "reinspect", "command": "python bench/bench_reinspect.py " + " ".join(argv or sys.argv[1:]),
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "device": args.device, "stored_parts": 22 * args.repeat, "results": results}
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

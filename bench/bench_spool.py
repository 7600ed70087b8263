"""Benchmark the store-and-forward spool: append latency, drain throughput, the cost on the normal path.

    python bench/bench_spool.py [--dir DIR] [--records 300] [--width 640 --height 480] [--json OUT]

(a) ``Spool.append`` of a part record (inspection with 3 findings + a PNG of the given size):
each append writes a temporary file, fsyncs it, renames it and fsyncs the folder; median and
p99 in ms. (b) ``drain_step`` into a SQLite database (one transaction per 25 records, with the
images and the audit events): records per second. (c) ``Spool.count()`` on an empty spool, the
check every part pays on the normal path. Numbers depend on the disk: run it on the station's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector.spool import Spool, SpoolRecord, drain_step  # noqa: E402
from inspector.store import Store  # noqa: E402
from inspector.store.images import encode_png  # noqa: E402
from inspector.store.samples import sample_inspection, sample_work_order  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", help="folder to work in (default: a temporary folder)")
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-spool-"))
    rng = np.random.default_rng(0)
    spool = Spool(work / "spool", max_bytes=10**11, max_parts=10**7)
    base = rng.integers(90, 160, size=(args.height, args.width, 3), dtype=np.uint8)  # a noisy part: a real PNG size
    records = []
    for i in range(args.records):
        img = base.copy()
        img[0, :8] = np.frombuffer(i.to_bytes(8, "little") * 3, np.uint8)[:24].reshape(8, 3)
        data = encode_png(img)
        insp = sample_inspection(rng, hashlib.sha256(data).hexdigest(), n_findings=3)
        records.append(SpoolRecord("inspection", insp.id, "bench", "bench", inspection=insp, image=data,
                                   image_ext=".png"))
    append_ms = []
    for rec in records:
        t = time.perf_counter()
        spool.append(rec)
        append_ms.append((time.perf_counter() - t) * 1e3)
    store = Store.open(f"sqlite:///{work / 'db.sqlite'}", work / "images")
    store.save_work_order(sample_work_order(), "bench")
    t = time.perf_counter()
    drained = 0
    while spool.count():
        drained += drain_step(store, spool, "bench").stored
    drain_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(1000):
        spool.count()
    count_us = (time.perf_counter() - t) * 1e3
    store.close()
    result = {
        "records": args.records, "image": f"{args.width}x{args.height}",
        "record_kib_mean": round(sum(len(r.image) for r in records) / len(records) / 1024, 1),
        "append_ms_median": round(float(np.median(append_ms)), 2),
        "append_ms_p99": round(float(np.percentile(append_ms, 99)), 2),
        "drain_records_per_s": round(drained / drain_s, 1),
        "empty_count_us": round(count_us, 1),
        "dir": str(work), "machine": platform.platform(), "cpus": __import__("os").cpu_count(),
    }
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

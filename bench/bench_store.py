"""Benchmark of the store: write and read rates, streaming memory, image store, file sizes.

    python bench/bench_store.py                       # SQLite in a temp folder, 2,000 parts
    python bench/bench_store.py --parts 20000         # a bigger database
    python bench/bench_store.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Parts are synthetic (inspector.store.samples): 640x480 images, the sample finding mix
(0,0,0,1,2,3,5 findings, mean 1.6) unless --findings N. Times are wall clock, and CPU
time of this process beside it ("cpu"), because the dev boxes are shared: the load average
before and after is printed too. Prints one JSON object. Results are recorded in docs/storage.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from inspector.store import Store  # noqa: E402
from inspector.store.samples import sample_image, sample_inspection, sample_work_order  # noqa: E402


class Timer:
    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def rate(n: int, t: Timer) -> dict[str, float]:
    return {"per_s": round(n / t.wall, 1), "per_cpu_s": round(n / max(t.cpu, 1e-9), 1)}


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return round(statistics.median(times), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--parts", type=int, default=2000, help="parts saved one by one (as many again in batches)"
    )
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--findings", type=int, default=None, help="findings per part (default: the sample mix)")
    ap.add_argument("--url", default=None, help="database URL (default: a temporary SQLite file)")
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    out: dict[str, object] = {"parts": a.parts, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        url = a.url or f"sqlite:///{tmp}/bench.db"
        out["backend"] = url.split(":", 1)[0]
        with Timer() as t:
            store = Store.open(url, Path(tmp) / "images")
        out["open_ms"] = round(t.wall * 1e3, 1)
        store.save_work_order(sample_work_order(), "bench")

        # image store: 640x480 PNG from arrays, and camera JPEG bytes as received
        import cv2

        arrays = [sample_image(rng, 640, 480) for _ in range(60)]
        with Timer() as t:
            shas = [store.images.put_array(x) for x in arrays]
        out["put_array_640x480_noise_png"] = rate(len(arrays), t)  # worst case: incompressible
        yy, xx = np.mgrid[0:480, 0:640]
        smooth = [
            np.clip(
                np.dstack([xx / 5 + k, yy / 4, (xx + yy) / 9])[..., :3] + rng.normal(0, 3, (480, 640, 3)),
                0,
                255,
            ).astype(np.uint8)
            for k in range(30)
        ]
        with Timer() as t:
            for x in smooth:
                store.images.put_array(x)
        out["put_array_640x480_smooth_png"] = rate(len(smooth), t)  # a lit part: gradients + sensor noise
        jpgs = [cv2.imencode(".jpg", x)[1].tobytes() for x in arrays]
        with Timer() as t:
            for j in jpgs:
                store.images.put_bytes(j, "jpg")
        out["put_bytes_640x480_jpg"] = rate(len(jpgs), t)
        with Timer() as t:
            for s in shas[:30]:
                store.images.read(s)
        out["read_640x480_png"] = rate(30, t)

        def parts(n: int):
            return [sample_inspection(rng, shas[i % len(shas)], n_findings=a.findings) for i in range(n)]

        single = parts(a.parts)
        out["mean_findings"] = round(sum(len(p.findings) for p in single) / len(single), 2)
        with Timer() as t:
            for p in single:
                store.save_inspection(p)
        out["save_inspection"] = rate(len(single), t)

        batched = parts(a.parts)
        with Timer() as t:
            for i in range(0, len(batched), a.batch):
                store.save_inspections(batched[i : i + a.batch])
        out[f"save_inspections_batch{a.batch}"] = rate(len(batched), t)

        if out["backend"] == "sqlite":
            store_full = Store.open(url, Path(tmp) / "images", synchronous="FULL")
            few = parts(max(50, a.parts // 10))
            with Timer() as t:
                for p in few:
                    store_full.save_inspection(p)
            out["save_inspection_synchronous_full"] = rate(len(few), t)
            store_full.close()
            single += few

        total = store.count_inspections()
        out["rows"] = total
        ids = [p.id for p in single]
        pick = iter(rng.choice(ids, size=200))
        out["get_inspection_ms"] = median_ms(lambda: store.get_inspection(str(next(pick))), 200)
        out["review_queue_100_ms"] = median_ms(
            lambda: store.query_inspections(flagged_only=True, unreviewed_only=True, limit=100), 20
        )
        out["queue_count_ms"] = median_ms(lambda: store.count_inspections(flagged_only=True), 20)
        out["counts_ms"] = median_ms(lambda: store.counts(order_id="WO-1001"), 20)
        out["defect_type_filter_100_ms"] = median_ms(
            lambda: store.query_inspections(defect_type="crack", limit=100), 20
        )

        # a whole-order report: streaming vs loading everything
        tracemalloc.start()
        with Timer() as t:
            n = sum(1 for _ in store.iter_inspections(order_id="WO-1001", newest_first=False))
        _, peak_iter = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["iter_inspections"] = {**rate(n, t), "rows": n, "peak_mib": round(peak_iter / 2**20, 1)}
        tracemalloc.start()
        with Timer() as t:
            everything = store.query_inspections(order_id="WO-1001")
        _, peak_all = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["query_all"] = {**rate(len(everything), t), "peak_mib": round(peak_all / 2**20, 1)}
        del everything
        store.close()
        if out["backend"] == "sqlite":
            size = os.path.getsize(f"{tmp}/bench.db")
            out["db_bytes_per_part"] = round(size / total)
    out["load_after"] = os.getloadavg()[0]
    out.update({"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()

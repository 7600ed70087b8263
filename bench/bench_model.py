"""Speed of the built-in model: teach (s), analyze latency at batch 1, batched throughput.

Synthetic 512x512 parts from ``inspector.training.synth`` (OpenCV needed; without it plain
numpy textures are used and pixel statistics are skipped). Timings are wall-clock per image
(median, p90) after warm-up; on CUDA the first batch of each size also captures its CUDA
graph, so it is excluded. Usage::

    python bench/bench_model.py --device cpu --n 60 --batch 16
    python bench/bench_model.py --device cuda --n 300 --batch 64 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.domain import WorkOrder  # noqa: E402
from inspector.model.vlm import EmbeddedVLM  # noqa: E402


def images(n_good: int, n_test: int, n_defect: int, size: tuple[int, int], kind: str):
    """(good to teach, good to test, defect images, whether OpenCV made them)."""
    try:
        from inspector.training.synth import make_part, make_sample

        rng = np.random.default_rng(0)
        goods = [make_part(rng, size, kind) for _ in range(n_good)]
        tests = [make_part(rng, size, kind) for _ in range(n_test)]
        defects = []
        for t in ("scratch", "pitting", "stain", "crack", "corrosion", "inclusion", "dent", "chip"):
            if len(defects) < n_defect:
                defects.append(make_sample(rng, [t], size=size, kind=kind)[0])
        return goods, tests, defects, True
    except ImportError:
        rng = np.random.default_rng(0)
        base = rng.normal(128, 20, (size[1], size[0], 3))

        def part():
            return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)

        return [part() for _ in range(n_good)], [part() for _ in range(n_test)], [], False


def pct(xs, q):
    return round(float(np.percentile(np.asarray(xs) * 1000, q)), 3)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", default="512x512")
    ap.add_argument("--kind", default="bracket")
    ap.add_argument("--n-good", type=int, default=20)
    ap.add_argument("--n", type=int, default=60, help="batch-1 analyses to time")
    ap.add_argument("--pool", type=int, default=64, help="distinct test images")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batches", type=int, default=10, help="timed batches")
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    import torch

    w, h = (int(v) for v in a.size.split("x"))
    t0 = time.perf_counter()
    goods, pool, defects, synth = images(a.n_good, a.pool, 8, (w, h), a.kind)
    gen_s = time.perf_counter() - t0
    ref_dir = Path(tempfile.mkdtemp())
    model = EmbeddedVLM(ref_dir, device=a.device)
    t0 = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = model.teach("BENCH", goods, pixel_stats=synth)
    teach_s = time.perf_counter() - t0
    wo = WorkOrder("bench", part_number="BENCH", pixel_size_mm=0.02)
    cuda = model.device.startswith("cuda")

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for im in pool[:3]:
        model.analyze(im, wo)
    lat, parts = [], []
    for i in range(a.n):
        im = pool[i % len(pool)]
        sync()
        t = time.perf_counter()
        an = model.analyze(im, wo)
        lat.append(time.perf_counter() - t)
        parts.append(an.timings_ms)
    batch = pool[: a.batch] if len(pool) >= a.batch else (pool * (a.batch // len(pool) + 1))[: a.batch]
    model.analyze_batch(batch, wo, batch=a.batch)  # warm-up / graph capture
    sync()
    t = time.perf_counter()
    flagged = 0
    for _ in range(a.batches):
        out = model.analyze_batch(batch, wo, batch=a.batch)
        flagged += sum(x.image_score >= 1.0 for x in out)
    thr_s = time.perf_counter() - t
    ref = model.reference("BENCH")
    geom = model._geometry(w, h, ref.scale)
    sync()
    t = time.perf_counter()
    for _ in range(a.batches):
        ref.memory_maps(model.backbone, batch, geom)
    map_s = time.perf_counter() - t
    d_lat, found = [], 0
    for im in defects:
        t = time.perf_counter()
        an = model.analyze(im, wo)
        d_lat.append(time.perf_counter() - t)
        found += an.image_score >= 1.0
    agree = None
    if cuda:  # the same images through eager fp32 on the CPU, against the fp16 CUDA graph path
        cpu = EmbeddedVLM(ref_dir, device="cpu")
        g = np.array([model.analyze(im, wo).image_score for im in pool[:8]])
        c = np.array([cpu.analyze(im, wo).image_score for im in pool[:8]])
        agree = round(float(np.max(np.abs(g - c) / np.maximum(c, 1e-6))), 5)
    med = {k: round(float(np.median([p.get(k, 0.0) for p in parts])), 3) for k in parts[-1]}
    out = {
        "device": model.info().device,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda_graphs": cuda and os.environ.get("INSPECTOR_CUDA_GRAPHS", "1") != "0",
        "image_size": a.size,
        "synthetic_parts": synth,
        "gen_s": round(gen_s, 1),
        "load_s": round(load_s, 2),
        "teach_s": round(teach_s, 2),
        "n_good": a.n_good,
        "scale": res.extra["scale"],
        "bank_size": res.extra["bank_size"],
        "batch1_ms_median": pct(lat, 50),
        "batch1_ms_p90": pct(lat, 90),
        "batch1_ms_min": pct(lat, 0),
        "batch1_stage_ms_median": med,
        "batch": a.batch,
        "batched_images_per_s": round(a.batches * a.batch / thr_s, 1),
        "map_only_images_per_s": round(a.batches * a.batch / map_s, 1),
        "good_flagged_in_batches": int(flagged),
        "defect_images": len(defects),
        "defects_flagged": int(found),
        "defect_ms_median": pct(d_lat, 50) if d_lat else None,
        "cpu_vs_device_score_rel_diff_max": agree,
    }
    print(json.dumps(out, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

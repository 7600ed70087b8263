"""Soak: many parts through the real line in one process, memory and open files sampled (issue 12, 7b).

    python bench/bench_soak.py --parts 10000                 # the target
    python bench/bench_soak.py --minutes 30                  # as many as fit in 30 minutes
    python bench/bench_soak.py --parts 2000 --size 256 --csv samples.csv --json out.json

What runs is the station itself: ``Inspector.run`` (the one line loop, events, the writer thread,
the audit seal) with the **real embedded model** on CPU and a real SQLite store with its image
folder. The part BR-100 is taught from two noisy shots of each of the 12 sample good images scaled
to ``--size`` px (as a camera shows them); the source hands the line camera-like arrays of those
parts with fresh sensor noise in each (so every stored image is a new file), a scratch painted
into every 25th. Explanations are off (``--explain``
to change): the language model is not what is soaked here.

Every ``--every`` parts the process's resident memory (``/proc/self/statm``), open file
descriptors (``/proc/self/fd``) and threads are sampled. The slopes are least-squares lines
over the samples after the first ``--warmup`` parts: KiB and descriptors per 1,000 parts. A
flat line has a slope near 0; the database and image folder grow on disk, not in memory. Prints
one JSON object; the figures are in docs/reliability.md ("Soak").
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SAMPLES = HERE.parent / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png"))


def rss_kib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0.0 for fewer than two points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0


def scaled_parts(size: int):
    import cv2

    return [cv2.resize(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), (size, size),
                       interpolation=cv2.INTER_AREA) for p in GOOD]


def noisy(image, rng):
    """``image`` with fresh sensor noise (+-3 grey levels, the same in the three channels)."""
    import numpy as np

    img = image.astype(np.int16) + rng.integers(-3, 4, image.shape[:2], dtype=np.int16)[:, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def make_source(parts, n: int | None, deadline: float | None):
    """A camera-like source: ``n`` parts (or until ``deadline``), fresh noise in each, a scratch in every 25th."""
    import numpy as np

    from inspector.domain import Frame
    from inspector.sources import FrameSource

    class SyntheticParts(FrameSource):
        name = "soak"

        def __iter__(self):
            rng = np.random.default_rng(1)
            k = 0
            while (n is None or k < n) and (deadline is None or time.monotonic() < deadline) and not self._stopped:
                img = noisy(parts[k % len(parts)], rng)
                if k % 25 == 7:
                    h, w = img.shape[:2]
                    img[h // 2 : h // 2 + 2, w // 3 : w // 3 + w // 6] = 20
                yield Frame(img, source="soak", index=k, name=f"part-{k:06d}")
                k += 1

    return SyntheticParts()


def run_soak(data: Path, *, parts: int | None, minutes: float | None, size: int, every: int, warmup: int,
             explain: str = "off", on_sample=None) -> dict:
    import numpy as np

    from inspector.events import PartStored
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    settings = Settings(data_dir=data, device="cpu", explain=explain, station="soak")
    samples: list[dict] = []
    done = {"n": 0}
    lock = threading.Lock()
    with Inspector(settings) as f:
        wo = f.load_work_order(ORDER)
        images = scaled_parts(size)
        rng = np.random.default_rng(2)  # taught as the camera shows them: two noisy shots of each good part
        t0 = time.perf_counter()
        f.teach(wo.part_number, [noisy(im, rng) for im in images for _ in range(2)])
        teach_s = time.perf_counter() - t0

        def sample(event) -> None:
            with lock:
                done["n"] += 1
                if done["n"] % every:
                    return
                row = {"parts": done["n"], "rss_kib": round(rss_kib()), "fds": open_fds(),
                       "threads": threading.active_count(), "t_s": round(time.perf_counter() - t1, 1)}
            samples.append(row)
            if on_sample is not None:
                on_sample(row)

        f.events.subscribe(sample, PartStored)
        deadline = time.monotonic() + minutes * 60 if minutes else None
        t1 = time.perf_counter()
        summary = f.run(make_source(images, parts, deadline), wo)
        seconds = time.perf_counter() - t1
        verified = f.verify_audit(images=False)
    after = [s for s in samples if s["parts"] > warmup]
    xs = [s["parts"] / 1000 for s in after]
    return {
        "parts": summary.inspected, "counts": summary.counts, "errors": summary.errors[:3], "aborted": summary.aborted,
        "seconds": round(seconds, 1), "parts_per_s": round(summary.inspected / seconds, 2) if seconds else 0.0,
        "stage_ms": {k: round(v, 1) for k, v in summary.stage_ms.items()}, "teach_s": round(teach_s, 1),
        "image_px": [size, size], "explain": explain, "warmup": warmup, "every": every,
        "rss_mib": {"first": round(samples[0]["rss_kib"] / 1024, 1) if samples else None,
                    "after_warmup": round(after[0]["rss_kib"] / 1024, 1) if after else None,
                    "last": round(samples[-1]["rss_kib"] / 1024, 1) if samples else None},
        "rss_kib_per_1000_parts": round(slope(xs, [s["rss_kib"] for s in after]), 1),
        "fds": {"min": min((s["fds"] for s in after), default=None), "max": max((s["fds"] for s in after), default=None)},
        "fds_per_1000_parts": round(slope(xs, [s["fds"] for s in after]), 3),
        "threads": {"min": min((s["threads"] for s in after), default=None),
                    "max": max((s["threads"] for s in after), default=None)},
        "audit_ok": verified.ok, "audit_events": verified.n_events, "samples": samples,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", type=int, default=10_000)
    p.add_argument("--minutes", type=float, help="stop after this long (whichever comes first)")
    p.add_argument("--size", type=int, default=256, help="part image side in px")
    p.add_argument("--every", type=int, default=100, help="sample every N parts")
    p.add_argument("--warmup", type=int, default=500, help="parts left out of the slopes")
    p.add_argument("--explain", default="off", choices=("off", "async", "sync"))
    p.add_argument("--data", type=Path, help="station data folder (default: temporary)")
    p.add_argument("--csv", type=Path, help="write the samples here")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args()

    def progress(row: dict) -> None:
        print(f"{row['parts']:6d} parts  {row['t_s']:8.1f} s  rss {row['rss_kib'] / 1024:7.1f} MiB  "
              f"fds {row['fds']:3d}  threads {row['threads']}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        result = run_soak(args.data or Path(tmp) / "station", parts=args.parts, minutes=args.minutes,
                          size=args.size, every=args.every, warmup=args.warmup, explain=args.explain,
                          on_sample=progress)
    result["cpus"], result["load_avg"] = os.cpu_count(), os.getloadavg()
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["parts", "t_s", "rss_kib", "fds", "threads"])
            w.writeheader()
            w.writerows(result["samples"])
    text = json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

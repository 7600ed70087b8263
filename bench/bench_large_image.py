"""An 8000 x 8000 image through the embedded model: peak memory and time (issue 12, point 2).

    python bench/bench_large_image.py                      # teach on 5 images of 8000 x 8000, analyse 2
    python bench/bench_large_image.py --size 4000 --good 5 --json out.json
    python bench/bench_large_image.py --stage analyse --folder /tmp/ref   # reuse a taught reference

The part images are the sample bracket (sample_data/parts/BR-100/good) scaled up to ``--size``
with sensor-like noise, one of them with a painted scratch. Each stage runs in its own process
so that its peak resident memory (``ru_maxrss``) is its own: ``teach`` (the ``--good`` images),
then ``analyse`` (a good part and the scratched one, through ``EmbeddedVLM.analyze``), then
``station`` (the scratched part through the whole station: file read with the image limits,
analysis, judging, the record stored with its image). Prints one JSON object; the figures are in
docs/reliability.md ("Large images").

A watchdog ends a stage that passes ``--max-rss-gb`` (default 12) so a regression cannot take
the machine's memory from everything else.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
GOOD = sorted((HERE.parent / "sample_data" / "parts" / "BR-100" / "good").glob("*.png"))
ORDER = HERE.parent / "sample_data" / "workorders" / "WO-1001_bracket.txt"


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def watchdog(limit_gb: float) -> None:
    def loop() -> None:
        while True:
            if rss_mb() > limit_gb * 1024:
                sys.stderr.write(f"watchdog: resident memory passed {limit_gb} GB: stopped\n")
                os._exit(9)
            time.sleep(0.05)

    threading.Thread(target=loop, daemon=True).start()


def part(i: int, size: int, scratch: bool = False, width: int | None = None):
    import cv2
    import numpy as np

    src = cv2.cvtColor(cv2.imread(str(GOOD[i % len(GOOD)])), cv2.COLOR_BGR2RGB)
    big = cv2.resize(src, (size, size), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(i)
    noise = rng.normal(0, 2.0, (size, size, 1)).astype(np.float32)
    big = np.clip(big.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    del noise
    if scratch:  # a dark scratch 2 % of the side long, 3-4 image px wide (``width``) at the part's centre
        c, n = size // 2, max(40, size // 100)
        big[c : c + (width or max(3, size // 2000)), c - n : c + n] = 30
    return big


def stage_teach(args: argparse.Namespace) -> dict:
    from inspector.model.vlm import EmbeddedVLM

    backend = EmbeddedVLM(Path(args.folder))
    backend.load("cpu")
    images = [part(i, args.size) for i in range(args.good)]
    t0 = time.perf_counter()
    result = backend.teach("BR-100", images, target_false_reject=0.01, scale=args.scale)
    return {"teach_s": round(time.perf_counter() - t0, 1), "threshold": round(result.threshold, 4),
            "n_good": args.good, "scale": result.extra.get("scale"), "bank": result.extra.get("bank_size")}


def stage_analyse(args: argparse.Namespace) -> dict:
    from inspector.model.vlm import EmbeddedVLM
    from inspector.workorder import load_work_order

    backend = EmbeddedVLM(Path(args.folder))
    backend.load("cpu")
    wo = load_work_order(ORDER)
    out = {}
    for name, img in (("good", part(99, args.size)), ("scratch", part(98, args.size, scratch=True, width=args.scratch_px))):
        t0 = time.perf_counter()
        analysis = backend.analyze(img, wo)
        out[name] = {"s": round(time.perf_counter() - t0, 1), "score": round(analysis.image_score, 3),
                     "findings": [(f.defect_type, round(f.length_mm or 0, 2)) for f in analysis.findings][:5],
                     "peak_mb_so_far": round(peak_mb())}
        del img, analysis
    return out


def stage_station(args: argparse.Namespace) -> dict:
    import cv2

    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    data = Path(args.folder).parent / "station"
    path = Path(args.folder).parent / "part.png"
    img = part(97, args.size, scratch=True, width=args.scratch_px)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    del img
    with Inspector(Settings(data_dir=data, reference_dir=Path(args.folder), device="cpu", explain="off")) as f:
        wo = f.load_work_order(ORDER)
        t0 = time.perf_counter()
        summary = f.run([str(path)], wo)
        seconds = time.perf_counter() - t0
        insp = f.store.query_inspections(limit=1)[0]
    return {"s": round(seconds, 1), "verdict": insp.verdict.kind.value, "reasons": list(insp.verdict.reasons)[:2],
            "file_mb": round(path.stat().st_size / 2**20, 1), "inspected": summary.inspected,
            "stage_ms": {k: round(v) for k, v in summary.stage_ms.items()}}


STAGES = {"teach": stage_teach, "analyse": stage_analyse, "station": stage_station}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=8000)
    p.add_argument("--good", type=int, default=5)
    p.add_argument("--stage", choices=[*STAGES, "all"], default="all")
    p.add_argument("--scale", type=float, help="working scale of the teach (default: auto, 0.25 at this size)")
    p.add_argument("--folder", help="reference folder (default: a temporary one)")
    p.add_argument("--scratch-px", type=int, help="width of the painted scratch in image px (default 3-4)")
    p.add_argument("--max-rss-gb", type=float, default=12.0)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    if args.stage != "all":
        watchdog(args.max_rss_gb)
        t0 = time.perf_counter()
        result = STAGES[args.stage](args)
        result.update(peak_rss_mb=round(peak_mb()), wall_s=round(time.perf_counter() - t0, 1))
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or str(Path(tmp) / "references")
        out: dict = {"size": args.size, "good": args.good, "scale": args.scale, "cpus": os.cpu_count()}
        for stage in STAGES:
            proc = subprocess.run([sys.executable, __file__, "--stage", stage, "--size", str(args.size),
                                   "--good", str(args.good), "--folder", folder, "--max-rss-gb", str(args.max_rss_gb),
                                   *(["--scale", str(args.scale)] if args.scale else []),
                                   *(["--scratch-px", str(args.scratch_px)] if args.scratch_px else [])],
                                  capture_output=True, text=True)
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            out[stage] = json.loads(last) if proc.returncode == 0 and last.startswith("{") else \
                {"exit": proc.returncode, "stderr": proc.stderr[-1500:]}
            if proc.returncode != 0:
                break
        out["load_avg"] = os.getloadavg()
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

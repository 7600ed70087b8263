"""Benchmark parts, not frames: part detection per frame, code reading per part, a sequence number.

    python bench/bench_parts.py [--frames 400] [--json OUT]

(a) ``PartDetector.feed`` per frame on a belt sequence (the sample part entering, sitting,
leaving, with empty belt between) at 512 x 512 (the sample parts) and 1920 x 1200 (a 2.3 MP
camera); (b) ``read_code`` on a 512 x 512 sample part with and without a DataMatrix (zxing-cpp);
(c) ``Store.next_part_sequence`` on a SQLite file (one write transaction per part). Medians, ms.
The decoding of the video itself is not included (it is the camera's or OpenCV's).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from inspector.domain import Frame  # noqa: E402
from inspector.parts.detect import PartDetector  # noqa: E402
from inspector.parts.identity import read_code  # noqa: E402

SAMPLE = ROOT / "sample_data" / "parts" / "BR-100" / "line" / "line_01.png"


def belt_frames(part: np.ndarray, n: int) -> list[np.ndarray]:
    h, w = part.shape[:2]
    empty = np.full_like(part, 24)
    seq = []
    while len(seq) < n:
        for k in range(4, 0, -1):
            f = empty.copy()
            f[:, : w - k * w // 5] = part[:, k * w // 5:]
            seq.append(f)
        seq += [part] * 6
        seq += [empty] * 6
    return seq[:n]


def median_ms(fn, items) -> float:
    times = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--json")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    part = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2RGB)
    out: dict = {"machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
                 "opencv_threads": 1}
    for name, size in (("512x512", None), ("1920x1200", (1920, 1200))):
        img = part if size is None else cv2.resize(part, size)
        det = PartDetector()
        frames = [Frame(image=f, source="bench", index=i) for i, f in enumerate(belt_frames(img, args.frames))]
        out[f"detect_ms_per_frame_{name}"] = round(median_ms(det.feed, frames), 3)
        out[f"parts_{name}"] = det.parts
    import zxingcpp

    code = np.array(zxingcpp.create_barcode("SN-4711", zxingcpp.BarcodeFormat.DataMatrix).to_image(scale=3))
    coded = part.copy()
    coded[330 : 330 + code.shape[0], 90 : 90 + code.shape[1]] = code[..., None]
    out["read_code_ms_no_code_512"] = round(median_ms(read_code, [part] * 30), 2)
    out["read_code_ms_datamatrix_512"] = round(median_ms(read_code, [coded] * 30), 2)
    assert read_code(coded) == "SN-4711"
    from inspector.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/b.db", Path(tmp) / "img")
        out["next_part_sequence_ms_sqlite"] = round(
            median_ms(lambda _: store.next_part_sequence("WO-1", "L1"), range(200)), 2)
        store.close()
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

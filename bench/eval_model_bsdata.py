"""Small-defect localisation on real photos: BSData ball-screw pitting (CC BY-SA 4.0).

BSData has no defect-free images, so the good set is built from defect-free *areas*: the
reference is taught on ``--n-teach`` images of the authors' train split with each image's
pitting mask (dilated by ``--ignore-dilate`` px) passed as ``ignore_masks`` (those patches
never enter the memory bank nor the calibration). Evaluation runs on the authors' test
split images of the same size (one camera set-up = one "part").

Reported: region hit rate (ground-truth pits, as connected mask components, touched by a
reported region), false alarms per image (reported regions touching no pit, ground truth
dilated by 8 px), image-level detection, pixel overlap. Usage::

    python bench/eval_model_bsdata.py --size 1130x460 --n-teach 30 [--scale 1.0] [--device cpu]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.domain import WorkOrder  # noqa: E402
from inspector.model.vlm import EmbeddedVLM  # noqa: E402


def data_root() -> Path:
    env = os.environ.get("INSPECTOR_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "bsdata"


def load(root: Path, row: dict) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.cvtColor(cv2.imread(str(root / row["image"])), cv2.COLOR_BGR2RGB)
    mask = cv2.imread(str(root / row["mask"]), cv2.IMREAD_GRAYSCALE) > 0
    return img, mask


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1130x460")
    ap.add_argument("--n-teach", type=int, default=30)
    ap.add_argument("--n-test", type=int, default=0, help="0 = all test-split images of that size")
    ap.add_argument("--scale", type=float, default=None)
    ap.add_argument("--ignore-dilate", type=int, default=8)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    root = data_root()
    if not root.is_dir():
        sys.exit(f"BSData not found at {root} (set INSPECTOR_SHARED_DATA)")
    w, h = (int(v) for v in a.size.split("x"))
    rows = [r for r in csv.DictReader(open(root / "manifest.csv")) if (int(r["width"]), int(r["height"])) == (w, h)]
    train = sorted((r for r in rows if r["source_split"] == "train"), key=lambda r: r["image"])
    test = sorted((r for r in rows if r["source_split"] == "test"), key=lambda r: r["image"])
    rng = np.random.default_rng(0)
    teach_rows = [train[i] for i in sorted(rng.choice(len(train), min(a.n_teach, len(train)), replace=False))]
    if len(test) < 20:  # too few test images of this size: use the train images not taught on
        test += [r for r in train if r not in teach_rows]
    if a.n_test:
        test = test[: a.n_test]
    goods, masks = [], []
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * a.ignore_dilate + 1,) * 2)
    for r in teach_rows:
        img, m = load(root, r)
        goods.append(img)
        masks.append(cv2.dilate(m.astype(np.uint8), k) > 0)
    model = EmbeddedVLM(Path(tempfile.mkdtemp()), device=a.device)
    t0 = time.perf_counter()
    res = model.teach("bsd", goods, ignore_masks=masks, scale=a.scale)
    teach_s = time.perf_counter() - t0
    wo = WorkOrder("eval", part_number="bsd")
    n_gt = n_hit = n_fa = n_img_hit = 0
    inter = union = 0
    times = []
    kd = np.ones((17, 17), np.uint8)
    for r in test:
        img, m = load(root, r)
        t1 = time.perf_counter()
        an = model.analyze(img, wo)
        times.append(time.perf_counter() - t1)
        pred = np.zeros(m.shape, np.uint8)
        for f in an.findings:
            if f.region.score >= 1.0 and f.region.contour:
                cv2.fillPoly(pred, [np.array(f.region.contour, np.int32)], 1)
        n, lab = cv2.connectedComponents(m.astype(np.uint8), connectivity=8)
        for i in range(1, n):
            n_gt += 1
            n_hit += bool(pred[lab == i].any())
        near = cv2.dilate(m.astype(np.uint8), kd) > 0
        flagged = [f for f in an.findings if f.region.score >= 1.0]
        for f in flagged:
            reg = np.zeros(m.shape, np.uint8)
            cv2.fillPoly(reg, [np.array(f.region.contour, np.int32)], 1)
            n_fa += not (reg.astype(bool) & near).any()
        n_img_hit += an.image_score >= 1.0
        inter += int((pred.astype(bool) & m).sum())
        union += int((pred.astype(bool) | m).sum())
    out = {
        "size": a.size,
        "n_teach": len(goods),
        "n_test": len(test),
        "scale": res.extra["scale"],
        "teach_s": round(teach_s, 1),
        "bank_size": res.extra["bank_size"],
        "gt_regions": n_gt,
        "region_hit_rate": round(n_hit / max(1, n_gt), 3),
        "false_alarms_per_image": round(n_fa / max(1, len(test)), 3),
        "image_detection_rate": round(n_img_hit / max(1, len(test)), 3),
        "pixel_iou": round(inter / max(1, union), 3),
        "analyze_ms_median": round(1000 * float(np.median(times)), 1),
        "device": model.info().device,
    }
    print(json.dumps(out, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

"""Golden-template mode on DeepPCB test/template pairs (research-only data: evaluation only).

For each pair the template image is taught as the golden reference (``teach(template=...)``
with the template as the only good image: calibration then uses jittered variants of it),
the test image is analysed, and reported regions (score >= 1) are matched one-to-one to the
ground-truth boxes at IoU > 0.33 (the DeepPCB protocol). DeepPCB boxes are drawn loosely
around small defects, so a second match is reported with each predicted box grown to at
least ``--min-box`` px per side around its centre (the annotation convention), and a third
counting a ground-truth box as found when a region's centre lies inside it. Usage::

    python bench/eval_model_deeppcb.py [--n 100] [--device cpu]
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

TYPES = {1: "open", 2: "short", 3: "mousebite", 4: "spur", 5: "copper", 6: "pin-hole"}


def data_root() -> Path:
    env = os.environ.get("INSPECTOR_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "deeppcb"


def iou(a, b) -> float:
    ax0, ay0, ax1, ay1 = a
    bx0, by0, bx1, by1 = b
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    u = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / u if u > 0 else 0.0


def match(pred, gt, thr=0.33) -> int:
    """Greedy one-to-one matches of predicted to ground-truth boxes at IoU > thr."""
    pairs = sorted(((iou(p, g), i, j) for i, p in enumerate(pred) for j, g in enumerate(gt)), reverse=True)
    used_p, used_g, n = set(), set(), 0
    for v, i, j in pairs:
        if v <= thr:
            break
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        n += 1
    return n


def grow(box, min_side):
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = max(x1 - x0, min_side), max(y1 - y0, min_side)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="pairs to evaluate (every k-th of the 500)")
    ap.add_argument("--min-box", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    root = data_root()
    if not root.is_dir():
        sys.exit(f"DeepPCB not found at {root} (set INSPECTOR_SHARED_DATA)")
    rows = list(csv.DictReader(open(root / "manifest.csv")))
    rows = rows[:: max(1, len(rows) // a.n)][: a.n]
    model = EmbeddedVLM(Path(tempfile.mkdtemp()), device=a.device)
    stats = {k: 0 for k in ("gt", "pred", "tp", "tp_grown_gt", "tp_grown_pred", "center_hit")}
    per_type: dict[str, list[int]] = {t: [0, 0] for t in TYPES.values()}
    t_teach, t_an = [], []
    for r in rows:
        test = cv2.cvtColor(cv2.imread(str(root / r["test_image"])), cv2.COLOR_BGR2RGB)
        tmpl = cv2.cvtColor(cv2.imread(str(root / r["template_image"])), cv2.COLOR_BGR2RGB)
        gt, gtype = [], []
        for line in open(root / r["annotation"]):
            v = line.replace(",", " ").split()
            if len(v) >= 5:
                gt.append(tuple(float(x) for x in v[:4]))
                gtype.append(TYPES.get(int(v[4]), "?"))
        t0 = time.perf_counter()
        model.teach("pcb", [tmpl], template=tmpl)
        t1 = time.perf_counter()
        an = model.analyze(test, WorkOrder("eval", part_number="pcb"))
        t_an.append(time.perf_counter() - t1)
        t_teach.append(t1 - t0)
        pred = []
        for f in an.findings:
            if f.region.score >= 1.0:
                x, y, w, h = f.region.box
                pred.append((x, y, x + w, y + h))
        stats["gt"] += len(gt)
        stats["pred"] += len(pred)
        stats["tp"] += match(pred, gt)
        stats["tp_grown_pred"] += match([grow(p, a.min_box) for p in pred], gt)
        for j, g in enumerate(gt):
            hit = any(g[0] <= (p[0] + p[2]) / 2 <= g[2] and g[1] <= (p[1] + p[3]) / 2 <= g[3] for p in pred)
            stats["center_hit"] += hit
            per_type[gtype[j]][0] += hit
            per_type[gtype[j]][1] += 1
    g, p = max(1, stats["gt"]), max(1, stats["pred"])
    out = {
        "pairs": len(rows),
        "gt_boxes": stats["gt"],
        "predicted_regions": stats["pred"],
        "recall_iou33": round(stats["tp"] / g, 3),
        "precision_iou33": round(stats["tp"] / p, 3),
        f"recall_iou33_box{a.min_box}": round(stats["tp_grown_pred"] / g, 3),
        f"precision_iou33_box{a.min_box}": round(stats["tp_grown_pred"] / p, 3),
        "recall_center_in_box": round(stats["center_hit"] / g, 3),
        "recall_center_by_type": {t: round(h / max(1, n), 3) for t, (h, n) in per_type.items()},
        "teach_s_median": round(float(np.median(t_teach)), 2),
        "analyze_ms_median": round(1000 * float(np.median(t_an)), 1),
        "device": model.info().device,
    }
    print(json.dumps(out, indent=1))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()

"""Teach-then-inspect protocols through the full backend (localisation + typing + judge + explanation).

- **BSData** (real pitting photos, no defect-free images exist): per image-size group, the
  backend is taught with training-split images whose pits are left out: by default as
  ``ignore_masks`` (each pit mask dilated by 9 px; those patches never enter the memory bank
  nor the calibration, as a factory would mark a known blemish), or with ``teach="inpaint"``
  painted away (OpenCV Telea) first; then it inspects the test-split images of that size. A ground-truth pit
  (connected mask component) is *hit* when a finding's box, grown by ``TOL_PX``, touches its
  box; a finding touching no pit is a *false alarm*.
- **DeepPCB** (template mode): each test image is inspected after teaching with its own
  defect-free template; a finding matches a ground-truth box at IoU > 0.33 (greedy, one to
  one) -> recall, precision, and typing accuracy on the matched boxes. DeepPCB's boxes are
  drawn loosely, about 30 px around a defect of a few pixels, while findings are tight boxes
  around the defect's own pixels, so three matchings are reported side by side: ``raw`` (the
  finding's box as it is), ``grown`` (the finding's box grown about its centre to at least
  the median ground-truth box side, the annotation convention) and ``centre`` (the finding's
  centre lies inside the ground-truth box).
- **Explanations**: for up to ``explain_n`` NG/REVIEW parts the backend's ``explain`` is
  called; the share whose generated text passed the findings check (``fallback`` False) and
  the share that needed the template fallback are reported.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from inspector.domain import SpecClause, WorkOrder
from inspector.model.typing_features import regions_from_mask
from inspector.training.eval_typing import DEEPPCB_WORDS, load_deeppcb_boxes
from inspector.training.typing_data import read_rgb

TOL_PX = 4
IOU_MIN = 0.33


def no_defect_order(order_id: str, part: str, words: Sequence[str]) -> WorkOrder:
    """A work order with one 'no <word>' clause (count <= 0) per defect word."""
    clauses = tuple(
        SpecClause(id=f"§{i + 1}", number=i + 1, text=f"No {w} allowed.", line=i + 1, checkable=True,
                   defect_type=w, type_words=(w,), measure="count", comparison="<=", limit=0.0,
                   unit="count", limit_text="0")
        for i, w in enumerate(words)
    )
    return WorkOrder(order_id=order_id, part_number=part, clauses=clauses)


def make_backend(device: str, reference_dir: Path, name: str = "embedded-vlm", model_dir: str | None = None):
    """The backend ``name`` of the group ``inspector.backends`` (built-in: the EmbeddedVLM), loaded.

    ``model_dir`` goes to a backend that takes one (``inspector eval --backend hf --model-dir DIR``).
    Raises ImportError when the built-in model is not installed, :class:`inspector.plugins.PluginError`
    for an unknown backend, and the backend's own typed error for a bad model folder.
    """
    from inspector import plugins

    if name == "embedded-vlm" and model_dir is None:
        from inspector.model.vlm import EmbeddedVLM as factory
    else:
        factory = plugins.get("inspector.backends", name)
    backend = plugins.call_backend(factory, reference_dir, device, **({"model_dir": model_dir} if model_dir else {}))
    backend.load(device)
    return backend


def _judge(analysis, order: WorkOrder):
    from inspector.spec import judge

    return judge(analysis.findings, order, type_min=float(analysis.thresholds.get("type_min", 0.0)))


def _explain(backend, image, analysis, verdict, order, stats: dict) -> None:
    e = backend.explain(image, analysis, verdict, order)
    stats["explained"] += 1
    stats["fallback"] += bool(e.fallback)


def _touch(a, b, tol: int = TOL_PX) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax - tol < bx + bw and bx < ax + aw + tol and ay - tol < by + bh and by < ay + ah + tol


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


def grow_box(box, side: float) -> tuple[int, int, int, int]:
    """``box`` (x, y, w, h) grown about its centre so each side is at least ``side`` px."""
    x, y, w, h = box
    nw, nh = max(w, side), max(h, side)
    cx, cy = x + w / 2, y + h / 2
    return (round(cx - nw / 2), round(cy - nh / 2), round(nw), round(nh))


def _centre_inside(gt, pred) -> float:
    """1.0 when the centre of ``pred`` lies inside ``gt`` (both x, y, w, h), else 0.0."""
    cx, cy = pred[0] + pred[2] / 2, pred[1] + pred[3] / 2
    return float(gt[0] <= cx <= gt[0] + gt[2] and gt[1] <= cy <= gt[1] + gt[3])


def greedy_match(gt: Sequence, preds: Sequence, score: Callable, minimum: float) -> list[tuple[int, int]]:
    """One-to-one (gt index, pred index) pairs: each ground truth in turn takes the best free
    prediction whose ``score(gt, pred)`` exceeds ``minimum``."""
    used: set[int] = set()
    pairs = []
    for g, box in enumerate(gt):
        best, best_j = minimum, None
        for j, p in enumerate(preds):
            v = score(box, p)
            if j not in used and v > best:
                best, best_j = v, j
        if best_j is not None:
            used.add(best_j)
            pairs.append((g, best_j))
    return pairs


def inpaint_defects(image: np.ndarray, mask: np.ndarray, grow: int = 9) -> np.ndarray:
    """The image with the masked defects painted over from their surroundings (Telea)."""
    import cv2

    m = cv2.dilate((mask > 0).astype(np.uint8), np.ones((2 * grow + 1,) * 2, np.uint8))
    return cv2.inpaint(image, m, 7, cv2.INPAINT_TELEA)


def bsdata_protocol(backend, root: Path, n_good: int = 20, max_test: int = 40, explain_n: int = 10,
                    groups: Sequence[tuple[int, int]] = ((1130, 460), (1540, 645)),
                    progress: Callable[[str], None] | None = None, teach: str = "ignore",
                    target_false_reject: float = 0.01) -> dict:
    """Hit rate, false alarms per image, verdicts and explanation shares on BSData test images."""
    import cv2

    with open(root / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    stats = {"images": 0, "pits": 0, "hits": 0, "false_alarms": 0, "images_hit": 0, "explained": 0, "fallback": 0,
             "verdicts": {"OK": 0, "NG": 0, "REVIEW": 0}, "ms": []}
    for w, h in groups:
        group = [r for r in rows if (int(r["width"]), int(r["height"])) == (w, h)]
        train = [r for r in group if r["source_split"] == "train"][:n_good]
        test = [r for r in group if r["source_split"] == "test"][:max_test]
        if not train or not test:
            continue
        part = f"BSDATA-{w}x{h}"
        images = [read_rgb(root / r["image"]) for r in train]
        masks = [cv2.imread(str(root / r["mask"]), 0) for r in train]
        if progress:
            progress(f"bsdata {part}: teaching {len(images)} images ({teach})")
        if teach == "ignore":
            grown = [cv2.dilate((m > 0).astype(np.uint8), np.ones((19, 19), np.uint8)) for m in masks]
            backend.teach(part, images, ignore_masks=grown, target_false_reject=target_false_reject)
        elif teach == "inpaint":
            backend.teach(part, [inpaint_defects(i, m) for i, m in zip(images, masks, strict=True)],
                          target_false_reject=target_false_reject)
        else:
            raise ValueError(f"teach must be 'ignore' or 'inpaint', not {teach!r}")
        order = no_defect_order(f"EVAL-{part}", part, ["pitting"])
        for r in test:
            img = read_rgb(root / r["image"])
            pits = regions_from_mask(cv2.imread(str(root / r["mask"]), 0) > 0)
            t0 = time.perf_counter()
            analysis = backend.analyze(img, order)
            stats["ms"].append((time.perf_counter() - t0) * 1000)
            boxes = [f.region.box for f in analysis.findings]
            hit = [any(_touch(p.box, b) for b in boxes) for p in pits]
            stats["images"] += 1
            stats["pits"] += len(pits)
            stats["hits"] += sum(hit)
            stats["images_hit"] += any(hit)
            stats["false_alarms"] += sum(not any(_touch(p.box, b) for p in pits) for b in boxes)
            verdict = _judge(analysis, order)
            stats["verdicts"][verdict.kind.value] += 1
            if verdict.kind.value != "OK" and stats["explained"] < explain_n:
                _explain(backend, img, analysis, verdict, order, stats)
        if progress:
            progress(f"bsdata {part}: {stats['images']} images inspected")
    n = max(stats["images"], 1)
    return {
        "teach": teach, "target_false_reject": target_false_reject, "images": stats["images"], "pits": stats["pits"],
        "hit_rate": stats["hits"] / max(stats["pits"], 1),
        "image_recall": stats["images_hit"] / n,
        "false_alarms_per_image": stats["false_alarms"] / n,
        "verdicts": stats["verdicts"],
        "explained": stats["explained"],
        "explain_passed": (stats["explained"] - stats["fallback"]) / stats["explained"] if stats["explained"] else None,
        "explain_fallback": stats["fallback"] / stats["explained"] if stats["explained"] else None,
        "ms_per_image": float(np.mean(stats["ms"])) if stats["ms"] else None,
    }


def deeppcb_protocol(backend, root: Path, max_pairs: int = 50, explain_n: int = 10, seed: int = 0,
                     progress: Callable[[str], None] | None = None) -> dict:
    """Template-mode recall/precision at IoU > 0.33 (+ typing accuracy of matched boxes)."""
    items = load_deeppcb_boxes(root)
    with open(root / "manifest.csv", newline="") as f:
        templates = [root / r["template_image"] for r in csv.DictReader(f)]
    pick = np.random.default_rng(seed).permutation(len(items))[:max_pairs]
    words = list(DEEPPCB_WORDS.values())
    order = no_defect_order("EVAL-DEEPPCB", "PCB", words)
    stats = {"gt": 0, "pred": 0, "matched_raw": 0, "matched_grown": 0, "matched_centre": 0, "typed_right": 0,
             "explained": 0, "fallback": 0, "ms": []}
    side = float(np.median([max(b[2], b[3]) for it in items for _, b in it.boxes]))
    for n, i in enumerate(pick):
        item = items[int(i)]
        test, temp = read_rgb(item.image), read_rgb(templates[int(i)])
        part = f"PCB-{item.image.stem}"
        backend.teach(part, [temp], template=temp)
        wo = WorkOrder(order_id=order.order_id, part_number=part, clauses=order.clauses)
        t0 = time.perf_counter()
        analysis = backend.analyze(test, wo)
        stats["ms"].append((time.perf_counter() - t0) * 1000)
        preds = list(analysis.findings)
        boxes = {"raw": [f.region.box for f in preds], "grown": [grow_box(f.region.box, side) for f in preds]}
        for name, pb in boxes.items():
            pairs = greedy_match([b for _, b in item.boxes], pb, iou, IOU_MIN)
            stats[f"matched_{name}"] += len(pairs)
            if name == "grown":
                stats["typed_right"] += sum(preds[j].defect_type == DEEPPCB_WORDS.get(item.boxes[g][0], "")
                                            for g, j in pairs)
        stats["matched_centre"] += len(greedy_match([b for _, b in item.boxes], boxes["raw"], _centre_inside, 0.5))
        stats["gt"] += len(item.boxes)
        stats["pred"] += len(preds)
        verdict = _judge(analysis, wo)
        if verdict.kind.value != "OK" and stats["explained"] < explain_n:
            _explain(backend, test, analysis, verdict, wo, stats)
        if progress and (n + 1) % 10 == 0:
            progress(f"deeppcb: {n + 1}/{len(pick)} pairs")
    return {
        "pairs": int(len(pick)), "gt_boxes": stats["gt"], "findings": stats["pred"], "grown_to_px": side,
        **{f"{k}{'' if name == 'grown' else '_' + name}": stats[f"matched_{name}"] / d
           for name in ("raw", "grown", "centre")
           for k, d in (("recall", max(stats["gt"], 1)), ("precision", max(stats["pred"], 1)))},
        "typed_right_of_matched": stats["typed_right"] / stats["matched_grown"] if stats["matched_grown"] else None,
        "explained": stats["explained"],
        "explain_passed": (stats["explained"] - stats["fallback"]) / stats["explained"] if stats["explained"] else None,
        "explain_fallback": stats["fallback"] / stats["explained"] if stats["explained"] else None,
        "ms_per_image": float(np.mean(stats["ms"])) if stats["ms"] else None,
    }


def with_backend(device: str, fn: Callable, *args, backend_spec: tuple[str, str | None] = ("embedded-vlm", None),
                 **kwargs):
    """Run ``fn(backend, *args, **kwargs)`` with a fresh backend whose references live in a temp dir.

    ``backend_spec``: (backend name, model folder or None), see :func:`make_backend`.
    """
    with tempfile.TemporaryDirectory(prefix="inspector-eval-") as tmp:
        return fn(make_backend(device, Path(tmp), *backend_spec), *args, **kwargs)

"""Teach-then-type protocol on a box-labelled dataset (NEU-DET, DeepPCB boxes).

Isolates *typing* from localisation: the regions are the ground-truth boxes. Per seed the
images are split into a teach pool and a test pool (stratified by class where images have one
class); k labelled examples per class are drawn from the teach pool (one box each, from
different images where possible) and become prototypes through
:meth:`TypeHead.prototypes_from`'s descriptor path; up to ``test_per_class`` boxes per class
from the test pool are typed with :meth:`TypeHead.classify` against the vocabulary of the
dataset's class words. k = 0 is zero-shot: the words alone.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.model.typing_features import region_from_box

# How a spec would name each dataset class (the vocabulary the head is given).
NEU_WORDS = {"crazing": "crazing", "inclusion": "inclusion", "patches": "patches",
             "pitted_surface": "pitted surface", "rolled-in_scale": "rolled-in scale", "scratches": "scratches"}
DEEPPCB_WORDS = {"open": "open circuit", "short": "short circuit", "mousebite": "mouse bite", "spur": "spur",
                 "copper": "spurious copper", "pin-hole": "pin hole"}


@dataclass(frozen=True)
class BoxItem:
    """One image with labelled boxes (x, y, w, h) px; ``label`` is the image class if it has one."""

    image: Path
    boxes: tuple[tuple[str, tuple[int, int, int, int]], ...]
    label: str | None = None


def _parse_boxes(text: str) -> list[tuple[str, tuple[int, int, int, int]]]:
    out = []
    for part in filter(None, text.split(";")):
        label, coords = part.split(":")
        x0, y0, x1, y1 = (int(float(v)) for v in coords.split(","))
        out.append((label.strip(), (x0, y0, max(x1 - x0, 1), max(y1 - y0, 1))))
    return out


def load_neu(root: Path) -> list[BoxItem]:
    """NEU-DET manifest -> items (one class per image). Raises FileNotFoundError when absent."""
    with open(root / "manifest.csv", newline="") as f:
        return [BoxItem(root / r["image"], tuple(_parse_boxes(r["boxes"])), r["class"]) for r in csv.DictReader(f)]


def load_deeppcb_boxes(root: Path) -> list[BoxItem]:
    """DeepPCB test images with their defect boxes (several classes per image)."""
    with open(root / "manifest.csv", newline="") as f:
        return [BoxItem(root / r["test_image"], tuple(_parse_boxes(r["boxes"]))) for r in csv.DictReader(f)]


def describe_items(head, items: Sequence[BoxItem], progress: Callable[[int, int], None] | None = None):
    """Descriptors of every box: (desc (R, D), labels (R,), item index (R,)).

    Same descriptors as ``head.describe`` (crops are batched across images for speed).
    """
    from inspector.training.typing_data import RegionCollector, read_rgb

    col = RegionCollector(head.backbone)
    for i, it in enumerate(items):
        img = read_rgb(it.image)
        for lab, b in it.boxes:
            col.add(img, region_from_box(b, img.shape), (lab, str(i), ""))
        if progress:
            progress(i + 1, len(items))
    rs = col.result()
    return rs.desc, rs.types, rs.split.astype(int)


def split_items(items: Sequence[BoxItem], rng: np.random.Generator, teach_share: float) -> np.ndarray:
    """Boolean (n_items,) True for the teach pool; stratified by image class when known."""
    teach = np.zeros(len(items), bool)
    groups: dict[str | None, list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault(it.label, []).append(i)
    for idx in groups.values():
        perm = rng.permutation(idx)
        teach[perm[: int(round(teach_share * len(perm)))]] = True
    return teach


def typing_protocol(
    head,
    items: Sequence[BoxItem],
    desc: np.ndarray,
    labels: np.ndarray,
    owner: np.ndarray,
    words: dict[str, str],
    ks: Sequence[int] = (0, 5, 20),
    seeds: Sequence[int] = (0, 1, 2),
    test_per_class: int = 100,
    teach_share: float = 0.25,
) -> list[dict]:
    """One result dict per k: accuracy mean/std over seeds, per-class accuracy, uncertain share."""
    classes = [c for c in words if (labels == c).any()]
    vocab = [words[c] for c in classes]
    results: dict[int, list[dict]] = {k: [] for k in ks}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        teach_items = split_items(items, rng, teach_share)
        in_teach = teach_items[owner]
        test_idx = []
        for c in classes:
            pool = np.nonzero(~in_teach & (labels == c))[0]
            test_idx.append(rng.permutation(pool)[:test_per_class])
        test_idx = np.concatenate(test_idx)
        # teach order per class: one box per image first, then the rest
        orders = {}
        for c in classes:
            pool = rng.permutation(np.nonzero(in_teach & (labels == c))[0])
            _, first = np.unique(owner[pool], return_index=True)
            firsts = pool[np.sort(first)]
            orders[c] = np.concatenate([firsts, np.setdiff1d(pool, firsts)])
        truth = np.array([words[c] for c in labels[test_idx]])
        for k in ks:
            protos = {words[c]: desc[orders[c][:k]] for c in classes} if k > 0 else None
            res = head.classify(desc[test_idx], vocab, protos)
            pred = np.array([r.defect_type for r in res])
            unc = np.array([r.uncertain for r in res])
            right = pred == truth
            results[k].append({
                "acc": float(right.mean()),
                "per_class": {w: float(right[truth == w].mean()) for w in vocab},
                "uncertain": float(unc.mean()),
                "confident_acc": float(right[~unc].mean()) if (~unc).any() else float("nan"),
                "n_test": int(len(test_idx)),
                "k_used": {w: int(min(k, len(orders[c]))) for c, w in zip(classes, vocab, strict=True)},
            })
    out = []
    for k in ks:
        rs = results[k]
        accs = np.array([r["acc"] for r in rs])
        out.append({
            "k": k,
            "seeds": list(seeds),
            "acc_mean": float(accs.mean()),
            "acc_std": float(accs.std()),
            "acc_per_seed": [round(float(a), 4) for a in accs],
            "per_class": {w: round(float(np.mean([r["per_class"][w] for r in rs])), 4) for w in vocab},
            "uncertain": round(float(np.mean([r["uncertain"] for r in rs])), 4),
            "confident_acc": round(float(np.nanmean([r["confident_acc"] for r in rs])), 4),
            "n_test": rs[0]["n_test"],
            "vocabulary": vocab,
        })
    return out

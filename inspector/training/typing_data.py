"""Training data for the typing head: synthetic defect regions and real BSData pitting regions.

Synthetic: parts from :mod:`inspector.training.synth` (milled/turned aluminium, and real
BSData surface texture as background for surface defects), one defect rendered per copy,
its region taken from the exact mask, dilated by a random amount to imitate the looser
regions the anomaly map gives. Real: every pitting component of the BSData masks
(CC BY-SA 4.0). NEU and DeepPCB are never read here: they are research-only, evaluation only.

Everything is a function of the seed. Parts are split by *part* (background), so the
held-out regions never share a background with the training ones.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.domain import Region
from inspector.model.typing_features import context_crop, pooled_features, regions_from_mask, shape_stats

EDGE_TYPES = ("burr", "chip", "missing_feature")
SPLITS = ("train", "val", "test")


@dataclass
class RegionSet:
    """Descriptors with labels: ``desc`` (N, D), ``types`` (N,) str, ``split`` (N,) str, ``source`` (N,) str."""

    desc: np.ndarray
    types: np.ndarray
    split: np.ndarray
    source: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)

    def subset(self, mask: np.ndarray) -> RegionSet:
        return RegionSet(self.desc[mask], self.types[mask], self.split[mask], self.source[mask])

    @staticmethod
    def concat(sets: list[RegionSet]) -> RegionSet:
        sets = [s for s in sets if len(s.types)]
        return RegionSet(
            np.concatenate([s.desc for s in sets]),
            np.concatenate([s.types for s in sets]),
            np.concatenate([s.split for s in sets]),
            np.concatenate([s.source for s in sets]),
        )


def shared_data_dir() -> Path | None:
    """The shared real-data folder: env INSPECTOR_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("INSPECTOR_SHARED_DATA")
    cands = [Path(env)] if env else []
    cands.append(Path(__file__).resolve().parents[2].parent / "shared" / "data")
    for c in cands:
        if c.is_dir():
            return c
    return None


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB. Raises FileNotFoundError when unreadable."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _jitter_region(mask: np.ndarray, rng: np.random.Generator) -> Region | None:
    """A region from ``mask`` dilated by 0-8 px: one connected part, the largest or a random one."""
    import cv2

    r = int(rng.choice([0, 1, 2, 4, 6, 8]))
    m = mask.astype(np.uint8)
    if r:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    regions = regions_from_mask(m)
    if not regions:
        return None
    if len(regions) > 1 and rng.random() < 0.4:
        return regions[int(rng.integers(len(regions)))]
    return max(regions, key=lambda g: g.area_px)


class RegionCollector:
    """Collects (image, region, label) and computes descriptors, running the backbone in batches.

    ``result()`` gives a RegionSet whose desc rows equal ``describe_regions`` of each region.
    """

    def __init__(self, backbone, batch: int = 64):
        self.backbone, self.batch = backbone, batch
        self.crops: list[np.ndarray] = []
        self.inner: list[np.ndarray] = []
        self.shape: list[np.ndarray] = []
        self.labels: list[tuple[str, str, str]] = []
        self.feats: list[np.ndarray] = []

    def add(self, image: np.ndarray, region: Region, label: tuple[str, str, str]) -> None:
        crop, inner = context_crop(image, region)
        self.crops.append(crop)
        self.inner.append(inner)
        self.shape.append(shape_stats(image, region))
        self.labels.append(label)
        if len(self.crops) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self.crops:
            self.feats.append(pooled_features(self.backbone, np.stack(self.crops), np.stack(self.inner)))
            self.crops, self.inner = [], []

    def result(self) -> RegionSet:
        self._flush()
        if not self.labels:
            return RegionSet(np.zeros((0, 0), np.float32), *(np.array([], dtype=str),) * 3)
        app = np.concatenate(self.feats)
        desc = np.concatenate([app, np.stack(self.shape)], axis=1).astype(np.float32)
        t, s, src = (np.array(x) for x in zip(*self.labels, strict=True))
        return RegionSet(desc, t, s, src)


def synthetic_regions(
    backbone,
    rng: np.random.Generator,
    types: tuple[str, ...],
    n_parts: int,
    per_part: int,
    part_size: int = 320,
    textures: list[tuple[np.ndarray, np.ndarray]] | None = None,
    texture_fraction: float = 0.3,
    progress: Callable[[int, int, str], None] | None = None,
) -> RegionSet:
    """``n_parts`` backgrounds x ``per_part`` defects of each type -> descriptors.

    Background i goes to split train/val/test as 70/15/15 % of the parts. A fraction of the
    backgrounds are real BSData surface crops (``textures``: (image, defect mask) pairs):
    those get surface defects only (no edges or holes there).
    """
    from inspector.training import synth

    col = RegionCollector(backbone)
    n_val = max(1, int(round(0.15 * n_parts)))
    n_train = n_parts - 2 * n_val
    kinds = synth.KINDS
    for p in range(n_parts):
        split = "train" if p < n_train else ("val" if p < n_train + n_val else "test")
        use_texture = bool(textures) and rng.random() < texture_fraction
        if use_texture:
            img, dmask = textures[int(rng.integers(len(textures)))]
            base = synth.texture_from(img, rng, (part_size, part_size), defect_mask=dmask)
            geom = synth.estimate_geometry(base)
            src = "synthetic-texture"
        else:
            kind = kinds[p % len(kinds)]
            base, geom = synth.make_part_with_geometry(rng, (part_size, part_size), kind)
            src = f"synthetic-{kind}"
        for t in types:
            if use_texture and t in EDGE_TYPES:
                continue
            for _ in range(per_part):
                try:
                    image, mask, _info = synth.render_defect(base, t, rng, geometry=geom)
                except synth.SynthError:
                    continue  # no room / no edge / no hole on this part: skip
                region = _jitter_region(mask, rng)
                if region is not None:
                    col.add(image, region, (t, split, src))
        if progress:
            progress(p + 1, n_parts, f"synthetic part {p + 1}/{n_parts}")
    return col.result()


def bsdata_rows(root: Path) -> list[dict[str, str]]:
    with open(root / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def bsdata_textures(root: Path, n: int, rng: np.random.Generator, max_side: int = 700) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` BSData training-split images (downscaled to ``max_side``) with their pitting masks."""
    import cv2

    rows = [r for r in bsdata_rows(root) if r["source_split"] == "train"]
    pick = rng.choice(len(rows), size=min(n, len(rows)), replace=False)
    out = []
    for i in sorted(pick):
        img = read_rgb(root / rows[i]["image"])
        mask = cv2.imread(str(root / rows[i]["mask"]), cv2.IMREAD_GRAYSCALE)
        s = min(1.0, max_side / max(img.shape[:2]))
        if s < 1.0:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST)
        out.append((img, mask > 0))
    return out


def bsdata_regions(backbone, root: Path, rng: np.random.Generator, val_fraction: float = 0.15) -> RegionSet:
    """Every pitting component of BSData: authors' train split -> train/val, test split -> test."""
    import cv2

    col = RegionCollector(backbone)
    for r in bsdata_rows(root):
        split = "test" if r["source_split"] == "test" else ("val" if rng.random() < val_fraction else "train")
        img = read_rgb(root / r["image"])
        mask = cv2.imread(str(root / r["mask"]), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            continue
        for rep in range(2 if split == "train" else 1):
            m = (mask > 0).astype(np.uint8)
            d = int(rng.choice([0, 2, 4])) if rep else 0
            if d:
                m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1)))
            for region in regions_from_mask(m):
                col.add(img, region, ("pitting", split, "bsdata"))
    return col.result()

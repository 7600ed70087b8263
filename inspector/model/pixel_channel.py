"""Aligned pixel evidence for fixtured parts: a second anomaly channel beside the patch features.

Patch features compare a patch with *every* good patch, wherever it came from, so a bright thin
scratch next to a part edge can look like the edge's own highlight and pass. When the good
parts sit in the same pose (the fixtured case, recognised by their alignment), each pixel can
also be compared with the *same* pixel of the aligned good parts: a robust z-score against
their median and spread (:func:`inspector.model.template.pixel_z`).

Teaching measures the channel exactly like the feature channel: each held-out good image is
scored against pixel statistics built without it (the same folds), so its held-out scores
say what a new good part gets. The channel's scores are brought to the feature scale by the
ratio of the two channels' median held-out scores, the image score becomes the larger of the
two, and the threshold is calibrated on that combined score. Whether the part uses the
channel at all is decided by measurement at teach time: the limit-size probes
(:mod:`inspector.model.probes`) are scored both ways and the channel is kept only when it
lowers the estimated miss rate at the target false-reject rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inspector.model import template as T

MIN_IMAGES = 5  # fewer good images than this: no pixel statistics (spread estimates too noisy)


@dataclass
class AlignedGoods:
    """Good images aligned to the first one's frame."""

    stack: np.ndarray  # (n, H, W, 3) uint8
    valid: np.ndarray  # (n, H, W) bool


def align_goods(images: Sequence[np.ndarray]) -> AlignedGoods | None:
    """All good images aligned to the first; None when sizes differ or they do not align (not fixtured)."""
    if len(images) < MIN_IMAGES or any(im.shape != images[0].shape for im in images):
        return None
    ref = images[0]
    size = (ref.shape[1], ref.shape[0])
    stack = np.empty((len(images), *ref.shape), np.uint8)
    valid = np.ones((len(images), *ref.shape[:2]), bool)
    stack[0] = ref
    nccs = []
    for i, im in enumerate(images[1:], start=1):
        al = T.align(im, ref, affine=False)
        stack[i], valid[i] = T.warp_to_template(im, al, size)
        nccs.append(al.ncc)
    if float(np.median(nccs)) < T.MIN_ALIGN_NCC:
        return None
    return AlignedGoods(stack, valid)


def stats_of(goods: AlignedGoods, members: np.ndarray) -> T.PixelStats:
    """Median and robust spread of the aligned good images ``members`` (indices)."""
    import cv2

    sub = goods.stack[members]
    h, w = sub.shape[1:3]
    med = np.empty(sub.shape[1:], np.uint8)
    spread = np.empty((h, w), np.float32)
    rows = max(1, (1 << 24) // (len(sub) * w * 3))
    for y in range(0, h, rows):
        s = sub[:, y : y + rows].astype(np.float32)
        m = np.median(s, axis=0)
        med[y : y + rows] = np.rint(m).astype(np.uint8)
        spread[y : y + rows] = (1.4826 * np.median(np.abs(s - m), axis=0)).max(axis=2)
    spread = cv2.dilate(spread, np.ones((3, 3), np.uint8))
    return T.PixelStats(med, np.maximum(spread, T.SPREAD_FLOOR).astype(np.float32))


def z_aligned(aligned: np.ndarray, valid: np.ndarray, stats: T.PixelStats) -> np.ndarray:
    """Robust z-map (H, W) of an image already in the statistics' frame (see ``template.pixel_z``)."""
    return T.z_of_aligned(aligned, valid, stats)


def score(z: np.ndarray) -> float:
    """Image score of a z-map: its maximum (the map is already Gaussian-smoothed)."""
    return float(z.max()) if z.size else 0.0


def probe_score(z: np.ndarray, mask: np.ndarray) -> float:
    """Score of a painted probe: the z-map's maximum on the probe's pixels, grown by 2 px."""
    import cv2

    grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return float(z[grown].max()) if grown.any() else 0.0


def combine(image: np.ndarray, work_map: np.ndarray, feat_score: float, geom, pixels: T.PixelStats | None,
            ratio: float | None, threshold: float, pixel_level: float):
    """Analysis of one image in memory mode: (image-size map or None, image score, pixel z-map or None).

    Maps and scores are normalised (1.0 = threshold). With the pixel channel (``ratio`` set and
    statistics of the same image size) the score is the larger of the two channels and the map
    their pixelwise maximum; the map is only made when the score reaches ``pixel_level``.
    """
    from inspector.model import localize as L

    score, z = feat_score, None
    if ratio and pixels is not None:
        z = T.pixel_z(image, pixels)
        if z is not None:
            score = max(score, score_norm(z, ratio, threshold))
    if score < pixel_level:
        return None, score, z
    full = L.to_image_size(work_map, geom)
    if z is not None:
        full = np.maximum(full, z * np.float32(ratio / threshold))
    return full, score, z


def score_norm(z: np.ndarray, ratio: float, threshold: float) -> float:
    """The pixel channel's image score on the normalised scale (1.0 = threshold)."""
    return score(z) * ratio / threshold

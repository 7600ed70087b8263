"""Regions of a threshold-normalised anomaly map, and their sizes in pixels and millimetres.

Conventions (the same as the synthetic renderer's ground truth): ``area_px`` counts pixels,
``length_px`` / ``width_px`` are the sides of the minimum-area rectangle around the pixel
centres plus one pixel, the equivalent diameter is ``2 * sqrt(area / pi)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from inspector.domain import Region, WorkOrder

REL_EXTENT = 0.5  # a region's extent: pixels above this fraction of its peak (and the level)
MIN_AREA_PX = 4.0  # regions smaller than this are dropped (image px)
FINE_LOW = 3.0  # pixel z-score where a refined extent ends (hysteresis low)
FINE_HIGH = 4.5  # pixel z-score a refined part must reach somewhere (hysteresis high)


def zone_boxes(work_order: WorkOrder | None, width: int, height: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Work-order zones as pixel boxes (x0, y0, x1, y1); zones in mm without a pixel size are skipped."""
    out = []
    if work_order is None:
        return out
    for z in work_order.zones:
        try:
            out.append((z.name, z.to_px(width, height, work_order.pixel_size_mm)))
        except ValueError:
            continue  # judged as REVIEW by the spec checker: the clause cannot be located
    return out


def _contour(mask: np.ndarray, ox: int, oy: int) -> tuple[tuple[int, int], ...]:
    import cv2

    cs, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not cs:
        return ()
    if len(cs) == 1:
        c = cs[0]
        eps = max(0.75, 0.01 * cv2.arcLength(c, True))
        poly = cv2.approxPolyDP(c, eps, True) if len(c) > 4 else c
    else:
        poly = cv2.convexHull(np.concatenate(cs))
    return tuple((int(p[0][0]) + ox, int(p[0][1]) + oy) for p in poly)


def region_from_mask(
    mask: np.ndarray,
    score_map: np.ndarray,
    zones: Sequence[tuple[str, tuple[int, int, int, int]]] = (),
    offset: tuple[int, int] = (0, 0),
) -> Region | None:
    """A :class:`Region` for the nonzero pixels of ``mask`` (a crop at ``offset`` = (x, y)).

    ``score_map`` is the same crop of the normalised map (the region's score is its peak).
    Returns None for an empty mask.
    """
    import cv2

    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    ox, oy = offset
    pts = np.stack([xs, ys], 1).astype(np.float32)
    (_, _), (rw, rh), _ = cv2.minAreaRect(pts)
    x0, y0 = int(xs.min()), int(ys.min())
    box = (x0 + ox, y0 + oy, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1)
    touched = []
    for name, (zx0, zy0, zx1, zy1) in zones:
        inside = (xs + ox >= zx0) & (xs + ox < zx1) & (ys + oy >= zy0) & (ys + oy < zy1)
        if inside.any():
            touched.append(name)
    return Region(
        box=box,
        area_px=float(len(xs)),
        length_px=round(float(max(rw, rh)) + 1.0, 2),
        width_px=round(float(min(rw, rh)) + 1.0, 2),
        score=round(float(score_map[ys, xs].max()), 4),
        contour=_contour(mask, ox, oy),
        zones=tuple(touched),
    )


def extract_regions(
    score_map: np.ndarray,
    level: float,
    report_min: float,
    *,
    min_area_px: float = MIN_AREA_PX,
    merge_gap_px: int = 0,
    rel_extent: float = REL_EXTENT,
    background: float = 0.0,
    zones: Sequence[tuple[str, tuple[int, int, int, int]]] = (),
    max_regions: int = 50,
    fine: np.ndarray | None = None,
    window_pad_px: int = 8,
) -> list[Region]:
    """Connected regions of ``score_map`` (H, W, normalised: 1.0 = threshold).

    Pixels at or above ``level`` are grouped (groups closer than ``merge_gap_px`` are merged
    into one region); a group is reported when its peak reaches ``report_min``; its extent
    is the group's pixels at or above ``max(level, background + rel_extent * (peak -
    background))`` (half-maximum above the good parts' typical ``background`` level, so a
    strong defect is not inflated by the map's blur), and it is dropped below ``min_area_px``. At most
    ``max_regions`` regions, strongest first.

    ``fine``: a pixel-level z-map (H, W) of the image against aligned good parts
    (:func:`template.pixel_z`). When given, a region's extent is refined to the pixels within
    ``window_pad_px`` of its group that exceed ``FINE_LOW`` in parts reaching ``FINE_HIGH``
    (hysteresis), which follows the defect's own outline instead of the map's blur; the
    coarse extent is kept where that finds nothing.
    """
    import cv2

    m = (score_map >= level).astype(np.uint8)
    if not m.any():
        return []
    grouped = m
    if merge_gap_px > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * merge_gap_px + 1,) * 2)
        grouped = cv2.dilate(m, k)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    regions = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        sm = score_map[y : y + h, x : x + w]
        grp = (labels[y : y + h, x : x + w] == i) & (m[y : y + h, x : x + w] > 0)
        if not grp.any():
            continue
        peak = float(sm[grp].max())
        if peak < report_min:
            continue
        ext = grp & (sm >= max(level, background + rel_extent * (peak - background)))
        ox, oy = x, y
        if fine is not None:
            refined = _refine(grp, fine, (x, y, w, h), window_pad_px, min_area_px)
            if refined is not None:
                ext, (ox, oy) = refined
                sm = score_map[oy : oy + ext.shape[0], ox : ox + ext.shape[1]]
        if ext.sum() < min_area_px:
            continue
        r = region_from_mask(ext, sm, zones, (ox, oy))
        if r is not None:
            regions.append(r)
    regions.sort(key=lambda r: -r.score)
    return regions[:max_regions]


def _refine(grp, fine, box, pad, min_area):
    """(refined mask, (x0, y0) offset) inside the group's padded window, or None.

    Tried on the z-map as given, then smoothed (sigma 2 px: faint but extended defects such
    as dents and stains rise above the texture noise once averaged).
    """
    import cv2

    x, y, w, h = box
    H, W = fine.shape
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(W, x + w + pad), min(H, y + h + pad)
    win = np.zeros((y1 - y0, x1 - x0), np.uint8)
    win[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = grp
    if pad > 0:
        win = cv2.dilate(win, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pad + 1,) * 2))
    fz = fine[y0:y1, x0:x1]
    for k, z in enumerate((fz, None)):
        if z is None:
            z = cv2.GaussianBlur(fz, (0, 0), 2.0) * 1.5  # x1.5: averaged noise is ~1/3 as large
        cand = (win > 0) & (z >= FINE_LOW)
        if not cand.any():
            continue
        n, lab = cv2.connectedComponents(cand.astype(np.uint8), connectivity=8)
        peak = np.zeros(n, np.float32)
        np.maximum.at(peak, lab[cand], z[cand])
        size = np.bincount(lab[cand], minlength=n)
        good = (peak >= FINE_HIGH) & (size >= 3 * (1 + 3 * k))
        good[0] = False
        keep = good[lab]
        if keep.sum() >= min_area:
            return keep, (x0, y0)
    return None


def sizes_mm(region: Region, pixel_size_mm: float | None) -> dict[str, float | None]:
    """length_mm, width_mm, area_mm2, diameter_mm of a region; all None without a pixel size."""
    if not pixel_size_mm or pixel_size_mm <= 0:
        return {"length_mm": None, "width_mm": None, "area_mm2": None, "diameter_mm": None}
    p = float(pixel_size_mm)
    return {
        "length_mm": round(region.length_px * p, 4),
        "width_mm": round(region.width_px * p, 4),
        "area_mm2": round(region.area_px * p * p, 6),
        "diameter_mm": round(2.0 * math.sqrt(region.area_px / math.pi) * p, 4),
    }

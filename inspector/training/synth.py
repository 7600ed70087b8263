"""Seeded, reproducible synthetic parts and defects.

Used to make the sample parts in ``sample_data/``, to generate training data for the typing
projection and the explanation adapters, and to test localisation and measurement against
known ground truth. Every function takes a ``numpy.random.Generator``: the same seed gives
the same pixels (on the same numpy/OpenCV versions).

Images are (H, W, 3) uint8 RGB; sizes are pixels. Each rendered defect comes with its
exact pixel mask and an ``info`` dict measured *from that mask* with the same convention
as :class:`inspector.domain.Region`:

``type``       canonical type word (see :data:`DEFECT_TYPES`)
``box``        (x, y, w, h) px of the mask's bounding box
``length_px``  longest side of the mask's minimum-area rectangle (pixel extent, +1 px)
``width_px``   shortest side of it
``area_px``    number of mask pixels
``diameter_px`` equivalent-circle diameter, 2 * sqrt(area / pi)
``feret_px``   largest distance across the mask (pixel extent, +1 px); for round-ish shapes
               lying at 45 deg this is the honest "length", the rectangle side can be ~15 % less
``count``      connected parts of the mask (pits in a cluster)
``components`` per connected part: box, length_px, width_px, area_px, diameter_px
``nominal_px`` the size that was asked for (chord length, diameter or extent, see each type)
``center``     (x, y) px where it was placed

Example::

    rng = np.random.default_rng(7)
    image, infos = make_sample(rng, ["scratch", "pitting"])
    infos[0]["length_px"], infos[0]["mask"].shape
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from inspector.training import synth_defects as _d
from inspector.training.synth_part import (
    KINDS,
    PartGeometry,
    SynthError,
    estimate_geometry,
    make_part_with_geometry,
)

__all__ = [
    "DEFECT_TYPES",
    "KINDS",
    "PartGeometry",
    "SynthError",
    "estimate_geometry",
    "make_part",
    "make_part_with_geometry",
    "make_sample",
    "measure_mask",
    "render_defect",
    "texture_from",
]

DEFECT_TYPES = ("scratch", "crack", "pitting", "dent", "stain", "burr", "chip", "missing_feature",
                "inclusion", "corrosion")
ALIASES = {"pit": "pitting", "pits": "pitting", "scratches": "scratch", "cracks": "crack", "dents": "dent",
           "stains": "stain", "burrs": "burr", "chips": "chip", "missing": "missing_feature",
           "missing feature": "missing_feature", "rust": "corrosion", "inclusions": "inclusion"}


def canonical_type(word: str) -> str:
    """The canonical defect type for ``word`` (aliases such as 'pit' -> 'pitting').

    Raises :class:`SynthError` naming the known types for an unknown word.
    """
    t = ALIASES.get(word.strip().lower(), word.strip().lower())
    if t not in DEFECT_TYPES:
        raise SynthError(f"unknown defect type {word!r}; known: {', '.join(DEFECT_TYPES)}")
    return t


def make_part(rng: np.random.Generator, size: tuple[int, int] = (512, 512), kind: str = "bracket") -> np.ndarray:
    """A plausible machined-aluminium part image, RGB uint8 of ``size`` = (width, height) px.

    Milled (bracket, plate) or turned (flange) surface texture, soft lighting gradient with a
    hotspot, chamfered edges, holes; per-part exposure, pose (rotation within +-2 deg, shift
    within +-4 px) and sensor noise so good parts differ. ``kind``: 'bracket', 'flange' or
    'plate' (texture filling the frame). Raises :class:`SynthError` for an unknown kind.
    """
    return make_part_with_geometry(rng, size, kind)[0]


def measure_mask(mask: np.ndarray) -> dict[str, Any]:
    """Box, length, width, area, equivalent diameter and part count of a boolean mask (px)."""
    mask = np.asarray(mask, bool)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return {"box": (0, 0, 0, 0), "length_px": 0.0, "width_px": 0.0, "area_px": 0.0, "diameter_px": 0.0,
                "feret_px": 0.0, "count": 0}
    pts = np.stack([xs, ys], 1).astype(np.float32)
    (_, _), (rw, rh), _ = cv2.minAreaRect(pts)
    hull = cv2.convexHull(pts).reshape(-1, 2).astype(np.float64)
    feret = float(np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1)).max()) + 1.0
    area = float(len(xs))
    n = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] - 1
    return {
        "box": (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)),
        "length_px": round(float(max(rw, rh)) + 1.0, 2),
        "width_px": round(float(min(rw, rh)) + 1.0, 2),
        "area_px": area,
        "diameter_px": round(2.0 * math.sqrt(area / math.pi), 2),
        "feret_px": round(feret, 2),
        "count": int(n),
    }


def _components(mask: np.ndarray) -> list[dict[str, Any]]:
    n, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        m = measure_mask(lab == i)
        m.pop("count")
        out.append(m)
    return out


def _pick_surface(geom: PartGeometry, rng, clearance: float, where, avoid) -> np.ndarray:
    ok = geom.surface if avoid is None else geom.surface & ~avoid
    dist = cv2.distanceTransform(ok.astype(np.uint8), cv2.DIST_L2, 3)
    cand = dist >= clearance
    if where is not None and len(where) == 4:
        m = int(math.ceil(clearance - 2))  # keep the whole defect inside the box
        x0, y0, x1, y1 = (int(round(v)) for v in where)
        box = np.zeros_like(cand)
        box[max(0, y0 + m) : max(0, y1 - m), max(0, x0 + m) : max(0, x1 - m)] = True
        cand &= box
    ys, xs = np.nonzero(cand)
    if len(xs) == 0:
        raise SynthError(f"no free surface with {clearance:.0f} px clearance" + (f" inside {where}" if where else ""))
    i = int(rng.integers(len(xs)))
    return np.array([xs[i], ys[i]], float)


def _pick_edge(geom: PartGeometry, rng, where, avoid) -> int:
    if len(geom.edge_xy) == 0:
        raise SynthError("this image has no part edge (a texture?): burr and chip need one")
    xy = geom.edge_xy
    ok = np.ones(len(xy), bool)
    if avoid is not None:
        ok &= ~avoid[xy[:, 1].astype(int), xy[:, 0].astype(int)]
    if where is not None and len(where) == 2:
        d = np.hypot(xy[:, 0] - where[0], xy[:, 1] - where[1]) + np.where(ok, 0, 1e9)
        return int(np.argmin(d))
    if where is not None and len(where) == 4:
        x0, y0, x1, y1 = where
        ok &= (xy[:, 0] >= x0) & (xy[:, 0] < x1) & (xy[:, 1] >= y0) & (xy[:, 1] < y1)
    idx = np.nonzero(ok)[0]
    if len(idx) == 0:
        raise SynthError(f"no free part edge{' inside ' + str(where) if where else ''}")
    return int(idx[int(rng.integers(len(idx)))])


def render_defect(
    image: np.ndarray,
    defect_type: str,
    rng: np.random.Generator,
    *,
    size_px: float | None = None,
    where: Sequence[float] | None = None,
    geometry: PartGeometry | None = None,
    angle_deg: float | None = None,
    count: int | None = None,
    avoid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Paint one defect onto a copy of ``image``; return (image, mask (H, W) bool, info).

    ``size_px``: the defect's nominal size — chord length for scratch/crack/inclusion,
    major diameter for dent, largest-pit diameter for pitting, longest extent for
    stain/corrosion, length along the edge for burr/chip; ignored for missing_feature (the
    hole's size decides). Default: drawn from a per-type range. ``where``: (x, y) centre (or
    edge point / hole nearest to it), or an (x0, y0, x1, y1) box that a surface defect is
    placed wholly inside (an edge defect's edge point, the hole nearest its centre); default:
    a random free place. ``geometry``: from :func:`make_part_with_geometry`; estimated from the image
    when None (burr/chip need an edge, missing_feature a round hole). ``angle_deg`` orients
    line-like defects, ``count`` sets the number of pits, ``avoid`` (H, W) bool excludes
    places. ``info`` is measured from the mask (see module doc). Raises :class:`SynthError`
    for an unknown type, a bad size, or no room.
    """
    t = canonical_type(defect_type)
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise SynthError(f"image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
    geom = geometry if geometry is not None else estimate_geometry(img)
    lo, hi = _d.DEFAULT_SIZE[t]
    size = float(size_px) if size_px is not None else float(rng.uniform(lo, hi))
    if t != "missing_feature" and not 1.0 <= size <= min(img.shape[:2]) / 2:
        raise SynthError(f"{t} size {size} px is outside 1..{min(img.shape[:2]) // 2} px for this image")
    work = img.astype(np.float32)
    if t in _d.SURFACE:
        if t == "pitting":
            n = count if count is not None else int(rng.integers(1, 5))
            clearance = size * (1.5 + 0.9 * n) + 3
        else:
            clearance = size / 2 + 3
        c = np.asarray(where, float) if where is not None and len(where) == 2 else _pick_surface(
            geom, rng, clearance, where, avoid)
        if t == "pitting":
            mask, extra = _d.pitting(work, rng, size, c, geom, count=n)
        else:
            mask, extra = _d.SURFACE[t](work, rng, size, c, geom, angle=angle_deg)
    elif t in _d.EDGE:
        i = _pick_edge(geom, rng, where, avoid)
        c = geom.edge_xy[i].astype(float)
        mask, extra = _d.EDGE[t](work, rng, size, i, geom)
    else:  # missing_feature
        if not geom.holes:
            raise SynthError("missing_feature needs a part with round holes (none known or found)")
        holes = np.array(geom.holes)
        if where is not None and len(where) >= 2:
            ref = np.asarray(where[:2], float) if len(where) == 2 else np.array(
                [(where[0] + where[2]) / 2, (where[1] + where[3]) / 2])
            k = int(np.argmin(np.hypot(holes[:, 0] - ref[0], holes[:, 1] - ref[1])))
        else:
            k = int(rng.integers(len(holes)))
        hole = tuple(float(v) for v in holes[k])
        c = np.array(hole[:2])
        size = 2 * hole[2]
        mask, extra = _d.missing_feature(work, rng, size, hole, geom)
    if not mask.any():
        raise SynthError(f"{t} at {c.round(1).tolist()} left no pixels (outside the image?)")
    info: dict[str, Any] = {"type": t, **measure_mask(mask), "nominal_px": round(size, 2),
                            "center": [round(float(c[0]), 1), round(float(c[1]), 1)], **extra}
    if t == "pitting":
        info["components"] = _components(mask)
    out = np.clip(np.rint(work), 0, 255).astype(np.uint8)
    return out, mask, info


def make_sample(
    rng: np.random.Generator,
    defects: Sequence[str | dict[str, Any]],
    size: tuple[int, int] = (512, 512),
    kind: str = "bracket",
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A part with the listed defects, none overlapping; return (image, infos with 'mask').

    Each item of ``defects`` is a type word or a dict with 'type' plus any keyword of
    :func:`render_defect` (size_px, where, angle_deg, count). The part comes from
    :func:`make_part_with_geometry` with the same ``rng``.
    """
    image, geom = make_part_with_geometry(rng, size, kind)
    occupied = np.zeros(geom.material.shape, bool)
    infos = []
    for item in defects:
        spec = {"type": item} if isinstance(item, str) else dict(item)
        t = spec.pop("type")
        image, mask, info = render_defect(image, t, rng, geometry=geom, avoid=occupied, **spec)
        occupied |= cv2.dilate(mask.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0
        info["mask"] = mask
        infos.append(info)
    return image, infos


def texture_from(
    real_image: np.ndarray,
    rng: np.random.Generator,
    size: tuple[int, int],
    *,
    defect_mask: np.ndarray | None = None,
    margin: int = 8,
    return_origin: bool = False,
) -> np.ndarray | tuple[np.ndarray, tuple[int, int]]:
    """A ``size`` = (width, height) px crop of a real surface photo, free of known defects.

    Picks a random window whose pixels (plus ``margin``) are all zero in ``defect_mask``
    (e.g. a BSData pitting mask); where the image is smaller than ``size`` it is mirror-tiled
    first. With ``return_origin`` also returns the window's top-left (x, y) px. Raises
    :class:`SynthError` when no defect-free window exists.
    """
    img = np.asarray(real_image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise SynthError(f"real_image must be (H, W, 3) or (H, W), got {img.shape}")
    w, h = int(size[0]), int(size[1])
    bad = np.zeros(img.shape[:2], bool) if defect_mask is None else np.asarray(defect_mask) > 0
    if bad.shape != img.shape[:2]:
        raise SynthError(f"defect_mask shape {bad.shape} does not match the image {img.shape[:2]}")
    if margin and bad.any():
        bad = cv2.dilate(bad.astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0
    reps_y, reps_x = -(-h // img.shape[0]), -(-w // img.shape[1])
    if reps_y > 1 or reps_x > 1:
        img = np.pad(img, ((0, (reps_y - 1) * img.shape[0]), (0, (reps_x - 1) * img.shape[1]), (0, 0)),
                     mode="symmetric")
        bad = np.pad(bad, ((0, img.shape[0] - bad.shape[0]), (0, img.shape[1] - bad.shape[1])),
                     mode="symmetric")
    integ = cv2.integral(bad.astype(np.uint8))
    counts = integ[h:, w:] - integ[:-h, w:] - integ[h:, :-w] + integ[:-h, :-w]
    ys, xs = np.nonzero(counts == 0)
    if len(xs) == 0:
        raise SynthError(f"no defect-free {w}x{h} window in a {img.shape[1]}x{img.shape[0]} image")
    i = int(rng.integers(len(xs)))
    crop = np.ascontiguousarray(img[ys[i] : ys[i] + h, xs[i] : xs[i] + w])
    return (crop, (int(xs[i]), int(ys[i]))) if return_origin else crop

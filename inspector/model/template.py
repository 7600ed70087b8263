"""Golden-template mode: align the image to a taught reference image and difference them.

Alignment: ECC (Euclidean: shift + rotation) on a downscaled, blurred grayscale pair, with
ORB features + RANSAC (similarity) as the fallback when ECC fails or correlates worse; the
better of the two by normalised cross-correlation wins, then an affine ECC refinement is
kept when it correlates better still (scanner scale/shear). The identity is kept when
nothing helps (e.g. a blank image).

Difference, in the template's frame:

* pixel: brightness/contrast of the aligned image matched to the template by a robust
  linear fit, then ``max(0, erode(T) - I, I - dilate(T))`` per channel, which ignores a
  residual misalignment of one pixel; a 2x2 opening then drops one-pixel-wide residue
  along edges (registration, binarisation jaggies: a defect must be 2 px wide to count),
  and a Gaussian (sigma 1 px) smooths it.
* feature: distance between the backbone patch features of the aligned image and the
  template, each cell compared with the best of the template's 3x3 neighbouring cells.

Each part is divided by its typical maximum on good images, so the combined map is
``max(pixel / s_pix, feature / s_feat)`` in units of "good-part maxima". The feature part
is only used when at least ``MIN_GOOD_FOR_FEATURES`` real good images were taught: jittered
copies of the template do not show how much real parts differ in feature space. With the
template alone the pixel scale has a conservative floor (``PIX_FLOOR`` grey levels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from inspector.model.backbone import Backbone
    from inspector.model.localize import Geometry

ALIGN_SIDE = 512  # alignment runs on images downscaled to this longest side
PIX_FLOOR = 40.0  # smallest pixel-difference scale, grey levels (threshold >= 1.5x this)
FEAT_FLOOR = 2.0  # smallest feature-difference scale
MIN_GOOD_FOR_FEATURES = 5


@dataclass(frozen=True)
class Alignment:
    """2x3 affine warp taking template coordinates to image coordinates, and its quality."""

    warp: np.ndarray  # (2, 3) float32, template (x, y) -> image (x, y)
    method: str  # 'identity' | 'ecc' | 'orb', '+affine' when refined
    ncc: float  # normalised cross-correlation of the aligned pair (downscaled, blurred)


def _gray_small(img: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    import cv2

    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    f = min(1.0, side / max(g.shape))
    if f < 1.0:
        g = cv2.resize(g, (max(1, round(g.shape[1] * f)), max(1, round(g.shape[0] * f))), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(g.astype(np.float32), (5, 5), 1.0), f


def _ncc(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> float:
    x, y = a[valid], b[valid]
    if x.size < 16:
        return -1.0
    x = x - x.mean()
    y = y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 0 else -1.0


def _score(warp: np.ndarray, ti: np.ndarray, tt: np.ndarray) -> float:
    import cv2

    h, w = tt.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(ti, warp, (w, h), flags=flags)
    valid = cv2.warpAffine(np.ones_like(ti), warp, (w, h), flags=flags) > 0.99
    return _ncc(warped, tt, valid)


def _ecc(ti: np.ndarray, tt: np.ndarray, motion: int, init: np.ndarray | None = None, iters: int = 50) -> np.ndarray | None:
    import cv2

    warp = np.eye(2, 3, dtype=np.float32) if init is None else init.astype(np.float32).copy()
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iters, 1e-4)
    try:
        _, warp = cv2.findTransformECC(tt, ti, warp, motion, crit, None, 1)
    except cv2.error:
        return None
    return warp


def _orb(ti: np.ndarray, tt: np.ndarray) -> np.ndarray | None:
    import cv2

    orb = cv2.ORB_create(nfeatures=1500)
    a = np.clip(tt, 0, 255).astype(np.uint8)
    b = np.clip(ti, 0, 255).astype(np.uint8)
    ka, da = orb.detectAndCompute(a, None)
    kb, db = orb.detectAndCompute(b, None)
    if da is None or db is None or len(ka) < 8 or len(kb) < 8:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(da, db)
    if len(matches) < 8:
        return None
    src = np.float32([ka[m.queryIdx].pt for m in matches])
    dst = np.float32([kb[m.trainIdx].pt for m in matches])
    warp, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    if warp is None or inl is None or inl.sum() < 8:
        return None
    return warp.astype(np.float32)


def _rescale(warp: np.ndarray, f: float) -> np.ndarray:
    """A warp between images scaled by f (x' = f x) from one between the originals."""
    w = warp.astype(np.float64).copy()
    w[:, 2] *= f
    return w.astype(np.float32)


def align(image: np.ndarray, template: np.ndarray, affine: bool = True) -> Alignment:
    """Warp from ``template`` coordinates to ``image`` coordinates (RGB uint8 both, any sizes).

    Coarse-to-fine: Euclidean ECC at 1/4 of ``ALIGN_SIDE``, refined at ``ALIGN_SIDE``; ORB
    when that correlates poorly; an affine ECC refinement when ``affine``. Candidates are
    compared by normalised cross-correlation at half ``ALIGN_SIDE``; the identity wins ties.
    """
    import cv2

    ti, fi = _gray_small(image, ALIGN_SIDE)
    tt, ft = _gray_small(template, ALIGN_SIDE)
    ti_s, tt_s = cv2.resize(ti, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), cv2.resize(
        tt, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA
    )
    ti_c, tt_c = cv2.resize(ti_s, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), cv2.resize(
        tt_s, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA
    )

    def score(w: np.ndarray) -> float:
        return _score(_rescale(w, 0.5), ti_s, tt_s)

    eye = np.eye(2, 3, dtype=np.float32)
    best = Alignment(eye, "identity", score(eye))
    if best.ncc < 0.999:
        coarse = _ecc(ti_c, tt_c, cv2.MOTION_EUCLIDEAN, iters=60)
        w = _ecc(ti, tt, cv2.MOTION_EUCLIDEAN, _rescale(coarse, 4.0) if coarse is not None else None, iters=15)
        if w is not None and (s := score(w)) > best.ncc + 1e-4:
            best = Alignment(w, "ecc", s)
        if best.ncc < 0.9 and (w := _orb(ti, tt)) is not None and (s := score(w)) > best.ncc + 1e-4:
            best = Alignment(w, "orb", s)
        # scanners and lenses add a little scale/shear: refine with a full affine from the best
        if affine and (w := _ecc(ti, tt, cv2.MOTION_AFFINE, best.warp, iters=15)) is not None:
            if abs(np.linalg.det(w[:, :2]) - 1) < 0.05 and (s := score(w)) > best.ncc + 1e-4:
                best = Alignment(w, best.method + "+affine", s)
    # back to full resolution: image = A_small(template_small) with x_small = f * x
    w = best.warp.astype(np.float64).copy()
    w[:, :2] *= ft / fi
    w[:, 2] /= fi
    return Alignment(w.astype(np.float32), best.method, best.ncc)


def warp_to_template(image: np.ndarray, al: Alignment, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(aligned image in the template frame, valid mask) for a template of ``size`` = (W, H)."""
    import cv2

    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpAffine(image, al.warp, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpAffine(np.full(image.shape[:2], 255, np.uint8), al.warp, size, flags=flags) > 250
    return out, valid


def map_to_image(score_map: np.ndarray, al: Alignment, size: tuple[int, int]) -> np.ndarray:
    """A map in the template frame -> the image frame of ``size`` = (W, H) (zero outside)."""
    import cv2

    return cv2.warpAffine(score_map, al.warp, size, flags=cv2.INTER_LINEAR, borderValue=0.0)


def pixel_difference(aligned: np.ndarray, template: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Shift-tolerant absolute difference (H, W) float32 in grey levels (see module doc)."""
    import cv2

    a = aligned.astype(np.float32)
    t = template.astype(np.float32)
    m = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if m.sum() > 64:  # robust gain/offset: match percentiles of the two images
        qa = np.percentile(a[m], [5, 95])
        qt = np.percentile(t[m], [5, 95])
        if qa[1] - qa[0] > 4:
            a = (a - qa[0]) * ((qt[1] - qt[0]) / (qa[1] - qa[0])) + qt[0]
    k = np.ones((3, 3), np.uint8)
    lo, hi = cv2.erode(t, k), cv2.dilate(t, k)
    d = np.maximum(np.maximum(lo - a, a - hi), 0.0).max(axis=2)
    d = cv2.morphologyEx(d, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    d = cv2.GaussianBlur(d, (0, 0), 1.0)
    d[~m] = 0.0
    return d


def feature_difference(fa, ft) -> np.ndarray:
    """Cell maps (D, gh, gw) of aligned image and template -> (gh, gw) min distance over 3x3 template cells."""
    import torch
    import torch.nn.functional as F

    with torch.inference_mode():
        a = fa.float()[None]
        t = F.pad(ft.float()[None], (1, 1, 1, 1), mode="replicate")
        gh, gw = a.shape[-2:]
        best = None
        for dy in range(3):
            for dx in range(3):
                d = (a - t[:, :, dy : dy + gh, dx : dx + gw]).square().sum(1).sqrt()
                best = d if best is None else torch.minimum(best, d)
        return best[0].cpu().numpy()


def combined_map(
    backbone: Backbone,
    geom: Geometry,
    aligned: np.ndarray,
    valid: np.ndarray,
    template: np.ndarray,
    template_feats,
    s_pix: float,
    s_feat: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(combined, pixel, feature) maps (H, W) float32 of an aligned image in the template frame.

    ``s_feat`` None: pixel difference only (feature map None).
    """
    import cv2
    import torch

    from inspector.model import localize as L

    pix = pixel_difference(aligned, template, valid)
    if s_feat is None:
        return (pix / s_pix).astype(np.float32), pix, None
    with torch.inference_mode():
        fa = L.features(backbone, L.to_working([aligned], geom, backbone.device), geom)[0]
    cell = feature_difference(fa, template_feats)
    cell_t = torch.from_numpy(cell)[None]
    feat = L.to_image_size(L.working_map(cell_t, geom)[0].numpy(), geom)
    feat[cv2.erode(valid.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0] = 0.0
    comb = np.maximum(pix / s_pix, feat / s_feat).astype(np.float32)
    return comb, pix, feat


def jittered(image: np.ndarray, rng: np.random.Generator, shift: float = 2.0, angle: float = 0.4) -> np.ndarray:
    """A nuisance variant of a good image: small shift/rotation, gain, offset and sensor noise."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-angle, angle)), 1.0)
    m[:, 2] += rng.uniform(-shift, shift, 2)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    out = out.astype(np.float32) * rng.uniform(0.95, 1.05) + rng.uniform(-5, 5)
    out += rng.normal(0, 2.0, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# -- pixel statistics of aligned good parts (memory mode: precise extents) ----------------

SPREAD_FLOOR = 4.0  # smallest per-pixel spread, grey levels
MIN_ALIGN_NCC = 0.8  # good images must align at least this well for pixel statistics


@dataclass(frozen=True)
class PixelStats:
    """Median appearance and robust per-pixel spread of aligned good parts (the first one's frame)."""

    median: np.ndarray  # (H, W, 3) uint8
    spread: np.ndarray  # (H, W) float32 grey levels: 1.4826 * MAD, max over channels, 3x3 max-filtered


def pixel_stats(images: list[np.ndarray]) -> PixelStats | None:
    """Statistics of same-size good ``images`` aligned to the first; None when they do not align.

    Needs at least 5 images; returns None when sizes differ or the median alignment
    correlation is under ``MIN_ALIGN_NCC`` (the part is not fixtured: nothing to compare
    pixel by pixel).
    """
    import cv2

    if len(images) < 5 or any(im.shape != images[0].shape for im in images):
        return None
    ref = images[0]
    size = (ref.shape[1], ref.shape[0])
    stack = np.empty((len(images), *ref.shape), np.uint8)
    stack[0] = ref
    nccs = []
    for i, im in enumerate(images[1:], start=1):
        al = align(im, ref, affine=False)
        stack[i] = warp_to_template(im, al, size)[0]
        nccs.append(al.ncc)
    if float(np.median(nccs)) < MIN_ALIGN_NCC:
        return None
    med = np.empty(ref.shape, np.uint8)
    spread = np.empty(ref.shape[:2], np.float32)
    rows = max(1, (1 << 24) // (len(images) * ref.shape[1] * 3))
    for y in range(0, ref.shape[0], rows):
        s = stack[:, y : y + rows].astype(np.float32)
        m = np.median(s, axis=0)
        med[y : y + rows] = np.rint(m).astype(np.uint8)
        spread[y : y + rows] = (1.4826 * np.median(np.abs(s - m), axis=0)).max(axis=2)
    spread = cv2.dilate(spread, np.ones((3, 3), np.uint8))
    return PixelStats(med, np.maximum(spread, SPREAD_FLOOR).astype(np.float32))


def pixel_z(image: np.ndarray, stats: PixelStats) -> np.ndarray | None:
    """Robust z-map (H, W) float32 of ``image`` against ``stats``, in the image frame; None on size mismatch."""

    if image.shape != stats.median.shape:
        return None
    size = (image.shape[1], image.shape[0])
    al = align(image, stats.median, affine=False)
    aligned, valid = warp_to_template(image, al, size)
    return map_to_image(z_of_aligned(aligned, valid, stats), al, size)


Z_STRIP_ROWS = 512  # rows per strip of z_of_aligned: float work arrays of ~16 MB per 1000 px of width
_Z_HALO = 8  # rows of context around a strip: 3x3 morphology (1) + Gaussian sigma 0.7 (3) + 5x5 erosion (2)


def z_of_aligned(aligned: np.ndarray, valid: np.ndarray, stats: PixelStats) -> np.ndarray:
    """Robust z-map (H, W) float32 of an image already in the statistics' frame (3x3 shift-tolerant).

    Computed in strips of ``Z_STRIP_ROWS`` rows with ``_Z_HALO`` rows of context, so the float work
    arrays stay bounded for any image size (an 8000 x 8000 image would need about 4 GB at once);
    every operation is local, so the result is the same as computing the whole image at once.
    """
    h = aligned.shape[0]
    out = np.empty(aligned.shape[:2], np.float32)
    for y0 in range(0, h, Z_STRIP_ROWS):
        y1 = min(h, y0 + Z_STRIP_ROWS)
        a0, a1 = max(0, y0 - _Z_HALO), min(h, y1 + _Z_HALO)
        z = _z_block(aligned[a0:a1], valid[a0:a1], stats.median[a0:a1], stats.spread[a0:a1])
        out[y0:y1] = z[y0 - a0 : y1 - a0]
    return out


def _z_block(aligned: np.ndarray, valid: np.ndarray, median: np.ndarray, spread: np.ndarray) -> np.ndarray:
    import cv2

    a = aligned.astype(np.float32)
    t = median.astype(np.float32)
    k = np.ones((3, 3), np.uint8)
    d = np.maximum(np.maximum(cv2.erode(t, k) - a, a - cv2.dilate(t, k)), 0.0).max(axis=2)
    z = cv2.GaussianBlur(d / spread, (0, 0), 0.7)
    z[cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) == 0] = 0.0
    return z.astype(np.float32)

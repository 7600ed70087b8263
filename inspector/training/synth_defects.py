"""Painters for the synthetic defect types, one function per type.

Each painter takes the image as float32 (H, W, 3) (modified in place), the generator, the
nominal size in px, the centre (or edge point) and the part geometry, and returns the
defect's pixel mask (H, W) bool plus extra info. The public entry point is
:func:`inspector.training.synth.render_defect`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inspector.training.synth_part import _SS, LIGHT, PartGeometry, SynthError


class _Roi:
    """A window of the image, clipped to it, with a supersampled drawing helper."""

    def __init__(self, shape: tuple[int, int], xy: np.ndarray, pad: float):
        h, w = shape
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        self.x0 = max(0, int(math.floor(xy[:, 0].min() - pad)))
        self.y0 = max(0, int(math.floor(xy[:, 1].min() - pad)))
        self.x1 = min(w, int(math.ceil(xy[:, 0].max() + pad)) + 1)
        self.y1 = min(h, int(math.ceil(xy[:, 1].max() + pad)) + 1)
        self.full = (h, w)
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise SynthError("defect lies outside the image")

    @property
    def sl(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Absolute pixel-centre coordinates (xx, yy) of the window."""
        yy, xx = np.mgrid[self.y0 : self.y1, self.x0 : self.x1].astype(np.float32)
        return xx, yy

    def pts(self, xy) -> np.ndarray:
        """Absolute float points -> int32 supersampled canvas points."""
        p = (np.asarray(xy, np.float64).reshape(-1, 2) - (self.x0, self.y0) + 0.5) * _SS - 0.5
        return np.rint(p).astype(np.int32)

    def cover(self, draw) -> np.ndarray:
        """Coverage in [0, 1] of what ``draw(canvas)`` paints (values 0..255) on the canvas."""
        h, w = self.shape
        canvas = np.zeros((h * _SS, w * _SS), np.uint8)
        draw(canvas)
        return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0

    def paste(self, local: np.ndarray) -> np.ndarray:
        out = np.zeros(self.full, local.dtype)
        out[self.sl] = local
        return out


def _local_level(img: np.ndarray, roi: _Roi, material: np.ndarray | None = None) -> np.ndarray:
    """Median colour of the window (of its material pixels when given), float32 (3,)."""
    patch = img[roi.sl].reshape(-1, 3)
    if material is not None:
        sel = material[roi.sl].reshape(-1)
        if sel.sum() > 8:
            patch = patch[sel]
    return np.median(patch, axis=0).astype(np.float32)


def _unit(angle: float) -> np.ndarray:
    return np.array([math.cos(angle), math.sin(angle)])


def _bezier(p0, p1, p2, n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def scratch(img, rng, size, c, geom, angle=None):
    """Thin, slightly curved line, bright (burnished) or dark (groove); ``size`` = chord length."""
    ang = math.radians(angle) if angle is not None else float(rng.uniform(0, math.pi))
    u, n = _unit(ang), _unit(ang + math.pi / 2)
    sag = float(rng.uniform(-0.06, 0.06)) * size
    p0, p2 = c - u * size / 2, c + u * size / 2
    path = _bezier(p0, c + n * 2 * sag, p2, max(16, int(size)))
    thick = float(rng.choice([1.0, 1.5, 2.0, 2.5]))
    roi = _Roi(img.shape[:2], path, thick + 4)
    q = roi.pts(path)
    tw = max(1, int(round(thick * _SS)))
    cover = roi.cover(lambda cv: cv2.polylines(cv, [q], False, 255, tw, cv2.LINE_8))
    # intensity fluctuates along the scratch and fades towards its ends
    k = len(q) - 1
    prof = np.clip(np.sin(np.linspace(0, math.pi, k)) * 3, 0.45, 1) * rng.uniform(0.6, 1.0, k)

    def draw_int(cv):
        for i in range(k):
            cv2.line(cv, tuple(q[i]), tuple(q[i + 1]), int(255 * prof[i]), tw, cv2.LINE_8)

    inten = roi.cover(draw_int)
    bright = bool(rng.random() < 0.5)
    patch = img[roi.sl]
    if bright:
        patch += inten[..., None] * float(rng.uniform(45, 75))
    else:
        patch *= 1 - inten[..., None] * float(rng.uniform(0.35, 0.55))
    return roi.paste(cover >= 0.35), {"polarity": "bright" if bright else "dark", "thickness_px": thick}


def crack(img, rng, size, c, geom, angle=None):
    """Jagged dark line with one to three branches; ``size`` = end-to-end length of the main line."""
    ang = math.radians(angle) if angle is not None else float(rng.uniform(0, math.pi))
    u = _unit(ang)

    def walk(start, heading, length, step=1.5):
        # jagged: each step deviates independently around a slowly drifting course
        pts, drift, p = [np.array(start, float)], 0.0, np.array(start, float)
        for _ in range(int(length * 4 / step)):
            drift = 0.9 * drift + float(rng.normal(0, 0.08))
            p = p + step * _unit(heading + drift + float(rng.normal(0, 0.6)))
            pts.append(p)
            if np.linalg.norm(p - start) >= length:
                break
        return np.array(pts)

    start = c - u * size / 2
    main = walk(start, ang, size)
    main = main + (c - (main[0] + main[-1]) / 2)  # centre the chord on c
    branches = []
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(main) // 5, max(len(main) // 5 + 1, 4 * len(main) // 5)))
        side = float(rng.choice([-1, 1])) * float(rng.uniform(0.45, 1.0))
        branches.append(walk(main[i], ang + side, size * float(rng.uniform(0.15, 0.35))))
    roi = _Roi(img.shape[:2], np.vstack([main, *branches]), 6)
    tw = max(1, int(round(float(rng.uniform(1.1, 1.7)) * _SS)))

    def draw(cv):
        cv2.polylines(cv, [roi.pts(main)], False, 255, tw, cv2.LINE_8)
        for b in branches:
            cv2.polylines(cv, [roi.pts(b)], False, 255, max(_SS, tw * 2 // 3), cv2.LINE_8)

    cover = roi.cover(draw)
    halo = cv2.GaussianBlur(cover, (0, 0), 1.2)
    patch = img[roi.sl]
    patch *= (1 - float(rng.uniform(0.5, 0.7)) * cover - 0.08 * halo)[..., None]
    return roi.paste(cover >= 0.35), {"branches": len(branches)}


def _depression(img, roi: _Roi, c, a, b, ang, dark, relief, smooth_texture=0.0):
    """Shade an elliptical hollow (semi-axes a >= b px): lit far wall, shadowed near wall."""
    xx, yy = roi.grid()
    dx, dy = xx - c[0], yy - c[1]
    ca, sa = math.cos(ang), math.sin(ang)
    uu, vv = (dx * ca + dy * sa) / a, (-dx * sa + dy * ca) / b
    r2 = uu**2 + vv**2
    inside = r2 <= 1.0
    hgt = np.where(inside, 1.0 - r2, 0.0).astype(np.float32)
    gy, gx = np.gradient(hgt)
    slope = (gx * LIGHT[0] + gy * LIGHT[1]) * a  # >0 where the wall faces the light
    gain = (1 + relief * slope) * (1 - dark * np.sqrt(hgt))
    gain = cv2.GaussianBlur(gain.astype(np.float32), (0, 0), 0.6)
    patch = img[roi.sl]
    if smooth_texture:
        blurred = cv2.GaussianBlur(patch, (0, 0), 2.0)
        w = (smooth_texture * inside)[..., None]
        patch[:] = patch * (1 - w) + blurred * w
    patch *= gain[..., None]
    return inside


def dent(img, rng, size, c, geom, angle=None):
    """Smooth elliptical depression with highlight and shadow; ``size`` = major diameter."""
    a = size / 2.0
    b = a * float(rng.uniform(0.6, 0.95))
    ang = math.radians(angle) if angle is not None else float(rng.uniform(0, math.pi))
    roi = _Roi(img.shape[:2], np.array([c]), a + 3)
    inside = _depression(img, roi, c, a, b, ang, float(rng.uniform(0.03, 0.08)),
                         float(rng.uniform(0.12, 0.2)), smooth_texture=0.5)
    return roi.paste(inside), {"minor_px": 2 * b}


def pitting(img, rng, size, c, geom, count=None):
    """Cluster of small dark round pits; ``size`` = diameter of the largest pit, ``count`` pits."""
    n = int(count) if count is not None else int(rng.integers(1, 5))
    if n < 1:
        raise SynthError("pitting needs count >= 1")
    diam = [size] + [size * float(rng.uniform(0.7, 1.0)) for _ in range(n - 1)]
    spread = size * (1.0 + 0.9 * n)
    centres: list[np.ndarray] = [np.asarray(c, float)]
    for d in diam[1:]:
        for _ in range(200):
            p = np.asarray(c, float) + rng.uniform(-spread, spread, 2)
            if all(np.linalg.norm(p - q) > (d + size) / 2 + 3 for q in centres):
                centres.append(p)
                break
        else:
            raise SynthError(f"no room for {n} separate pits of {size:.0f} px")
    roi = _Roi(img.shape[:2], np.array(centres), spread + size)
    mask = np.zeros(roi.shape, bool)
    for p, d in zip(centres, diam, strict=True):
        a = d / 2
        mask |= _depression(img, roi, p, a, a * float(rng.uniform(0.8, 1.0)), float(rng.uniform(0, math.pi)),
                            float(rng.uniform(0.45, 0.65)), float(rng.uniform(0.25, 0.4)))
    return roi.paste(mask), {"count": n}


def _blob(rng, roi: _Roi, c, radius, harmonics, rough):
    """Irregular star-shaped blob: normalised radial distance (1 at the boundary) over the window."""
    xx, yy = roi.grid()
    dx, dy = xx - c[0], yy - c[1]
    th = np.arctan2(dy, dx)
    rr = np.ones_like(th)
    for k in range(2, harmonics + 1):
        rr += float(rng.normal(0, 0.22 / k)) * np.cos(k * th + float(rng.uniform(0, 2 * math.pi)))
    field = np.hypot(dx, dy) / (radius * np.clip(rr, 0.45, 1.6))
    if rough:
        noise = rng.standard_normal(roi.shape).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
        field = field + rough * noise / max(float(noise.std()), 1e-6)
    return field.astype(np.float32)


def _sized_blob(rng, img, c, size, harmonics, rough):
    """A blob whose mask's longest extent comes out close to ``size`` px (two passes)."""
    radius = size / 2.0
    state = rng.bit_generator.state
    for _ in range(2):
        rng.bit_generator.state = state
        roi = _Roi(img.shape[:2], np.array([c]), radius * 1.8 + 4)
        field = _blob(rng, roi, c, radius, harmonics, rough)
        ext = _extent(field <= 1.0)
        if ext <= 0:
            break
        radius *= size / ext
    return roi, field


def _extent(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0.0
    hull = cv2.convexHull(np.stack([xs, ys], 1).astype(np.float32)).reshape(-1, 2).astype(np.float64)
    return float(np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1)).max()) + 1.0


def stain(img, rng, size, c, geom, angle=None):
    """Soft irregular discoloured patch (oil or water mark); ``size`` = longest extent of the mask."""
    roi, field = _sized_blob(rng, img, c, size, 7, 0.03)
    alpha = np.clip((1.15 - field) / 0.3, 0, 1) ** 1.5
    ring = bool(rng.random() < 0.5)
    if ring:  # a dried water mark is darker at its rim
        alpha = alpha * (0.55 + 0.6 * np.exp(-(((field - 0.9) / 0.12) ** 2)))
    tint = np.array([0.84, 0.81, 0.72], np.float32) * float(rng.uniform(0.95, 1.04))
    patch = img[roi.sl]
    patch *= 1 - alpha[..., None] * (1 - tint)
    return roi.paste(field <= 1.0), {"ring": ring}


def corrosion(img, rng, size, c, geom, angle=None):
    """Rough orange-brown mottled patch with dark pits; ``size`` = longest extent of the mask."""
    roi, field = _sized_blob(rng, img, c, size, 12, 0.08)
    alpha = np.clip((1.0 - field) / 0.12 + 0.5, 0, 1)
    h, w = roi.shape
    mott = (cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 3.0) * 6
            + cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 0.8) * 1.5)
    base = np.array([168, 98, 52], np.float32) * float(rng.uniform(0.8, 1.05))
    colour = base * np.clip(1 + 0.18 * mott, 0.4, 1.6)[..., None]
    speck = (cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.0) > 0.55) & (field < 0.9)
    colour[speck] *= 0.45
    patch = img[roi.sl]
    a = (alpha * 0.88)[..., None]
    patch[:] = patch * (1 - a) + colour * a
    return roi.paste(alpha >= 0.5), {}


def inclusion(img, rng, size, c, geom, angle=None):
    """Small dark elongated foreign speck; ``size`` = length."""
    ang = math.radians(angle) if angle is not None else float(rng.uniform(0, math.pi))
    width = float(rng.uniform(1.6, 3.2))
    th = np.linspace(0, 2 * math.pi, 24, endpoint=False)
    jit = rng.uniform(0.8, 1.15, th.size)
    loc = np.stack([np.cos(th) * size / 2 * jit, np.sin(th) * width / 2 * jit], 1)
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    poly = loc @ rot.T + c
    roi = _Roi(img.shape[:2], poly, 3)
    cover = roi.cover(lambda cv: cv2.fillPoly(cv, [roi.pts(poly)], 255, cv2.LINE_8))
    level = _local_level(img, roi)
    dark = level * float(rng.uniform(0.3, 0.45)) * np.array([1.0, 0.95, 0.88], np.float32)
    patch = img[roi.sl]
    patch[:] = patch * (1 - cover[..., None]) + dark * cover[..., None]
    return roi.paste(cover >= 0.5), {"width_nominal_px": width}


def _edge_frame(geom: PartGeometry, i: int):
    e = geom.edge_xy[i].astype(float)
    n = geom.edge_normal[i].astype(float)
    n /= max(np.linalg.norm(n), 1e-6)
    return e, n, np.array([-n[1], n[0]])


def burr(img, rng, size, i, geom: PartGeometry, angle=None):
    """Small bright ragged protrusion beyond an edge; ``size`` = its length along the edge."""
    e, n, t = _edge_frame(geom, i)
    k = 9
    s = np.linspace(-0.5, 0.5, k)
    height = min(max(size * float(rng.uniform(0.3, 0.55)), 2.5), 9.0)
    prof = np.sin(np.pi * (s + 0.5)) ** 0.35 * rng.uniform(0.6, 1.1, k)
    prof[0] = prof[-1] = 0.15
    outer = e + np.outer(s * size, t) + np.outer(prof * height + 1.0, n)
    inner = e + np.outer(s[::-1] * size, t) - 2.0 * n
    poly = np.vstack([outer, inner])
    roi = _Roi(img.shape[:2], poly, 3)
    cover = roi.cover(lambda cv: cv2.fillPoly(cv, [roi.pts(poly)], 255, cv2.LINE_8))
    level = _local_level(img, roi, geom.material)
    shine = np.clip(1.18 + 0.12 * rng.standard_normal(roi.shape).astype(np.float32), 0.9, 1.5)
    val = np.minimum(level * shine[..., None], 250)
    out = ~geom.material[roi.sl]
    a = (cover * out)[..., None]
    patch = img[roi.sl]
    patch[:] = patch * (1 - a) + val * a
    return roi.paste((cover >= 0.5) & out), {"edge_point": e.round(1).tolist()}


def chip(img, rng, size, i, geom: PartGeometry, angle=None):
    """Material broken out of an edge, showing background and a rough facet; ``size`` = length."""
    e, n, t = _edge_frame(geom, i)
    depth = size * float(rng.uniform(0.3, 0.55))
    th = np.linspace(0, math.pi, 13)
    jit = rng.uniform(0.75, 1.15, th.size)
    inner = e + np.outer(np.cos(th) * size / 2, t) - np.outer(np.sin(th) * depth * jit, n)
    poly = np.vstack([inner, e - t * size / 2 + 4 * n, e + t * size / 2 + 4 * n])
    roi = _Roi(img.shape[:2], poly, 4)
    cover = roi.cover(lambda cv: cv2.fillPoly(cv, [roi.pts(poly)], 255, cv2.LINE_8))
    mat = geom.material[roi.sl]
    gone = (cover >= 0.5) & mat
    patch = img[roi.sl]
    if geom.background_layer is not None:
        fill = geom.background_layer[roi.sl]
    else:
        fill = np.broadcast_to(_local_level(img, roi, ~geom.material), patch.shape)
    remaining = (mat & ~gone).astype(np.uint8)
    d = cv2.distanceTransform(1 - remaining, cv2.DIST_L2, 3)
    facet = gone & (d <= 2.5)
    level = _local_level(img, roi, geom.material)
    rough = cv2.GaussianBlur(rng.standard_normal(roi.shape).astype(np.float32), (0, 0), 0.8)
    facet_val = level * np.clip(0.62 + 0.25 * rough, 0.3, 1.1)[..., None]
    a = (cover * mat)[..., None]
    patch[:] = patch * (1 - a) + fill * a
    patch[facet] = facet_val[facet]
    return roi.paste(gone), {"depth_px": depth, "edge_point": e.round(1).tolist()}


def missing_feature(img, rng, size, hole, geom: PartGeometry, angle=None):
    """A hole that should be there is absent: bore and chamfer replaced by plain face."""
    cx, cy, r = hole
    rr = r + geom.chamfer_px + 1.5
    roi = _Roi(img.shape[:2], np.array([[cx, cy]]), rr + 3)
    q = roi.pts([[cx, cy]])[0]
    cover = roi.cover(lambda cv: cv2.circle(cv, (int(q[0]), int(q[1])), int(round(rr * _SS)), 255, -1))
    patch = img[roi.sl]
    if geom.surface_layer is not None:
        fill = geom.surface_layer[roi.sl]
    else:
        fill = _borrow_surface(img, geom, roi, (cx, cy), rr)
    a = cover[..., None]
    patch[:] = patch * (1 - a) + fill * a
    return roi.paste(cover >= 0.5), {"hole_center": [round(cx, 1), round(cy, 1)], "hole_diameter_px": 2 * r}


def _borrow_surface(img, geom, roi: _Roi, c, rr):
    """Copy a same-sized patch of plain surface from nearby (when no clean layer is known)."""
    h, w = roi.shape
    for dist in (2.5, 3.5, 4.5, 6.0):
        for k in range(16):
            dx = int(round(math.cos(k * math.pi / 8) * dist * rr))
            dy = int(round(math.sin(k * math.pi / 8) * dist * rr))
            y0, x0 = roi.y0 + dy, roi.x0 + dx
            if y0 < 0 or x0 < 0 or y0 + h > img.shape[0] or x0 + w > img.shape[1]:
                continue
            if geom.surface[y0 : y0 + h, x0 : x0 + w].all():
                return img[y0 : y0 + h, x0 : x0 + w].copy()
    raise SynthError("no plain surface near the hole to fill it with")


SURFACE = {"scratch": scratch, "crack": crack, "pitting": pitting, "dent": dent, "stain": stain,
           "inclusion": inclusion, "corrosion": corrosion}
EDGE = {"burr": burr, "chip": chip}
DEFAULT_SIZE = {"scratch": (12, 90), "crack": (15, 70), "pitting": (4, 12), "dent": (12, 48),
                "stain": (20, 70), "inclusion": (4, 14), "corrosion": (20, 70), "burr": (5, 16),
                "chip": (8, 28), "missing_feature": (0, 0)}

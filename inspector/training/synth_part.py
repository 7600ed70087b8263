"""Synthetic machined-aluminium parts: surface texture, lighting, geometry (holes, chamfers).

Used by :mod:`inspector.training.synth`; see that module for the public API. Everything here
is a pure function of a ``numpy.random.Generator`` so the same seed gives the same pixels.
Coordinates are image pixels, x to the right, y down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from inspector.errors import InspectorError

# Direction *towards* the light in the image plane (top-left), unit length.
LIGHT = np.array([-0.6, -0.8], dtype=np.float32)
KINDS = ("bracket", "flange", "plate")
_SS = 4  # supersampling factor for anti-aliased masks


class SynthError(InspectorError, ValueError):
    """A synthetic image or defect cannot be made as asked (bad type, size, or no room)."""


@dataclass
class PartGeometry:
    """Where the material, flat face, edges and holes of a rendered part are.

    ``material``: (H, W) bool, True on the part. ``surface``: flat face at least a chamfer
    width away from every edge (where surface defects go). ``edge_xy`` / ``edge_normal``:
    (N, 2) float32 pixel positions just inside the material boundary and the outward unit
    normals there. ``holes``: (cx, cy, r) in px of round holes. ``surface_layer`` /
    ``background_layer``: float32 (H, W, 3) images of the bare lit face and of what shows
    where material is missing; None when the geometry was estimated from a real image.
    """

    material: np.ndarray
    surface: np.ndarray
    edge_xy: np.ndarray
    edge_normal: np.ndarray
    holes: list[tuple[float, float, float]] = field(default_factory=list)
    chamfer_px: float = 0.0
    surface_layer: np.ndarray | None = None
    background_layer: np.ndarray | None = None


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-blurred white noise normalised to unit standard deviation.

    Wide blurs are made at a reduced resolution and scaled up (same look, a fraction of the cost).
    """
    h, w = shape
    f = int(sigma // 3) if sigma >= 6 else 1
    small = (-(-h // f) + 2, -(-w // f) + 2) if f > 1 else shape
    n = rng.standard_normal(small).astype(np.float32)
    if sigma > 0:
        n = cv2.GaussianBlur(n, (0, 0), sigma / f, borderType=cv2.BORDER_REFLECT)
    if f > 1:
        n = cv2.resize(n, (small[1] * f, small[0] * f), interpolation=cv2.INTER_CUBIC)[f : f + h, f : f + w]
    return n / max(float(n.std()), 1e-6)


def _brushed(rng: np.random.Generator, shape: tuple[int, int], length: int) -> np.ndarray:
    """Directional (horizontal) streaks: noise averaged along x, unit std."""
    n = rng.standard_normal(shape).astype(np.float32)
    n = cv2.blur(n, (length, 1), borderType=cv2.BORDER_REFLECT)
    n = cv2.GaussianBlur(n, (0, 0), 0.6, borderType=cv2.BORDER_REFLECT)
    return n / max(float(n.std()), 1e-6)


def _aa_mask(shape: tuple[int, int], draw) -> np.ndarray:
    """Anti-aliased coverage in [0, 1]: ``draw(canvas, scale)`` paints 255 on a supersampled canvas."""
    h, w = shape
    canvas = np.zeros((h * _SS, w * _SS), np.uint8)
    draw(canvas, _SS)
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _rounded_rect(canvas, s, x0, y0, x1, y1, r, value) -> None:
    p = [int(round(v * s)) for v in (x0, y0, x1, y1, r)]
    x0, y0, x1, y1, r = p
    cv2.rectangle(canvas, (x0 + r, y0), (x1 - r, y1), value, -1)
    cv2.rectangle(canvas, (x0, y0 + r), (x1, y1 - r), value, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(canvas, (cx, cy), r, value, -1)


def _layout(kind: str, w: int, h: int) -> tuple:
    """Canonical outline drawer and holes ``[(cx, cy, r)]`` for a part kind, scaled to (w, h)."""
    sx, sy = w / 512.0, h / 512.0
    if kind == "bracket":
        holes = [(84 * sx, 104 * sy, 14 * sx), (84 * sx, 412 * sy, 14 * sx), (430 * sx, 412 * sy, 14 * sx)]

        def outline(c, s):
            _rounded_rect(c, s, 36 * sx, 52 * sy, 476 * sx, 460 * sy, 18 * sx, 255)
            _rounded_rect(c, s, 372 * sx, 20 * sy, 520 * sx, 140 * sy, 16 * sx, 0)  # corner notch
            cv2.rectangle(c, (int(372 * sx * s), 0), (int(520 * sx * s), int(124 * sy * s)), 0, -1)
            # slot (obround), y=88, x 170..290
            cv2.rectangle(c, (int(170 * sx * s), int(79 * sy * s)), (int(290 * sx * s), int(97 * sy * s)), 0, -1)
            for cx in (170, 290):
                cv2.circle(c, (int(cx * sx * s), int(88 * sy * s)), int(9 * sx * s), 0, -1)

        return outline, holes, "milled"
    if kind == "flange":
        r_out, r_bore, r_bc = 236 * min(sx, sy), 60 * min(sx, sy), 168 * min(sx, sy)
        holes = [
            (w / 2 + r_bc * math.cos(a), h / 2 + r_bc * math.sin(a), 15 * min(sx, sy))
            for a in np.arange(6) * (math.pi / 3) + math.pi / 6
        ]

        def outline(c, s):
            cv2.circle(c, (int(w / 2 * s), int(h / 2 * s)), int(r_out * s), 255, -1)
            cv2.circle(c, (int(w / 2 * s), int(h / 2 * s)), int(r_bore * s), 0, -1)

        return outline, holes, "turned"
    if kind == "plate":
        return (lambda c, s: c.fill(255)), [], "milled"
    raise SynthError(f"unknown part kind {kind!r}; use one of {', '.join(KINDS)}")


def _machining_marks(rng, shape, style: str) -> np.ndarray:
    """Face-milling arcs or turning rings, unit amplitude, with a slightly wandering phase."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    feed = float(rng.uniform(7.0, 11.0)) * w / 512.0
    wobble = _smooth_noise(rng, shape, 12.0) * 0.35
    if style == "turned":
        r = np.hypot(xx - w / 2.0, yy - h / 2.0)
        phase = r / feed
    else:
        radius = float(rng.uniform(600, 900)) * w / 512.0
        y0 = h / 2.0 + float(rng.uniform(-60, 60))
        dy = np.clip(np.abs(yy - y0), 0, radius - 1)
        phase = (xx - (radius - np.sqrt(radius**2 - dy**2))) / feed
    t = (phase + wobble) % 1.0
    # asymmetric tooth profile: a sharp ridge then a slow fall, like a real cutter mark
    return (np.exp(-t * 6.0) - 0.17) * 1.6 + 0.25 * np.sin(2 * np.pi * (phase + wobble) * 2)


def _hole_interior(shape, holes, base: float) -> np.ndarray:
    """Dark bores with the inner wall that faces the light lit as a crescent."""
    h, w = shape
    out = np.full(shape, base, np.float32)
    for cx, cy, r in holes:
        x0, y0 = max(0, int(cx - 1.3 * r)), max(0, int(cy - 1.3 * r))
        x1, y1 = min(w, int(cx + 1.3 * r) + 2), min(h, int(cy + 1.3 * r) + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xx - cx, yy - cy
        d = np.hypot(dx, dy) + 1e-3
        facing = np.clip(-(dx * LIGHT[0] + dy * LIGHT[1]) / d, 0, 1)
        rim = np.clip((d / r - 0.6) / 0.4, 0, 1)
        out[y0:y1, x0:x1] += 55.0 * facing * rim * (d < r * 1.2)
    return out


def make_part_with_geometry(
    rng: np.random.Generator, size: tuple[int, int] = (512, 512), kind: str = "bracket"
) -> tuple[np.ndarray, PartGeometry]:
    """Render one synthetic part; see :func:`inspector.training.synth.make_part`.

    Returns the RGB uint8 image and its :class:`PartGeometry`. Raises :class:`SynthError`
    for an unknown ``kind`` or a size under 64 px.
    """
    w, h = int(size[0]), int(size[1])
    if w < 64 or h < 64:
        raise SynthError(f"part size must be at least 64x64 px, got {w}x{h}")
    outline, holes0, style = _layout(kind, w, h)
    shape = (h, w)

    # per-part pose: small rotation and shift, applied to the canonical geometry
    angle = float(rng.uniform(-2.0, 2.0)) if kind != "plate" else 0.0
    shift = rng.uniform(-4.0, 4.0, 2) if kind != "plate" else np.zeros(2)
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    m[:, 2] += shift

    def draw(c, s):
        outline(c, s)
        for cx, cy, r in holes0:
            cv2.circle(c, (int(round(cx * s)), int(round(cy * s))), int(round(r * s)), 0, -1)

    cover0 = _aa_mask(shape, draw)
    cover = cv2.warpAffine(cover0, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if kind == "plate":
        cover = np.ones(shape, np.float32)
    holes = [(float(m[0, 0] * x + m[0, 1] * y + m[0, 2]), float(m[1, 0] * x + m[1, 1] * y + m[1, 2]), r)
             for x, y, r in holes0]
    material = cover >= 0.5

    # surface texture (in the part's frame, so rotate with it): level + marks + streaks + grain
    level = float(rng.uniform(150, 172))
    tex = (
        level
        + 3.2 * _machining_marks(rng, shape, style)
        + 3.0 * _brushed(rng, shape, int(rng.integers(25, 60)))
        + 2.5 * _smooth_noise(rng, shape, 35.0)
        + 1.2 * _smooth_noise(rng, shape, 0.7)
    ).astype(np.float32)
    tex = cv2.warpAffine(tex, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    # chamfers: a band along every edge shaded by its facing to the light
    chamfer = 5.0 * w / 512.0
    dist = cv2.distanceTransform(material.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ds = cv2.GaussianBlur(dist, (0, 0), 1.2)
    gy, gx = np.gradient(ds)
    gn = np.hypot(gx, gy) + 1e-6
    facing = (-(gx * LIGHT[0] + gy * LIGHT[1]) / gn).astype(np.float32)  # outward normal . light
    band = np.clip((chamfer + 0.5 - dist), 0, 1) * (dist > 0)
    face = tex * (1.0 + band * (0.10 + 0.28 * facing)).astype(np.float32)

    # what shows where there is no material: a dark anodised fixture, and dark bores
    bg_level = float(rng.uniform(34, 44))
    fixture = bg_level + 3.0 * _smooth_noise(rng, shape, 20.0) + 1.0 * _smooth_noise(rng, shape, 0.8)
    bores = _hole_interior(shape, holes, bg_level * 0.55)
    in_bore = np.zeros(shape, np.float32)
    for cx, cy, r in holes:
        cv2.circle(in_bore, (int(round(cx * 16)), int(round(cy * 16))), int(round(r * 1.15 * 16)), 1.0, -1,
                   lineType=cv2.LINE_AA, shift=4)
    background = fixture * (1 - in_bore) + bores * in_bore

    # camera: soft lighting gradient with a hotspot, exposure, tint, sensor noise
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gxy = rng.uniform(-0.08, 0.08, 2)
    hx, hy = rng.uniform(0.25, 0.75, 2)
    light = (1.0 + gxy[0] * (xx / w - 0.5) + gxy[1] * (yy / h - 0.5)
             + 0.10 * np.exp(-(((xx / w - hx) ** 2 + (yy / h - hy) ** 2) / 0.18)))
    exposure = float(rng.uniform(0.94, 1.06))
    tint = np.array([0.985, 1.0, 1.025], np.float32) * rng.uniform(0.995, 1.005, 3).astype(np.float32)
    gain = (light * exposure)[..., None] * tint
    noise = (1.3 * rng.standard_normal(shape).astype(np.float32))[..., None] + 0.3 * rng.standard_normal(
        (h, w, 3)).astype(np.float32)

    face_rgb = face[..., None] * gain + noise
    bg_rgb = background[..., None] * gain + noise
    img = cover[..., None] * face_rgb + (1 - cover[..., None]) * bg_rgb
    surface_layer = tex[..., None] * gain + noise

    surface = dist > chamfer + 2.0
    bnd = (dist > 0) & (dist <= 1.5)
    bnd[:2, :] = bnd[-2:, :] = False
    bnd[:, :2] = bnd[:, -2:] = False
    ys, xs = np.nonzero(bnd)
    normals = np.stack([-gx[ys, xs] / gn[ys, xs], -gy[ys, xs] / gn[ys, xs]], 1).astype(np.float32)
    geom = PartGeometry(
        material=material,
        surface=surface,
        edge_xy=np.stack([xs, ys], 1).astype(np.float32),
        edge_normal=normals,
        holes=holes,
        chamfer_px=chamfer,
        surface_layer=surface_layer.astype(np.float32),
        background_layer=bg_rgb.astype(np.float32),
    )
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), geom


def estimate_geometry(image: np.ndarray) -> PartGeometry:
    """Guess material, edges and round holes of an image that came without geometry.

    A clearly darker Otsu class (mean under half the bright one) is taken as background or
    bores; otherwise the whole image is treated as flat surface with no edges (a texture).
    """
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    thr, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright, dark = gray[binary > 0], gray[binary == 0]
    if dark.size < 0.01 * gray.size or bright.size == 0 or dark.mean() > 0.5 * bright.mean():
        material = np.ones((h, w), bool)
        surface = np.zeros((h, w), bool)
        surface[3:-3, 3:-3] = True
        empty = np.zeros((0, 2), np.float32)
        return PartGeometry(material, surface, empty, empty)
    material = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    holes = []
    n, lab, stats, cents = cv2.connectedComponentsWithStats((~material).astype(np.uint8), connectivity=8)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if x == 0 or y == 0 or x + bw >= w or y + bh >= h or area < 20:
            continue
        r = math.sqrt(area / math.pi)
        if 0.8 < bw / bh < 1.25 and area > 0.7 * math.pi * (max(bw, bh) / 2) ** 2:
            holes.append((float(cents[i][0]), float(cents[i][1]), r))
    dist = cv2.distanceTransform(material.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ds = cv2.GaussianBlur(dist, (0, 0), 1.2)
    gy, gx = np.gradient(ds)
    gn = np.hypot(gx, gy) + 1e-6
    bnd = (dist > 0) & (dist <= 1.5)
    bnd[:2, :] = bnd[-2:, :] = False
    bnd[:, :2] = bnd[:, -2:] = False
    ys, xs = np.nonzero(bnd)
    normals = np.stack([-gx[ys, xs] / gn[ys, xs], -gy[ys, xs] / gn[ys, xs]], 1).astype(np.float32)
    return PartGeometry(material, dist > 7.0, np.stack([xs, ys], 1).astype(np.float32), normals, holes, 5.0)

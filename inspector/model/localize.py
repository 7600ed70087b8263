"""From an image of any size to a patch-feature grid and an anomaly map at stride 8.

Working resolution: the image is resized by ``scale`` (<= 1, chosen per part at teach time,
see :func:`auto_scale`) so that defects of a few pixels still cover a patch. The resized image
is padded (reflect) to a multiple of 16 px and, when larger than ``TILE`` on a side, cut into
overlapping tiles that are batched through the backbone; each output cell is taken from the
tile in which it lies furthest from a tile border (``MARGIN`` px of context at least), so
the stitched grid has no seams beyond float noise. Tile positions depend only on the image
size, so teaching and analysis see exactly the same computation.

All of it runs on the backbone's device (torch); numpy arrays cross at the ends only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inspector.model.backbone import STRIDE
from inspector.model.base import ModelError

if TYPE_CHECKING:
    import torch

    from inspector.model.backbone import Backbone

TILE = 512  # largest tile side in working pixels (multiple of 16)
MARGIN = 32  # context kept around each tile's valid area, working pixels
MIN_SIDE = 32  # smallest accepted image side, pixels
MAX_PIXELS = 80_000_000  # largest accepted image, pixels (a 80 MP frame)
MAP_SIGMA = 0.75  # Gaussian smoothing of the cell map, in cells


class InvalidImageError(ModelError):
    """The image cannot be analysed (wrong type, shape, size); the message says how to fix it."""


def as_rgb(image: object, what: str = "image") -> np.ndarray:
    """Validate and convert an image to (H, W, 3) uint8 RGB.

    Accepts uint8 RGB, grayscale (H, W) or (H, W, 1) (replicated to 3 channels), RGBA
    (alpha dropped) and uint16 (scaled by 1/257). Raises :class:`InvalidImageError` for
    anything else: not an array, float/bool data, other channel counts, a side below
    ``MIN_SIDE`` px, more than ``MAX_PIXELS`` pixels.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"{what} must be a numpy array (H, W, 3) uint8 RGB, got {type(image).__name__}")
    a = image
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise InvalidImageError(
            f"{what} has shape {image.shape}; expected (H, W, 3) RGB, (H, W, 4) RGBA or (H, W) grayscale"
        )
    if a.dtype == np.uint16:
        a = (a.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise InvalidImageError(
            f"{what} has dtype {a.dtype}; expected uint8 (0..255). Convert floats in 0..1 with "
            "(img * 255).round().astype(np.uint8)"
        )
    h, w = a.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InvalidImageError(f"{what} is {w}x{h} px; the smallest side must be at least {MIN_SIDE} px")
    if h * w > MAX_PIXELS:
        raise InvalidImageError(
            f"{what} is {w}x{h} px ({h * w / 1e6:.0f} MP); at most {MAX_PIXELS / 1e6:.0f} MP is accepted: "
            "crop it to the part or bin the camera"
        )
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 4:
        a = a[:, :, :3]
    return np.ascontiguousarray(a)


def auto_scale(width: int, height: int) -> float:
    """Default working scale for an image size: 1 (native) up to a 448 px short side, then 1/2, 1/4.

    Halving keeps defects of ~4 px visible (2 px at working resolution, still inside one
    3x3-pooled patch) while cutting the work by 4; very large frames go to 1/4.
    """
    short = min(width, height)
    if short < 448:
        return 1.0
    if short < 1792:
        return 0.5
    return 0.25


@dataclass(frozen=True)
class Geometry:
    """How an image of ``size`` (W, H) px is laid out at working resolution."""

    size: tuple[int, int]  # image (W, H), px
    scale: float  # working px per image px
    work: tuple[int, int]  # working image (w, h), px
    padded: tuple[int, int]  # padded working image (w, h), multiples of 16
    tiles: tuple[tuple[int, int, int, int], ...]  # (x, y, w, h) in padded working px
    cells: tuple[int, int]  # valid cell grid (gw, gh) covering the working image

    @property
    def grid(self) -> tuple[int, int]:
        """Full cell grid (gw, gh) of the padded working image."""
        return self.padded[0] // STRIDE, self.padded[1] // STRIDE


def _ceil16(v: int) -> int:
    return int(math.ceil(v / 16.0) * 16)


def _positions(length: int, tile: int) -> list[int]:
    if length <= tile:
        return [0]
    n = math.ceil((length - 2 * MARGIN) / (tile - 2 * MARGIN))
    n = max(n, 2)
    return [int(round(i * (length - tile) / (n - 1) / 16.0) * 16) for i in range(n)]


def plan(width: int, height: int, scale: float, tile: int = TILE) -> Geometry:
    """The working geometry of a ``width`` x ``height`` image at ``scale`` (0 < scale <= 1)."""
    if not 0 < scale <= 1:
        raise ModelError(f"working scale must be in (0, 1], got {scale}")
    ww, wh = max(16, int(round(width * scale))), max(16, int(round(height * scale)))
    pw, ph = _ceil16(ww), _ceil16(wh)
    tw, th = min(tile, pw), min(tile, ph)
    tiles = tuple((x, y, tw, th) for y in _positions(ph, th) for x in _positions(pw, tw))
    cells = (math.ceil(ww / STRIDE), math.ceil(wh / STRIDE))
    return Geometry((width, height), scale, (ww, wh), (pw, ph), tiles, cells)


def _cuts(positions: list[int], tile: int, length: int) -> list[tuple[int, int]]:
    """Valid [start, end) ranges in working px for tiles at ``positions`` (midpoints of overlaps)."""
    out = []
    for i, p in enumerate(positions):
        lo = 0 if i == 0 else (positions[i - 1] + tile + p) // 2 // STRIDE * STRIDE
        hi = length if i == len(positions) - 1 else (p + tile + positions[i + 1]) // 2 // STRIDE * STRIDE
        out.append((lo, hi))
    return out


LARGE_PIXELS = 16_000_000  # above this an image is shrunk to working size in strips (bounded memory)
STRIP_PIXELS = 4_000_000  # image pixels per strip of that shrink (a 48 MB float strip)


def to_working(images: Sequence[np.ndarray], geom: Geometry, device, pinned: bool = False) -> torch.Tensor:
    """Same-size uint8 RGB images -> float (B, 3, ph, pw) in 0..255 at working scale, reflect-padded.

    An image above ``LARGE_PIXELS`` that is shrunk is shrunk strip by strip (``area_shrink``): its
    float copy at full size (12 bytes a pixel, 768 MB for 8000 x 8000) never exists.
    """
    import torch

    w, h = geom.size
    if w * h > LARGE_PIXELS and geom.work != geom.size:
        return resize_pad(torch.stack([area_shrink(im, geom.work, device) for im in images]), geom)
    arr = np.stack(images) if len(images) > 1 else images[0][None]
    t = torch.from_numpy(arr)
    if pinned and t.device.type == "cpu" and torch.device(device).type == "cuda":
        t = t.pin_memory()
    t = t.to(device, non_blocking=True).permute(0, 3, 1, 2).float()
    return resize_pad(t, geom)


def area_shrink(image: np.ndarray, size: tuple[int, int], device) -> torch.Tensor:
    """uint8 (H, W, 3) -> float (3, h, w) shrunk to ``size`` = (w, h) by area averaging, in row strips.

    The same windows as ``F.interpolate(mode="area")`` (adaptive average pooling: output cell i
    averages input rows floor(i*H/h) .. ceil((i+1)*H/h)), taken separably: widths per strip by the
    pooling, heights from a cumulative sum. Equal to the one-shot shrink up to float rounding
    (< 1e-3 grey levels); at most ``STRIP_PIXELS`` image pixels are in float at a time.
    """
    import torch
    import torch.nn.functional as F

    H, W = image.shape[:2]
    ww, wh = size
    out = torch.empty((3, wh, ww), dtype=torch.float32, device=device)
    rows = max(1, (STRIP_PIXELS // W) * wh // H)  # output rows per strip
    for r0 in range(0, wh, rows):
        r1 = min(wh, r0 + rows)
        a, b = (r0 * H) // wh, -(-(r1 * H) // wh)
        strip = torch.from_numpy(np.ascontiguousarray(image[a:b])).to(device).permute(2, 0, 1).float()
        strip = F.adaptive_avg_pool2d(strip[None], (b - a, ww))[0]  # widths only
        cs = torch.cat([strip.new_zeros((3, 1, ww)), strip.double().cumsum(dim=1)], dim=1)
        i = torch.arange(r0, r1, device=device)
        lo, hi = (i * H) // wh - a, -(-((i + 1) * H) // wh) - a
        out[:, r0:r1] = ((cs[:, hi] - cs[:, lo]) / (hi - lo).double()[None, :, None]).float()
    return out


def resize_pad(t: torch.Tensor, geom: Geometry) -> torch.Tensor:
    """float (B,3,H,W) at image size -> (B,3,ph,pw) at working size (area resize, reflect pad)."""
    import torch.nn.functional as F

    ww, wh = geom.work
    if (t.shape[-1], t.shape[-2]) != (ww, wh):
        t = F.interpolate(t, size=(wh, ww), mode="area")
    pw, ph = geom.padded
    if (pw, ph) != (ww, wh):
        mode = "reflect" if pw - ww < ww and ph - wh < wh else "replicate"
        t = F.pad(t, (0, pw - ww, 0, ph - wh), mode=mode)
    return t


def features(backbone: Backbone, x: torch.Tensor, geom: Geometry, batch: int = 16) -> torch.Tensor:
    """Working images (B,3,ph,pw) float 0..255 -> stitched patch features (B, D, gh, gw).

    Tiles of all images are batched ``batch`` at a time through the backbone.
    """
    import torch

    x = backbone.normalize(x)
    B = x.shape[0]
    gw, gh = geom.grid
    tw, th = geom.tiles[0][2], geom.tiles[0][3]
    if len(geom.tiles) == 1:
        chunks = [backbone.patch_features(x[i : i + batch]) for i in range(0, B, batch)]
        return torch.cat(chunks) if len(chunks) > 1 else chunks[0]
    crops = torch.stack([x[:, :, ty : ty + th, tx : tx + tw] for (tx, ty, _, _) in geom.tiles], dim=1)
    crops = crops.reshape(B * len(geom.tiles), 3, th, tw)
    feats = torch.cat([backbone.patch_features(crops[i : i + batch]) for i in range(0, len(crops), batch)])
    feats = feats.reshape(B, len(geom.tiles), feats.shape[1], th // STRIDE, tw // STRIDE)
    out = torch.empty((B, feats.shape[2], gh, gw), dtype=feats.dtype, device=feats.device)
    xs = sorted({t[0] for t in geom.tiles})
    ys = sorted({t[1] for t in geom.tiles})
    cx = dict(zip(xs, _cuts(xs, tw, geom.padded[0]), strict=True))
    cy = dict(zip(ys, _cuts(ys, th, geom.padded[1]), strict=True))
    for k, (tx, ty, _, _) in enumerate(geom.tiles):
        (x0, x1), (y0, y1) = cx[tx], cy[ty]
        s = STRIDE
        out[:, :, y0 // s : y1 // s, x0 // s : x1 // s] = feats[
            :, k, :, (y0 - ty) // s : (y1 - ty) // s, (x0 - tx) // s : (x1 - tx) // s
        ]
    return out


_KERNELS: dict = {}


def gaussian_kernel(sigma: float, device, dtype) -> torch.Tensor:
    """(1,1,k,k) normalised Gaussian, k = 2*ceil(2 sigma)+1 (cached per device: CUDA graphs
    must not copy from the host while capturing)."""
    import torch

    key = (float(sigma), str(device), dtype)
    k = _KERNELS.get(key)
    if k is None:
        r = max(1, int(math.ceil(2 * sigma)))
        ax = torch.arange(-r, r + 1, dtype=torch.float32)
        g = torch.exp(-(ax**2) / (2 * sigma * sigma))
        g = g / g.sum()
        k = _KERNELS[key] = (g[:, None] * g[None, :]).to(device=device, dtype=dtype)[None, None]
    return k


def smooth(cell_map: torch.Tensor, sigma: float = MAP_SIGMA) -> torch.Tensor:
    """Gaussian-smooth (B, gh, gw) cell maps (replicate border)."""
    import torch.nn.functional as F

    if sigma <= 0:
        return cell_map
    k = gaussian_kernel(sigma, cell_map.device, cell_map.dtype)
    r = k.shape[-1] // 2
    x = F.pad(cell_map[:, None], (r, r, r, r), mode="replicate")
    return F.conv2d(x, k)[:, 0]


def valid_cells(cell_map: torch.Tensor, geom: Geometry) -> torch.Tensor:
    """Crop (B, gh, gw) maps to the cells covering the working image (drops padding cells)."""
    gw, gh = geom.cells
    return cell_map[:, :gh, :gw]


def working_map(cell_map: torch.Tensor, geom: Geometry) -> torch.Tensor:
    """(B, gh, gw) full-grid cell maps -> (B, h, w) maps at working resolution (bilinear)."""
    import torch.nn.functional as F

    up = F.interpolate(cell_map[:, None].float(), scale_factor=STRIDE, mode="bilinear", align_corners=False)
    ww, wh = geom.work
    return up[:, 0, :wh, :ww]


def to_image_size(work_map: np.ndarray, geom: Geometry) -> np.ndarray:
    """A (h, w) working-resolution map -> (H, W) image-resolution float32 map (bilinear)."""
    import cv2

    W, H = geom.size
    if work_map.shape == (H, W):
        return work_map.astype(np.float32, copy=False)
    return cv2.resize(work_map.astype(np.float32, copy=False), (W, H), interpolation=cv2.INTER_LINEAR)

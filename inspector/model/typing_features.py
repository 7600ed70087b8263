"""Region descriptors for defect typing: what a region looks like, as one fixed-length vector.

A descriptor has three parts, concatenated:

1. **Context appearance**: a square crop around the region box (1.6x its longest side plus
   a margin, at least ``MIN_CONTEXT_PX``), resized to ``CROP_PX``, run through the frozen
   EfficientNet-Lite0 backbone; blocks 4 (stride 8), 10 (stride 16) and 15 (stride 32) are
   pooled: mean and standard deviation over the crop (texture) and the mean over the region
   box itself (the defect, not its surroundings).
2. **Shape**: elongation, fill ratio, size, orientation coherence: what tells a scratch
   (long, thin, one direction) from a pit (small, round) from a stain (large, soft).
3. **Photometry**: signed and absolute contrast against a ring around the box, texture
   ratio, darkness, colour shift (rust is orange, a stain is darker).

Regions are :class:`inspector.domain.Region` (from the anomaly map, or made here from a mask
or a box with :func:`regions_from_mask` / :func:`region_from_box`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from inspector.domain import Region

if TYPE_CHECKING:
    import torch

CROP_PX = 128
MIN_CONTEXT_PX = 48
CONTEXT_SCALE = 1.6
CONTEXT_MARGIN_PX = 16
TYPE_BLOCKS = (4, 10, 15)
N_SHAPE = 12
MIN_COMPONENT_PX = 4  # mask components smaller than this are noise, not a taught region


def descriptor_dim(channels: Sequence[int] = (40, 112, 320)) -> int:
    """Length of a descriptor for backbone blocks with these channel counts."""
    c4, c10, c15 = channels
    return 3 * c4 + 3 * c10 + 2 * c15 + N_SHAPE


# -- regions from labels ----------------------------------------------------------------


def regions_from_mask(mask: np.ndarray, min_px: int = MIN_COMPONENT_PX) -> list[Region]:
    """One Region per connected component (8-connected) of a nonzero ``mask`` (H, W).

    Components under ``min_px`` pixels are dropped. Length/width come from the minimum-area
    rectangle, the contour from the outer boundary, as the localisation code does.
    """
    import cv2

    m = (np.asarray(mask) > 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    out: list[Region] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_px:
            continue
        comp = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
        contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        pts = max(contours, key=len).reshape(-1, 2) + np.array([x, y])
        (_, _), (rw, rh), _ = cv2.minAreaRect(pts.astype(np.float32)) if len(pts) >= 3 else ((0, 0), (w, h), 0)
        length, width = max(rw, rh, 1.0), max(min(rw, rh), 1.0)
        out.append(
            Region(
                box=(x, y, w, h),
                area_px=float(area),
                length_px=float(length),
                width_px=float(width),
                score=1.0,
                contour=tuple((int(px), int(py)) for px, py in pts),
            )
        )
    return out


def region_from_box(box: Sequence[int], image_shape: Sequence[int] | None = None) -> Region:
    """A Region for an (x, y, w, h) box, clipped to ``image_shape`` (H, W, ...) when given."""
    x, y, w, h = (int(round(v)) for v in box)
    if image_shape is not None:
        H, W = int(image_shape[0]), int(image_shape[1])
        x0, y0 = min(max(x, 0), W - 1), min(max(y, 0), H - 1)
        x1, y1 = min(max(x + w, x0 + 1), W), min(max(y + h, y0 + 1), H)
        x, y, w, h = x0, y0, x1 - x0, y1 - y0
    w, h = max(w, 1), max(h, 1)
    return Region(
        box=(x, y, w, h), area_px=float(w * h), length_px=float(max(w, h)), width_px=float(min(w, h)), score=1.0
    )


# -- crops --------------------------------------------------------------------------------


def context_crop(image: np.ndarray, region: Region, size: int = CROP_PX) -> tuple[np.ndarray, np.ndarray]:
    """Square context crop around the region -> ((size, size, 3) uint8, inner box (4,) in 0..1).

    The crop is centred on the box; where it leaves the image the border is reflected.
    The inner box is the region box in crop coordinates, as fractions of ``size``.
    """
    import cv2

    H, W = image.shape[:2]
    x, y, w, h = region.box
    side = max(CONTEXT_SCALE * max(w, h) + CONTEXT_MARGIN_PX, MIN_CONTEXT_PX)
    side = int(round(min(side, 2 * max(H, W))))
    cx, cy = x + w / 2.0, y + h / 2.0
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = x0 + side, y0 + side
    pad = max(0, -x0, -y0, x1 - W, y1 - H)
    src = image
    if pad:
        mode = cv2.BORDER_REFLECT_101 if pad < min(H, W) else cv2.BORDER_REPLICATE
        src = cv2.copyMakeBorder(image, pad, pad, pad, pad, mode)
    crop = src[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    crop = cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=interp)
    inner = np.array([(x - x0) / side, (y - y0) / side, (x + w - x0) / side, (y + h - y0) / side], np.float32)
    return crop, np.clip(inner, 0.0, 1.0)


# -- shape and photometry -----------------------------------------------------------------


def _region_mask(region: Region, x0: int, y0: int, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    m = np.zeros(shape, np.uint8)
    if len(region.contour) >= 3:
        pts = np.asarray(region.contour, np.int32) - np.array([x0, y0], np.int32)
        cv2.fillPoly(m, [pts], 1)
    if not m.any():
        x, y, w, h = region.box
        m[max(y - y0, 0) : y - y0 + h, max(x - x0, 0) : x - x0 + w] = 1
    return m.astype(bool)


def shape_stats(image: np.ndarray, region: Region) -> np.ndarray:
    """(N_SHAPE,) float32 shape and photometric statistics of one region (roughly unit scale)."""
    import cv2

    H, W = image.shape[:2]
    x, y, w, h = region.box
    ring = max(4, int(0.5 * max(w, h)))
    x0, y0 = max(x - ring, 0), max(y - ring, 0)
    x1, y1 = min(x + w + ring, W), min(y + h + ring, H)
    patch = image[y0:y1, x0:x1]
    lab = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB).astype(np.float32)
    L = lab[..., 0]
    inside = _region_mask(region, x0, y0, L.shape)
    box = np.zeros_like(inside)
    box[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = True
    outside = ~box
    if outside.sum() < 8:  # the region fills the image: compare with the whole patch
        outside = ~inside if (~inside).sum() >= 8 else np.ones_like(inside)
    li, lo = L[inside], L[outside]
    so = float(lo.std()) + 4.0
    contrast = (float(li.mean()) - float(lo.mean())) / so
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float((gx * gx)[inside].sum()), float((gy * gy)[inside].sum()), float((gx * gy)[inside].sum())
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy + 1e-6)
    grad_in = float(np.sqrt(gx[inside] ** 2 + gy[inside] ** 2).mean()) / (8 * so)
    chroma_shift = lab[..., 1:][inside].mean(0) - lab[..., 1:][outside].mean(0)
    area = max(region.area_px, 1.0)
    length, width = max(region.length_px, 1.0), max(region.width_px, 1.0)
    return np.array(
        [
            np.log(length / width),
            area / float(max(w * h, 1)),
            np.log(np.sqrt(area)) / 4.0,
            np.log(length) / 4.0,
            np.tanh(contrast / 2.0),
            np.tanh(abs(contrast) / 2.0),
            np.log((float(li.std()) + 4.0) / so),
            float(coherence),
            np.tanh(grad_in),
            float((li < lo.mean() - 2 * so).mean()),
            np.tanh(chroma_shift[0] / 8.0),
            np.tanh(chroma_shift[1] / 8.0),
        ],
        np.float32,
    )


# -- backbone pooling ---------------------------------------------------------------------


def block_maps(backbone, x: torch.Tensor, blocks: Sequence[int] = TYPE_BLOCKS) -> list[torch.Tensor]:
    """Outputs of the backbone's EfficientNet blocks ``blocks`` for normalised input ``x``.

    Runs the stem and blocks up to the deepest one asked for (deeper than the localisation
    features: typing needs more context than finding).
    """
    net = backbone._net
    last = max(blocks)
    h = net._swish(net._bn0(net._conv_stem(x)))
    out = []
    for i, block in enumerate(net._blocks[: last + 1]):
        h = block(h, drop_connect_rate=None)
        if i in blocks:
            out.append(h)
    return out


def _inner_mean(fmap: torch.Tensor, inner: torch.Tensor) -> torch.Tensor:
    """Mean of each map over its inner box (fractions), at least one cell."""
    import torch

    B, C, h, w = fmap.shape
    ys = (torch.arange(h, device=fmap.device).float() + 0.5) / h
    xs = (torch.arange(w, device=fmap.device).float() + 0.5) / w
    in_y = (ys[None, :] >= inner[:, 1:2]) & (ys[None, :] <= inner[:, 3:4])
    in_x = (xs[None, :] >= inner[:, 0:1]) & (xs[None, :] <= inner[:, 2:3])
    cy = ((inner[:, 1] + inner[:, 3]) / 2 * h).long().clamp(0, h - 1)
    cx = ((inner[:, 0] + inner[:, 2]) / 2 * w).long().clamp(0, w - 1)
    m = (in_y[:, :, None] & in_x[:, None, :]).float()
    m[torch.arange(B), cy, cx] = 1.0
    m = m / m.sum(dim=(1, 2), keepdim=True)
    return torch.einsum("bchw,bhw->bc", fmap, m)


def pooled_features(backbone, crops: np.ndarray, inner: np.ndarray, batch: int = 32) -> np.ndarray:
    """(N, S, S, 3) uint8 crops + (N, 4) inner boxes -> (N, D_app) float32 appearance features."""
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch):
            x = backbone.to_tensor(crops[i : i + batch])
            ib = torch.from_numpy(inner[i : i + batch]).to(x.device)
            f4, f10, f15 = block_maps(backbone, x)
            parts = []
            for f in (f4, f10):
                parts += [f.mean(dim=(2, 3)), f.flatten(2).std(dim=2), _inner_mean(f, ib)]
            parts += [f15.mean(dim=(2, 3)), f15.flatten(2).amax(dim=2)]
            out.append(torch.cat(parts, dim=1).float().cpu().numpy())
    if not out:
        return np.zeros((0, descriptor_dim() - N_SHAPE), np.float32)
    return np.concatenate(out).astype(np.float32)


def describe_regions(backbone, image: np.ndarray, regions: Sequence[Region]) -> np.ndarray:
    """Descriptors (N, descriptor_dim()) float32 for ``regions`` of one RGB uint8 image."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
    if not regions:
        return np.zeros((0, descriptor_dim()), np.float32)
    crops, inner = zip(*(context_crop(image, r) for r in regions), strict=True)
    app = pooled_features(backbone, np.stack(crops), np.stack(inner))
    shp = np.stack([shape_stats(image, r) for r in regions])
    return np.concatenate([app, shp], axis=1).astype(np.float32)

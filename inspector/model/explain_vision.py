"""The visual prefix of the explainer: pooled backbone features per flagged region -> LM tokens.

Each described region (up to :data:`MAX_POINTS`) is summarised by the frozen backbone's
patch features inside its box (mean and max) and their difference to a ring around it, plus
its normalised position and size; a trained two-layer projector maps that vector to
:data:`TOKENS_PER_REGION` vectors in SmolLM2's 576-d embedding space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inspector.domain import Region
from inspector.model.backbone import FEATURE_DIM

if TYPE_CHECKING:
    import torch

TOKENS_PER_REGION = 2
FEAT_IN = 3 * FEATURE_DIM + 4  # mean, max, mean - ring mean, and (cx, cy, w, h) / image size
LONG_SIDE = 512  # images are resized so the longer side is this many px before the backbone


def _resize_for_backbone(image: np.ndarray) -> tuple[np.ndarray, float]:
    import cv2

    h, w = image.shape[:2]
    s = LONG_SIDE / max(h, w)
    nw, nh = max(16, int(round(w * s / 16)) * 16), max(16, int(round(h * s / 16)) * 16)
    return cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA), s


def region_features(backbone, image: np.ndarray, regions: list[Region]) -> np.ndarray:
    """(len(regions), FEAT_IN) float32 feature vectors of ``regions`` (image px boxes) in ``image``."""
    import torch

    out = np.zeros((len(regions), FEAT_IN), np.float32)
    if not regions:
        return out
    small, s = _resize_for_backbone(np.ascontiguousarray(image[..., :3]))
    feats = backbone(small)[0].float()  # (C, h, w), stride 8
    c, fh, fw = feats.shape
    H, W = image.shape[:2]
    for k, r in enumerate(regions):
        x, y, bw, bh = r.box
        x0 = int(np.clip(np.floor(x * s / 8), 0, fw - 1))
        y0 = int(np.clip(np.floor(y * s / 8), 0, fh - 1))
        x1 = int(np.clip(np.ceil((x + bw) * s / 8), x0 + 1, fw))
        y1 = int(np.clip(np.ceil((y + bh) * s / 8), y0 + 1, fh))
        inner = feats[:, y0:y1, x0:x1].reshape(c, -1)
        m = max(1, max(x1 - x0, y1 - y0) // 2)
        X0, Y0, X1, Y1 = max(0, x0 - m), max(0, y0 - m), min(fw, x1 + m), min(fh, y1 + m)
        ring_mask = torch.ones(Y1 - Y0, X1 - X0, dtype=torch.bool, device=feats.device)
        ring_mask[y0 - Y0 : y1 - Y0, x0 - X0 : x1 - X0] = False
        ring = feats[:, Y0:Y1, X0:X1][:, ring_mask]
        mean_in = inner.mean(1)
        ring_mean = ring.mean(1) if ring.shape[1] else mean_in
        vec = torch.cat([mean_in, inner.amax(1), mean_in - ring_mean]).cpu().numpy()
        geo = np.array([(x + bw / 2) / W, (y + bh / 2) / H, bw / W, bh / H], np.float32)
        out[k] = np.concatenate([vec, geo])
    return out


def make_projector(d_model: int = 576, hidden: int = 576, n_tokens: int = TOKENS_PER_REGION,
                   embed_std: float = 0.135):
    """The trained projector: (B, R, FEAT_IN) -> (B, R * n_tokens, d_model).

    Its output norm is scaled like the LM's token embeddings (per-dimension std ``embed_std``).
    """
    from torch import nn

    class Projector(nn.Module):
        def __init__(self):
            super().__init__()
            self.n_tokens, self.d_model = n_tokens, d_model
            self.norm_in = nn.LayerNorm(FEAT_IN)
            self.fc1 = nn.Linear(FEAT_IN, hidden)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(hidden, d_model * n_tokens)
            self.norm_out = nn.LayerNorm(d_model)
            nn.init.constant_(self.norm_out.weight, embed_std)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, r, _ = x.shape
            h = self.fc2(self.act(self.fc1(self.norm_in(x))))
            return self.norm_out(h.view(b, r * self.n_tokens, self.d_model))

    return Projector()


def appearance(image: np.ndarray, region: Region) -> str | None:
    """'dark' or 'bright' when the region clearly differs from a ring around it, else None.

    Compares the 10th/90th grey-level percentiles inside the region (its outline when known,
    else its box) with the median of a surrounding ring; a difference must exceed the ring's
    own spread. Used for training targets and to check appearance words.
    """
    import cv2

    img = np.asarray(image)
    grey = img.mean(axis=2) if img.ndim == 3 else img.astype(np.float32)
    h, w = grey.shape
    x, y, bw, bh = region.box
    pad = int(max(4, 0.5 * max(bw, bh)))
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)
    if x1 <= x0 or y1 <= y0:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    if len(region.contour) >= 3:
        pts = np.array(region.contour, np.int32) - np.array([x0, y0], np.int32)
        cv2.fillPoly(inside, [pts], 1)
    if not inside.any():
        inside[max(0, y - y0) : y - y0 + bh, max(0, x - x0) : x - x0 + bw] = 1
    box = np.zeros_like(inside)
    box[max(0, y - y0) : y - y0 + bh, max(0, x - x0) : x - x0 + bw] = 1
    crop = grey[y0:y1, x0:x1]
    ring = crop[box == 0]
    vals = crop[inside > 0]
    if ring.size < 8 or vals.size == 0:
        return None
    med = float(np.median(ring))
    spread = float(np.percentile(ring, 90) - np.percentile(ring, 10))
    dark = med - float(np.percentile(vals, 10))
    bright = float(np.percentile(vals, 90)) - med
    need = 0.5 * spread + 8.0
    if dark > need and dark > 1.5 * bright:
        return "dark"
    if bright > need and bright > 1.5 * dark:
        return "bright"
    return None

"""Memory-mode teaching: bank, k-fold calibration, the pixel channel choice and the miss-rate estimate.

Every good image is scored against a bank built without it (k folds), which gives the held-out
scores the threshold is calibrated on (:mod:`calibrate`). In the same folds, limit-size probe
defects (:mod:`probes`) are painted on the held-out images and scored, which estimates how many
defects of the sizes the work order limits the threshold lets through. When the good parts are
fixtured, the aligned pixel channel (:mod:`pixel_channel`) is scored in the same folds too and
kept only when the probes say it lowers the estimated miss rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.model import calibrate as C
from inspector.model import localize as L
from inspector.model import pixel_channel as PC
from inspector.model import probes as P
from inspector.model import template as T
from inspector.model.base import ModelError
from inspector.model.memory import MemoryBank

if TYPE_CHECKING:
    import torch

    from inspector.model.backbone import Backbone

IGNORE_DILATE_CELLS = 2  # cells around an ignored (known-defect) area also left out
FOLDS = 5
OPERATING_TARGETS = (0.002, 0.005, 0.01, 0.02, 0.05)  # false-reject targets offered to the QE
CHANNEL_GAIN = 0.02  # the pixel channel must cut the estimated miss rate by this much to be kept

Step = Callable[[str], None]


def feats(backbone: Backbone, images: Sequence[np.ndarray], geom: L.Geometry, batch: int = 8) -> torch.Tensor:
    """Patch features (B, D, gh, gw) float32 on the CPU of same-size images at ``geom``."""
    import torch

    with torch.inference_mode():
        out = [
            L.features(backbone, L.to_working(list(images[i : i + batch]), geom, backbone.device), geom).float().cpu()
            for i in range(0, len(images), batch)
        ]
    return torch.cat(out)


def cells_of(mask: np.ndarray | None, geom: L.Geometry, dilate: int = IGNORE_DILATE_CELLS) -> np.ndarray:
    """(gh, gw) bool of full-grid cells touched by ``mask`` (image px), dilated by ``dilate`` cells."""
    import cv2

    gw, gh = geom.grid
    out = np.zeros((gh, gw), bool)
    if mask is None:
        return out
    m = np.asarray(mask)
    if m.shape[:2] != (geom.size[1], geom.size[0]):
        raise ModelError(f"ignore mask is {m.shape[:2]}, its image is {geom.size[1]}x{geom.size[0]} (H x W)")
    if not m.any():
        return out
    ww, wh = geom.work
    small = cv2.resize((m > 0).astype(np.uint8), (ww, wh), interpolation=cv2.INTER_AREA) > 0
    pad = np.zeros((gh * 8, gw * 8), bool)
    pad[:wh, :ww] = small
    cells = pad.reshape(gh, 8, gw, 8).any(axis=(1, 3)).astype(np.uint8)
    k = np.ones((2 * dilate + 1,) * 2, np.uint8)
    return cv2.dilate(cells, k) > 0


@dataclass
class MemoryTeach:
    """What memory-mode teaching produced (before saving)."""

    bank: np.ndarray
    calibration: C.Calibration
    background: float  # median normalised good-cell score
    scale: float
    n_patches: int
    pixels: T.PixelStats | None = None  # aligned good-part statistics (fixtured parts only)
    probes: dict[str, Any] = field(default_factory=dict)  # miss-rate estimate (see estimate_misses)
    pixel_ratio: float | None = None  # pixel channel in use: z-score x ratio = feature-scale score


def estimate_misses(held: np.ndarray, probe_raw: np.ndarray, specs: Sequence[P.ProbeSpec],
                    cal: C.Calibration) -> dict[str, Any]:
    """Estimated miss rates of limit-size probes at the calibrated threshold and at other targets.

    ``probe_raw`` is (n_images, n_specs) raw probe scores. 'miss' = below the REVIEW band
    (the part would pass as OK); 'not rejected' = below the threshold (OK or REVIEW).
    """
    def at(c: C.Calibration) -> dict[str, float]:
        return {"target_false_reject": c.target_false_reject, "threshold": c.threshold,
                "estimated_miss": float(np.mean(probe_raw < c.review_low)),
                "estimated_not_rejected": float(np.mean(probe_raw < c.threshold))}

    points = []
    for t in OPERATING_TARGETS:
        try:
            points.append(at(C.calibrate(held, t)))
        except ModelError:
            continue
    per = [{"probe": s.what, "shape": s.shape, "size_px": round(s.size_px, 2),
            "estimated_miss": float(np.mean(probe_raw[:, j] < cal.review_low)),
            "estimated_not_rejected": float(np.mean(probe_raw[:, j] < cal.threshold))}
           for j, s in enumerate(specs)]
    return {**at(cal), "n_probes": int(probe_raw.size), "per_probe": per, "operating_points": points,
            "contrast": P.CONTRAST}


class _Folds:
    """Held-out scores of the good images and of probes painted on them, per channel."""

    def __init__(self, n: int, n_specs: int):
        self.feat = np.zeros(n)
        self.pix = np.zeros(n)
        self.probe_feat = np.zeros((n, n_specs))
        self.probe_pix = np.zeros((n, n_specs))

    def choose(self, target: float) -> tuple[np.ndarray, np.ndarray, float | None]:
        """(held scores, probe scores, pixel ratio or None): the pixel channel only when it helps."""
        feat_only = (self.feat, self.probe_feat, None)
        med_p = float(np.median(self.pix))
        if med_p <= 0 or not self.probe_feat.size:
            return feat_only
        ratio = float(np.median(self.feat)) / med_p
        held = np.maximum(self.feat, ratio * self.pix)
        probe = np.maximum(self.probe_feat, ratio * self.probe_pix)

        def miss(h: np.ndarray, p: np.ndarray) -> float:
            return float(np.mean(p < C.calibrate(h, target).review_low))

        return (held, probe, ratio) if miss(held, probe) + CHANNEL_GAIN <= miss(self.feat, self.probe_feat) else feat_only


def teach_memory(
    backbone: Backbone,
    images: Sequence[np.ndarray],
    *,
    scale: float,
    target_false_reject: float,
    ignore_masks: Sequence[np.ndarray | None] | None = None,
    sigma: float = L.MAP_SIGMA,
    step: Step = lambda msg: None,
    seed: int = 0,
    pixel_stats: bool = True,
    probe_specs: Sequence[P.ProbeSpec] = (),
) -> MemoryTeach:
    """Bank + calibration from good ``images`` (RGB uint8, any sizes) at working ``scale``.

    ``pixel_stats``: when the images align (fixtured parts) keep aligned pixel statistics, to
    outline regions and, when the probes say it helps, as a second anomaly channel; False
    skips it. ``probe_specs``: limit-size probe defects painted on each held-out image to
    estimate the miss rate (:func:`estimate_misses`); without them the pixel channel is off.
    """
    import torch

    n = len(images)
    masks = list(ignore_masks) if ignore_masks is not None else [None] * n
    if len(masks) != n:
        raise ModelError(f"{len(masks)} ignore masks for {n} good images")
    goods = PC.align_goods(images) if pixel_stats else None
    masked = any(m is not None for m in masks)  # known blemishes: the pixel channel would see them
    step("alignment")
    maps, keeps, patches, owners, geoms = [], [], [], [], []
    for i, img in enumerate(images):
        geom = L.plan(img.shape[1], img.shape[0], scale)
        f = feats(backbone, [img], geom)[0]  # (D, gh, gw)
        keep = ~cells_of(masks[i], geom)
        gw, gh = geom.cells
        keep[gh:, :] = False
        keep[:, gw:] = False
        maps.append(f)
        keeps.append(torch.from_numpy(keep))
        patches.append(f.permute(1, 2, 0)[keeps[-1]])
        owners.append(torch.full((patches[-1].shape[0],), i))
        geoms.append(geom)
        step(f"features {i + 1}/{n}")
    allp = torch.cat(patches)
    owner = torch.cat(owners)
    if allp.shape[0] < 64:
        raise ModelError("too little defect-free area in the good images (ignore masks cover almost all)")
    sc = _Folds(n, len(probe_specs))
    cell_scores = []
    rng = np.random.default_rng(seed + 7919)
    for k, ho in enumerate(C.folds(n, FOLDS, seed)):
        train = ~torch.isin(owner, torch.from_numpy(ho))
        bank = MemoryBank.build(allp[train], device=str(backbone.device), seed=seed + k)
        stats = PC.stats_of(goods, np.setdiff1d(np.arange(n), ho)) if goods is not None and not masked else None
        for i in ho:
            with torch.inference_mode():
                d = L.smooth(bank.score_maps(maps[i][None]), sigma)[0].cpu()
            sc.feat[i] = float(d[keeps[i]].max())
            cell_scores.append(d[keeps[i]].numpy())
            if stats is not None:
                sc.pix[i] = PC.score(PC.z_aligned(goods.stack[i], goods.valid[i], stats))
            if probe_specs:
                _probes(sc, i, backbone, bank, images[i] if stats is None else goods.stack[i], geoms[i],
                        probe_specs, rng, sigma, stats, goods.valid[i] if stats is not None else None)
        step(f"held-out fold {k + 1}")
    use_pix = goods is not None and not masked
    held, probe_raw, ratio = sc.choose(target_false_reject) if use_pix else (sc.feat, sc.probe_feat, None)
    cal = C.calibrate(held, target_false_reject)
    probes = estimate_misses(held, probe_raw, probe_specs, cal) if probe_specs else {}
    if probes:
        probes["pixel_channel"] = ratio is not None
    bank = MemoryBank.build(allp, device=str(backbone.device), seed=seed)
    step("bank")
    bg = float(np.median(np.concatenate(cell_scores))) / cal.threshold
    pixels = PC.stats_of(goods, np.arange(n)) if goods is not None else None
    step("pixel statistics")
    return MemoryTeach(bank.features().cpu().numpy(), cal, bg, scale, int(allp.shape[0]), pixels, probes, ratio)


def _probes(sc: _Folds, i: int, backbone: Backbone, bank: MemoryBank, base: np.ndarray, geom: L.Geometry,
            specs: Sequence[P.ProbeSpec], rng: np.random.Generator, sigma: float,
            stats: T.PixelStats | None, valid: np.ndarray | None) -> None:
    """Paint each probe on held-out image ``i`` (``base``) and record its score in both channels."""
    import torch

    painted = [P.paint(base, s, rng) for s in specs]
    f = feats(backbone, [p for p, _ in painted], geom)
    with torch.inference_mode():
        d = L.smooth(bank.score_maps(f), sigma).cpu().numpy()
    for j, (img, mask) in enumerate(painted):
        cells = cells_of(mask, geom, dilate=1)
        sc.probe_feat[i, j] = float(d[j][cells].max()) if cells.any() else 0.0
        if stats is not None and valid is not None:
            sc.probe_pix[i, j] = PC.probe_score(PC.z_aligned(img, valid, stats), mask)

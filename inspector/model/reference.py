"""A taught part: building it from good images (teach) and scoring images against it.

Two modes, chosen at teach time:

* ``memory``: patch-feature bank of the good images (PatchCore-style, :mod:`memory`),
  calibrated by k-fold held-out scoring of the good images (:mod:`calibrate`).
* ``template``: a golden reference image; the image is aligned to it and differenced
  (:mod:`template`), calibrated on the good images (plus nuisance variants of them).

Scores are raw here; :class:`PartReference` normalises maps so 1.0 = threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.model import calibrate as C
from inspector.model import localize as L
from inspector.model import template as T
from inspector.model.base import ModelError
from inspector.model.memory import MemoryBank, load_reference
from inspector.model.memory_teach import MemoryTeach, Step, teach_memory
from inspector.model.memory_teach import feats as _feats

__all__ = ["MemoryTeach", "PartReference", "TemplateTeach", "teach_memory", "teach_template"]

if TYPE_CHECKING:
    import torch

    from inspector.model.backbone import Backbone

FOLDS = 5
MIN_TEMPLATE_VARIANTS = 12  # template mode: good images + jittered variants at least this many


@dataclass
class TemplateTeach:
    template: np.ndarray
    calibration: C.Calibration
    s_pix: float
    s_feat: float | None
    scale: float
    n_variants: int


def teach_template(
    backbone: Backbone,
    template: np.ndarray,
    images: Sequence[np.ndarray],
    *,
    scale: float,
    target_false_reject: float,
    step: Step = lambda msg: None,
    seed: int = 0,
) -> TemplateTeach:
    """Golden-template reference calibrated on ``images`` (+ jittered variants of them)."""
    rng = np.random.default_rng(seed)
    geom = L.plan(template.shape[1], template.shape[0], scale)
    use_feat = len(images) >= T.MIN_GOOD_FOR_FEATURES
    tf = _feats(backbone, [template], geom)[0] if use_feat else None
    pool = list(images) or [template]
    variants = list(images)
    i = 0
    while len(variants) < MIN_TEMPLATE_VARIANTS:
        variants.append(T.jittered(pool[i % len(pool)], rng))
        i += 1
    pmax, fmax = [], []
    size = (template.shape[1], template.shape[0])
    for j, img in enumerate(variants):
        al = T.align(img, template)
        aligned, valid = T.warp_to_template(img, al, size)
        _, pix, feat = T.combined_map(backbone, geom, aligned, valid, template, tf, 1.0, 1.0 if use_feat else None)
        pmax.append(float(pix.max()))
        fmax.append(float(feat.max()) if feat is not None else 0.0)
        step(f"good {j + 1}/{len(variants)}")
    s_pix = max(T.PIX_FLOOR, float(np.median(pmax)))
    s_feat = max(T.FEAT_FLOOR, float(np.median(fmax))) if use_feat else None
    scores = np.array(pmax) / s_pix
    if s_feat is not None:
        scores = np.maximum(scores, np.array(fmax) / s_feat)
    cal = C.calibrate(scores, target_false_reject, floor=1.5)
    return TemplateTeach(template, cal, s_pix, s_feat, scale, len(variants))


@dataclass
class PartReference:
    """A loaded, ready-to-score reference of one part number."""

    part_number: str
    folder: Path
    meta: dict[str, Any]
    calibration: C.Calibration
    bank: MemoryBank | None = None
    template: np.ndarray | None = None
    template_feats: Any = None
    prototypes: dict[str, np.ndarray] = field(default_factory=dict)
    pixels: T.PixelStats | None = None
    stamp: float = 0.0
    _graphs: dict = field(default_factory=dict, repr=False)

    @property
    def mode(self) -> str:
        return str(self.meta["mode"])

    @property
    def scale(self) -> float:
        return float(self.meta["scale"])

    @property
    def sigma(self) -> float:
        return float(self.meta.get("sigma", L.MAP_SIGMA))

    @property
    def threshold(self) -> float:
        return self.calibration.threshold

    def thresholds(self) -> dict[str, float]:
        """Normalised (1.0 = threshold) and raw thresholds, for the Analysis record."""
        c = self.calibration
        return {
            "threshold": 1.0,
            "review_low": round(c.review_low / c.threshold, 6),
            "pixel": round(c.pixel_level, 6),
            "raw_threshold": c.threshold,
            "raw_review_low": c.review_low,
            "target_false_reject": c.target_false_reject,
        }

    @classmethod
    def load(cls, part_number: str, folder: Path, device: str, backbone: Backbone) -> PartReference:
        """Read a saved reference and put its arrays on ``device``. Raises ModelError when stale/corrupt."""
        import torch

        tensors, meta = load_reference(folder)
        if tuple(meta.get("blocks", ())) != tuple(backbone.blocks):
            raise ModelError(
                f"part {part_number!r} was taught with backbone blocks {meta.get('blocks')}, this model uses "
                f"{list(backbone.blocks)}: teach the part again"
            )
        cal = C.Calibration.from_dict(meta["calibration"])
        ref = cls(part_number, Path(folder), meta, cal, stamp=(Path(folder) / "reference.json").stat().st_mtime)
        if meta["mode"] == "memory":
            ref.bank = MemoryBank(torch.from_numpy(tensors["bank"]), device=device)
            if "pix_median" in tensors:
                ref.pixels = T.PixelStats(tensors["pix_median"], tensors["pix_spread"])
        else:
            ref.template = tensors["template"]
            if meta.get("s_feat") is not None:
                geom = L.plan(ref.template.shape[1], ref.template.shape[0], ref.scale)
                ref.template_feats = _feats(backbone, [ref.template], geom)[0]
        ref.prototypes = {k[len("proto/") :]: v for k, v in tensors.items() if k.startswith("proto/")}
        return ref

    # -- scoring -----------------------------------------------------------------------

    def _score_fn(self, backbone: Backbone, geom: L.Geometry, half_maps: bool):
        """uint8 (B,H,W,3) on device -> (normalised working maps (B,h,w), image scores (B,))."""

        def fn(u8: torch.Tensor):
            x = L.resize_pad(u8.permute(0, 3, 1, 2).float(), geom)
            f = L.features(backbone, x, geom, batch=max(16, u8.shape[0]))
            d = L.smooth(self.bank.score_maps(f), self.sigma) / self.threshold
            wm = L.working_map(d, geom)
            return (wm.half() if half_maps else wm), L.valid_cells(d, geom).amax(dim=(1, 2))

        return fn

    def memory_maps(self, backbone: Backbone, images: Sequence[np.ndarray], geom: L.Geometry):
        """Same-size images -> (normalised working maps (B, h, w) float32, image scores (B,)) numpy.

        On CUDA the work is replayed from a CUDA graph captured per (batch, image size), the
        batch rounded up to a power of two (see :mod:`accel`), unless the backbone says it is not
        ``graph_safe`` (a plugin's model).
        """
        import torch

        from inspector.model import accel

        if backbone.device.type == "cuda" and accel.graphs_enabled() and getattr(backbone, "graph_safe", True):
            b = 1 << (len(images) - 1).bit_length()
            key = (b, geom.size, geom.scale)
            g = self._graphs.get(key)
            if g is None:
                fn = self._score_fn(backbone, geom, half_maps=True)
                g = self._graphs[key] = accel.GraphScorer(fn, b, geom.size[1], geom.size[0], backbone.device)
            return g(images)
        with torch.inference_mode():
            u8 = torch.from_numpy(np.stack(images)).to(backbone.device)
            wm, sc = self._score_fn(backbone, geom, half_maps=False)(u8)
            return wm.float().cpu().numpy(), sc.float().cpu().numpy()

    def template_map(self, backbone: Backbone, image: np.ndarray) -> tuple[np.ndarray, float, T.Alignment]:
        """(normalised map in the image frame (H, W), image score, alignment) in template mode."""
        tmpl = self.template
        size = (tmpl.shape[1], tmpl.shape[0])
        geom = L.plan(size[0], size[1], self.scale)
        al = T.align(image, tmpl)
        aligned, valid = T.warp_to_template(image, al, size)
        comb, _, _ = T.combined_map(
            backbone, geom, aligned, valid, tmpl, self.template_feats, self.meta["s_pix"], self.meta["s_feat"]
        )
        comb /= self.threshold
        score = float(comb.max())
        return T.map_to_image(comb, al, (image.shape[1], image.shape[0])), score, al

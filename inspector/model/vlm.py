"""``EmbeddedVLM``: the built-in model backend (teach, analyze, explain).

Vision: frozen EfficientNet-Lite0 patch features (:mod:`backbone`), a taught reference per
part number (:mod:`reference`: PatchCore-style memory or golden template), regions and sizes
(:mod:`measure`), region types from the work order's own words (:mod:`typing_head`), and a
checked explanation (:mod:`explain`). The verdict itself is computed by ``inspector.spec``.

References live in ``reference_dir/<part number>/`` so a station restarts without teaching
again. Nothing is downloaded; see docs/model.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.domain import Analysis, Explanation, Finding, ModelInfo, Region, Verdict, WorkOrder, utcnow
from inspector.model import localize as L
from inspector.model import measure as ME
from inspector.model import pixel_channel as PC
from inspector.model import template as T
from inspector.model.base import (
    LabelledExample,
    ModelError,
    NotTaughtError,
    Progress,
    TeachResult,
    resolve_device,
)
from inspector.model.calibrate import MIN_GOOD
from inspector.model.memory import part_dir, save_reference
from inspector.model.probes import specs_for
from inspector.model.reference import PartReference, teach_memory, teach_template
from inspector.model.teach_support import canonical_examples, weights_sha256

if TYPE_CHECKING:
    from inspector.model.backbone import Backbone

log = logging.getLogger(__name__)

MODEL_NAME = "inspector-vlm"
MODEL_VERSION = "0.2.0"
UNKNOWN = "unknown"


class EmbeddedVLM:
    """The built-in :class:`~inspector.model.base.ModelBackend`.

    ``reference_dir``: folder holding one sub-folder per taught part number.
    ``device``: 'auto' (CUDA when present, env INSPECTOR_DEVICE overrides), 'cpu', 'cuda[:n]'.
    Importing and constructing are cheap; weights load on first use or :meth:`load`.
    """

    def __init__(self, reference_dir: Path | str, device: str = "auto"):
        self.reference_dir = Path(reference_dir)
        self._requested = device
        self.device: str | None = None
        self._backbone: Backbone | None = None
        self._typer: Any = None
        self._typer_error: str | None = None
        self._explainer: Any = None
        self._refs: dict[str, PartReference] = {}
        self._geoms: dict[tuple[int, int, float], L.Geometry] = {}
        self._lock = threading.RLock()
        self._info: ModelInfo | None = None

    # -- loading -----------------------------------------------------------------------

    def load(self, device: str | None = None) -> None:
        """Load the backbone onto ``device`` (``None``: the constructor's); :class:`ModelError` when
        a CUDA device is asked for and none is present. The typing head loads on first use or warm_up."""
        with self._lock:
            dev = resolve_device(device or self._requested)
            if self._backbone is not None and dev == self.device:
                return
            from inspector.model.backbone import Backbone

            self.device = dev
            self._backbone = Backbone(dev)
            self._refs.clear()
            self._typer = None
            self._typer_error = None
            self._info = None

    @property
    def backbone(self) -> Backbone:
        if self._backbone is None:
            self.load()
        return self._backbone

    typing_backbone = backbone  # the typing head's EfficientNet, even where a subclass brings its own backbone

    def _type_head(self):
        """The typing head, or None (logged once) when its module or weights are missing."""
        if self._typer is not None or self._typer_error is not None:
            return self._typer
        import importlib.util

        if importlib.util.find_spec("inspector.model.typing_head") is None:
            self._typer_error = "inspector.model.typing_head is not installed"
        else:
            from inspector.model.typing_head import TypeHead

            try:
                self._typer = TypeHead(self.typing_backbone, self.device)
            except ModelError as e:
                self._typer_error = str(e)
        if self._typer_error:
            log.warning("regions are typed 'unknown' (REVIEW): %s", self._typer_error)
        return self._typer

    def warm_up(self) -> None:
        """Load the typing head and its text encoder now (a line calls this at its start), so the
        first flagged part is not the one that waits for them."""
        if (head := self._type_head()) is not None:
            head.text.encode(["scratch"])

    def info(self) -> ModelInfo:
        """Name, version, weights hash (sha256 of shipped weights + backbone) and device."""
        if self._info is None:
            dev = self.device or resolve_device(self._requested)
            self._info = ModelInfo(MODEL_NAME, MODEL_VERSION, weights_sha256(), dev)
        return self._info

    # -- references --------------------------------------------------------------------

    def reference_path(self, part_number: str) -> Path:
        """Folder where the reference of ``part_number`` is (or would be) stored."""
        return part_dir(self.reference_dir, part_number)

    def is_taught(self, part_number: str) -> bool:
        """True when a reference for ``part_number`` exists on disk."""
        try:
            return (self.reference_path(part_number) / "reference.json").is_file()
        except ModelError:
            return False

    def reference(self, part_number: str) -> PartReference:
        """The loaded reference (cached; reloaded when the files change). Raises NotTaughtError."""
        folder = self.reference_path(part_number)
        meta = folder / "reference.json"
        if not meta.is_file():
            raise NotTaughtError(f"part {part_number!r} is not taught: teach it with good images first")
        with self._lock:
            ref = self._refs.get(part_number)
            if ref is None or ref.stamp != meta.stat().st_mtime:
                ref = PartReference.load(part_number, folder, self.device or "cpu", self.backbone)
                self._refs[part_number] = ref
            return ref

    def _geometry(self, w: int, h: int, scale: float) -> L.Geometry:
        key = (w, h, scale)
        g = self._geoms.get(key)
        if g is None:
            g = self._geoms[key] = L.plan(w, h, scale)
        return g

    # -- teach -------------------------------------------------------------------------

    def teach(
        self,
        part_number: str,
        good_images: Sequence[np.ndarray],
        examples: Sequence[LabelledExample] = (),
        template: np.ndarray | None = None,
        *,
        target_false_reject: float = 0.01,
        progress: Progress | None = None,
        ignore_masks: Sequence[np.ndarray | None] | None = None,
        scale: float | None = None,
        pixel_stats: bool = True,
        seed: int = 0,
        work_order: WorkOrder | None = None,
    ) -> TeachResult:
        """Build, calibrate and persist the reference of ``part_number``.

        ``good_images``: RGB uint8 images of good parts (at least 5 without a template; 10-50 recommended).
        ``template``: a golden reference image -> template mode (aligned difference); the good images then
        only calibrate. ``examples``: labelled defects whose region descriptors are stored as typing
        prototypes. ``ignore_masks`` (memory mode): per good image, nonzero pixels to leave out. ``scale``:
        working resolution (0 < scale <= 1). ``pixel_stats``: keep aligned pixel statistics (when the images
        align) to outline regions. ``work_order``: labels must name its words (:func:`canonical_examples`);
        its size limits set the probes of the miss-rate estimate. Mixed image sizes (memory mode): the scale
        follows the smallest, all sizes are recorded, pixel statistics off (``notes`` says so).
        ``progress(done, total, message)`` may raise ``Cancelled``. Raises :class:`ModelError` (bad images,
        too few, bad target, unknown label); nothing is saved then.
        """
        t0 = time.perf_counter()
        goods = [L.as_rgb(im, f"good image {i + 1}") for i, im in enumerate(good_images)]
        tmpl = L.as_rgb(template, "template") if template is not None else None
        if tmpl is None and len(goods) < MIN_GOOD:
            raise ModelError(f"teaching needs at least {MIN_GOOD} good images (10-50 recommended), got {len(goods)}")
        examples = canonical_examples(examples, work_order)
        folder = self.reference_path(part_number)
        sizes = sorted({(int(g.shape[1]), int(g.shape[0])) for g in goods}, key=lambda s: (min(s), s))
        ref_img = tmpl if tmpl is not None else goods[0]
        notes: list[str] = []
        if tmpl is None and len(sizes) > 1:
            ref_img = next(g for g in goods if (g.shape[1], g.shape[0]) == sizes[0])
            pixel_stats = False
            notes.append(f"good images come in {len(sizes)} sizes ({', '.join(f'{w}x{h}' for w, h in sizes[:4])}"
                         f"{'...' if len(sizes) > 4 else ''}): taught at the smallest one's working scale, "
                         "pixel-by-pixel statistics off; a part of a size not taught goes to REVIEW")
        sc = float(scale) if scale is not None else L.auto_scale(ref_img.shape[1], ref_img.shape[0])
        n_steps, done = (len(goods) + 8 if tmpl is None else max(len(goods), 12)) + 2, [0]

        def step(msg: str) -> None:
            done[0] += 1
            if progress is not None:
                progress(min(done[0], n_steps), n_steps, msg)

        bb = self.backbone
        meta: dict[str, Any] = {
            "part_number": part_number,
            "model_version": MODEL_VERSION,
            "backbone_sha256": self.info().weights_hash,
            "blocks": list(bb.blocks),
            "sigma": L.MAP_SIGMA,
            "n_good": len(goods),
            "image_size": [int(ref_img.shape[1]), int(ref_img.shape[0])],
            "image_sizes": [list(z) for z in sizes] if tmpl is None else [[int(tmpl.shape[1]), int(tmpl.shape[0])]],
            "taught_at": utcnow().isoformat(),
            "seed": seed,
        }
        extra: dict[str, float] = {}
        if tmpl is None:
            res = teach_memory(
                bb, goods, scale=sc, target_false_reject=target_false_reject, ignore_masks=ignore_masks,
                step=step, seed=seed, pixel_stats=pixel_stats,
                probe_specs=specs_for(work_order, ref_img.shape[1], ref_img.shape[0]))
            miss = res.probes
            tensors = {"bank": res.bank.astype(np.float32)}
            if res.pixels is not None:
                tensors.update(pix_median=res.pixels.median, pix_spread=res.pixels.spread)
            meta.update(mode="memory", scale=sc, background=res.background, n_patches=res.n_patches,
                        pixel_stats=res.pixels is not None, pixel_ratio=res.pixel_ratio)
            extra.update(bank_size=float(len(res.bank)), n_patches=float(res.n_patches), background=res.background)
        else:
            res = teach_template(bb, tmpl, goods, scale=sc, target_false_reject=target_false_reject, step=step, seed=seed)
            tensors = {"template": tmpl}
            meta.update(mode="template", scale=sc, s_pix=res.s_pix, s_feat=res.s_feat, background=0.0)
            extra.update(s_pix=res.s_pix, s_feat=res.s_feat or 0.0, n_variants=float(res.n_variants))
            miss = {}
        cal = res.calibration
        meta.update(calibration=cal.to_dict(), miss_estimate=miss, notes=notes)
        if miss:
            extra.update(estimated_miss=miss["estimated_miss"], estimated_not_rejected=miss["estimated_not_rejected"])
        n_proto = 0
        if examples:
            head = self._type_head()
            if head is not None:
                for word, arr in head.prototypes_from(list(examples)).items():
                    tensors[f"proto/{word}"] = np.asarray(arr, np.float32)
                    n_proto += len(arr)
        meta["n_examples"] = len(examples)
        step("typing prototypes")
        save_reference(folder, tensors, meta)
        step("saved")
        with self._lock:
            self._refs.pop(part_number, None)
        extra.update(scale=sc, n_outliers=float(cal.n_outliers), prototypes=float(n_proto))
        return TeachResult(
            part_number=part_number,
            n_good=len(goods),
            threshold=cal.threshold,
            review_low=cal.review_low,
            target_false_reject=cal.target_false_reject,
            good_scores=cal.good_scores,
            n_examples=len(examples),
            template=tmpl is not None,
            path=str(folder),
            seconds=round(time.perf_counter() - t0, 3),
            extra=extra,
            miss_estimate=miss,
            notes=tuple(notes),
        )

    # -- analyze -----------------------------------------------------------------------

    def analyze(self, image: np.ndarray, work_order: WorkOrder) -> Analysis:
        """Anomaly map, regions, types and sizes of one image for ``work_order.part_number``. Raises
        :class:`NotTaughtError` (untaught part), :class:`localize.InvalidImageError` (unanalysable image)."""
        return self.analyze_batch([image], work_order)[0]

    def analyze_batch(self, images: Sequence[np.ndarray], work_order: WorkOrder, batch: int = 32) -> list[Analysis]:
        """:meth:`analyze` for several images of one work order, batched through the backbone."""
        t0 = time.perf_counter()
        ref = self.reference(work_order.part_number)
        imgs = [L.as_rgb(im, f"image {i + 1}" if len(images) > 1 else "image") for i, im in enumerate(images)]
        t_prep = (time.perf_counter() - t0) * 1000 / max(1, len(imgs))
        out: list[Analysis | None] = [None] * len(imgs)
        if ref.mode == "memory":
            groups: dict[tuple[int, int], list[int]] = {}
            for i, im in enumerate(imgs):
                groups.setdefault((im.shape[1], im.shape[0]), []).append(i)
            th = ref.thresholds()
            for (w, h), idx in groups.items():
                geom = self._geometry(w, h, ref.scale)
                for s in range(0, len(idx), batch):
                    chunk = idx[s : s + batch]
                    t1 = time.perf_counter()
                    maps, scores = ref.memory_maps(self.backbone, [imgs[i] for i in chunk], geom)
                    t_map = (time.perf_counter() - t1) * 1000 / len(chunk)
                    for k, i in enumerate(chunk):
                        t2 = time.perf_counter()
                        full, score, fine = PC.combine(imgs[i], maps[k], float(scores[k]), geom, ref.pixels,
                                                       ref.meta.get("pixel_ratio"), ref.threshold, th["pixel"])
                        out[i] = self._finish(imgs[i], maps[k], full, score, ref, work_order,
                                              {"preprocess": t_prep, "map": t_map}, t2, geom.scale, fine)
        else:
            for i, im in enumerate(imgs):
                t1 = time.perf_counter()
                full, score, al = ref.template_map(self.backbone, im)
                t2 = time.perf_counter()
                timings = {"preprocess": t_prep, "map": (t2 - t1) * 1000}
                out[i] = self._finish(im, full, full, score, ref, work_order, timings, t2, 1.0)
        total = (time.perf_counter() - t0) * 1000 / max(1, len(imgs))
        for a in out:
            a.timings_ms["total"] = round(total, 3)
        return out  # type: ignore[return-value]

    def _finish(self, image, amap, full, score, ref: PartReference, wo: WorkOrder, timings, t_start, scale,
                fine=None) -> Analysis:
        th = ref.thresholds()
        regions: list[Region] = []
        if full is not None and score >= th["review_low"]:
            W, H = image.shape[1], image.shape[0]
            t_fine = time.perf_counter()
            if fine is None and ref.pixels is not None:
                fine = T.pixel_z(image, ref.pixels)
            if fine is not None:
                timings["pixel_z"] = (time.perf_counter() - t_fine) * 1000
            regions = ME.extract_regions(
                full, th["pixel"], th["review_low"],
                background=float(ref.meta.get("background", 0.0)),
                merge_gap_px=max(2, round(4 / scale)),
                min_area_px=max(ME.MIN_AREA_PX, round(1 / scale) ** 2),
                zones=ME.zone_boxes(wo, W, H),
                fine=fine,
                window_pad_px=max(2, round(8 / scale)),
            )
        t_reg = time.perf_counter()
        findings = self._findings(image, regions, ref, wo, th)
        timings = {k: round(v, 3) for k, v in timings.items()}
        timings["regions"] = round((t_reg - t_start) * 1000, 3)
        timings["typing"] = round((time.perf_counter() - t_reg) * 1000, 3)
        return Analysis(
            anomaly_map=np.asarray(amap, np.float32),
            image_score=round(float(score), 6),
            findings=findings,
            thresholds=th,
            model=self.info(),
            timings_ms=timings,
        )

    def _findings(self, image, regions, ref: PartReference, wo: WorkOrder, th: dict[str, float]) -> list[Finding]:
        if not regions:
            return []
        vocab = wo.vocabulary
        types = [(UNKNOWN, 0.0, (), True)] * len(regions)
        head = self._type_head() if vocab else None
        if head is not None:
            th.update(head.thresholds)
            desc = head.describe(image, regions)
            res = head.classify(desc, vocab, ref.prototypes or None)
            types = [
                (r.defect_type, float(r.score), tuple((str(t), float(s)) for t, s in r.candidates), bool(r.uncertain))
                for r in res
            ]
        out = []
        for reg, (word, tscore, cands, tunc) in zip(regions, types, strict=True):
            out.append(
                Finding(
                    region=reg,
                    defect_type=word,
                    type_score=tscore,
                    type_candidates=cands,
                    uncertain=reg.score < 1.0,
                    type_uncertain=tunc,
                    **ME.sizes_mm(reg, wo.pixel_size_mm),
                )
            )
        return out

    # -- explain -----------------------------------------------------------------------

    def explain(self, image: np.ndarray, analysis: Analysis, verdict: Verdict, work_order: WorkOrder) -> Explanation:
        """1-3 checked sentences (delegated to :class:`inspector.model.explain.Explainer`)."""
        with self._lock:
            if self._explainer is None:
                from inspector.model.explain import Explainer

                self._explainer = Explainer(self.device or resolve_device(self._requested))
        return self._explainer.explain(L.as_rgb(image), analysis, verdict, work_order)

"""``HFBackend``: the embedded backend's teach / analyze / explain with a backbone and a VLM you bring.

It subclasses :class:`inspector.model.vlm.EmbeddedVLM` and changes only the parts that are
models: the patch-feature backbone (:class:`~inspector_hf.backbone.HFBackbone`) and the
explainer (:class:`~inspector_hf.explainer.HFExplainer` when a VLM folder is set). Memory bank,
calibration, miss-rate probes, template mode, localisation, measurement and the REVIEW band
are the embedded code unchanged. Region types come from the embedded typing head, which reads
its own EfficientNet features (``typing: none`` turns typing off: every region is 'unknown',
so REVIEW).

References live in ``<reference_dir>/hf-<12 hex of the weights hash>/<part>/``: a part taught
with one model folder (or layer choice) is never scored with another; teaching again with a
new model is needed and ``is_taught`` says so.
"""

from __future__ import annotations

import hashlib
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Analysis, Explanation, ModelInfo, Verdict, WorkOrder
from inspector.model.base import resolve_device, weights_dir
from inspector.model.memory import part_dir
from inspector.model.vlm import MODEL_VERSION, EmbeddedVLM
from inspector_hf.folders import HFOptions, ModelFolders, folder_sha256, resolve

log = logging.getLogger(__name__)

NAME = "hf"


def plugin_version() -> str:
    try:
        return version("inspector-hf")
    except PackageNotFoundError:
        return "0+source"


class HFBackend(EmbeddedVLM):
    """A :class:`~inspector.model.base.ModelBackend` on transformers model folders (nothing downloaded).

    ``settings``: the station's :class:`~inspector.settings.Settings`; its ``plugins.hf`` section
    configures the backend (:class:`~inspector_hf.folders.HFOptions`). ``model_dir`` and other
    keyword ``options`` override that section (``inspector eval --model-dir``). Construction
    checks the folders and raises :class:`~inspector_hf.folders.ModelFolderError` naming what is
    wrong; weights load in :meth:`load`.
    """

    def __init__(self, reference_dir: Path | str, device: str = "auto", settings: Any = None,
                 model_dir: str | Path | None = None, **options: Any):
        super().__init__(reference_dir, device)
        section = dict(settings.plugin(NAME) or {}) if settings is not None else {}
        section.update({k: v for k, v in options.items() if v is not None})
        if model_dir is not None:
            section["model_dir"] = str(model_dir)
        self.options = HFOptions.from_mapping(section)
        self.folders: ModelFolders = resolve(self.options)
        self._hf = None
        self._hash: str | None = None

    # -- loading -----------------------------------------------------------------------

    def load(self, device: str | None = None) -> None:
        """Load the embedded EfficientNet (for the typing head) and the backbone folder onto ``device``."""
        from inspector_hf.backbone import HFBackbone

        with self._lock:
            dev = resolve_device(device or self._requested)
            if self._hf is not None and dev == self.device:
                return
            super().load(dev)
            o = self.options
            self._hf = HFBackbone(self.folders.backbone, dev, o.layers, o.dtype, o.resolution)
            self._explainer = None
            if o.typing == "none":  # the embedded _type_head then answers None: regions stay 'unknown'
                self._typer_error = "region typing is off (plugins.hf.typing: none)"

    @property
    def backbone(self):
        """The patch-feature backbone from the model folder (loaded on first use)."""
        if self._hf is None:
            self.load()
        return self._hf

    def weights_hash(self) -> str:
        """sha256 over the backbone folder, the layer choice and resolution, and the typing weights used."""
        if self._hash is None:
            h = hashlib.sha256(b"inspector-hf backbone\0" + folder_sha256(self.folders.backbone).encode())
            h.update(f"\0layers={list(self.options.layers or ())}\0resolution={self.options.resolution}".encode())
            if self.options.typing == "embedded":
                from inspector.model.backbone import backbone_sha256, file_sha256

                typing = weights_dir() / "typing_head.safetensors"
                h.update(b"\0typing\0" + (file_sha256(str(typing)) if typing.is_file() else "none").encode())
                h.update(b"\0efficientnet\0" + backbone_sha256().encode())
            self._hash = h.hexdigest()
        return self._hash

    def info(self) -> ModelInfo:
        """``hf:<backbone folder name>``, the embedded version + this plugin's, the weights hash, the device."""
        if self._info is None:
            dev = self.device or resolve_device(self._requested)
            self._info = ModelInfo(f"{NAME}:{self.folders.backbone.name}",
                                   f"{MODEL_VERSION}+hf{plugin_version()}", self.weights_hash(), dev)
        return self._info

    def reference_path(self, part_number: str) -> Path:
        """``<reference_dir>/hf-<hash>/<part>``: references of this model folder only."""
        return part_dir(self.reference_dir / f"{NAME}-{self.weights_hash()[:12]}", part_number)

    # -- explain -----------------------------------------------------------------------

    def explain(self, image: np.ndarray, analysis: Analysis, verdict: Verdict, work_order: WorkOrder) -> Explanation:
        """1-3 sentences from the VLM folder, checked, the template when they fail (embedded explainer without one)."""
        if self.folders.vlm is None:
            return super().explain(image, analysis, verdict, work_order)
        from inspector.model.localize import as_rgb
        from inspector_hf.explainer import HFExplainer

        with self._lock:
            if self._explainer is None:
                o = self.options
                self._explainer = HFExplainer(self.folders.vlm, self.device or resolve_device(self._requested),
                                              max_new_tokens=o.max_new_tokens, dtype=o.vlm_dtype, context=o.context)
        return self._explainer.explain(as_rgb(image), analysis, verdict, work_order)

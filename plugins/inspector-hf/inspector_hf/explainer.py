"""Explanations from a transformers vision-language model folder, checked like the embedded ones.

:class:`HFExplainer` subclasses the embedded :class:`inspector.model.explain.Explainer` and
replaces only the generation: ``explain`` (facts, template, the findings check of
:mod:`inspector.model.faithfulness`, the template fallback with the problems recorded) is the
embedded code, so a VLM's text reaches the record only when it passes the same check.

The model: ``AutoModelForImageTextToText`` + ``AutoProcessor`` from a local folder (LLaVA,
Idefics3, Qwen2-VL and other image-text-to-text models transformers ships; no remote code,
nothing downloaded). Without torchvision, transformers falls back to each processor's PIL
implementation; a Qwen2-VL-style processor, whose video half needs torchvision, is replaced by
its image processor and tokenizer (:mod:`inspector_hf.processors`). The prompt is the processor's chat template with one image (a crop around
the deciding finding, ``context`` times its size; the whole image with ``context=0``) and the
same facts the embedded model reads (order, verdict, findings with sizes and places, clause
text). Decoding is greedy and stops after three sentences.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Analysis, WorkOrder
from inspector.model.base import ModelError
from inspector.model.explain import Explainer, point_regions, three_sentences
from inspector.model.explain_text import SYSTEM, Facts, build_prompt
from inspector_hf.backbone import torch_dtype
from inspector_hf.folders import ModelFolderError, folder_sha256

log = logging.getLogger(__name__)

MIN_CROP_PX = 64
INSTRUCTION = ("Explain the verdict in one to three short sentences: the defect type, its size in mm, "
               "the clause id and the verdict word.")


def facts_text(facts: Facts, work_order: WorkOrder) -> str:
    """The facts lines of the embedded prompt (order, verdict, F1..F3, clause text), without its chat markup."""
    _, tail = build_prompt(facts, work_order)
    lines = tail.split("<|im_end|>")[0].strip().splitlines()
    return "\n".join(ln for ln in lines if ln.strip() and ln.strip() != "Explain the verdict.")


def crop_box(image_size: tuple[int, int], box: tuple[int, int, int, int], context: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a square-ish window ``context`` times the region around its centre, inside the image."""
    W, H = image_size
    x, y, w, h = box
    side = max(MIN_CROP_PX, int(round(max(w, h) * context)))
    cw, ch = min(W, side), min(H, side)
    x0 = int(min(max(0, x + w / 2 - cw / 2), W - cw))
    y0 = int(min(max(0, y + h / 2 - ch / 2), H - ch))
    return x0, y0, x0 + cw, y0 + ch


def _three_sentence_stop(tokenizer, start: int):
    import torch
    from transformers import StoppingCriteria

    class ThreeSentences(StoppingCriteria):
        """Stops greedy decoding once the new text holds three finished sentences."""

        def __call__(self, input_ids, scores, **kwargs):
            done = [three_sentences(tokenizer.decode(row[start:], skip_special_tokens=True)) for row in input_ids]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return ThreeSentences()


class HFExplainer(Explainer):
    """Checked explanations from the VLM in ``folder``; loads lazily, one call at a time (a lock)."""

    def __init__(self, folder: Path | str, device: str = "cpu", max_new_tokens: int = 96, dtype: str = "auto",
                 context: float = 3.0):
        super().__init__(device, max_new_tokens=max_new_tokens)
        self.folder = Path(folder)
        self.dtype_name = dtype
        self.context = float(context)
        self._sha: str | None = None

    @property
    def generator(self) -> str:
        sha = self._sha or ""
        return f"hf-vlm:{self.folder.name}" + (f" ({sha[:12]})" if sha else "")

    def load(self) -> None:
        """Load processor and model from the folder; :class:`ModelFolderError` when they do not load."""
        with self._lock:
            if self._parts is not None:
                return
            from transformers import AutoModelForImageTextToText
            from transformers.utils import logging as hf_logging

            from inspector_hf.processors import load_processor

            hf_logging.disable_progress_bar()
            dtype = torch_dtype(self.dtype_name, self.device)
            where = f"vision-language model folder {self.folder}"
            processor = load_processor(self.folder)
            try:
                model = AutoModelForImageTextToText.from_pretrained(
                    str(self.folder), local_files_only=True, trust_remote_code=False, dtype=dtype)
            except Exception as e:
                raise ModelFolderError(f"{where} cannot be loaded as an image-text-to-text model ({e})") from e
            if not getattr(processor, "chat_template", None):
                raise ModelFolderError(f"{where} has no chat template (chat_template.jinja): the prompt "
                                       "cannot be written in the model's format")
            self._sha = folder_sha256(self.folder)
            self._parts = {"model": model.to(self.device).eval().requires_grad_(False), "processor": processor}

    def _loaded(self) -> dict[str, Any]:
        """The loaded parts; a failed load is remembered and raised again as :class:`ModelError`."""
        if self._load_error is None:
            try:
                self.load()
            except ModelError as e:
                self._load_error = str(e)
        if self._load_error is not None:
            raise ModelError(self._load_error)
        assert self._parts is not None
        return self._parts

    def view(self, image: np.ndarray, analysis: Analysis, facts: Facts) -> np.ndarray:
        """The picture the model is shown: the deciding finding with context, or the whole image."""
        regions = point_regions(facts, analysis)
        if not regions or self.context <= 0:
            return image
        x0, y0, x1, y1 = crop_box((image.shape[1], image.shape[0]), regions[0].box, self.context)
        return np.ascontiguousarray(image[y0:y1, x0:x1])

    def prompt(self, facts: Facts, work_order: WorkOrder) -> list[dict[str, Any]]:
        """The chat messages: one user turn with the image and the facts."""
        text = f"{SYSTEM}\n{facts_text(facts, work_order)}\n{INSTRUCTION}"
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]

    def generate(self, image: np.ndarray, analysis: Analysis, facts: Facts, work_order: WorkOrder) -> str:
        """The VLM's raw (unchecked) text for these facts; :meth:`explain` checks it."""
        import torch

        with self._lock:
            parts = self._loaded()
            model, processor = parts["model"], parts["processor"]
            try:
                text = processor.apply_chat_template(self.prompt(facts, work_order), add_generation_prompt=True)
                inputs = processor(text=[text], images=[self.view(image, analysis, facts)], return_tensors="pt")
                inputs = {k: v.to(model.device, model.dtype) if torch.is_floating_point(v) else v.to(model.device)
                          for k, v in inputs.items() if hasattr(v, "to")}
                start = int(inputs["input_ids"].shape[1])
                tok = getattr(processor, "tokenizer", processor)
                with torch.inference_mode():
                    out = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                         stopping_criteria=[_three_sentence_stop(tok, start)])
                return tok.decode(out[0, start:], skip_special_tokens=True).strip()
            except Exception as e:  # any failure of the model is a fallback to the template, never a crash
                raise ModelError(f"{self.generator} failed to generate: {type(e).__name__}: {e}") from e

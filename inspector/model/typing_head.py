"""Typing defect regions by the work order's own words (LiT-style projection + few-shot prototypes).

A region descriptor (:mod:`inspector.model.typing_features`: frozen EfficientNet-Lite0
features of a context crop + shape/photometric statistics) is mapped by a small trained MLP
into the frozen all-MiniLM-L6-v2 sentence space. There it is compared, by cosine, with the
embeddings of the vocabulary words the spec uses (each word through phrase templates, plus
any clause text given). Any word gets a similarity: words never seen in training included.

Taught labelled examples (:meth:`TypeHead.prototypes_from`) add a second, visual vote: the
cosine of the region to each type's prototype (mean of the taught descriptors, in a
standardised descriptor space whitened by how the taught examples of one type vary, see
:func:`prototype_cosines`). The two votes are combined per type with weight
``k / (k + k_half)`` on the prototypes, so a type with many taught examples is decided by
them and one with none by its words.

Each vote becomes a probability-like score through a logistic fit on held-out synthetic
data (features: the cosine and its margin over the best other type). ``uncertain`` is set
when the best score is under ``type_min`` or within ``type_margin`` of the runner-up; the
judge turns that into REVIEW. Weights and calibration: ``weights/typing_head.safetensors``
(+ ``typing_head.json`` manifest), made by ``python -m inspector.training.typing_train``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.domain import Region
from inspector.hashing import sha256_file
from inspector.model.base import LabelledExample, ModelError, weights_dir
from inspector.model.typing_features import describe_regions, region_from_box, regions_from_mask

if TYPE_CHECKING:
    from inspector.model.text import TextEncoder

WEIGHTS_NAME = "typing_head.safetensors"
MANIFEST_NAME = "typing_head.json"
UNKNOWN = "unknown"
N_CANDIDATES = 3


@dataclass(frozen=True)
class TypeResult:
    """The type of one region: the best vocabulary word, its calibrated score (0..1), the best
    alternatives (word, score), and whether the choice is too weak to trust (-> REVIEW)."""

    defect_type: str
    score: float
    candidates: tuple[tuple[str, float], ...]
    uncertain: bool


# -- the projection network (shared with training) ----------------------------------------


def build_projection(in_dim: int, hidden: int, out_dim: int, dropout: float = 0.1):
    """The MLP that maps standardised descriptors into the text space (torch.nn.Sequential)."""
    from torch import nn

    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim)
    )


def proto_space(desc: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Descriptors -> the space prototypes are compared in: standardised, signed-sqrt, unit rows."""
    z = (np.asarray(desc, np.float32) - mean) / std
    z = np.sign(z) * np.sqrt(np.abs(z))
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-8)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def prototype_cosines(
    query: np.ndarray, key_sets: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray, shrink: float = 0.5
) -> np.ndarray:
    """Cosine (N, C) of each query descriptor to each type's prototype (the mean of its keys).

    When the taught keys vary within their types (at least 2 degrees of freedom), both sides
    are first whitened by the keys' within-type covariance, shrunk by ``shrink`` towards its
    average variance (a regularised Mahalanobis cosine): directions in which examples of the
    same type differ count less than those in which types differ. Computed in the dual (keys
    x keys) so it costs little for any descriptor size.
    """
    q = proto_space(query, mean, std)
    ks = [proto_space(k, mean, std) for k in key_sets]
    n_keys = sum(len(k) for k in ks)
    if n_keys - len(ks) >= 2:
        resid = np.concatenate([k - k.mean(0) for k in ks]) / np.sqrt(n_keys - len(ks))
        _, sv, vt = np.linalg.svd(resid, full_matrices=False)
        keep = sv > 1e-6
        sv, vt = sv[keep], vt[keep]
        avg = max(float(np.sum(sv**2)) / q.shape[1], 1e-8)
        lam = (1 - shrink) * sv**2 + shrink * avg

        def whiten(x: np.ndarray) -> np.ndarray:
            p = x @ vt.T
            return (x - p @ vt) / np.sqrt(shrink * avg) + (p / np.sqrt(lam)) @ vt

        q = _unit(whiten(q))
        ks = [_unit(whiten(k)) for k in ks]
    centres = _unit(np.stack([k.mean(0) for k in ks]))
    return q @ centres.T


def margin_features(cos: np.ndarray, single_ref: float) -> np.ndarray:
    """(N, C) cosines -> (N, C) margin of each type over the best *other* type.

    With one type only, the margin is taken over ``single_ref`` (the typical cosine of a
    region to a wrong type word, from calibration).
    """
    n, c = cos.shape
    if c == 1:
        return cos - single_ref
    order = np.sort(cos, axis=1)
    best, second = order[:, -1:], order[:, -2:-1]
    other = np.where(cos >= best, second, best)
    return cos - other


def calibrated_logit(cos: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Logit of 'this type is right' from cosines (N, C) with fitted (w_cos, w_margin, b)."""
    m = margin_features(cos, params["single_ref"])
    return params["w_cos"] * cos + params["w_margin"] * m + params["b"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))




class TypeHead:
    """Types regions against a vocabulary of words, optionally helped by taught prototypes.

    ``backbone``: an :class:`inspector.model.backbone.Backbone` (shared with localisation).
    ``device``: torch device string for the projection and the text encoder.
    ``weights``: path of ``typing_head.safetensors`` (default: the shipped one).
    Raises :class:`ModelError` when the weights are missing or do not match their manifest.
    """

    def __init__(
        self,
        backbone,
        device: str = "cpu",
        weights: str | Path | None = None,
        text: TextEncoder | None = None,
    ):
        from inspector.model.text import TextEncoder

        self.backbone = backbone
        self.device = device
        self.text = text if text is not None else TextEncoder(device)
        path = Path(weights) if weights is not None else weights_dir() / WEIGHTS_NAME
        self.path = path
        self._lock = threading.Lock()
        self._load(path)

    # -- weights ---------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        import torch
        from safetensors import safe_open

        if not path.is_file():
            raise ModelError(
                f"typing weights not found at {path}; train them with "
                "`python -m inspector.training.typing_train --out inspector/model/weights`"
            )
        manifest_path = path.with_suffix(".json")
        self.sha256 = sha256_file(path)
        if manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("sha256") and manifest["sha256"] != self.sha256:
                raise ModelError(
                    f"{path.name} does not match its manifest {manifest_path.name} (sha256 "
                    f"{self.sha256[:16]} != {manifest['sha256'][:16]}): the file was changed or "
                    "half-copied; retrain or restore both files together"
                )
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        try:
            self.config: dict[str, Any] = json.loads(meta["config"])
            self.calibration: dict[str, Any] = json.loads(meta["calibration"])
        except (KeyError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} has no typing config/calibration metadata: retrain it") from exc
        self.mean = tensors.pop("desc_mean").float().numpy()
        self.std = tensors.pop("desc_std").float().numpy()
        cfg = self.config
        net = build_projection(cfg["in_dim"], cfg["hidden"], cfg["out_dim"], 0.0)
        state = {k.removeprefix("proj."): v.float() for k, v in tensors.items() if k.startswith("proj.")}
        net.load_state_dict(state)
        self._net = net.eval().requires_grad_(False).to(torch.device(self.device))

    @property
    def version(self) -> str:
        """Short identifier of the loaded weights: '<config version>-<sha256[:12]>'."""
        return f"{self.config.get('version', 'v1')}-{self.sha256[:12]}"

    @property
    def thresholds(self) -> dict[str, float]:
        """'type_min' (lowest trusted score) and 'type_margin' (lowest trusted lead), 0..1."""
        return {"type_min": float(self.calibration["type_min"]), "type_margin": float(self.calibration["type_margin"])}

    # -- descriptors -----------------------------------------------------------------------

    def describe(self, image: np.ndarray, regions: Sequence[Region]) -> np.ndarray:
        """Region descriptors (N, D) float32 for ``regions`` of an (H, W, 3) uint8 RGB image.

        Raises ValueError for an image of the wrong shape or dtype.
        """
        return describe_regions(self.backbone, image, regions)

    def embed(self, descriptors: np.ndarray) -> np.ndarray:
        """Descriptors (N, D) -> unit vectors (N, 384) in the MiniLM text space."""
        import torch

        d = np.asarray(descriptors, np.float32)
        if d.ndim != 2 or d.shape[1] != self.mean.shape[0]:
            raise ModelError(f"descriptors must be (N, {self.mean.shape[0]}), got {d.shape}")
        z = torch.from_numpy((d - self.mean) / self.std).to(self.device)
        with self._lock, torch.inference_mode():
            e = torch.nn.functional.normalize(self._net(z), dim=-1)
        return e.float().cpu().numpy()

    def prototypes_from(self, examples: Sequence[LabelledExample]) -> dict[str, np.ndarray]:
        """Few-shot prototypes: {type word: (k, D) descriptors of its taught regions}.

        Each example gives one region per connected part of its mask (or its box when it has
        no mask). An example whose mask is empty raises :class:`ModelError` naming it.
        """
        out: dict[str, list[np.ndarray]] = {}
        for i, ex in enumerate(examples):
            if ex.mask is not None:
                regions = regions_from_mask(ex.mask)
            elif ex.box is not None:
                regions = [region_from_box(ex.box, ex.image.shape)]
            else:
                raise ModelError(f"labelled example {i} ({ex.defect_type!r}) has neither a mask nor a box")
            if not regions:
                raise ModelError(f"labelled example {i} ({ex.defect_type!r}): its mask marks no region")
            out.setdefault(ex.defect_type, []).append(self.describe(ex.image, regions))
        return {t: np.concatenate(v) for t, v in out.items()}

    # -- classification --------------------------------------------------------------------

    def text_embeddings(self, vocabulary: Sequence[str], phrases: Mapping[str, Sequence[str]] | None) -> np.ndarray:
        """(C, 384) class vectors of the vocabulary words (templates + extra phrases)."""
        return self.text.type_embeddings(list(vocabulary), dict(phrases or {}))

    def scores(
        self,
        descriptors: np.ndarray,
        vocabulary: Sequence[str],
        prototypes: Mapping[str, np.ndarray] | None = None,
        *,
        phrases: Mapping[str, Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Calibrated scores (N, C) in 0..1 of each region being each vocabulary word."""
        cal = self.calibration
        d = np.asarray(descriptors, np.float32)
        cos_t = self.embed(d) @ self.text_embeddings(vocabulary, phrases).T
        logit = calibrated_logit(cos_t, cal["text"])
        protos = {w: np.asarray(p, np.float32) for w, p in (prototypes or {}).items() if len(p)}
        taught = [i for i, w in enumerate(vocabulary) if w in protos]
        if taught:
            cos_p = prototype_cosines(d, [protos[vocabulary[i]] for i in taught], self.mean, self.std)
            logit_p = calibrated_logit(cos_p, cal["proto"])
            k = np.array([len(protos[vocabulary[i]]) for i in taught], np.float32)
            alpha = k / (k + float(cal["k_half"]))
            logit[:, taught] = (1 - alpha) * logit[:, taught] + alpha * logit_p
        return _sigmoid(logit)

    def classify(
        self,
        descriptors: np.ndarray,
        vocabulary: Sequence[str],
        prototypes: Mapping[str, np.ndarray] | None = None,
        *,
        phrases: Mapping[str, Sequence[str]] | None = None,
    ) -> list[TypeResult]:
        """Type each region (row of ``descriptors``) as one word of ``vocabulary``.

        ``prototypes``: from :meth:`prototypes_from` (types not in the vocabulary are ignored).
        ``phrases``: extra text per word (its clause text, the spec's own synonyms).
        An empty vocabulary types every region 'unknown' with score 0, uncertain.
        """
        d = np.asarray(descriptors, np.float32)
        vocab = list(dict.fromkeys(str(w) for w in vocabulary))
        if len(d) == 0:
            return []
        if not vocab:
            return [TypeResult(UNKNOWN, 0.0, (), True) for _ in range(len(d))]
        s = self.scores(d, vocab, prototypes, phrases=phrases)
        tmin, tmargin = self.thresholds["type_min"], self.thresholds["type_margin"]
        out = []
        for row in s:
            order = np.argsort(-row, kind="stable")
            cands = tuple((vocab[j], round(float(row[j]), 4)) for j in order[:N_CANDIDATES])
            best = float(row[order[0]])
            second = float(row[order[1]]) if len(order) > 1 else 0.0
            uncertain = best < tmin or (best - second) < tmargin
            out.append(TypeResult(vocab[order[0]], round(best, 4), cands, bool(uncertain)))
        return out

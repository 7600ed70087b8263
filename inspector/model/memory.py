"""Teach memory: a PatchCore-style bank of good patch features, and its storage on disk.

* :func:`greedy_coreset` picks a subset of patches that covers all of them (greedy
  k-centre on a random projection, as in PatchCore), so rare-but-normal appearance is kept
  while near-duplicates are dropped.
* :class:`MemoryBank` scores query patches by the Euclidean distance to their nearest bank
  patch, computed as one matrix product per chunk (fp16 on CUDA, features centred on the
  bank mean so the products stay well inside fp16 range).
* :func:`save_reference` / :func:`load_reference` keep a taught part as
  ``reference.safetensors`` (arrays) + ``reference.json`` (everything else), written to a
  temporary folder first and swapped in, so a crash never leaves half a reference.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.model.base import ModelError

if TYPE_CHECKING:
    import torch

CORESET_RATIO = 0.10  # fraction of the taught patches kept in the bank
MIN_BANK = 1000  # never fewer bank patches than this (unless fewer were taught)
MAX_BANK = 10_000  # never more: the nearest-neighbour search is linear in the bank size
PROJ_DIM = 64  # random projection used for coreset selection only
TWO_LEVEL_ABOVE = 120_000  # patch count above which the coreset is chosen in two stages
FORMAT_VERSION = 1


def bank_size(n_patches: int, ratio: float = CORESET_RATIO, max_bank: int = MAX_BANK) -> int:
    """Number of bank patches kept out of ``n_patches`` taught ones."""
    return int(min(n_patches, max(min(MIN_BANK, n_patches), min(max_bank, round(ratio * n_patches)))))


def greedy_coreset(x: torch.Tensor, m: int, seed: int = 0, proj_dim: int = PROJ_DIM) -> torch.Tensor:
    """Indices (m,) of a greedy k-centre coreset of the rows of ``x`` (N, D).

    Distances are measured in a seeded Gaussian random projection to ``proj_dim`` dims
    (Johnson-Lindenstrauss), which keeps the selection cheap; the bank keeps the full
    features. Above ``TWO_LEVEL_ABOVE`` rows, random chunks are reduced first and the union
    is reduced again (same coverage idea, a fraction of the work).
    """
    import torch

    n = x.shape[0]
    if m >= n:
        return torch.arange(n, device=x.device)
    g = torch.Generator(device="cpu").manual_seed(seed)
    if n > TWO_LEVEL_ABOVE:
        chunks = max(2, math.ceil(n / TWO_LEVEL_ABOVE))
        perm = torch.randperm(n, generator=g).to(x.device)
        keep = []
        for c in range(chunks):
            part = perm[c::chunks]
            sub = greedy_coreset(x[part], min(len(part), 2 * m // chunks + 1), seed + c + 1, proj_dim)
            keep.append(part[sub])
        cand = torch.cat(keep)
        return cand[greedy_coreset(x[cand], m, seed, proj_dim)]
    proj = torch.randn(x.shape[1], proj_dim, generator=g).to(x.device, torch.float32) / math.sqrt(proj_dim)
    z = x.float() @ proj
    zn = (z * z).sum(1)
    mind = torch.full((n,), float("inf"), device=x.device)
    sel = torch.empty(m, dtype=torch.long, device=x.device)
    idx = torch.randint(n, (1,), generator=g).to(x.device)
    for i in range(m):
        sel[i : i + 1] = idx
        c = z.index_select(0, idx)  # (1, p)
        d = zn - 2.0 * (z @ c[0]) + zn.index_select(0, idx)
        torch.minimum(mind, d, out=mind)
        idx = torch.argmax(mind).view(1)
    return sel


class MemoryBank:
    """Bank of good patch features (M, D) on a device; nearest-neighbour distances of queries."""

    def __init__(self, bank: torch.Tensor, device: str = "cpu", half: bool | None = None):
        import torch

        dev = torch.device(device)
        self.half = (dev.type == "cuda") if half is None else bool(half)
        dtype = torch.float16 if self.half else torch.float32
        b = bank.to(dev, torch.float32)
        self.mean = b.mean(0)
        bc = b - self.mean
        self.bank_t = bc.t().contiguous().to(dtype)  # (D, M)
        self.bank_sq = (bc * bc).sum(1).to(dtype)  # (M,)
        self.size = int(b.shape[0])
        self.dim = int(b.shape[1])
        self.device = dev
        self.dtype = dtype

    @classmethod
    def build(cls, patches: torch.Tensor, device: str = "cpu", seed: int = 0, max_bank: int = MAX_BANK) -> MemoryBank:
        """Coreset-subsample ``patches`` (N, D) and return the bank on ``device``."""
        m = bank_size(patches.shape[0], max_bank=max_bank)
        idx = greedy_coreset(patches, m, seed=seed)
        return cls(patches[idx], device=device)

    def features(self) -> torch.Tensor:
        """The bank patches (M, D) float32, uncentred (for saving)."""
        return self.bank_t.t().float() + self.mean

    def distances(self, q: torch.Tensor, chunk_elems: int = 1 << 25) -> torch.Tensor:
        """Nearest-bank-patch Euclidean distance of each row of ``q`` (N, D) -> (N,) float32."""
        import torch

        qc = q.to(self.device, torch.float32) - self.mean
        q2 = (qc * qc).sum(1)
        qc = qc.to(self.dtype)
        rows = max(1, chunk_elems // max(1, self.size))
        best = []
        for i in range(0, qc.shape[0], rows):
            s = torch.addmm(self.bank_sq, qc[i : i + rows], self.bank_t, beta=1.0, alpha=-2.0)
            best.append(s.amin(1).float())
        d2 = q2 + torch.cat(best)
        return d2.clamp_min_(0).sqrt_()

    def score_maps(self, feats: torch.Tensor) -> torch.Tensor:
        """Patch features (B, D, gh, gw) -> nearest-neighbour distance maps (B, gh, gw) float32."""
        B, D, gh, gw = feats.shape
        q = feats.permute(0, 2, 3, 1).reshape(-1, D)
        return self.distances(q).view(B, gh, gw)


# -- storage ------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def part_dir(root: Path, part_number: str) -> Path:
    """Folder of a part number's reference under ``root`` (unsafe characters replaced + hash)."""
    if not part_number or not part_number.strip():
        raise ModelError("part number is empty: a reference is stored per part number")
    safe = _SAFE.sub("_", part_number.strip())
    if safe != part_number or safe in (".", ".."):
        safe = f"{safe}-{hashlib.sha256(part_number.encode()).hexdigest()[:8]}"
    return Path(root) / safe


def save_reference(folder: Path, tensors: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
    """Write arrays + JSON meta to ``folder`` atomically (temp folder, then swap). Returns folder."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp / "reference.safetensors"))
        meta = {**meta, "format": FORMAT_VERSION}
        (tmp / "reference.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            folder.rename(old)
        tmp.rename(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def load_reference(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read what :func:`save_reference` wrote. Raises :class:`ModelError` when missing or corrupt."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    try:
        meta = json.loads((folder / "reference.json").read_text())
        tensors = load_file(str(folder / "reference.safetensors"))
    except FileNotFoundError as e:
        raise ModelError(f"reference in {folder} is incomplete ({e.filename} missing): teach the part again") from e
    except Exception as e:  # any parse error means a corrupt reference
        raise ModelError(f"reference in {folder} cannot be read ({e}): teach the part again") from e
    if meta.get("format") != FORMAT_VERSION:
        raise ModelError(
            f"reference in {folder} has format {meta.get('format')}, this version reads {FORMAT_VERSION}: "
            "teach the part again"
        )
    return tensors, meta

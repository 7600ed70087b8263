"""Coreset, nearest-neighbour scoring and reference storage (torch on CPU, no weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from inspector.model import memory as M
from inspector.model.base import ModelError


def _clusters(n=3000, d=32, k=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, d, generator=g) * 10
    idx = torch.randint(k, (n,), generator=g)
    return centres[idx] + 0.3 * torch.randn(n, d, generator=g)


def test_coreset_covers_better_than_random():
    x = _clusters()
    m = 60
    sel = M.greedy_coreset(x, m, seed=0)
    assert len(set(sel.tolist())) == m
    rnd = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:m]
    cover = torch.cdist(x, x[sel]).amin(1).max()
    cover_rnd = torch.cdist(x, x[rnd]).amin(1).max()
    assert cover < cover_rnd
    assert cover < 5.0  # every one of the 40 clusters got a centre


def test_two_level_coreset_is_used_and_covers(monkeypatch):
    monkeypatch.setattr(M, "TWO_LEVEL_ABOVE", 1000)
    x = _clusters(n=4000)
    sel = M.greedy_coreset(x, 80, seed=1)
    assert len(sel) == 80 and len(set(sel.tolist())) == 80
    assert torch.cdist(x, x[sel]).amin(1).max() < 5.0


def test_bank_size_rule():
    assert M.bank_size(500) == 500
    assert M.bank_size(5000) == 1000
    assert M.bank_size(50_000) == 5000
    assert M.bank_size(10**6) == M.MAX_BANK


def test_distances_equal_brute_force():
    g = torch.Generator().manual_seed(2)
    bank = torch.randn(700, 40, generator=g) + 3.0
    q = torch.randn(123, 40, generator=g) + 3.0
    mb = M.MemoryBank(bank, "cpu")
    d = mb.distances(q, chunk_elems=5000)  # forces several chunks
    ref = torch.cdist(q, bank).amin(1)
    assert torch.allclose(d, ref, atol=1e-3)
    assert torch.allclose(mb.features(), bank, atol=1e-5)
    maps = mb.score_maps(q[:120].reshape(2, 6, 10, 40).permute(0, 3, 1, 2))
    assert maps.shape == (2, 6, 10)
    assert torch.allclose(maps.flatten(), ref[:120], atol=1e-3)


def test_part_dir_is_safe_and_distinct(tmp_path):
    a = M.part_dir(tmp_path, "AB-12.3_x")
    assert a == tmp_path / "AB-12.3_x"
    b = M.part_dir(tmp_path, "AB/12 3")
    c = M.part_dir(tmp_path, "AB_12_3")
    assert b.parent == tmp_path and "/" not in b.name and b != c
    assert M.part_dir(tmp_path, "..").parent == tmp_path
    with pytest.raises(ModelError):
        M.part_dir(tmp_path, "  ")


def test_save_load_round_trip_and_replace(tmp_path):
    folder = tmp_path / "P1"
    M.save_reference(folder, {"bank": np.ones((3, 4), np.float32)}, {"mode": "memory", "x": 1})
    M.save_reference(folder, {"bank": np.zeros((5, 4), np.float32)}, {"mode": "memory", "x": 2})
    t, meta = M.load_reference(folder)
    assert t["bank"].shape == (5, 4) and meta["x"] == 2 and meta["format"] == M.FORMAT_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P1"]  # no temp or old folders left


def test_missing_corrupt_or_foreign_reference_raises(tmp_path):
    with pytest.raises(ModelError, match="incomplete"):
        M.load_reference(tmp_path / "nothing")
    folder = tmp_path / "P"
    M.save_reference(folder, {"bank": np.ones((2, 2), np.float32)}, {"mode": "memory"})
    (folder / "reference.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="cannot be read"):
        M.load_reference(folder)
    M.save_reference(folder, {"bank": np.ones((2, 2), np.float32)}, {"mode": "memory"})
    meta = json.loads((folder / "reference.json").read_text())
    meta["format"] = 999
    (folder / "reference.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format"):
        M.load_reference(folder)

"""Large images in bounded memory (issue 12, point 2): the strip-wise shrink to working size and the
strip-wise pixel channel give the same numbers as the one-shot computations, and a 4100 x 4100
part (above the strip limit) is taught, analysed and stored through the station below a memory
bound (``slow``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inspector.model import localize as L
from inspector.model import template as T

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_large_image.py"


@pytest.mark.parametrize("size,work", [((1200, 900), (300, 225)), ((1201, 899), (300, 225)), ((999, 1003), (500, 501)),
                                       ((640, 480), (640, 480))])
def test_strip_shrink_matches_the_one_shot_area_resize(monkeypatch, size, work):
    monkeypatch.setattr(L, "STRIP_PIXELS", 50_000)  # many strips even for these small images
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    one_shot = F.interpolate(torch.from_numpy(img)[None].permute(0, 3, 1, 2).float(), size=(work[1], work[0]),
                             mode="area")[0]
    strips = L.area_shrink(img, work, "cpu")
    assert strips.shape == one_shot.shape and float((strips - one_shot).abs().max()) < 1e-3


def test_to_working_takes_the_strip_path_above_the_limit_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (1000, 1400, 3), dtype=np.uint8)
    geom = L.plan(1400, 1000, 0.25)
    small_path = L.to_working([img], geom, "cpu")
    monkeypatch.setattr(L, "LARGE_PIXELS", 1000)
    calls = []
    real = L.area_shrink
    monkeypatch.setattr(L, "area_shrink", lambda *a: calls.append(a[1]) or real(*a))
    large_path = L.to_working([img], geom, "cpu")
    assert calls == [geom.work] and large_path.shape == small_path.shape
    assert float((large_path - small_path).abs().max()) < 1e-3


@pytest.mark.parametrize("rows", [1, 7, 64, 10_000])
def test_pixel_channel_in_strips_equals_the_whole_image(monkeypatch, rows):
    rng = np.random.default_rng(5)
    h, w = 301, 257
    aligned = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    stats = T.PixelStats(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (rng.random((h, w)) * 4 + 1).astype(np.float32))
    valid = rng.random((h, w)) > 0.01
    whole = T._z_block(aligned, valid, stats.median, stats.spread)
    monkeypatch.setattr(T, "Z_STRIP_ROWS", rows)
    assert np.array_equal(T.z_of_aligned(aligned, valid, stats), whole)


@pytest.mark.slow
def test_a_large_part_is_taught_analysed_and_stored_in_bounded_memory(tmp_path):
    """The real model at a coarse working scale (1/8, so the teach fits the suite's time) on 4100 x
    4100 images: above the strip limit (16 MP), so the shrink and the pixel channel take the strip
    paths; pixel statistics and maps at full resolution, the PNG file through the station. Each
    stage in its own process, stopped by a watchdog above 3 GB. The 8000 x 8000 figures come from
    the same script (docs/reliability.md, "Large images")."""
    out = tmp_path / "large.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--size", "4100", "--good", "5", "--scale", "0.125",
                           "--scratch-px", "24", "--max-rss-gb", "3", "--folder", str(tmp_path / "references"),
                           "--json", str(out)], capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    for stage in ("teach", "analyse", "station"):
        assert "peak_rss_mb" in result[stage], result  # finished, not stopped by the watchdog
    assert result["teach"]["scale"] == 0.125
    assert result["analyse"]["good"]["score"] < 1.0 and not result["analyse"]["good"]["findings"], result["analyse"]
    assert result["analyse"]["scratch"]["findings"], result["analyse"]  # the painted scratch is found
    assert result["station"]["inspected"] == 1 and result["station"]["verdict"] in ("NG", "REVIEW"), result
    assert max(result[s]["peak_rss_mb"] for s in ("teach", "analyse", "station")) < 3 * 1024

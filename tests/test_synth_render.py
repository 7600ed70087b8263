"""Synthetic parts and defects: determinism, masks, measured sizes, typed errors."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from inspector.training.synth import (
    DEFECT_TYPES,
    SynthError,
    canonical_type,
    estimate_geometry,
    make_part,
    make_part_with_geometry,
    make_sample,
    measure_mask,
    render_defect,
    texture_from,
)


def _part(seed: int, kind: str = "bracket"):
    rng = np.random.default_rng(seed)
    img, geom = make_part_with_geometry(rng, (512, 512), kind)
    return rng, img, geom


@pytest.mark.parametrize("kind", ["bracket", "flange", "plate"])
def test_make_part_is_seeded_and_varies(kind):
    a = make_part(np.random.default_rng(3), kind=kind)
    b = make_part(np.random.default_rng(3), kind=kind)
    c = make_part(np.random.default_rng(4), kind=kind)
    assert a.shape == (512, 512, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    diff = np.abs(a.astype(int) - c.astype(int))
    assert diff.mean() > 1.0  # two good parts are never identical
    assert 60 < a.mean() < 220 and a.std() > 5  # not blank, not saturated


def test_make_part_respects_size_and_rejects_bad_input():
    img = make_part(np.random.default_rng(0), size=(320, 240))
    assert img.shape == (240, 320, 3)
    with pytest.raises(SynthError, match="kind"):
        make_part(np.random.default_rng(0), kind="gear")
    with pytest.raises(SynthError, match="64"):
        make_part(np.random.default_rng(0), size=(32, 32))


def test_bracket_geometry_matches_pixels():
    _, img, geom = _part(11)
    gray = img.mean(axis=2)
    assert gray[geom.surface].mean() > 2.5 * gray[~geom.material].mean()
    assert len(geom.holes) == 3
    for cx, cy, _r in geom.holes:
        assert gray[int(cy), int(cx)] < 60  # the bore is dark
        assert not geom.material[int(cy), int(cx)]
    assert len(geom.edge_xy) > 1000
    assert np.allclose(np.hypot(*geom.edge_normal.T), 1.0, atol=1e-3)


@pytest.mark.parametrize("defect_type", DEFECT_TYPES)
def test_defect_changes_pixels_inside_its_mask(defect_type):
    for seed in range(4):
        rng, img, geom = _part(100 + seed)
        out, mask, info = render_defect(img, defect_type, rng, geometry=geom)
        assert out.shape == img.shape and out.dtype == np.uint8
        assert mask.shape == img.shape[:2] and mask.dtype == bool and mask.any()
        assert info["type"] == defect_type
        diff = np.abs(out.astype(int) - img.astype(int)).max(axis=2)
        changed = diff > 12
        near = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert changed.sum() > 0
        assert (changed & near).sum() / changed.sum() >= 0.98, "visible change outside the mask"
        assert (diff[mask] > 6).mean() >= 0.75, "mask covers pixels the defect did not change"
        assert not np.array_equal(out, img)


def _feret(mask: np.ndarray) -> float:
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs, ys], 1).astype(float)
    hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
    d = np.hypot(*(hull[:, None, :] - hull[None, :, :]).transpose(2, 0, 1))
    return float(d.max()) + 1.0


@pytest.mark.parametrize("defect_type", DEFECT_TYPES)
def test_returned_sizes_match_the_mask(defect_type):
    rng, img, geom = _part(200)
    _, mask, info = render_defect(img, defect_type, rng, geometry=geom)
    ys, xs = np.nonzero(mask)
    assert info["box"] == (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    assert info["area_px"] == mask.sum()
    assert info["diameter_px"] == pytest.approx(2 * math.sqrt(mask.sum() / math.pi), abs=0.01)
    # the min-area-rectangle length is bounded by the mask's Feret diameter and box
    feret = _feret(mask)
    assert info["feret_px"] == pytest.approx(feret, abs=0.01)
    assert info["length_px"] <= feret + 1.5
    assert info["length_px"] >= max(info["box"][2], info["box"][3]) / math.sqrt(2) - 1
    assert info["width_px"] <= info["length_px"]
    assert info["width_px"] * info["length_px"] >= info["area_px"] * 0.95


@pytest.mark.parametrize(
    ("defect_type", "size", "tol"),
    [
        ("scratch", 40, 0.12),
        ("scratch", 14, 0.25),
        ("crack", 36, 0.15),
        ("dent", 30, 0.1),
        ("dent", 12, 0.15),
        ("inclusion", 10, 0.25),
        ("stain", 40, 0.12),
        ("corrosion", 50, 0.2),
        ("burr", 12, 0.2),
        ("chip", 20, 0.25),
    ],
)
def test_measured_length_follows_requested_size(defect_type, size, tol):
    for seed in range(3):
        rng, img, geom = _part(300 + seed)
        _, mask, info = render_defect(img, defect_type, rng, geometry=geom, size_px=size)
        assert info["nominal_px"] == size
        # blobs are judged by their largest extent (Feret), lines by the rectangle length
        got = info["feret_px"] if defect_type in ("dent", "stain", "corrosion") else info["length_px"]
        assert abs(got - size) <= max(2.5, tol * size), info


@pytest.mark.parametrize(("count", "size"), [(1, 6), (3, 8), (5, 6)])
def test_pitting_count_and_diameter(count, size):
    rng, img, geom = _part(400 + count)
    _, mask, info = render_defect(img, "pit", rng, geometry=geom, size_px=size, count=count)
    assert info["type"] == "pitting"
    assert info["count"] == count == len(info["components"])
    biggest = max(c["length_px"] for c in info["components"])
    assert abs(biggest - size) <= 2.0
    assert sum(c["area_px"] for c in info["components"]) == mask.sum()


def test_where_and_angle_place_the_defect():
    rng, img, geom = _part(500)
    _, mask, info = render_defect(
        img, "scratch", rng, geometry=geom, size_px=40, where=(250, 300), angle_deg=0
    )
    x, y, w, h = info["box"]
    assert abs(x + w / 2 - 250) <= 3 and abs(y + h / 2 - 300) <= 4
    assert w > 35 and h < 8
    _, mask, info = render_defect(img, "dent", rng, geometry=geom, size_px=20, where=(400, 150, 460, 380))
    x, y, w, h = info["box"]
    assert x >= 400 - 1 and x + w <= 460 + 1 and y >= 150 - 1 and y + h <= 380 + 1


def test_missing_feature_removes_a_hole():
    rng, img, geom = _part(600)
    out, mask, info = render_defect(img, "missing_feature", rng, geometry=geom, where=(430, 412))
    cx, cy = info["hole_center"]
    assert abs(cx - 430) < 8 and abs(cy - 412) < 8
    gray_before, gray_after = img.mean(axis=2), out.mean(axis=2)
    assert gray_before[int(cy), int(cx)] < 60
    assert gray_after[int(cy), int(cx)] > 120  # plain face where the bore was
    surf = gray_after[geom.surface]
    assert abs(gray_after[mask].mean() - np.median(surf)) < 20


def test_make_sample_is_deterministic_and_non_overlapping():
    types = ["scratch", "crack", "pitting", "dent", "stain", "burr", "chip", "inclusion", "corrosion"]
    a_img, a = make_sample(np.random.default_rng(9), types)
    b_img, b = make_sample(np.random.default_rng(9), types)
    assert np.array_equal(a_img, b_img)
    assert [d["type"] for d in a] == types
    for da, db in zip(a, b, strict=True):
        assert np.array_equal(da["mask"], db["mask"])
        assert da["box"] == db["box"]
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            assert not (a[i]["mask"] & a[j]["mask"]).any()


def test_make_sample_accepts_dict_specs():
    img, infos = make_sample(np.random.default_rng(1), [{"type": "scratch", "size_px": 30, "angle_deg": 90}])
    assert infos[0]["box"][3] > 25


def test_errors_are_typed_and_helpful():
    rng, img, geom = _part(700)
    with pytest.raises(SynthError, match="known: scratch"):
        render_defect(img, "wobble", rng, geometry=geom)
    with pytest.raises(SynthError, match="size"):
        render_defect(img, "scratch", rng, geometry=geom, size_px=400)
    with pytest.raises(SynthError, match="uint8"):
        render_defect(img.astype(np.float32), "scratch", rng)
    plate = make_part(np.random.default_rng(1), kind="plate")
    with pytest.raises(SynthError, match="edge"):
        render_defect(plate, "burr", rng)
    with pytest.raises(SynthError, match="holes"):
        render_defect(plate, "missing_feature", rng)
    assert canonical_type(" Pits ") == "pitting"


def test_estimated_geometry_finds_holes_and_edges():
    _, img, geom = _part(800)
    est = estimate_geometry(img)
    assert len(est.holes) == 3
    for cx, cy, _r in geom.holes:
        d = min(math.hypot(cx - x, cy - y) for x, y, _ in est.holes)
        assert d < 2.0
    assert (est.material == geom.material).mean() > 0.98
    rng = np.random.default_rng(1)
    for t in ("burr", "chip", "missing_feature", "scratch"):
        out, mask, info = render_defect(img, t, rng)  # no geometry given: estimated
        assert mask.any() and not np.array_equal(out, img)


def test_texture_from_avoids_defects_and_tiles():
    rng = np.random.default_rng(0)
    real = make_part(np.random.default_rng(2), size=(300, 200), kind="plate")
    bad = np.zeros((200, 300), np.uint8)
    bad[:, :150] = 255
    crop, (x, y) = texture_from(real, rng, (100, 100), defect_mask=bad, margin=4, return_origin=True)
    assert crop.shape == (100, 100, 3)
    assert x >= 154 and np.array_equal(crop, real[y : y + 100, x : x + 100])
    big, (x, y) = texture_from(real, rng, (700, 450), return_origin=True)
    assert big.shape == (450, 700, 3)
    tiled = np.pad(real, ((0, 400), (0, 600), (0, 0)), mode="symmetric")  # mirror-tiled 3 x 3
    assert np.array_equal(big, tiled[y : y + 450, x : x + 700])
    with pytest.raises(SynthError, match="defect-free"):
        texture_from(real, rng, (200, 200), defect_mask=bad)
    out, mask, info = render_defect(texture_from(real, rng, (128, 128)), "scratch", rng, size_px=30)
    assert 28 <= info["length_px"] <= 36


def test_measure_mask_conventions():
    m = np.zeros((50, 50), bool)
    m[10, 5:25] = True  # a 20 x 1 px line
    info = measure_mask(m)
    assert info["box"] == (5, 10, 20, 1)
    assert info["length_px"] == 20 and info["width_px"] == 1 and info["area_px"] == 20 and info["count"] == 1
    assert measure_mask(np.zeros((5, 5), bool))["count"] == 0


@pytest.mark.realdata
def test_defects_render_onto_a_real_bsdata_texture():
    import os
    from pathlib import Path

    root = Path(os.environ.get("INSPECTOR_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    img_path = root / "bsdata" / "pitting" / "images" / "01_200906232916_305000_090_crop_2.jpg"
    if not img_path.is_file():
        pytest.skip(f"BSData not found under {root} (set INSPECTOR_SHARED_DATA)")
    real = cv2.imread(str(img_path))[..., ::-1]
    mask = cv2.imread(str(img_path).replace("images", "masks").replace(".jpg", ".png"), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(0)
    tex = texture_from(real, rng, (256, 256), defect_mask=mask)
    for t in ("scratch", "crack", "pitting", "dent", "stain", "inclusion", "corrosion"):
        out, m, info = render_defect(tex, t, rng, size_px=12 if t == "pitting" else 30)
        diff = np.abs(out.astype(int) - tex.astype(int)).max(axis=2)
        assert (diff[m] > 3).mean() > 0.5, t

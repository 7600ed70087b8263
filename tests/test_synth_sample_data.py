"""sample_data/: regenerates pixel-identically, labels agree with masks, BSData subset intact."""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.training.samples import (
    LINE,
    N_GOOD,
    PIXEL_SIZE_MM,
    build_sample_data,
    expected_wo1001,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
PARTS = SAMPLE / "parts" / "BR-100"
BSDATA = SAMPLE / "bsdata"


def _shared() -> Path:
    return Path(os.environ.get("INSPECTOR_SHARED_DATA", REPO.parent / "shared" / "data"))


def _read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, f"cannot read {path}"
    return img[..., ::-1] if img.ndim == 3 else img


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_regeneration_matches_checked_in_pixels(tmp_path):
    written = build_sample_data(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in written)
    kept = sorted(p.relative_to(SAMPLE) for p in (SAMPLE / "parts").rglob("*") if p.is_file())
    pngs = [p for p in fresh if p.suffix == ".png"]
    assert set(pngs) | {p for p in fresh if p.suffix == ".csv"} <= set(kept)
    assert [p for p in kept if p.suffix == ".png"] == sorted(
        (tmp_path / p).relative_to(tmp_path) for p in (tmp_path / "parts").rglob("*.png"))
    for rel in pngs:
        a, b = _read_rgb(SAMPLE / rel), _read_rgb(tmp_path / rel)
        assert a.shape == b.shape and np.array_equal(a, b), f"{rel} differs from a fresh build"
    for rel in (p for p in fresh if p.suffix == ".csv"):
        assert (SAMPLE / rel).read_text() == (tmp_path / rel).read_text(), f"{rel} differs"


def test_good_parts_are_distinct_512_rgb():
    files = sorted((PARTS / "good").glob("*.png"))
    assert len(files) == N_GOOD
    imgs = [_read_rgb(f) for f in files]
    for im in imgs:
        assert im.shape == (512, 512, 3) and im.dtype == np.uint8
    for i in range(len(imgs) - 1):
        assert np.abs(imgs[i].astype(int) - imgs[i + 1].astype(int)).mean() > 1.0


@pytest.mark.parametrize("folder", ["line", "examples"])
def test_labels_agree_with_masks(folder):
    rows = _rows(PARTS / folder / "labels.csv")
    files = sorted({r["file"] for r in rows})
    assert files == sorted(p.name for p in (PARTS / folder).glob("*.png"))
    for name in files:
        mine = [r for r in rows if r["file"] == name and r["defect_type"]]
        mask_path = PARTS / folder / "masks" / name
        if not mine:
            assert not mask_path.exists()
            continue
        mask = _read_rgb(mask_path) > 0
        assert mask.shape == (512, 512)
        covered = np.zeros_like(mask)
        for r in mine:
            x, y, w, h = (int(r[k]) for k in ("box_x", "box_y", "box_w", "box_h"))
            sub = mask[y : y + h, x : x + w]
            assert sub[0].any() and sub[-1].any() and sub[:, 0].any() and sub[:, -1].any(), "box not tight"
            covered[y : y + h, x : x + w] = True
            assert float(r["length_mm"]) == pytest.approx(float(r["length_px"]) * PIXEL_SIZE_MM, abs=1e-3)
            assert float(r["area_mm2"]) == pytest.approx(float(r["area_px"]) * PIXEL_SIZE_MM**2, abs=1e-4)
        assert not (mask & ~covered).any(), "mask pixels outside every labelled box"
        assert mask.sum() == sum(int(r["area_px"]) for r in mine)


def test_line_set_covers_the_wo1001_cases():
    rows = _rows(PARTS / "line" / "labels.csv")
    by_file: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r)
    assert len(by_file) == len(LINE)
    verdicts = {f: rs[0]["expected_wo1001"] for f, rs in by_file.items()}
    good = [f for f, rs in by_file.items() if not rs[0]["defect_type"]]
    assert len(good) > len(by_file) / 2  # mostly good parts, as on a line
    assert all(verdicts[f] == "OK" for f in good)
    ng = {r["defect_type"] for r in rows if r["expected_wo1001"] == "NG"}
    ok_defects = {r["defect_type"] for r in rows if r["expected_wo1001"] == "OK" and r["defect_type"]}
    assert {"scratch", "crack", "pitting", "dent", "stain"} <= ng
    assert {"scratch", "pitting", "dent"} <= ok_defects  # defects under the limits too
    # every under/over call keeps a margin of at least 25 % from the limit it is judged by
    for r in rows:
        if r["defect_type"] == "scratch" and not int(r["in_zone_a"]):
            assert abs(float(r["length_mm"]) - 1.0) >= 0.25
        if r["defect_type"] == "dent":
            assert abs(float(r["length_mm"]) - 0.8) >= 0.2
        if r["defect_type"] == "pitting":
            assert abs(float(r["max_component_diameter_px"]) * PIXEL_SIZE_MM - 0.4) >= 0.1


def test_strict_order_rejects_more_parts():
    rows = _rows(PARTS / "line" / "labels.csv")
    ng1 = {r["file"] for r in rows if r["expected_wo1001"] == "NG"}
    ng2 = {r["file"] for r in rows if r["expected_wo1002"] == "NG"}
    assert ng1 < ng2  # WO-1002 is stricter: every WO-1001 reject plus the under-limit defects
    assert all(r["expected_wo1002"] == "OK" for r in rows if not r["defect_type"])


def test_expected_verdict_rules():
    def d(t, length, box=(0, 0, 5, 5), comps=None):
        return {"type": t, "length_px": length, "box": box, "components": comps or []}

    assert expected_wo1001([]) == ("OK", "")
    assert expected_wo1001([d("scratch", 19)])[0] == "OK"
    assert expected_wo1001([d("scratch", 21)])[0] == "NG"
    assert expected_wo1001([d("scratch", 10, box=(200, 200, 10, 2))])[0] == "NG"  # inside zone A
    assert expected_wo1001([d("crack", 5)])[0] == "NG"
    pits = [{"diameter_px": 6}] * 3
    assert expected_wo1001([d("pitting", 30, comps=pits)])[0] == "OK"
    assert expected_wo1001([d("pitting", 30, comps=pits + [{"diameter_px": 6}])])[0] == "NG"
    assert expected_wo1001([d("pitting", 9, comps=[{"diameter_px": 9}])])[0] == "NG"


def test_sample_data_is_small():
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024, f"sample_data is {total / 1e6:.1f} MB"


def test_bsdata_subset_is_intact_and_credited():
    rows = _rows(BSDATA / "manifest.csv")
    assert 8 <= len(rows) <= 12
    assert sum(r["width"] == "1130" and r["height"] == "460" for r in rows) > len(rows) / 2
    for r in rows:
        img = _read_rgb(BSDATA / r["image"])
        mask = _read_rgb(BSDATA / r["mask"])
        assert img.shape[:2] == mask.shape == (int(r["height"]), int(r["width"]))
        assert set(np.unique(mask)) <= {0, 255} and (mask > 0).any()
        assert hashlib.sha256((BSDATA / r["image"]).read_bytes()).hexdigest() == r["sha256"]
        assert (BSDATA / r["labelme"]).is_file()
    good = _rows(BSDATA / "good" / "manifest.csv")
    assert len(good) >= 3
    used = {Path(r["image"]).name for r in rows}
    for g in good:
        assert g["source_image"] not in used  # crops come from other photos
        im = _read_rgb(BSDATA / "good" / g["image"])
        assert im.shape == (int(g["height"]), int(g["width"]), 3)
    text = (BSDATA / "ATTRIBUTION.md").read_text()
    for needed in ("Schlagenhauf", "Landwehr", "10.1016/j.dib.2021.107643", "CC BY-SA 4.0", "2Obe/BSData"):
        assert needed in text


@pytest.mark.realdata
def test_bsdata_subset_matches_the_shared_source():
    src = _shared() / "bsdata"
    if not (src / "manifest.csv").is_file():
        pytest.skip(f"BSData not found at {src} (set INSPECTOR_SHARED_DATA)")
    for r in _rows(BSDATA / "manifest.csv"):
        orig = src / "pitting" / r["image"]
        assert hashlib.sha256(orig.read_bytes()).hexdigest() == r["sha256"]
        assert (src / "pitting" / r["mask"]).read_bytes() == (BSDATA / r["mask"]).read_bytes()
    for g in _rows(BSDATA / "good" / "manifest.csv"):
        name = Path(g["source_image"]).stem
        mask = cv2.imread(str(src / "pitting" / "masks" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        x, y, w, h = (int(g[k]) for k in ("crop_x", "crop_y", "width", "height"))
        assert not mask[y : y + h, x : x + w].any(), f"{g['image']} overlaps labelled pitting"
        orig = _read_rgb(src / "pitting" / "images" / g["source_image"])[y : y + h, x : x + w]
        crop = _read_rgb(BSDATA / "good" / g["image"])
        assert np.abs(orig.astype(int) - crop.astype(int)).mean() < 3.0  # JPEG q95 re-encode only

"""Regions and sizes from threshold-normalised maps (pure numpy/OpenCV, no weights)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from inspector.domain import WorkOrder, Zone
from inspector.model import measure as ME


def _map_with(shapes, size=(200, 300)):
    m = np.zeros(size, np.float32)
    for fn in shapes:
        fn(m)
    return m


def test_rectangle_region_has_exact_box_size_and_area():
    m = _map_with([lambda a: a.__setitem__((slice(50, 56), slice(100, 140)), 2.0)])
    regs = ME.extract_regions(m, 0.9, 1.0, rel_extent=0.0)
    assert len(regs) == 1
    r = regs[0]
    assert r.box == (100, 50, 40, 6)
    assert r.area_px == 240
    assert r.length_px == pytest.approx(40, abs=0.01)
    assert r.width_px == pytest.approx(6, abs=0.01)
    assert r.score == pytest.approx(2.0)
    assert len(r.contour) >= 4
    xs = [p[0] for p in r.contour]
    assert min(xs) == 100 and max(xs) == 139


def test_rotated_line_length_from_min_area_rect():
    m = np.zeros((300, 300), np.float32)
    poly = cv2.boxPoints(((150.0, 150.0), (100.0, 6.0), 37.0))  # 100 x 6 px bar at 37 deg
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 3.0)
    r = ME.extract_regions(m, 0.9, 1.0, rel_extent=0.0)[0]
    assert r.length_px == pytest.approx(100, abs=3)
    assert r.width_px == pytest.approx(6, abs=1.5)
    assert r.area_px == pytest.approx(600, rel=0.1)


def test_regions_below_report_level_or_min_area_are_dropped():
    def add(a):
        a[10:20, 10:20] = 0.95  # peaks below report_min
        a[100, 100] = 5.0  # one pixel: below min area
        a[150:160, 200:210] = 1.5

    regs = ME.extract_regions(_map_with([add]), 0.9, 1.0, min_area_px=4)
    assert [r.box for r in regs] == [(200, 150, 10, 10)]


def test_close_fragments_merge_far_ones_do_not():
    def add(a):
        a[50:60, 50:60] = 2.0
        a[50:60, 63:73] = 2.0  # 3 px gap
        a[150:160, 250:260] = 2.0  # far away

    m = _map_with([add])
    assert len(ME.extract_regions(m, 0.9, 1.0, merge_gap_px=0)) == 3
    merged = ME.extract_regions(m, 0.9, 1.0, merge_gap_px=3)
    assert len(merged) == 2
    big = max(merged, key=lambda r: r.area_px)
    assert big.box == (50, 50, 23, 10) and big.area_px == 200


def test_relative_extent_cuts_blur_around_a_strong_peak():
    m = np.zeros((200, 200), np.float32)
    m[90:110, 90:110] = 4.0
    m = cv2.GaussianBlur(m, (0, 0), 6)
    wide = ME.extract_regions(m, 0.5, 1.0, rel_extent=0.0)[0]
    tight = ME.extract_regions(m, 0.5, 1.0, rel_extent=0.5)[0]
    assert tight.area_px < wide.area_px
    assert tight.length_px == pytest.approx(20, abs=5)


def test_fine_map_refines_extent_to_the_defect_outline():
    coarse = np.zeros((200, 200), np.float32)
    coarse[60:140, 60:140] = 1.5  # the blurry feature blob
    fine = np.zeros_like(coarse)
    fine[95:100, 80:120] = 20.0  # the actual 40 x 5 scratch
    fine[30, 30] = 50.0  # outside the blob: ignored
    r = ME.extract_regions(coarse, 0.9, 1.0, fine=fine, window_pad_px=4)[0]
    assert r.box == (80, 95, 40, 5)
    no_fine = ME.extract_regions(coarse, 0.9, 1.0)[0]
    assert no_fine.area_px > 1000


def test_zones_touched_in_px_percent_and_mm():
    m = np.zeros((100, 200), np.float32)
    m[10:20, 10:20] = 2.0
    wo = WorkOrder(
        "WO", pixel_size_mm=0.1,
        zones=(Zone("A", (0, 0, 1.5, 1.5), "mm"), Zone("B", (50, 0, 100, 100), "%"), Zone("C", (15, 15, 30, 30), "px")),
    )
    zones = ME.zone_boxes(wo, 200, 100)
    r = ME.extract_regions(m, 0.9, 1.0, zones=zones)[0]
    assert r.zones == ("A", "C")


def test_mm_zone_without_pixel_size_is_skipped_not_fatal():
    wo = WorkOrder("WO", zones=(Zone("A", (0, 0, 1, 1), "mm"), Zone("B", (0, 0, 50, 50), "%")))
    assert [n for n, _ in ME.zone_boxes(wo, 100, 100)] == ["B"]


def test_sizes_in_mm_and_none_without_pixel_size():
    m = np.zeros((100, 100), np.float32)
    m[10:20, 10:50] = 2.0
    r = ME.extract_regions(m, 0.9, 1.0, rel_extent=0.0)[0]
    s = ME.sizes_mm(r, 0.05)
    assert s["length_mm"] == pytest.approx(2.0)
    assert s["width_mm"] == pytest.approx(0.5)
    assert s["area_mm2"] == pytest.approx(400 * 0.0025)
    assert s["diameter_mm"] == pytest.approx(2 * math.sqrt(400 / math.pi) * 0.05, rel=1e-3)
    assert all(v is None for v in ME.sizes_mm(r, None).values())

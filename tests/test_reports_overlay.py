"""Overlay rendering: colours by outcome, heat map blending, labels, thumbnails, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.domain import ClauseCheck, Finding, Outcome, Region, Verdict, VerdictKind
from inspector.reports.errors import OverlayError
from inspector.reports.overlay import (
    OUTCOME_RGB,
    finding_label,
    finding_outcomes,
    render_overlay,
    resize_max,
    thumbnail,
)


def _finding(box, kind="scratch", length=0.8, uncertain=False, contour=True):
    x, y, w, h = box
    c = ((x, y), (x + w, y), (x + w, y + h), (x, y + h)) if contour else ()
    return Finding(Region(box, float(w * h), float(max(w, h)), float(min(w, h)), 1.5, c), kind, 0.8,
                   length_mm=length, uncertain=uncertain)


def _mask(img, rgb):
    return np.all(img == np.array(rgb, dtype=np.uint8), axis=2)


def _grey(h=400, w=600):
    return np.full((h, w, 3), 128, np.uint8)


def test_outcome_colours_follow_the_clause_checks():
    f_fail, f_pass = _finding((100, 200, 80, 10)), _finding((400, 250, 60, 12), "pitting", 0.1)
    v = Verdict(VerdictKind.NG, (ClauseCheck("§2", Outcome.FAIL, 0), ClauseCheck("§3", Outcome.PASS, 1)))
    img = _grey()
    out = render_overlay(img, [f_fail, f_pass], verdict=v, labels=False)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.all(img == 128), "input must not be modified"
    red, green = _mask(out, OUTCOME_RGB["fail"]), _mask(out, OUTCOME_RGB["pass"])
    ys, xs = np.nonzero(red[150:, :300])
    assert len(xs) > 50 and 95 <= xs.min() and xs.max() <= 185
    ys, xs = np.nonzero(green)
    assert len(xs) > 50 and xs.min() >= 390
    assert not red[:, 350:].any() or red[:, 350:].sum() < red[:, :350].sum()


def test_worst_outcome_wins_and_uncertain_unchecked_is_review():
    fs = [_finding((0, 0, 5, 5)), _finding((10, 10, 5, 5), uncertain=True), _finding((20, 20, 5, 5))]
    v = Verdict(VerdictKind.NG, (ClauseCheck("§1", Outcome.PASS, 0), ClauseCheck("§2", Outcome.FAIL, 0),
                                 ClauseCheck("§3", Outcome.REVIEW, 2)))
    assert finding_outcomes(fs, v) == ["fail", "review", "review"]
    assert finding_outcomes(fs[:1], None) == ["none"]


def test_labels_are_drawn_with_type_and_size():
    f = _finding((200, 200, 80, 10), length=0.8)
    assert finding_label(f) == "scratch 0.80 mm"
    with_l = render_overlay(_grey(), [f], labels=True)
    without = render_overlay(_grey(), [f], labels=False)
    diff = np.any(with_l != without, axis=2)
    ys, xs = np.nonzero(diff)
    assert len(ys) > 100, "label pixels expected"
    assert ys.max() < 205, "label goes above the region"


def test_box_when_no_contour_and_verdict_tag():
    f = _finding((50, 60, 40, 30), contour=False)
    v = Verdict(VerdictKind.REVIEW, (ClauseCheck("§2", Outcome.REVIEW, 0),))
    out = render_overlay(_grey(), [f], verdict=v, labels=False)
    amber = _mask(out, OUTCOME_RGB["review"])
    assert amber[60, 50:90].all() or amber[59:62, 50:90].any(axis=0).all()
    assert amber[:20, :40].sum() > 50, "REVIEW tag in the top-left corner"


def test_heat_map_blends_only_where_anomalous():
    img = _grey(100, 100)
    amap = np.zeros((25, 25), np.float32)
    amap[10:15, 10:15] = 2.0
    out = render_overlay(img, [], anomaly_map=amap, labels=False)
    assert np.array_equal(out[:20, :20], img[:20, :20])
    centre = out[50, 50].astype(int)
    assert centre[0] >= 120 and centre[0] > centre[2] + 40, f"hot spot should be red, got {centre}"
    assert np.any(out[40:60, 40:60] != img[40:60, 40:60])


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32), "not an image"])
def test_bad_images_raise(bad):
    with pytest.raises(OverlayError):
        render_overlay(bad, [])


def test_bad_map_raises():
    with pytest.raises(OverlayError):
        render_overlay(_grey(), [], anomaly_map=np.zeros((2, 2, 2), np.float32))


def test_thumbnail_scales_geometry():
    img = _grey(1200, 1600)
    f = _finding((800, 600, 200, 20))
    v = Verdict(VerdictKind.NG, (ClauseCheck("§2", Outcome.FAIL, 0),))
    th = thumbnail(img, 320, [f], verdict=v, labels=False)
    assert th.shape == (240, 320, 3)
    ys, xs = np.nonzero(_mask(th, OUTCOME_RGB["fail"])[60:, :])
    assert 155 <= xs.min() <= 162 and 198 <= xs.max() <= 206, (xs.min(), xs.max())
    plain = thumbnail(img, 320)
    assert plain.shape == (240, 320, 3) and np.all(plain == 128)
    small, s = resize_max(_grey(50, 60), 320)
    assert s == 1.0 and small.shape == (50, 60, 3)
    with pytest.raises(OverlayError):
        thumbnail(img, 2)


def test_labels_of_neighbouring_findings_do_not_cover_each_other():
    from inspector.reports.overlay import _draw_label, _overlaps

    img = _grey()
    taken: list = []
    for _ in range(3):
        _draw_label(img, "1: scratch 2.00 mm", 300, 200, OUTCOME_RGB["fail"], 0.5, 1, taken)
    assert len(taken) == 3
    assert not any(_overlaps(a, b) for k, a in enumerate(taken) for b in taken[k + 1:])
    assert _mask(img, OUTCOME_RGB["fail"]).sum() > 3 * 100

"""Teach-time miss-rate estimate, example labels in the order's words, mixed image sizes, ELPV accounting."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.domain import Analysis, Finding, ModelInfo, Region
from inspector.model import probes as P
from inspector.model.base import LabelledExample, ModelError, TeachResult
from inspector.model.vlm import EmbeddedVLM
from inspector.training import eval_elpv
from inspector.training.synth import make_part, make_sample
from inspector.workorder import parse_work_order

ORDER = """Order: WO-77
Part: BR-256
Pixel size: 0.05 mm/px
1. No cracks.
2. Scratches up to 1.0 mm long are allowed.
3. Pits up to 0.4 mm diameter.
"""


def _goods(seed: int, n: int, size=(256, 256)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [make_part(rng, size, "bracket") for _ in range(n)]


# -- probes -------------------------------------------------------------------------------------


def test_probe_sizes_follow_the_order_limits():
    wo = parse_work_order(ORDER)
    specs = P.specs_for(wo, 256, 256)
    assert [(s.shape, round(s.size_px)) for s in specs] == [("disc", 8), ("line", 20)]
    assert "scratch 1 mm" in specs[1].what and "§2" in specs[1].what


def test_probe_sizes_without_limits_or_pixel_size_are_image_fractions():
    no_px = parse_work_order(ORDER.replace("Pixel size: 0.05 mm/px\n", ""))
    for wo in (None, no_px):
        specs = P.specs_for(wo, 300, 200)
        assert [(s.shape, round(s.size_px)) for s in specs] == [("disc", 4), ("line", 12)]


def test_paint_marks_exactly_where_it_changed_the_image():
    img = np.full((64, 80, 3), 120, np.uint8)
    out, mask = P.paint(img, P.ProbeSpec("line", 20, "line"), np.random.default_rng(0))
    changed = np.abs(out.astype(int) - img).max(axis=2) > 5
    assert mask.any() and changed[mask].mean() > 0.9
    import cv2

    grown = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert not changed[~grown].any()  # nothing painted outside the probe's own pixels (+2 px of antialiasing)
    assert abs(int(out[mask].mean()) - 120) >= P.MIN_DELTA * 0.5


# -- the real backend: estimate, labels, sizes --------------------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return EmbeddedVLM(tmp_path_factory.mktemp("refs"), device="cpu")


@pytest.mark.slow
def test_teach_reports_the_miss_estimate_at_this_and_other_targets(model):
    wo = parse_work_order(ORDER)
    res = model.teach("BR-256", _goods(1, 12), work_order=wo)
    m = res.miss_estimate
    assert 0.0 <= m["estimated_miss"] <= m["estimated_not_rejected"] <= 1.0
    assert m["n_probes"] == 12 * 2 and [p["shape"] for p in m["per_probe"]] == ["disc", "line"]
    points = m["operating_points"]
    assert [p["target_false_reject"] for p in points] == sorted(p["target_false_reject"] for p in points)
    misses = [p["estimated_miss"] for p in points]
    assert misses == sorted(misses, reverse=True)  # a looser threshold never misses more
    assert res.extra["estimated_miss"] == m["estimated_miss"]
    lines = res.operating_lines()
    assert lines[0].startswith("at this threshold: ~1.0% false rejects") and "missed" in lines[0]
    assert any("scratch 1 mm" in ln for ln in lines)
    meta = model.reference("BR-256").meta
    assert meta["miss_estimate"]["estimated_miss"] == m["estimated_miss"]


@pytest.mark.slow
def test_estimate_says_big_defects_are_caught_and_tiny_ones_are_not(model):
    goods = _goods(2, 10)
    big = parse_work_order(ORDER.replace("up to 1.0 mm long", "up to 4.0 mm long").replace("0.4 mm", "2.0 mm"))
    tiny = parse_work_order(ORDER.replace("up to 1.0 mm long", "up to 0.1 mm long").replace("0.4 mm", "0.1 mm"))
    m_big = model.teach("BR-B", goods, work_order=big).miss_estimate
    m_tiny = model.teach("BR-T", goods, work_order=tiny).miss_estimate
    assert m_big["estimated_miss"] < m_tiny["estimated_miss"]


def _example(label: str) -> LabelledExample:
    image, infos = make_sample(np.random.default_rng(5), [{"type": "crack", "size_px": 40}], size=(256, 256),
                               kind="bracket")
    return LabelledExample(image, label, box=tuple(infos[0]["box"]))


@pytest.mark.slow
def test_example_labels_match_the_orders_words_in_any_case_and_plural(model):
    wo = parse_work_order(ORDER)
    res = model.teach("BR-L", _goods(3, 6), [_example("Cracks"), _example("CRACK")], work_order=wo)
    assert res.n_examples == 2 and res.extra["prototypes"] >= 2
    assert set(model.reference("BR-L").prototypes) == {"crack"}


def test_an_example_label_the_order_does_not_name_is_an_error_naming_label_and_words(model):
    wo = parse_work_order(ORDER)
    with pytest.raises(ModelError) as e:
        model.teach("BR-X", _goods(3, 6), [_example("Banana")], work_order=wo)
    msg = str(e.value)
    assert "'Banana'" in msg and "crack" in msg and "scratch" in msg and "pitting" in msg
    assert not model.is_taught("BR-X")


@pytest.mark.slow
def test_mixed_image_sizes_are_taught_at_the_smallest_and_said(model):
    goods = _goods(4, 4, (256, 256)) + _goods(5, 4, (320, 288))
    res = model.teach("BR-M", goods)
    assert res.notes and "2 sizes" in res.notes[0] and "256x256" in res.notes[0]
    meta = model.reference("BR-M").meta
    assert meta["image_sizes"] == [[256, 256], [320, 288]] and meta["pixel_stats"] is False
    assert model.analyze(goods[5], parse_work_order(ORDER.replace("BR-256", "BR-M"))).image_score >= 0


# -- ELPV accounting with a fake backend --------------------------------------------------------


def test_auroc_counts_ties_half():
    assert eval_elpv.auroc([0, 1], [2, 3]) == 1.0
    assert eval_elpv.auroc([2, 3], [0, 1]) == 0.0
    assert eval_elpv.auroc([1, 1], [1, 1]) == 0.5
    assert eval_elpv.auroc([], [1]) is None


class _ScoreBackend:
    """Scores an image by its mean grey level / 100; a score >= 1 makes one unnamed finding."""

    def __init__(self):
        self.taught: list[int] = []

    def teach(self, part, images, *, work_order=None, seed=0):
        self.taught += [int(im[0, 0, 0]) for im in images]
        return TeachResult(part, len(images), 1.0, 0.9, 0.01, miss_estimate={"estimated_miss": 0.25},
                           extra={"estimated_miss": 0.25})

    def analyze_batch(self, images, order):
        out = []
        for im in images:
            s = float(im.mean()) / 100
            region = Region(box=(1, 1, 4, 4), area_px=16, length_px=4, width_px=4, score=s)
            findings = [Finding(region, "unknown", uncertain=False)] if s >= 1.0 else []
            out.append(Analysis(np.zeros((2, 2), np.float32), s, findings, {"threshold": 1.0},
                                ModelInfo("fake", "0", "0" * 64, "cpu")))
        return out


def test_elpv_protocol_accounting_on_generated_cells():
    # 30 good cells (grey 50..79), 10 defective (5 at 150 -> caught, 5 at 60 -> missed), one module type
    n_good = 30
    images = np.concatenate([np.full((n_good, 8, 8), 50, np.uint8) + np.arange(n_good, dtype=np.uint8)[:, None, None],
                             np.full((5, 8, 8), 150, np.uint8), np.full((5, 8, 8), 60, np.uint8)])
    probs = np.array([0.0] * n_good + [1.0] * 10)
    types = np.array(["mono"] * 40)
    be = _ScoreBackend()
    r = eval_elpv.elpv_protocol(be, n_teach=10, n_test=20, modules=("mono",), data=(images, probs, types))
    m = r["modules"][0]
    assert (m["teach"], m["good"], m["defective"]) == (10, 20, 10)
    assert m["miss_rate"] == 0.5 and m["false_reject_rate"] == 0.0 and m["false_call_rate"] == 0.0
    assert m["verdicts_defective"] == {"OK": 5, "NG": 5, "REVIEW": 0}  # catch-all: unnamed finding -> NG
    assert m["estimated_miss"] == 0.25 and r["miss_rate"] == 0.5
    assert 0.5 < m["auroc"] < 1.0
    taught = set(be.taught)
    tested_good = {int(v) for v in images[:n_good, 0, 0]} - taught
    assert len(taught) == 10 and len(tested_good) == 20  # teach and test cells are disjoint

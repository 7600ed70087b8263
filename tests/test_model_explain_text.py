"""Template explanations, the faithfulness checker and the explainer's fallback path."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.domain import Analysis, Finding, ModelInfo, Region, VerdictKind
from inspector.model.explain import Explainer, check_explanation, template_explanation
from inspector.model.explain_text import gather_facts
from inspector.spec import judge
from inspector.workorder.loader import parse_work_order

SIZE = (512, 512)
ORDER = """WORK ORDER
Order: WO-7001
Part: BR-7
Pixel size: 0.05 mm/px
Zone A: x 5-20 mm, y 5-20 mm

Acceptance criteria:
1. No cracks anywhere on the part.
2. Scratches up to 1.0 mm long are allowed outside zone A; no scratches in zone A.
3. Pits up to 0.4 mm diameter, at most 3 per part.
4. Dents up to 0.8 mm.
5. Surface finish shall be visually uniform.
"""


def finding(t, box, length, area=0.05, diameter=0.3, zones=(), uncertain=False, type_uncertain=False):
    x, y, w, h = box
    region = Region(box=box, area_px=w * h, length_px=max(w, h), width_px=min(w, h), score=2.0,
                    contour=((x, y), (x + w, y), (x + w, y + h), (x, y + h)), zones=zones)
    return Finding(region=region, defect_type=t, type_score=0.9, length_mm=length, width_mm=0.05,
                   area_mm2=area, diameter_mm=diameter, uncertain=uncertain, type_uncertain=type_uncertain)


def case(findings):
    wo = parse_work_order(ORDER)
    verdict = judge(findings, wo)
    analysis = Analysis(anomaly_map=np.zeros((4, 4), np.float32), image_score=2.0, findings=findings,
                        thresholds={"type_min": 0.5}, model=ModelInfo("t", "1", "-"))
    return analysis, verdict, wo


@pytest.fixture
def scratch_ng():
    """A 1.35 mm scratch in the bottom right, outside zone A: NG by §2a (limit 1.0 mm)."""
    return case([finding("scratch", (400, 420, 27, 3), 1.35)])


HAND_CASES = [
    [finding("scratch", (150, 150, 20, 3), 1.0, zones=("A",))],  # in zone A: ban
    [finding("crack", (250, 240, 30, 4), 0.85)],
    [finding("pitting", (240 + 20 * i, 250, 5, 5), 0.2, diameter=0.2) for i in range(4)],  # count
    [finding("dent", (40, 300, 20, 20), 0.9, diameter=0.95, uncertain=True)],  # REVIEW
    [finding("burr", (40, 300, 20, 6), 0.9)],  # type the spec does not name: REVIEW
    [finding("dent", (40, 300, 20, 20), 1.9, diameter=1.2), finding("crack", (300, 40, 20, 3), 1.0)],
    [finding("unknown", (300, 300, 10, 10), 0.5)],
]


@pytest.mark.parametrize("findings", HAND_CASES)
def test_template_is_short_and_passes_the_checker(findings):
    analysis, verdict, wo = case(findings)
    assert verdict.kind in (VerdictKind.NG, VerdictKind.REVIEW)
    text = template_explanation(analysis, verdict, wo, image_size=SIZE)
    assert 1 <= text.count(". ") + 1 <= 3
    assert check_explanation(text, analysis, verdict, wo, image_size=SIZE) == []
    assert template_explanation(analysis, verdict, wo, image_size=SIZE) == text  # deterministic


def test_template_states_type_place_size_clause_and_verdict(scratch_ng):
    text = template_explanation(*scratch_ng, image_size=SIZE)
    for part in ("scratch", "1.35 mm", "bottom right", "§2a", "1.0 mm", "NG"):
        assert part in text, (part, text)


def test_ok_template():
    analysis, verdict, wo = case([])
    assert verdict.kind is VerdictKind.OK
    text = template_explanation(analysis, verdict, wo)
    assert "OK" in text and check_explanation(text, analysis, verdict, wo) == []


GOOD = ("A scratch 1.35 mm long was found in the bottom right of the image. "
        "§2a allows scratches up to 1.0 mm long outside zone A, so the part is rejected (NG).")


@pytest.mark.parametrize("bad,expected", [
    (GOOD.replace("1.35 mm", "1.53 mm"), "size"),
    (GOOD.replace("1.35 mm", "0.9 mm"), "missing size"),
    (GOOD.replace("A scratch", "A dent").replace("allows scratches", "allows dents"), "wrong defect type"),
    (GOOD + " A crack was also seen.", "invented defect type 'crack'"),
    (GOOD.replace("§2a", "§3"), "clause §3 is not among"),
    (GOOD.replace("§2a allows", "It allows"), "missing clause §2a"),
    (GOOD.replace("rejected (NG)", "accepted (OK)"), "wrong verdict word"),
    (GOOD.replace("so the part is rejected (NG)", "which matters"), "missing verdict"),
    (GOOD.replace("bottom right", "top left"), "location"),
    (GOOD + " It is long. It is thin.", "too long"),
    ("", "empty"),
])
def test_checker_catches(scratch_ng, bad, expected):
    assert check_explanation(GOOD, *scratch_ng, image_size=SIZE) == []
    problems = check_explanation(bad, *scratch_ng, image_size=SIZE)
    assert any(expected in p for p in problems), problems


def test_checker_accepts_rounding_and_rejects_beyond_it(scratch_ng):
    ok = GOOD.replace("1.35 mm", "1.4 mm")  # 1.35 written with one decimal
    assert check_explanation(ok, *scratch_ng, image_size=SIZE) == []
    assert check_explanation(GOOD.replace("1.35 mm", "1.2 mm"), *scratch_ng, image_size=SIZE)
    assert check_explanation(GOOD.replace("1.35 mm", "1.33 mm"), *scratch_ng, image_size=SIZE)


def test_checker_counts():
    analysis, verdict, wo = case(HAND_CASES[2])
    text = template_explanation(analysis, verdict, wo, image_size=SIZE)
    assert "4 pits" in text
    problems = check_explanation(text.replace("4 pits", "5 pits"), analysis, verdict, wo, image_size=SIZE)
    assert any(p.startswith("count") for p in problems), problems


def test_checker_appearance_uses_pixels(scratch_ng):
    analysis, verdict, wo = scratch_ng
    image = np.full((512, 512, 3), 160, np.uint8)
    image[420:423, 400:427] = 40  # the scratch is dark
    dark = GOOD.replace("A scratch", "A dark scratch")
    assert check_explanation(dark, analysis, verdict, wo, image=image) == []
    bright = GOOD.replace("A scratch", "A bright scratch")
    assert any("appearance" in p for p in check_explanation(bright, analysis, verdict, wo, image=image))


def test_generated_cases_templates_and_paraphrases_pass():
    from inspector.training.explain_cases import make_cases
    from inspector.training.explain_data import paraphrases

    cases = make_cases(6, seed=123, real_share=0.0)
    assert len(cases) == 6
    for i, c in enumerate(cases):
        size = (c.image.shape[1], c.image.shape[0])
        text = template_explanation(c.analysis, c.verdict, c.work_order, image_size=size)
        assert check_explanation(text, c.analysis, c.verdict, c.work_order, image=c.image) == [], text
        texts, rejected = paraphrases(np.random.default_rng(i), c, k=4)
        assert rejected == 0 and len(texts) >= 2


class _Canned(Explainer):
    """An explainer whose 'model' returns a fixed text (the fallback logic is what is tested)."""

    def __init__(self, text):
        super().__init__(device="cpu")
        self.text = text

    def generate(self, image, analysis, facts, work_order):
        return self.text


def test_fallback_records_problems(scratch_ng):
    image = np.zeros((512, 512, 3), np.uint8)
    e = _Canned(GOOD.replace("1.35", "2.70")).explain(image, *scratch_ng)
    assert e.fallback and e.generator == "template"
    assert e.text == template_explanation(*scratch_ng, image_size=SIZE)
    assert any("size" in p for p in e.problems)


def test_faithful_generation_is_kept(scratch_ng):
    image = np.zeros((512, 512, 3), np.uint8)
    e = _Canned(GOOD).explain(image, *scratch_ng)
    assert not e.fallback and e.text == GOOD and e.problems == ()


def test_missing_weights_fall_back_with_reason(scratch_ng, tmp_path):
    ex = Explainer(device="cpu", weights=tmp_path)
    image = np.zeros((512, 512, 3), np.uint8)
    e = ex.explain(image, *scratch_ng)
    assert e.fallback and any("weights missing" in p for p in e.problems)
    e2 = ex.explain(image, *scratch_ng)  # the load error is remembered, not retried each part
    assert e2.fallback and e2.problems == e.problems


def test_facts_order_fail_before_review():
    analysis, verdict, wo = case([finding("dent", (40, 300, 20, 20), 0.9, diameter=0.95, uncertain=True),
                                  finding("crack", (300, 40, 20, 3), 1.0)])
    facts = gather_facts(analysis, verdict, wo, SIZE)
    assert facts.verdict is VerdictKind.NG
    assert facts.main.defect_type == "crack" and facts.points[1].kind == "review"

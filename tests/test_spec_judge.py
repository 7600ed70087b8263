"""judge(): findings + work order -> OK / NG / REVIEW with clause checks and reasons."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inspector.domain import (
    Finding,
    Outcome,
    Region,
    SpecClause,
    VerdictKind,
    WorkOrder,
    Zone,
)
from inspector.spec import judge
from inspector.workorder import load_work_order, parse_work_order

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "workorders"


@pytest.fixture(scope="module")
def wo1001() -> WorkOrder:
    return load_work_order(SAMPLES / "WO-1001_bracket.txt")


def finding(
    typ: str,
    *,
    length: float | None = None,
    width: float | None = None,
    diameter: float | None = None,
    area: float | None = None,
    zones: tuple[str, ...] = (),
    uncertain: bool = False,
    type_uncertain: bool = False,
    type_score: float = 0.9,
) -> Finding:
    region = Region(box=(10, 10, 20, 8), area_px=120.0, length_px=20.0, width_px=8.0, score=1.6, zones=zones)
    return Finding(
        region=region,
        defect_type=typ,
        type_score=type_score,
        length_mm=length,
        width_mm=width,
        diameter_mm=diameter,
        area_mm2=area,
        uncertain=uncertain,
        type_uncertain=type_uncertain,
        type_candidates=((typ, type_score), ("dent", 0.3)),
    )


def by_clause(verdict, clause_id):
    return [c for c in verdict.checks if c.clause_id == clause_id]


def test_no_findings_is_ok_and_every_rule_is_checked(wo1001):
    v = judge([], wo1001)
    assert v.kind is VerdictKind.OK
    assert v.reasons == ("no defects found; 7 clauses checked",)
    assert [c.clause_id for c in v.checks] == ["§1", "§2a", "§2b", "§3a", "§3b", "§4", "§5"]
    assert all(c.outcome is Outcome.PASS and c.finding_index is None for c in v.checks)
    assert v.clause_ids == ()


def test_scratch_within_limit_passes(wo1001):
    v = judge([finding("scratch", length=0.5, width=0.05)], wo1001)
    assert v.kind is VerdictKind.OK
    (check,) = [c for c in by_clause(v, "§2a") if c.finding_index == 0]
    assert (check.outcome, check.measure, check.measured, check.limit, check.unit) == (
        Outcome.PASS,
        "length",
        0.5,
        1.0,
        "mm",
    )
    assert check.reason == "WO-1001 §2a: scratch 0.50 mm long ≤ 1.00 mm allowed outside zone A"
    assert v.reasons == ("1 finding within the limits of WO-1001; 7 clauses checked",)


def test_scratch_over_limit_is_ng_with_the_clause_cited(wo1001):
    v = judge([finding("scratch", length=1.4)], wo1001)
    assert v.kind is VerdictKind.NG
    assert v.reasons == ("WO-1001 §2a: scratch 1.40 mm long > 1.00 mm allowed outside zone A",)
    assert v.clause_ids == ("§2a",)
    (check,) = [c for c in v.checks if c.outcome is Outcome.FAIL]
    assert (check.finding_index, check.measured, check.limit) == (0, 1.4, 1.0)


def test_zone_rules_inside_and_outside(wo1001):
    inside = judge([finding("scratch", length=0.2, zones=("A",))], wo1001)
    assert inside.kind is VerdictKind.NG
    assert inside.reasons == ("WO-1001 §2b: scratch found in zone A, none allowed there",)
    # the 'outside zone A' length rule does not apply inside zone A
    assert not [c for c in by_clause(inside, "§2a") if c.finding_index == 0]
    outside = judge([finding("scratch", length=0.2, zones=("B",))], wo1001)
    assert outside.kind is VerdictKind.OK
    assert [c.clause_id for c in outside.checks if c.finding_index == 0] == ["§2a"]


def test_presence_ban(wo1001):
    v = judge([finding("crack", length=0.1)], wo1001)
    assert v.kind is VerdictKind.NG
    assert v.reasons == ("WO-1001 §1: crack found, none allowed",)
    (check,) = [c for c in v.checks if c.outcome is Outcome.FAIL]
    assert (check.clause_id, check.measure, check.limit, check.unit) == ("§1", "count", 0.0, "count")


def test_count_clause_counts_findings_of_the_type_across_the_part(wo1001):
    three = judge([finding("pitting", diameter=0.2) for _ in range(3)], wo1001)
    assert three.kind is VerdictKind.OK
    four = judge([finding("pits", diameter=0.2) for _ in range(4)], wo1001)  # 'pits' canonicalises
    assert four.kind is VerdictKind.NG
    (check,) = [c for c in four.checks if c.outcome is Outcome.FAIL]
    assert (check.clause_id, check.finding_index, check.measured, check.limit) == ("§3b", None, 4.0, 3.0)
    assert four.reasons == ("WO-1001 §3b: 4 pitting findings > 3 allowed per part",)


def test_uncertain_findings_go_to_review_never_ng(wo1001):
    v = judge([finding("crack", length=0.3, uncertain=True)], wo1001)
    assert v.kind is VerdictKind.REVIEW
    assert v.reasons[0].startswith("WO-1001 §1: crack found, none allowed; uncertain detection")
    v = judge([finding("scratch", length=5.0, type_uncertain=True)], wo1001)
    assert v.kind is VerdictKind.REVIEW
    assert "defect type uncertain (scratch 0.90, dent 0.30)" in v.reasons[0]


def test_type_min_makes_low_type_scores_uncertain(wo1001):
    f = finding("dent", diameter=0.3, type_score=0.35)
    assert judge([f], wo1001).kind is VerdictKind.OK
    assert judge([f], wo1001, type_min=0.5).kind is VerdictKind.REVIEW


def test_ng_wins_over_review_and_comes_first(wo1001):
    v = judge([finding("burn mark", length=0.4), finding("dent", diameter=1.2)], wo1001)
    assert v.kind is VerdictKind.NG
    assert v.reasons[0] == "WO-1001 §4: dent 1.20 mm diameter > 0.80 mm allowed"
    assert v.reasons[1].startswith("WO-1001: burn mark found, a type the spec does not name")


def test_unnamed_and_unknown_types_are_review(wo1001):
    v = judge([finding("burn mark", length=0.4)], wo1001)
    assert v.kind is VerdictKind.REVIEW
    (check,) = [c for c in v.checks if c.finding_index == 0]
    assert check.clause_id == "" and check.outcome is Outcome.REVIEW
    v = judge([finding("unknown", length=0.4)], wo1001)
    assert v.reasons == (
        "WO-1001: unidentified defect found (spec names crack, scratch, pitting, dent, stain)",
    )


def test_missing_measure_is_review():
    wo = parse_work_order("Order: WO-7\n\n1. Dents up to 0.8 mm\n2. No cracks\n")  # no pixel size
    v = judge([finding("dent")], wo)
    assert v.kind is VerdictKind.REVIEW
    assert v.reasons == (
        "WO-7 §1: dent diameter not measured (the work order has no pixel size, so sizes in mm "
        "are unknown); limit ≤ 0.80 mm",
    )
    assert judge([finding("crack")], wo).kind is VerdictKind.NG  # a ban needs no measurement


def test_depth_cannot_be_measured():
    wo = parse_work_order(
        "Order: WO-7\nPixel size: 0.05 mm\n\n1. Scratches deeper than 0.05 mm not permitted\n"
    )
    v = judge([finding("scratch", length=0.3)], wo)
    assert v.kind is VerdictKind.REVIEW and "depth cannot be measured" in v.reasons[0]


def test_non_checkable_clause_naming_the_type_is_review():
    wo = parse_work_order(
        "Order: WO-8\nPixel size: 0.05 mm\n\n1. No cracks\n2. Burrs shall be removed by hand\n"
    )
    v = judge([finding("burr", length=0.2)], wo)
    assert v.kind is VerdictKind.REVIEW
    assert v.clause_ids == ("§2",)
    assert v.reasons[0].startswith('WO-8 §2: burr found; "Burrs shall be removed by hand" needs a person')
    # a non-checkable sentence that names no type does not affect findings
    ok = judge(
        [finding("dent", diameter=0.1)],
        parse_work_order(
            "Order: WO-8\nPixel size: 0.05 mm\n\n1. Dents up to 0.5 mm\n2. Inspect under diffuse light\n"
        ),
    )
    assert ok.kind is VerdictKind.OK


def test_generic_defect_clause_applies_to_every_type():
    wo = parse_work_order(
        "Order: WO-9\nPixel size: 0.05 mm\nZone A: x 0-5 mm, y 0-5 mm\n\n1. No defects in zone A\n"
        "2. Scratches up to 1 mm\n"
    )
    assert judge([finding("unknown", zones=("A",))], wo).kind is VerdictKind.NG
    assert judge([finding("scratch", length=0.5, zones=("A",))], wo).kind is VerdictKind.NG
    assert judge([finding("scratch", length=0.5)], wo).kind is VerdictKind.OK
    assert judge([finding("unknown")], wo).kind is VerdictKind.REVIEW  # outside A nothing names it


def test_type_limited_to_another_zone_passes_elsewhere():
    wo = parse_work_order("Order: WO-9\nZone A: x 0-50 %, y 0-50 %\n\n1. No scratches in zone A\n")
    v = judge([finding("scratch", length=3.0)], wo)
    assert v.kind is VerdictKind.OK
    assert "where the clause does not apply" in by_clause(v, "§1")[0].reason


def test_uncertain_findings_in_a_count_make_review():
    wo = parse_work_order("Order: WO-9\nPixel size: 0.05 mm\n\n1. At most 2 pits per part\n")
    sure = [finding("pitting", diameter=0.1) for _ in range(2)]
    v = judge(sure + [finding("pitting", diameter=0.1, uncertain=True)], wo)
    assert v.kind is VerdictKind.REVIEW
    assert "WO-9 §1: 3 possible pitting findings (1 uncertain) > 2 allowed per part" in v.reasons
    assert judge(sure * 2, wo).kind is VerdictKind.NG


def test_strict_less_than_fails_at_the_limit():
    wo = parse_work_order("Order: WO-9\nPixel size: 0.05 mm\n\n1. Scratches less than 0.5 mm\n")
    v = judge([finding("scratch", length=0.5)], wo)
    assert v.kind is VerdictKind.NG
    assert v.reasons == ("WO-9 §1: scratch 0.50 mm long ≥ 0.50 mm, must be < 0.50 mm",)


def test_reasons_are_ordered_by_severity():
    wo = parse_work_order(
        "Order: WO-9\nPixel size: 0.05 mm\n\n1. Scratches up to 0.5 mm (minor)\n2. Dents up to 0.5 mm\n"
        "3. No cracks\n"
    )
    v = judge([finding("scratch", length=0.9), finding("dent", diameter=0.9), finding("crack")], wo)
    assert [r.split(":")[0] for r in v.reasons] == ["WO-9 §3", "WO-9 §2", "WO-9 §1"]


def test_zone_that_cannot_be_located_is_review():
    # built by hand (the parser refuses mm zones without a pixel size)
    clause = SpecClause(
        id="§1",
        number=1,
        text="No scratches in zone A",
        checkable=True,
        defect_type="scratch",
        measure="count",
        comparison="<=",
        limit=0.0,
        unit="count",
        zone="A",
        zone_mode="inside",
    )
    wo = WorkOrder(order_id="WO-H", clauses=(clause,), zones=(Zone("A", (0, 0, 5, 5), "mm"),))
    v = judge([finding("scratch", length=0.1)], wo)
    assert v.kind is VerdictKind.REVIEW and "cannot be located" in v.reasons[0]


def test_area_and_width_limits(wo1001):
    wo = parse_work_order(
        "Order: WO-9\nPixel size: 0.05 mm\n\n1. Stains up to 0.25 mm²\n2. Scratches up to 0.1 mm wide\n"
    )
    v = judge([finding("stain", area=0.4), finding("scratch", width=0.05, length=3)], wo)
    assert v.kind is VerdictKind.NG
    assert v.reasons == ("WO-9 §1: stain 0.40 mm² > 0.25 mm² allowed",)


def test_judge_is_pure(wo1001):
    fs = [finding("scratch", length=1.4), finding("pitting", diameter=0.1)]
    assert judge(fs, wo1001) == judge(list(fs), wo1001)
    assert judge(tuple(fs), wo1001) == judge(fs, wo1001)


def test_random_findings_verdicts_agree_with_their_checks(wo1001):
    rng = random.Random(7)
    types = ["scratch", "pitting", "dent", "crack", "stain", "burn mark", "unknown", "pits"]
    ids = {c.id for c in wo1001.clauses}
    for _ in range(300):
        fs = [
            finding(
                rng.choice(types),
                length=rng.choice([None, rng.uniform(0, 3)]),
                diameter=rng.uniform(0, 1.5),
                area=rng.uniform(0, 1),
                zones=rng.choice([(), ("A",)]),
                uncertain=rng.random() < 0.15,
                type_uncertain=rng.random() < 0.15,
            )
            for _ in range(rng.randrange(0, 6))
        ]
        v = judge(fs, wo1001)
        outcomes = {c.outcome for c in v.checks}
        expected = (
            VerdictKind.NG
            if Outcome.FAIL in outcomes
            else VerdictKind.REVIEW
            if Outcome.REVIEW in outcomes
            else VerdictKind.OK
        )
        assert v.kind is expected and v.reasons
        assert all(c.clause_id in ids or c.clause_id == "" for c in v.checks)
        for i in range(len(fs)):  # every finding is accounted for by at least one check
            assert any(c.finding_index == i for c in v.checks) or any(
                c.finding_index is None and c.measure == "count" for c in v.checks
            )
        if any(f.uncertain or f.type_uncertain for f in fs) and v.kind is VerdictKind.NG:
            # NG never comes from an uncertain detection; from an uncertain type only when every
            # candidate type is rejected (the reason says so)
            fails = [c for c in v.checks if c.outcome is Outcome.FAIL]
            assert all(c.finding_index is None or not fs[c.finding_index].uncertain for c in fails)
            assert all(
                c.finding_index is None
                or not fs[c.finding_index].type_uncertain
                or "rejected whichever it is" in c.reason
                for c in fails
            )

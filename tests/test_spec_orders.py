"""The same findings judged under different work orders give the verdicts those limits imply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.domain import Finding, Region, VerdictKind
from inspector.spec import judge
from inspector.workorder import load_work_order, parse_work_order

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "workorders"


def finding(typ: str, zones: tuple[str, ...] = (), **mm: float) -> Finding:
    region = Region(box=(0, 0, 12, 6), area_px=50.0, length_px=12.0, width_px=6.0, score=2.0, zones=zones)
    return Finding(region=region, defect_type=typ, type_score=0.9, **mm)


@pytest.fixture(scope="module")
def orders():
    return load_work_order(SAMPLES / "WO-1001_bracket.txt"), load_work_order(
        SAMPLES / "WO-1002_bracket_strict.txt"
    )


# findings -> (verdict under WO-1001, verdict under WO-1002, clause that decides under WO-1002)
CASES = [
    ("clean part", [], VerdictKind.OK, VerdictKind.OK, None),
    (
        "0.6 mm scratch outside the sealing face",
        [finding("scratch", length_mm=0.6, width_mm=0.05)],
        VerdictKind.OK,
        VerdictKind.NG,
        "§2a",
    ),
    ("two 0.3 mm pits", [finding("pitting", diameter_mm=0.3)] * 2, VerdictKind.OK, VerdictKind.NG, "§3a"),
    ("two 0.15 mm pits", [finding("pitting", diameter_mm=0.15)] * 2, VerdictKind.OK, VerdictKind.NG, "§3b"),
    ("0.5 mm dent", [finding("dent", diameter_mm=0.5)], VerdictKind.OK, VerdictKind.NG, "§4"),
    ("0.1 mm dent", [finding("dent", diameter_mm=0.1)], VerdictKind.OK, VerdictKind.OK, None),
    ("1.2 mm scratch", [finding("scratch", length_mm=1.2)], VerdictKind.NG, VerdictKind.NG, "§2a"),
    ("crack", [finding("crack", length_mm=0.2)], VerdictKind.NG, VerdictKind.NG, "§1"),
]


@pytest.mark.parametrize("name,findings,v1001,v1002,decisive", CASES, ids=[c[0] for c in CASES])
def test_same_findings_two_orders(orders, name, findings, v1001, v1002, decisive):
    base, strict = orders
    a, b = judge(findings, base), judge(findings, strict)
    assert (a.kind, b.kind) == (v1001, v1002)
    if decisive:
        assert decisive in b.clause_ids
        assert b.reasons[0].startswith(f"WO-1002 {decisive}:")


def test_the_strict_order_cites_its_own_limit(orders):
    base, strict = orders
    fs = [finding("scratch", length_mm=0.6)]
    assert judge(fs, base).reasons == ("1 finding within the limits of WO-1001; 7 clauses checked",)
    assert judge(fs, strict).reasons == (
        "WO-1002 §2a: scratch 0.60 mm long > 0.30 mm allowed outside zone A",
    )


def test_spindle_order_limits():
    wo = load_work_order(SAMPLES / "WO-2001_spindle.yaml")
    small = [finding("pitting", diameter_mm=0.25, zones=("raceway",))]
    assert judge(small, wo).kind is VerdictKind.OK
    big = [finding("pitting", diameter_mm=1.3, zones=("raceway",))]
    v = judge(big, wo)
    assert v.kind is VerdictKind.NG
    assert v.reasons == ("WO-2001 §1: pitting 1.30 mm diameter > 0.30 mm allowed",)
    two = [finding("pitting", diameter_mm=0.1)] * 2
    assert judge(two, wo).reasons == ("WO-2001 §2: 2 pitting findings > 1 allowed per part",)
    relaxed = parse_work_order(
        "Order: WO-2009\nPart: BSD-2\nPixel size: 0.03 mm\n\n1. No pitting larger than 1.5 mm diameter\n"
        "2. At most 3 pits per spindle section\n"
    )
    assert judge(big, relaxed).kind is VerdictKind.OK
    assert judge(two, relaxed).kind is VerdictKind.OK


def test_text_and_json_forms_of_one_order_judge_alike():
    text = parse_work_order(
        "Order: WO-77\nPixel size: 0.05 mm\nZone A: x 0-10 mm, y 0-10 mm\n\n"
        "1. No cracks\n2. Scratches up to 0.5 mm outside zone A; none in zone A\n3. At most 2 pits\n"
    )
    js = parse_work_order(
        json.dumps(
            {
                "order": "WO-77",
                "pixel_size_mm": 0.05,
                "zones": [{"name": "A", "x": [0, 10], "y": [0, 10]}],
                "spec": [
                    "No cracks",
                    "Scratches up to 0.5 mm outside zone A; none in zone A",
                    "At most 2 pits",
                ],
            }
        )
    )
    for fs in (
        [],
        [finding("scratch", length_mm=0.4)],
        [finding("scratch", ("A",), length_mm=0.1)],
        [finding("pitting", diameter_mm=0.1)] * 3,
        [finding("crack")],
    ):
        a, b = judge(fs, text), judge(fs, js)
        assert (a.kind, a.reasons, a.checks) == (b.kind, b.reasons, b.checks)

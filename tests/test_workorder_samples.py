"""The sample work orders shipped in sample_data/workorders/ (the demo depends on two of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.domain import Zone
from inspector.workorder import load_work_order

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "workorders"


def rule(wo, typ, measure, zone_mode="anywhere", zone=None):
    found = [
        c
        for c in wo.clauses
        if c.checkable and (c.defect_type, c.measure, c.zone_mode, c.zone) == (typ, measure, zone_mode, zone)
    ]
    assert len(found) == 1, f"{typ} {measure} {zone_mode} {zone}: {found}"
    return found[0]


def test_every_sample_loads_and_all_formats_are_covered():
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".txt", ".json", ".yaml", ".yml"))
    assert len(files) >= 5
    formats = {load_work_order(p).source_format for p in files}
    assert formats == {"text", "json", "yaml"}
    for p in files:
        wo = load_work_order(p)
        assert wo.order_id and p.name.startswith(wo.order_id)
        assert any(c.checkable for c in wo.clauses) and any(not c.checkable for c in wo.clauses)


def test_wo_1001_bracket():
    wo = load_work_order(SAMPLES / "WO-1001_bracket.txt")
    assert (wo.order_id, wo.part_number, wo.lot, wo.quantity) == ("WO-1001", "BR-100", "L-2026-11-A", 22)
    assert wo.pixel_size_mm == pytest.approx(0.05)
    assert wo.zones == (Zone("A", (5.0, 5.0, 20.0, 20.0), "mm"),)
    assert wo.zones[0].to_px(512, 512, wo.pixel_size_mm) == (100, 100, 400, 400)
    crack = rule(wo, "crack", "count")
    assert crack.limit == 0 and crack.severity == "critical"
    assert rule(wo, "scratch", "length", "outside", "A").limit == pytest.approx(1.0)
    assert rule(wo, "scratch", "count", "inside", "A").limit == 0
    assert rule(wo, "pitting", "diameter").limit == pytest.approx(0.4)
    assert rule(wo, "pitting", "count").limit == 3
    assert rule(wo, "dent", "diameter").limit == pytest.approx(0.8)
    assert rule(wo, "stain", "count").limit == 0
    assert [c.id for c in wo.clauses if not c.checkable] == ["§6"]
    assert wo.vocabulary == ("crack", "scratch", "pitting", "dent", "stain")


def test_wo_1002_is_a_strict_variant_of_wo_1001():
    base = load_work_order(SAMPLES / "WO-1001_bracket.txt")
    strict = load_work_order(SAMPLES / "WO-1002_bracket_strict.txt")
    assert strict.part_number == base.part_number and strict.zones == base.zones
    assert strict.pixel_size_mm == base.pixel_size_mm

    def key(c):
        return (c.defect_type, c.measure, c.zone_mode, c.zone)

    base_rules = {key(c): c for c in base.clauses if c.checkable}
    strict_rules = {key(c): c for c in strict.clauses if c.checkable}
    assert base_rules.keys() == strict_rules.keys()
    tighter = [k for k in base_rules if strict_rules[k].limit < base_rules[k].limit]
    assert all(strict_rules[k].limit <= base_rules[k].limit for k in base_rules)
    assert len(tighter) >= 4


def test_wo_2001_spindle():
    wo = load_work_order(SAMPLES / "WO-2001_spindle.yaml")
    assert (wo.order_id, wo.part_number, wo.source_format) == ("WO-2001", "BSD-2", "yaml")
    assert wo.lot and wo.pixel_size_mm == pytest.approx(0.03)
    pit = rule(wo, "pitting", "diameter")
    assert (pit.comparison, pit.limit, pit.severity) == ("<=", pytest.approx(0.3), "critical")
    assert rule(wo, "pitting", "count").limit == 1
    assert rule(wo, "corrosion", "count", "inside", "raceway").limit == 0
    assert wo.zones[0].unit == "%"


def test_wo_3001_plate_json():
    wo = load_work_order(SAMPLES / "WO-3001_plate.json")
    assert wo.source_format == "json" and wo.pixel_size_mm == pytest.approx(0.04)
    assert rule(wo, "burr", "count", "inside", "H").limit == 0
    assert rule(wo, "chip", "diameter", "inside", "E").limit == pytest.approx(0.5)
    assert rule(wo, "stain", "area").unit == "mm2"
    assert rule(wo, "scratch", "width").severity == "minor"


def test_wo_4001_units():
    wo = load_work_order(SAMPLES / "WO-4001_shaft_imperial.txt")
    assert wo.pixel_size_mm == pytest.approx(0.0254) and wo.quantity == 1200
    scratch = rule(wo, "scratch", "length")
    assert (scratch.limit, scratch.limit_text) == (pytest.approx(0.508), "0.020 in")
    pit = rule(wo, "pitting", "diameter")
    assert (pit.limit, pit.limit_text) == (pytest.approx(0.15), "150 µm")
    assert rule(wo, "dent", "diameter", "outside", "J").limit == pytest.approx(0.254)
    chip = rule(wo, "chip", "diameter")
    assert (chip.limit, chip.limit_text, chip.severity) == (pytest.approx(0.25), "250 um", "minor")
    assert [c.id for c in wo.clauses][:2] == ["§1", "§2a"]


def test_wo_5001_housing_yaml_block():
    wo = load_work_order(SAMPLES / "WO-5001_housing.yml")
    assert wo.pixel_size_mm == pytest.approx(0.04)
    assert [z.unit for z in wo.zones] == ["px", "px"]
    assert rule(wo, "porosity", "count", "inside", "F").limit == 0
    assert rule(wo, "flash", "count", "inside", "B").limit == 0


def test_clauses_survive_the_plain_data_round_trip():
    from inspector.domain import clause_from_data, to_data

    for p in sorted(SAMPLES.iterdir()):
        if p.suffix in (".txt", ".json", ".yaml", ".yml"):
            wo = load_work_order(p)
            assert tuple(clause_from_data(d) for d in to_data(wo)["clauses"]) == wo.clauses

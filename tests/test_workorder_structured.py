"""JSON and YAML work orders give the same WorkOrder as plain text; their errors name lines."""

from __future__ import annotations

import dataclasses
import json

import pytest

from inspector.workorder import WorkOrderError, load_work_order, parse_work_order

TEXT = """Order: WO-3001
Part: SP-220
Lot: L-10
Quantity: 500
Pixel size: 0.04 mm/px
Zone H: x 200-800 px, y 150-450 px

1. No cracks.
2. Burrs up to 0.2 mm are allowed outside zone H; no burrs in zone H.
3. Dents not more than 1.0 mm across, max. 2 per part.
4. Coating thickness per drawing.
"""

JSON_DOC = {
    "order": "WO-3001",
    "part": "SP-220",
    "lot": "L-10",
    "quantity": 500,
    "pixel_size_mm": 0.04,
    "zones": [{"name": "H", "x": [200, 800], "y": [150, 450], "unit": "px"}],
    "spec": [
        "No cracks.",
        "Burrs up to 0.2 mm are allowed outside zone H; no burrs in zone H.",
        {"text": "Dents not more than 1.0 mm across, max. 2 per part."},
        "Coating thickness per drawing.",
    ],
}

YAML_DOC = """order: WO-3001
part: SP-220
lot: L-10
quantity: 500
pixel_size: 40 µm
zones:
  H: x 200-800 px, y 150-450 px
spec:
  - No cracks.
  - Burrs up to 0.2 mm are allowed outside zone H; no burrs in zone H.
  - text: Dents not more than 1.0 mm across, max. 2 per part.
  - Coating thickness per drawing.
"""

YAML_BLOCK = """order: WO-3001
part: SP-220
lot: L-10
quantity: 500
pixel_size_mm: 0.04
zones:
  - {name: H, box: [200, 150, 800, 450], unit: px}
spec: |
  1. No cracks.
  2. Burrs up to 0.2 mm are allowed outside zone H; no burrs in zone H.
  3. Dents not more than 1.0 mm across, max. 2 per part.
  4. Coating thickness per drawing.
"""


def _rules(wo):
    return [dataclasses.replace(c, line=0) for c in wo.clauses]


def test_all_formats_give_the_same_work_order():
    t = parse_work_order(TEXT)
    variants = [
        parse_work_order(json.dumps(JSON_DOC, indent=2), "json"),
        parse_work_order(YAML_DOC, "yaml"),
        parse_work_order(YAML_BLOCK),  # sniffed as YAML
    ]
    for wo in variants:
        assert (wo.order_id, wo.part_number, wo.lot, wo.quantity) == ("WO-3001", "SP-220", "L-10", 500)
        assert wo.pixel_size_mm == pytest.approx(0.04)
        assert wo.zones == t.zones
        assert _rules(wo) == _rules(t)
    assert [v.source_format for v in variants] == ["json", "yaml", "yaml"]
    assert [c.id for c in t.clauses] == ["§1", "§2a", "§2b", "§3a", "§3b", "§4"]


def _line_of(doc: str, fragment: str) -> int:
    return doc[: doc.index(fragment)].count("\n") + 1


def test_clause_lines_point_into_the_document():
    doc = json.dumps(JSON_DOC, indent=2)
    wo = parse_work_order(doc, "json")
    expected = [_line_of(doc, w) for w in ("No cracks", "Burrs", "Burrs", "Dents", "Dents", "Coating")]
    assert [c.line for c in wo.clauses] == expected
    assert expected[0] > 10
    assert [c.line for c in parse_work_order(YAML_DOC).clauses] == [9, 10, 10, 11, 11, 12]
    assert [c.line for c in parse_work_order(YAML_BLOCK).clauses] == [9, 10, 10, 11, 11, 12]


def test_structured_clause_fields_override_the_text():
    doc = {
        "order": "X",
        "pixel_size_mm": 0.05,
        "zones": {"A": {"label": "seal", "x": [0, 20], "y": [0, 10]}},
        "spec": [
            {"text": "Chips up to 0.5 mm", "zone": "A", "severity": "minor", "id": "§7"},
            {"text": "Dents up to 0.8 mm", "zone": "A", "zone_mode": "outside", "number": 9},
            "No cracks",
        ],
    }
    wo = parse_work_order(json.dumps(doc))
    chips, dents, cracks = wo.clauses
    assert (chips.id, chips.zone_mode, chips.zone, chips.severity) == ("§7", "inside", "A", "minor")
    assert (dents.id, dents.zone_mode, dents.zone, dents.severity) == ("§9", "outside", "A", "major")
    assert cracks.id == "§10"
    assert wo.zones[0].unit == "mm"


@pytest.mark.parametrize(
    "doc,fmt,line,problem",
    [
        (
            '{\n  "order": "X",\n  "spec": ["No cracks"]\n  "lot": 1\n}',
            "json",
            4,
            "malformed JSON: Expecting ','",
        ),
        ('{"order": "X", "order": "Y", "spec": ["No cracks"]}', "json", 1, "key 'order' appears twice"),
        ("[1, 2]", "json", 1, "must be a mapping"),
        ("[" * 100000, "json", None, "malformed JSON"),
        ("order: X\nspec:\n  - No cracks\n  - text: a\n   severity: b\n", "yaml", 5, "malformed YAML"),
        ("order: X\nspec: [No cracks\n", "yaml", 3, "malformed YAML"),
        ("order: X\norder: Y\nspec: [No cracks]\n", "yaml", 2, "key 'order' appears twice"),
        ("order: X\nspec:\n  - No cracks\n  - no\n", "yaml", 4, "spec item 2 is not text: got False"),
        ("order: X\nspec: [No cracks]\n---\norder: Y\n", "yaml", 3, "malformed YAML"),
        ("order: X\npixle_size_mm: 0.05\nspec: [No cracks]\n", "yaml", 2, "did you mean 'pixel_size_mm'?"),
        ("order: X\nquantity: -3\nspec: [No cracks]\n", "yaml", 2, "quantity must be positive"),
        ("order: X\nquantity: 2.5\nspec: [No cracks]\n", "yaml", 2, "whole number"),
        ("order: X\nquantity: true\nspec: [No cracks]\n", "yaml", 2, "quantity must be text or a number"),
        ("order: X\npixel_size_mm: -0.1\nspec: [No cracks]\n", "yaml", 2, "pixel size must be positive"),
        ("order: X\npixel_size_mm: fast\nspec: [No cracks]\n", "yaml", 2, "not a number with a unit"),
        ("order: X\npixel_size: -20 µm\nspec: [No cracks]\n", "yaml", 2, "pixel size must be positive"),
        ("order: X\nspec:\n  - text: No cracks\n    severity: fatal\n", "yaml", 3, "severity 'fatal'"),
        ("order: X\nspec:\n  - text: No cracks\n    colour: red\n", "yaml", 3, "unknown key(s) ['colour']"),
        (
            "order: X\nzones: {A: {x: [0, 5], y: [0, 5], unit: px}}\nspec:\n  - {text: No dents in zone A, zone: B}\n",
            "yaml",
            4,
            "clause gives zone 'B' but its text says inside zone A",
        ),
        (
            "order: X\nzones: [{name: A, x: [0, 5]}]\nspec: [No cracks]\n",
            "yaml",
            2,
            "give 'x' and 'y' ranges",
        ),
        (
            "order: X\nzones: [{name: A, x: [0, a], y: [0, 5], unit: px}]\nspec: [No cracks]\n",
            "yaml",
            2,
            "x must be a list of numbers",
        ),
        ("order: X\nspec: 42\n", "yaml", 2, "must be a list of clauses or a text"),
        (
            "order: X\nspec: |\n  1. No cracks\n  2. Scratches up to 3 furlong\n",
            "yaml",
            4,
            "unknown unit 'furlong'",
        ),
        ('{"order": "X", "spec": "1. No cracks\\n2. Scratches up to 3 furlong"}', "json", 1, "unknown unit"),
        ("part: P\nspec: [No cracks]\n", "yaml", None, "no order id (add a key 'order: WO-1234')"),
        ("order: X\n", "yaml", None, "no spec clauses"),
    ],
)
def test_structured_errors(doc, fmt, line, problem):
    with pytest.raises(WorkOrderError) as ei:
        parse_work_order(doc, fmt, source_name=f"wo.{fmt}")
    assert problem in ei.value.problem
    assert ei.value.line == line
    assert ei.value.source == f"wo.{fmt}"


def test_yaml_dates_and_numbers_become_text():
    wo = parse_work_order("order: 1001\nlot: 2026-11-01\nrevision: 3\nspec: [No cracks]\n")
    assert (wo.order_id, wo.lot, wo.revision) == ("1001", "2026-11-01", "3")


def test_extra_keys_are_kept_in_the_header():
    wo = parse_work_order(
        '{"order": "X", "material": "6061-T6", "image_size": [512, 512], "spec": ["No cracks"]}'
    )
    assert wo.header["material"] == "6061-T6" and wo.header["image_size"] == "[512, 512]"


def test_load_by_extension(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(JSON_DOC))
    (tmp_path / "b.yml").write_text(YAML_DOC)
    assert load_work_order(tmp_path / "a.json").source_format == "json"
    assert load_work_order(tmp_path / "b.yml").source_format == "yaml"
    (tmp_path / "c.txt").write_text(YAML_DOC)  # .txt is read as plain text, whatever it looks like
    as_text = load_work_order(tmp_path / "c.txt")
    assert as_text.source_format == "text" and not as_text.zone("H").defined  # 'H: x ...' is no zone line

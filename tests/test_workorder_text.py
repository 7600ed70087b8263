"""Plain-text work orders: header, zones, numbering, continuation lines."""

from __future__ import annotations

import pytest

from inspector.domain import Zone
from inspector.workorder import WorkOrderError, load_work_order, parse_work_order

DOC = """WORK ORDER
Order: WO-1234
Part number: BR-100
Lot: L-7
Qty: 1,200 pcs
Customer: ACME
Rev: C
Pixel size: 0.02 mm/px
Zone A "sealing face": x 5-20 mm, y 5-20 mm
Zone seal: 10%-90% x, 0%-30% y
Zone B (bore): x 0-200 px, y 0-100 px
Drawing: BR-100-D rev 3

Acceptance criteria:
1. No cracks.
3) Scratches up to 0.5 mm
   outside zone A.
§5 Pits up to 0.2 mm, at most 2 per part.
- Inspect under diffuse light.
"""


def test_header_fields_and_zones():
    wo = parse_work_order(DOC, source_name="WO-1234.txt")
    assert wo.order_id == "WO-1234" and wo.part_number == "BR-100" and wo.lot == "L-7"
    assert wo.quantity == 1200 and wo.customer == "ACME" and wo.revision == "C"
    assert wo.pixel_size_mm == pytest.approx(0.02)
    assert wo.zones == (
        Zone("A", (5.0, 5.0, 20.0, 20.0), "mm"),
        Zone("seal", (10.0, 0.0, 90.0, 30.0), "%"),
        Zone("B", (0.0, 0.0, 200.0, 100.0), "px"),
    )
    assert wo.header["Drawing"] == "BR-100-D rev 3"
    assert wo.header["Qty"] == "1,200 pcs"
    assert wo.header["Title"] == "WORK ORDER"
    assert wo.source_format == "text" and wo.source_text == DOC


def test_numbering_as_written_and_sequential_for_bullets():
    wo = parse_work_order(DOC)
    assert [c.id for c in wo.clauses] == ["§1", "§3", "§5a", "§5b", "§6"]
    assert [c.line for c in wo.clauses] == [15, 16, 18, 18, 19]
    scratch = wo.clause("§3")
    assert scratch.text == "Scratches up to 0.5 mm outside zone A."  # the continuation line is joined
    assert (scratch.zone_mode, scratch.zone) == ("outside", "A")
    assert not wo.clause("§6").checkable


def test_one_sentence_per_line_without_numbers():
    wo = parse_work_order("Order: X\n\nNo cracks.\nDents up to 0.8 mm\nscratches up to 0.5 mm\n")
    assert [(c.id, c.defect_type) for c in wo.clauses] == [("§1", "crack"), ("§2", "dent"), ("§3", "scratch")]


def test_wrapped_line_without_numbers_continues_when_lower_case():
    wo = parse_work_order(
        "Order: X\n\nScratches up to 0.5 mm are allowed\noutside the sealing area\nNo cracks.\n"
    )
    assert len(wo.clauses) == 2
    assert wo.clauses[0].text == "Scratches up to 0.5 mm are allowed outside the sealing area"


def test_sub_bullets_belong_to_their_numbered_item():
    doc = "Order: X\n\n3. Pits:\n   - up to 0.4 mm diameter\n   - at most 3 per part\n4. No cracks\n"
    wo = parse_work_order(doc)
    assert [(c.id, c.measure, c.limit) for c in wo.clauses] == [
        ("§3a", "diameter", 0.4),
        ("§3b", "count", 3),
        ("§4", "count", 0),
    ]


def test_unnumbered_preface_does_not_collide_with_written_numbers():
    wo = parse_work_order("Order: X\n\nInspect every part.\n1. No cracks\n2. No dents\n")
    assert sorted(c.id for c in wo.clauses) == ["§1", "§2", "§3"]
    assert wo.clauses[0].id == "§3" and not wo.clauses[0].checkable


def test_rule_like_header_line_goes_to_the_spec():
    wo = parse_work_order("Order: X\nScratches: max 0.5 mm\n")
    assert wo.clauses[0].defect_type == "scratch" and wo.clauses[0].limit == 0.5
    assert "Scratches" not in wo.header


def test_known_header_key_after_the_spec_is_still_read():
    wo = parse_work_order("Order: X\n\n1. No cracks\nLot: L-9\n")
    assert wo.lot == "L-9" and len(wo.clauses) == 1


@pytest.mark.parametrize(
    "text,mm",
    [
        ("0.02 mm/px", 0.02),
        ("0.02 mm per pixel", 0.02),
        ("20 µm", 0.02),
        ("20 um/px", 0.02),
        ("20 μm", 0.02),
        ("0.001 in", 0.0254),
        ("0.001 in/px", 0.0254),
        ("50 px/mm", 0.02),
        ("0,05 mm", 0.05),
        ("0.05", 0.05),
        ("1270 dpi", 0.02),
    ],
)
def test_pixel_size_forms(text, mm):
    wo = parse_work_order(f"Order: X\nPixel size: {text}\n\n1. No cracks\n")
    assert wo.pixel_size_mm == pytest.approx(mm)


@pytest.mark.parametrize(
    "value,problem",
    [
        ("-0.05 mm", "must be positive"),
        ("0 mm", "must be positive"),
        ("fast", "not a number"),
        ("0.05 kg", "not a number with a unit"),
        ("", "pixel size is empty"),
    ],
)
def test_bad_pixel_size(value, problem):
    with pytest.raises(WorkOrderError, match=problem) as ei:
        parse_work_order(f"Order: X\nPixel size: {value}\n\n1. No cracks\n")
    assert ei.value.line == 2


@pytest.mark.parametrize(
    "value,problem",
    [
        ("-12", "must be positive"),
        ("0", "must be positive"),
        ("twelve", "not a number"),
        ("12.5", "whole number"),
    ],
)
def test_bad_quantity(value, problem):
    with pytest.raises(WorkOrderError, match=problem) as ei:
        parse_work_order(f"Order: X\nQuantity: {value}\n\n1. No cracks\n")
    assert ei.value.line == 2


@pytest.mark.parametrize(
    "zone,problem",
    [
        ("Zone A: x 20-5 mm, y 0-10 mm", "empty box"),
        ("Zone A: x 0-20 mm", "cannot read the y range"),
        ("Zone A: x 0-20 mm, y 0-10 px", "x is in 'mm' but y in 'px'"),
        ("Zone A: x 0-20, y 0-10", "give a unit"),
        ("Zone A: 0%-120% x, 0%-30% y", "above 100"),
    ],
)
def test_bad_zone_lines(zone, problem):
    with pytest.raises(WorkOrderError, match=problem) as ei:
        parse_work_order(f"Order: X\nPixel size: 0.05 mm\n{zone}\n\n1. No cracks\n")
    assert ei.value.line == 3


def test_zone_in_mm_needs_a_pixel_size():
    with pytest.raises(WorkOrderError, match="zone 'A' is in mm but the work order has no pixel size") as ei:
        parse_work_order("Order: X\nZone A: x 0-20 mm, y 0-10 mm\n\n1. No cracks in zone A\n")
    assert ei.value.line == 2


def test_zone_in_inches_is_converted_to_mm():
    wo = parse_work_order(
        'Order: X\nPixel size: 0.001 in\nZone J "journal": x 0.2-1.2 in, y 0-0.375 in\n\n1. No cracks\n'
    )
    assert wo.zones[0] == Zone("J", (5.08, 0.0, 30.48, 9.525), "mm")


def test_zone_defined_twice():
    with pytest.raises(WorkOrderError, match="defined twice") as ei:
        parse_work_order("Order: X\nZone A: x 0-9 px, y 0-9 px\nZone a: x 0-5 px, y 0-5 px\n\n1. No cracks\n")
    assert ei.value.line == 3


def test_duplicate_header_key_and_duplicate_clause_number():
    with pytest.raises(WorkOrderError, match="given twice") as ei:
        parse_work_order("Order: X\nOrder: Y\n\n1. No cracks\n")
    assert ei.value.line == 2
    with pytest.raises(WorkOrderError, match="clause §1 is numbered twice") as ei:
        parse_work_order("Order: X\n\n1. No cracks\n1. No dents\n")
    assert ei.value.line == 4


def test_missing_order_id_and_missing_spec():
    with pytest.raises(WorkOrderError, match="no order id") as ei:
        parse_work_order("Part: P\n\n1. No cracks\n")
    assert ei.value.line is None
    with pytest.raises(WorkOrderError, match="no spec clauses"):
        parse_work_order("Order: X\nPart: P\n")
    with pytest.raises(WorkOrderError, match="order id 'WO 1\\$' has characters"):
        parse_work_order("Order: WO 1$\n\n1. No cracks\n")


def test_error_attributes_and_message(tmp_path):
    p = tmp_path / "WO-1234.txt"
    p.write_text(
        "Order: WO-1234\nPixel size: 0.05 mm\n\n1. No cracks\n2. Dents up to 0.8 mm\n3. scratches up to 2 furlong\n"
    )
    with pytest.raises(WorkOrderError) as ei:
        load_work_order(p)
    err = ei.value
    assert isinstance(err, ValueError)
    assert (err.source, err.line) == ("WO-1234.txt", 6)
    assert err.problem == "unknown unit 'furlong' in 'scratches up to 2 furlong'"
    assert str(err) == "WO-1234.txt line 6: unknown unit 'furlong' in 'scratches up to 2 furlong'"


def test_load_sniffs_unknown_extensions_and_reads_windows_text(tmp_path):
    p = tmp_path / "order.dat"
    p.write_bytes("Order: WO-5\r\nPixel size: 20 µm\r\n\r\n1. Pits up to 50 µm\r\n".encode("cp1252"))
    wo = load_work_order(p)
    assert wo.pixel_size_mm == pytest.approx(0.02) and wo.clauses[0].limit == pytest.approx(0.05)
    q = tmp_path / "order.wo"
    q.write_bytes("\ufeffOrder: WO-6\n\n1. No cracks\n".encode("utf-8"))
    assert load_work_order(q).order_id == "WO-6"
    r = tmp_path / "order16.txt"
    r.write_bytes("Order: WO-7\n\n1. No cracks\n".encode("utf-16"))
    assert load_work_order(r).order_id == "WO-7"


def test_missing_file_is_a_work_order_error(tmp_path):
    with pytest.raises(WorkOrderError, match="cannot read the file") as ei:
        load_work_order(tmp_path / "nope.txt")
    assert ei.value.source == "nope.txt"


def test_parse_accepts_bytes_and_rejects_unknown_format():
    assert parse_work_order(b"Order: X\n\n1. No cracks\n").order_id == "X"
    with pytest.raises(WorkOrderError, match="unknown format 'xml'"):
        parse_work_order("Order: X\n\n1. No cracks\n", fmt="xml")

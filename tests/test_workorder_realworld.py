"""Issue 9 failure classes: inflections, unknown words flagged, undefined zones, zone scope,
catch-alls, counts per unit, bounded input, all errors at once, and the check command."""

from __future__ import annotations

import os
import threading

import pytest

from inspector.cli import main
from inspector.domain import Finding, Region, VerdictKind
from inspector.spec import judge
from inspector.workorder import WorkOrderError, load_work_order, parse_work_order

HEAD = "Order: WO-7\nPixel size: 0.05 mm/px\n\n"


def order(*sentences: str):
    return parse_work_order(HEAD + "".join(f"{i}. {s}\n" for i, s in enumerate(sentences, 1)))


def finding(
    t: str, *, zones=(), uncertain=False, type_uncertain=False, cands=(), length=1.0, dia=0.5
) -> Finding:
    region = Region(box=(10, 10, 20, 8), area_px=120.0, length_px=20.0, width_px=8.0, score=1.6, zones=zones)
    return Finding(
        region, t, 0.9, cands, length, 0.1, 0.2, dia, uncertain=uncertain, type_uncertain=type_uncertain
    )


@pytest.mark.parametrize(
    "sentence,types",
    [
        ("No chips, burrs, porosities, voids or pin-holes", ["chip", "burr", "porosity", "void", "pinhole"]),
        ("Scratches and dents not permitted", ["scratch", "dent"]),
        ("Cracks or cold shuts are rejected", ["crack", "cold shut"]),
        ("Solder bridges and tombstoned parts not acceptable", ["short circuit", "tombstone"]),
        ("No sink marks, flow lines or short shots", ["sink mark", "weld line", "short shot"]),
    ],
)
def test_inflections_and_compounds_give_one_clause_per_kind(sentence, types):
    wo = order(sentence)
    assert [c.defect_type for c in wo.clauses] == types
    assert all(c.checkable and c.limit == 0 and not c.flags for c in wo.clauses)


def test_a_place_phrase_is_not_part_of_the_defect_type():
    c = order("Burrs on the mounting holes not permitted").clauses[0]
    assert (c.defect_type, c.zone, c.zone_mode) == ("burr", "mounting hole", "inside")


def test_noun_as_adjective_before_a_measure():
    c = order("Blisters with surface areas above 4 mm² are rejected").clauses[0]
    assert (c.defect_type, c.measure, c.comparison, c.limit, c.checkable) == (
        "blister",
        "area",
        "<=",
        4,
        True,
    )


def test_unknown_words_are_kept_but_flagged_and_strict_check_fails(tmp_path, capsys):
    c = order("Bananas not allowed").clauses[0]
    assert c.checkable and c.defect_type == "banana"
    assert c.flags == ("'bananas' is not a defect term I know: checked only by taught examples",)
    p = tmp_path / "wo.txt"
    p.write_text(HEAD + "1. Bananas not allowed\n")
    assert main(["workorder", "check", str(p)]) == 0
    assert main(["workorder", "check", "--strict", str(p)]) == 1
    assert "'bananas' is not a defect term I know" in capsys.readouterr().out


def test_undefined_zones_are_zones_to_draw_never_a_contradiction():
    wo = order("Scratches up to 0.2 mm on the mating face", "Scratches up to 1.0 mm outside the mating face")
    assert [(c.zone, c.zone_mode, c.limit) for c in wo.clauses] == [
        ("mating face", "inside", 0.2),
        ("mating face", "outside", 1.0),
    ]
    assert not wo.zone("mating face").defined
    v = judge([finding("scratch", length=0.5)], wo)
    assert v.kind is VerdictKind.REVIEW
    assert "zone 'mating face' not drawn yet" in v.reasons[0]


def test_undefined_zone_in_a_structured_clause_is_a_zone_to_draw():
    wo = parse_work_order("order: X\nspec:\n  - text: No dents\n    zone: Q\n", "yaml")
    assert (wo.clauses[0].zone, wo.zone("Q").defined) == ("Q", False)


def test_a_zone_applies_to_its_own_sentence_only():
    wo = order("Scratches up to 0.5 mm on the sealing face. Dents must go to review.")
    dents = [c for c in wo.clauses if c.defect_type == "dent"][0]
    assert dents.zone is None and dents.zone_mode == "anywhere" and not dents.checkable


@pytest.mark.parametrize(
    "sentence",
    [
        "No other defects permitted",
        "Any other visible defect: reject",
        "All other defects are rejectable",
        "Defects not listed above are cause for rejection",
    ],
)
def test_catch_all_wordings(sentence):
    c = order("No cracks", sentence).clauses[1]
    assert (c.catch_all, c.defect_type, c.measure, c.comparison, c.limit, c.checkable) == (
        True,
        "defect",
        "count",
        "<=",
        0,
        True,
    )


def test_catch_all_makes_unnamed_and_type_uncertain_findings_ng_but_not_uncertain_detections():
    wo = order("Scratches up to 1 mm", "No other defects permitted")
    v = judge([finding("burn mark")], wo)
    assert v.kind is VerdictKind.NG and v.reasons[0].startswith("WO-7 §2: burn mark found")
    cands = (("crack", 0.41), ("scratch", 0.38))
    v = judge([finding("crack", type_uncertain=True, cands=cands, length=0.3)], wo)
    assert v.kind is VerdictKind.NG
    assert v.reasons[0] == (
        "WO-7 §2: defect of uncertain type (crack 0.41, scratch 0.38) found; no other defects permitted"
    )
    assert judge([finding("burn mark", uncertain=True)], wo).kind is VerdictKind.REVIEW
    assert judge([finding("scratch", length=0.5)], wo).kind is VerdictKind.OK
    without = order("Scratches up to 1 mm")
    assert judge([finding("burn mark")], without).kind is VerdictKind.REVIEW


def test_uncertain_type_is_ng_when_every_candidate_is_rejected():
    wo = order("No cracks", "No scratches")
    cands = (("crack", 0.41), ("scratch", 0.38))
    v = judge([finding("crack", type_uncertain=True, cands=cands)], wo)
    assert v.kind is VerdictKind.NG and "rejected whichever it is (§1, §2)" in v.reasons[0]
    mixed = order("No cracks", "Scratches up to 2 mm")
    assert judge([finding("crack", type_uncertain=True, cands=cands)], mixed).kind is VerdictKind.REVIEW


@pytest.mark.parametrize(
    "sentence,per,base",
    [
        ("Max. 3 solder balls per panel", "panel", None),
        ("At most 2 pits per frame", "frame", None),
        ("No more than 2 spots per image", "image", None),
        ("At most 5 pits per 100 cm²", "area", 10_000),
        ("Max. 3 pores in any 100 mm of weld", "length", 100),
        ("At most 2 slubs per linear metre", "length", 1000),
        ("At most 3 dents per part", "part", None),
    ],
)
def test_counts_per_unit(sentence, per, base):
    c = order(sentence).clauses[0]
    assert c.checkable and c.measure == "count" and (c.count_per, c.count_base) == (per, base)


def test_judge_scales_counts_per_area_and_needs_the_image_size():
    wo = order("At most 5 pits per 100 cm²")  # 1000 x 1000 px at 0.05 mm = 25 cm²
    two = [finding("pitting"), finding("pitting")]
    v = judge(two, wo, image_size=(1000, 1000))
    assert (
        v.kind is VerdictKind.NG
        and "2 pitting findings in 25.0 cm² = 8.0 per 100 cm² > 5 allowed" in v.reasons[0]
    )
    assert judge([finding("pitting")], wo, image_size=(1000, 1000)).kind is VerdictKind.OK
    v = judge(two, wo)
    assert v.kind is VerdictKind.REVIEW and "the image size is not known" in v.reasons[0]


@pytest.mark.parametrize(
    "sentence,problem",
    [
        ("Scratches up to -1.0 mm", "negative limit '-1.0 mm'"),
        ("Scratches up to nan mm", "'nan' is not a number"),
        ("Scratches up to inf mm", "'inf' is not a number"),
        ("at most -3 pits", "negative limit '-3'"),
        ("Scratches up to 50000 mm", "absurdly large"),
        ("Scratches up to " + "9" * 40 + " mm", "40-digit number"),
    ],
)
def test_bad_numbers_are_refused(sentence, problem):
    with pytest.raises(WorkOrderError) as ei:
        order(sentence)
    assert problem in ei.value.problem and ei.value.line == 4


@pytest.mark.parametrize(
    "doc,fmt,problem",
    [
        ('{"order": "X", "pixel_size_mm": NaN, "spec": ["No cracks"]}', "json", "NaN is not a number"),
        ('{"order": "X", "quantity": 1e400, "spec": ["No cracks"]}', "json", "must be a finite number"),
        ("order: X\nquantity: .nan\nspec: [No cracks]\n", "yaml", "must be a finite number"),
        ("Order: X\nQuantity: " + "9" * 5000 + "\n\n1. No cracks\n", "text", "absurdly large"),
        ("order: X\nquantity: " + "9" * 5000 + "\nspec: [No cracks]\n", "yaml", "digits"),
        (
            '{"order": "X", "a": ' + "[" * 5000 + "]" * 5000 + ', "spec": ["No cracks"]}',
            "json",
            "nested too deeply",
        ),
        ("order: X\na: " + "[" * 5000 + "]" * 5000 + "\nspec: [No cracks]\n", "yaml", "nested too deeply"),
        ("Order: X\n\n1. " + "x" * 30_000 + "\n", "text", "characters long"),
    ],
)
def test_bounded_input(doc, fmt, problem):
    with pytest.raises(WorkOrderError) as ei:
        parse_work_order(doc, fmt)
    assert problem in str(ei.value)


def test_yaml_alias_bomb_is_refused_quickly():
    rows = ["order: X", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 9)]
    with pytest.raises(WorkOrderError, match="expands to more than"):
        parse_work_order("\n".join(rows + ["spec: [No cracks]"]) + "\n", "yaml")


def test_fifo_and_devices_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "wo.fifo"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    t = threading.Thread(target=lambda: _catch(result, fifo), daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive() and "not a regular file" in str(result[0])
    with pytest.raises(WorkOrderError, match="not a regular file"):
        load_work_order("/dev/zero")


def _catch(out: list, path) -> None:
    try:
        load_work_order(path)
    except WorkOrderError as err:
        out.append(err)


def test_all_errors_at_once_each_with_its_line():
    doc = "Order: X\nQuantity: -3\nPixel size: fast\n\n1. Scratches up to 2 furlong\n2. No cracks\n3. Dents up to -1 mm\n"
    with pytest.raises(WorkOrderError) as ei:
        parse_work_order(doc, source_name="WO-X.txt")
    err = ei.value
    assert [p.line for p in err.problems] == [2, 3, 5, 7]
    assert (
        str(err).splitlines()[2] == "WO-X.txt line 5: unknown unit 'furlong' in 'Scratches up to 2 furlong'"
    )


def test_check_lists_every_sentence(tmp_path, capsys):
    p = tmp_path / "wo.txt"
    p.write_text(
        HEAD + "1. No cracks\n2. Inspect under diffuse light\n3. Dents up to 0.5 mm on the flange face\n"
    )
    assert main(["workorder", "check", str(p)]) == 0
    out = capsys.readouterr().out
    assert 'line 4: "No cracks"' in out and "checkable: crack: none allowed, anywhere [critical]" in out
    assert "for a person (REVIEW): states no defect limit or ban" in out
    assert "in zone flange face (not drawn yet: REVIEW until it is)" in out

"""The rule grammar: one spec sentence -> SpecClause fields."""

from __future__ import annotations

import pytest

from inspector.workorder import WorkOrderError, canonical_type, parse_work_order

HEADER = (
    "Order: WO-9\n"
    "Pixel size: 0.02 mm/px\n"
    'Zone A "sealing face": x 0-20 mm, y 0-10 mm\n'
    "Zone B: 10%-90% x, 0%-30% y\n"
    "\n"
)


def rules(sentence: str):
    wo = parse_work_order(HEADER + "1. " + sentence)
    return [c for c in wo.clauses]


def one(sentence: str):
    cs = rules(sentence)
    assert len(cs) == 1, [(c.id, c.defect_type, c.measure) for c in cs]
    return cs[0]


# sentence -> (type, measure, comparison, limit, unit, zone_mode, zone, severity)
GRAMMAR = [
    ("No cracks", ("crack", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Critical: no cracks", ("crack", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Scratches up to 0.5 mm", ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "Scratches not more than 0.5 mm long",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major"),
    ),
    ("Scratches ≤ 0.5 mm allowed", ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "scratches <= 0.5mm allowed outside zone A",
        ("scratch", "length", "<=", 0.5, "mm", "outside", "A", "major"),
    ),
    ("Scratches allowed if ≤ 0.3 mm", ("scratch", "length", "<=", 0.3, "mm", "anywhere", None, "major")),
    ("Scratches less than 0.5 mm", ("scratch", "length", "<", 0.5, "mm", "anywhere", None, "major")),
    ("Scratches shall not exceed 0.4 mm", ("scratch", "length", "<=", 0.4, "mm", "anywhere", None, "major")),
    ("Scratches: max. 0.6 mm", ("scratch", "length", "<=", 0.6, "mm", "anywhere", None, "major")),
    ("Scratches maximum 0.6 mm", ("scratch", "length", "<=", 0.6, "mm", "anywhere", None, "major")),
    ("Scratches 0.5 mm max", ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "Scratches longer than 0.5 mm are rejected",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major"),
    ),
    (
        "Scratches of 0.5 mm or longer not permitted",
        ("scratch", "length", "<", 0.5, "mm", "anywhere", None, "major"),
    ),
    ("No scratch may exceed 0.5 mm", ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "Scratch length shall not exceed 0.5 mm",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major"),
    ),
    ("Tool marks up to 0.5 mm wide", ("tool mark", "width", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "Scratches deeper than 0.05 mm not permitted",
        ("scratch", "depth", "<=", 0.05, "mm", "anywhere", None, "major"),
    ),
    ("Scratches up to 0,5 mm", ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "major")),
    (
        "No pitting larger than 0.3 mm diameter",
        ("pitting", "diameter", "<=", 0.3, "mm", "anywhere", None, "major"),
    ),
    (
        "Pits with a diameter larger than 0.3 mm are not acceptable",
        ("pitting", "diameter", "<=", 0.3, "mm", "anywhere", None, "major"),
    ),
    ("Dents up to 0.8 mm", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "major")),
    ("Dents Ø ≤ 0.8 mm", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "major")),
    ("Dents: 0.8 mm", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "major")),
    ("Dents shall not exceed 0.8 mm", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "major")),
    ("at most 2 pits", ("pitting", "count", "<=", 2, "count", "anywhere", None, "major")),
    ("At most 1 pit per spindle section", ("pitting", "count", "<=", 1, "count", "anywhere", None, "major")),
    ("at most one pit per section", ("pitting", "count", "<=", 1, "count", "anywhere", None, "major")),
    ("no more than two inclusions", ("inclusion", "count", "<=", 2, "count", "anywhere", None, "major")),
    ("Max. 2 dents per part", ("dent", "count", "<=", 2, "count", "anywhere", None, "major")),
    ("Up to 3 dents per part", ("dent", "count", "<=", 3, "count", "anywhere", None, "major")),
    ("2 pits max", ("pitting", "count", "<=", 2, "count", "anywhere", None, "major")),
    ("Stains: none allowed", ("stain", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Stains not permitted", ("stain", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Burrs not allowed", ("burr", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("All edges shall be free of burrs", ("burr", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Parts with cracks are rejected", ("crack", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Crack-free", ("crack", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Cracks: zero tolerance", ("crack", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Rust not permitted anywhere", ("corrosion", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Stains up to 0.5 mm² allowed", ("stain", "area", "<=", 0.5, "mm2", "anywhere", None, "major")),
    ("Stains up to 0.5 mm2", ("stain", "area", "<=", 0.5, "mm2", "anywhere", None, "major")),
    ("Stains up to 0.5 sq mm", ("stain", "area", "<=", 0.5, "mm2", "anywhere", None, "major")),
    ("Stains up to 20000 µm²", ("stain", "area", "<=", 0.02, "mm2", "anywhere", None, "major")),
    ("Pits up to 20 µm", ("pitting", "diameter", "<=", 0.02, "mm", "anywhere", None, "major")),
    ("Pits up to 20 um", ("pitting", "diameter", "<=", 0.02, "mm", "anywhere", None, "major")),
    ("Pits up to 20 microns", ("pitting", "diameter", "<=", 0.02, "mm", "anywhere", None, "major")),
    ("Scratches up to 0.002 in long", ("scratch", "length", "<=", 0.0508, "mm", "anywhere", None, "major")),
    ("Scratches up to 0.02 inch", ("scratch", "length", "<=", 0.508, "mm", "anywhere", None, "major")),
    ('Scratches up to 0.02" long', ("scratch", "length", "<=", 0.508, "mm", "anywhere", None, "major")),
    ("Scratches up to 10 px", ("scratch", "length", "<=", 0.2, "mm", "anywhere", None, "major")),
    ("No defects in zone A", ("defect", "count", "<=", 0, "count", "inside", "A", "critical")),
    ("No scratches on the sealing face", ("scratch", "count", "<=", 0, "count", "inside", "A", "critical")),
    ("Zone A: no scratches", ("scratch", "count", "<=", 0, "count", "inside", "A", "critical")),
    (
        "Scratches up to 1 mm anywhere except zone A",
        ("scratch", "length", "<=", 1, "mm", "outside", "A", "major"),
    ),
    (
        "Dents up to 0.8 mm, if not on the sealing face",
        ("dent", "diameter", "<=", 0.8, "mm", "outside", "A", "major"),
    ),
    ("No scratches in zone b", ("scratch", "count", "<=", 0, "count", "inside", "B", "critical")),
    ("Dents up to 0.8 mm, minor", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "minor")),
    ("(major) dents up to 0.8 mm", ("dent", "diameter", "<=", 0.8, "mm", "anywhere", None, "major")),
    (
        "Scratches up to 0.5 mm (critical)",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "critical"),
    ),
    (
        "Scratches up to 0.5 mm are minor defects",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "minor"),
    ),
    (
        "Severity: minor. Scratches up to 0.5 mm",
        ("scratch", "length", "<=", 0.5, "mm", "anywhere", None, "minor"),
    ),
    (
        "Minor scratches up to 0.2 mm are acceptable",
        ("scratch", "length", "<=", 0.2, "mm", "anywhere", None, "major"),
    ),
    ("No blisters", ("blister", "count", "<=", 0, "count", "anywhere", None, "critical")),
    ("Flash up to 0.2 mm", ("flash", "length", "<=", 0.2, "mm", "anywhere", None, "major")),
    ("Orange peel not permitted", ("orange peel", "count", "<=", 0, "count", "anywhere", None, "critical")),
    (
        "Machining marks shall not exceed 0.3 mm",
        ("machining mark", "length", "<=", 0.3, "mm", "anywhere", None, "major"),
    ),
    (
        "Any defect larger than 1 mm is rejected",
        ("defect", "length", "<=", 1, "mm", "anywhere", None, "major"),
    ),
]


@pytest.mark.parametrize("sentence,expected", GRAMMAR, ids=[s for s, _ in GRAMMAR])
def test_grammar(sentence, expected):
    c = one(sentence)
    typ, measure, comparison, limit, unit, zone_mode, zone, severity = expected
    assert c.checkable, c.note
    assert (c.defect_type, c.measure, c.comparison, c.unit) == (typ, measure, comparison, unit)
    assert c.limit == pytest.approx(limit)
    assert (c.zone_mode, c.zone, c.severity) == (zone_mode, zone, severity)
    assert c.id == "§1" and c.number == 1 and c.line == 6


def test_limit_text_keeps_the_original_and_type_words_the_written_word():
    c = one("Pits up to 20 µm across")
    assert c.limit_text == "20 µm" and c.limit == pytest.approx(0.02) and c.type_words == ("Pits",)
    c = one("scratches <= 0.5mm allowed")
    assert c.limit_text == "0.5mm" and c.type_words == ("scratches",)


COMPOUND = [
    (
        "Scratches up to 1.0 mm long allowed outside zone A, none in zone A",
        [("§1a", "scratch", "length", 1.0, "outside", "A"), ("§1b", "scratch", "count", 0, "inside", "A")],
    ),
    (
        "Pits up to 0.4 mm diameter, at most 3 per part",
        [
            ("§1a", "pitting", "diameter", 0.4, "anywhere", None),
            ("§1b", "pitting", "count", 3, "anywhere", None),
        ],
    ),
    (
        "Pits up to 0.4 mm. At most 3 per part.",
        [
            ("§1a", "pitting", "diameter", 0.4, "anywhere", None),
            ("§1b", "pitting", "count", 3, "anywhere", None),
        ],
    ),
    (
        "No cracks, burrs or chips",
        [
            ("§1a", "crack", "count", 0, "anywhere", None),
            ("§1b", "burr", "count", 0, "anywhere", None),
            ("§1c", "chip", "count", 0, "anywhere", None),
        ],
    ),
    (
        "No cracks and no burrs",
        [("§1a", "crack", "count", 0, "anywhere", None), ("§1b", "burr", "count", 0, "anywhere", None)],
    ),
    (
        "Scratches and dents up to 0.5 mm",
        [
            ("§1a", "scratch", "length", 0.5, "anywhere", None),
            ("§1b", "dent", "diameter", 0.5, "anywhere", None),
        ],
    ),
    (
        "Scratches up to 0.5 mm, dents up to 0.8 mm",
        [
            ("§1a", "scratch", "length", 0.5, "anywhere", None),
            ("§1b", "dent", "diameter", 0.8, "anywhere", None),
        ],
    ),
    (
        "Scratches up to 0.5 mm long and 0.1 mm wide",
        [
            ("§1a", "scratch", "length", 0.5, "anywhere", None),
            ("§1b", "scratch", "width", 0.1, "anywhere", None),
        ],
    ),
    (
        "Scratches up to 0.5 mm in zones A and B",
        [("§1a", "scratch", "length", 0.5, "inside", "A"), ("§1b", "scratch", "length", 0.5, "inside", "B")],
    ),
    (
        "Scratches up to 0.5 mm in zone A, up to 1.0 mm outside zone A",
        [("§1a", "scratch", "length", 0.5, "inside", "A"), ("§1b", "scratch", "length", 1.0, "outside", "A")],
    ),
    (
        "Stains: max 0.25 mm² each, not more than 2 per part",
        [("§1a", "stain", "area", 0.25, "anywhere", None), ("§1b", "stain", "count", 2, "anywhere", None)],
    ),
]


@pytest.mark.parametrize("sentence,expected", COMPOUND, ids=[s for s, _ in COMPOUND])
def test_compound_sentences_give_one_clause_per_rule(sentence, expected):
    cs = rules(sentence)
    got = [(c.id, c.defect_type, c.measure, c.limit, c.zone_mode, c.zone) for c in cs]
    assert got == [(i, t, m, pytest.approx(v), zm, z) for i, t, m, v, zm, z in expected]
    assert all(c.checkable and c.number == 1 and c.text == sentence for c in cs)


NOT_CHECKABLE = [
    ("Surface finish shall be visually uniform", None, "no defect limit or ban"),
    ("Inspect under diffuse light", None, "no defect limit or ban"),
    ("Pits larger than 0.1 mm allowed", "pitting", "minimum"),
    ("Scratches larger than 0.5 mm shall be reported", "scratch", "does not say they are rejected"),
    ("Discoloration up to 5% of the surface", "discoloration", "percentage"),
    ("At most 2 pits per thread turn", "pitting", "counts 'per thread turn' are not supported"),
    ("Scratches are allowed outside zone A", "scratch", "no limit"),
    ("Burrs shall be removed before inspection", "burr", "no limit or ban"),
    ("at most 2 in zone A", None, "names no defect type"),
    ("Scratches 0.5 mm in zone A", "scratch", "no comparator"),
]


@pytest.mark.parametrize("sentence,typ,why", NOT_CHECKABLE, ids=[s for s, _, _ in NOT_CHECKABLE])
def test_sentences_that_are_not_rules_are_kept_with_a_note(sentence, typ, why):
    c = one(sentence)
    assert not c.checkable
    assert c.defect_type == typ
    assert why in c.note
    assert c.text == sentence and c.measure is None and c.limit is None


def test_open_vocabulary_types_are_not_invented_from_instructions():
    # "surface finish" is not a defect: a non-checkable sentence adds no type to the vocabulary
    wo = parse_work_order(HEADER + "1. Surface finish shall be visually uniform\n2. No blisters\n")
    assert wo.vocabulary == ("blister",)


@pytest.mark.parametrize(
    "sentence,problem",
    [
        ("scratches up to 2 furlong", "unknown unit 'furlong' in 'scratches up to 2 furlong'"),
        ("Scratches up to 0.5m", "unknown unit 'm'"),
        ("Scratches up to 2 blorps", "unknown unit 'blorps'"),
        ("Scratches up to 0.5", "limit '0.5' has no unit"),
        ("Stain area up to 0.5 mm", "needs an area unit"),
        ("Scratch length up to 0.5 mm²", "is an area"),
        ("Scratches up to 1 mm, up to 2 mm", "contradictory limits for scratch length"),
    ],
)
def test_bad_rules_name_the_line_and_the_problem(sentence, problem):
    with pytest.raises(WorkOrderError) as ei:
        parse_work_order(HEADER + "1. " + sentence, source_name="WO-9.txt")
    err = ei.value
    assert problem in err.problem
    assert err.line == 6 and err.source == "WO-9.txt"
    assert str(err).startswith("WO-9.txt line 6: ")


def test_px_limit_without_pixel_size_is_an_error():
    with pytest.raises(WorkOrderError, match="needs the pixel size"):
        parse_work_order("Order: X\n\n1. Scratches up to 10 px\n")


@pytest.mark.parametrize(
    "word,canon",
    [
        ("scratches", "scratch"),
        ("Scratched", "scratch"),
        ("pits", "pitting"),
        ("pitted", "pitting"),
        ("pitting", "pitting"),
        ("cracks", "crack"),
        ("dents", "dent"),
        ("stains", "stain"),
        ("burrs", "burr"),
        ("chips", "chip"),
        ("missing features", "missing feature"),
        ("inclusions", "inclusion"),
        ("pores", "porosity"),
        ("rust", "corrosion"),
        ("discolouration", "discoloration"),
        ("blisters", "blister"),
        ("tool marks", "tool mark"),
        ("defects", "defect"),
        ("flaws", "defect"),
        ("glass", "glass"),
        ("", ""),
    ],
)
def test_canonical_type(word, canon):
    assert canonical_type(word) == canon


def test_zone_words_that_are_not_zone_references():
    assert one("Scratches touching zone A are rejected").zone_mode == "inside"
    c = one("Scratches up to 1 mm, zone drawing checked by QA")
    assert c.checkable and c.zone_mode == "anywhere"
    wo = parse_work_order(HEADER + "1. Scratches crossing zone C2 are rejected")
    assert (wo.clauses[0].zone, wo.zone("C2").defined) == ("C2", False)


@pytest.mark.parametrize(
    "sentence,zone",
    [("No scratches in zone C", "C"), ("Scratches up to 0.5 mm in the seal zone", "seal")],
)
def test_undefined_zones_become_zones_to_draw(sentence, zone):
    c = one(sentence)
    assert c.checkable and c.zone == zone and c.zone_mode == "inside"
    assert f"zone {zone!r} is not defined: draw it in the Teach tab (until then its clauses go to REVIEW)" in c.flags

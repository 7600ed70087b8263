"""Bad work orders: each fixture fails with a WorkOrderError naming the line and the problem;
random and truncated input never escapes as any other exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inspector.domain import WorkOrder
from inspector.workorder import WorkOrderError, load_work_order, parse_work_order

FIXTURES = Path(__file__).parent / "fixtures" / "workorders"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "workorders"

BAD = [
    ("bad_empty.txt", None, "the work order is empty"),
    ("bad_binary.wo", 4, "binary data (NUL byte)"),
    ("bad_undecodable.txt", 4, "undecodable byte 0x81"),
    ("bad_no_order.txt", None, "no order id"),
    (
        "bad_contradiction.txt",
        8,
        "contradictory limits for scratch length: §4 allows up to 0.8 mm but §2 (line 6)",
    ),
    ("bad_unit.txt", 7, "unknown unit 'furlong' in 'scratches up to 2 furlong'"),
    ("bad_json_syntax.json", 5, "malformed JSON: Expecting ',' delimiter"),
    ("bad_yaml_syntax.yaml", 6, "malformed YAML"),
    ("bad_quantity.txt", 2, "quantity must be positive, got '-12'"),
    ("bad_pixel_size.yaml", 3, "pixel size 'fast' is not a number"),
]


@pytest.mark.parametrize("name,line,problem", BAD, ids=[b[0] for b in BAD])
def test_bad_fixture(name, line, problem):
    with pytest.raises(WorkOrderError) as ei:
        load_work_order(FIXTURES / name)
    err = ei.value
    assert err.source == name
    assert err.line == line
    assert problem in err.problem
    where = name if line is None else f"{name} line {line}"
    assert str(err) == f"{where}: {err.problem}"


@pytest.mark.parametrize(
    "doc,problem",
    [
        (
            "Order: X\n\n1. No cracks\n2. Cracks up to 0.2 mm\n",
            "contradictory rules for crack: §1 allows none",
        ),
        (
            "Order: X\nZone A: x 0-9 px, y 0-9 px\n\n1. No dents in zone A\n2. Dents up to 0.3 mm in zone A\n",
            "contradictory rules for dent",
        ),
        ("Order: X\n\n1. at most 2 pits\n2. no more than 3 pits\n", "contradictory limits for pitting count"),
        ("   \n\t\n", "the work order is empty"),
        ("Order: X\x01\n\n1. No cracks\n", "control character U+0001"),
        ("Order: X\n\n1. " + "no cracks, " * 120 + "\n", "characters long; split it"),
    ],
)
def test_bad_text(doc, problem):
    with pytest.raises(WorkOrderError) as ei:
        parse_work_order(doc)
    assert problem in ei.value.problem


def test_a_zone_named_but_not_defined_is_a_zone_to_draw_not_an_error():
    wo = load_work_order(FIXTURES / "bad_zone_undefined.txt")
    b = wo.zone("B")
    assert not b.defined and wo.zone("A").defined
    c = wo.clause("§2")
    assert (c.checkable, c.zone, c.zone_mode) == (True, "B", "inside")
    assert any("zone 'B' is not defined: draw it" in f for f in c.flags)


def test_general_and_zone_rules_do_not_contradict():
    # a general allowance plus a stricter zone is the normal way to write a spec
    wo = parse_work_order(
        "Order: X\nZone A: x 0-9 px, y 0-9 px\n\n1. Scratches up to 1.0 mm\n2. No scratches in zone A\n"
        "3. Scratches up to 0.5 mm outside zone A\n"
    )
    assert [c.id for c in wo.clauses] == ["§1", "§2", "§3"]


def test_error_pickles_with_its_attributes():
    import pickle

    err = WorkOrderError("unknown unit 'x'", line=3, source="a.txt")
    back = pickle.loads(pickle.dumps(err))
    assert (back.problem, back.line, back.source, str(back)) == (
        err.problem,
        3,
        "a.txt",
        "a.txt line 3: unknown unit 'x'",
    )


def _parse_any(data: bytes, fmt: str) -> WorkOrder | None:
    try:
        return parse_work_order(data, fmt)
    except WorkOrderError as err:
        assert err.problem and isinstance(err.source, str)
        assert err.line is None or err.line >= 1
        return None


def _samples() -> list[tuple[bytes, str]]:
    fmt = {".txt": "text", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
    return [(p.read_bytes(), fmt[p.suffix]) for p in sorted(SAMPLES.iterdir()) if p.suffix in fmt]


def test_truncated_files_never_crash():
    for data, fmt in _samples():
        for cut in range(0, len(data), 9):
            _parse_any(data[:cut], fmt)
            _parse_any(data[:cut], "auto")


def test_random_and_mutated_input_never_crashes():
    rng = random.Random(20261123)
    samples = _samples()
    parsed = 0
    for _ in range(900):
        data, fmt = rng.choice(samples)
        mode = rng.randrange(5)
        if mode == 0:  # random bytes
            blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        elif mode == 1:  # flipped bytes
            b = bytearray(data)
            for _ in range(rng.randrange(1, 10)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            blob = bytes(b)
        elif mode == 2:  # deleted spans
            b = bytearray(data)
            for _ in range(rng.randrange(1, 6)):
                i = rng.randrange(len(b))
                del b[i : i + rng.randrange(40)]
            blob = bytes(b)
        elif mode == 3:  # inserted punctuation, digits, units
            b = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                i = rng.randrange(len(b))
                b[i:i] = bytes(
                    rng.choice(b" -.,:;0123456789<>=\n\"'{}[]#|x%") for _ in range(rng.randrange(1, 5))
                )
            blob = bytes(b)
        else:  # shuffled lines
            lines = data.split(b"\n")
            rng.shuffle(lines)
            blob = b"\n".join(lines)
        if _parse_any(blob, rng.choice([fmt, "auto"])) is not None:
            parsed += 1
    assert 50 < parsed < 900  # the mutations both break and keep documents: the test exercises both paths

"""Golden expectations of the corpus, written by hand, and the clause-by-clause comparison.

``<industry>/expected.txt`` holds, for each order file, a section ``== <file>`` and one line
per expected clause::

    §1  | crack    | none                                   a ban anywhere
    §2a | scratch  | length <= 0.5 mm | outside A           a size limit in a zone
    §3  | pitting  | count <= 3 | | per part                a count (per part is the default)
    §4  | pitting  | count <= 5 | | per 100 cm2             a count per area (or per 1 m, per panel ...)
    §5  | *        | none                                   a catch-all ("no other defects")
    §6  | review                                           a sentence for a person (not checkable)

Limits are converted here, independently of the parser (mm, µm, in, mil, thou, mm2, cm2, in2).
A section whose only line is ``! error`` expects the order to be refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from inspector.domain import SpecClause, WorkOrder
from inspector.workorder import WorkOrderError, load_work_order

ROOT = Path(__file__).parent
_LEN = {"mm": 1.0, "µm": 1e-3, "um": 1e-3, "in": 25.4, "mil": 0.0254, "thou": 0.0254, "cm": 10.0}
_AREA = {"mm2": 1.0, "cm2": 100.0, "in2": 645.16, "ft2": 92903.04}


@dataclass(frozen=True)
class Expect:
    id: str
    checkable: bool
    defect_type: str | None = None
    catch_all: bool = False
    measure: str | None = None
    comparison: str | None = None
    limit: float | None = None
    zone_mode: str = "anywhere"
    zone: str | None = None
    count_per: str = "part"
    count_base: float | None = None


def parse_line(line: str) -> Expect:
    parts = [p.strip() for p in line.split("|")]
    parts += [""] * (5 - len(parts))
    cid, typ, rule, where, per = parts[:5]
    if typ.startswith("review"):
        return Expect(cid, False, typ[6:].strip() or None)
    e = {
        "id": cid,
        "checkable": True,
        "catch_all": typ == "*",
        "defect_type": "defect" if typ == "*" else typ,
    }
    if rule == "none":
        e.update(measure="count", comparison="<=", limit=0.0)
    else:
        m = re.fullmatch(r"(\w+)\s*(<=|<)\s*([\d.]+)\s*(\S*)", rule)
        if not m:
            raise ValueError(f"bad golden rule {rule!r}")
        measure, cmp, value, unit = m.groups()
        factor = 1.0 if measure == "count" else (_AREA.get(unit) or _LEN[unit])
        e.update(measure=measure, comparison=cmp, limit=float(value) * factor)
    if where:
        mode, _, name = where.partition(" ")
        e.update(zone_mode="inside" if mode == "in" else mode, zone=name or None)
    if per:
        m = re.fullmatch(r"per\s+(?:([\d.]+)\s*)?(\S+)", per)
        amount, unit = float(m.group(1) or 1), m.group(2)
        if unit in _AREA or unit in ("m2", "dm2"):
            e.update(
                count_per="area", count_base=amount * {"m2": 1e6, "dm2": 1e4}.get(unit, _AREA.get(unit, 1))
            )
        elif unit in ("m", "mm", "cm", "in", "ft"):
            e.update(
                count_per="length",
                count_base=amount * {"m": 1000.0, "ft": 304.8}.get(unit, _LEN.get(unit, 1)),
            )
        else:
            e.update(count_per=unit)
    return Expect(**e)


def read_expected(industry: Path) -> dict[str, list[Expect] | None]:
    """file name -> expected clauses (None: the order must be refused)."""
    out: dict[str, list[Expect] | None] = {}
    current = ""
    for raw in (industry / "expected.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("§") else raw.rstrip()
        if not line.strip():
            continue
        if line.startswith("=="):
            current = line[2:].strip()
            out[current] = []
        elif line.strip() == "! error":
            out[current] = None
        else:
            out[current].append(parse_line(line))  # type: ignore[union-attr]
    return out


def same(e: Expect, c: SpecClause) -> list[str]:
    """Differences between an expected and a parsed clause ([] when the clause is right)."""
    got = Expect(
        c.id,
        c.checkable,
        c.defect_type,
        c.catch_all,
        c.measure if c.checkable else None,
        c.comparison if c.checkable else None,
        c.limit if c.checkable else None,
        c.zone_mode if c.checkable else "anywhere",
        c.zone if c.checkable else None,
        c.count_per if c.checkable and c.measure == "count" and c.limit else "part",
        c.count_base if c.checkable and c.measure == "count" and c.limit else None,
    )
    diffs = []
    for f in Expect.__dataclass_fields__:
        a, b = getattr(e, f), getattr(got, f)
        if f == "defect_type" and not e.checkable and a is None:
            continue  # a sentence for a person: the type it mentions is not graded unless given
        if isinstance(a, float) and isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
                diffs.append(f"{f}: expected {a:g}, got {b:g}")
        elif (a.lower() if isinstance(a, str) else a) != (b.lower() if isinstance(b, str) else b):
            diffs.append(f"{f}: expected {a!r}, got {b!r}")
    return diffs


@dataclass
class OrderResult:
    industry: str
    file: str
    right: int
    total: int
    refused_wrongly: bool
    problems: list[str]


def grade(industry: Path, name: str, expected: list[Expect] | None) -> OrderResult:
    try:
        wo: WorkOrder | None = load_work_order(industry / name)
    except WorkOrderError as err:
        wo = None
        if expected is not None:
            return OrderResult(industry.name, name, 0, len(expected), True, [f"refused: {err}"])
    if expected is None:
        ok = wo is None
        return OrderResult(industry.name, name, int(ok), 1, False, [] if ok else ["should be refused"])
    assert wo is not None
    got = {c.id: c for c in wo.clauses}
    right, problems = 0, []
    for e in expected:
        c = got.pop(e.id, None)
        diffs = ["missing"] if c is None else same(e, c)
        right += not diffs
        problems += [f"{e.id}: {d}" for d in diffs]
    problems += [f"{cid}: unexpected clause ({c.defect_type} {c.measure})" for cid, c in got.items()]
    return OrderResult(industry.name, name, right, len(expected) + len(got), False, problems)


def grade_all() -> list[OrderResult]:
    results = []
    for industry in sorted(p for p in ROOT.iterdir() if (p / "expected.txt").exists()):
        for name, expected in read_expected(industry).items():
            results.append(grade(industry, name, expected))
    return results

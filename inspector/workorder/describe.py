"""What every sentence of a work order became, in words (for `inspector workorder check`)."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.domain import SpecClause, WorkOrder

_SYM = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}


@dataclass(frozen=True)
class SentenceReport:
    """One spec item (sentence) with the clauses it became."""

    number: int
    line: int
    text: str
    clauses: tuple[SpecClause, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for c in self.clauses for f in c.flags))


def sentences(wo: WorkOrder) -> list[SentenceReport]:
    """The spec items of ``wo`` in order, each with its clauses (a sentence is never dropped)."""
    out: list[SentenceReport] = []
    for c in wo.clauses:
        if out and out[-1].number == c.number and out[-1].text == c.text and out[-1].line == c.line:
            last = out[-1]
            out[-1] = SentenceReport(last.number, last.line, last.text, last.clauses + (c,))
        else:
            out.append(SentenceReport(c.number, c.line, c.text, (c,)))
    return out


def _limit(c: SpecClause) -> str:
    if c.measure == "count" and c.limit == 0 and c.comparison == "<=":
        return "none allowed"
    if c.unit == "count":
        return f"count {_SYM.get(c.comparison or '', c.comparison)} {c.limit:g}"
    unit = "mm²" if c.unit == "mm2" else c.unit
    shown = f"{c.limit:g} {unit}"
    written = (
        f" (written {c.limit_text})"
        if c.limit_text and c.limit_text.replace(" ", "") != shown.replace(" ", "")
        else ""
    )
    return f"{c.measure} {_SYM.get(c.comparison or '', c.comparison)} {shown}{written}"


def _per(c: SpecClause) -> str:
    if c.measure != "count" or c.limit == 0:
        return ""
    if c.count_per == "area" and c.count_base:
        return f", per {c.count_base / 100:g} cm²"
    if c.count_per == "length" and c.count_base:
        return f", per {c.count_base / 1000:g} m"
    return f", per {c.count_per}"


def describe_clause(c: SpecClause, wo: WorkOrder) -> str:
    """'checkable: scratch length ≤ 0.5 mm, outside zone A, per part [major]' or 'for a person (REVIEW): why'."""
    if not c.checkable:
        about = f" about {c.defect_type}" if c.defect_type else ""
        return f"for a person (REVIEW{about}): {c.note}"
    what = "any defect no other clause names" if c.catch_all else c.defect_type
    where = "anywhere"
    if c.zone and c.zone_mode != "anywhere":
        where = f"{'in' if c.zone_mode == 'inside' else 'outside'} zone {c.zone}"
        try:
            if not wo.zone(c.zone).defined:
                where += " (not drawn yet: REVIEW until it is)"
        except KeyError:
            pass
    return f"checkable: {what}: {_limit(c)}, {where}{_per(c)} [{c.severity}]"


def report_lines(wo: WorkOrder, *, show_text: bool = True) -> list[str]:
    """Every sentence of the spec and what it became, flags included."""
    lines: list[str] = []
    for s in sentences(wo):
        if show_text:
            lines.append(f'line {s.line}: "{s.text}"')
        for c in s.clauses:
            lines.append(f"  {c.id:6} {describe_clause(c, wo)}")
        for f in s.flags:
            lines.append(f"  flag:  {f}")
    return lines

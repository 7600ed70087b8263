"""Judging findings against a work order's spec clauses: OK / NG / REVIEW with reasons.

:func:`judge` is a pure function: the same findings and work order always give the same
Verdict. Rules (docs/workorders.md, "Judging"):

* no finding -> OK ("no defects found; N clauses checked");
* a finding over a limit, or of a banned type in the banned zone, or more findings of a
  type than a count clause allows -> NG;
* a finding of a type the spec does not name, an uncertain finding (anomaly score in the
  REVIEW band, or type uncertain / below ``type_min``), a limit that needs a measure the
  finding lacks (no pixel size -> no mm), or a finding of a type named by a clause that is
  not machine-checkable -> REVIEW;
* NG wins over REVIEW; an uncertain finding never makes NG on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.domain import ClauseCheck, Finding, Outcome, SpecClause, Verdict, VerdictKind, WorkOrder
from inspector.workorder.vocabulary import GENERIC_TYPE, canonical_type

_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
_SYM = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "="}
_NEG = {"<=": ">", "<": "≥", ">=": "<", ">": "≤", "==": "≠"}
_MEASURE_WORD = {"length": " long", "width": " wide", "depth": " deep", "diameter": " diameter", "area": ""}


def _passes(value: float, comparison: str | None, limit: float | None) -> bool:
    if comparison is None or limit is None:
        return True
    eps = 1e-9 * max(1.0, abs(limit))
    return {
        "<=": value <= limit + eps,
        "<": value < limit - eps,
        ">=": value >= limit - eps,
        ">": value > limit + eps,
        "==": abs(value - limit) <= eps,
    }.get(comparison, False)


def _digits(limit: float | None) -> int:
    if limit is None:
        return 2
    text = f"{limit:.6f}".rstrip("0")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(2, min(4, decimals))


def _fmt(value: float, unit: str | None, digits: int) -> str:
    if unit == "count":
        return f"{value:g}"
    return f"{value:.{digits}f} {'mm²' if unit == 'mm2' else unit or ''}".rstrip()


def _scope(c: SpecClause) -> str:
    if c.zone_mode == "anywhere" or not c.zone:
        return ""
    return f" {'in' if c.zone_mode == 'inside' else c.zone_mode} zone {c.zone}"


class _Judge:
    def __init__(self, findings: Sequence[Finding], wo: WorkOrder, type_min: float) -> None:
        self.findings = list(findings)
        self.wo = wo
        self.oid = wo.order_id
        self.type_min = type_min
        self.rules = [c for c in wo.clauses if c.checkable]
        self.remarks = [c for c in wo.clauses if not c.checkable and c.defect_type]
        self.order = {c.id: i for i, c in enumerate(wo.clauses)}
        self.types = [canonical_type(f.defect_type or "unknown") or "unknown" for f in self.findings]
        self.checks: list[tuple[ClauseCheck, SpecClause | None]] = []
        self.exercised: set[str] = set()

    # -- helpers -----------------------------------------------------------------------

    def zone_known(self, c: SpecClause) -> bool:
        """Can the model have placed findings in this clause's zone?"""
        if c.zone_mode == "anywhere" or not c.zone:
            return True
        try:
            z = self.wo.zone(c.zone)
        except KeyError:
            return False
        return z.unit != "mm" or bool(self.wo.pixel_size_mm)

    def in_scope(self, c: SpecClause, i: int) -> bool:
        if c.zone_mode == "anywhere" or not c.zone:
            return True
        inside = c.zone.casefold() in {z.casefold() for z in self.findings[i].region.zones}
        return inside if c.zone_mode == "inside" else not inside

    def matches(self, c: SpecClause, i: int) -> bool:
        return c.defect_type == self.types[i] or c.defect_type == GENERIC_TYPE

    def doubt(self, i: int) -> str:
        """Why finding i cannot decide NG on its own ('' when it can)."""
        f = self.findings[i]
        why = []
        if f.uncertain:
            why.append(f"uncertain detection (score {f.region.score:.2f} of threshold)")
        if f.type_uncertain or f.type_score < self.type_min:
            alts = (
                ", ".join(f"{t} {s:.2f}" for t, s in f.type_candidates[:3])
                or f"{self.types[i]} {f.type_score:.2f}"
            )
            why.append(f"defect type uncertain ({alts})")
        return "; ".join(why)

    def add(
        self,
        c: SpecClause | None,
        outcome: Outcome,
        reason: str,
        i: int | None = None,
        measured: float | None = None,
    ) -> None:
        check = ClauseCheck(
            clause_id=c.id if c else "",
            outcome=outcome,
            finding_index=i,
            measure=c.measure if c else None,
            measured=measured,
            limit=c.limit if c else None,
            unit=c.unit if c else None,
            reason=reason,
        )
        self.checks.append((check, c))
        if c is not None:
            self.exercised.add(c.id)

    def tag(self, c: SpecClause | None) -> str:
        return f"{self.oid} {c.id}" if c else self.oid

    # -- checks ------------------------------------------------------------------------

    def check_finding(self, i: int) -> None:
        t, doubt = self.types[i], self.doubt(i)
        typed = [c for c in self.rules if self.matches(c, i)]
        applicable = [c for c in typed if not self.zone_known(c) or self.in_scope(c, i)]
        remarks = [
            c for c in self.remarks if c.defect_type == t and (not self.zone_known(c) or self.in_scope(c, i))
        ]
        for c in applicable:
            if not self.zone_known(c):
                self.add(
                    c,
                    Outcome.REVIEW,
                    f"{self.tag(c)}: {t} found but zone {c.zone} cannot be located "
                    "(zone not defined, or in mm without a pixel size)",
                    i,
                )
            elif c.measure != "count":
                self.check_size(c, i, doubt)
            elif not _passes(1, c.comparison, c.limit):  # a ban: one is already too many
                there = " there" if _scope(c) else ""
                reason = f"{self.tag(c)}: {t} found{_scope(c)}, none allowed{there}"
                self.verdict_for(c, i, reason, doubt, False, 1.0)
        only_counts = applicable and all(
            c.measure == "count" and _passes(1, c.comparison, c.limit) for c in applicable
        )
        if only_counts and doubt:  # the part-level count check alone would not flag it
            self.add(applicable[0], Outcome.REVIEW, f"{self.tag(applicable[0])}: {t} found; {doubt}", i)
        if not applicable and not remarks:
            self.unnamed(i, [c for c in typed if c.defect_type == t], doubt)
        for c in remarks:
            text = c.text if len(c.text) <= 80 else c.text[:77] + "..."
            self.add(c, Outcome.REVIEW, f'{self.tag(c)}: {t} found; "{text}" needs a person ({c.note})', i)

    def unnamed(self, i: int, typed: list[SpecClause], doubt: str) -> None:
        t = self.types[i]
        if typed:  # the type is named, but only for other zones: nothing restricts it here
            c = typed[0]
            if doubt:
                self.add(c, Outcome.REVIEW, f"{self.tag(c)}: {t} found where no clause limits it; {doubt}", i)
            else:
                self.add(
                    c,
                    Outcome.PASS,
                    f"{self.tag(c)}: {t} found where the clause does not apply (it covers{_scope(c)})",
                    i,
                )
            return
        named = ", ".join(self.wo.vocabulary) or "no defect types"
        what = "unidentified defect found" if t == "unknown" else f"{t} found, a type the spec does not name"
        self.add(
            None,
            Outcome.REVIEW,
            f"{self.oid}: {what} (spec names {named})" + (f"; {doubt}" if doubt else ""),
            i,
        )

    def check_size(self, c: SpecClause, i: int, doubt: str) -> None:
        f, t = self.findings[i], self.types[i]
        value = f.measure(c.measure or "")
        d = _digits(c.limit)
        lim = _fmt(c.limit or 0.0, c.unit, d)
        if value is None:
            if c.measure == "depth":
                why = "depth cannot be measured from a 2-D image"
            elif not self.wo.pixel_size_mm:
                why = "the work order has no pixel size, so sizes in mm are unknown"
            else:
                why = "no measurement"
            self.add(
                c,
                Outcome.REVIEW,
                f"{self.tag(c)}: {t} {c.measure} not measured ({why}); "
                f"limit {_SYM.get(c.comparison or '', '')} {lim}",
                i,
            )
            return
        shown = _fmt(value, c.unit, d) + _MEASURE_WORD.get(c.measure or "", "")
        ok = _passes(value, c.comparison, c.limit)
        if ok:
            reason = f"{self.tag(c)}: {t} {shown} {_SYM.get(c.comparison or '', '')} {lim} allowed{_scope(c)}"
        elif c.comparison == "<=":
            reason = f"{self.tag(c)}: {t} {shown} > {lim} allowed{_scope(c)}"
        else:
            reason = (
                f"{self.tag(c)}: {t} {shown} {_NEG.get(c.comparison or '', '?')} {lim}, must be "
                f"{_SYM.get(c.comparison or '', '?')} {lim}{_scope(c)}"
            )
        self.verdict_for(c, i, reason, doubt, ok, value)

    def verdict_for(self, c: SpecClause, i: int, reason: str, doubt: str, ok: bool, value: float) -> None:
        if doubt:
            self.add(c, Outcome.REVIEW, f"{reason}; {doubt}, a person must decide", i, value)
        else:
            self.add(c, Outcome.PASS if ok else Outcome.FAIL, reason, i, value)

    def check_counts(self) -> None:
        for c in self.rules:
            if c.measure != "count" or not _passes(1, c.comparison, c.limit) or not self.zone_known(c):
                continue
            members = [i for i in range(len(self.findings)) if self.matches(c, i) and self.in_scope(c, i)]
            if not members:
                continue
            sure = [i for i in members if not self.doubt(i)]
            t = c.defect_type
            where = _scope(c) or " per part"
            lim = _fmt(c.limit or 0.0, "count", 0)
            if not _passes(len(sure), c.comparison, c.limit):
                self.add(
                    c,
                    Outcome.FAIL,
                    f"{self.tag(c)}: {len(sure)} {t} findings {_NEG[c.comparison or '<=']} "
                    f"{lim} allowed{where}",
                    None,
                    float(len(sure)),
                )
            elif not _passes(len(members), c.comparison, c.limit):
                self.add(
                    c,
                    Outcome.REVIEW,
                    f"{self.tag(c)}: {len(members)} possible {t} findings "
                    f"({len(members) - len(sure)} uncertain) {_NEG[c.comparison or '<=']} {lim} allowed{where}",
                    None,
                    float(len(members)),
                )
            else:
                self.add(
                    c,
                    Outcome.PASS,
                    f"{self.tag(c)}: {len(members)} {t} findings "
                    f"{_SYM[c.comparison or '<=']} {lim} allowed{where}",
                    None,
                    float(len(members)),
                )

    def untouched(self) -> None:
        for c in self.rules:
            if c.id in self.exercised:
                continue
            what = "defect" if c.defect_type == GENERIC_TYPE else c.defect_type
            measured = 0.0 if c.measure == "count" else None
            self.add(c, Outcome.PASS, f"{self.tag(c)}: no {what} found{_scope(c)}", None, measured)

    def run(self) -> Verdict:
        for i in range(len(self.findings)):
            self.check_finding(i)
        self.check_counts()
        self.untouched()
        fails = [(k, c) for k, c in self.checks if k.outcome is Outcome.FAIL]
        reviews = [(k, c) for k, c in self.checks if k.outcome is Outcome.REVIEW]
        if fails:
            kind = VerdictKind.NG
        elif reviews:
            kind = VerdictKind.REVIEW
        else:
            kind = VerdictKind.OK
        reasons = [k.reason for k, _ in sorted(fails, key=self._rank)] + [
            k.reason for k, _ in sorted(reviews, key=self._rank)
        ]
        if kind is VerdictKind.OK:
            n = len(self.rules)
            if not self.findings:
                reasons = [f"no defects found; {n} clauses checked"]
            else:
                k = len(self.findings)
                reasons = [
                    f"{k} finding{'s' if k != 1 else ''} within the limits of {self.oid}; {n} clauses checked"
                ]
        checks = tuple(k for k, _ in self.checks)
        return Verdict(kind=kind, checks=checks, reasons=tuple(dict.fromkeys(reasons)))

    def _rank(self, item: tuple[ClauseCheck, SpecClause | None]) -> tuple:
        k, c = item
        sev = _SEVERITY_RANK.get(c.severity, 1) if c else 1
        idx = -1 if k.finding_index is None else k.finding_index
        return (sev, self.order.get(k.clause_id, len(self.order)), idx)


def judge(findings: Sequence[Finding], work_order: WorkOrder, *, type_min: float = 0.0) -> Verdict:
    """Judge one part's findings against a work order's clauses.

    Args:
        findings: the findings of one image (sizes in mm/mm², ``region.zones`` naming the
            work-order zones each region touches; touching a zone counts as inside it).
        work_order: the order whose clauses are applied.
        type_min: findings whose ``type_score`` is below this are treated as type-uncertain.

    Returns:
        Verdict with one ClauseCheck per (finding, clause) that applies, one part-level
        check per count clause with findings, and a part-level pass for every checkable
        clause no finding touched; ``reasons`` are the deciding sentences (NG first, then
        REVIEW, most severe first), e.g. "WO-1234 §3: scratch 0.80 mm long > 0.50 mm allowed".
        Checks not tied to a clause (a type the spec does not name) have ``clause_id == ""``.
    """
    return _Judge(findings, work_order, type_min).run()

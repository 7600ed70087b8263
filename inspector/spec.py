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
from inspector.spec_support import NEG as _NEG
from inspector.spec_support import SYM as _SYM
from inspector.spec_support import JudgeBase, extent_text, image_extent, per_text
from inspector.spec_support import digits as _digits
from inspector.spec_support import fmt as _fmt
from inspector.spec_support import passes as _passes
from inspector.spec_support import scope as _scope
from inspector.workorder.vocabulary import GENERIC_TYPE, canonical_type

_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2}
_MEASURE_WORD = {"length": " long", "width": " wide", "depth": " deep", "diameter": " diameter", "area": ""}


class _Judge(JudgeBase):
    """The rules of judging, applied to one part's findings (see :func:`judge`)."""

    def fails_as(self, i: int, t: str) -> SpecClause | None:
        """The clause that rejects finding i if its type is ``t`` (None: it would not surely be NG)."""
        f = self.findings[i]
        named = False
        for c in self.rules:
            if c.defect_type not in (t, GENERIC_TYPE):
                continue
            named = named or c.defect_type == t
            if not self.zone_known(c) or not self.in_scope(c, i):
                continue
            if c.measure == "count":
                if not _passes(1, c.comparison, c.limit):
                    return c
                continue
            value = f.measure(c.measure or "")
            if value is not None and not _passes(value, c.comparison, c.limit):
                return c
        if not named and t not in [c.defect_type for c in self.remarks] and self.catch_alls:
            return self.catch_alls[0]
        return None

    def sure_type_doubt(self, i: int) -> bool:
        """A surely detected finding of uncertain type: NG when every candidate type is NG, or by a catch-all."""
        if self.findings[i].uncertain or not self.type_doubt(i):
            return False
        f, top = self.findings[i], self.types[i]
        cands = list(dict.fromkeys([top] + [canonical_type(t) or "unknown" for t, _ in f.type_candidates]))
        verdicts = [self.fails_as(i, t) for t in cands]
        if len(cands) > 1 and all(verdicts):  # without alternatives the type could be anything
            c = verdicts[0]
            ids = ", ".join(dict.fromkeys(v.id for v in verdicts if v))
            self.add(
                c,
                Outcome.FAIL,
                f"{self.tag(c)}: defect of uncertain type ({self.alts(i)}) found; "
                f"rejected whichever it is ({ids})",
                i,
            )
            return True
        if self.catch_alls:
            c = self.catch_alls[0]
            self.add(
                c,
                Outcome.FAIL,
                f"{self.tag(c)}: defect of uncertain type ({self.alts(i)}) found; no other defects permitted",
                i,
            )
            return True
        return False

    # -- checks ------------------------------------------------------------------------

    def check_finding(self, i: int) -> None:
        if self.sure_type_doubt(i):
            return
        t, doubt = self.types[i], self.doubt(i)
        typed = [c for c in self.rules if self.matches(c, i)]
        applicable = [c for c in typed if not self.zone_known(c) or self.in_scope(c, i)]
        remarks = [
            c for c in self.remarks if c.defect_type == t and (not self.zone_known(c) or self.in_scope(c, i))
        ]
        for c in applicable:
            if not self.zone_known(c):
                self.add(c, Outcome.REVIEW, f"{self.tag(c)}: {t} found; {self.unlocated(c)}", i)
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
        if self.catch_alls and not self.findings[i].uncertain:
            c = self.catch_alls[0]
            self.add(c, Outcome.FAIL, f"{self.tag(c)}: {what}; no other defects permitted", i)
            return
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
            where = _scope(c) + " " + per_text(c)
            lim = _fmt(c.limit or 0.0, "count", 0)
            if c.count_per in ("area", "length"):
                self.check_density(c, members, sure)
                continue
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

    def check_density(self, c: SpecClause, members: list[int], sure: list[int]) -> None:
        """A count per area or per length: the image's count scaled to the clause's unit."""
        extent, why = image_extent(c, self.wo, self.image_size)
        unit = per_text(c)
        lim = _fmt(c.limit or 0.0, "count", 0)
        if extent is None or not c.count_base:
            self.add(
                c,
                Outcome.REVIEW,
                f"{self.tag(c)}: {len(members)} {c.defect_type} findings; cannot count "
                f"{unit} ({why}); limit {lim} {unit}{_scope(c)}",
                None,
                float(len(members)),
            )
            return
        scale = c.count_base / extent
        shown = f"{len(sure)} {c.defect_type} findings in {extent_text(c, extent)}"
        if not _passes(len(sure) * scale, c.comparison, c.limit):
            self.add(
                c,
                Outcome.FAIL,
                f"{self.tag(c)}: {shown} = {len(sure) * scale:.1f} {unit} "
                f"{_NEG[c.comparison or '<=']} {lim} allowed{_scope(c)}",
                None,
                len(sure) * scale,
            )
        elif not _passes(len(members) * scale, c.comparison, c.limit):
            self.add(
                c,
                Outcome.REVIEW,
                f"{self.tag(c)}: {len(members)} possible {c.defect_type} findings "
                f"({len(members) - len(sure)} uncertain) = {len(members) * scale:.1f} {unit} > {lim} allowed",
                None,
                len(members) * scale,
            )
        else:
            self.add(
                c,
                Outcome.PASS,
                f"{self.tag(c)}: {shown} = {len(members) * scale:.1f} {unit} "
                f"{_SYM[c.comparison or '<=']} {lim} allowed{_scope(c)}",
                None,
                len(members) * scale,
            )

    def untouched(self) -> None:
        for c in self.rules + self.catch_alls:
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


def judge(
    findings: Sequence[Finding],
    work_order: WorkOrder,
    *,
    type_min: float = 0.0,
    image_size: tuple[int, int] | None = None,
) -> Verdict:
    """Judge one part's findings against a work order's clauses.

    Args:
        findings: the findings of one image (sizes in mm/mm², ``region.zones`` naming the
            work-order zones each region touches; touching a zone counts as inside it).
        work_order: the order whose clauses are applied.
        type_min: findings whose ``type_score`` is below this are treated as type-uncertain.
        image_size: (width, height) of the image in px; counts per area or per length need it
            (and the pixel size), else they go to REVIEW.

    Returns:
        Verdict with one ClauseCheck per (finding, clause) that applies, one part-level
        check per count clause with findings, and a part-level pass for every checkable
        clause no finding touched; ``reasons`` are the deciding sentences (NG first, then
        REVIEW, most severe first), e.g. "WO-1234 §3: scratch 0.80 mm long > 0.50 mm allowed".
        Checks not tied to a clause (a type the spec does not name) have ``clause_id == ""``.
    """
    return _Judge(findings, work_order, type_min, image_size).run()

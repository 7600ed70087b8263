"""Query building for the inspection list, the review queue, streaming and counts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from inspector.domain import Decision, Inspection, VerdictKind
from inspector.store.convert import inspection_from_row
from inspector.store.errors import StoreError
from inspector.store.tables import ExplanationRow, FindingRow, InspectionRow, ReviewRow

HYDRATE_BATCH = 500  # ids per IN (...) when loading findings/explanations of many inspections


@dataclass(frozen=True)
class InspectionFilter:
    """Which inspections a query returns. ``since`` is inclusive, ``until`` exclusive (UTC)."""

    order_id: str | None = None
    lot: str | None = None
    verdicts: tuple[str, ...] | None = None
    defect_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flagged_only: bool = False  # verdict NG or REVIEW: what the review queue shows
    unreviewed_only: bool = False  # no review recorded yet
    part_id: str | None = field(default=None, kw_only=True)  # a part id or its beginning (issue 11)
    current_only: bool = False  # leave out records a later one re-judged (``inspector reinspect``)

    @classmethod
    def of(
        cls,
        order_id: str | None = None,
        lot: str | None = None,
        verdicts: Iterable[VerdictKind | str] | None = None,
        defect_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        flagged_only: bool = False,
        unreviewed_only: bool = False,
        current_only: bool = False,
        part_id: str | None = None,
    ) -> InspectionFilter:
        kinds: tuple[str, ...] | None = None
        if verdicts is not None:
            if isinstance(verdicts, str):
                verdicts = [verdicts]
            try:
                kinds = tuple(VerdictKind(v).value for v in verdicts)
            except ValueError as exc:
                raise StoreError(f"verdicts {verdicts!r}: use OK, NG and/or REVIEW") from exc
        for name, t in (("since", since), ("until", until)):
            if t is not None and (t.tzinfo is None or t.utcoffset() is None):
                raise StoreError(f"{name}={t.isoformat()} is naive: pass a timezone-aware UTC datetime")
        return cls(order_id, lot, kinds, defect_type, since, until, flagged_only, unreviewed_only, current_only,
                   part_id=(part_id or "").strip() or None)

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        t = InspectionRow
        if self.order_id is not None:
            stmt = stmt.where(t.order_id == self.order_id)
        if self.lot is not None:
            stmt = stmt.where(t.lot == self.lot)
        if self.verdicts is not None:
            stmt = stmt.where(t.verdict.in_(self.verdicts))
        if self.flagged_only:
            stmt = stmt.where(t.verdict.in_((VerdictKind.NG.value, VerdictKind.REVIEW.value)))
        if self.since is not None:
            stmt = stmt.where(t.inspected_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(t.inspected_at < self.until)
        if self.defect_type is not None:
            # a semi-join (IN), not a correlated EXISTS: SQLite then reads the type's findings
            # once through ix_findings_defect_type instead of once per inspection row
            typed = select(FindingRow.inspection_id).where(FindingRow.defect_type == self.defect_type)
            stmt = stmt.where(t.id.in_(typed))
        if self.unreviewed_only:  # nor on a record it re-judges: that disposition still decides the part
            stmt = stmt.where(~exists().where(ReviewRow.inspection_id == t.id))
            stmt = stmt.where(or_(t.reinspects_id.is_(None), t.id.not_in(select(reviewed_chain().c.id))))
        if self.part_id is not None:  # every record of the part (its id, or ids starting with it)
            stmt = stmt.where(t.part_id.startswith(self.part_id, autoescape=True))
        if self.current_only:  # one record per part: the latest of its re-judge chain
            later = aliased(InspectionRow)
            stmt = stmt.where(~exists().where(later.reinspects_id == t.id))
        return stmt


def reviewed_chain() -> Any:
    """A recursive CTE of the records that re-judge a reviewed record (directly or through others)."""
    start = select(InspectionRow.id.label("id")).where(InspectionRow.reinspects_id.in_(select(ReviewRow.inspection_id)))
    chain = start.cte("reviewed_chain", recursive=True)
    later = aliased(InspectionRow)
    return chain.union_all(select(later.id).where(later.reinspects_id == chain.c.id))


def ordering(newest_first: bool) -> tuple[Any, ...]:
    t = InspectionRow
    if newest_first:
        return (t.inspected_at.desc(), t.id.desc())
    return (t.inspected_at.asc(), t.id.asc())


def after_key(newest_first: bool, at: datetime, inspection_id: str) -> Any:
    """Keyset condition: rows strictly after (at, id) in the chosen order (ties broken by id)."""
    t = InspectionRow
    if newest_first:
        return or_(t.inspected_at < at, and_(t.inspected_at == at, t.id < inspection_id))
    return or_(t.inspected_at > at, and_(t.inspected_at == at, t.id > inspection_id))


INSPECTIONS = InspectionRow.__table__
FINDINGS = FindingRow.__table__
EXPLANATIONS = ExplanationRow.__table__


def select_inspections() -> Select[Any]:
    """SELECT of whole inspection rows as Core rows: attribute access like the ORM class, and
    about twice as fast to load (these rows are never modified, so no identity map is needed)."""
    return select(INSPECTIONS)


def hydrate(session: Session, rows: Sequence[Any]) -> list[Inspection]:
    """Domain inspections for ``rows``: findings and latest explanation loaded in batches."""
    findings: dict[str, list[Any]] = {r.id: [] for r in rows}
    latest: dict[str, Any] = {}
    ids = list(findings)
    for start in range(0, len(ids), HYDRATE_BATCH):
        batch = ids[start : start + HYDRATE_BATCH]
        for f in session.execute(select(FINDINGS).where(FINDINGS.c.inspection_id.in_(batch))):
            findings[f.inspection_id].append(f)
        stmt = select(EXPLANATIONS).where(EXPLANATIONS.c.inspection_id.in_(batch)).order_by(EXPLANATIONS.c.id)
        for e in session.execute(stmt):
            latest[e.inspection_id] = e  # ordered by id: the last one wins
    return [inspection_from_row(r, findings[r.id], latest.get(r.id)) for r in rows]


def counts(session: Session, flt: InspectionFilter) -> dict[str, Any]:
    """Machine verdict counts, yield, and the latest review decision per reviewed inspection."""
    t = InspectionRow
    out: dict[str, Any] = {"inspected": 0, "OK": 0, "NG": 0, "REVIEW": 0}
    for verdict, n in session.execute(flt.apply(select(t.verdict, func.count()).group_by(t.verdict))):
        out[verdict] = int(n)
        out["inspected"] += int(n)
    out["yield"] = out["OK"] / out["inspected"] if out["inspected"] else None

    if flt.current_only:  # a part's disposition may be signed on an earlier record of its chain
        decisions = select(ReviewRow.decision, func.count()).where(ReviewRow.id.in_(chain_latest_reviews(session, flt)))
    else:
        latest = flt.apply(
            select(func.max(ReviewRow.id).label("id")).join(t, t.id == ReviewRow.inspection_id)
        ).group_by(ReviewRow.inspection_id)
        decisions = select(ReviewRow.decision, func.count()).where(ReviewRow.id.in_(select(latest.subquery().c.id)))
    out["reviewed"] = 0
    for d in Decision:
        out[d.value] = 0
    for decision, n in session.execute(decisions.group_by(ReviewRow.decision)):
        out[decision] = int(n)
        out["reviewed"] += int(n)
    return out


def chain_latest_reviews(session: Session, flt: InspectionFilter) -> list[int]:
    """Ids of the latest review of each part of the selection, over its whole re-judge chain
    (a disposition signed on the original still decides after ``inspector reinspect``)."""
    t = InspectionRow
    everyone = dataclasses.replace(flt, current_only=False)
    successor = dict(session.execute(everyone.apply(select(t.reinspects_id, t.id).where(t.reinspects_id.is_not(None)))).all())
    latest = everyone.apply(
        select(ReviewRow.inspection_id, func.max(ReviewRow.id)).join(t, t.id == ReviewRow.inspection_id)
    ).group_by(ReviewRow.inspection_id)
    best: dict[str, int] = {}
    for inspection_id, review_id in session.execute(latest):
        current = inspection_id
        while current in successor:
            current = successor[current]
        best[current] = max(best.get(current, 0), int(review_id))
    return list(best.values())

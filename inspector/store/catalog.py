"""Work orders and teach references: what the station inspects against (part of ``Store``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inspector.domain import WorkOrder, utcnow
from inspector.store import convert
from inspector.store.errors import NotFoundError, StoreError
from inspector.store.records import TaughtReference, WorkOrderRecord
from inspector.store.tables import InspectionRow, ReferenceRow, WorkOrderRow

if TYPE_CHECKING:
    from inspector.model.base import TeachResult

_VERSION_RETRIES = 5  # concurrent stations numbering the same order/part (PostgreSQL)
_T = TypeVar("_T")


def with_version_retries(once: Callable[[], _T]) -> _T:
    """Run ``once`` (one whole write transaction) again when a concurrent station took the
    same version number (PostgreSQL: the unique constraint refuses the second insert)."""
    for attempt in range(_VERSION_RETRIES):
        try:
            return once()
        except IntegrityError:
            if attempt == _VERSION_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def save_work_order_in(s: Session, wo: WorkOrder, actor: str) -> int:
    """:meth:`Catalog.save_work_order` inside the caller's write transaction (``s``)."""
    sha = convert.work_order_sha256(wo)
    latest = s.scalars(
        select(WorkOrderRow)
        .where(WorkOrderRow.order_id == wo.order_id)
        .order_by(WorkOrderRow.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.content_sha256 == sha:
        return latest.version
    version = 1 if latest is None else latest.version + 1
    s.execute(insert(WorkOrderRow), [convert.work_order_values(wo, version, actor, utcnow(), sha)])
    return version


def reference_in(s: Session, part_number: str, version: int | None = None) -> TaughtReference | None:
    """The latest (or given) teach of a part number inside session ``s``; None if never taught."""
    stmt = select(ReferenceRow).where(ReferenceRow.part_number == part_number)
    if version is None:
        stmt = stmt.order_by(ReferenceRow.version.desc()).limit(1)
    else:
        stmt = stmt.where(ReferenceRow.version == version)
    row = s.scalars(stmt).first()
    return None if row is None else convert.reference_from_row(row)


def save_reference_in(s: Session, result: TeachResult, weights_hash: str, taught_by: str, *,
                      taught_at: datetime | None = None) -> TaughtReference:
    """:meth:`Catalog.save_reference` inside the caller's write transaction (``s``)."""
    if not getattr(result, "part_number", ""):
        raise StoreError("a taught reference needs a part number")
    last = s.scalar(select(func.max(ReferenceRow.version)).where(ReferenceRow.part_number == result.part_number))
    row = ReferenceRow(
        part_number=result.part_number,
        version=(last or 0) + 1,
        path=str(result.path),
        n_good=int(result.n_good),
        threshold=float(result.threshold),
        review_low=float(result.review_low),
        weights_hash=weights_hash,
        taught_at=taught_at or utcnow(),
        taught_by=taught_by,
    )
    s.add(row)
    s.flush()
    return convert.reference_from_row(row)


class Catalog:
    """Mixin of ``Store``: versioned work orders and the teach registry.

    Each write also exists as a ``*_in(session, ...)`` function so the trace layer can commit
    the change and its audit event in one transaction (``inspector.trace.changes``).
    """

    # session context managers, defined by Store
    _read: Callable[[], Any]
    _write: Callable[[], Any]

    # --- work orders ------------------------------------------------------------------

    def save_work_order(self, wo: WorkOrder, actor: str) -> int:
        """Record a loaded work order; returns its version (1, 2, ...).

        Loading the same content again returns the latest version unchanged; changed content
        (text or parsed clauses) adds version latest+1. Old versions are kept for the
        inspections that used them. ``actor`` is the username who loaded it.
        """

        def once() -> int:
            with self._write() as s:
                return save_work_order_in(s, wo, actor)

        return with_version_retries(once)

    def get_work_order(self, order_id: str, version: int | None = None) -> WorkOrder:
        """The work order as loaded (latest version unless ``version``). Raises ``NotFoundError``."""
        with self._read() as s:
            return convert.work_order_from_row(self._work_order_row(s, order_id, version))

    def work_order_of(self, inspection_id: str) -> WorkOrder:
        """The exact work-order version an inspection was judged against."""
        with self._read() as s:
            row = s.get(InspectionRow, inspection_id)
            if row is None:
                raise NotFoundError(f"no inspection {inspection_id!r}")
            return convert.work_order_from_row(self._work_order_row(s, row.order_id, row.work_order_version))

    @staticmethod
    def _work_order_row(s: Session, order_id: str, version: int | None) -> WorkOrderRow:
        stmt = select(WorkOrderRow).where(WorkOrderRow.order_id == order_id)
        if version is None:
            stmt = stmt.order_by(WorkOrderRow.version.desc()).limit(1)
        else:
            stmt = stmt.where(WorkOrderRow.version == version)
        row = s.scalars(stmt).first()
        if row is None:
            which = "" if version is None else f" version {version}"
            raise NotFoundError(f"no work order {order_id!r}{which} in the database: load it first")
        return row

    def list_work_orders(self, *, all_versions: bool = False) -> list[WorkOrderRecord]:
        """Stored work orders, newest load first: the latest version of each, or every version."""
        with self._read() as s:
            stmt = select(WorkOrderRow)
            if not all_versions:
                latest = (
                    select(WorkOrderRow.order_id, func.max(WorkOrderRow.version).label("v"))
                    .group_by(WorkOrderRow.order_id)
                    .subquery()
                )
                stmt = stmt.join(
                    latest,
                    (WorkOrderRow.order_id == latest.c.order_id) & (WorkOrderRow.version == latest.c.v),
                )
            stmt = stmt.order_by(WorkOrderRow.loaded_at.desc(), WorkOrderRow.id.desc())
            return [convert.work_order_record(r) for r in s.scalars(stmt)]

    # --- teach references -------------------------------------------------------------

    def save_reference(
        self, result: TeachResult, weights_hash: str, taught_by: str, *, taught_at: datetime | None = None
    ) -> TaughtReference:
        """Register a teach (``TeachResult`` of the model backend) as the next version of its
        part number; returns the stored record. ``weights_hash``: the backbone weights the
        reference was computed with; ``taught_by``: username. Raises ``StoreError``.
        """

        def once() -> TaughtReference:
            with self._write() as s:
                return save_reference_in(s, result, weights_hash, taught_by, taught_at=taught_at)

        return with_version_retries(once)

    def get_reference(self, part_number: str, version: int | None = None) -> TaughtReference:
        """The latest (or given) teach of a part number. Raises ``NotFoundError`` if never taught."""
        with self._read() as s:
            found = reference_in(s, part_number, version)
        if found is None:
            raise NotFoundError(f"part number {part_number!r} has no taught reference: teach it first")
        return found

    def list_references(self, part_number: str | None = None) -> list[TaughtReference]:
        """Every teach (of one part number, or of all), newest first."""
        with self._read() as s:
            stmt = select(ReferenceRow)
            if part_number is not None:
                stmt = stmt.where(ReferenceRow.part_number == part_number)
            stmt = stmt.order_by(ReferenceRow.taught_at.desc(), ReferenceRow.id.desc())
            return [convert.reference_from_row(r) for r in s.scalars(stmt)]

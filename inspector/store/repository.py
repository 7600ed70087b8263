"""``Store``: the one object the pipeline, UI and reports use to keep and find records.

Threads: every call opens its own ``Session`` on a shared engine, so one writer thread and
any number of reader threads may call one ``Store`` at once. SQLite has one writer at a
time; the pipeline sends all writes through its single writer thread (the store does not
start threads). Write transactions take SQLite's lock at BEGIN, so a second writer (another
process, the CLI) waits up to the busy timeout instead of failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from inspector.domain import Explanation, Inspection, Review, VerdictKind, utcnow
from inspector.store import convert, migrate, queries
from inspector.store.catalog import Catalog
from inspector.store.db import make_engine, read_only_engine, session_scope, writer_engine
from inspector.store.errors import (
    DuplicateInspectionError,
    MissingImageError,
    NotFoundError,
    StoreError,
    UnknownWorkOrderError,
)
from inspector.store.images import ImageStore
from inspector.store.tables import ExplanationRow, FindingRow, InspectionRow, ReviewRow, WorkOrderRow

_INSPECTIONS = InspectionRow.__table__
_FINDINGS = FindingRow.__table__
_EXPLANATIONS = ExplanationRow.__table__


class Store(Catalog):
    """Inspection records in a database plus their images in an ``ImageStore``."""

    #: Called inside the transaction of every inspection insert as ``hook(connection, ids)``; what it
    #: writes commits or rolls back with the records. The facade installs the audit trail's seal
    #: (``inspector.trace.records``): one ``inspection.recorded`` event per record.
    record_hook: Callable[[Connection, list[str]], None] | None = None

    def __init__(self, engine: Engine, images: ImageStore) -> None:
        """Wrap an engine whose schema is already at head (use ``Store.open`` normally)."""
        self._engine = engine
        self._images = images

    @classmethod
    def open(cls, url: str | Path, image_dir: str | Path, *, synchronous: str = "NORMAL",
             busy_timeout_ms: int = 30_000) -> Store:
        """Open (creating if needed) the database at ``url`` and the image folder ``image_dir``.

        ``url``: ``sqlite:///abs/path.db``, a plain file path (SQLite), or
        ``postgresql+psycopg://user:pw@host:5432/db``. Runs the schema migrations to head.
        Raises ``MigrationError`` when the database was written by a newer program,
        ``StoreError`` for an unsupported URL. A SQLite file on a full or read-only disk that
        SQLite cannot open for writing is opened read-only (``read_only_engine``): reads work,
        writes fail as storage faults (the line spools them, docs/reliability.md).
        """
        engine = make_engine(url, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        try:
            try:
                migrate.upgrade(engine)
            except OperationalError:
                fallback = read_only_engine(url)
                if fallback is None or migrate.current_revision(fallback) != migrate.head_revision():
                    raise
                engine.dispose()
                engine = fallback
            images = ImageStore(image_dir)
            images.remove_stale_temp_files()
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, images)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def images(self) -> ImageStore:
        return self._images

    def close(self) -> None:
        """Close all pooled connections (SQLite then checkpoints its WAL)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> Any:
        return session_scope(self._engine)

    def _write(self) -> Any:
        return session_scope(self._engine, write=True)

    # --- inspections ------------------------------------------------------------------

    def next_part_sequence(self, order_id: str, lot: str) -> int:
        """The next sequence number of generated part ids of ``order_id``/``lot`` (never repeats)."""
        from inspector.store.sequences import next_part_sequence

        return next_part_sequence(self._engine, order_id, lot)

    def save_inspection(self, inspection: Inspection, *, work_order_version: int | None = None) -> None:
        """Store one inspection and all its findings in ONE transaction (all or nothing).

        The image must already be in ``self.images``; the work order must have been saved. The
        version it was judged against is the inspection's own ``work_order_version``, else
        ``work_order_version``, else the latest; the stored one is set on the inspection. The explanation, if any,
        is stored as its first explanation row in the same transaction.
        Raises ``MissingImageError``, ``UnknownWorkOrderError``, ``DuplicateInspectionError``,
        ``StoreError`` (invalid field, naming it).
        """
        self.save_inspections([inspection], work_order_version=work_order_version)

    def save_inspections(
        self, inspections: Sequence[Inspection], *, work_order_version: int | None = None
    ) -> None:
        """Store several inspections in one transaction (faster per part; all or nothing)."""
        ids = self._check_batch(inspections)
        # Core inserts on one connection: the ORM unit of work costs ~2x for write-once rows.
        try:
            with writer_engine(self._engine).begin() as conn:
                self._insert(conn, inspections, work_order_version)
        except IntegrityError as exc:
            with self._engine.connect() as conn:
                stored = conn.scalars(select(_INSPECTIONS.c.id).where(_INSPECTIONS.c.id.in_(ids))).all()
            if stored:
                raise DuplicateInspectionError(
                    f"inspection {stored[0]} is already stored; inspection records are never overwritten"
                ) from exc
            raise StoreError(f"the database refused the inspection record: {exc.orig}") from exc

    def save_inspections_in(self, session: Any, inspections: Sequence[Inspection]) -> None:
        """Store inspections inside the caller's write transaction (``session``: a write
        ``Session``): they commit or roll back with it, e.g. together with their audit events
        (``inspector reinspect``). Raises like ``save_inspections``; an id or a re-judged record
        that is already stored surfaces as SQLAlchemy's ``IntegrityError``."""
        self._check_batch(inspections)
        self._insert(session.connection(), inspections, None)

    def _check_batch(self, inspections: Sequence[Inspection]) -> list[str]:
        for insp in inspections:
            if not self._images.exists(insp.image_sha256):
                raise MissingImageError(
                    f"inspection {insp.id}: image {insp.image_sha256} is not in the image store; "
                    "put it there (images.put_bytes / put_array) before saving the inspection"
                )
        ids = [insp.id for insp in inspections]
        if len(set(ids)) != len(ids):
            raise DuplicateInspectionError("the batch holds the same inspection id twice")
        return ids

    def _insert(self, conn: Connection, inspections: Sequence[Inspection], work_order_version: int | None) -> None:
        now = utcnow()
        versions: dict[tuple[str, int | None], int] = {}
        rows, finding_rows, explanation_rows = [], [], []
        for insp in inspections:
            want = insp.work_order_version if insp.work_order_version is not None else work_order_version
            if (insp.order_id, want) not in versions:
                versions[insp.order_id, want] = self._resolve_version(conn, insp.order_id, want)
            insp.work_order_version = versions[insp.order_id, want]
            rows.append(convert.inspection_values(insp, insp.work_order_version, now))
            finding_rows += [convert.finding_values(insp.id, i, f) for i, f in enumerate(insp.findings)]
            if insp.explanation is not None:
                explanation_rows.append(convert.explanation_values(insp.id, insp.explanation, now))
        if rows:
            conn.execute(insert(_INSPECTIONS), rows)
        if finding_rows:
            conn.execute(insert(_FINDINGS), finding_rows)
        if explanation_rows:
            conn.execute(insert(_EXPLANATIONS), explanation_rows)
        if rows and self.record_hook is not None:
            self.record_hook(conn, [r["id"] for r in rows])

    @staticmethod
    def _resolve_version(conn: Connection, order_id: str, version: int | None) -> int:
        stmt = select(func.max(WorkOrderRow.version)).where(WorkOrderRow.order_id == order_id)
        if version is not None:
            stmt = stmt.where(WorkOrderRow.version == version)
        found = conn.scalar(stmt)
        if found is None:
            which = "" if version is None else f" version {version}"
            raise UnknownWorkOrderError(
                f"work order {order_id!r}{which} is not in the database: save_work_order() it before "
                "saving inspections judged against it"
            )
        return int(found)

    def rejudge_chain(self, inspection_id: str) -> list[str]:
        """Ids of the records a re-judged record replaces, newest first (empty for a record that
        re-judges nothing; a purged original ends the chain). ``inspector reinspect`` links them."""
        col, out, current = _INSPECTIONS.c, [], inspection_id
        with self._engine.connect() as conn:
            while (prev := conn.scalar(select(col.reinspects_id).where(col.id == current))) and prev not in out:
                out.append(prev)
                current = prev
        return out

    def add_explanation(self, inspection_id: str, explanation: Explanation) -> None:
        """Append an explanation to a stored inspection (the newest is the current one).

        The inspection row itself is never changed. Raises ``NotFoundError``.
        """
        with self._write() as s:
            if s.get(InspectionRow, inspection_id) is None:
                raise NotFoundError(f"no inspection {inspection_id!r} to explain")
            s.execute(
                insert(ExplanationRow), [convert.explanation_values(inspection_id, explanation, utcnow())]
            )

    def explanations_for(self, inspection_id: str) -> list[Explanation]:
        """Every explanation of an inspection, oldest first."""
        with self._read() as s:
            stmt = select(ExplanationRow).where(ExplanationRow.inspection_id == inspection_id)
            return [convert.explanation_from_row(r) for r in s.scalars(stmt.order_by(ExplanationRow.id))]

    def get_inspection(self, inspection_id: str) -> Inspection:
        """One inspection with its findings and latest explanation. Raises ``NotFoundError``."""
        with self._read() as s:
            row = s.execute(queries.select_inspections().where(_INSPECTIONS.c.id == inspection_id)).first()
            if row is None:
                raise NotFoundError(f"no inspection {inspection_id!r}")
            return queries.hydrate(s, [row])[0]

    def inspection_ids_starting(self, prefix: str, *, limit: int = 3) -> list[str]:
        """Ids of stored inspections that start with ``prefix`` (at most ``limit``)."""
        with self._engine.connect() as conn:
            stmt = select(_INSPECTIONS.c.id).where(_INSPECTIONS.c.id.startswith(prefix, autoescape=True))
            return list(conn.scalars(stmt.limit(limit)).all())

    def query_inspections(
        self,
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
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[Inspection]:
        """Inspections matching every given filter, ordered by ``inspected_at`` (then id).

        ``since`` inclusive, ``until`` exclusive (aware UTC). ``flagged_only``: NG or REVIEW.
        ``unreviewed_only``: no review yet. ``defect_type``: at least one finding of that type.
        ``current_only``: one record per part, leaving out those a later record re-judged.
        ``part_id``: the records of the parts whose id is (or starts with) it.
        For large results use ``iter_inspections`` (bounded memory).
        """
        flt = queries.InspectionFilter.of(
            order_id, lot, verdicts, defect_type, since, until, flagged_only, unreviewed_only, current_only,
            part_id=part_id,
        )
        stmt = flt.apply(queries.select_inspections()).order_by(*queries.ordering(newest_first))
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with self._read() as s:
            return queries.hydrate(s, s.execute(stmt).all())

    def count_inspections(
        self,
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
    ) -> int:
        """How many inspections ``query_inspections`` would return without a limit (for paging)."""
        flt = queries.InspectionFilter.of(
            order_id, lot, verdicts, defect_type, since, until, flagged_only, unreviewed_only, current_only,
            part_id=part_id,
        )
        with self._read() as s:
            return int(s.scalar(flt.apply(select(func.count()).select_from(InspectionRow))) or 0)

    def iter_inspections(
        self,
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
        newest_first: bool = True,
        chunk_size: int = 500,
    ) -> Iterator[Inspection]:
        """Like ``query_inspections`` but streamed: ``chunk_size`` rows per short read
        transaction (keyset paging on ``(inspected_at, id)``), so memory stays bounded and no
        long transaction holds back SQLite's WAL checkpoint. Rows saved while iterating may or
        may not appear; none appears twice.
        """
        if chunk_size < 1:
            raise StoreError(f"chunk_size={chunk_size}: must be at least 1")
        flt = queries.InspectionFilter.of(
            order_id, lot, verdicts, defect_type, since, until, flagged_only, unreviewed_only, current_only,
            part_id=part_id,
        )
        base = flt.apply(queries.select_inspections()).order_by(*queries.ordering(newest_first))
        base = base.limit(chunk_size)
        key: tuple[datetime, str] | None = None
        while True:
            stmt = base if key is None else base.where(queries.after_key(newest_first, *key))
            with self._read() as s:
                rows = s.execute(stmt).all()
                chunk = queries.hydrate(s, rows)
            if not chunk:
                return
            key = (rows[-1].inspected_at, rows[-1].id)
            yield from chunk
            if len(rows) < chunk_size:
                return

    def counts(self, order_id: str | None = None, lot: str | None = None) -> dict[str, Any]:
        """Totals for an order and/or lot (all when both None).

        Keys: ``inspected``, ``OK``, ``NG``, ``REVIEW`` (machine verdicts), ``yield`` (OK /
        inspected, a fraction 0..1; None when nothing was inspected), ``reviewed`` (inspections
        with a review) and ``accept``/``reject``/``rework`` (their latest decision). A re-judged
        part counts once (its current record; its latest review over the chain).
        """
        with self._read() as s:
            return queries.counts(s, queries.InspectionFilter.of(order_id, lot, current_only=True))

    # --- reviews ----------------------------------------------------------------------

    def add_review(self, review: Review, *, auth_method: str = "") -> Review:
        """Append a signed review decision; returns it with its ``id``.

        Never touches the inspection row (the machine verdict stays as it was); a later
        review supersedes an earlier one. ``auth_method`` records how the reviewer proved
        who they are (e.g. "password"). Raises ``NotFoundError``, ``StoreError``.
        """
        values = convert.review_values(review, auth_method)
        with self._write() as s:
            if s.get(InspectionRow, review.inspection_id) is None:
                raise NotFoundError(f"no inspection {review.inspection_id!r} to review")
            row = ReviewRow(**values)
            s.add(row)
            s.flush()
            return dataclasses.replace(review, id=row.id)

    def reviews_for(self, inspection_id: str) -> list[Review]:
        """Every review of an inspection, oldest first (the last one is current)."""
        with self._read() as s:
            stmt = select(ReviewRow).where(ReviewRow.inspection_id == inspection_id).order_by(ReviewRow.id)
            return [convert.review_from_row(r) for r in s.scalars(stmt)]

    def latest_review(self, inspection_id: str) -> Review | None:
        """The current review decision of an inspection, None when not reviewed."""
        reviews = self.reviews_for(inspection_id)
        return reviews[-1] if reviews else None

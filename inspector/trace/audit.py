"""The audit trail: append-only, hash-chained events, and their verification.

``Audit(store).append(...)`` adds one event in its own transaction; ``append_in(session,
...)`` adds it inside a caller's transaction (a signed review and its event commit
together). ``verify()`` walks the whole chain and cross-checks the records that point into
it (signatures, retention logs). The chain format is in ``inspector.trace.chain``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from inspector.canonical import canonical_text
from inspector.domain import AuditEvent, User, utcnow
from inspector.store.trace_tables import AuditEventRow
from inspector.trace import _db
from inspector.trace.chain import GENESIS, ChainChecker, StoredEvent, VerifyResult, event_hash
from inspector.trace.crosscheck import cross_check
from inspector.trace.errors import AuditError
from inspector.trace.records import check_records
from inspector.trace.statecheck import check_state

# What the product records (action -> entity). Other actions are accepted (plugins) but
# must be lowercase dotted words; see docs/traceability.md for who emits each one.
ACTIONS: dict[str, str] = {
    "workorder.loaded": "work_order",
    "model.taught": "part",
    "threshold.changed": "part",
    "review.decided": "inspection",
    "review.pulled": "inspection",
    "part.acknowledged": "inspection",  # a held NG/REVIEW seen by the operator (docs/app.md)
    "user.created": "user",
    "user.role_changed": "user",
    "user.password_changed": "user",
    "user.deactivated": "user",
    "user.reactivated": "user",
    "user.locked": "user",
    "user.unlocked": "user",
    "auth.failed": "user",
    "user.password_rehashed": "user",  # a sign-in upgraded the hash parameters (after: its credential digest)
    "inspection.recorded": "inspection",  # every stored record, sealed in its transaction (trace/records.py)
    "records.adopted": "inspections",  # records stored before sealing began, with their digests
    "records.sealing_started": "inspections",  # once per database: unsealed records are inserted ones
    "settings.recorded": "settings",  # a run's verdict-relevant settings when they differ from the last recorded
    "reason_code.added": "reason_code",
    "reason_code.deactivated": "reason_code",
    "data.exported": "inspections",
    "report.generated": "work_order",
    "retention.applied": "retention",
    "inspection.spooled": "inspection",  # stored from the spool after a storage fault (docs/reliability.md)
    "spool.drained": "spool",  # one per drain transaction (counts, first and last record)
    "spool.held": "spool",  # a spooled record the database refused, kept in the spool's held/ folder
    "inspection.rejudged": "inspection",  # inspector reinspect --apply: one per new linked record
    "reinspect.applied": "work_order",  # ... and one per run (counts, target version, model)
}

_BATCH = 5000


def actor_name(actor: str | User | None) -> str:
    """The username recorded for an actor (a ``User``, a name, or '' -> 'system')."""
    if isinstance(actor, User):
        return actor.username
    name = (actor or "").strip()
    return name or "system"


def _check_action(action: str) -> None:
    if not action or action != action.strip().lower() or " " in action or "." not in action:
        raise AuditError(f"audit action {action!r} must be lowercase 'noun.verb' words, e.g. 'review.decided'")


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        actor=row.actor, action=row.action, entity=row.entity, entity_id=row.entity_id,
        before=json.loads(row.before) if row.before is not None else None,
        after=json.loads(row.after) if row.after is not None else None,
        at=row.at, seq=row.seq, prev_hash=row.prev_hash, hash=row.hash,
    )


class Audit:
    """The audit trail of one database. Cheap to construct; thread-safe (no state)."""

    def __init__(self, store: Any) -> None:
        """``store``: an ``inspector.store.Store`` (or a SQLAlchemy ``Engine``)."""
        self._store = store
        self._engine = _db.engine_of(store)

    # --- writing ------------------------------------------------------------------------

    def append(self, actor: str | User | None, action: str, entity: str, entity_id: str,
               before: Any = None, after: Any = None) -> AuditEvent:
        """Append one event in its own transaction; returns it with ``seq`` and ``hash``.

        ``before``/``after``: JSON-able data (domain objects are converted); None for none.
        Raises ``AuditError`` for a malformed action, ``CanonicalError`` (a ``ValueError``) for
        NaN/inf in the data.
        Several processes may append at once: PostgreSQL serialises them on an advisory lock,
        SQLite on its single write lock.
        """
        with _db.write_session(self._engine) as s:
            return self.append_in(s, actor, action, entity, entity_id, before, after)

    def append_in(self, session: Session, actor: str | User | None, action: str, entity: str,
                  entity_id: str, before: Any = None, after: Any = None) -> AuditEvent:
        """Append one event inside the caller's (write) transaction: it commits or rolls back with it."""
        _check_action(action)
        before_text = None if before is None else canonical_text(before)
        after_text = None if after is None else canonical_text(after)
        _db.lock_chain(session)
        last = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash).order_by(AuditEventRow.seq.desc()).limit(1)
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = utcnow()
        name = actor_name(actor)
        values = {
            "seq": seq, "at": at, "actor": name, "action": action, "entity": str(entity),
            "entity_id": str(entity_id), "before": before_text, "after": after_text, "prev_hash": prev,
            "hash": event_hash(seq, at, name, action, str(entity), str(entity_id), before_text, after_text, prev),
        }
        session.execute(insert(AuditEventRow), [values])  # Core insert: no ORM bookkeeping per event
        return AuditEvent(actor=name, action=action, entity=values["entity"], entity_id=values["entity_id"],
                          before=None if before_text is None else json.loads(before_text),
                          after=None if after_text is None else json.loads(after_text),
                          at=at, seq=seq, prev_hash=prev, hash=values["hash"])

    # --- reading ------------------------------------------------------------------------

    def events(self, *, entity: str | None = None, entity_id: str | None = None, action: str | None = None,
               actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
               after_seq: int | None = None, limit: int | None = None,
               newest_first: bool = False) -> list[AuditEvent]:
        """Events matching every given filter, in sequence order (or newest first).

        ``action`` ending in '.' or '.*' matches a prefix (``user.*``); ``since`` inclusive,
        ``until`` exclusive (aware UTC); ``after_seq``: only events with a larger ``seq``.
        """
        stmt = select(AuditEventRow)
        if entity:
            stmt = stmt.where(AuditEventRow.entity == entity)
        if entity_id:
            stmt = stmt.where(AuditEventRow.entity_id == entity_id)
        if action:
            prefix = action[:-1] if action.endswith(".*") else action
            if prefix.endswith("."):
                stmt = stmt.where(AuditEventRow.action.startswith(prefix, autoescape=True))
            else:
                stmt = stmt.where(AuditEventRow.action == action)
        if actor:
            stmt = stmt.where(AuditEventRow.actor == actor)
        if since:
            stmt = stmt.where(AuditEventRow.at >= since)
        if until:
            stmt = stmt.where(AuditEventRow.at < until)
        if after_seq is not None:
            stmt = stmt.where(AuditEventRow.seq > after_seq)
        stmt = stmt.order_by(AuditEventRow.seq.desc() if newest_first else AuditEventRow.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        with _db.read_session(self._engine) as s:
            return [_to_event(r) for r in s.scalars(stmt)]

    def head(self) -> AuditEvent | None:
        """The newest event (None for an empty trail)."""
        found = self.events(limit=1, newest_first=True)
        return found[0] if found else None

    def count(self) -> int:
        with _db.read_session(self._engine) as s:
            return int(s.scalar(select(func.count()).select_from(AuditEventRow)) or 0)

    def iter_stored(self, chunk: int = _BATCH) -> Iterator[StoredEvent]:
        """Every stored event in ``seq`` order, read in short transactions of ``chunk`` rows."""
        t = AuditEventRow
        cols = (t.seq, t.at, t.actor, t.action, t.entity, t.entity_id, t.before, t.after, t.prev_hash, t.hash)
        last = None
        while True:
            stmt = select(*cols).order_by(t.seq).limit(chunk)
            if last is not None:
                stmt = stmt.where(t.seq > last)
            with _db.read_session(self._engine) as s:
                rows = [StoredEvent(*r) for r in s.execute(stmt)]
            if not rows:
                return
            yield from rows
            last = rows[-1].seq
            if len(rows) < chunk:
                return

    # --- verification -------------------------------------------------------------------

    def verify(self, *, expect_head: tuple[int, str] | None = None, deep: bool = True,
               images: bool = True) -> VerifyResult:
        """Check the whole trail; never raises for tampering (see ``VerifyResult``).

        Detects: an edited event (hash mismatch), a deleted event (gap or broken link), a
        re-ordered or inserted event (sequence or link), and with ``expect_head=(seq, hash)``
        (a head written down earlier, e.g. printed on a report) events cut off the end.
        ``deep`` also cross-checks signed reviews and retention logs against their events and
        reports missing append-only triggers (see ``inspector.trace.crosscheck``), every sealed
        inspection record (``records``), work orders, references and accounts (``statecheck``);
        ``images`` (with ``deep``, when the store has an image folder) hashes every stored image.
        """
        checker = ChainChecker()
        hashes: dict[int, str] = {}
        for ev in self.iter_stored():
            checker.feed(ev)
            if expect_head is not None and ev.seq == expect_head[0]:
                hashes[ev.seq] = ev.hash
        extra: list[tuple[int | None, str]] = []
        if expect_head is not None:
            seq, h = expect_head
            if seq not in hashes:
                extra.append((seq, f"expected head event #{seq} is gone: the trail ends at "
                                   f"#{checker.prev_seq} (events were cut off the end)"))
            elif hashes[seq] != h.lower():
                extra.append((seq, f"event #{seq} has hash {hashes[seq][:12]}..., not the recorded "
                                   f"{h[:12]}...: history was rewritten"))
        if deep:
            extra += cross_check(self._engine, head_seq=checker.prev_seq)
            folder = getattr(self._store, "images", None) if images else None
            for found, warned in (check_records(self._engine, folder), check_state(self._engine)):
                extra += found
                checker.warnings += warned
        return checker.result(extra)

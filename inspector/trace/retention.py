"""Retention: remove images (and, only when asked, whole records) past their keeping period.

Policy (see docs/traceability.md): images older than ``images_days`` are deleted from the
content-addressed folder unless a younger record still uses the same image; records
(inspection + findings + explanations + reviews + signatures) are kept forever unless
``records_days`` is set. A flagged part nobody has dispositioned keeps its image and record
(``keep_unreviewed``). The audit trail is never purged: each run appends one
``retention.applied`` event with the counts, the bytes freed and the sha256 of the manifest
of what went, and logs every removed item in ``retention_items`` under that event, so
``Audit.verify()`` still passes and can tell a purge from a deletion.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, delete, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from inspector.canonical import canonical_text, sha256_hex
from inspector.domain import User, utcnow
from inspector.store.errors import MissingImageError
from inspector.store.tables import ExplanationRow, FindingRow, InspectionRow, ReviewRow
from inspector.store.trace_tables import RetentionItemRow, RetentionPermitRow, ReviewSignatureRow
from inspector.trace import _db
from inspector.trace.accounts import Accounts
from inspector.trace.audit import Audit
from inspector.trace.chain import format_time
from inspector.trace.digests import manifest_hash, review_key
from inspector.trace.errors import RetentionError
from inspector.trace.policy import require

_CHUNK = 500


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each record class is kept, in days (None: forever).

    ``images_days``: camera images in the image folder. ``records_days``: inspection records
    with their findings, explanations, reviews and signatures (default: forever; purging them
    is a deliberate admin decision). ``keep_unreviewed``: never remove the image or record of
    an NG/REVIEW part that has no review yet.
    """

    images_days: int | None = None
    records_days: int | None = None
    keep_unreviewed: bool = True

    def __post_init__(self) -> None:
        for name in ("images_days", "records_days"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise RetentionError(f"{name}={v!r}: give a whole number of days >= 1, or nothing to keep "
                                     "forever")

    @classmethod
    def from_settings(cls, settings: Any = None, **overrides: Any) -> RetentionPolicy:
        """The policy from station settings (``retention_images_days``, ``retention_records_days``,
        ``retention_keep_unreviewed`` when the settings have them), then ``overrides`` (None ignored)."""
        values: dict[str, Any] = {}
        for name in ("images_days", "records_days", "keep_unreviewed"):
            v = getattr(settings, f"retention_{name}", None) if settings is not None else None
            if v is not None and v != "":
                values[name] = v
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("images_days", "records_days"):
            if name in values:
                try:
                    values[name] = int(values[name])
                except (TypeError, ValueError):
                    raise RetentionError(f"{name}={values[name]!r} is not a whole number of days") from None
        return cls(**values)

    @property
    def empty(self) -> bool:
        return self.images_days is None and self.records_days is None


@dataclass
class RetentionReport:
    """What a retention run removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    policy: RetentionPolicy
    now: datetime
    images_removed: int = 0
    bytes_freed: int = 0
    images_kept_shared: int = 0  # old images still used by a younger record
    images_already_gone: int = 0  # old images absent although no retention run removed them
    inspections_removed: int = 0
    findings_removed: int = 0
    explanations_removed: int = 0
    reviews_removed: int = 0
    kept_unreviewed: int = 0  # flagged, never-reviewed parts kept past their period
    manifest_sha256: str = ""
    audit_seq: int | None = None
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in (
            "images_removed", "bytes_freed", "images_kept_shared", "images_already_gone",
            "inspections_removed", "findings_removed", "explanations_removed", "reviews_removed",
            "kept_unreviewed")}

    def lines(self) -> list[str]:
        """Human-readable summary lines (for the CLI)."""
        p = self.policy
        verb = "would remove" if self.dry_run else "removed"
        out = [f"retention {'(dry run) ' if self.dry_run else ''}at {format_time(self.now)}: images kept "
               f"{_days(p.images_days)}, records kept {_days(p.records_days)}"]
        out.append(f"images: {verb} {self.images_removed} ({_size(self.bytes_freed)}); kept "
                   f"{self.images_kept_shared} still used by younger records; {self.images_already_gone} "
                   "missing without a retention record")
        out.append(f"records: {verb} {self.inspections_removed} inspections, {self.findings_removed} findings, "
                   f"{self.explanations_removed} explanations, {self.reviews_removed} reviews")
        if self.kept_unreviewed:
            out.append(f"kept {self.kept_unreviewed} flagged parts that are not reviewed yet")
        if self.manifest_sha256:
            out.append(f"manifest sha256 {self.manifest_sha256}")
        if self.audit_seq is not None:
            out.append(f"audit event #{self.audit_seq} retention.applied")
        out += [f"error: {e}" for e in self.errors]
        return out


def _days(d: int | None) -> str:
    return "forever" if d is None else f"{d} days"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def _chunks(seq: list[Any], n: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _row_data(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


class _Plan:
    """What a policy selects, computed inside one transaction."""

    def __init__(self, session: Session, policy: RetentionPolicy, now: datetime) -> None:
        i = InspectionRow
        unreviewed_flagged = and_(i.verdict.in_(("NG", "REVIEW")),
                                  not_(exists().where(ReviewRow.inspection_id == i.id)))
        protected = unreviewed_flagged if policy.keep_unreviewed else false()
        rec_cut = now - timedelta(days=policy.records_days) if policy.records_days else None
        img_cut = now - timedelta(days=policy.images_days) if policy.images_days else None
        purge_record = and_(i.inspected_at < rec_cut, not_(protected)) if rec_cut else false()
        old_image = and_(i.inspected_at < img_cut, not_(protected)) if img_cut else false()
        going = or_(purge_record, old_image)  # rows whose image may go
        self.records: list[str] = []
        if rec_cut is not None:
            self.records = list(session.scalars(select(i.id).where(purge_record).order_by(i.inspected_at, i.id)))
        self.kept_unreviewed = 0
        cuts = [c for c in (rec_cut, img_cut) if c is not None]
        if policy.keep_unreviewed and cuts:
            self.kept_unreviewed = int(session.scalar(select(func.count()).select_from(i).where(
                and_(i.inspected_at < max(cuts), unreviewed_flagged))) or 0)
        # an image goes when no row that stays (younger, or protected) uses the same content
        candidates = sorted(session.scalars(select(i.image_sha256).where(going).distinct()))
        young: set[str] = set()
        for chunk in _chunks(candidates):
            young |= set(session.scalars(select(i.image_sha256).where(
                i.image_sha256.in_(chunk), not_(going)).distinct()))
        self.old_images = [sha for sha in candidates if sha not in young]
        self.shared = len(young)


def apply_retention(store: Any, policy: RetentionPolicy, actor: User, *, dry_run: bool = False,
                    archive: IO[str] | None = None, now: datetime | None = None) -> RetentionReport:
    """Apply ``policy`` to the store's records and image folder; returns what was removed.

    ``actor``: a signed-in admin (``retention.apply``; ``PermissionDenied`` otherwise).
    ``dry_run``: compute and report, change nothing. ``archive``: a text stream that receives
    every removed record as one JSON line before it is deleted (keep it if the customer may
    ask for the record later). ``now``: the reference time (aware UTC; default: now).
    Database rows and the audit event commit in one transaction; image files are deleted
    after that commit (a file that cannot be deleted is listed in ``errors`` and retried by
    the next run). Raises ``RetentionError`` for an empty policy.
    """
    actor = require(Accounts(store).current(actor), "retention.apply")
    if policy.empty:
        raise RetentionError("nothing to apply: give images days and/or records days "
                             "(e.g. `inspector retention apply --images-days 365`)")
    images = getattr(store, "images", None)
    if images is None:
        raise RetentionError("retention needs an inspector.store.Store (with its image folder), not a bare engine")
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run, policy=policy, now=now)
    engine = _db.engine_of(store)
    scope = _db.read_session(engine) if dry_run else _db.write_session(engine)
    to_unlink: list[tuple[str, Path]] = []
    with scope as s:
        if not dry_run:
            _db.lock_chain(s)
        plan = _Plan(s, policy, now)
        report.kept_unreviewed = plan.kept_unreviewed
        report.images_kept_shared = plan.shared
        items: list[tuple[str, str, str, int]] = []
        purged_before: set[str] = set()
        for chunk in _chunks(plan.old_images):
            purged_before |= set(s.scalars(select(RetentionItemRow.key).where(
                RetentionItemRow.kind == "image", RetentionItemRow.key.in_(chunk))))
        for sha in plan.old_images:
            try:
                path = images.path(sha)
            except MissingImageError:  # purged by an earlier run, or lost
                if sha not in purged_before:
                    report.images_already_gone += 1
                continue
            size = path.stat().st_size
            items.append(("image", sha, sha, size))
            to_unlink.append((sha, path))
            report.images_removed += 1
            report.bytes_freed += size
        if plan.records:
            if not dry_run:
                s.add(RetentionPermitRow(granted_to=actor.username, created_at=now))
                s.flush()
            items += _purge_records(s, plan.records, report, archive, dry_run)
            if not dry_run:
                s.execute(delete(RetentionPermitRow))
        report.manifest_sha256 = manifest_hash(items)
        if not dry_run:
            event = Audit(engine).append_in(s, actor, "retention.applied", "retention", format_time(now), None, {
                "policy": {"images_days": policy.images_days, "records_days": policy.records_days,
                           "keep_unreviewed": policy.keep_unreviewed},
                "counts": report.counts(), "items": len(items), "items_sha256": report.manifest_sha256,
            })
            report.audit_seq = event.seq
            for chunk in _chunks(items):
                s.add_all([RetentionItemRow(audit_seq=event.seq, kind=k, key=key, content_sha256=c, size_bytes=n)
                           for k, key, c, n in chunk])
                s.flush()
    if not dry_run:
        for sha, path in to_unlink:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                report.errors.append(f"image {sha} logged as removed but its file {path} could not be "
                                     f"deleted: {exc}; the next run deletes it")
    return report


def _purge_records(s: Session, ids: list[str], report: RetentionReport, archive: IO[str] | None,
                   dry_run: bool) -> list[tuple[str, str, str, int]]:
    """Archive (optionally), hash and delete whole records, children first. Returns manifest items."""
    items: list[tuple[str, str, str, int]] = []
    for chunk in _chunks(ids):
        findings: dict[str, list[dict[str, Any]]] = {}
        for f in s.scalars(select(FindingRow).where(FindingRow.inspection_id.in_(chunk)).order_by(FindingRow.id)):
            findings.setdefault(f.inspection_id, []).append(_row_data(f))
        explanations: dict[str, list[dict[str, Any]]] = {}
        for e in s.scalars(select(ExplanationRow).where(ExplanationRow.inspection_id.in_(chunk))
                           .order_by(ExplanationRow.id)):
            explanations.setdefault(e.inspection_id, []).append(_row_data(e))
        reviews = list(s.scalars(select(ReviewRow).where(ReviewRow.inspection_id.in_(chunk)).order_by(ReviewRow.id)))
        sigs = {r.review_id: _row_data(r) for r in s.scalars(
            select(ReviewSignatureRow).where(ReviewSignatureRow.review_id.in_([r.id for r in reviews])))}
        for r in reviews:
            sig = sigs.get(r.id)
            key = review_key(r.id, sig["audit_seq"] if sig else None)
            blob = canonical_text({"review": _row_data(r), "signature": sig})
            items.append(("review", key, sha256_hex(blob), len(blob.encode())))
            if archive is not None:
                archive.write(canonical_text({"kind": "review", "key": key, "record": json.loads(blob)}) + "\n")
        for row in s.scalars(select(InspectionRow).where(InspectionRow.id.in_(chunk)).order_by(InspectionRow.id)):
            record = {"inspection": _row_data(row), "findings": findings.get(row.id, []),
                      "explanations": explanations.get(row.id, [])}
            blob = canonical_text(record)
            items.append(("inspection", row.id, sha256_hex(blob), len(blob.encode())))
            if archive is not None:
                archive.write(canonical_text({"kind": "inspection", "key": row.id, "record": record}) + "\n")
        report.findings_removed += sum(len(v) for v in findings.values())
        report.explanations_removed += sum(len(v) for v in explanations.values())
        report.reviews_removed += len(reviews)
        report.inspections_removed += len(chunk)
        if not dry_run:
            s.execute(delete(ReviewSignatureRow).where(ReviewSignatureRow.review_id.in_([r.id for r in reviews])))
            s.execute(delete(ReviewRow).where(ReviewRow.inspection_id.in_(chunk)))
            s.execute(delete(ExplanationRow).where(ExplanationRow.inspection_id.in_(chunk)))
            s.execute(delete(FindingRow).where(FindingRow.inspection_id.in_(chunk)))
            s.execute(delete(InspectionRow).where(InspectionRow.id.in_(chunk)))
    return items

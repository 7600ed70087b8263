"""Inspection records sealed into the audit trail, and ``verify``'s check of every sealed record.

A verdict is only worth what its record is worth. Every inspection row (with its findings) that a
station stores gets an ``inspection.recorded`` event **in the same transaction** (the hook
``inspector.trace.seal.RecordSeal`` that the facade installs as ``Store.record_hook``). The event carries the
record's digest: SHA-256 of the canonical JSON of the stored inspection row and its finding rows
(as read back from the database, every column except the findings' surrogate ``id``; NULL
columns left out so a later nullable column does not change old digests). It also names the
verdict, part id, image and number of findings in plain words, so a changed record is reported
as "verdict NG -> OK".

The first sealed insert of a database first writes ``records.adopted`` events (5000 digests
each) for the inspections already stored and one ``records.sealing_started``. From then on
``Audit.verify`` (``check_records``) treats every inspection without an event as inserted
outside the station. A database never written through the hook (older stations, tests that
fill a ``Store`` directly) gets a warning instead.

Checks: a record whose digest changed (verdict, findings, sizes, scores, part id, re-judge
link, work-order version, image hash...), a record deleted without a retention run, a record
with no event (inserted), and with ``images`` every stored image: missing without a retention
run, or bytes that no longer hash to the name the record holds (replaced, truncated).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from inspector.canonical import canonical_text, sha256_hex
from inspector.store.tables import FindingRow, InspectionRow
from inspector.store.trace_tables import AuditEventRow, RetentionItemRow
from inspector.trace import _db
from inspector.trace.chain import format_time

Problem = tuple[int | None, str]

RECORDED = "inspection.recorded"
ADOPTED = "records.adopted"
STARTED = "records.sealing_started"
ADOPT_CHUNK = 5000  # digests per records.adopted event (bounded event size on a large legacy database)
_READ_CHUNK = 500

INSPECTIONS = InspectionRow.__table__
_FINDINGS = FindingRow.__table__


# --- digests ---------------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """A column value as it enters a digest: times as audit-chain text, decimals as floats."""
    if isinstance(value, datetime):
        return format_time(value if value.tzinfo is not None else value.replace(tzinfo=UTC))
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def row_body(values: Mapping[str, Any], drop: Iterable[str] = ()) -> dict[str, Any]:
    """The columns of one row that a digest covers (NULLs and ``drop`` left out)."""
    skip = set(drop)
    return {k: plain(v) for k, v in values.items() if k not in skip and v is not None}


def row_digest(values: Mapping[str, Any], drop: Iterable[str] = ("id",)) -> str:
    """SHA-256 of the canonical JSON of one row's columns (see ``row_body``)."""
    return sha256_hex(canonical_text(row_body(values, drop)))


def inspection_digest(row: Mapping[str, Any], findings: Sequence[Mapping[str, Any]]) -> str:
    """The digest an ``inspection.recorded`` event carries for a stored inspection and its findings."""
    body = {"v": 1, "inspection": row_body(row),
            "findings": [row_body(f, ("id",)) for f in sorted(findings, key=lambda f: f["idx"])]}
    return sha256_hex(canonical_text(body))


def summary(row: Mapping[str, Any], findings: int) -> dict[str, Any]:
    return {"verdict": row["verdict"], "part_id": row.get("part_id") or "", "image_sha256": row["image_sha256"],
            "findings": findings, "work_order": [row["order_id"], row["work_order_version"]],
            "reinspects": row.get("reinspects_id")}


def read_records(conn: Any, ids: Sequence[str]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The stored rows of ``ids`` (in the given order) with their findings, read through ``conn``."""
    rows = {r["id"]: dict(r) for r in conn.execute(select(INSPECTIONS).where(INSPECTIONS.c.id.in_(ids)))
            .mappings()}
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in rows}
    for f in conn.execute(select(_FINDINGS).where(_FINDINGS.c.inspection_id.in_(list(rows)))).mappings():
        found[f["inspection_id"]].append(dict(f))
    return [(rows[i], found[i]) for i in ids if i in rows]


# --- verification -----------------------------------------------------------------------------------

def _after(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _what_changed(was: Mapping[str, Any], row: Mapping[str, Any], n_findings: int) -> str:
    now = summary(row, n_findings)
    parts = [f"{label} {was.get(key)!r} -> {now[key]!r}" for key, label in (
        ("verdict", "verdict"), ("part_id", "part id"), ("image_sha256", "image"), ("findings", "findings"),
        ("work_order", "work order/version"), ("reinspects", "re-judges")) if key in was and was[key] != now[key]]
    return "; ".join(parts) if parts else "its findings, sizes, scores or other fields no longer match its digest"


def file_sha256(path: Any) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_records(engine: Any, images: Any | None) -> tuple[list[Problem], list[str]]:
    """Problems and warnings about inspection records and (``images``: an ``ImageStore``) their images."""
    problems: list[Problem] = []
    warnings: list[str] = []
    recorded: dict[str, tuple[int, dict[str, Any]]] = {}
    adopted: dict[str, tuple[int, str]] = {}
    started = False
    t = AuditEventRow
    with _db.read_session(engine) as s:
        for seq, action, entity_id, after in s.execute(
                select(t.seq, t.action, t.entity_id, t.after)
                .where(t.action.in_((RECORDED, ADOPTED, STARTED))).order_by(t.seq)):
            if action == RECORDED:
                recorded[entity_id] = (seq, _after(after))
            elif action == ADOPTED:
                for iid, d in (_after(after).get("records") or {}).items():
                    adopted[iid] = (seq, d)
            else:
                started = True
        purged = {kind: set(s.scalars(select(RetentionItemRow.key).where(RetentionItemRow.kind == kind)))
                  for kind in ("inspection", "image")}
    seen: set[str] = set()
    unsealed = 0
    image_users: dict[str, str] = {}
    last = None
    while True:
        stmt = select(INSPECTIONS.c.id).order_by(INSPECTIONS.c.id).limit(_READ_CHUNK)
        if last is not None:
            stmt = stmt.where(INSPECTIONS.c.id > last)
        with _db.read_session(engine) as s:
            conn = s.connection()
            ids = list(conn.scalars(stmt))
            if not ids:
                break
            chunk = read_records(conn, ids)
        last = ids[-1]
        for row, findings in chunk:
            iid = row["id"]
            seen.add(iid)
            image_users.setdefault(row["image_sha256"], iid)
            digest = inspection_digest(row, findings)
            if iid in recorded:
                seq, was = recorded[iid]
                if was.get("digest") != digest:
                    problems.append((seq, f"inspection {iid} (part {row.get('part_id') or '?'}) was altered after "
                                          f"it was recorded in event #{seq}: {_what_changed(was, row, len(findings))}"))
            elif iid in adopted:
                seq, d = adopted[iid]
                if d != digest:
                    problems.append((seq, f"inspection {iid} (part {row.get('part_id') or '?'}) was altered after "
                                          f"it was adopted in event #{seq}: its fields no longer match its digest"))
            elif started:
                problems.append((None, f"inspection {iid} (part {row.get('part_id') or '?'}, verdict "
                                       f"{row['verdict']}) has no inspection.recorded event: it was inserted "
                                       "outside the station"))
            else:
                unsealed += 1
    for iid, (seq, _) in sorted(recorded.items(), key=lambda kv: kv[1][0]):
        if iid not in seen and iid not in purged["inspection"]:
            problems.append((seq, f"inspection {iid} (recorded in event #{seq}) is missing and no retention run "
                                  "removed it: it was deleted"))
    for iid, (seq, _) in sorted(adopted.items(), key=lambda kv: kv[1][0]):
        if iid not in seen and iid not in recorded and iid not in purged["inspection"]:
            problems.append((seq, f"inspection {iid} (adopted in event #{seq}) is missing and no retention run "
                                  "removed it: it was deleted"))
    if unsealed:
        warnings.append(f"{unsealed} inspection records were stored without sealing (a store used outside the "
                        "station's facade, or an older version): their content is not covered by the trail")
    if images is not None:
        problems += _check_images(images, image_users, purged["image"])
    return problems, warnings


def _check_images(images: Any, users: Mapping[str, str], purged: set[str]) -> list[Problem]:
    out: list[Problem] = []
    for sha, iid in sorted(users.items()):
        try:
            path = images._find(sha)
        except Exception:  # a malformed hash in the record: the digest check reports the record
            continue
        if path is None:
            if sha not in purged:
                out.append((None, f"the image {sha[:16]}... of inspection {iid} is missing from the image store and "
                                  "no retention run removed it: it was deleted"))
            continue
        try:
            actual = file_sha256(path)
        except OSError as exc:
            out.append((None, f"the image {path} of inspection {iid} cannot be read: {exc}"))
            continue
        if actual != sha:
            out.append((None, f"the stored image {path.name} of inspection {iid} was replaced or damaged: its bytes "
                              f"hash to {actual[:16]}..., not the {sha[:16]}... the record names"))
    return out

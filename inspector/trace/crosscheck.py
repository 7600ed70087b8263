"""Deep checks of ``Audit.verify``: the records that point into the chain must agree with it.

- every signed review (``review.decided`` event) still exists with an intact signature,
  unless a retention run logged its removal;
- every review row was signed through ``sign_review`` (has its event and signature);
- every retention log matches the count and manifest hash its ``retention.applied`` event
  recorded;
- nothing points at an audit event past the end of the trail (events cut off the end);
- the append-only triggers are installed (a missing one means someone removed it).
"""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import Engine, select

from inspector.store.tables import InspectionRow, ReviewRow
from inspector.store.trace_tables import AuditEventRow, RetentionItemRow, ReviewSignatureRow
from inspector.trace import _db
from inspector.trace.digests import manifest_hash, recompute_signature, review_key

Problem = tuple[int | None, str]


def cross_check(engine: Engine, head_seq: int) -> list[Problem]:
    """Problems found (seq of the event concerned, sentence); empty when all agree."""
    problems: list[Problem] = []
    with _db.read_session(engine) as s:
        missing = sorted(set(_db.expected_triggers(s)) - _db.installed_triggers(s))
        for name in missing:
            problems.append((None, f"append-only guard {name} is missing or disabled: someone with direct "
                                   "database access removed it (reinstall: see docs/traceability.md)"))
        problems += _check_reviews(s, head_seq)
        problems += _check_retention(s, head_seq)
    return problems


def _after(text: str | None) -> dict:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _check_reviews(s, head_seq: int) -> list[Problem]:
    out: list[Problem] = []
    reviews = {r.id: r for r in s.scalars(select(ReviewRow))}
    sigs = {r.review_id: r for r in s.scalars(select(ReviewSignatureRow))}
    purged = set(s.scalars(select(RetentionItemRow.key).where(RetentionItemRow.kind == "review")))
    signed: set[int] = set()
    events = s.execute(select(AuditEventRow.seq, AuditEventRow.entity_id, AuditEventRow.after)
                       .where(AuditEventRow.action == "review.decided").order_by(AuditEventRow.seq))
    for seq, inspection_id, after_text in events:
        after = _after(after_text)
        rid = after.get("review_id")
        if not isinstance(rid, int):
            continue  # the event itself was altered: the chain check reports it
        signed.add(rid)
        if review_key(rid, seq) in purged:
            continue  # removed by a retention run (SQLite may since have given its id to a newer review)
        review = reviews.get(rid)
        sig = sigs.get(rid)
        if review is None:
            out.append((seq, f"review #{rid} of inspection {inspection_id} (signed in event #{seq}) is "
                             "missing and no retention run removed it: it was deleted"))
            continue
        if sig is None:
            out.append((seq, f"the signature record of review #{rid} (event #{seq}) is missing"))
            continue
        if sig.signature_hash != after.get("signature_hash") or sig.audit_seq != seq:
            out.append((seq, f"the signature record of review #{rid} does not match event #{seq}"))
        elif recompute_signature(review, sig) != sig.signature_hash:
            out.append((seq, f"review #{rid} of inspection {review.inspection_id} was altered after signing: "
                             "its decision, reason, comment, signer or time no longer match the signature"))
        insp = s.get(InspectionRow, review.inspection_id)
        if insp is not None and (insp.image_sha256 != sig.image_sha256 or insp.verdict != sig.verdict):
            out.append((seq, f"inspection {review.inspection_id} no longer shows the image/verdict that "
                             f"review #{rid} signed over: the inspection record was altered"))
    for rid, review in sorted(reviews.items()):
        if rid not in signed:
            sig = sigs.get(rid)
            seq = sig.audit_seq if sig is not None else None
            out.append((seq, f"review #{rid} of inspection {review.inspection_id} has no review.decided "
                             "event: it was written outside sign_review (unsigned or injected)"))
    for rid, sig in sorted(sigs.items()):
        if sig.audit_seq > head_seq:
            out.append((head_seq + 1, f"the signature of review #{rid} points at audit event #{sig.audit_seq}, "
                                      f"past the end of the trail (#{head_seq}): events were cut off the end"))
    return out


def _check_retention(s, head_seq: int) -> list[Problem]:
    out: list[Problem] = []
    logged: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
    for r in s.scalars(select(RetentionItemRow)):
        logged[r.audit_seq].append((r.kind, r.key, r.content_sha256, r.size_bytes))
    events = s.execute(select(AuditEventRow.seq, AuditEventRow.after)
                       .where(AuditEventRow.action == "retention.applied").order_by(AuditEventRow.seq))
    seen: set[int] = set()
    for seq, after_text in events:
        seen.add(seq)
        after = _after(after_text)
        items = logged.get(seq, [])
        if len(items) != after.get("items") or manifest_hash(items) != after.get("items_sha256"):
            out.append((seq, f"the removal log of retention event #{seq} ({len(items)} items) does not match "
                             f"what the event recorded ({after.get('items')} items): rows were added to or "
                             "removed from retention_items"))
    for seq in sorted(set(logged) - seen):
        where = seq if seq <= head_seq else head_seq + 1
        out.append((where, f"{len(logged[seq])} retention log rows name event #{seq}, which is not a "
                           "retention.applied event" + (" (past the end of the trail)" if seq > head_seq else "")))
    return out

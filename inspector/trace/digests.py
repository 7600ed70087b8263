"""The digests that records outside the chain carry: review signatures and retention manifests.

Kept apart from ``signing`` and ``retention`` so the audit trail's cross-checks
(``crosscheck``) can recompute them without importing the modules that write the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from inspector.canonical import digest
from inspector.store.tables import ReviewRow
from inspector.store.trace_tables import ReviewSignatureRow
from inspector.trace.chain import format_time


def signature_hash(*, inspection_id: str, image_sha256: str, verdict: str, decision: str, reason_code: str,
                   comment: str, signer: str, signer_name: str, signer_role: str, meaning: str,
                   signed_at: datetime) -> str:
    """SHA-256 hex over the canonical JSON (sorted keys, no spaces, UTF-8) of the signed fields."""
    body = {
        "v": 1, "inspection_id": inspection_id, "image_sha256": image_sha256, "verdict": verdict,
        "decision": decision, "reason_code": reason_code, "comment": comment, "signer": signer,
        "signer_name": signer_name, "signer_role": signer_role, "meaning": meaning,
        "signed_at": format_time(signed_at),
    }
    return digest(body)


def recompute_signature(review: ReviewRow, sig: ReviewSignatureRow) -> str:
    """The signature hash a stored review + signature pair should carry."""
    return signature_hash(
        inspection_id=review.inspection_id, image_sha256=sig.image_sha256, verdict=sig.verdict,
        decision=review.decision, reason_code=review.reason_code, comment=review.comment,
        signer=review.reviewer, signer_name=review.reviewer_name, signer_role=sig.signer_role,
        meaning=review.signature_meaning, signed_at=review.signed_at,
    )


def manifest_hash(items: Iterable[tuple[str, str, str, int]]) -> str:
    """sha256 of the canonical JSON list of ``[kind, key, content_sha256, size_bytes]`` sorted by kind, key."""
    rows = sorted([list(i) for i in items], key=lambda r: (r[0], r[1]))
    return digest(rows)


def review_key(review_id: int, audit_seq: int | None) -> str:
    """Log key of a purged review: 'REVIEW_ID@SEQ' (SEQ of its review.decided event, 0 if unsigned).

    SQLite may give a purged review's id to a later review; the event seq keeps them apart.
    """
    return f"{review_id}@{audit_seq or 0}"

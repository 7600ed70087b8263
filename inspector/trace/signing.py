"""Electronic signatures on dispositions of flagged parts.

``sign_review`` re-authenticates the reviewer at the moment of signing, checks the role and
the reason code, and then in ONE transaction appends the review row (the machine verdict
is never touched), the ``review.decided`` audit event and the signature record that binds
the review to the inspection (sha256 over inspection id, image sha256, machine verdict,
decision, reason, comment, signer, printed name, role, meaning and time).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from inspector.domain import Decision, Review, Role, User, VerdictKind, utcnow
from inspector.store.convert import review_values
from inspector.store.errors import NotFoundError
from inspector.store.tables import InspectionRow, ReviewRow
from inspector.store.trace_tables import ReviewSignatureRow
from inspector.trace import _db
from inspector.trace.accounts import Accounts
from inspector.trace.audit import Audit
from inspector.trace.chain import format_time
from inspector.trace.digests import recompute_signature, signature_hash
from inspector.trace.errors import ReviewError
from inspector.trace.policy import require
from inspector.trace.reasons import ReasonCodes, parse_decision

SIGNATURE_ALGORITHM = "sha256/inspector-signature-1"
AUTH_METHOD = "password re-entered at signing (argon2id)"
_VERBS = {
    Decision.ACCEPT: ("Accepted", "use as is"),
    Decision.REJECT: ("Rejected", "scrap"),
    Decision.REWORK: ("Sent to rework", "rework"),
}


@dataclass(frozen=True)
class Signature:
    """The signature record of one review."""

    review_id: int
    inspection_id: str
    image_sha256: str
    verdict: str  # the machine verdict signed over
    signer_role: str
    algorithm: str
    signature_hash: str
    audit_seq: int


def default_meaning(decision: Decision, full_name: str, role: Role | str, reason_code: str) -> str:
    """E.g. 'Rejected by Ann Smith (reviewer): scrap per reason OVER-LIMIT'."""
    verb, action = _VERBS[decision]
    role = role.value if isinstance(role, Role) else str(role)
    return f"{verb} by {full_name} ({role}): {action} per reason {reason_code}"


def sign_review(store: Any, inspection_id: str, decision: str | Decision, reason_code: str, comment: str,
                username: str, password: str, meaning: str = "", *,
                accounts: Accounts | None = None, source: str = "local") -> Review:
    """Record a signed disposition of an inspection; returns the stored ``Review`` (with ``id``).

    Re-authenticates ``username``/``password`` (``AuthError``, lockout as for any sign-in),
    requires ``review.decide`` (``PermissionDenied``: operators are refused), and for a part
    the machine passed (OK) also ``review.ok_parts`` (reviewers and admins). ``decision``: accept, reject or
    rework; ``reason_code``: an active code that justifies that decision (``ReviewError``
    lists the valid ones). ``meaning`` is the defined meaning of this signature, e.g. "Rejected
    by Ann Smith (reviewer): scrap per reason OVER-LIMIT" (the default; any other text is a
    ``ReviewError``: a signature cannot claim to mean something else). ``source``: where the
    password was typed (sign-in throttling). Raises ``NotFoundError`` for an unknown inspection.
    The review, its ``review.decided`` audit event and its signature commit together.
    """
    accounts = accounts or Accounts(store)
    user: User = accounts.authenticate(username, password, source=source)
    require(user, "review.decide")
    decision = parse_decision(decision)
    code = ReasonCodes(store).check(reason_code, decision).code
    defined = default_meaning(decision, user.full_name, user.role, code)
    if meaning.strip() and meaning.strip() != defined:
        raise ReviewError(f"signature meaning {meaning.strip()!r} is not the defined meaning of this signature; "
                          f"it is {defined!r} (leave --meaning out)")
    comment = (comment or "").strip()
    engine = _db.engine_of(store)
    audit = Audit(engine)
    with _db.write_session(engine) as s:
        insp = s.get(InspectionRow, inspection_id)
        if insp is None:
            raise NotFoundError(f"no inspection {inspection_id!r} to review (see `inspector review list`)")
        if insp.verdict == VerdictKind.OK.value:
            require(user, "review.ok_parts")
        previous = s.scalars(select(ReviewRow).where(ReviewRow.inspection_id == inspection_id)
                             .order_by(ReviewRow.id.desc()).limit(1)).first()
        signed_at = utcnow()
        text = defined
        review = Review(inspection_id=inspection_id, decision=decision, reason_code=code, comment=comment,
                        reviewer=user.username, reviewer_name=user.full_name, decided_at=signed_at,
                        signature_meaning=text)
        row = ReviewRow(**review_values(review, AUTH_METHOD))
        s.add(row)
        s.flush()
        sig_hash = signature_hash(
            inspection_id=inspection_id, image_sha256=insp.image_sha256, verdict=insp.verdict,
            decision=decision.value, reason_code=code, comment=comment, signer=user.username,
            signer_name=user.full_name, signer_role=user.role.value, meaning=text, signed_at=signed_at,
        )
        before = {"verdict": insp.verdict,
                  "decision": previous.decision if previous else None,
                  "review_id": previous.id if previous else None}
        after = {"review_id": row.id, "decision": decision.value, "reason_code": code, "comment": comment,
                 "signer": user.username, "printed_name": user.full_name, "role": user.role.value,
                 "meaning": text, "signed_at": format_time(signed_at), "image_sha256": insp.image_sha256,
                 "signature_hash": sig_hash, "algorithm": SIGNATURE_ALGORITHM}
        event = audit.append_in(s, user, "review.decided", "inspection", inspection_id, before, after)
        s.add(ReviewSignatureRow(review_id=row.id, inspection_id=inspection_id, image_sha256=insp.image_sha256,
                                 verdict=insp.verdict, signer_role=user.role.value,
                                 algorithm=SIGNATURE_ALGORITHM, signature_hash=sig_hash, audit_seq=event.seq))
        review = dataclasses.replace(review, id=row.id)
    return review


@dataclass(frozen=True)
class ReviewPreview:
    """Exactly what :func:`sign_review` would record for these inputs (shown before signing)."""

    inspection_id: str
    frame_name: str
    order_id: str
    lot: str
    machine_verdict: str
    image_sha256: str
    decision: Decision
    reason_code: str
    reason_text: str
    comment: str
    signer: str
    signer_name: str
    signer_role: str
    meaning: str


def preview_review(store: Any, inspection_id: str, decision: str | Decision, reason_code: str, comment: str,
                   username: str, *, accounts: Accounts | None = None) -> ReviewPreview:
    """The record a signature would make, checked as :func:`sign_review` checks it, without the password.

    Nothing is written and no sign-in is attempted. Raises ``AccountError`` (unknown user),
    ``PermissionDenied`` (role may not decide, or may not disposition a machine-OK part),
    ``ReviewError`` (decision or reason code not valid) and ``NotFoundError`` (unknown part).
    Passing the returned ``meaning`` to :func:`sign_review` records exactly the text shown.
    """
    accounts = accounts or Accounts(store)
    user = accounts.get(username)
    require(user, "review.decide")
    decision = parse_decision(decision)
    code = ReasonCodes(store).check(reason_code, decision)
    insp = store.get_inspection(inspection_id)
    if insp.verdict.kind is VerdictKind.OK:
        require(user, "review.ok_parts")
    return ReviewPreview(
        inspection_id=insp.id, frame_name=insp.frame_name, order_id=insp.order_id, lot=insp.lot,
        machine_verdict=insp.verdict.kind.value, image_sha256=insp.image_sha256, decision=decision,
        reason_code=code.code, reason_text=code.description, comment=(comment or "").strip(),
        signer=user.username, signer_name=user.full_name, signer_role=user.role.value,
        meaning=default_meaning(decision, user.full_name, user.role, code.code))


def signature_of(store: Any, review_id: int) -> Signature | None:
    """The signature record of a review (None for a review stored without one)."""
    with _db.read_session(_db.engine_of(store)) as s:
        row = s.get(ReviewSignatureRow, review_id)
        if row is None:
            return None
        return Signature(row.review_id, row.inspection_id, row.image_sha256, row.verdict, row.signer_role,
                         row.algorithm, row.signature_hash, row.audit_seq)


def verify_signature(store: Any, review_id: int) -> bool:
    """True when the review and its signature record still hash to the signed value."""
    with _db.read_session(_db.engine_of(store)) as s:
        review = s.get(ReviewRow, review_id)
        sig = s.get(ReviewSignatureRow, review_id)
        if review is None or sig is None:
            return False
        insp = s.get(InspectionRow, review.inspection_id)
        if insp is not None and (insp.image_sha256 != sig.image_sha256 or insp.verdict != sig.verdict):
            return False
        return recompute_signature(review, sig) == sig.signature_hash

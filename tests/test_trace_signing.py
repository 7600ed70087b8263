"""Signed dispositions: re-authentication, roles, reason codes, signature binding, tamper checks."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from trace_support import *  # noqa: F403 - pytest fixtures
from trace_support import FAST_HASHER, OPERATOR_PW, REVIEWER_PW, add_inspection, tamper

from inspector.domain import Decision, Review, VerdictKind
from inspector.store import NotFoundError
from inspector.trace import (
    Accounts,
    Audit,
    AuthError,
    PermissionDenied,
    ReasonCodes,
    ReviewError,
    sign_review,
    signature_of,
    verify_signature,
)
from inspector.trace.signing import signature_hash


def _sign(store, insp_id, decision="reject", reason="OVER-LIMIT", user="ann", pw=REVIEWER_PW, **kw):
    return sign_review(store, insp_id, decision, reason, kw.pop("comment", "scratch 0.8 mm"), user, pw,
                       kw.pop("meaning", ""), accounts=Accounts(store, hasher=FAST_HASHER))


def test_reviewer_signs_a_rejection_with_meaning_and_binding(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    review = _sign(store, insp.id)
    assert isinstance(review, Review) and review.id is not None
    assert review.decision is Decision.REJECT and review.reason_code == "OVER-LIMIT"
    assert (review.reviewer, review.reviewer_name) == ("ann", "Ann Smith")
    assert review.signature_meaning == "Rejected by Ann Smith (reviewer): scrap per reason OVER-LIMIT"
    assert store.reviews_for(insp.id) == [review]
    assert store.get_inspection(insp.id).verdict.kind is VerdictKind.NG  # machine verdict untouched
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT auth_method FROM reviews")).scalar().startswith("password re-entered")
    sig = signature_of(store, review.id)
    assert sig.inspection_id == insp.id and sig.image_sha256 == insp.image_sha256 and sig.verdict == "NG"
    assert sig.signature_hash == signature_hash(
        inspection_id=insp.id, image_sha256=insp.image_sha256, verdict="NG", decision="reject",
        reason_code="OVER-LIMIT", comment="scratch 0.8 mm", signer="ann", signer_name="Ann Smith",
        signer_role="reviewer", meaning=review.signature_meaning, signed_at=review.decided_at)
    assert verify_signature(store, review.id)
    event = Audit(store).events(action="review.decided")[0]
    assert event.seq == sig.audit_seq and event.entity_id == insp.id and event.actor == "ann"
    assert event.before == {"verdict": "NG", "decision": None, "review_id": None}
    assert event.after["signature_hash"] == sig.signature_hash and event.after["printed_name"] == "Ann Smith"
    assert Audit(store).verify().ok


def test_wrong_password_at_signing_is_refused_and_nothing_is_stored(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.REVIEW)
    with pytest.raises(AuthError, match="wrong user name or password"):
        _sign(store, insp.id, pw="not-the-password")
    assert store.reviews_for(insp.id) == []
    assert [e.action for e in Audit(store).events(entity="user")][-1] == "auth.failed"


def test_operator_may_not_overturn(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    with pytest.raises(PermissionDenied, match="operator 'olaf' may not overturn verdicts: needs role reviewer or admin"):
        _sign(store, insp.id, "accept", "FALSE-ALARM", user="olaf", pw=OPERATOR_PW)
    assert store.reviews_for(insp.id) == []


def test_ok_parts_by_a_reviewer_or_admin_and_only_the_defined_meaning(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.OK)
    with pytest.raises(PermissionDenied, match="needs role reviewer or admin"):
        _sign(store, insp.id, user="olaf", pw=OPERATOR_PW)
    escape = _sign(store, insp.id)  # a quality engineer rejects a part the machine passed
    assert escape.decision is Decision.REJECT and verify_signature(store, escape.id)
    assert store.get_inspection(insp.id).verdict.kind is VerdictKind.OK  # the machine verdict stays
    with pytest.raises(ReviewError, match="not the defined meaning.*Sent to rework by Rita Admin"):
        _sign(store, insp.id, "rework", "REWORKABLE", user="root", pw="admin-password-1",
              meaning="Accepted by Rita Admin (admin): use as is")  # a signature cannot claim another meaning
    defined = "Sent to rework by Rita Admin (admin): rework per reason REWORKABLE"
    review = _sign(store, insp.id, "rework", "REWORKABLE", user="root", pw="admin-password-1", meaning=defined)
    assert review.signature_meaning == defined
    assert verify_signature(store, review.id)


def test_reason_codes_are_checked_against_the_decision(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    with pytest.raises(ReviewError, match="justifies accept, not reject: for reject use one of .*OVER-LIMIT"):
        _sign(store, insp.id, "reject", "cosmetic-ok")
    with pytest.raises(ReviewError, match="'NO-SUCH' is not in the list"):
        _sign(store, insp.id, "reject", "NO-SUCH")
    with pytest.raises(ReviewError, match="not one of accept, reject, rework"):
        _sign(store, insp.id, "scrap", "OVER-LIMIT")
    with pytest.raises(NotFoundError):
        _sign(store, "0" * 32)
    assert store.reviews_for(insp.id) == []


def test_reason_code_list_is_configurable_by_admins(store, people, rng):
    codes = ReasonCodes(store)
    assert [c.code for c in codes.list()] == ["COSMETIC-OK", "FALSE-ALARM", "MEASUREMENT-ERROR", "OVER-LIMIT",
                                               "REWORKABLE"]
    with pytest.raises(PermissionDenied):
        codes.add("SCRATCH-OVER-LIMIT", "scratch longer than allowed", "reject", people["reviewer"])
    codes.add("scratch-over-limit", "scratch longer than allowed", "reject,rework", people["admin"])
    insp = add_inspection(store, rng, VerdictKind.NG)
    review = _sign(store, insp.id, "reject", "SCRATCH-OVER-LIMIT")
    assert review.signature_meaning == "Rejected by Ann Smith (reviewer): scrap per reason SCRATCH-OVER-LIMIT"
    codes.deactivate("SCRATCH-OVER-LIMIT", people["admin"])
    with pytest.raises(ReviewError, match="is deactivated"):
        _sign(store, insp.id, "reject", "SCRATCH-OVER-LIMIT")
    actions = [e.action for e in Audit(store).events(entity="reason_code")]
    assert actions == ["reason_code.added", "reason_code.deactivated"]


def test_a_later_review_supersedes_without_overwriting(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    first = _sign(store, insp.id, "reject", "OVER-LIMIT")
    second = _sign(store, insp.id, "accept", "MEASUREMENT-ERROR", comment="re-measured 0.42 mm")
    assert [r.id for r in store.reviews_for(insp.id)] == [first.id, second.id]
    assert store.latest_review(insp.id).decision is Decision.ACCEPT
    ev = Audit(store).events(action="review.decided")[-1]
    assert ev.before == {"verdict": "NG", "decision": "reject", "review_id": first.id}


def test_database_refuses_editing_or_deleting_reviews(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    _sign(store, insp.id)
    for stmt in ("UPDATE reviews SET decision = 'accept'", "DELETE FROM reviews",
                 "UPDATE review_signatures SET verdict = 'OK'", "DELETE FROM review_signatures",
                 "DELETE FROM findings", "DELETE FROM inspections", "UPDATE inspections SET verdict = 'OK'"):
        with pytest.raises(DatabaseError, match="refused"):
            with store.engine.begin() as conn:
                conn.execute(text(stmt))
    assert Audit(store).verify().ok


def test_verify_detects_a_review_edited_behind_the_signature(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    review = _sign(store, insp.id)
    tamper(store, f"UPDATE reviews SET decision = 'accept', reason_code = 'FALSE-ALARM' WHERE id = {review.id}",
           tables=("reviews",))
    assert not verify_signature(store, review.id)
    result = Audit(store).verify()
    assert not result.ok and result.first_bad_seq == signature_of(store, review.id).audit_seq
    assert "altered after signing" in result.problems[0]


def test_verify_detects_a_deleted_review(store, people, rng):
    insp = add_inspection(store, rng, VerdictKind.NG)
    review = _sign(store, insp.id)
    tamper(store, f"DELETE FROM review_signatures WHERE review_id = {review.id}",
           f"DELETE FROM reviews WHERE id = {review.id}", tables=("reviews", "review_signatures"))
    result = Audit(store).verify()
    assert not result.ok and "is missing and no retention run removed it" in result.problems[0]


def test_verify_reports_a_review_written_without_signature(store, people, rng):
    _sign(store, add_inspection(store, rng, VerdictKind.NG).id)
    assert Audit(store).verify().ok
    # a review written straight into the store (no re-authentication, no signature)
    other = add_inspection(store, rng, VerdictKind.NG)
    store.add_review(Review(other.id, Decision.ACCEPT, "FALSE-ALARM", "", "mallory", "Mal"))
    assert any("written outside sign_review" in p for p in Audit(store).verify().problems)


def test_facade_review_goes_through_sign_review(store, people, rng, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    insp = add_inspection(store, rng, VerdictKind.NG)
    facade = Inspector(Settings(data_dir=tmp_path / "station"), store=store)
    try:
        with pytest.raises(PermissionDenied):
            facade.review(insp.id, "accept", "FALSE-ALARM", "", username="olaf", password=OPERATOR_PW)
        review = facade.review(insp.id, "reject", "OVER-LIMIT", "too long", username="ann", password=REVIEWER_PW)
        assert facade.reviews(insp.id) == [review]
        facade._record("threshold.changed", "part", "PN-77", {"threshold": 0.41}, {"threshold": 0.45})
    finally:
        facade._writer.shutdown(wait=True)
        facade._explainer.shutdown(wait=True)
    assert [e.action for e in Audit(store).events()][-2:] == ["review.decided", "threshold.changed"]
    assert Audit(store).verify().ok

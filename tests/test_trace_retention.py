"""Retention: images and (on request) records past their period go; the audit chain stays valid."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from trace_support import *  # noqa: F403 - pytest fixtures
from trace_support import FAST_HASHER, REVIEWER_PW, add_inspection, tamper

from inspector.domain import VerdictKind
from inspector.store import NotFoundError
from inspector.trace import (
    Accounts,
    Audit,
    PermissionDenied,
    RetentionError,
    RetentionPolicy,
    apply_retention,
    sign_review,
)

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
YOUNG = NOW - timedelta(days=10)


@pytest.fixture
def plant(store, people, rng):
    """Old and young parts: shared image, unreviewed NG, reviewed NG."""
    p = {
        "old_ok": add_inspection(store, rng, VerdictKind.OK, OLD),
        "old_ok2": add_inspection(store, rng, VerdictKind.OK, OLD + timedelta(hours=1)),
        "old_ng_unreviewed": add_inspection(store, rng, VerdictKind.NG, OLD),
        "old_ng_reviewed": add_inspection(store, rng, VerdictKind.NG, OLD),
        "young": add_inspection(store, rng, VerdictKind.OK, YOUNG),
    }
    p["old_shared"] = add_inspection(store, rng, VerdictKind.OK, OLD, image_sha256=p["young"].image_sha256)
    p["review"] = sign_review(store, p["old_ng_reviewed"].id, "reject", "OVER-LIMIT", "", "ann", REVIEWER_PW,
                              accounts=Accounts(store, hasher=FAST_HASHER))
    return p


def _size(store, insp) -> int:
    return store.images.path(insp.image_sha256).stat().st_size


def test_dry_run_reports_and_changes_nothing(store, people, plant):
    before = Audit(store).count()
    expected = sum(_size(store, plant[k]) for k in ("old_ok", "old_ok2", "old_ng_reviewed"))
    rep = apply_retention(store, RetentionPolicy(images_days=365), people["admin"], dry_run=True, now=NOW)
    assert rep.dry_run and rep.images_removed == 3 and rep.bytes_freed == expected
    assert rep.images_kept_shared == 1 and rep.kept_unreviewed == 1 and rep.inspections_removed == 0
    assert rep.audit_seq is None and Audit(store).count() == before
    assert all(store.images.exists(plant[k].image_sha256) for k in ("old_ok", "old_ok2", "old_ng_reviewed"))
    assert "would remove 3" in "\n".join(rep.lines())


def test_images_only_keeps_records_shared_and_unreviewed_images(store, people, plant):
    expected = sum(_size(store, plant[k]) for k in ("old_ok", "old_ok2", "old_ng_reviewed"))
    rep = apply_retention(store, RetentionPolicy(images_days=365), people["admin"], now=NOW)
    assert (rep.images_removed, rep.bytes_freed, rep.inspections_removed) == (3, expected, 0)
    for k in ("old_ok", "old_ok2", "old_ng_reviewed"):
        assert not store.images.exists(plant[k].image_sha256)
        assert store.get_inspection(plant[k].id).image_sha256 == plant[k].image_sha256  # record kept
    for k in ("young", "old_ng_unreviewed"):  # old_shared's image is young's
        assert store.images.exists(plant[k].image_sha256)
    ev = Audit(store).events(action="retention.applied")[0]
    assert ev.seq == rep.audit_seq and ev.actor == "root"
    assert ev.after["counts"]["images_removed"] == 3 and ev.after["items"] == 3
    assert ev.after["items_sha256"] == rep.manifest_sha256
    result = Audit(store).verify()
    assert result.ok, result.problems
    again = apply_retention(store, RetentionPolicy(images_days=365), people["admin"], now=NOW)
    assert again.images_removed == 0 and again.images_already_gone == 0
    assert Audit(store).verify().ok


def test_records_purge_archives_and_keeps_the_chain_valid(store, people, plant, rng):
    archive = io.StringIO()
    rep = apply_retention(store, RetentionPolicy(records_days=365), people["admin"], archive=archive, now=NOW)
    gone = ("old_ok", "old_ok2", "old_ng_reviewed", "old_shared")
    assert rep.inspections_removed == 4 and rep.reviews_removed == 1 and rep.findings_removed == 2
    assert rep.kept_unreviewed == 1
    for k in gone:
        with pytest.raises(NotFoundError):
            store.get_inspection(plant[k].id)
    assert store.get_inspection(plant["old_ng_unreviewed"].id)
    assert store.get_inspection(plant["young"].id)
    # images only the purged records used went too; the shared one stays for the young part
    assert not store.images.exists(plant["old_ok"].image_sha256)
    assert store.images.exists(plant["young"].image_sha256)
    lines = [json.loads(x) for x in archive.getvalue().splitlines()]
    assert sorted(x["key"] for x in lines if x["kind"] == "inspection") == sorted(plant[k].id for k in gone)
    assert [x["record"]["review"]["reason_code"] for x in lines if x["kind"] == "review"] == ["OVER-LIMIT"]
    result = Audit(store).verify()  # the review.decided event of the purged review is accounted for
    assert result.ok, result.problems
    # SQLite hands the purged review's id to the next review: still no false alarm
    fresh = add_inspection(store, rng, VerdictKind.NG, YOUNG)
    again = sign_review(store, fresh.id, "reject", "OVER-LIMIT", "", "ann", REVIEWER_PW,
                        accounts=Accounts(store, hasher=FAST_HASHER))
    if store.engine.dialect.name == "sqlite":
        assert again.id == plant["review"].id
    result = Audit(store).verify()
    assert result.ok, result.problems
    # ...and deleting that newer review behind retention's back is still caught
    tamper(store, f"DELETE FROM review_signatures WHERE review_id = {again.id}",
           f"DELETE FROM reviews WHERE id = {again.id}", tables=("reviews", "review_signatures"))
    result = Audit(store).verify()
    assert not result.ok and "no retention run removed it" in result.problems[0]
    # outside a retention run the guards are back: no permit is left behind
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM retention_permits")).scalar() == 0
    with pytest.raises(DatabaseError, match="refused"):
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM inspections"))


def test_only_admins_apply_retention_and_policy_is_validated(store, people, plant):
    with pytest.raises(PermissionDenied, match="needs role admin"):
        apply_retention(store, RetentionPolicy(images_days=30), people["reviewer"], now=NOW)
    with pytest.raises(RetentionError, match="nothing to apply"):
        apply_retention(store, RetentionPolicy(), people["admin"], now=NOW)
    with pytest.raises(RetentionError, match=">= 1"):
        RetentionPolicy(images_days=0)

    class Settings:
        retention_images_days = "90"
        retention_records_days = None

    assert RetentionPolicy.from_settings(Settings()) == RetentionPolicy(images_days=90)
    assert RetentionPolicy.from_settings(Settings(), images_days=7, records_days=3650) == RetentionPolicy(7, 3650)


def test_verify_detects_a_forged_retention_log(store, people, plant):
    rep = apply_retention(store, RetentionPolicy(records_days=365), people["admin"], now=NOW)
    assert Audit(store).verify().ok
    # hide a deletion by logging an extra "purged" review under the retention event
    tamper(store, "INSERT INTO retention_items (audit_seq, kind, key, content_sha256, size_bytes) "
                  f"VALUES ({rep.audit_seq}, 'review', '999', '{'0' * 64}', 1)", tables=("retention_items",))
    result = Audit(store).verify()
    assert not result.ok and result.first_bad_seq == rep.audit_seq
    assert "does not match" in result.problems[0]

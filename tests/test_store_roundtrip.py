"""Store round trips, parametrised over SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pg import db_url, postgres_head_url, postgres_server  # noqa: F401 - fixtures
from sqlalchemy import text

from inspector.domain import Decision, Explanation, Review, VerdictKind
from inspector.model.base import TeachResult
from inspector.store import (
    DuplicateInspectionError,
    MissingImageError,
    NotFoundError,
    Store,
    StoreError,
    UnknownWorkOrderError,
)
from inspector.store.samples import sample_image, sample_inspection, sample_work_order


@pytest.fixture
def store(db_url, tmp_path):  # noqa: F811
    s = Store.open(db_url, tmp_path / "images")
    yield s
    s.close()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _new(store, rng, **kw):
    sha = store.images.put_array(sample_image(rng))
    return sample_inspection(rng, sha, **kw)


# --- work orders ----------------------------------------------------------------------------


def test_work_order_versions(store):
    wo = sample_work_order()
    assert store.save_work_order(wo, "alice") == 1
    assert store.save_work_order(wo, "bob") == 1  # same content: no new version
    changed = sample_work_order(text_suffix="\n5. Deburr edges.")
    assert store.save_work_order(changed, "bob") == 2
    assert store.save_work_order(wo, "carol") == 3  # back to the old text: it is the current one again

    assert store.get_work_order("WO-1001") == wo
    assert store.get_work_order("WO-1001", 2) == changed
    assert store.get_work_order("WO-1001", 1) == wo
    latest = store.list_work_orders()
    assert [(r.order_id, r.version, r.loaded_by) for r in latest] == [("WO-1001", 3, "carol")]
    all_versions = store.list_work_orders(all_versions=True)
    assert sorted(r.version for r in all_versions) == [1, 2, 3]
    assert all(r.loaded_at.tzinfo is not None for r in all_versions)
    with pytest.raises(NotFoundError, match="WO-404"):
        store.get_work_order("WO-404")
    with pytest.raises(NotFoundError, match="version 9"):
        store.get_work_order("WO-1001", 9)


def test_work_orders_listed_separately(store):
    store.save_work_order(sample_work_order("WO-1"), "a")
    store.save_work_order(sample_work_order("WO-2", lot="LOT-B"), "a")
    assert sorted(r.order_id for r in store.list_work_orders()) == ["WO-1", "WO-2"]
    assert store.get_work_order("WO-2").lot == "LOT-B"


# --- inspections ----------------------------------------------------------------------------


@pytest.mark.parametrize("n_findings", [0, 1, 7])
def test_inspection_round_trip_is_exact(store, rng, n_findings):
    store.save_work_order(sample_work_order(), "alice")
    insp = _new(store, rng, n_findings=n_findings)
    store.save_inspection(insp)
    back = store.get_inspection(insp.id)
    assert back == insp  # every field, float and timestamp exactly
    assert back.captured_at.tzinfo == UTC and back.inspected_at.tzinfo == UTC
    assert [f.region.contour for f in back.findings] == [f.region.contour for f in insp.findings]


def test_inspection_with_explanation_and_non_utc_times(store, rng):
    store.save_work_order(sample_work_order(), "alice")
    plus2 = datetime(2026, 5, 1, 14, 30, 0, 123456, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=2))
    )
    expl = Explanation(
        "Scratch 0.8 mm exceeds §2.", fallback=True, generator="template", problems=("too long",)
    )
    insp = dataclasses.replace(_new(store, rng, n_findings=2, explanation=expl), inspected_at=plus2)
    store.save_inspection(insp)
    back = store.get_inspection(insp.id)
    assert back.explanation == expl
    assert back.inspected_at == plus2 and back.inspected_at.tzinfo == UTC


def test_save_refuses_incomplete_or_bad_records(store, rng):
    insp = _new(store, rng, n_findings=1)
    with pytest.raises(UnknownWorkOrderError, match="save_work_order"):
        store.save_inspection(insp)
    store.save_work_order(sample_work_order(), "alice")
    missing = dataclasses.replace(insp, image_sha256="ab" * 32)
    with pytest.raises(MissingImageError, match="image store"):
        store.save_inspection(missing)
    with pytest.raises(StoreError, match="uuid4 hex"):
        store.save_inspection(dataclasses.replace(insp, id="not-an-id"))
    with pytest.raises(StoreError, match="NaN"):
        store.save_inspection(dataclasses.replace(insp, thresholds={"threshold": math.nan}))
    with pytest.raises(StoreError, match="timezone-aware"):
        store.save_inspection(dataclasses.replace(insp, captured_at=datetime(2026, 1, 1)))
    with pytest.raises(UnknownWorkOrderError):
        store.save_inspection(insp, work_order_version=5)
    assert store.count_inspections() == 0  # none of the failures left anything behind

    store.save_inspection(insp)
    with pytest.raises(DuplicateInspectionError):
        store.save_inspection(dataclasses.replace(insp, operator="someone else"))
    assert store.get_inspection(insp.id) == insp
    with pytest.raises(NotFoundError):
        store.get_inspection("0" * 32)


def test_batch_is_all_or_nothing(store, rng):
    store.save_work_order(sample_work_order(), "alice")
    a, b = _new(store, rng, n_findings=2), _new(store, rng, n_findings=3)
    store.save_inspection(a)
    with pytest.raises(DuplicateInspectionError):
        store.save_inspections([b, a])  # a is a duplicate: b must not be stored either
    assert store.count_inspections() == 1
    with pytest.raises(DuplicateInspectionError):
        store.save_inspections([b, b])
    store.save_inspections([b])
    assert store.get_inspection(b.id) == b


def test_inspection_keeps_the_work_order_version_it_was_judged_against(store, rng):
    wo1 = sample_work_order()
    store.save_work_order(wo1, "alice")
    insp = _new(store, rng)
    store.save_inspection(insp)
    wo2 = sample_work_order(text_suffix="\n5. New clause.")
    assert store.save_work_order(wo2, "bob") == 2
    later = _new(store, rng)
    store.save_inspection(later)
    assert store.work_order_of(insp.id) == wo1
    assert store.work_order_of(later.id) == wo2
    pinned = _new(store, rng)
    store.save_inspection(pinned, work_order_version=1)
    assert store.work_order_of(pinned.id) == wo1


def test_explanations_append_and_rows_are_write_once(store, rng):
    store.save_work_order(sample_work_order(), "alice")
    insp = _new(store, rng, n_findings=2, verdict=VerdictKind.NG)
    store.save_inspection(insp)
    first = Explanation("template text", fallback=True, generator="template")
    second = Explanation("generated text", fallback=False, generator="smollm2-135m+adapter v1")
    store.add_explanation(insp.id, first)
    store.add_explanation(insp.id, second)
    assert store.get_inspection(insp.id).explanation == second
    assert store.explanations_for(insp.id) == [first, second]
    assert dataclasses.replace(store.get_inspection(insp.id), explanation=None) == insp
    with pytest.raises(NotFoundError):
        store.add_explanation("f" * 32, first)
    for sql in (
        "UPDATE inspections SET verdict = 'OK'",
        "UPDATE findings SET defect_type = 'none'",
        "UPDATE explanations SET text = 'edited'",
    ):
        with pytest.raises(Exception, match="written once"), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert store.get_inspection(insp.id).verdict.kind is VerdictKind.NG


# --- reviews --------------------------------------------------------------------------------


def _review(insp_id, decision, who="qe1", minutes=0):
    return Review(
        inspection_id=insp_id,
        decision=decision,
        reason_code="OVER-LIMIT",
        comment=f"{decision} after look",
        reviewer=who,
        reviewer_name="Quinn Engineer",
        decided_at=datetime(2026, 3, 3, 9, minutes, tzinfo=UTC),
        signature_meaning=f"{decision}: per WO-1001 §2",
    )


def test_reviews_append_and_latest_is_current(store, rng):
    store.save_work_order(sample_work_order(), "alice")
    insp = _new(store, rng, n_findings=1, verdict=VerdictKind.REVIEW)
    store.save_inspection(insp)
    assert store.latest_review(insp.id) is None
    r1 = store.add_review(_review(insp.id, Decision.REJECT), auth_method="password")
    r2 = store.add_review(_review(insp.id, Decision.ACCEPT, who="qe2", minutes=5))
    assert r1.id is not None and r2.id is not None and r2.id > r1.id
    assert r1 == dataclasses.replace(_review(insp.id, Decision.REJECT), id=r1.id)
    assert store.reviews_for(insp.id) == [r1, r2]
    assert store.latest_review(insp.id) == r2
    assert store.get_inspection(insp.id) == insp  # the machine verdict is untouched
    with pytest.raises(NotFoundError):
        store.add_review(_review("e" * 32, Decision.ACCEPT))
    with pytest.raises(StoreError, match="accept/reject/rework"):
        store.add_review(dataclasses.replace(_review(insp.id, Decision.ACCEPT), decision="maybe"))
    with pytest.raises(StoreError, match="timezone-aware"):
        store.add_review(
            dataclasses.replace(_review(insp.id, Decision.ACCEPT), decided_at=datetime(2026, 1, 1))
        )
    assert len(store.reviews_for(insp.id)) == 2


# --- teach references -----------------------------------------------------------------------


def test_teach_references_are_versioned(store):
    with pytest.raises(NotFoundError, match="teach it first"):
        store.get_reference("PN-77")

    def teach(pn, n_good, threshold, path):
        return TeachResult(pn, n_good, threshold, threshold * 0.8, 0.01, path=path)

    r1 = store.save_reference(teach("PN-77", 20, 0.41, "/refs/PN-77/v1"), "ab" * 32, "alice")
    r2 = store.save_reference(
        teach("PN-77", 35, 0.39, "/refs/PN-77/v2"),
        "ab" * 32,
        "bob",
        taught_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    store.save_reference(teach("PN-88", 10, 1.0, "/refs/PN-88/v1"), "cd" * 32, "bob")
    assert (r1.version, r2.version) == (1, 2)
    assert store.get_reference("PN-77") == r2
    assert store.get_reference("PN-77", 1) == r1
    assert (r2.n_good, r2.threshold, r2.review_low, r2.path) == (35, 0.39, 0.39 * 0.8, "/refs/PN-77/v2")
    assert r2.taught_at == datetime(2030, 1, 1, tzinfo=UTC) and r2.taught_by == "bob"
    assert [r.version for r in store.list_references("PN-77")] == [2, 1]
    assert len(store.list_references()) == 3
    with pytest.raises(StoreError, match="part number"):
        store.save_reference(teach("", 1, 1.0, ""), "ab" * 32, "alice")

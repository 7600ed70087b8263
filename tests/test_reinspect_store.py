"""The store side of re-judging (fast, no model; SQLite and PostgreSQL): a chain of linked records
counts as one part, its dispositions carry over, each record has at most one successor, and a
record with its audit event commits together or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from trace_support import *  # noqa: F403 - fixtures: store, accounts, people, rng, db_url
from trace_support import REVIEWER_PW, add_inspection

from inspector.domain import VerdictKind
from inspector.reports.source import MemoryStore, iter_with_reviews
from inspector.store.errors import StoreError
from inspector.store.samples import sample_inspection
from inspector.trace import Audit, sign_review


def _rejudge(store, rng, original, verdict=VerdictKind.NG, minutes=1):
    new = sample_inspection(rng, original.image_sha256, order_id=original.order_id, lot=original.lot,
                            n_findings=0 if verdict is VerdictKind.OK else 1, verdict=verdict,
                            inspected_at=original.inspected_at + timedelta(minutes=minutes))
    new.reinspects_id = original.id
    store.save_inspection(new)
    return new


def test_a_chain_is_one_part_with_its_dispositions(store, accounts, people, rng):
    a = add_inspection(store, rng, VerdictKind.NG)
    other = add_inspection(store, rng, VerdictKind.NG)
    sign_review(store, a.id, "accept", "COSMETIC-OK", "mark within acceptance", "ann", REVIEWER_PW,
                accounts=accounts)
    b = _rejudge(store, rng, a, VerdictKind.NG, 1)
    c = _rejudge(store, rng, b, VerdictKind.NG, 2)
    assert store.get_inspection(c.id).reinspects_id == b.id
    assert store.rejudge_chain(c.id) == [b.id, a.id] and store.rejudge_chain(a.id) == []
    assert {i.id for i in store.query_inspections(current_only=True)} == {c.id, other.id}
    assert store.count_inspections(current_only=True) == 2 and store.count_inspections() == 4
    counts = store.counts()
    assert (counts["inspected"], counts["NG"], counts["reviewed"], counts["accept"]) == (2, 2, 1, 1)
    queue = store.query_inspections(flagged_only=True, unreviewed_only=True, current_only=True)
    assert [i.id for i in queue] == [other.id]  # c's part was decided on a
    [(insp, reviews)] = [p for p in iter_with_reviews(store) if p[0].id == c.id]
    assert [r.inspection_id for r in reviews] == [a.id]
    assert a.id not in {i.id for i, _ in iter_with_reviews(store)}


def test_each_record_is_re_judged_at_most_once(store, rng):
    a = add_inspection(store, rng, VerdictKind.OK)
    _rejudge(store, rng, a)
    with pytest.raises(StoreError, match="refused"):
        _rejudge(store, rng, a)
    assert store.count_inspections() == 2


def test_records_and_their_audit_events_commit_together(store, rng):
    from inspector.trace import _db

    a = add_inspection(store, rng, VerdictKind.OK)
    new = sample_inspection(rng, a.image_sha256, order_id=a.order_id, verdict=VerdictKind.NG, n_findings=1)
    new.reinspects_id = a.id
    audit = Audit(store)
    with pytest.raises(RuntimeError), _db.write_session(store.engine) as s:
        store.save_inspections_in(s, [new])
        audit.append_in(s, "ann", "inspection.rejudged", "inspection", new.id, {"inspection": a.id}, None)
        raise RuntimeError("power cut before commit")
    assert store.count_inspections() == 1 and audit.count() == 0
    with _db.write_session(store.engine) as s:
        store.save_inspections_in(s, [new])
        audit.append_in(s, "ann", "inspection.rejudged", "inspection", new.id, {"inspection": a.id}, None)
    assert store.count_inspections(current_only=True) == 1 and audit.verify().ok


def test_memory_source_follows_the_same_rules(rng):
    a = sample_inspection(rng, "a" * 64, verdict=VerdictKind.OK, n_findings=0)
    b = sample_inspection(rng, "a" * 64, verdict=VerdictKind.NG, n_findings=1,
                          inspected_at=a.inspected_at + timedelta(minutes=1))
    b.reinspects_id = a.id
    src = MemoryStore(inspections=[a, b])
    assert [i.id for i, _ in iter_with_reviews(src)] == [b.id]
    assert [i.id for i in src.query_inspections(current_only=False)] == [b.id, a.id]

"""The audit trail: hash chain, verify() against edits, deletions, re-orders, and the triggers."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from trace_support import *  # noqa: F403 - pytest fixtures
from trace_support import tamper

from inspector.domain import AuditEvent, Role, User
from inspector.trace import GENESIS, Audit, AuditError, event_hash


def _fill(audit: Audit, n: int = 6) -> list[AuditEvent]:
    out = []
    for i in range(n):
        out.append(audit.append("ann" if i % 2 else User("root", "R", Role.ADMIN), "model.taught", "part",
                                f"PN-{i}", {"threshold": 0.41} if i else None,
                                {"threshold": 0.4 + i / 100, "note": "Änderung ✓", "n": i}))
    return out


def test_append_builds_a_chain_that_verifies(store):
    audit = Audit(store)
    assert audit.verify().ok and audit.verify().n_events == 0 and audit.head() is None
    events = _fill(audit)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[0].actor == "root" and events[1].actor == "ann"
    # the hash is sha256 over the documented canonical JSON, reproducible by hand
    e = events[2]
    body = {"v": 1, "seq": 3, "at": e.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": e.actor,
            "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
            "before": json.dumps(e.before, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            "after": json.dumps(e.after, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            "prev_hash": e.prev_hash}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(blob).hexdigest() == e.hash
    result = audit.verify()
    assert result.ok, result.problems
    assert (result.n_events, result.first_bad_seq, result.head_seq, result.head_hash) == (6, None, 6, events[-1].hash)
    assert audit.events(entity="part", entity_id="PN-2") == [events[2]]
    assert [x.seq for x in audit.events(action="model.*", newest_first=True, limit=2)] == [6, 5]
    assert audit.events(actor="ann", after_seq=4)[0].seq == 6


def test_domain_objects_are_recorded_as_data_and_nan_is_refused(store):
    audit = Audit(store)
    ev = audit.append("ann", "review.decided", "inspection", "x" * 32, None,
                      {"user": User("ann", "Ann", Role.REVIEWER)})
    assert ev.after == {"user": {"username": "ann", "full_name": "Ann", "role": "reviewer", "active": True}}
    with pytest.raises(ValueError, match="NaN"):
        audit.append("ann", "threshold.changed", "part", "PN", None, {"threshold": float("nan")})
    with pytest.raises(AuditError, match="noun.verb"):
        audit.append("ann", "Did Something", "part", "PN")
    assert audit.verify().ok and audit.count() == 1


def test_verify_detects_an_edited_row(store):
    audit = Audit(store)
    _fill(audit)
    tamper(store, "UPDATE audit_events SET after = REPLACE(after, '0.43', '0.93') WHERE seq = 4")
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == 4
    assert "#4" in result.problems[0] and "altered" in result.problems[0]
    assert "TAMPERED at #4" in result.summary()


def test_verify_detects_an_edit_whose_hash_was_recomputed(store):
    """An attacker who recomputes the edited row's hash still breaks the next link."""
    audit = Audit(store)
    events = _fill(audit)
    e = events[2]
    forged_actor = "mallory"
    after = json.dumps(e.after, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    before = json.dumps(e.before, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    h = event_hash(e.seq, e.at, forged_actor, e.action, e.entity, e.entity_id, before, after, e.prev_hash)
    tamper(store, f"UPDATE audit_events SET actor = '{forged_actor}', hash = '{h}' WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 4
    assert "does not link" in result.problems[0]


def test_verify_detects_a_deleted_row(store):
    audit = Audit(store)
    _fill(audit)
    tamper(store, "DELETE FROM audit_events WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 3
    assert "#3 missing" in result.problems[0]
    assert result.n_events == 5


def test_verify_detects_reordered_rows(store):
    audit = Audit(store)
    _fill(audit)
    # swap the positions of events 2 and 3 (through a free seq to respect the primary key)
    tamper(store, "UPDATE audit_events SET seq = 1000 WHERE seq = 2",
           "UPDATE audit_events SET seq = 2 WHERE seq = 3",
           "UPDATE audit_events SET seq = 3 WHERE seq = 1000")
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 2
    assert any("altered" in p for p in result.problems) and any("link" in p for p in result.problems)


def test_cut_off_tail_and_rewritten_history_need_the_recorded_head(store):
    audit = Audit(store)
    events = _fill(audit)
    anchor = (events[-1].seq, events[-1].hash)  # e.g. printed on yesterday's lot report
    tamper(store, "DELETE FROM audit_events WHERE seq >= 5")
    assert audit.verify().ok  # the chain alone cannot see a clean cut at the end...
    result = audit.verify(expect_head=anchor)  # ...the recorded head can
    assert not result.ok and result.first_bad_seq == 6 and "cut off the end" in result.problems[0]
    assert not audit.verify(expect_head=(4, "0" * 64)).ok


@pytest.mark.parametrize("stmt", [
    "UPDATE audit_events SET actor = 'x' WHERE seq = 1",
    "UPDATE audit_events SET seq = 99 WHERE seq = 2",
    "DELETE FROM audit_events WHERE seq = 2",
    "DELETE FROM audit_events",
])
def test_database_refuses_update_and_delete_of_the_trail(store, stmt):
    audit = Audit(store)
    _fill(audit, 2)
    with pytest.raises(DatabaseError, match="refused"):
        with store.engine.begin() as conn:
            conn.execute(text(stmt))
    assert audit.verify().ok and audit.count() == 2


@pytest.mark.postgres
def test_postgres_refuses_truncate_of_history(postgres_head_url, tmp_path):
    from inspector.store import Store

    with Store.open(postgres_head_url, tmp_path / "images") as store:
        Audit(store).append("ann", "data.exported", "inspections", "*")
        for table in ("audit_events", "reviews", "review_signatures", "retention_items", "inspections", "users"):
            with pytest.raises(DatabaseError, match=f"TRUNCATE on {table} refused"):
                with store.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {table} CASCADE"))
        assert Audit(store).verify().ok


def test_missing_trigger_is_reported_by_verify(store):
    audit = Audit(store)
    _fill(audit, 2)
    tamper(store, tables=("audit_events",), restore_guards=False)
    result = audit.verify()
    assert not result.ok and result.first_bad_seq is None
    assert any("trg_audit_events_no_update" in p for p in result.problems)


def test_concurrent_writers_keep_one_unbroken_chain(store):
    audit = Audit(store)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                Audit(store).append(f"station-{k}", "data.exported", "inspections", f"{k}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit.verify()
    assert result.ok, result.problems
    assert result.n_events == 40 and result.head_seq == 40


def test_audit_accepts_a_bare_engine(store):
    Audit(store.engine).append("ann", "data.exported", "inspections", "*")
    assert Audit(store).verify().ok

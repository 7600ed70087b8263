"""Loading a work order and teaching commit together with their audit events, or not at all."""

from __future__ import annotations

import numpy as np
import pytest
from trace_support import *  # noqa: F403 - pytest fixtures

from inspector.model.base import TeachResult
from inspector.store.errors import NotFoundError
from inspector.store.samples import sample_work_order
from inspector.trace import Audit
from inspector.trace.audit import Audit as AuditClass
from inspector.trace.changes import record_teach, record_work_order


class _Boom(RuntimeError):
    pass


def _fail_on(action: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = AuditClass.append_in

    def append_in(self, session, actor, act, *args, **kwargs):
        if act == action:
            raise _Boom(act)
        return real(self, session, actor, act, *args, **kwargs)

    monkeypatch.setattr(AuditClass, "append_in", append_in)


def test_work_order_load_and_its_event_commit_together(store):
    wo = sample_work_order("WO-7")
    assert record_work_order(store, wo, "olaf") == 1
    assert record_work_order(store, wo, "olaf") == 1  # unchanged content: same version, still audited
    events = Audit(store).events(action="workorder.loaded", entity_id="WO-7")
    assert [e.after["version"] for e in events] == [1, 1]
    assert events[0].actor == "olaf" and events[0].after["clauses"] == len(wo.clauses)
    assert Audit(store).verify().ok


def test_a_failed_audit_append_leaves_no_work_order(store, monkeypatch):
    _fail_on("workorder.loaded", monkeypatch)
    with pytest.raises(_Boom):
        record_work_order(store, sample_work_order("WO-8"), "olaf")
    with pytest.raises(NotFoundError):
        store.get_work_order("WO-8")


def _teach(threshold: float) -> TeachResult:
    return TeachResult("PN-9", 3, threshold, threshold * 0.8, 0.01, path="/tmp/ref")


def test_teach_and_its_events_commit_together(store, monkeypatch):
    first = record_teach(store, _teach(0.4), "0" * 64, "ann", target_false_reject=0.01)
    assert first.version == 1
    _fail_on("threshold.changed", monkeypatch)  # the second teach moves the threshold
    with pytest.raises(_Boom):
        record_teach(store, _teach(0.6), "0" * 64, "ann", target_false_reject=0.01)
    assert store.get_reference("PN-9").version == 1  # the reference rolled back with the event
    assert [e.after["version"] for e in Audit(store).events(action="model.taught")] == [1]
    monkeypatch.undo()
    second = record_teach(store, _teach(0.6), "0" * 64, "ann", target_false_reject=0.01)
    assert second.version == 2
    changed = Audit(store).events(action="threshold.changed", entity_id="PN-9")
    assert changed[0].before["threshold"] == pytest.approx(0.4)
    assert changed[0].after == {"threshold": 0.6, "review_low": pytest.approx(0.48), "target_false_reject": 0.01}
    assert Audit(store).verify().ok
    assert np.isclose(store.get_reference("PN-9").threshold, 0.6)

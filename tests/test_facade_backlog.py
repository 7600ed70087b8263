"""Explanations queued at a quit are never lost (issue 13, point 7): the facade counts them,
"finish later" writes them to the data folder and the next start resumes them, and a close that
runs out of time defers the rest instead of dropping them. Fast: a fake backend whose explainer
waits on a gate."""

from __future__ import annotations

import threading

import pytest
from zone_support import ScratchBackend, part_image, write_order

from inspector.domain import Explanation, Frame, VerdictKind, utcnow
from inspector.facade_backlog import QUEUE_FILE
from inspector.pipeline import Inspector
from inspector.settings import Settings


class GatedBackend(ScratchBackend):
    """Explains only once ``gate`` is set (a slow language model at the end of a camera run)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.explained: list[str] = []

    def explain(self, image, analysis, verdict, work_order) -> Explanation:
        self.gate.wait(30)
        self.explained.append(verdict.kind.value)
        return Explanation(f"explained after the gate ({len(analysis.findings)} findings)", fallback=False,
                           generator="gated")


def _run_flagged(facade: Inspector, folder, n: int) -> list[str]:
    wo = facade.load_work_order(write_order(folder))
    ids = []
    for i in range(n):
        frame = Frame(image=part_image(), name=f"p{i}.png", source="test", captured_at=utcnow())
        result = facade.inspect_frame(frame, wo, explain="async")
        assert result.inspection.verdict.kind is not VerdictKind.OK
        ids.append(result.inspection.id)
    return ids


def _settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu", explain="async")


def test_finish_later_persists_the_queue_and_the_next_start_explains_every_part(tmp_path):
    gate = threading.Event()
    first = Inspector(_settings(tmp_path), backend=GatedBackend(gate))
    ids = _run_flagged(first, tmp_path, 5)
    assert first.explanations_queued() == 5
    deferred = first.defer_explanations()  # the first one is being explained: it finishes
    assert deferred == 4 and first.explanations_queued() <= 1
    saved = first.deferred_explanations()
    assert saved == ids[1:]
    assert (first.settings.data_dir / QUEUE_FILE).is_file()
    gate.set()
    first.close()
    assert first.get(ids[0]).explanation is not None
    assert all(first.get(i).explanation is None for i in ids[1:])

    second = Inspector(_settings(tmp_path), backend=GatedBackend(threading.Event()))
    second.backend.gate.set()
    assert second.resume_explanations() == 4
    assert second.wait_explanations(30)
    for i in ids:
        explanation = second.get(i).explanation
        assert explanation is not None and explanation.text.startswith(("explained after the gate",))
    assert second.deferred_explanations() == [] and not (second.settings.data_dir / QUEUE_FILE).exists()
    assert second.resume_explanations() == 0  # nothing twice
    second.close()


def test_finish_later_twice_keeps_the_earlier_ones_and_explained_parts_are_dropped(tmp_path):
    gate = threading.Event()
    first = Inspector(_settings(tmp_path), backend=GatedBackend(gate))
    ids = _run_flagged(first, tmp_path, 3)
    assert first.defer_explanations() == 2
    gate.set()
    first.close()
    second = Inspector(_settings(tmp_path), backend=GatedBackend(threading.Event()))
    assert second.resume_explanations() == 2  # gate closed: still queued at the next quit
    more = _run_flagged(second, tmp_path, 1)
    assert second.defer_explanations() == 2  # of three queued: the one being written finishes
    second.backend.gate.set()
    second.close()
    third = Inspector(_settings(tmp_path), backend=GatedBackend(threading.Event()))
    left = third.deferred_explanations()
    assert len(left) == 2 and set(left) <= set(ids[1:] + more)
    assert all(third.get(i).explanation is not None or i in left for i in ids + more)
    pending = len([i for i in left if third.get(i).explanation is None])  # before resuming: it starts them
    third.backend.gate.set()
    assert third.resume_explanations() == pending
    assert third.wait_explanations(30)
    assert all(third.get(i).explanation is not None for i in ids + more)
    assert third.deferred_explanations() == []
    third.close()


def test_a_close_that_runs_out_of_time_defers_instead_of_dropping(tmp_path):
    gate = threading.Event()
    facade = Inspector(_settings(tmp_path), backend=GatedBackend(gate))
    ids = _run_flagged(facade, tmp_path, 3)
    timer = threading.Timer(1.0, gate.set)  # the running one finishes after the first wait gives up
    timer.start()
    facade.close(timeout=0.2)
    timer.join()
    again = Inspector(_settings(tmp_path), backend=GatedBackend(threading.Event()))
    assert again.deferred_explanations() == ids[1:]
    again.backend.gate.set()
    assert again.resume_explanations() == 2 and again.wait_explanations(30)
    assert all(again.get(i).explanation is not None for i in ids)
    again.close()


@pytest.mark.parametrize("content", ["not json", '{"inspection_ids": ["nope"]}'])
def test_a_bad_queue_file_or_a_missing_part_never_stops_the_start(tmp_path, content):
    settings = _settings(tmp_path)
    settings.ensure_dirs()
    (settings.data_dir / QUEUE_FILE).write_text(content, encoding="utf-8")
    facade = Inspector(settings, backend=GatedBackend(threading.Event()))
    assert facade.resume_explanations() == 0
    facade.close()

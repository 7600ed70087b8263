"""The fake GigE Vision camera is killed and started again: the source reports the loss once as
recoverable, reconnects, configures the camera again and delivers; on the line this is a
SourceLost followed by a SourceReconnected, and parts go on being inspected."""

from __future__ import annotations

import threading

import pytest
from genicam_fake import FakeCamera, Reader, stream_threads, task_count, thread_names, wait_for
from inspector_genicam.source import GenICamSource


class _NoSettings:
    def plugin(self, name):
        return None


@pytest.fixture
def fake(tmp_path):
    cam = FakeCamera("GR1", tmp_path).start()
    yield cam
    cam.stop()


def _source(errors, **options) -> GenICamSource:
    return GenICamSource("Aravis-Fake-GR1", errors.append, settings=_NoSettings(), max_backoff_s=0.5, **options)


def test_free_run_camera_killed_and_restarted_reconnects(fake):
    errors = []
    with _source(errors):  # first use (by id: discovery too): the process-wide threads (see task_count)
        pass
    baseline = task_count()
    src = _source(errors, pixel_format="RGB8", exposure_us=4000)
    with src:
        reader = Reader(src).start()
        assert reader.wait_count(3)
        fake.restart()
        before = reader.count()
        assert reader.wait_count(before + 3, timeout=60), f"no frames after the restart; errors: {errors}"
        assert src.pixel_format == "RGB8" and src.exposure_us == pytest.approx(4000)  # configured again
        assert stream_threads() == 1  # the lost connection's stream thread has ended
        reader.stop()
    assert src.reconnects >= 1
    assert wait_for(lambda: task_count() <= baseline + 1 and stream_threads() == 0, 20), \
        (task_count(), baseline, thread_names())
    assert errors and all(e.recoverable for e in errors), errors
    assert "lost" in str(errors[0])
    assert reader.frames[-1].image.shape == (512, 512, 3)


def test_software_trigger_camera_restarted_while_idle_is_found_and_reconnected(fake):
    errors = []
    src = _source(errors, probe_s=0.5)
    src.set_trigger_mode("software")
    with src:
        reader = Reader(src).start()
        assert src.software_trigger() and reader.wait_count(1)
        fake.restart()  # nothing streams while idle: only the probe can tell
        assert wait_for(lambda: src.reconnects >= 1 and src._conn is not None and src._conn.stream is not None, 60), \
            errors
        assert src._conn.camera.get_string("TriggerSource") == "Software"  # armed again
        assert src.software_trigger() and reader.wait_count(2), errors
        assert not reader.wait_count(3, timeout=1.0)
        reader.stop()
    assert len(reader.frames) == 2
    assert errors and all(e.recoverable for e in errors) and "restarted" in str(errors[0]) + str(errors[-1])


def _part_result(frame, work_order):
    """What the facade's inspect_frame returns, without a model: the line's contract only."""
    from inspector.domain import Inspection, ModelInfo, Verdict, VerdictKind, utcnow
    from inspector.line import PartResult

    insp = Inspection(id=frame.name, order_id=work_order.order_id, part_number="P", lot="L", image_sha256="0" * 64,
                      source=frame.source, frame_name=frame.name, station="test", captured_at=frame.captured_at,
                      inspected_at=utcnow(), model=ModelInfo("none", "0", "0"), thresholds={}, image_score=0.0,
                      findings=[], verdict=Verdict(VerdictKind.OK))
    return PartResult(insp, frame.image, None)


def test_on_the_line_a_restart_is_source_lost_then_reconnected(fake):
    from inspector.domain import WorkOrder
    from inspector.events import EventBus, PartStored, SourceLost, SourceReconnected
    from inspector.line import run_line

    bus = EventBus()
    heard = []
    bus.subscribe(heard.append, SourceLost, SourceReconnected, PartStored)
    cancel = threading.Event()
    src = GenICamSource("127.0.0.1", settings=_NoSettings(), max_backoff_s=0.5)
    result = {}

    def run():
        result["summary"] = run_line(_part_result, bus, src, WorkOrder("WO-CAM"), cancel=cancel)

    line = threading.Thread(target=run, daemon=True)
    line.start()

    def stored():
        return sum(isinstance(e, PartStored) for e in list(heard))

    assert wait_for(lambda: stored() >= 3, 30)
    fake.restart()
    assert wait_for(lambda: any(isinstance(e, SourceReconnected) for e in list(heard)), 60), heard
    after = stored()
    assert wait_for(lambda: stored() >= after + 3, 30)
    cancel.set()
    line.join(30)
    assert not line.is_alive()
    kinds = [type(e).__name__ for e in heard if not isinstance(e, PartStored)]
    assert kinds[0] == "SourceLost" and "SourceReconnected" in kinds
    lost = next(e for e in heard if isinstance(e, SourceLost))
    back = next(e for e in heard if isinstance(e, SourceReconnected))
    assert lost.recoverable and lost.source == "genicam:127.0.0.1" and back.gap_s > 0
    summary = result["summary"]
    assert summary.inspected >= 6 and not summary.aborted

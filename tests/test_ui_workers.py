"""The app's plumbing without the model: tasks and their signals, stale-task cancellation, the
line loop's error handling, the live-frame path, the status log, layout and settings
persistence in an isolated configuration."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, QSettings, QThread, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from inspector.domain import Frame, WorkOrder  # noqa: E402
from inspector.model.base import ModelError, NotTaughtError  # noqa: E402
from inspector.sources import FrameSource  # noqa: E402

pytestmark = pytest.mark.usefixtures("qt_config")


class Receiver(QObject):
    """A GUI-thread object with slots, as the views are."""

    def __init__(self):
        super().__init__()
        self.results, self.errors, self.threads = [], [], []

    @Slot(object)
    def on_result(self, value):
        self.results.append(value)
        self.threads.append(QThread.currentThread())

    @Slot(str)
    def on_error(self, message):
        self.errors.append(message)


def test_task_result_arrives_in_the_gui_thread(qtbot):
    from ui.workers import Task, TaskRunner

    runner, rx = TaskRunner(), Receiver()
    worker_thread = []
    task = Task(lambda t: worker_thread.append(threading.current_thread()) or 42, "answer")
    task.signals.result.connect(rx.on_result)
    with qtbot.waitSignal(task.signals.finished, timeout=10_000):
        runner.start("x", task)
    qtbot.waitUntil(lambda: rx.results == [42])
    assert rx.threads == [QApplication.instance().thread()]
    assert worker_thread[0] is not threading.main_thread()
    qtbot.waitUntil(lambda: runner.busy() == [])


def test_a_new_task_cancels_the_stale_one(qtbot):
    from inspector.model.base import Cancelled
    from ui.workers import Task, TaskRunner

    runner, rx = TaskRunner(), Receiver()
    started = threading.Event()

    def slow(task):
        started.set()
        for i in range(500):
            task.progress(i, 500, "working")  # raises Cancelled once cancelled
            time.sleep(0.01)
        return "stale"

    old = Task(slow, "old")
    old.signals.result.connect(rx.on_result)
    runner.start("slot", old)
    assert started.wait(10)
    new = Task(lambda t: "fresh", "new")
    new.signals.result.connect(rx.on_result)
    runner.start("slot", new)
    assert old.cancel.is_set()
    assert runner.wait(10_000)
    qtbot.waitUntil(lambda: rx.results == ["fresh"])
    assert old.done.is_set() and old.value is None
    with pytest.raises(Cancelled):
        old.progress(1, 2)


def test_task_errors_become_messages(qtbot):
    from inspector.workorder.errors import WorkOrderError
    from ui.workers import Task, TaskRunner, error_message

    runner, rx = TaskRunner(), Receiver()

    def fail(task):
        raise ValueError("bad value")

    task = Task(fail, "failing")
    task.signals.error.connect(rx.on_error)
    task.signals.result.connect(rx.on_result)
    with qtbot.waitSignal(task.signals.finished, timeout=10_000):
        runner.start("x", task)
    qtbot.waitUntil(lambda: rx.errors == ["ValueError: bad value"])
    assert rx.results == []
    typed = error_message(WorkOrderError("line 3: no unit"))  # typed core errors: their own text
    assert typed.endswith("line 3: no unit") and "WorkOrderError" not in typed
    assert error_message(KeyError("work order 'X' not found")) == "work order 'X' not found"


class ListSource(FrameSource):
    name = "list"

    def __init__(self, n, on_error=None, live=False, delay=0.0):
        super().__init__(on_error)
        self.n, self.is_live, self.delay = n, live, delay

    def __iter__(self):
        for i in range(self.n):
            if self._stopped:
                return
            time.sleep(self.delay)
            yield Frame(np.full((8, 8, 3), i % 256, np.uint8), "list", i, f"f{i}")


class FakeFacade:
    """Stands in for the facade to drive the loop's error paths (the real one is in test_ui_station)."""

    def __init__(self, fail=None, delay=0.0):
        self.fail, self.delay, self.stored = fail or {}, delay, []

    def inspect_frame(self, frame, wo, **kw):
        time.sleep(self.delay)
        exc = self.fail.get(frame.index) or self.fail.get("*")
        if exc is not None:
            raise exc
        from inspector.domain import Inspection, ModelInfo, Verdict, VerdictKind, utcnow
        from inspector.pipeline import PartResult

        insp = Inspection(id=f"id{frame.index}", order_id=wo.order_id, part_number="P", lot="", image_sha256="",
                          source="list", frame_name=frame.name, station="s", captured_at=utcnow(),
                          inspected_at=utcnow(), model=ModelInfo("m", "1", "0"), thresholds={}, image_score=0.0,
                          findings=[], verdict=Verdict(VerdictKind.OK),
                          timings_ms={"analyze": 1.0, "capture": -1.0 if frame.capture_ms is None else frame.capture_ms})
        self.stored.append(frame.index)
        return PartResult(insp, frame.image, np.zeros((8, 8), np.float32))


def run(facade, source, **kw):
    """The core line (inspector/line.py) with the fake facade; parts and problems as the app gets them."""
    from inspector.events import EventBus, PartFailed, PartStored
    from inspector.line import TapSource, run_line

    bus, parts, errors = EventBus(), [], []
    bus.subscribe(lambda e: parts.append(e.result), PartStored)
    bus.subscribe(lambda e: errors.append(e.message), PartFailed)
    summary = run_line(facade.inspect_frame, bus, TapSource(source, lambda img: None), WorkOrder("WO-1"),
                       cancel=kw.pop("cancel", threading.Event()), **kw)
    return summary, parts, errors


def test_line_skips_bad_parts_and_stops_only_for_good_reasons():
    summary, parts, errors = run(FakeFacade({1: ModelError("image too small")}), ListSource(4))
    assert summary.inspected == 3 and [p.inspection.frame_name for p in parts] == ["f0", "f2", "f3"]
    assert errors == ["f1: image too small"] and parts[0].image.shape[1] == 8

    summary, parts, errors = run(FakeFacade({"*": NotTaughtError("part 'P' is not taught")}), ListSource(5))
    assert summary.inspected == 0 and len(errors) == 1 and "teach the part first" in errors[0]

    disk = OSError(28, "No space left on device")
    summary, parts, errors = run(FakeFacade({0: disk, 1: disk}), ListSource(4), max_failures=3)
    assert summary.inspected == 2 and sum("NOT stored" in e for e in errors) == 2  # recovered

    summary, parts, errors = run(FakeFacade({"*": disk}), ListSource(10), max_failures=3)
    assert summary.inspected == 0 and "line stopped: 3 parts in a row" in errors[-1]

    cancel = threading.Event()
    cancel.set()
    summary, parts, errors = run(FakeFacade(), ListSource(4), cancel=cancel)
    assert summary.cancelled and summary.inspected == 0


def test_live_stream_shows_every_frame_and_inspects_the_newest():
    from inspector.events import EventBus, FrameArrived, PartStored
    from inspector.line import LatestFrameSource, is_stream, run_line, wrap_source

    bus, shown, parts = EventBus(), [], []
    bus.subscribe(lambda e: shown.append(e.image), FrameArrived)
    bus.subscribe(lambda e: parts.append(e.result), PartStored)
    inner = ListSource(60, live=True, delay=0.005)
    assert is_stream(inner) and isinstance(wrap_source(inner, bus, "r"), LatestFrameSource)
    facade = FakeFacade(delay=0.05)
    summary = run_line(facade.inspect_frame, bus, ListSource(60, live=True, delay=0.005), WorkOrder("WO-1"),
                       cancel=threading.Event())
    assert len(shown) == 60  # the live view saw the camera's every frame
    assert 1 <= summary.inspected < 60 and summary.inspected + summary.dropped == 60
    assert facade.stored == sorted(facade.stored)  # always forward, newest available
    assert all(p.inspection.timings_ms.get("capture", -1) >= 0 for p in parts)


def test_frame_mailbox_never_queues_more_than_one_frame(qtbot):
    from ui.runner import FrameMailbox

    box = FrameMailbox()
    ready = []
    box.ready.connect(lambda: ready.append(1))  # direct connection: same thread in this test
    for i in range(100):
        box.post(np.full((4, 4, 3), i, np.uint8))
    assert len(ready) == 1 and box.posted == 100
    img = box.take()
    assert img.pixelColor(0, 0).red() == 99 and box.take() is None
    box.post(np.zeros((2000, 3000, 3), np.uint8))
    assert max(box.take().width(), 1) <= 1280  # shrunk before it reaches the GUI


def test_status_log_counts_repeats():
    from ui.panels import StatusLog

    log = StatusLog()
    for _ in range(5):
        log.add("camera 0 lost; reconnecting")
    log.add("other")
    assert log.count() == 2 and "(×5)" in log.item(1).text() and log.item(0).text().endswith("other")


def test_layout_is_saved_in_the_isolated_qsettings(qtbot, qt_config, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import MainWindow

    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    w = MainWindow(Inspector(settings))
    w.show()
    qtbot.waitExposed(w)
    avail = w.screen().availableGeometry()
    low, high = w.minimumSizeHint().height(), avail.height() - 40  # offscreen screens are small
    w.resize(min(w.width(), avail.width()), (low + high) // 2)
    qtbot.waitUntil(lambda: w.height() == (low + high) // 2)
    size = (w.width(), w.height())
    w.tabs.setCurrentIndex(3)
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=30_000)
    files = list(Path(qt_config).rglob("*.conf")) + list(Path(qt_config).rglob("*.ini"))
    assert files, "window layout goes to the test's QSettings folder"
    assert QSettings("Inspector", "Inspector Station").fileName().startswith(str(qt_config))
    w2 = MainWindow(Inspector(settings))
    # (the width is clamped to the small offscreen screen on restore; the height fits)
    assert w2.tabs.currentIndex() == 3 and w2.height() == size[1]
    w2.show()
    w2.close()
    qtbot.waitUntil(lambda: not w2.isVisible(), timeout=30_000)


def test_settings_dialog_saves_typed_settings_to_the_isolated_config(qtbot, tmp_path):
    from inspector.settings import Settings, default_config_file
    from ui.settings_dialog import SettingsDialog

    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.station.setText("line-7")
    dlg.operator.setText("olaf")
    dlg.frr.setValue(2.0)
    dlg.explain.setCurrentText("off")
    dlg.accept()
    result = dlg.result_settings()
    assert (result.station, result.operator, result.explain) == ("line-7", "olaf", "off")
    assert result.target_false_reject == pytest.approx(0.02)
    path = result.save()
    assert path == default_config_file() and str(path).startswith(str(tmp_path))
    loaded = Settings.load()
    assert (loaded.station, loaded.operator, loaded.explain) == ("line-7", "olaf", "off")


UI_MAY_IMPORT = ("inspector.domain", "inspector.pipeline", "inspector.settings")


def test_ui_uses_only_the_facade_and_the_shared_vocabulary():
    """ui/ talks to the core through the facade: no SQLAlchemy, no torch, no store or model internals."""
    import ast
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "ui").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                top = name.split(".")[0]
                assert top not in ("sqlalchemy", "torch", "transformers"), f"{path.name} imports {name}"
                if top == "inspector" and path.name != "bench.py":
                    assert name.startswith(UI_MAY_IMPORT), f"{path.name} imports {name}"
    code = ("import sys, ui.app, ui.station, ui.teach, ui.review, ui.reports, ui.settings_dialog, ui.autopilot;"
            "print(sorted(m for m in ('torch', 'sqlalchemy', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", "importing the UI must not load torch/SQLAlchemy (the window shows fast)"

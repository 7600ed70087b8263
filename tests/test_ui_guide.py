"""First use and readability on the station (issue 13, point 6) and audited acknowledgements (point 3).

- The next step is shown until the line can run: 1 load a work order -> 2 teach its part (the
  button opens the Teach tab) -> 3 choose the source and start; Start is off, with the reason under
  it, until then; the guidance follows the facade (a part taught elsewhere is seen on return).
- Acknowledging a held NG/REVIEW is audited through the facade (who, which part, when, how long held).
- The floor layout is a menu switch (F11) applied at once and saved to the settings file: large
  text, touch-sized buttons, full screen; switched off, the normal sizes come back.

Fast: the real facade and store with a scratch-finding fake backend (no model).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
import yaml
from zone_support import ScratchBackend, part_image, write_order

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QFontInfo  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]


class TeachableBackend(ScratchBackend):
    """The scratch backend with a memory of taught parts (nothing is taught at first)."""

    def __init__(self) -> None:
        super().__init__()
        self.taught: set[str] = set()

    def is_taught(self, part_number: str) -> bool:
        return part_number in self.taught

    def teach(self, part_number, images, examples=(), template=None, *, target_false_reject=0.01,
              progress=None, **_kw):
        from inspector.model.base import TeachResult

        self.taught.add(part_number)
        return TeachResult(part_number, len(images), 4.0, 3.5, target_false_reject,
                           good_scores=tuple(1.0 + 0.01 * i for i in range(len(images))))


def _images(folder: Path, scratched: list[bool]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, scratch in enumerate(scratched, 1):
        cv2.imwrite(str(folder / f"part{i:02d}.png"), cv2.cvtColor(part_image(scratch), cv2.COLOR_RGB2BGR))
    return folder


def _window(qtbot, data: Path, backend, **settings):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import MainWindow, make_app

    make_app()
    facade = Inspector(Settings(data_dir=data, device="cpu", explain="off", read_codes=False, operator="op1",
                                **settings), backend=backend)
    w = MainWindow(facade)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def _close(qtbot, w) -> None:
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=60_000)


@pytest.fixture
def window(qtbot, tmp_path):
    w = _window(qtbot, tmp_path / "data", TeachableBackend())
    yield w
    _close(qtbot, w)


def test_the_next_step_leads_from_order_to_teach_to_start(qtbot, window, tmp_path):
    station, facade = window.station, window.facade
    guide = station.guide
    assert guide.isVisible() and station.next_step().key == "order"
    assert [c.text() for c in guide.chips] == ["1  Work order", "2  Teach the part", "3  Start the line"]
    assert not station.start_button.isEnabled() and "load a work order first" in station.start_reason.text()
    station.order_field.setFocus()
    qtbot.keyClick(station.order_field, Qt.Key.Key_F5)  # the key is refused with the reason too
    assert "load a work order first" in station.status_log.messages[-1]
    qtbot.mouseClick(guide.button, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is station.order_field

    orders = window.facade.settings.data_dir / "workorders"
    orders.mkdir()
    write_order(orders)
    with qtbot.waitSignal(station.work_order_changed, timeout=30_000):
        qtbot.keyClicks(station.order_field, "WO-7001")
        qtbot.keyClick(station.order_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.next_step().key == "teach", timeout=30_000)
    assert "Teach part BR-700" in guide.text.text() and guide.chips[0].text().startswith("✓")
    assert guide.chips[1].text() == "2  Teach BR-700" and guide.button.text().startswith("Teach BR-700")
    assert not station.start_button.isEnabled() and "BR-700 is not taught" in station.start_reason.text()
    assert not station.start(source=None)

    qtbot.mouseClick(guide.button, Qt.MouseButton.LeftButton)  # takes the user to the Teach tab
    teach = window.teach
    assert window.tabs.currentWidget() is teach and teach.part.text() == "BR-700"
    teach.add_good([_images(tmp_path / "good", [False] * 3)])
    with qtbot.waitSignal(teach.taught, timeout=30_000):
        qtbot.keyClick(teach, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    window.tabs.setCurrentWidget(station)
    assert station.next_step().key == "source" and guide.chips[1].text().startswith("✓")
    assert not station.start_button.isEnabled() and station.start_reason.text() == "choose a source first"
    qtbot.mouseClick(guide.button, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is station.source_target

    line = _images(tmp_path / "line", [False, True])
    station.set_source(str(line))
    assert station.next_step().key == "start" and station.start_button.isEnabled()
    assert not station.start_reason.isVisible() and guide.button.text().startswith("Start")
    with qtbot.waitSignal(station.run_finished, timeout=60_000):
        qtbot.mouseClick(guide.button, Qt.MouseButton.LeftButton)  # the guide's Start starts the line
        assert not guide.isVisible()
    assert station.counters.counts["inspected"] == 2 and station.start_button.isEnabled()
    assert not guide.isVisible()  # the line has run for this order: no more guidance for it
    assert len(facade.query(order_id="WO-7001")) == 2


def test_a_part_taught_elsewhere_is_seen_when_the_station_is_shown_again(qtbot, window, tmp_path):
    station, facade = window.station, window.facade
    with qtbot.waitSignal(station.work_order_changed, timeout=30_000):
        station.load_order_file(write_order(tmp_path))
    qtbot.waitUntil(lambda: station.next_step().key == "teach", timeout=30_000)
    facade.backend.taught.add("BR-700")  # e.g. `inspector teach` on the same data folder
    window.tabs.setCurrentWidget(window.review)
    window.tabs.setCurrentWidget(station)
    qtbot.waitUntil(lambda: station.next_step().key == "source", timeout=30_000)


def test_acknowledging_a_held_part_is_audited_with_who_and_when(qtbot, tmp_path):
    from inspector.errors import NotFound, UsageError

    w = _window(qtbot, tmp_path / "data", ScratchBackend())
    try:
        station, facade = w.station, w.facade
        facade.create_user("root", "Rita Admin", "admin", "root-pass-1234")  # the first admin
        with qtbot.waitSignal(station.work_order_changed, timeout=30_000):
            station.load_order_file(write_order(tmp_path))
        station.set_source(str(_images(tmp_path / "line", [True, False, True])))
        with qtbot.waitSignal(station.run_finished, timeout=60_000):
            assert station.start()
        flagged = [i for i in station.shown_ids if facade.get(i).verdict.kind.value != "OK"]
        assert len(flagged) == 2 and [p.inspection.id for p in station.held] == flagged
        assert facade.acknowledgements() == []

        qtbot.keyClick(station, Qt.Key.Key_F6)  # the operator of the settings (nobody signed in)
        qtbot.waitUntil(lambda: len(station.hold_bar.acknowledged) == 1, timeout=30_000)
        facade.sign_in("root", "root-pass-1234")
        qtbot.mouseClick(station.hold_bar.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(station.hold_bar.acknowledged) == 2, timeout=30_000)
        assert not station.held and not station.hold_bar.isVisible()

        events = facade.acknowledgements()
        assert [(e.actor, e.entity_id) for e in events] == [("op1", flagged[0]), ("root", flagged[1])]
        first = facade.get(flagged[0])
        assert events[0].after["verdict"] == first.verdict.kind.value and events[0].after["frame"] == "part01.png"
        assert events[0].after["order_id"] == "WO-7001" and events[0].after["held_s"] >= 0
        assert events[0].at <= events[1].at and facade.acknowledgements(flagged[1])[0].actor == "root"
        assert facade.verify_audit(deep=False).ok  # the chain holds the acknowledgements
        with pytest.raises(UsageError, match="only NG and REVIEW"):
            facade.acknowledge(next(i for i in station.shown_ids if i not in flagged))
        with pytest.raises(NotFound):
            facade.acknowledge("no-such-id")
    finally:
        _close(qtbot, w)


def _px(widget) -> int:
    widget.ensurePolished()
    return QFontInfo(widget.font()).pixelSize()


def test_the_floor_layout_is_a_saved_switch_applied_at_once(qtbot, window, tmp_path):
    from inspector.settings import Settings, default_config_file
    from ui.floor import FLOOR_STYLE

    station = window.station
    normal = {"banner": _px(station.banner), "reason": _px(station.reason), "start": station.start_button.height()}
    assert normal["reason"] < 20 and window.styleSheet() == ""
    with qtbot.waitSignal(window.floor.changed, timeout=10_000):
        window.floor.action.trigger()  # View > Floor layout [F11]
    qtbot.wait(50)
    assert window.floor.on and window.styleSheet() == FLOOR_STYLE and window.isFullScreen()
    assert _px(station.banner) >= 120 > normal["banner"]
    for w in (station.reason, station.explanation, station.status_log, station.start_reason, station.order_info,
              station.hold_bar.label, station.guide.text, window.status_label):
        assert _px(w) >= 20, w
    assert _px(station.counters.values["OK"]) >= 56
    for b in (station.start_button, station.stop_button, station.guide.button, station.open_button,
              window.signin.button, window.review.detail.sign_button):
        assert b.minimumSizeHint().height() >= 48 or b.minimumHeight() >= 48, b.text()
    qtbot.waitUntil(lambda: "saved to" in window.status_label.text(), timeout=30_000)
    saved = yaml.safe_load(default_config_file().read_text())
    assert saved["floor_layout"] is True
    [event] = window.facade.audit_events(action="settings.changed")
    assert event.after == {"floor_layout": "True"}

    window.floor.action.trigger()  # off again: the normal sizes come back
    qtbot.wait(50)
    assert window.styleSheet() == "" and not window.isFullScreen()
    assert _px(station.banner) == normal["banner"] and _px(station.reason) == normal["reason"]
    assert station.start_button.minimumHeight() == 52
    qtbot.waitUntil(lambda: yaml.safe_load(default_config_file().read_text())["floor_layout"] is False,
                    timeout=30_000)
    assert Settings.load({"data_dir": tmp_path / "data"}).floor_layout is False


def test_a_station_set_to_the_floor_layout_starts_in_it(qtbot, tmp_path):
    from ui.floor import FLOOR_STYLE

    w = _window(qtbot, tmp_path / "data", TeachableBackend(), floor_layout=True)
    try:
        assert w.floor.on and w.floor.action.isChecked() and w.styleSheet() == FLOOR_STYLE
        qtbot.waitUntil(w.isFullScreen, timeout=10_000)
        assert _px(w.station.banner) >= 120
    finally:
        _close(qtbot, w)

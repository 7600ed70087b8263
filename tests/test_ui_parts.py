"""The station's parts box (issue 11): the trigger mode is chosen where the source is, the Trigger
button [F8] inspects the newest camera frame as one part with the typed part id, the part id is
shown next to the verdict, the part-detection spin boxes tune the running line while the live view
shows it, and the review queue filters by part id.

Fast: the real facade and store with the scratch backend; the camera is OpenCV on a looping video."""

from __future__ import annotations

import os

import cv2
import pytest
from parts_support import write_belt_video
from zone_support import ScratchBackend, part_image, write_order

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]


@pytest.fixture
def station(qtbot, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import make_app
    from ui.station import StationView
    from ui.workers import TaskRunner

    make_app()
    facade = Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", read_codes=False,
                                hold_flagged=False), backend=ScratchBackend())
    tasks = TaskRunner()
    view = StationView(facade, tasks)  # not qtbot.addWidget: qtbot would close it before the line stops
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.work_order_changed, timeout=30_000):
        view.load_order_file(write_order(tmp_path))
    yield view
    if view.is_running():
        view.stop()
        qtbot.waitUntil(lambda: not view.is_running(), timeout=60_000)
    _close(qtbot, view, tasks)
    facade.close()


def _close(qtbot, widget, tasks) -> None:
    """Every task finished and its signals delivered, the widget closed: nothing of this test
    runs later (a task or pool collected while it runs would crash the process)."""
    tasks.close()
    assert tasks.wait(60_000)
    qtbot.wait(50)  # the finished signals
    widget.close()
    widget.deleteLater()
    qtbot.wait(50)


def _video(tmp_path, n=2):
    return write_belt_video(tmp_path / "cam.avi", [cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)] * n)


def test_trigger_button_inspects_one_part_with_the_typed_id_shown_beside_the_verdict(qtbot, station, tmp_path):
    station.trigger_mode.setCurrentIndex(station.trigger_mode.findData("software"))
    assert station.facade.settings.trigger_mode == "software" and not station.part_motion.isEnabled()
    station.set_source(f"camera:{_video(tmp_path)}")
    assert station.start()
    qtbot.waitUntil(lambda: station.live.shown >= 1, timeout=30_000)  # live view runs, no part yet
    assert station.shown_ids == []
    station.trigger_id.setText("SN-UI-7")
    qtbot.mouseClick(station.trigger_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(station.shown_ids) == 1, timeout=30_000)
    insp = station.facade.get(station.shown_ids[0])
    assert insp.part_id == "SN-UI-7"
    assert "SN-UI-7" in station.banner.text() and station.banner.kind == insp.verdict.kind.value
    assert station.reason.text().startswith("SN-UI-7")
    qtbot.keyClick(station, Qt.Key.Key_F8)  # the key: a second part, its id generated
    qtbot.waitUntil(lambda: len(station.shown_ids) == 2, timeout=30_000)
    assert station.facade.get(station.shown_ids[1]).part_id == "WO-7001-L-1-000001"


def test_detection_spin_boxes_tune_the_running_line(qtbot, station, tmp_path):
    station.trigger_mode.setCurrentIndex(station.trigger_mode.findData("free-run"))
    station.set_source(f"camera:{_video(tmp_path, 3)}")
    assert station.start()
    qtbot.waitUntil(lambda: station.facade.detection_readout() is not None, timeout=30_000)
    qtbot.waitUntil(lambda: "motion" in station.parts_group.title(), timeout=30_000)  # the readout
    station.part_settle.setValue(4)
    station.part_presence.setValue(12.0)
    assert station.facade.settings.part_settle_frames == 4 and station.facade.settings.part_presence == 0.12
    running = station.facade.__dict__["_detector"].settings  # the detector of the running line
    assert running.settle_frames == 4 and running.presence == pytest.approx(0.12)
    qtbot.waitUntil(lambda: len(station.shown_ids) >= 1, timeout=60_000)  # parts, one per part


def test_the_review_queue_filters_by_part_id(qtbot, tmp_path):
    from inspector.domain import Frame, utcnow
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.app import make_app
    from ui.review import COLUMNS, ReviewView
    from ui.workers import TaskRunner

    make_app()
    with Inspector(Settings(data_dir=tmp_path / "data", device="cpu", explain="off", read_codes=False),
                   backend=ScratchBackend()) as facade:
        wo = facade.load_work_order(write_order(tmp_path))
        for pid in ("SN-1", "SN-2", "OTHER-3"):
            facade.inspect_frame(Frame(image=part_image(), source="t", name=f"{pid}.png", part_id=pid,
                                       captured_at=utcnow()), wo)
        tasks = TaskRunner()
        review = ReviewView(facade, tasks)
        review.f_verdict.setCurrentText("all")
        review.f_part.setText("SN-")
        with qtbot.waitSignal(review.loaded, timeout=30_000) as loaded:
            qtbot.keyClick(review.f_part, Qt.Key.Key_Return)
        assert loaded.args == [2]
        col = COLUMNS.index("part id")
        assert sorted(review.table.item(r, col).text() for r in range(2)) == ["SN-1", "SN-2"]
        _close(qtbot, review, tasks)

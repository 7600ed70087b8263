"""The station's NG/REVIEW hold (issue 13, point 3): a flagged part stays on the banner until the
operator acknowledges it (F6 or the button), every flagged part raises the alarm signal, and the
strip of the last parts shows each verdict and brings a part back on the banner when clicked.

Fast: a fake facade and synthetic inspections fed to the station's part slot (no model, no store).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]


class FakeFacade:
    def __init__(self, settings):
        self.settings = settings
        self.listeners = []

    def add_explanation_listener(self, fn) -> None:
        self.listeners.append(fn)


def part(n: int, kind: str):
    from inspector.domain import Inspection, ModelInfo, Verdict, VerdictKind
    from ui.runner import ShownPart

    now = datetime.now(UTC)
    verdict = Verdict(VerdictKind(kind), reasons=(f"reason of part {n}",))
    insp = Inspection(id=f"id{n:04d}", order_id="WO-1", part_number="P", lot="L1", image_sha256="0" * 64,
                      source="test", frame_name=f"part{n:02d}.png", station="s1", captured_at=now,
                      inspected_at=now, model=ModelInfo("fake", "0", "0"), thresholds={}, image_score=0.1,
                      findings=[], verdict=verdict)
    image = QImage(8, 8, QImage.Format.Format_RGB888)
    return ShownPart(result=SimpleNamespace(inspection=insp), overlay=image)


@pytest.fixture
def station(qtbot, tmp_path):
    from inspector.settings import Settings
    from ui.app import make_app
    from ui.station import StationView
    from ui.workers import TaskRunner

    def make(**kw):
        make_app()
        view = StationView(FakeFacade(Settings(data_dir=tmp_path / "data", device="cpu", **kw)), TaskRunner())
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        view.activateWindow()
        qtbot.waitUntil(view.isActiveWindow)
        return view

    return make


def test_ng_is_held_until_acknowledged_and_raises_the_alarm(qtbot, station):
    view = station()
    alarms = []
    view.alarm.connect(lambda i, k: alarms.append((i, k)))
    view.on_part(part(1, "OK"))
    assert view.banner.kind == "OK" and view.hold_bar.isHidden()
    view.on_part(part(2, "NG"))
    view.on_part(part(3, "OK"))
    view.on_part(part(4, "REVIEW"))
    view.on_part(part(5, "OK"))
    # the NG is still on the banner, three parts later, with the REVIEW waiting behind it
    assert view.banner.kind == "NG" and "part02.png" in view.reason.text()
    assert not view.hold_bar.isHidden()
    assert "NG held" in view.hold_bar.label.text() and "1 more flagged part waiting" in view.hold_bar.label.text()
    assert alarms == [("id0002", "NG"), ("id0004", "REVIEW")]
    assert view.counters.counts == {"inspected": 5, "OK": 3, "NG": 1, "REVIEW": 1}
    view.stop_button.setFocus()  # where the focus is while the line runs
    qtbot.keyClick(view.stop_button, Qt.Key.Key_F6)
    assert view.banner.kind == "REVIEW" and "part04.png" in view.reason.text()
    qtbot.mouseClick(view.hold_bar.button, Qt.MouseButton.LeftButton)
    assert view.hold_bar.isHidden()
    assert view.banner.kind == "OK" and "part05.png" in view.reason.text()  # back to the latest part
    view.on_part(part(6, "OK"))
    assert "part06.png" in view.reason.text()


def test_without_hold_the_banner_follows_the_line_but_the_alarm_still_fires(station):
    view = station(hold_flagged=False)
    alarms = []
    view.alarm.connect(lambda i, k: alarms.append(k))
    view.on_part(part(1, "NG"))
    view.on_part(part(2, "OK"))
    assert view.banner.kind == "OK" and view.hold_bar.isHidden() and alarms == ["NG"]


def test_strip_shows_the_last_parts_and_a_click_shows_that_part(qtbot, station):
    from ui.station_hold import STRIP_SIZE

    view = station(hold_flagged=False)
    kinds = ["OK", "NG", "OK", "REVIEW"] * 4
    for n, kind in enumerate(kinds, start=1):
        view.on_part(part(n, kind))
    assert view.strip.kinds() == list(reversed(kinds))[:STRIP_SIZE]
    assert view.strip.ids()[0] == "id0016"
    ng = view.strip.buttons[view.strip.ids().index("id0014")]
    assert ng.text() == "NG" and "part14.png" in ng.toolTip()
    qtbot.mouseClick(ng, Qt.MouseButton.LeftButton)
    assert view.banner.kind == "NG" and "part14.png" in view.reason.text()
    # an explanation that arrives for a part in the strip is shown with it
    from inspector.domain import Explanation

    view.on_explained("id0014", Explanation(text="a scratch across the face", fallback=False))
    assert "a scratch across the face" in view.explanation.text()
    assert set(view.recent) == set(view.strip.ids())


def test_hold_and_floor_layout_are_settings(monkeypatch, tmp_path, qtbot):
    from inspector.settings import Settings
    from ui.app import make_app
    from ui.settings_dialog import SettingsDialog

    monkeypatch.setenv("INSPECTOR_HOLD_FLAGGED", "false")
    monkeypatch.setenv("INSPECTOR_FLOOR_LAYOUT", "true")
    loaded = Settings.load({"data_dir": tmp_path / "data"})
    assert loaded.hold_flagged is False and loaded.floor_layout is True
    make_app()
    dlg = SettingsDialog(Settings(data_dir=tmp_path / "data"))
    qtbot.addWidget(dlg)
    assert dlg.hold.isChecked() and not dlg.floor.isChecked()
    dlg.hold.setChecked(False)
    dlg.floor.setChecked(True)
    dlg.accept()
    chosen = dlg.result_settings()
    assert chosen.hold_flagged is False and chosen.floor_layout is True

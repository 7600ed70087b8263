"""The app's station shows "storage degraded, N parts spooled" while the database is locked, and
"storage back" once the spool drained; the app start drains what an earlier run left (issue 12,
point 1). A real fault (SQLite locked by another connection), the real window, a fake model."""

from __future__ import annotations

import os

import pytest
from fault_support import frame, sqlite_locked, station

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.usefixtures("qt_config")]


def _window(qtbot, facade):
    from ui.app import MainWindow, make_app

    make_app()
    w = MainWindow(facade)  # closes the facade when it closes
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _close(qtbot, window) -> None:
    """Close and wait until the window's shutdown thread is done (before Qt may delete it)."""
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60000)


def test_station_badge_shows_degraded_storage_and_its_recovery(qtbot, tmp_path):
    facade, wo = station(tmp_path / "data", tmp_path)
    window = _window(qtbot, facade)
    badge = window.station.storage_badge
    assert not badge.isVisible()
    with sqlite_locked(tmp_path / "data" / "inspector.db"):
        for i in range(3):
            assert facade.inspect_frame(frame(i), wo).spooled
        qtbot.waitUntil(lambda: badge.isVisible() and badge.text().startswith("storage degraded, 3 parts spooled"),
                        timeout=5000)
        assert "database is locked" in badge.text()
        assert "storage degraded, 1 part spooled" in " ".join(window.station.status_log.messages)
    qtbot.waitUntil(lambda: not badge.isVisible(), timeout=30000)  # the retry thread drained the spool
    assert any(m.startswith("storage back: 3 spooled records stored") for m in window.station.status_log.messages)
    assert window.status_label.text().startswith("storage back")
    _close(qtbot, window)


def test_the_app_start_drains_what_an_earlier_run_left(qtbot, tmp_path):
    first, wo = station(tmp_path / "data", tmp_path)
    with sqlite_locked(tmp_path / "data" / "inspector.db"):
        ids = [first.inspect_frame(frame(i), wo).inspection.id for i in range(2)]
        first.close()
    facade, _ = station(tmp_path / "data", tmp_path)
    window = _window(qtbot, facade)
    qtbot.waitUntil(lambda: any(m.startswith("storage back: 2") for m in window.station.status_log.messages),
                    timeout=30000)
    assert {i.id for i in facade.query(limit=None)} == set(ids)
    _close(qtbot, window)

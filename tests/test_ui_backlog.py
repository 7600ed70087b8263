"""Quitting with queued explanations (issue 13, point 7): the window shows how many are left and
offers "Finish later"; the queue is kept and the next start writes them. Fast: fake backend."""

from __future__ import annotations

import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from test_facade_backlog import GatedBackend, _run_flagged  # noqa: E402

pytestmark = [pytest.mark.usefixtures("qt_config")]


def _window(qtbot, facade):
    from ui.app import MainWindow, make_app

    make_app()
    w = MainWindow(facade)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_quit_shows_the_backlog_and_finish_later_keeps_it_for_the_next_start(qtbot, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", device="cpu", explain="async")
    gate = threading.Event()
    facade = Inspector(settings, backend=GatedBackend(gate))
    window = _window(qtbot, facade)
    ids = _run_flagged(facade, tmp_path, 4)
    window.close()
    assert window.isVisible()  # waiting for the explanations, not frozen
    qtbot.waitUntil(lambda: window.finish_later.isVisible(), timeout=5000)
    assert "writing 4 queued explanations" in window.status_label.text()
    assert "keep 4" in window.finish_later.text()
    qtbot.mouseClick(window.finish_later, Qt.MouseButton.LeftButton)
    assert "3 explanations kept for the next start" in window.status_label.text()
    gate.set()  # the one being written finishes
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert facade.get(ids[0]).explanation is not None
    assert all(facade.get(i).explanation is None for i in ids[1:])

    again = Inspector(settings, backend=GatedBackend(threading.Event()))
    again.backend.gate.set()
    second = _window(qtbot, again)
    qtbot.waitUntil(lambda: "3 explanations deferred" in second.status_label.text(), timeout=10_000)
    assert again.wait_explanations(30)
    assert all(again.get(i).explanation is not None for i in ids)
    assert again.deferred_explanations() == []
    second.close()
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=30_000)

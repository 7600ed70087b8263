"""The main window (operator station, teach mode, review queue, reports) and the app entry point.

Keys (whole window): F1 station, F2 teach, F3 review queue, F4 reports, Ctrl+I sign in/out,
Ctrl+, settings, Ctrl+Q quit. Closing the window while the line runs stops the source, lets the part in
progress be stored and the queued explanations be written (their count shown; "Finish later" keeps
them for the next start, which resumes them), then closes; nothing is lost.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QPushButton, QTabWidget

from inspector.settings import Settings
from ui.floor import FloorLayout
from ui.workers import Task, TaskRunner

log = logging.getLogger(__name__)

APP_ORG = "Inspector"
APP_NAME = "Inspector Station"
TABS = (("Station", "F1"), ("Teach", "F2"), ("Review queue", "F3"), ("Reports", "F4"))


class MainWindow(QMainWindow):
    """Tabs over one facade. ``own_facade``: close the facade with the window (the app does)."""

    shutdown_done = Signal()

    def __init__(self, facade, parent=None, *, own_facade: bool = True):
        super().__init__(parent)
        from ui.reports import ReportsView
        from ui.review import ReviewView
        from ui.station import StationView
        from ui.teach import TeachView

        self.facade = facade
        self.own_facade = own_facade
        self.tasks = TaskRunner(self)
        self.setWindowTitle(f"{APP_NAME} — {facade.settings.station}")
        self.tabs = QTabWidget()
        f = self.tabs.font()
        f.setPointSize(f.pointSize() + 2)
        self.tabs.setFont(f)
        self.station = StationView(facade, self.tasks)
        self.teach = TeachView(facade, self.tasks)
        self.review = ReviewView(facade, self.tasks)
        self.reports = ReportsView(facade, self.tasks)
        for view, (title, key) in zip((self.station, self.teach, self.review, self.reports), TABS, strict=True):
            self.tabs.addTab(view, f"{title}  [{key}]")
        self.setCentralWidget(self.tabs)
        from ui.signin import SignInBar

        self.signin = SignInBar(facade, self.tasks)
        self.tabs.setCornerWidget(self.signin)
        self.signin.user_changed.connect(self.review.set_user)
        self.station.work_order_changed.connect(self.teach.set_work_order)
        self.station.work_order_changed.connect(self.review.set_work_order)
        self.station.work_order_changed.connect(self.reports.set_work_order)
        self.station.run_finished.connect(self.review.refresh)
        self.station.guide.teach_requested.connect(self.show_teach)  # the next step: teach (ui/station_guide.py)
        self.teach.taught.connect(self.station.on_part_taught)
        self.tabs.currentChanged.connect(self._tab_changed)
        for view in (self.station, self.teach, self.review, self.reports, self.signin):
            view.status.connect(self.show_status)
        self.status_label = QLabel("ready")
        self.statusBar().addPermanentWidget(self.status_label, 1)
        self.finish_later = QPushButton("Finish later")
        self.finish_later.setToolTip("keep the queued explanations and write them at the next start")
        self.finish_later.clicked.connect(self.defer_explanations)
        self.finish_later.hide()
        self.statusBar().addPermanentWidget(self.finish_later)
        self._backlog_timer = QTimer(self)
        self._backlog_timer.setInterval(250)
        self._backlog_timer.timeout.connect(self._show_backlog)
        self.shutdown_done.connect(self._shutdown_finished)
        self._closing = False
        self._may_close = False
        self._build_menu()
        self._restore_layout()
        self.floor.apply(facade.settings.floor_layout)  # ui/floor.py; full screen from the first show
        self._resume_explanations()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Station")
        for i, (title, key) in enumerate(TABS):
            act = QAction(title, self)
            act.setShortcut(QKeySequence(key))
            act.setData(i)
            act.triggered.connect(self._goto_tab)
            menu.addAction(act)
        menu.addSeparator()
        sign = QAction("Sign in / out", self)
        sign.setShortcut(QKeySequence("Ctrl+I"))
        sign.triggered.connect(self.signin.toggle)
        menu.addAction(sign)
        settings = QAction("Settings…", self)
        settings.setShortcut(QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        menu.addAction(settings)
        self.floor = FloorLayout(self, self.menuBar().addMenu("&View"))
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)

    @Slot()
    def _goto_tab(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.tabs.setCurrentIndex(int(action.data()))

    @Slot(str)
    def show_teach(self, part: str) -> None:
        self.tabs.setCurrentWidget(self.teach)
        self.show_status(f"teach {part}: add good images (files or a folder), then Teach [Ctrl+T]")

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.review:
            self.review.refresh()
        self.tabs.currentWidget().setFocus()

    @Slot()
    def open_settings(self) -> None:
        from ui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.floor.current(), self)  # as last saved from this window
        if dlg.exec():
            try:
                path = self.facade.save_settings(dlg.result_settings())
            except Exception as exc:  # PermissionDenied, OSError: shown, the station goes on
                self.show_status(f"settings not saved: {exc}")
                return
            self.floor.saved_now(dlg.result_settings())  # the floor layout applies at once
            self.show_status(f"settings saved to {path}; the layout applies now, the rest at the next start")

    @Slot(str)
    def show_status(self, message: str) -> None:
        self.status_label.setText(message)

    # --- layout persistence (QSettings; tests point it at a temporary folder) -------------------

    def _restore_layout(self) -> None:
        qs = QSettings(APP_ORG, APP_NAME)
        geom = qs.value("window/geometry")
        if geom is None or not self.restoreGeometry(geom):
            self.resize(1500, 920)
        state = qs.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(qs.value("window/tab", 0) or 0))
        self.review.restore_layout(qs)

    def save_layout(self) -> None:
        qs = QSettings(APP_ORG, APP_NAME)
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.setValue("window/tab", self.tabs.currentIndex())
        self.review.save_layout(qs)
        qs.sync()

    # --- clean shutdown -------------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Stop the line and wait (off the GUI thread) until the part in progress and the queued
        explanations are stored; the window closes when that is done."""
        if self._may_close:
            event.accept()
            return
        event.ignore()
        if self._closing:
            return
        self._closing = True
        self.save_layout()
        self.station.stop()
        self.tasks.close()
        self.centralWidget().setEnabled(False)
        self.show_status("closing: finishing the part in progress and the queued explanations…")
        self._backlog_timer.start()
        self._show_backlog()
        threading.Thread(target=self._shutdown_body, name="inspector-shutdown", daemon=True).start()

    @Slot()
    def _show_backlog(self) -> None:
        """While closing: how many explanations are left, and the way out."""
        left = self.facade.explanations_queued()
        self.finish_later.setVisible(left > 0)
        if left:
            self.finish_later.setText(f"Finish later (keep {left} for the next start)")
            self.show_status(f"closing: writing {left} queued explanation{'s' if left != 1 else ''}…")

    @Slot()
    def defer_explanations(self) -> int:
        """'Finish later': the queued explanations are saved for the next start; the window closes."""
        kept = self.facade.defer_explanations()
        self.finish_later.hide()
        self.show_status(f"closing: {kept} explanations kept for the next start")
        return kept

    def _resume_explanations(self) -> None:
        facade = self.facade

        def resume(task: Task) -> int:
            facade.resume_spool()  # parts an earlier run spooled drain in the background (docs/reliability.md)
            return facade.resume_explanations()

        task = Task(resume, "resume explanations")
        task.signals.result.connect(self._resumed)
        task.signals.error.connect(self.show_status)
        self.tasks.start("resume", task)

    @Slot(object)
    def _resumed(self, count: int) -> None:
        if count:
            self.show_status(f"writing {count} explanations deferred at the last shutdown")

    def _shutdown_body(self) -> None:  # shutdown thread: blocking waits, never touches widgets
        try:
            self.station.runner.wait(120)
            self.tasks.wait(120_000)
            if self.own_facade:
                self.facade.close()
            else:
                self.facade.wait_explanations(timeout=600)
        except Exception:
            log.exception("shutdown")
        finally:
            self.shutdown_done.emit()

    @Slot()
    def _shutdown_finished(self) -> None:
        self._backlog_timer.stop()
        self._may_close = True
        self.close()

    def is_closing(self) -> bool:
        return self._closing


def make_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(APP_ORG)
    app.setApplicationName(APP_NAME)
    return app


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), None elsewhere."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def main(settings: Settings, *, order_file: Path | None = None, source: str | None = None,
         teach_folder: Path | None = None, autostart: bool = False, quit_after_run: bool = False,
         screenshot: str | None = None, facade=None) -> int:
    """Open the station window and run the event loop; returns the exit code.

    ``order_file``/``source`` preselect the job; with ``teach_folder`` an untaught part is
    taught first; ``autostart`` starts the line once the order is loaded; ``screenshot``
    saves the window (and ``<name>-review.<ext>``, the review queue; ``<name>-teach.<ext>``
    when it taught) after the run;
    ``quit_after_run`` closes the window when the source is finished. ``facade``: an Inspector
    to use (e.g. the CLI's, signed in with ``--sign-in``); by default one on ``settings``.
    """
    from inspector.pipeline import Inspector
    from ui.autopilot import Autopilot

    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        print("error: no display (DISPLAY is not set): run the app on the station's desktop, or use "
              "`inspector demo --headless` / `inspector inspect` without a window", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    app = make_app()
    facade = facade if facade is not None else Inspector(settings)
    window = MainWindow(facade)
    window.show()
    app.processEvents()
    age = process_age_s()
    print(f"window shown after {time.perf_counter() - t0:.2f} s"
          + (f" ({age:.2f} s after process start)" if age is not None else ""), flush=True)
    if source:
        window.station.set_source(source)
    pilot = Autopilot(window, order_file=order_file, teach_folder=teach_folder,
                      autostart=autostart and bool(source), quit_after_run=quit_after_run, screenshot=screenshot)
    pilot.begin()
    _close_on_signals(window)
    code = app.exec()
    facade.close()
    return code or pilot.exit_code


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl+C / SIGTERM close the window the clean way (the line stops, nothing is lost)."""
    import signal

    from PySide6.QtCore import QTimer

    def handler(signum, _frame) -> None:  # runs in the GUI thread, between events
        print(f"signal {signum}: closing", flush=True)
        window.close()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    wake = QTimer(window)  # lets Python run its signal handlers while Qt waits for events
    wake.timeout.connect(_noop)
    wake.start(250)


def _noop() -> None:
    pass


if __name__ == "__main__":
    sys.exit(main(Settings.load()))

"""Start-up automation for ``inspector app --order … --source … --autostart`` and the demo:
load the order, teach an untaught part, start the line; after the run take screenshots and
quit when asked. Everything arrives through signals to the slots of this GUI-thread object.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot

from inspector.pipeline import IMAGE_SUFFIXES
from ui.workers import Task

log = logging.getLogger(__name__)


class Autopilot(QObject):
    def __init__(self, window, *, order_file: Path | None, teach_folder: Path | None, autostart: bool,
                 quit_after_run: bool, screenshot: str | None):
        super().__init__(window)
        self.window = window
        self.order_file, self.teach_folder = order_file, teach_folder
        self.autostart, self.quit_after_run, self.screenshot = autostart, quit_after_run, screenshot
        self.exit_code = 0
        self._review_waiting = False

    def begin(self) -> None:
        if self.quit_after_run or self.screenshot:
            self.window.station.run_finished.connect(self.on_run_finished)
        if self.order_file is None:
            if self.quit_after_run:
                QTimer.singleShot(0, self.window.close)
            return
        facade, order_file, teach_folder = self.window.facade, self.order_file, self.teach_folder

        def prepare(task: Task):
            wo = facade.load_work_order(order_file)
            taught = None
            if teach_folder is not None and not facade.backend.is_taught(wo.part_number):
                task.signals.progress.emit(0, 0, f"teaching {wo.part_number} from {teach_folder}")
                files = sorted(p for p in Path(teach_folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                taught = facade.teach(wo.part_number, files, progress=task.progress, work_order=wo)
            return wo, taught

        task = Task(prepare, "prepare")
        task.signals.progress.connect(self.on_progress)
        task.signals.result.connect(self.on_ready)
        task.signals.error.connect(self.on_failed)
        self.window.show_status(f"loading {order_file}…")
        self.window.tasks.start("prepare", task)

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, message: str) -> None:
        self.window.show_status(f"{message} {done}/{total}" if total else message)

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self.window.station.show_error(message)
        self.exit_code = 1
        if self.quit_after_run:
            self.finish()

    @Slot(object)
    def on_ready(self, payload) -> None:
        wo, taught = payload
        self.window.station.set_work_order(wo)
        if taught is not None:
            self.window.teach.add_good([Path(self.teach_folder)])
            self.window.teach.on_taught(taught)
        if self.autostart:
            if not self.window.station.start():
                self.on_failed("the line could not start")
        elif self.quit_after_run:
            self.finish()

    @Slot(object)
    def on_run_finished(self, summary) -> None:
        if summary is None:
            self.exit_code = 1
        if not self.screenshot:
            self.finish()
            return
        facade = self.window.facade
        task = Task(lambda t: facade.wait_explanations(timeout=900), "explanations")
        task.signals.finished.connect(self.take_station_shot)
        self.window.show_status("waiting for the explanations of flagged parts…")
        self.window.tasks.start("wait-explanations", task)

    @Slot()
    def take_station_shot(self) -> None:
        # let the queued explanation signals reach the station before grabbing it
        QTimer.singleShot(300, self._station_shot)

    @Slot()
    def _station_shot(self) -> None:
        w = self.window
        w.tabs.setCurrentWidget(w.station)
        w.repaint()
        path = Path(self.screenshot)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not w.grab().save(str(path)):
            log.error("cannot save screenshot %s", path)
            self.exit_code = 1
        print(f"screenshot: {path}", flush=True)
        if w.teach.last_result is not None:  # taught at start: the histogram is worth a picture
            w.tabs.setCurrentWidget(w.teach)
            w.repaint()
            teach_shot = path.with_name(path.stem + "-teach" + path.suffix)
            w.grab().save(str(teach_shot))
            print(f"screenshot: {teach_shot}", flush=True)
        self._review_waiting = True
        w.review.detail_shown.connect(self.take_review_shot)
        w.review.loaded.connect(self.on_review_loaded)
        w.tabs.setCurrentWidget(w.review)  # refreshes the queue

    @Slot(int)
    def on_review_loaded(self, rows: int) -> None:
        review = self.window.review
        current = review.current()
        if rows == 0 or (current is not None and review.detail.shown_id == current.id):
            self.take_review_shot()  # otherwise detail_shown follows

    @Slot()
    def take_review_shot(self) -> None:
        if not self._review_waiting:
            return
        self._review_waiting = False
        QTimer.singleShot(300, self._review_shot)

    @Slot()
    def _review_shot(self) -> None:
        p = Path(self.screenshot)
        out = p.with_name(p.stem + "-review" + p.suffix)
        self.window.repaint()
        self.window.grab().save(str(out))
        print(f"screenshot: {out}", flush=True)
        self.finish(delay_ms=1500)  # keeps the window up a moment (an X screenshot can be taken)

    def finish(self, delay_ms: int = 0) -> None:
        if self.quit_after_run:
            QTimer.singleShot(delay_ms, self.window.close)

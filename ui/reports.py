"""Reports and exports from the app: PDF for a work order (or one lot), CSV/XLSX/JSON data.

Both run on a worker with a progress bar and a Cancel button; the file name is proposed in
``<data dir>/reports`` and may be changed. "Re-judge lot..." opens the re-judge dialog
(``ui.rejudge``): the lot's stored images against a new order revision, before/after, then apply.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ui.panels import big_button
from ui.workers import Task, TaskRunner


class ReportsView(QWidget):
    status = Signal(str)
    done = Signal(object)  # ReportInfo or ExportInfo

    def __init__(self, facade, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.last_result = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.order = QLineEdit()
        self.order.setPlaceholderText("work order id, e.g. WO-1001 (empty: all, for exports)")
        self.lot = QLineEdit()
        self.lot.setPlaceholderText("all lots")
        self.fmt = QComboBox()
        self.fmt.addItems(["xlsx", "csv", "json"])
        form.addRow("Work order", self.order)
        form.addRow("Lot", self.lot)
        form.addRow("Data format", self.fmt)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.pdf_button = big_button("PDF report…")
        self.export_button = big_button("Export data…")
        self.rejudge_button = big_button("Re-judge lot…")
        self.cancel_button = big_button("Cancel")
        self.cancel_button.setEnabled(False)
        for b in (self.pdf_button, self.export_button, self.rejudge_button, self.cancel_button):
            row.addWidget(b)
        self.rejudge_button.clicked.connect(self.open_rejudge)
        self.rejudge = None  # the open RejudgeDialog, if any
        self.pdf_button.clicked.connect(self.make_pdf)
        self.export_button.clicked.connect(self.make_export)
        self.cancel_button.clicked.connect(self.cancel)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.progress)
        lay.addWidget(self.result)
        lay.addStretch(1)
        self._slot = ""

    @Slot(object)
    def set_work_order(self, wo) -> None:
        self.order.setText(wo.order_id)
        self.lot.setText(wo.lot)

    @Slot()
    def open_rejudge(self):
        """The re-judge dialog for the order (and lot) in the fields (shown, not blocking)."""
        from ui.rejudge import RejudgeDialog

        order = self.order.text().strip()
        if not order:
            self.result.setText("give a work order id to re-judge its stored parts")
            return None
        self.rejudge = RejudgeDialog(self.facade, self.tasks, order, self.lot.text().strip() or None, self)
        self.rejudge.applied.connect(self.on_rejudged)
        self.rejudge.open()
        return self.rejudge

    @Slot(object)
    def on_rejudged(self, result) -> None:
        self.status.emit(f"re-judged: {len(result.written)} new records (work order version "
                         f"{result.work_order_version})")

    def _folder(self) -> Path:
        folder = Path(self.facade.settings.data_dir) / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @Slot()
    def make_pdf(self) -> None:
        order = self.order.text().strip()
        if not order:
            self.result.setText("give a work order id for the PDF report")
            return
        lot = self.lot.text().strip()
        name = f"{order}{'_' + lot if lot else ''}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Save report", str(self._folder() / name), "PDF (*.pdf)")
        if path:
            self.run_pdf(order, Path(path))

    def run_pdf(self, order: str, path: Path) -> Task:
        lot, facade = self.lot.text().strip() or None, self.facade
        task = Task(lambda t: facade.report(order, path, lot=lot, progress=t.progress), f"PDF report {order}")
        return self._start(task, "report")

    @Slot()
    def make_export(self) -> None:
        order = self.order.text().strip() or None
        fmt = self.fmt.currentText()
        default = self._folder() / f"{order or 'inspections'}.{fmt}"
        path, _ = QFileDialog.getSaveFileName(self, "Export", str(default), f"{fmt.upper()} (*.{fmt})")
        if path:
            self.run_export(order, Path(path), fmt)

    def run_export(self, order: str | None, path: Path, fmt: str) -> Task:
        lot, facade = self.lot.text().strip() or None, self.facade
        task = Task(lambda t: facade.export(path, fmt, order_id=order, lot=lot), f"{fmt} export")
        return self._start(task, "export")

    def _start(self, task: Task, slot: str) -> Task:
        self.progress.setRange(0, 0)
        self.result.setText(f"{task.name} running…")
        self.cancel_button.setEnabled(True)
        self._slot = slot
        task.signals.progress.connect(self.on_progress)
        task.signals.result.connect(self.on_done)
        task.signals.error.connect(self.on_error)
        task.signals.finished.connect(self.on_finished)
        return self.tasks.start(slot, task)

    @Slot()
    def cancel(self) -> None:
        task = self.tasks.running(self._slot) if self._slot else None
        if task is not None:
            task.cancel.set()
            self.result.setText("cancelling…")

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{message}" if message else "%p %")

    @Slot(object)
    def on_done(self, info) -> None:
        self.last_result = info
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done")
        paths = getattr(info, "paths", None) or [getattr(info, "path", "")]
        text = "written: " + ", ".join(str(p) for p in paths)
        if getattr(info, "pages", None):
            text += f" ({info.pages} pages, {info.n_parts} parts, document hash {info.document_hash[:16]})"
        elif getattr(info, "rows", None):
            text += " (" + ", ".join(f"{k} {v}" for k, v in info.rows.items()) + " rows)"
        self.result.setText(text)
        self.status.emit(text)
        self.done.emit(info)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.result.setText(f"failed: {message}")
        self.status.emit(message)

    @Slot()
    def on_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        if self.result.text().startswith("cancelling"):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.result.setText("cancelled")

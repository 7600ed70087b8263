"""Re-judge a lot after a threshold or work-order change: the before/after table, then apply.

Opened from the Reports tab ("Re-judge lot..."). The dry run re-judges the stored images of the
order (and lot) on a worker (``Inspector.rejudge_plan``) and shows, per part, the verdict before
and after with the clause that decided each, plus a summary; nothing is written. "Apply" asks for
confirmation and writes the new records linked to their originals (``Inspector.rejudge_apply``):
it needs the 'reinspect' right (reviewer or admin); a refusal is audited by the facade and shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ui.panels import big_button
from ui.workers import Task, TaskRunner

COLUMNS = ("Part", "Before", "Clause", "After", "Clause", "Status", "Reason (after)", "Disposition")
CHANGED_BG = QColor("#fde2e1")  # rows whose verdict changes stand out
ERROR_BG = QColor("#fff3cd")


class RejudgeDialog(QDialog):
    """The re-judge flow for one order (and lot); see the module docstring."""

    applied = Signal(object)  # the ApplyResult, once written

    def __init__(self, facade, tasks: TaskRunner, order: str, lot: str | None = None, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.plan = None
        self.result = None
        self.setWindowTitle(f"Re-judge {order}{' lot ' + lot if lot else ''}")
        self.resize(1000, 620)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.order = QLineEdit(order)
        self.lot = QLineEdit(lot or "")
        self.lot.setPlaceholderText("all lots")
        self.revision = QLineEdit()
        self.revision.setPlaceholderText("latest stored version; or a version number, or a revision file")
        pick = QPushButton("File…")
        pick.clicked.connect(self.pick_file)
        row = QHBoxLayout()
        row.addWidget(self.revision, 1)
        row.addWidget(pick)
        form.addRow("Work order", self.order)
        form.addRow("Lot", self.lot)
        form.addRow("Judge with", row)
        lay.addLayout(form)
        buttons = QHBoxLayout()
        self.dry_button = big_button("Dry run (show changes)")
        self.apply_button = big_button("Apply…")
        self.apply_button.setEnabled(False)
        self.cancel_button = big_button("Cancel")
        self.cancel_button.setEnabled(False)
        for b in (self.dry_button, self.apply_button, self.cancel_button):
            buttons.addWidget(b)
        self.dry_button.clicked.connect(self.dry_run)
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button.clicked.connect(self.cancel)
        lay.addLayout(buttons)
        self.progress = QProgressBar()
        lay.addWidget(self.progress)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        self.summary = QLabel("Dry run first: nothing is written until you apply.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self._task: Task | None = None

    # --- dry run ------------------------------------------------------------------------

    @Slot()
    def pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Work order revision", "", "Work orders (*.txt *.json *.yaml *.yml)")
        if path:
            self.revision.setText(path)

    @Slot()
    def dry_run(self) -> Task | None:
        order = self.order.text().strip()
        if not order:
            self.summary.setText("give the work order whose parts are re-judged")
            return None
        lot, given, facade = self.lot.text().strip() or None, self.revision.text().strip() or None, self.facade
        self.plan = None
        self.apply_button.setEnabled(False)
        task = Task(lambda t: facade.rejudge_plan(order, lot=lot, work_order=given, progress=t.progress,
                                                  cancel=t.cancel.is_set), f"re-judge {order}")
        task.signals.result.connect(self.show_plan)
        return self._start(task, "re-judging the stored images…")

    @Slot(object)
    def show_plan(self, plan) -> None:
        self.plan = plan
        self.table.setRowCount(len(plan.rows))
        for i, r in enumerate(plan.rows):
            reason = r.error if r.status == "error" else r.new_reason
            values = (r.frame_name or r.part_id or r.original_id[:12], r.old.value, r.old_clause or "–",
                      r.new.value if r.new else "–", r.new_clause or "–", r.status, reason, r.disposition)
            for j, v in enumerate(values):
                item = QTableWidgetItem(str(v))
                if r.status == "changed":
                    item.setBackground(CHANGED_BG)
                elif r.status == "error":
                    item.setBackground(ERROR_BG)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        n = len(plan.to_write)
        self.summary.setText(plan.summary_text() + ("" if n else "\nNothing to write: every part is current."))
        self.apply_button.setEnabled(n > 0)

    # --- apply --------------------------------------------------------------------------

    def confirm_text(self) -> str:
        s = self.plan.summary()
        changes = ", ".join(f"{k}: {v}" for k, v in s["changes"].items()) or "no verdict changes"
        who = getattr(self.facade.user, "username", None) or self.facade.actor
        return (f"Write {s['to_write']} new inspection records ({changes}), each linked to the record it "
                f"re-judges, as {who}? The originals and the audit trail stay as they are.")

    @Slot()
    def apply(self) -> Task | None:
        if self.plan is None or not self.plan.to_write:
            return None
        answer = QMessageBox.question(self, "Apply re-judge", self.confirm_text(),
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            self.summary.setText("not applied: nothing written")
            return None
        plan, facade = self.plan, self.facade
        self.apply_button.setEnabled(False)
        task = Task(lambda t: facade.rejudge_apply(plan, progress=t.progress), "apply re-judge")
        task.signals.result.connect(self.show_applied)
        return self._start(task, "writing the new records…")

    @Slot(object)
    def show_applied(self, result) -> None:
        self.result = result
        self.plan = None
        more = (f"; {len(result.already_rejudged)} parts were re-judged by another run meanwhile (skipped)"
                if result.already_rejudged else "")
        self.summary.setText(f"applied: {len(result.written)} new records linked to their originals "
                             f"(work order version {result.work_order_version}){more}")
        self.applied.emit(result)

    # --- task plumbing ------------------------------------------------------------------

    def _start(self, task: Task, message: str) -> Task:
        self._task = task
        self.progress.setRange(0, 0)
        self.progress.setFormat(message)
        self.dry_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        task.signals.progress.connect(self.on_progress)
        task.signals.error.connect(self.on_error)
        task.signals.finished.connect(self.on_finished)
        return self.tasks.start("rejudge", task)

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.progress.setFormat(message or "%p %")

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.summary.setText(f"failed: {message}")
        self.apply_button.setEnabled(self.plan is not None and bool(self.plan.to_write))

    @Slot()
    def on_finished(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.dry_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    @Slot()
    def cancel(self) -> None:
        if self._task is not None and not self._task.done.is_set():
            self._task.cancel.set()
            self.summary.setText("cancelled: nothing written")

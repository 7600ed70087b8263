"""The review queue: flagged parts, a detail view with the overlay, signed dispositions, all by key.

Keys (not while a combo box or text field has the focus: there they belong to the field):
J/Down next part, K/Up previous, A accept, R reject, W rework (the reason box then takes the
focus: Up/Down choose, Enter goes on to the comment, Enter again opens the sign dialog), O
image/overlay, F5 refresh. The form starts empty for every part; the sign dialog shows exactly
what will be signed, for which part, and asks for the password. Every decision is a new, signed
review record; the machine verdict is never changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import Inspection
from ui.images import shortcut
from ui.keys import guard_inputs
from ui.review_detail import DECISION_KEYS, DetailPanel
from ui.runner import render_part, shrink, to_qimage
from ui.sign_dialog import SignDialog
from ui.workers import Task, TaskRunner

COLUMNS = ("inspected", "order", "lot", "part id", "image", "verdict", "clauses", "types", "review")
DAYS = {"any date": None, "today": 1, "last 7 days": 7, "last 30 days": 30}
# machine verdicts shown; "OK" and "all" let a quality engineer review parts the machine passed
VERDICT_FILTERS: dict[str, list[str] | None] = {"NG + REVIEW": ["NG", "REVIEW"], "NG": ["NG"],
                                                "REVIEW": ["REVIEW"], "OK": ["OK"], "all": None}


class ReviewView(QWidget):
    status = Signal(str)
    loaded = Signal(int)  # rows in the queue after a refresh
    detail_shown = Signal(str)  # inspection id whose detail is on screen
    signed = Signal(object)  # the stored Review

    def __init__(self, facade, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.rows: list[Inspection] = []
        self.reviewed: dict[str, str] = {}
        self.sign_dialog: SignDialog | None = None
        self._build()

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.f_order = QLineEdit()
        self.f_order.setPlaceholderText("work order")
        self.f_lot = QLineEdit()
        self.f_lot.setPlaceholderText("lot")
        self.f_order.setMaximumWidth(220)
        self.f_lot.setMaximumWidth(220)
        self.f_part = QLineEdit()  # a part id, or its beginning
        self.f_part.setPlaceholderText("part id")
        self.f_part.setMaximumWidth(220)
        self.f_verdict = QComboBox()
        self.f_verdict.addItems(list(VERDICT_FILTERS))
        self.f_type = QComboBox()
        self.f_type.setEditable(True)
        self.f_type.addItem("")
        self.f_type.lineEdit().setPlaceholderText("defect type")
        self.f_type.setMinimumWidth(150)
        self.f_days = QComboBox()
        self.f_days.addItems(list(DAYS))
        self.f_open = QCheckBox("unreviewed only")
        self.f_open.setChecked(True)
        refresh = QPushButton("Refresh  [F5]")
        refresh.clicked.connect(self.refresh)
        for w in (self.f_order, self.f_lot, self.f_part, self.f_verdict, self.f_type, self.f_days, self.f_open,
                  refresh):
            filters.addWidget(w)
        filters.addStretch(1)
        self.f_find = QLineEdit()
        self.f_find.setPlaceholderText("any part: part id / inspection id / image name  [Ctrl+F, Enter]")
        self.f_find.setMinimumWidth(260)
        self.f_find.returnPressed.connect(self.find_part)
        filters.addWidget(self.f_find)
        for edit in (self.f_order, self.f_lot, self.f_part):
            edit.returnPressed.connect(self.refresh)
        for combo in (self.f_verdict, self.f_days):
            combo.currentIndexChanged.connect(self.refresh)
        self.f_type.lineEdit().returnPressed.connect(self.refresh)
        self.f_open.toggled.connect(self.refresh)
        lay.addLayout(filters)

        self.split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.split.addWidget(self.table)
        self.detail = DetailPanel()
        self.detail.sign_requested.connect(self.sign)
        self.split.addWidget(self.detail)
        self.split.setSizes([260, 640])
        lay.addWidget(self.split, 1)

        shortcut(self, "F5", self.refresh)
        shortcut(self, "Ctrl+F", self.f_find.setFocus)
        for seq in ("Down", "J"):
            shortcut(self, seq, self.next_part)
        for seq in ("Up", "K"):
            shortcut(self, seq, self.previous_part)
        shortcut(self, "A", self.detail.choose_accept)
        shortcut(self, "R", self.detail.choose_reject)
        shortcut(self, "W", self.detail.choose_rework)
        shortcut(self, "O", self.detail.toggle_overlay)
        self.key_guard = guard_inputs(self)  # one-key shortcuts never fire inside a combo or text field

    # --- layout persistence -------------------------------------------------------------------------

    def save_layout(self, qs: QSettings) -> None:
        qs.setValue("review/split", self.split.saveState())
        qs.setValue("review/header", self.table.horizontalHeader().saveState())

    def restore_layout(self, qs: QSettings) -> None:
        for key, target in (("review/split", self.split), ("review/header", self.table.horizontalHeader())):
            state = qs.value(key)
            if state is not None:
                target.restoreState(state)

    # --- data -----------------------------------------------------------------------------------

    @Slot(object)
    def set_work_order(self, wo) -> None:
        self.f_order.setText(wo.order_id)
        self.f_type.clear()
        self.f_type.addItems(["", *wo.vocabulary])

    @Slot(object)
    def set_user(self, user) -> None:
        """The signed-in user signs by default (the password is still asked for each decision)."""
        if user is not None and not self.detail.user.text().strip():
            self.detail.user.setText(user.username)

    def filters(self) -> dict:
        verdict = self.f_verdict.currentText()
        days = DAYS.get(self.f_days.currentText())
        return {"order_id": self.f_order.text().strip() or None, "lot": self.f_lot.text().strip() or None,
                "part_id": self.f_part.text().strip() or None,
                "verdicts": VERDICT_FILTERS.get(verdict, ["NG", "REVIEW"]),
                "defect_type": self.f_type.currentText().strip() or None,
                "since": datetime.now().astimezone() - timedelta(days=days) if days else None,
                "unreviewed_only": self.f_open.isChecked(), "limit": 1000}

    @Slot()
    def refresh(self, *_args) -> Task:
        filters, facade = self.filters(), self.facade
        return self._load(lambda: facade.query(**filters), "review queue")

    @Slot()
    def find_part(self) -> Task | None:
        """Pull any part (a machine-OK one too) into the queue by id or image name (audited)."""
        text, facade = self.f_find.text().strip(), self.facade
        if not text:
            return None
        order = self.f_order.text().strip() or None
        return self._load(lambda: facade.pull_for_review(text, order_id=order), f"find {text!r}")

    def _load(self, rows_fn, what: str) -> Task:
        facade = self.facade

        def load(task: Task):
            rows = rows_fn()
            codes = facade.reason_codes()
            reviewed = {}
            for r in rows:
                rv = facade.reviews(r.id)
                if rv:
                    reviewed[r.id] = review_cell(facade.final_verdict(r, rv))
            return rows, codes, reviewed, what

        task = Task(load, what)
        task.signals.result.connect(self.on_loaded)
        task.signals.error.connect(self.on_error)
        return self.tasks.start("review-load", task)

    @Slot(object)
    def on_loaded(self, payload) -> None:
        rows, codes, reviewed, what = payload
        keep = self.current().id if self.current() is not None else None
        self.rows, self.reviewed = rows, reviewed
        self.detail.set_reason_codes(codes)
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            types = ", ".join(sorted({f.defect_type for f in r.findings})) or "—"
            values = (f"{r.inspected_at.astimezone():%Y-%m-%d %H:%M:%S}", r.order_id, r.lot, r.part_id, r.frame_name,
                      r.verdict.kind.value, ", ".join(r.verdict.clause_ids), types, reviewed.get(r.id, ""))
            for j, v in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(v))
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        self.status.emit(f"{what}: {len(rows)} parts")
        self.loaded.emit(len(rows))
        if rows:
            ids = [r.id for r in rows]
            self.select_row(ids.index(keep) if keep in ids else 0)
        else:
            self.detail.clear()

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setCurrentCell(row, 0)
        self.show_selected()

    @Slot()
    def next_part(self) -> None:
        self.move(1)

    @Slot()
    def previous_part(self) -> None:
        self.move(-1)

    def move(self, step: int) -> None:
        if self.rows:
            self.select_row(max(0, min(len(self.rows) - 1, self.table.currentRow() + step)))
            self.table.setFocus()

    def current(self) -> Inspection | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    @Slot()
    def show_selected(self) -> None:
        insp = self.current()
        if insp is None or insp.id == self.detail.inspection_id:
            return
        facade = self.facade
        self.detail.inspection_id = insp.id
        self.detail.reset_form()  # nothing typed for one part may be signed for another

        def load(task: Task):
            from inspector.pipeline import PartResult

            full = facade.get(insp.id)  # the latest explanation may have arrived since the query
            try:
                image = facade.image(full)
            except Exception as exc:  # purged by retention, share offline: the record still counts
                task.emit(f"image of {full.frame_name} not available: {exc}")
                image = None
            # the anomaly map is not stored: the overlay shows outlines and sizes, no heat map
            overlay = render_part(PartResult(full, image, None)) if image is not None else None
            try:
                wo = facade.find_work_order(full.order_id)
            except Exception:
                wo = None
            shown = to_qimage(shrink(image)) if image is not None else None
            reviews = facade.reviews(full.id)
            return full, shown, overlay, reviews, wo, facade.final_verdict(full, reviews)

        task = Task(load, "part detail")
        task.signals.item.connect(self.on_error)
        task.signals.result.connect(self.on_detail)
        task.signals.error.connect(self.on_error)
        self.tasks.start("review-detail", task)

    @Slot(object)
    def on_detail(self, payload) -> None:
        insp, image, overlay, reviews, wo, final = payload
        if insp.id != self.detail.inspection_id:
            return  # a newer selection is on its way
        self.detail.show_part(insp, image, overlay, reviews, wo, final)
        self.detail_shown.emit(insp.id)

    # --- deciding --------------------------------------------------------------------------------

    @Slot()
    def sign(self) -> Task | None:
        """Check the form, then ask the core what exactly would be signed (no password yet)."""
        insp, d = self.current(), self.detail
        if insp is None:
            d.set_result("select a part first", error=True)
            return None
        if d.shown_id != insp.id:
            d.set_result("the part's detail is still loading; look at it before you sign", error=True)
            return None
        decision, reason, comment, user = d.form_values()
        if decision is None:
            d.set_result("choose a decision first: A accept, R reject, W rework", error=True)
            return None
        if not reason:
            d.set_result(f"choose a reason code for {decision} (Up/Down in the reason box); "
                         "there is no default reason", error=True)
            d.reason.setFocus()
            return None
        if not user:
            d.set_result("enter your user name to sign", error=True)
            d.user.setFocus()
            return None
        facade, iid = self.facade, insp.id
        task = Task(lambda t: facade.review_preview(iid, decision, reason, comment, username=user), "sign preview")
        task.signals.result.connect(self.on_preview)
        task.signals.error.connect(self.on_sign_error)
        d.set_result("checking what will be signed…")
        return self.tasks.start("review-sign", task)

    @Slot(object)
    def on_preview(self, preview) -> None:
        """Show exactly what will be signed, for which part; the password is asked for there."""
        insp = self.current()
        if insp is None or insp.id != preview.inspection_id:
            self.detail.set_result("the selected part changed; nothing signed", error=True)
            return
        self.detail.set_result("")
        if self.sign_dialog is not None:
            self.sign_dialog.deleteLater()  # one dialog at a time; the old one is done
        self.sign_dialog = SignDialog(preview, self)
        self.sign_dialog.confirmed.connect(self.on_confirmed)
        self.sign_dialog.rejected.connect(self.on_sign_cancelled)
        self.sign_dialog.open()
        self.sign_dialog.password.setFocus()

    @Slot(object, str)
    def on_confirmed(self, preview, password: str) -> Task:
        """Sign what the dialog showed: that part, that decision, reason, comment and meaning."""
        facade, p = self.facade, preview
        decision = getattr(p.decision, "value", p.decision)
        task = Task(lambda t: facade.review(p.inspection_id, decision, p.reason_code, p.comment,
                                            username=p.signer, password=password, meaning=p.meaning), "sign")
        task.signals.result.connect(self.on_signed)
        task.signals.error.connect(self.on_sign_error)
        self.detail.set_result(f"signing {decision} for {p.frame_name or p.inspection_id[:12]}…")
        return self.tasks.start("review-sign", task)

    @Slot()
    def on_sign_cancelled(self) -> None:
        self.detail.set_result("not signed (cancelled)", error=True)
        self._back_from_dialog(self.detail.user)

    def _back_from_dialog(self, focus: QWidget) -> None:
        """The keys go back to the review page once the sign dialog has closed."""
        self.window().activateWindow()
        focus.setFocus()

    @Slot(object)
    def on_signed(self, review) -> None:
        """The record is stored: the form is emptied, and the next part starts from nothing."""
        ids = [r.id for r in self.rows]
        name = review.inspection_id[:12]
        if review.inspection_id in ids:
            row = ids.index(review.inspection_id)
            name = self.rows[row].frame_name or name
            cell = review_cell(self.facade.final_verdict(self.rows[row], [review]))  # the newest review decides
            self.reviewed[review.inspection_id] = cell
            self.table.setItem(row, COLUMNS.index("review"), QTableWidgetItem(cell))
            self.table.resizeColumnToContents(COLUMNS.index("review"))  # 'reject → NG' whole, not 'rej…'
            if self.detail.shown_id == review.inspection_id:
                self.detail.add_history(review)
        self.status.emit(f"{review.decision.value} signed by {review.reviewer} for {name}")
        self.signed.emit(review)
        self.detail.reset_form()
        if self.table.currentRow() < len(self.rows) - 1:
            self.move(1)
        elif self.detail.shown_id == review.inspection_id:  # the last part stays: shown with its final verdict
            self.detail.inspection_id = None
            self.show_selected()
        self._back_from_dialog(self.table)
        self.detail.set_result(f"signed for {name}: {review.signature_meaning or review.decision.value}")

    @Slot(str)
    def on_sign_error(self, message: str) -> None:
        self.detail.set_result(message, error=True)
        self.status.emit(message)
        if not self.window().isActiveWindow():
            self._back_from_dialog(self.detail.user)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.status.emit(message)


def review_cell(fv) -> str:
    """The queue's review column: latest decision and the final verdict it gives, e.g. 'reject → NG'."""
    return "" if fv.disposition is None else f"{fv.disposition.decision.value} → {fv.kind.value}"


__all__ = ["ReviewView", "DECISION_KEYS", "review_cell"]

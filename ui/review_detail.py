"""The review queue's detail panel: part image/overlay, findings, clauses, explanation, history,
and the disposition form (decision, reason code, comment, signer). The password is asked for in
the sign dialog (``ui.sign_dialog``), after the reviewer has seen exactly what will be signed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import Inspection
from ui.images import ImageView
from ui.panels import esc as _esc

DECISION_KEYS = {"A": "accept", "R": "reject", "W": "rework"}
DECISION_STYLE = {"accept": "#1b7f3b", "reject": "#c62828", "rework": "#1565c0"}
CHOOSE_REASON = "— choose a reason —"
FINAL_COLOUR = {"OK": "#1b7f3b", "NG": "#c62828", "REVIEW": "#b07800", "REWORK": "#6d28d9"}


class DetailPanel(QWidget):
    """Shows one part and holds the disposition form. The form starts empty for every part
    (:meth:`reset_form`): no decision, no reason, no comment; only the signer's name stays."""

    sign_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.inspection_id: str | None = None  # the part asked for
        self.shown_id: str | None = None  # the part on screen
        self.shown: Inspection | None = None
        self.decision: str | None = None
        self._codes: list = []
        self._image = self._overlay = None
        self._history: list = []
        self.show_overlay = True
        d = QHBoxLayout(self)
        d.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        self.image = ImageView("select a part")
        left.addWidget(self.image, 1)
        self.view_label = QLabel("overlay  [O: image / overlay]")
        left.addWidget(self.view_label)
        d.addLayout(left, 3)
        right = QVBoxLayout()
        self.facts = QLabel("")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.facts)
        right.addWidget(scroll, 1)
        right.addWidget(self._form())
        d.addLayout(right, 2)
        self.reset_form()

    def _form(self) -> QGroupBox:
        box = QGroupBox("Disposition (you see what you sign, then enter your password)")
        form = QFormLayout(box)
        self.form_part = QLabel("")
        self.form_part.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("For part", self.form_part)
        buttons = QHBoxLayout()
        self.decision_buttons: dict[str, QPushButton] = {}
        for key, name in DECISION_KEYS.items():
            b = QPushButton(f"{name.capitalize()}  [{key}]")
            b.setCheckable(True)
            b.setMinimumHeight(46)
            f = b.font()
            f.setPointSize(f.pointSize() + 2)
            f.setBold(True)
            b.setFont(f)
            b.setProperty("decision", name)
            b.clicked.connect(self._button_clicked)
            self.decision_buttons[name] = b
            buttons.addWidget(b)
        form.addRow(buttons)
        self.reason = QComboBox()
        self.reason.setMinimumWidth(220)
        self.reason_help = QLabel("")
        self.reason_help.setWordWrap(True)
        self.reason.currentIndexChanged.connect(self._reason_changed)
        self.reason.installEventFilter(self)  # Enter moves on to the comment
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("optional comment about THIS part")
        self.comment.returnPressed.connect(self._comment_done)
        self.user = QLineEdit()
        self.user.setPlaceholderText("reviewer user name")
        self.user.returnPressed.connect(self.sign_requested)
        form.addRow("Reason code", self.reason)
        form.addRow("", self.reason_help)
        form.addRow("Comment", self.comment)
        form.addRow("Reviewer", self.user)
        self.sign_button = QPushButton("Review and sign…  [Enter]")
        self.sign_button.setMinimumHeight(46)
        self.sign_button.clicked.connect(self.sign_requested)
        form.addRow(self.sign_button)
        self.sign_result = QLabel("")
        self.sign_result.setWordWrap(True)
        self.sign_result.setTextFormat(Qt.TextFormat.RichText)
        form.addRow(self.sign_result)
        return box

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if obj is self.reason and event.type() == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.comment.setFocus()
            return True
        return super().eventFilter(obj, event)

    # --- decision ------------------------------------------------------------------------------------

    def reset_form(self, *, keep_result: bool = False) -> None:
        """Empty form: no decision, no reason, no comment (the reviewer's name stays)."""
        self.decision = None
        for b in self.decision_buttons.values():
            b.setChecked(False)
            b.setStyleSheet("")
        self.comment.clear()
        self._fill_reasons(keep=False)
        if not keep_result:
            self.sign_result.setText("")

    @Slot()
    def _button_clicked(self) -> None:
        b = self.sender()
        if b is not None:
            self.choose(str(b.property("decision")), focus=True)

    @Slot()
    def choose_accept(self) -> None:
        self.choose("accept", focus=True)

    @Slot()
    def choose_reject(self) -> None:
        self.choose("reject", focus=True)

    @Slot()
    def choose_rework(self) -> None:
        self.choose("rework", focus=True)

    def choose(self, name: str, focus: bool = False) -> None:
        """Pick the decision; the reason codes offered are those valid for it (none pre-selected)."""
        self.decision = name
        for n, b in self.decision_buttons.items():
            b.setChecked(n == name)
            b.setStyleSheet(f"background:{DECISION_STYLE[n]}; color:white;" if n == name else "")
        self._fill_reasons(keep=True)
        if focus:
            self.reason.setFocus()

    def set_reason_codes(self, codes) -> None:
        self._codes = list(codes)
        self._fill_reasons(keep=True)

    def _fill_reasons(self, keep: bool) -> None:
        """Offer the codes valid for the decision after an empty "choose a reason" entry. A reason
        the reviewer already chose for this part is kept when it is still valid; nothing else is."""
        current = self.reason_code() if keep else ""
        self.reason.blockSignals(True)
        self.reason.clear()
        self.reason.addItem(CHOOSE_REASON if self.decision else "— choose a decision first (A / R / W) —", "")
        for c in self._codes:
            if self.decision in {getattr(d, "value", d) for d in c.decisions}:
                self.reason.addItem(c.code, c.description)
        i = self.reason.findText(current) if current else -1
        self.reason.setCurrentIndex(max(i, 0))
        self.reason.blockSignals(False)
        self._reason_changed()

    def reason_code(self) -> str:
        """The chosen reason code; '' while the "choose a reason" entry is selected."""
        return self.reason.currentText() if self.reason.currentIndex() > 0 else ""

    @Slot()
    def _reason_changed(self, *_args) -> None:
        self.reason_help.setText(str(self.reason.currentData() or ""))

    @Slot()
    def _comment_done(self) -> None:
        if not self.user.text().strip():
            self.user.setFocus()
        else:
            self.sign_requested.emit()

    def form_values(self) -> tuple[str | None, str, str, str]:
        """(decision, reason code, comment, user) as they stand."""
        return self.decision, self.reason_code(), self.comment.text().strip(), self.user.text().strip()

    def set_result(self, text: str, error: bool = False) -> None:
        colour = "#c62828" if error else "#1b7f3b"
        self.sign_result.setText(f"<span style='color:{colour}; font-weight:bold'>{_esc(text)}</span>")

    # --- part ----------------------------------------------------------------------------------------

    def clear(self) -> None:
        self.inspection_id = self.shown_id = None
        self.shown = None
        self.form_part.setText("<i>no part selected</i>")
        self.image.set_image(None)
        self.image.setText("no flagged part matches the filters")
        self.facts.setText("")

    @Slot()
    def toggle_overlay(self) -> None:
        self.show_overlay = not self.show_overlay
        self._show_image()

    def _show_image(self) -> None:
        img = self._overlay if self.show_overlay else self._image
        self.image.set_image(img)
        if img is None:
            self.image.setText("image not available (purged or offline)")
        self.view_label.setText(("overlay" if self.show_overlay else "image") + "  [O: image / overlay]")

    def show_part(self, insp: Inspection, image, overlay, reviews, work_order, final) -> None:
        """``final``: the part's final verdict (``Inspector.final_verdict``)."""
        self.shown_id, self.shown = insp.id, insp
        self._image, self._overlay = image, overlay
        self._show_image()
        fv = final
        v = fv.kind.value
        colour = FINAL_COLOUR.get(v, "#1b7f3b")
        machine = (f" <span style='font-size:11pt'>final · machine verdict <b>{insp.verdict.kind.value}</b></span>"
                   if fv.disposition is not None else " <span style='font-size:11pt'>machine verdict</span>")
        self.form_part.setText(f"<b>{_esc(insp.part_id or insp.frame_name or insp.id)}</b> · {_esc(insp.id[:12])} · "
                               f"<span style='color:{colour}'><b>{v}</b></span>"
                               + (f" (machine {insp.verdict.kind.value})" if fv.overruled else ""))
        lines = [f"<span style='font-size:18pt; color:{colour}'><b>{v}</b></span>{machine} · {_esc(insp.order_id)} · "
                 f"lot {_esc(insp.lot or '—')} · " + (f"part <b>{_esc(insp.part_id)}</b> · " if insp.part_id else "")
                 + f"<b>{_esc(insp.frame_name)}</b> · "
                 f"{insp.inspected_at.astimezone():%Y-%m-%d %H:%M:%S} · station {_esc(insp.station)} · "
                 f"model {_esc(insp.model.name)} {_esc(insp.model.version)}"]
        lines += [f"• {_esc(r)}" for r in insp.verdict.reasons]
        for i, f in enumerate(insp.findings):
            size = _size(f)
            zones = f" in {', '.join(f.region.zones)}" if f.region.zones else ""
            lines.append(f"finding {i + 1}: <b>{_esc(f.defect_type)}</b>{'?' if f.type_uncertain else ''} "
                         f"({f.type_score:.2f}) {size}{_esc(zones)} at x {f.region.box[0]}, y {f.region.box[1]}")
        if work_order is not None and insp.verdict.clause_ids:
            lines.append("<b>Clauses</b>")
            for cid in insp.verdict.clause_ids:
                try:
                    lines.append(f"{_esc(cid)}: {_esc(work_order.clause(cid).text)}")
                except KeyError:
                    lines.append(_esc(cid))
        if insp.explanation:
            tag = " [template]" if insp.explanation.fallback else ""
            lines.append(f"<b>Explanation</b><br><i>{_esc(insp.explanation.text)}</i>{tag}")
        else:
            lines.append("<i>explanation not written yet</i>")
        self.facts.setText("<br>".join(lines))
        self._history = list(reviews)
        self._render_history()

    def add_history(self, review) -> None:
        self._history.append(review)
        self._render_history()

    def _render_history(self) -> None:
        text = self.facts.text().split("<br><b>Decisions</b>")[0]
        if self._history:
            rows = [f"{rv.decided_at.astimezone():%Y-%m-%d %H:%M} <b>{rv.decision.value}</b> "
                    f"{_esc(rv.reason_code)} by {_esc(rv.reviewer_name)} ({_esc(rv.reviewer)})"
                    + (f": {_esc(rv.comment)}" if rv.comment else "") for rv in self._history]
            text += "<br><b>Decisions</b><br>" + "<br>".join(rows)
        self.facts.setText(text)


def _size(f) -> str:
    for value, unit in ((f.length_mm, "mm long"), (f.diameter_mm, "mm ⌀"), (f.area_mm2, "mm²")):
        if value is not None:
            return f"{value:.2f} {unit}"
    return f"{f.region.length_px:.0f} px"

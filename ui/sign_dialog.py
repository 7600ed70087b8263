"""The sign dialog: shows exactly what will be signed, for which part, and takes the password.

Opened by the review queue with a ``ReviewPreview`` from the facade (``Inspector.review_preview``):
part and inspection id, image name, work order and lot, machine verdict, decision, reason code,
comment and the signature's meaning, as they will be recorded. ``Enter`` in the password field
signs, ``Esc`` cancels; the password leaves the widget at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.panels import esc

DECISION_COLOUR = {"accept": "#1b7f3b", "reject": "#c62828", "rework": "#1565c0"}


class SignDialog(QDialog):
    """Window-modal confirmation; emits ``confirmed(preview, password)`` or ``rejected``."""

    confirmed = Signal(object, str)

    def __init__(self, preview, parent: QWidget | None = None):
        super().__init__(parent)
        self.preview = preview
        self.setWindowTitle("Sign this disposition?")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        decision = _value(preview.decision)
        colour = DECISION_COLOUR.get(decision, "#333")
        self.title = QLabel(f"<span style='font-size:16pt'>Sign <b style='color:{colour}'>{esc(decision.upper())}"
                            f"</b> for part <b>{esc(preview.frame_name or preview.inspection_id)}</b>?</span>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.title)
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        rows = (
            ("part", "Part (image)", preview.frame_name or "(no image name)"),
            ("inspection", "Inspection id", preview.inspection_id),
            ("order", "Work order / lot", f"{preview.order_id} / {preview.lot or '—'}"),
            ("machine", "Machine verdict", preview.machine_verdict),
            ("decision", "Decision", decision),
            ("reason", "Reason code", f"{preview.reason_code} — {preview.reason_text}" if preview.reason_text
             else preview.reason_code),
            ("comment", "Comment", preview.comment or "(none)"),
            ("signer", "Signed by", f"{preview.signer_name} ({preview.signer}, {preview.signer_role})"),
            ("meaning", "Meaning", preview.meaning),
        )
        for key, label, value in rows:
            w = QLabel(esc(value))
            w.setTextFormat(Qt.TextFormat.RichText)
            w.setWordWrap(True)
            w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key in ("decision", "part", "meaning"):
                w.setStyleSheet("font-weight:bold;")
            self.fields[key] = w
            form.addRow(label, w)
        lay.addLayout(form)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"password of {preview.signer} (Enter signs, Esc cancels)")
        self.password.returnPressed.connect(self.sign)
        form.addRow("Password", self.password)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color:#c62828; font-weight:bold;")
        lay.addWidget(self.problem)
        buttons = QDialogButtonBox()
        self.sign_button = buttons.addButton("Sign  [Enter]", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton("Cancel  [Esc]", QDialogButtonBox.ButtonRole.RejectRole)
        self.sign_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        self.sign_button.clicked.connect(self.sign)
        self.cancel_button.clicked.connect(self.reject)
        lay.addWidget(buttons)
        self.password.setFocus()

    def summary(self) -> dict[str, str]:
        """The texts shown, by field (part, inspection, order, machine, decision, reason, comment,
        signer, meaning)."""
        return {k: w.text() for k, w in self.fields.items()}

    @Slot()
    def sign(self) -> None:
        password = self.password.text()
        self.password.clear()  # never kept in the widget
        if not password:
            self.problem.setText("enter your password to sign, or Esc to cancel")
            self.password.setFocus()
            return
        self.confirmed.emit(self.preview, password)
        self.accept()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.password.setFocus()


def _value(x) -> str:
    return str(getattr(x, "value", x))

"""Keys go where they make sense: single-key shortcuts never steal keys from a field being edited.

A page's one-key shortcuts (J/K, Up/Down, A/R/W, O) are meant for browsing. When a combo box,
text field or spin box has the focus, the same keys belong to it: Up/Down pick the next reason
code, letters type or jump to an entry, Enter confirms. :func:`guard_inputs` makes those widgets
claim such keys (Qt's ShortcutOverride), so the shortcut does not fire there. Keys with
Ctrl/Alt/Meta and the function keys (F1-F5, Esc) stay with the shortcuts everywhere.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

INPUTS = (QComboBox, QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)


def is_input(widget: QObject | None) -> bool:
    """True for a widget that takes typed keys (also a combo's inner line edit or popup list)."""
    while isinstance(widget, QWidget):
        if isinstance(widget, INPUTS):
            return True
        widget = widget.parentWidget()
    return False


def belongs_to_input(event: QKeyEvent) -> bool:
    """A plain key (no Ctrl/Alt/Meta, not F1-F35 nor Esc) that an input widget uses itself."""
    if event.modifiers() & _COMMAND_MODIFIERS:
        return False
    key = event.key()
    return not (Qt.Key.Key_F1 <= key <= Qt.Key.Key_F35 or key == Qt.Key.Key_Escape)


class InputKeyGuard(QObject):
    """Event filter: an input widget claims its plain keys before any shortcut sees them."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and belongs_to_input(event):
            event.accept()  # the key goes to the widget as a normal key press
        return False


def guard_inputs(root: QWidget, guard: InputKeyGuard | None = None) -> InputKeyGuard:
    """Install one guard on every input widget under ``root`` (call again after adding inputs)."""
    guard = guard or InputKeyGuard(root)
    for w in root.findChildren(QWidget):
        if isinstance(w, INPUTS) and not w.property("_key_guarded"):
            w.installEventFilter(guard)
            w.setProperty("_key_guarded", True)
    return guard

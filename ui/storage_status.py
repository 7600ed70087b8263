"""The station's storage badge: "storage degraded, N parts spooled" while the database cannot take parts.

The facade calls ``add_storage_listener`` callbacks on its writer or retry thread; the
:class:`StorageBridge` carries them into the GUI thread as a signal, and :class:`StorageBadge`
(an orange strip above the status log, hidden while storage is fine) shows the latest text.
The status log and the status bar get the changes (degraded, back), not every part.
See docs/reliability.md.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel

DEGRADED_STYLE = "background: #ef6c00; color: white; font-weight: bold; padding: 6px; border-radius: 4px;"


class StorageBridge(QObject):
    """Storage news from the facade's threads to the GUI thread."""

    changed = Signal(str, bool)  # text, degraded

    def listener(self):
        """A plain callback for ``facade.add_storage_listener``; harmless once this is gone."""
        ref = weakref.ref(self)

        def forward(text: str, degraded: bool) -> None:
            bridge = ref()
            if bridge is not None:
                try:
                    bridge.changed.emit(text, degraded)
                except RuntimeError:  # the window was closed meanwhile
                    pass

        return forward


class StorageBadge(QLabel):
    """Shown only while storage is degraded; the first line of the facade's text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(DEGRADED_STYLE)
        self.setToolTip("The database cannot take parts now; they are kept in the spool and stored, in order, "
                        "when it answers again (inspector spool status)")
        self.degraded = False
        self.hide()

    @Slot(str, bool)
    def show_state(self, text: str, degraded: bool) -> bool:
        """Show ``text``; returns True when the state changed (degraded <-> back)."""
        changed = degraded != self.degraded
        self.degraded = degraded
        self.setText(text.splitlines()[0] if text else "")
        self.setVisible(degraded)
        return changed

"""Station hold and recent parts: the hold bar (an NG/REVIEW stays until acknowledged) and the strip of the last parts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from inspector.domain import VerdictKind
from ui.panels import VERDICT_STYLE, big_button, esc
from ui.station_parts import part_label
from ui.workers import Task

if TYPE_CHECKING:
    from ui.runner import ShownPart

STRIP_SIZE = 12  # parts shown in the strip


class HoldBar(QFrame):
    """The line "NG held: <part> — acknowledge [F6]", shown while flagged parts wait for an acknowledgement."""

    acknowledge_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.held_at: dict[str, float] = {}  # inspection id -> when it went on the banner as held (monotonic)
        self.acknowledged: list[dict] = []  # what the facade recorded per acknowledgement (part.acknowledged)
        self.sent = 0  # acknowledgements handed to the facade
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        f = self.label.font()
        f.setPointSize(f.pointSize() + 5)
        f.setBold(True)
        self.label.setFont(f)
        lay.addWidget(self.label, 1)
        self.button = big_button("Acknowledge", "F6")
        self.button.clicked.connect(self.acknowledge_clicked)
        lay.addWidget(self.button)
        self.setStyleSheet("HoldBar { background:#fde0dc; border:3px solid #c62828; border-radius:6px; }")
        self.hide()

    def show_held(self, kind: str, name: str, waiting: int) -> None:
        """Show the part on hold (``waiting``: further flagged parts behind it), or hide when ``kind`` is empty."""
        if not kind:
            self.label.setText("")
            self.hide()
            return
        more = f" — {waiting} more flagged part{'s' if waiting != 1 else ''} waiting" if waiting else ""
        self.label.setText(f"<span style='color:#c62828'>{esc(kind)} held</span>: {esc(name)}{more}")
        self.show()


class PartStrip(QWidget):
    """The last parts as verdict-coloured buttons, newest on the left; clicking one shows that part."""

    chosen = Signal(str)  # inspection id

    def __init__(self, size: int = STRIP_SIZE, parent: QWidget | None = None):
        super().__init__(parent)
        self.size = size
        self.lay = QHBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.setSpacing(4)
        self.title = QLabel("<b>last parts</b>")
        self.lay.addWidget(self.title)
        self.lay.addStretch(1)
        self.buttons: list[QPushButton] = []  # newest first

    def add(self, inspection_id: str, kind: str, name: str, number: int) -> None:
        b = QPushButton(kind)
        b.setProperty("inspection_id", inspection_id)
        b.setToolTip(f"#{number} {name}: {kind}")
        b.setMinimumSize(64, 40)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # never takes Enter/Space from the line's controls
        b.setStyleSheet(VERDICT_STYLE.get(kind, VERDICT_STYLE[""]) + "font-weight:bold; border-radius:4px;")
        b.clicked.connect(self._clicked)
        self.lay.insertWidget(1, b)
        self.buttons.insert(0, b)
        while len(self.buttons) > self.size:
            old = self.buttons.pop()
            self.lay.removeWidget(old)
            old.deleteLater()

    def ids(self) -> list[str]:
        """Inspection ids in the strip, newest first."""
        return [b.property("inspection_id") for b in self.buttons]

    def kinds(self) -> list[str]:
        return [b.text() for b in self.buttons]

    def mark(self, inspection_id: str) -> None:
        """Outline the part the banner shows."""
        for b in self.buttons:
            base = b.styleSheet().split("border:")[0]
            b.setStyleSheet(base + ("border:3px solid #1565c0;" if b.property("inspection_id") == inspection_id
                                    else ""))

    def clear(self) -> None:
        for b in self.buttons:
            self.lay.removeWidget(b)
            b.deleteLater()
        self.buttons.clear()

    @Slot()
    def _clicked(self) -> None:
        b = self.sender()
        if isinstance(b, QPushButton):
            self.chosen.emit(b.property("inspection_id"))


class HoldMixin:
    """StationView's showing of one part, the hold and its acknowledgement (state lives on the view)."""

    def display(self, shown: ShownPart) -> None:
        """Banner, reasons, explanation and overlay of one part (the latest, a held or a chosen one)."""
        insp = shown.inspection
        kind = insp.verdict.kind.value
        part_id = getattr(insp, "part_id", "")  # next to the verdict, smaller (docs/app.md)
        self.banner.set_kind(kind, f"{kind}<br/><span style='font-size:20pt'>{esc(part_id)}</span>" if part_id
                             else None)
        cited = ", ".join(insp.verdict.clause_ids)
        reasons = "; ".join(insp.verdict.reasons[:2])
        name = esc(part_label(insp))
        if insp.verdict.kind is VerdictKind.OK:
            self.reason.setText(f"{name}: {esc(reasons or 'all clauses pass')}")
            self.explanation.setText("")
        else:
            cited = f"<b>{esc(cited)}</b> " if cited else ""
            self.reason.setText(f"{name}: {cited}{esc(reasons)}")
            self.explanation.setText(self._texts.get(insp.id, ""))
        self._last_id = insp.id
        self.part_view.set_image(shown.overlay)
        self.strip.mark(insp.id)
        held = self.held[0].inspection if self.held else None
        if held is not None:  # on the banner as held from now: the acknowledgement records how long
            self.hold_bar.held_at.setdefault(held.id, time.monotonic())
        self.hold_bar.show_held(held.verdict.kind.value if held else "", part_label(held) if held else "",
                                len(self.held) - 1)

    @Slot()
    def acknowledge(self) -> None:
        """The operator has seen the held part: show the next held one, or the latest part."""
        if not self.held:
            return
        done = self.held.pop(0).inspection
        self.status.emit(f"acknowledged {done.verdict.kind.value}: {part_label(done)}")
        self.audit_acknowledgement(done.id, self.hold_bar.held_at.pop(done.id, None))
        nxt = self.held[0] if self.held else self._latest
        if nxt is not None:
            self.display(nxt)

    def audit_acknowledgement(self, inspection_id: str, since: float | None) -> Task | None:
        """Who acknowledged which part when (``Inspector.acknowledge``, audited ``part.acknowledged``), on a worker."""
        facade = self.facade
        if not hasattr(facade, "acknowledge"):  # test doubles of the facade
            return None
        held_s = None if since is None else time.monotonic() - since
        task = Task(lambda t: facade.acknowledge(inspection_id, held_s=held_s), "acknowledge")
        task.signals.result.connect(self.on_acknowledged)
        task.signals.error.connect(self.show_error)
        self.hold_bar.sent += 1  # a few slots in turn: one acknowledgement never cancels the one before
        return self.tasks.start(f"ack-{self.hold_bar.sent % 8}", task)

    @Slot(object)
    def on_acknowledged(self, record) -> None:
        self.hold_bar.acknowledged.append(record)

    @Slot(str)
    def show_recent(self, inspection_id: str) -> None:
        """A part chosen in the strip: shown on the banner until the next part (a hold stays pending)."""
        shown = self.recent.get(inspection_id)
        if shown is not None:
            self.display(shown)

"""The station's next step on first use (issue 13 point 6): load a work order -> teach its part -> start.

Until the line can run, a large panel at the top of the station says what to do next, with the
three steps and their state and one button that goes where the step is done (the order-id field,
the Teach tab, the source field, Start). Start stays disabled, with the reason under it, until the
line can run. The state is the station's (work order loaded, source chosen, line running) and the
facade's: ``Inspector.part_taught`` is asked on a worker when an order is loaded, again when a teach
finishes, and whenever the panel is shown while the part is not taught (taught elsewhere meanwhile).
Once the line has started for an order, the panel stays hidden until another order is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.panels import big_button, esc
from ui.workers import Task

STEP_TITLES = ("Work order", "Teach the part", "Start the line")


@dataclass(frozen=True)
class NextStep:
    """What the station needs next. ``blocked``: why Start cannot run yet ("" when it can)."""

    key: str  # "order" | "teach" | "checking" | "source" | "start"
    number: int  # 1, 2 or 3 (the step being worked on)
    text: str  # the instruction, plain text
    button: str  # the action button's text ("" = no button)
    blocked: str


def next_step(order, taught: bool | None, source: str) -> NextStep:
    """The next step from the state: ``order`` (a WorkOrder or None), ``taught`` (its part taught?
    None while not known yet), ``source`` (the source field's text)."""
    if order is None:
        return NextStep("order", 1, "Scan or type the work order id, then Enter (or open its file: Ctrl+O)",
                        "Enter the order id  [Ctrl+L]",
                        "load a work order first (scan or type its id, or Ctrl+O)")
    part = order.part_number
    if taught is False:
        return NextStep("teach", 2, f"Teach part {part} from images of good parts (Teach tab)", f"Teach {part}  [F2]",
                        f"part {part} is not taught yet: teach it from good images (Teach tab, F2)")
    if taught is None:
        return NextStep("checking", 2, f"Checking whether part {part} is taught…", "", "")
    if not source.strip():
        return NextStep("source", 3, "Choose where the part images come from (folder, camera…)", "Choose the source",
                        "choose a source first")
    return NextStep("start", 3, f"Ready: start the line for {order.order_id} (part {part})", "Start  [F5]", "")


class GuidePanel(QFrame):
    """The three steps, the instruction in large type and the button for the step."""

    action = Signal(str)  # the step key whose button was pressed
    teach_requested = Signal(str)  # part number: the main window shows the Teach tab
    shown = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.step: NextStep | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        row = QHBoxLayout()
        self.chips: list[QLabel] = []
        for i, title in enumerate(STEP_TITLES, 1):
            chip = QLabel(f"{i}  {title}")
            chip.setObjectName("guideChip")
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setMinimumHeight(34)
            row.addWidget(chip, 1)
            self.chips.append(chip)
        lay.addLayout(row)
        line = QHBoxLayout()
        self.text = QLabel("")
        self.text.setObjectName("guideText")
        self.text.setWordWrap(True)
        f = self.text.font()
        f.setPointSize(f.pointSize() + 7)
        f.setBold(True)
        self.text.setFont(f)
        line.addWidget(self.text, 1)
        self.button = big_button("")
        self.button.setMinimumWidth(220)
        self.button.clicked.connect(self._clicked)
        line.addWidget(self.button)
        lay.addLayout(line)
        self.setStyleSheet("GuidePanel { background:#e3f2fd; border:3px solid #1565c0; border-radius:8px; }")

    def show_step(self, step: NextStep, part: str = "") -> None:
        self.step = step
        titles = ("Work order", f"Teach {part}" if part else STEP_TITLES[1], STEP_TITLES[2])
        for i, (chip, title) in enumerate(zip(self.chips, titles, strict=True), 1):
            done, current = i < step.number, i == step.number
            chip.setText(f"{'✓' if done else i}  {esc(title)}")
            chip.setStyleSheet("border-radius:6px; padding:2px 8px; font-weight:bold; "
                               + ("background:#1b7f3b; color:white;" if done else
                                  "background:#1565c0; color:white;" if current else
                                  "background:#cfd8dc; color:#37474f;"))
        self.text.setText(esc(step.text))
        self.button.setText(step.button)
        self.button.setVisible(bool(step.button))

    @Slot()
    def _clicked(self) -> None:
        if self.step is not None:
            self.action.emit(self.step.key)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self.shown.emit()


class GuideMixin:
    """StationView's next-step guidance (state on the view; the view's ``start`` asks ``start_blocked``)."""

    def build_guide(self) -> GuidePanel:
        """The panel, wired to the station's state; the source box (Start, the source field) exists already."""
        self._taught: dict[str, bool] = {}  # part number -> taught, as the facade last answered
        self._guided_order: str | None = None  # the order whose line has started: no guidance for it
        self.guide = GuidePanel()
        self.guide.action.connect(self.guide_action)
        self.guide.shown.connect(self.recheck_taught)
        self.source_target.textChanged.connect(self.update_guide)
        self.work_order_changed.connect(self.check_taught)
        self.update_guide()
        return self.guide

    def next_step(self) -> NextStep:
        wo = self.work_order
        return next_step(wo, None if wo is None else self._taught.get(wo.part_number), self.source_target.text())

    def start_blocked(self, with_source: bool = True) -> str:
        """Why Start cannot run now ("" when it can); ``with_source=False``: a source is handed over."""
        step = self.next_step()
        return "" if step.key == "source" and not with_source else step.blocked

    @Slot()
    def update_guide(self, *_args) -> None:
        step, running = self.next_step(), self.runner.is_running()
        self.start_button.setEnabled(not running and not step.blocked)
        self.start_button.setToolTip(step.blocked or "start the line [F5]")
        self.start_reason.setText(step.blocked)
        self.start_reason.setVisible(bool(step.blocked) and not running)
        wo = self.work_order
        self.guide.show_step(step, wo.part_number if wo is not None else "")
        self.guide.setVisible(not running and (wo is None or wo.order_id != self._guided_order))

    def guide_started(self) -> None:
        """The line starts: Start off, the guidance done for this order."""
        self._guided_order = self.work_order.order_id if self.work_order is not None else None
        self.start_button.setEnabled(False)
        self.start_reason.hide()
        self.guide.hide()

    @Slot(str)
    def guide_action(self, key: str) -> None:
        if key == "order":
            self.focus_order_field()
        elif key == "teach" and self.work_order is not None:
            self.guide.teach_requested.emit(self.work_order.part_number)
        elif key == "source":
            self.source_target.setFocus()
        elif key == "start":
            self.start()

    @Slot(object)
    def check_taught(self, wo) -> Task | None:
        """Ask the facade (on a worker) whether the order's part is taught; the guide follows."""
        self.update_guide()
        facade = self.facade
        if wo is None or self._taught.get(wo.part_number) or not hasattr(facade, "part_taught"):
            return None  # taught stays taught; a facade without the question never blocks Start
        part = wo.part_number
        task = Task(lambda t: (part, facade.part_taught(part)), f"is {part} taught")
        task.signals.result.connect(self.on_taught_known)
        task.signals.error.connect(self.show_error)
        return self.tasks.start("guide", task)

    @Slot()
    def recheck_taught(self) -> None:
        if self.work_order is not None and self._taught.get(self.work_order.part_number) is False:
            self.check_taught(self.work_order)

    @Slot(object)
    def on_taught_known(self, payload) -> None:
        part, taught = payload
        self._taught[part] = bool(taught)
        self.update_guide()

    @Slot(object)
    def on_part_taught(self, result) -> None:
        """A teach finished (the Teach tab's ``taught`` signal, a TeachResult)."""
        self._taught[result.part_number] = True
        self.update_guide()

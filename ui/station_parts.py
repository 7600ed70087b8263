"""The station's parts box: trigger mode, part detection tuned while watching, the software trigger.

Beside the source (docs/app.md, "Parts"): the trigger mode (auto, free-run part detection,
software, hardware, every-frame), four spin boxes for part detection (motion, presence, settle
frames, empty frames) that change the running line at once (``Inspector.tune_detection``), a
readout of what the detector sees, and the Trigger button [F8] with an optional part id
(``Inspector.trigger``). Part ids are shown with the verdict (``part_label``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from inspector.pipeline import describe
from ui.images import shortcut

MODE_LABELS = {"auto": "auto (part detection for a video or camera)", "free-run": "free-run: part detection",
               "software": "software trigger", "hardware": "hardware trigger (camera input)",
               "every-frame": "every frame is a part"}
MODES = tuple(MODE_LABELS)  # the facade's TRIGGER_MODES; these when a test double has none
READOUT_MS = 250
TITLE = "Parts"


def part_label(insp: Any) -> str:
    """How the station names a part: its part id (and the frame, when different), else the frame."""
    part_id, frame = getattr(insp, "part_id", "") or "", insp.frame_name or ""
    if part_id:
        return f"{part_id} · {frame}" if frame and frame != part_id else part_id
    return frame


def parts_box(view: Any) -> QGroupBox:
    """The parts box of the station view ``view`` (a :class:`PartsMixin`; sets its widgets as attributes).

    Two rows, so the station still fits a small screen: trigger mode, part id and Trigger; the four
    part-detection spin boxes. The box title carries the detector's readout while a line runs."""
    s = view.facade.settings
    view.parts_group = box = PartsBox(view.facade)
    g = QGridLayout(box)
    g.setVerticalSpacing(2)
    view.trigger_mode = QComboBox()
    for mode in getattr(view.facade, "TRIGGER_MODES", MODES):
        view.trigger_mode.addItem(MODE_LABELS.get(mode, mode), mode)
    view.trigger_mode.setCurrentIndex(max(0, view.trigger_mode.findData(s.trigger_mode)))
    view.trigger_mode.setToolTip("how a video or camera becomes parts (files are always one part each)")
    view.trigger_mode.currentIndexChanged.connect(view.on_trigger_mode)
    view.trigger_id = QLineEdit()
    view.trigger_id.setPlaceholderText("part id (optional)")
    view.trigger_button = QPushButton("Trigger  [F8]")
    view.trigger_button.setToolTip("software trigger: inspect the newest frame as one part, with this part id")
    view.trigger_button.clicked.connect(view.trigger_now)
    view.trigger_id.returnPressed.connect(view.trigger_now)
    g.addWidget(view.trigger_mode, 0, 0, 1, 2)
    g.addWidget(view.trigger_id, 0, 2)
    g.addWidget(view.trigger_button, 0, 3)
    view.part_motion = _spin(QDoubleSpinBox(), 0.1, 255.0, s.part_motion, 0.5, "motion < ", "",
                             "mean grey change between frames below which the view is still")
    view.part_presence = _spin(QDoubleSpinBox(), 0.1, 100.0, 100 * s.part_presence, 1.0, "part ≥ ", " %",
                               "share of the view that must differ from the empty belt: a part is there")
    view.part_settle = _spin(QSpinBox(), 1, 500, s.part_settle_frames, 1, "settle ", " fr",
                             "still frames before a part is taken (the sharpest of them is inspected)")
    view.part_empty = _spin(QSpinBox(), 1, 500, s.part_empty_frames, 1, "empty ", " fr",
                            "frames without a part before the next part can start")
    for i, spin in enumerate((view.part_motion, view.part_presence, view.part_settle, view.part_empty)):
        g.addWidget(spin, 1, i)
        spin.valueChanged.connect(view.on_detection_changed)
    shortcut(view, "F8", view.trigger_now)
    view.on_trigger_mode()
    return box


class PartsBox(QGroupBox):
    """The box; its own timer (a QObject timer event, no signal connection) refreshes the title with
    what part detection sees, so it lives and dies with the box."""

    def __init__(self, facade: Any):
        super().__init__(TITLE)
        self.facade = facade
        self.readout = ""
        self.startTimer(READOUT_MS)

    def timerEvent(self, event: Any) -> None:  # noqa: N802 (Qt naming)
        self.refresh()

    def refresh(self) -> str:
        get = getattr(self.facade, "detection_readout", None)
        text = readout_text(get() if callable(get) else None)
        if text != self.readout:
            self.readout = text
            self.setTitle(f"{TITLE} — {text}" if text else TITLE)
        return text


def _spin(spin: Any, low: float, high: float, value: float, step: float, prefix: str, suffix: str,
          tip: str) -> Any:
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setValue(value)
    spin.setPrefix(prefix)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    if isinstance(spin, QDoubleSpinBox):
        spin.setDecimals(1)
    return spin


class PartsMixin:
    """The station's slots for the parts box (mixed into ``StationView``)."""

    facade: Any

    @Slot()
    def on_trigger_mode(self, *_args: Any) -> None:
        """The chosen mode is used by the next Start (this session; Settings… saves it)."""
        mode = self.trigger_mode.currentData()
        self.facade.settings.trigger_mode = mode
        detecting = mode in ("auto", "free-run")
        for spin in (self.part_motion, self.part_presence, self.part_settle, self.part_empty):
            spin.setEnabled(detecting)
        self.trigger_button.setEnabled(mode != "every-frame")

    @Slot()
    def on_detection_changed(self, *_args: Any) -> None:
        """Part detection changes at once, also on the running line (tune while watching the live view)."""
        if not hasattr(self.facade, "tune_detection"):  # a test double
            return
        try:
            self.facade.tune_detection(motion=self.part_motion.value(), presence=self.part_presence.value() / 100,
                                       settle_frames=self.part_settle.value(), empty_frames=self.part_empty.value())
        except Exception as exc:  # a value the core refuses: said, nothing changed
            self.show_error(describe(exc))

    @Slot()
    def trigger_now(self) -> None:
        """A software trigger: the running line inspects the newest frame as one part (with the given id)."""
        part_id = self.trigger_id.text().strip() or None
        try:
            self.facade.trigger(part_id, origin="app")
        except Exception as exc:  # an id the core refuses (too long, control characters)
            self.show_error(describe(exc))
            return
        self.trigger_id.clear()
        self.show_info(f"trigger{f' for part {part_id}' if part_id else ''}")

    @Slot()
    def refresh_readout(self) -> None:
        """What part detection sees in the newest frame (while a free-run line runs), in the box title."""
        self.part_readout = self.parts_group.refresh()


def readout_text(readout: dict | None) -> str:
    if readout is None:
        return ""
    if not readout["belt"]:
        return "learning the empty belt: keep the view empty and still"
    passed = f", {readout['passed']} passed unsettled" if readout["passed"] else ""
    return (f"motion {readout['motion']:.1f} · part {100 * readout['presence']:.0f} % · {readout['state']} · "
            f"{readout['parts']} parts{passed}")

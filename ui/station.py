"""The operator station: work order, source, live view, latest part, verdict banner, counters.

Keys: F5 start, Esc stop, F6 acknowledge a held NG/REVIEW, F8 software trigger, Ctrl+O open a work
order, Ctrl+L the order-id field. A barcode
scanner "types" the order id and Enter: typing while no text field has the focus goes to the
order-id field, so a scan works wherever the focus is on this page.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import Explanation, VerdictKind, WorkOrder
from ui.images import ImageView, shortcut
from ui.panels import (
    CounterPanel,
    ExplanationBridge,
    LatencyStats,
    RateMeter,
    StatusLog,
    VerdictBanner,
    titled,
)
from ui.panels import esc as _esc
from ui.runner import ShownPart, StationRunner
from ui.station_boxes import SOURCE_HINTS, SOURCE_KINDS, order_box, source_box
from ui.station_guide import GuideMixin
from ui.station_hold import HoldBar, HoldMixin, PartStrip
from ui.station_parts import PartsMixin, part_label, parts_box
from ui.storage_status import StorageBadge, StorageBridge
from ui.workers import Task, TaskRunner


class StationView(HoldMixin, PartsMixin, GuideMixin, QWidget):
    """The operator view. All core work goes through ``facade`` on worker threads."""

    work_order_changed = Signal(object)
    status = Signal(str)
    run_finished = Signal(object)
    part_shown = Signal(str)
    alarm = Signal(str, str)  # inspection id, "NG" | "REVIEW": the hook for a lamp, horn or PLC output

    def __init__(self, facade, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.work_order: WorkOrder | None = None
        self.runner = StationRunner(self)
        self.latency = LatencyStats()
        self.display_rate = RateMeter()
        self._run_mark = (time.monotonic(), 0)
        self.shown_ids: list[str] = []  # every part shown, in order (all are stored)
        self.explained_ids: set[str] = set()
        self._last_id = ""
        self._shown_at: dict[str, float] = {}
        self._early: dict[str, str] = {}  # explanations that arrived before their part was shown
        self.hold_flagged = bool(getattr(facade.settings, "hold_flagged", True))
        self.held: list[ShownPart] = []  # flagged parts waiting for an acknowledgement, oldest first
        self.recent: dict[str, ShownPart] = {}  # the parts in the strip (and the held ones' texts)
        self._texts: dict[str, str] = {}  # explanation text per recent part
        self._latest: ShownPart | None = None
        self.bridge = ExplanationBridge(self)
        self.bridge.explained.connect(self.on_explained)
        facade.add_explanation_listener(self.bridge.listener())
        self.storage_bridge = StorageBridge(self)  # "storage degraded, N parts spooled" (docs/reliability.md)
        if hasattr(facade, "add_storage_listener"):  # the real facade (test doubles may leave it out)
            facade.add_storage_listener(self.storage_bridge.listener())
        self._build()
        self.runner.mailbox.ready.connect(self.on_frame_ready)
        self.runner.part.connect(self.on_part)
        self.runner.message.connect(self.show_error)
        self.runner.info.connect(self.show_info)
        self.runner.stopped.connect(self.on_stopped)
        self.storage_bridge.changed.connect(self.on_storage)
        self.status.connect(self.show_info)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.refresh_stats)
        self._tick.start()

    # --- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        root = QHBoxLayout(self)
        left_panel = QWidget()
        left_panel.setMinimumWidth(360)
        left_panel.setMaximumWidth(520)
        left_panel.setObjectName("stationLeft")  # the floor layout widens it (ui/floor.py)
        left = QVBoxLayout(left_panel)
        left.setContentsMargins(0, 0, 0, 0)
        root.addWidget(left_panel, 1)
        left.addWidget(order_box(self), 3)
        left.addWidget(source_box(self))
        left.addWidget(parts_box(self))  # trigger mode, part detection, Trigger [F8]
        self.storage_badge = StorageBadge()
        left.addWidget(self.storage_badge)
        self.status_log = StatusLog()
        self.status_log.setMinimumHeight(90)
        left.addWidget(titled(self.status_log, "Status"), 1)

        right = QVBoxLayout()
        root.addLayout(right, 3)
        right.addWidget(self.build_guide())  # the next step until the line can run (ui/station_guide.py)
        self.banner = VerdictBanner()
        right.addWidget(self.banner)
        self.hold_bar = HoldBar()
        self.hold_bar.acknowledge_clicked.connect(self.acknowledge)
        right.addWidget(self.hold_bar)
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        f = self.reason.font()
        f.setPointSize(f.pointSize() + 4)
        self.reason.setFont(f)
        right.addWidget(self.reason)
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        self.explanation.setFont(QFont(f.family(), 12, italic=True))  # a font: the floor layout's sheet scales it
        right.addWidget(self.explanation)
        views = QSplitter(Qt.Orientation.Horizontal)
        self.live = ImageView("live view: press Start [F5]")
        self.live.smooth = False
        self.part_view = ImageView("latest inspected part")
        live_box = titled(self.live, "Live")
        self.live_title = live_box.findChild(QLabel, "title")
        views.addWidget(live_box)
        views.addWidget(titled(self.part_view, "Latest part"))
        right.addWidget(views, 1)
        self.strip = PartStrip()
        self.strip.chosen.connect(self.show_recent)
        right.addWidget(self.strip)
        self.counters = CounterPanel()
        right.addWidget(self.counters)
        self.latency_label = QLabel("")
        self.latency_label.setObjectName("latency")
        self.latency_label.setWordWrap(True)
        right.addWidget(self.latency_label)
        self.refresh_stats()

        shortcut(self, "F5", self.start)
        shortcut(self, "Escape", self.stop)
        shortcut(self, "F6", self.acknowledge)
        shortcut(self, "Ctrl+O", self.open_order_file)
        shortcut(self, "Ctrl+L", self.focus_order_field)

    # --- work orders --------------------------------------------------------------------------

    @Slot()
    def focus_order_field(self) -> None:
        self.order_field.setFocus()
        self.order_field.selectAll()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Keys no child took (no text field focused): a scanner's characters go to the order field."""
        text = event.text()
        if text and text.isprintable() and not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier:
            self.order_field.setFocus()
            self.order_field.setText(text)
            return
        super().keyPressEvent(event)

    @Slot(bool)
    def _toggle_paste(self, on: bool) -> None:
        self.paste_edit.setVisible(on)
        self.paste_use.setVisible(on)
        if on:
            self.paste_edit.setFocus()

    @Slot()
    def open_order_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open work order", "",
                                              "Work orders (*.txt *.wo *.json *.yaml *.yml);;All files (*)")
        if path:
            self.load_order_file(Path(path))

    def load_order_file(self, path: Path) -> Task:
        facade = self.facade
        return self._run_order_task(lambda t: facade.load_work_order(path), f"work order {Path(path).name}")

    @Slot()
    def load_pasted(self) -> Task:
        text, facade = self.paste_edit.toPlainText(), self.facade
        return self._run_order_task(lambda t: facade.load_work_order(text=text), "pasted work order")

    @Slot()
    def load_order_id(self) -> Task | None:
        order_id, facade = self.order_field.text().strip(), self.facade
        if not order_id:
            return None
        return self._run_order_task(lambda t: facade.find_work_order(order_id), f"work order {order_id}")

    def _run_order_task(self, fn, what: str) -> Task:
        if self.runner.is_running():
            self.show_error(f"stop the line before loading another work order ({what} not loaded)")
            return Task(lambda t: None, "refused")
        task = Task(fn, what)
        task.signals.result.connect(self.set_work_order)
        task.signals.error.connect(self.show_error)
        self.order_info.setText(f"loading {what}…")
        return self.tasks.start("workorder", task)

    @Slot(object)
    def set_work_order(self, wo: WorkOrder) -> None:
        if self.work_order is None or wo.order_id != self.work_order.order_id or wo.lot != self.work_order.lot:
            self.counters.reset()
        self.work_order = wo
        self.paste_button.setChecked(False)
        px = f"{wo.pixel_size_mm:g} mm/px" if wo.pixel_size_mm else "<b>no pixel size</b>: sizes in px → REVIEW"
        self.order_info.setText(
            f"<span style='font-size:15pt'><b>{_esc(wo.order_id)}</b></span><br>"
            f"part <b>{_esc(wo.part_number)}</b> · lot <b>{_esc(wo.lot or '—')}</b> · "
            f"qty <b>{wo.quantity if wo.quantity is not None else '—'}</b><br>{px}")
        self.clauses.clear()
        for c in wo.clauses:
            mark = "" if c.checkable else "   (checked by a person)"
            self.clauses.addItem(f"{c.id}  {c.text}{mark}")
        self.order_field.setText(wo.order_id)
        self.status.emit(f"work order {wo.order_id} loaded ({len(wo.clauses)} clauses)")
        self.work_order_changed.emit(wo)

    # --- source and run -------------------------------------------------------------------------

    @Slot()
    def _source_hint(self, *_args) -> None:
        self.source_target.setPlaceholderText(SOURCE_HINTS[self.source_kind.currentData()])

    @Slot()
    def browse_source(self) -> None:
        kind = self.source_kind.currentData()
        if kind in ("folder", "hotfolder"):
            path = QFileDialog.getExistingDirectory(self, "Image folder")
        elif kind == "video":
            path, _ = QFileDialog.getOpenFileName(self, "Video", "", "Video (*.mp4 *.avi *.mkv *.mov)")
        elif kind == "files":
            paths, _ = QFileDialog.getOpenFileNames(self, "Images", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif)")
            path = ",".join(paths)
        else:
            return
        if path:
            self.source_target.setText(path)

    def set_source(self, spec: str) -> None:
        """Preselect a source from a spec (``folder:/x``, ``camera:0``, or a bare path)."""
        kind, sep, target = spec.partition(":")
        kinds = [k for _, k in SOURCE_KINDS]
        if sep and kind in kinds:
            self.source_kind.setCurrentIndex(kinds.index(kind))
            self.source_target.setText(target)
        elif spec.isdigit():
            self.source_kind.setCurrentIndex(kinds.index("camera"))
            self.source_target.setText(spec)
        else:
            self.source_kind.setCurrentIndex(kinds.index("folder" if Path(spec).is_dir() else "video"))
            self.source_target.setText(spec)

    def source_spec(self) -> str:
        return f"{self.source_kind.currentData()}:{self.source_target.text().strip()}"

    @Slot()
    def start(self, source=None) -> bool:
        """Start the line on the chosen source (or on ``source``, a ready FrameSource: tests)."""
        if self.runner.is_running():
            return False
        why = self.start_blocked(with_source=source is None)  # no order, part not taught, no source
        if why:
            self.show_error(why)
            return False
        spec = source if source is not None else self.source_spec()
        self.guide_started()
        self.stop_button.setEnabled(True)
        self.stop_button.setFocus()
        self.display_rate = RateMeter()
        self._run_mark = (time.monotonic(), self.runner.mailbox.posted)
        self.status.emit(f"inspecting {getattr(spec, 'description', spec)} for {self.work_order.order_id}")
        self.runner.start(self.facade, spec, self.work_order, self.tasks)
        return True

    @Slot()
    def stop(self) -> None:
        if self.runner.is_running():
            self.status.emit("stopping: the part in progress is finished and stored")
        self.runner.stop()

    def is_running(self) -> bool:
        return self.runner.is_running()

    @Slot(object)
    def on_stopped(self, summary) -> None:
        self.update_guide()
        self.stop_button.setEnabled(False)
        if summary is not None:
            y = f"{summary.yield_pct:.1f} %" if summary.inspected else "—"
            how = "stopped" if summary.cancelled else "finished"
            self.status.emit(f"run {how}: {summary.inspected} parts in {summary.seconds:.1f} s, yield {y}"
                             + (f", {summary.dropped} frames dropped" if summary.dropped else ""))
        self.refresh_stats()
        self.run_finished.emit(summary)

    # --- results ------------------------------------------------------------------------------------

    @Slot()
    def on_frame_ready(self) -> None:
        image = self.runner.mailbox.take()
        if image is not None:
            self.display_rate.tick()
            self.live.set_image(image)

    @Slot(object)
    def on_part(self, shown: ShownPart) -> None:
        insp = shown.inspection
        kind = insp.verdict.kind.value
        self.shown_ids.append(insp.id)
        if len(self.shown_ids) > 200_000:  # a long shift: keep the recent half
            del self.shown_ids[:100_000]
        self.counters.add(kind)
        for k in ("capture", "analyze", "store"):
            if k in insp.timings_ms:
                self.latency.add(k, insp.timings_ms[k])
        if insp.verdict.kind is not VerdictKind.OK:
            early = self._early.pop(insp.id, None)  # the explanation may overtake the part
            self._texts[insp.id] = early if early is not None else "explaining…"
            if early is None:
                self._shown_at[insp.id] = time.monotonic()
                while len(self._shown_at) > 1000:  # explanations off or failing: don't grow
                    self._shown_at.pop(next(iter(self._shown_at)))
            self.alarm.emit(insp.id, kind)
            QApplication.beep()
            if self.hold_flagged:
                self.held.append(shown)
        self._latest = shown
        self.recent[insp.id] = shown
        self.strip.add(insp.id, kind, part_label(insp), self.counters.counts["inspected"])
        keep = set(self.strip.ids()) | {p.inspection.id for p in self.held}
        for old in [i for i in self.recent if i not in keep]:
            self.recent.pop(old)
            self._texts.pop(old, None)
        self.display(self.held[0] if self.held else shown)
        self.part_shown.emit(insp.id)

    @Slot(str, object)
    def on_explained(self, inspection_id: str, explanation: Explanation) -> None:
        self.explained_ids.add(inspection_id)
        text = explanation.text + ("  [template]" if explanation.fallback else "")
        shown = self._shown_at.pop(inspection_id, None)
        if shown is not None:
            self.latency.add("explain", (time.monotonic() - shown) * 1e3)
        elif inspection_id not in self.shown_ids[-50:]:
            self._early[inspection_id] = text
            while len(self._early) > 100:
                self._early.pop(next(iter(self._early)))
        if inspection_id in self.recent:
            self._texts[inspection_id] = text
        if inspection_id == self._last_id:
            self.explanation.setText(text)

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.status_log.add(message)
        self.status.emit(message)

    @Slot(str)
    def show_info(self, message: str) -> None:
        self.status_log.add(message, error=False)

    @Slot(str, bool)
    def on_storage(self, text: str, degraded: bool) -> None:
        """Storage degraded (parts go to the spool) or back: the badge; the log and status bar on a change."""
        if self.storage_badge.show_state(text, degraded) or not degraded:
            self.status_log.add(text.splitlines()[0], error=degraded)
            self.status.emit(text.splitlines()[0])

    def source_fps(self) -> float:
        """Frames per second the source delivered to the live view since Start."""
        t0, n0 = self._run_mark
        dt = time.monotonic() - t0
        return (self.runner.mailbox.posted - n0) / dt if dt > 0 else 0.0

    @Slot()
    def refresh_stats(self) -> None:
        rates, title = "", "<b>Live</b>"
        if self.runner.is_running():
            rates = f"  ·  source {self.source_fps():.1f} fps, live view {self.display_rate.rate():.1f} fps"
            quiet = time.monotonic() - (self.display_rate.t[-1] if self.display_rate.t else self._run_mark[0])
            if quiet > 2.0:
                title = f"<b>Live</b> <span style='color:#c62828'><b>no frames for {quiet:.0f} s</b></span>"
        self.live_title.setText(title)
        self.latency_label.setText(f"latency per part (mean of last 50): {self.latency.text()}{rates}")

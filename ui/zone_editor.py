"""Zone editor of the Teach tab: draw the zones a work order names but leaves to draw on the taught image."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPoint, QRect, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import WorkOrder, Zone
from ui.images import ImageView, shortcut
from ui.panels import esc as _esc
from ui.workers import Task, TaskRunner

_TO_DRAW, _OTHER, _SELECTED = QColor("#29b6f6"), QColor("#9e9e9e"), QColor("#ffca28")


def _n_zones(n: int) -> str:
    return f"{n} zone" if n == 1 else f"{n} zones"


def zone_title(z: Zone) -> str:
    """'M (mounting face)', or the bare name when the order gives no label."""
    return f"{z.name} ({z.label})" if z.label else z.name


class ZoneCanvas(ImageView):
    """The taught image with the zones on it; dragging a rectangle draws the selected zone."""

    drawn = Signal(str, object)  # zone name, (x0, y0, x1, y1) in % of the image

    def __init__(self, parent: QWidget | None = None):
        super().__init__("pick a taught image (Images tab) to draw the zones on", parent)
        self.zones: list[tuple[Zone, bool]] = []  # (zone, editable) as shown
        self.pixel_size_mm: float | None = None
        self.current: str | None = None  # the zone a drag draws
        self.array: np.ndarray | None = None
        self._origin: QPoint | None = None
        self._drag = QRect()

    def set_image(self, image) -> None:
        self.array = image if isinstance(image, np.ndarray) else None
        super().set_image(image)
        self.update()

    def image_rect(self) -> QRectF | None:
        """Where the image is drawn in the widget (it is centred and scaled to fit)."""
        pm, size = self.pixmap(), self.image_size()
        if pm is None or pm.isNull() or size is None:
            return None
        return QRectF(
            (self.width() - pm.width()) / 2, (self.height() - pm.height()) / 2, pm.width(), pm.height()
        )

    def widget_rect(self, z: Zone) -> QRectF | None:
        """A zone's box in widget coordinates, None when it cannot be placed on this image."""
        r, size = self.image_rect(), self.image_size()
        if r is None or size is None:
            return None
        try:
            x0, y0, x1, y1 = z.to_px(size[0], size[1], self.pixel_size_mm)
        except ValueError:
            return None
        s = r.width() / size[0]
        return QRectF(r.x() + x0 * s, r.y() + y0 * s, (x1 - x0) * s, (y1 - y0) * s)

    def mousePressEvent(self, e) -> None:  # noqa: N802
        self._origin = e.position().toPoint() if self.current and self.image_rect() is not None else None
        self._drag = QRect()

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        if self._origin is not None:
            self._drag = QRect(self._origin, e.position().toPoint()).normalized()
            self.update()

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        if self._origin is None:
            return
        rect = QRect(self._origin, e.position().toPoint()).normalized()
        self._origin, self._drag = None, QRect()
        box = self.to_percent(rect)
        if box is not None and self.current:
            self.drawn.emit(self.current, box)
        self.update()

    def to_percent(self, rect: QRect) -> tuple[float, float, float, float] | None:
        """A widget rectangle -> (x0, y0, x1, y1) in % of the image, clipped; None when too small."""
        r = self.image_rect()
        if r is None or rect.width() < 3 or rect.height() < 3:
            return None
        x0 = min(max((rect.left() - r.x()) / r.width(), 0.0), 1.0)
        y0 = min(max((rect.top() - r.y()) / r.height(), 0.0), 1.0)
        x1 = min(max((rect.right() + 1 - r.x()) / r.width(), 0.0), 1.0)
        y1 = min(max((rect.bottom() + 1 - r.y()) / r.height(), 0.0), 1.0)
        if x1 - x0 < 0.005 or y1 - y0 < 0.005:
            return None
        return tuple(round(v * 100.0, 2) for v in (x0, y0, x1, y1))

    @staticmethod
    def _caption(p: QPainter, rect: QRectF, text: str, colour: QColor) -> None:
        """The zone's name on a dark tag above its box (inside it when the box touches the top)."""
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        top = rect.top() - h if rect.top() - h >= 0 else rect.top()
        tag = QRectF(rect.left(), top, w, h)
        p.fillRect(tag, QColor(0, 0, 0, 170))
        p.setPen(colour)
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(p.font())
        font.setBold(True)
        p.setFont(font)
        for z, editable in self.zones:
            rect = self.widget_rect(z)
            if rect is None:
                continue
            colour = _SELECTED if z.name == self.current else (_TO_DRAW if editable else _OTHER)
            fill = QColor(colour)
            fill.setAlpha(50 if editable else 25)
            p.setPen(QPen(colour, 2, Qt.PenStyle.SolidLine if editable else Qt.PenStyle.DashLine))
            p.setBrush(fill)
            p.drawRect(rect)
            self._caption(p, rect, zone_title(z), colour)
        if not self._drag.isNull():
            p.setPen(QPen(_SELECTED, 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self._drag)
        p.end()


class ZoneEditor(QWidget):
    """Zones to draw of the loaded order: pick one, drag its box on the taught image, Save (audited)."""

    status = Signal(str)
    saved = Signal(object)  # the zones saved for the part (tuple of Zone)
    changed = Signal(int)  # zones of the order still without a box

    def __init__(self, facade, tasks: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.work_order: WorkOrder | None = None
        self.to_draw: list[Zone] = []  # the order's zones without geometry
        self.boxes: dict[str, Zone] = {}  # casefold name -> drawn zone (saved or not) of this part
        self.dirty = False
        lay = QVBoxLayout(self)
        self.info = QLabel("load a work order: zones it names without coordinates are drawn here")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        row = QHBoxLayout()
        lay.addLayout(row, 1)
        side = QVBoxLayout()
        row.addLayout(side, 2)
        self.list = QListWidget()
        self.list.setMinimumWidth(230)
        self.list.currentRowChanged.connect(self.select)
        side.addWidget(self.list, 1)
        self.clear_button = QPushButton("Remove box")
        self.clear_button.clicked.connect(self.remove_box)
        self.save_button = QPushButton("Save zones")
        self.save_button.setMinimumHeight(44)
        self.save_button.clicked.connect(self.save)
        side.addWidget(self.clear_button)
        side.addWidget(self.save_button)
        self.canvas = ZoneCanvas()
        self.canvas.drawn.connect(self.on_drawn)
        row.addWidget(self.canvas, 5)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        lay.addWidget(self.result)
        shortcut(self, "Ctrl+S", self.save)
        self._refresh()

    # --- what is shown ---------------------------------------------------------------------------

    @Slot(object)
    def set_work_order(self, wo: WorkOrder) -> None:
        self.work_order, self.dirty = wo, False
        self.to_draw = [z for z in wo.zones if not z.defined]
        self.boxes = {}
        self.canvas.pixel_size_mm = wo.pixel_size_mm
        self.result.setText("")
        self._refresh()
        if self.to_draw:
            self.list.setCurrentRow(0)
        if wo.part_number and self.to_draw:
            facade, part = self.facade, wo.part_number
            task = Task(lambda t: (part, facade.drawn_zones(part), facade.zone_image(part)), "zones")
            task.signals.result.connect(self.on_loaded)
            task.signals.error.connect(self.on_error)
            self.tasks.start("zones.load", task)

    @Slot(object)
    def set_image(self, image) -> None:
        """The taught image to draw on (zones are kept in % of the image)."""
        self.canvas.set_image(image)

    @Slot(object)
    def on_loaded(self, loaded) -> None:
        part, zones, image = loaded
        if self.work_order is None or part != self.work_order.part_number:
            return  # another order was loaded meanwhile
        for z in zones:
            self.boxes.setdefault(z.name.casefold(), z)
        if image is not None and self.canvas.array is None:
            self.canvas.set_image(image)
        self._refresh()

    @Slot(int)
    def select(self, row: int) -> None:
        self.canvas.current = self.to_draw[row].name if 0 <= row < len(self.to_draw) else None
        self.canvas.update()

    @Slot(str, object)
    def on_drawn(self, name: str, box) -> None:
        z = next(z for z in self.to_draw if z.name == name)
        self.boxes[name.casefold()] = Zone(z.name, tuple(box), "%", z.label)
        self.dirty = True
        self.result.setText(
            f"{zone_title(z)} drawn at {box[0]:.1f}–{box[2]:.1f} % × {box[1]:.1f}–{box[3]:.1f} %; "
            "Save to use it"
        )
        self._refresh()

    @Slot()
    def remove_box(self) -> None:
        if self.canvas.current and self.boxes.pop(self.canvas.current.casefold(), None) is not None:
            self.dirty = True
            self._refresh()

    def _refresh(self) -> None:
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for z in self.to_draw:
            state = "drawn" if z.name.casefold() in self.boxes else "not drawn"
            if self.dirty and state == "drawn":
                state = "drawn (not saved)"
            QListWidgetItem(f"{zone_title(z)} — {state}", self.list)
        self.list.setCurrentRow(row if 0 <= row < len(self.to_draw) else -1)
        self.list.blockSignals(False)
        wo = self.work_order
        if wo is None:
            pass
        elif not self.to_draw:
            self.info.setText(f"{_esc(wo.order_id)}: every zone has coordinates; nothing to draw")
        else:
            self.info.setText(
                f"<b>{_esc(wo.order_id)}</b>, part {_esc(wo.part_number)}: pick a zone, drag its box "
                "on the taught image, then Save. Until a zone is drawn, its clauses go to REVIEW."
            )
        mine = {z.name.casefold() for z in self.to_draw}
        shown = [(self.boxes.get(z.name.casefold(), z), True) for z in self.to_draw]
        shown += [(z, False) for z in (wo.zones if wo else ()) if z.defined and z.name.casefold() not in mine]
        self.canvas.zones = shown
        self.canvas.update()
        self.save_button.setEnabled(bool(wo and wo.part_number and self.to_draw))
        self.changed.emit(sum(z.name.casefold() not in self.boxes for z in self.to_draw))

    # --- saving ----------------------------------------------------------------------------------

    @Slot()
    def save(self) -> Task | None:
        wo = self.work_order
        if wo is None or not self.to_draw:
            return None
        zones = [
            replace(z, name=next((d.name for d in self.to_draw if d.name.casefold() == k), z.name))
            for k, z in self.boxes.items()
        ]
        facade, part, image = self.facade, wo.part_number, self.canvas.array
        task = Task(lambda t: facade.save_zones(part, zones, image), "save zones")
        task.signals.result.connect(self.on_saved)
        task.signals.error.connect(self.on_error)
        self.result.setText(f"saving {_n_zones(len(zones))} for {part}…")
        return self.tasks.start("zones.save", task)

    @Slot(object)
    def on_saved(self, zones) -> None:
        self.dirty = False
        part = self.work_order.part_number if self.work_order else ""
        self.result.setText(
            f"saved {_n_zones(len(zones))} for part {_esc(part)}; the next parts are judged with them"
        )
        self._refresh()
        self.status.emit(f"zones of {part} saved")
        self.saved.emit(zones)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.result.setText(f"<span style='color:#c62828'>{_esc(message)}</span>")
        self.status.emit(message)

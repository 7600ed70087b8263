"""Teach mode: pick or capture good images, optionally mark defects with a box and a type word,
teach with progress and cancel, and see the calibrated threshold on a histogram of good scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRubberBand,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.pipeline import IMAGE_SUFFIXES, LabelledExample, open_source, read_image
from ui.images import ImageView, shortcut
from ui.panels import big_button
from ui.panels import esc as _esc
from ui.workers import Task, TaskRunner
from ui.zone_editor import ZoneEditor


class Histogram(QWidget):
    """Leave-one-out scores of the good images with the threshold and the REVIEW band start."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scores: list[float] = []
        self.threshold = self.review_low = 0.0
        self.setMinimumHeight(180)

    def set_data(self, scores, threshold: float, review_low: float) -> None:
        self.scores, self.threshold, self.review_low = list(scores), threshold, review_low
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, 160)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e1e1e"))
        if not self.scores:
            p.setPen(QColor("#aaa"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "teach a part to see its good-score histogram")
            return
        lo = min(min(self.scores), self.review_low)
        hi = max(max(self.scores), self.threshold)
        pad = (hi - lo) * 0.12 or max(abs(hi), 1.0) * 0.1
        lo, hi = lo - pad, hi + pad
        bins = np.histogram(self.scores, bins=24, range=(lo, hi))[0]
        w, h = self.width(), self.height() - 20
        bw = w / len(bins)
        top = max(int(bins.max()), 1)
        p.setBrush(QColor("#4caf50"))
        p.setPen(Qt.PenStyle.NoPen)
        for i, n in enumerate(bins):
            bh = int((h - 16) * n / top)
            p.drawRect(int(i * bw) + 1, h - bh, max(1, int(bw) - 2), bh)
        for x_val, colour, label in ((self.review_low, "#f9a825", "REVIEW"), (self.threshold, "#e53935", "NG")):
            x = int(w * (x_val - lo) / (hi - lo))
            p.setPen(QPen(QColor(colour), 2))
            p.drawLine(x, 0, x, h)
            p.drawText(x + 3, 12, label)
        p.setPen(QColor("#ddd"))
        p.drawText(4, self.height() - 5, f"{len(self.scores)} good parts · NG from {self.threshold:.4g}")

    def bar_counts(self) -> list[int]:
        """The histogram's bar heights (what is drawn), for checks."""
        if not self.scores:
            return []
        lo = min(min(self.scores), self.review_low)
        hi = max(max(self.scores), self.threshold)
        pad = (hi - lo) * 0.12 or max(abs(hi), 1.0) * 0.1
        return [int(n) for n in np.histogram(self.scores, bins=24, range=(lo - pad, hi + pad))[0]]


class MarkableView(ImageView):
    """An image view on which a box can be dragged to mark a defect (in image pixels)."""

    marked = Signal(object)  # (x, y, w, h) in image pixels

    def __init__(self, parent=None):
        super().__init__("pick an image to mark a defect", parent)
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self)
        self._origin = QPoint()
        self.image_size: tuple[int, int] | None = None

    def set_image(self, rgb) -> None:
        self.image_size = None if rgb is None else (rgb.shape[1], rgb.shape[0])
        self._band.hide()
        super().set_image(rgb)

    def mousePressEvent(self, e) -> None:  # noqa: N802
        self._origin = e.position().toPoint()
        self._band.setGeometry(QRect(self._origin, QSize()))
        self._band.show()

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        self._band.setGeometry(QRect(self._origin, e.position().toPoint()).normalized())

    def mouseReleaseEvent(self, e) -> None:  # noqa: N802
        rect = self._band.geometry()
        box = self.to_image_box(rect.x(), rect.y(), rect.width(), rect.height())
        if box is not None:
            self.marked.emit(box)

    def to_image_box(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int] | None:
        """A widget rectangle -> (x, y, w, h) in image pixels, clipped; None when too small."""
        pm = self.pixmap()
        if self.image_size is None or pm is None or pm.isNull() or w < 3 or h < 3:
            return None
        iw, ih = self.image_size
        ox, oy = (self.width() - pm.width()) / 2, (self.height() - pm.height()) / 2
        s = iw / pm.width()
        x0, y0 = max(0.0, (x - ox) * s), max(0.0, (y - oy) * s)
        x1, y1 = min(float(iw), (x + w - ox) * s), min(float(ih), (y + h - oy) * s)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


class TeachView(QWidget):
    """Good images (picked, a folder, or captured), marked defects, teach with progress/cancel."""

    status = Signal(str)
    taught = Signal(object)  # TeachResult

    def __init__(self, facade, tasks: TaskRunner, parent=None):
        super().__init__(parent)
        self.facade, self.tasks = facade, tasks
        self.good: list[Path | np.ndarray] = []
        self.examples: list[LabelledExample] = []
        self.work_order = None  # the loaded order: labels checked against it, its limits size the probes
        self._current_image: np.ndarray | None = None
        self.last_result = None
        self._build()

    def _build(self) -> None:
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        lay.addLayout(left, 1)
        row = QHBoxLayout()
        self.part = QLineEdit()
        self.part.setPlaceholderText("part number")
        self.part.setMinimumHeight(36)
        row.addWidget(QLabel("Part"))
        row.addWidget(self.part)
        left.addLayout(row)
        pick_row = QHBoxLayout()
        pick = big_button("Add images…", None, 44)
        pick.clicked.connect(self.pick_good)
        folder = big_button("Add folder…", None, 44)
        folder.clicked.connect(self.pick_folder)
        pick_row.addWidget(pick)
        pick_row.addWidget(folder)
        left.addLayout(pick_row)
        cap = QGroupBox("Capture from a source")
        cap_row = QHBoxLayout(cap)
        self.capture_source = QLineEdit()
        self.capture_source.setPlaceholderText("camera:0, or a folder")
        self.capture_n = QSpinBox()
        self.capture_n.setRange(1, 200)
        self.capture_n.setValue(20)
        self.capture_n.setSuffix(" images")
        capture = QPushButton("Capture")
        capture.clicked.connect(self.capture)
        cap_row.addWidget(self.capture_source, 1)
        cap_row.addWidget(self.capture_n)
        cap_row.addWidget(capture)
        left.addWidget(cap)
        self.good_list = QListWidget()
        self.good_list.currentRowChanged.connect(self.preview)
        self.good_label = QLabel("Good images: 0")
        left.addWidget(self.good_label)
        left.addWidget(self.good_list, 1)
        clear = QPushButton("Clear all")
        clear.clicked.connect(self.clear)
        left.addWidget(clear)

        self.pages = QTabWidget()  # marking defects | drawing the order's zones
        lay.addWidget(self.pages, 2)
        page = QWidget()
        mid = QVBoxLayout(page)
        self.pages.addTab(page, "Images and defects")
        self.zones = ZoneEditor(self.facade, self.tasks)
        self.zones.status.connect(self.status)
        self.zones.changed.connect(self.on_zones_changed)
        self.pages.addTab(self.zones, "Zones to draw")
        self.view = MarkableView()
        self.view.marked.connect(self.on_marked)
        mid.addWidget(self.view, 1)
        mark_row = QHBoxLayout()
        self.type_word = QLineEdit()
        self.type_word.setPlaceholderText("defect type word (e.g. scratch), then drag a box on the image")
        mark_row.addWidget(self.type_word, 1)
        self.examples_label = QLabel("0 marked defects")
        mark_row.addWidget(self.examples_label)
        mid.addLayout(mark_row)

        right = QVBoxLayout()
        lay.addLayout(right, 1)
        self.teach_button = big_button("Teach", "Ctrl+T", 60)
        self.teach_button.clicked.connect(self.teach)
        self.cancel_button = big_button("Cancel", None, 44)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setMinimumHeight(28)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.histogram = Histogram()
        for w in (self.teach_button, self.cancel_button, self.progress, self.result):
            right.addWidget(w)
        right.addWidget(QLabel("<b>Good-part scores and the calibrated threshold</b>"))
        right.addWidget(self.histogram)
        right.addStretch(1)
        shortcut(self, "Ctrl+T", self.teach)

    # --- images ------------------------------------------------------------------------------------

    @Slot(object)
    def set_work_order(self, wo) -> None:
        self.part.setText(wo.part_number)
        self.work_order = wo
        self.zones.set_work_order(wo)

    @Slot(int)
    def on_zones_changed(self, undrawn: int) -> None:
        self.pages.setTabText(1, f"Zones to draw ({undrawn})" if undrawn else "Zones to draw")

    @Slot()
    def pick_good(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Good images", "", "Images (*.png *.jpg *.jpeg *.bmp *.tif)")
        self.add_good([Path(f) for f in files])

    @Slot()
    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of good images")
        if folder:
            self.add_good([Path(folder)])

    def add_good(self, items) -> None:
        """Add image files, folders (their images) or captured arrays to the good set."""
        for item in items:
            if isinstance(item, Path) and item.is_dir():
                self.add_good(sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
                continue
            self.good.append(item)
            self.good_list.addItem(item.name if isinstance(item, Path) else f"captured {len(self.good)}")
        self.good_label.setText(f"Good images: {len(self.good)}")

    @Slot()
    def capture(self) -> Task | None:
        spec, n = self.capture_source.text().strip(), self.capture_n.value()
        if not spec:
            self.result.setText("give a source to capture from (camera:0 or a folder)")
            return None

        def grab(task: Task):
            frames = []
            with open_source(spec, settings=getattr(self.facade, "settings", None)) as src:
                for frame in src:
                    frames.append(frame.image)
                    task.progress(len(frames), n, "capturing")
                    if len(frames) >= n:
                        break
            return frames

        task = Task(grab, "capture")
        task.signals.progress.connect(self.on_progress)
        task.signals.result.connect(self.on_captured)
        task.signals.error.connect(self.on_error)
        return self.tasks.start("capture", task)

    @Slot(object)
    def on_captured(self, frames) -> None:
        self.add_good(frames)
        self.result.setText(f"captured {len(frames)} images")

    @Slot(int)
    def preview(self, row: int) -> None:
        if not 0 <= row < len(self.good):
            return
        item = self.good[row]
        try:
            self._current_image = read_image(item) if isinstance(item, Path) else item
        except Exception as exc:
            self.on_error(str(exc))
            return
        self.view.set_image(self._current_image)
        self.zones.set_image(self._current_image)

    @Slot(object)
    def on_marked(self, box) -> None:
        word = self.type_word.text().strip()
        if self._current_image is None or not word:
            self.result.setText("type a defect word first, then drag a box on the image")
            return
        self.examples.append(LabelledExample(self._current_image, word, box=tuple(box)))
        self.examples_label.setText(f"{len(self.examples)} marked defects")
        self.result.setText(f"marked {word} at {tuple(box)}; that image is no longer taught as good")
        # A marked image shows a defect: it must not be taught as good.
        row = self.good_list.currentRow()
        if 0 <= row < len(self.good):
            self.good.pop(row)
            self.good_list.takeItem(row)
            self.good_label.setText(f"Good images: {len(self.good)}")

    @Slot()
    def clear(self) -> None:
        self.good.clear()
        self.examples.clear()
        self.good_list.clear()
        self.good_label.setText("Good images: 0")
        self.examples_label.setText("0 marked defects")
        self._current_image = None
        self.view.set_image(None)

    # --- teaching ------------------------------------------------------------------------------------

    @Slot()
    def teach(self) -> Task | None:
        part = self.part.text().strip()
        if not part or len(self.good) < 2:
            self.result.setText("need a part number and at least 2 good images (10-50 is best)")
            return None
        if self.tasks.running("run") is not None:
            self.result.setText("stop the line before teaching (the station is inspecting)")
            return None
        good, examples, facade = list(self.good), list(self.examples), self.facade
        wo = self.work_order if self.work_order is not None and self.work_order.part_number == part else None
        task = Task(lambda t: facade.teach(part, good, examples, progress=t.progress, work_order=wo), "teach")
        task.signals.progress.connect(self.on_progress)
        task.signals.result.connect(self.on_taught)
        task.signals.error.connect(self.on_error)
        task.signals.finished.connect(self.on_finished)
        self.teach_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.result.setText(f"teaching {part} from {len(good)} good images…")
        return self.tasks.start("teach", task)

    @Slot()
    def cancel(self) -> None:
        task = self.tasks.running("teach")
        if task is not None:
            task.cancel.set()
            self.result.setText("cancelling…")

    @Slot(int, int, str)
    def on_progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{message} %v/%m" if message else "%v/%m")

    @Slot(object)
    def on_taught(self, r) -> None:
        self.last_result = r
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("taught")
        self.result.setText(f"taught <b>{r.part_number}</b>: {r.n_good} good, {r.n_examples} defect examples, "
                            f"threshold {r.threshold:.4g} (REVIEW from {r.review_low:.4g}) in {r.seconds:.1f} s"
                            + "".join(f"<br>{_esc(x)}" for x in [*r.operating_lines(), *r.notes]))
        self.histogram.set_data(r.good_scores, r.threshold, r.review_low)
        if not self.part.text().strip():
            self.part.setText(r.part_number)
        self.status.emit(f"part {r.part_number} taught")
        self.taught.emit(r)

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.result.setText(f"<span style='color:#c62828'>{_esc(message)}</span>")
        self.status.emit(message)

    @Slot()
    def on_finished(self) -> None:
        self.teach_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.result.text().startswith("cancelling"):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.result.setText("teaching cancelled; the previous reference is kept")
        elif self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

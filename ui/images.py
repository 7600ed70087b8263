"""Image display helpers: a label that shows an image scaled to fit, and widget-local shortcuts."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QLabel, QSizePolicy

from ui.runner import to_qimage

__all__ = ["ImageView", "shortcut", "to_qimage"]


class ImageView(QLabel):
    """Shows an RGB array or a QImage scaled to the widget, keeping the aspect ratio.

    Scaling is fast (not smooth) while frames stream in and smooth for a still image, so the
    live view keeps up with the camera.
    """

    def __init__(self, placeholder: str = "", parent=None):
        super().__init__(placeholder, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("background:#1e1e1e; color:#aaa; border:1px solid #444;")
        self._pixmap: QPixmap | None = None
        self.smooth = True
        self.shown = 0  # images displayed (for the frame-rate measurement)

    def set_image(self, image: np.ndarray | QImage | None) -> None:
        if image is None:
            self._pixmap = None
            self.clear()
            return
        if isinstance(image, np.ndarray):
            image = to_qimage(image)
        self._pixmap = QPixmap.fromImage(image)
        self.shown += 1
        self._rescale()

    def image_size(self) -> tuple[int, int] | None:
        """(width, height) of the image shown, None when empty."""
        return None if self._pixmap is None else (self._pixmap.width(), self._pixmap.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None or self.width() < 2 or self.height() < 2:
            return
        mode = Qt.TransformationMode.SmoothTransformation if self.smooth else Qt.TransformationMode.FastTransformation
        self.setPixmap(self._pixmap.scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio, mode))


def shortcut(widget, key: str, slot) -> QShortcut:
    """A key active while focus is inside ``widget`` (so tabs don't steal each other's keys).

    ``slot`` must be a GUI-thread callable (shortcuts fire in the GUI thread).
    """
    sc = QShortcut(QKeySequence(key), widget)
    sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    sc.activated.connect(slot)
    return sc

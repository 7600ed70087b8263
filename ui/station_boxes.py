"""The station's work-order and source boxes (built onto the StationView, which owns the slots)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
)

from ui.panels import big_button

SOURCE_KINDS = [("Folder", "folder"), ("Hot folder", "hotfolder"), ("Video file", "video"),
                ("Camera", "camera"), ("Files", "files")]
SOURCE_HINTS = {"folder": "folder of part images", "hotfolder": "folder a vision system drops images into",
                "video": "video file", "camera": "camera index (0, 1, …) or rtsp:// URL",
                "files": "image files, comma-separated"}


def order_box(view) -> QGroupBox:
    """The work-order box of the station view ``view`` (sets its widgets as attributes)."""
    box = QGroupBox("Work order")
    g = QGridLayout(box)
    view.order_field = QLineEdit()
    view.order_field.setPlaceholderText("scan or type the order id, Enter   [Ctrl+L]")
    view.order_field.setMinimumHeight(40)
    view.order_field.returnPressed.connect(view.load_order_id)
    view.open_button = big_button("Open…", "Ctrl+O", 44)
    view.open_button.clicked.connect(view.open_order_file)
    view.paste_button = big_button("Paste text", None, 44)
    view.paste_button.setCheckable(True)
    view.paste_button.toggled.connect(view._toggle_paste)
    g.addWidget(view.order_field, 0, 0, 1, 2)
    g.addWidget(view.open_button, 1, 0)
    g.addWidget(view.paste_button, 1, 1)
    view.paste_edit = QPlainTextEdit()
    view.paste_edit.setPlaceholderText("Order: WO-…\nPart: …\nPixel size: 0.05 mm/px\n\n1. No cracks.")
    view.paste_use = QPushButton("Use pasted text")
    view.paste_use.clicked.connect(view.load_pasted)
    for w in (view.paste_edit, view.paste_use):
        w.hide()
    g.addWidget(view.paste_edit, 2, 0, 1, 2)
    g.addWidget(view.paste_use, 3, 0, 1, 2)
    view.order_info = QLabel("no work order loaded")
    view.order_info.setWordWrap(True)
    view.order_info.setTextFormat(Qt.TextFormat.RichText)
    g.addWidget(view.order_info, 4, 0, 1, 2)
    view.clauses = QListWidget()
    view.clauses.setWordWrap(True)
    g.addWidget(view.clauses, 5, 0, 1, 2)
    g.setRowStretch(5, 1)
    return box

def source_box(view) -> QGroupBox:
    """The source box of the station view ``view`` (sets its widgets as attributes)."""
    box = QGroupBox("Source")
    s = QGridLayout(box)
    view.source_kind = QComboBox()
    for label, kind in SOURCE_KINDS:
        view.source_kind.addItem(label, kind)
    view.source_kind.currentIndexChanged.connect(view._source_hint)
    view.source_target = QLineEdit()
    browse = QPushButton("…")
    browse.setToolTip("choose a folder or file")
    browse.clicked.connect(view.browse_source)
    view.start_button = big_button("Start", "F5")
    view.stop_button = big_button("Stop", "Esc")
    view.stop_button.setEnabled(False)
    view.start_button.clicked.connect(view.start)
    view.stop_button.clicked.connect(view.stop)
    s.addWidget(view.source_kind, 0, 0)
    s.addWidget(browse, 0, 1)
    s.addWidget(view.source_target, 1, 0, 1, 2)
    s.addWidget(view.start_button, 2, 0)
    s.addWidget(view.stop_button, 2, 1)
    view.start_reason = QLabel("")  # why Start is off until the line can run (ui/station_guide.py)
    view.start_reason.setObjectName("startReason")
    view.start_reason.setWordWrap(True)
    view.start_reason.setStyleSheet("color:#c62828; font-weight:bold;")
    s.addWidget(view.start_reason, 3, 0, 1, 2)
    view._source_hint()
    return box

"""The floor layout (issue 13 point 6): readable at 2 m, usable with gloves.

One Qt style sheet on the main window (it cascades to every tab, the sign-in bar and the dialogs the
window owns) makes the text large (reasons, sizes, status, clauses >= 20 px; the verdict banner
120 px; counters 56 px), the buttons and fields touch-sized (>= 48 px high), the colours high
contrast (black on white, 2 px black borders; the verdict colours stay), and the window full
screen. Widgets are styled by type and by a few object names, never one by one; turning it off
removes the sheet, gives back the fonts and minimum sizes it overrode, and the window returns to its
normal size. Laid out for a Full HD (1920 x 1080) panel; a smaller screen makes the window larger than it.

Switched by ``View > Floor layout`` (F11) or in Settings…; applied at once and saved to the settings
file (``floor_layout``, through ``Inspector.save_settings``, audited as ``settings.changed``).
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QWidget

from ui.workers import Task

FLOOR_STYLE = """
QMainWindow, QDialog, QTabWidget::pane, QScrollArea, QStackedWidget { background: #ffffff; }
QWidget { color: #000000; font-size: 20px; }
QLabel, QCheckBox, QRadioButton { font-size: 20px; }
QGroupBox { font-size: 20px; font-weight: bold; border: 2px solid #000000; border-radius: 6px;
            margin-top: 18px; padding-top: 8px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; }
QPushButton { min-height: 48px; font-size: 22px; font-weight: bold; padding: 2px 14px;
              background: #eeeeee; border: 2px solid #000000; border-radius: 6px; }
QPushButton:pressed, QPushButton:checked { background: #bbdefb; }
QPushButton:disabled { color: #616161; border-color: #9e9e9e; background: #e0e0e0; }
QPushButton:focus { border: 4px solid #1565c0; }
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QDateEdit, QPlainTextEdit, QTextEdit {
    min-height: 48px; font-size: 22px; background: #ffffff; color: #000000;
    border: 2px solid #000000; border-radius: 4px; padding: 0 6px; }
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus { border: 4px solid #1565c0; }
QComboBox QAbstractItemView { font-size: 22px; }
QListWidget, QTableView, QTableWidget, QTreeView { font-size: 20px; background: #ffffff;
    border: 2px solid #000000; }
QHeaderView::section { font-size: 20px; font-weight: bold; padding: 6px; background: #e0e0e0;
    color: #000000; border: 1px solid #000000; }
QTabBar::tab { min-height: 48px; font-size: 24px; font-weight: bold; padding: 4px 26px;
    background: #e0e0e0; border: 2px solid #000000; }
QTabBar::tab:selected { background: #ffffff; border-bottom: 5px solid #1565c0; }
QMenuBar, QMenu { font-size: 20px; }
QStatusBar, QStatusBar QLabel { font-size: 22px; font-weight: bold; }
QProgressBar { min-height: 36px; font-size: 20px; }
QToolTip { font-size: 20px; }
StationView > QLabel { font-size: 30px; }
StationView > QLabel#latency { font-size: 20px; }
QWidget#stationLeft { min-width: 760px; max-width: 820px; }
StatusLog { font-size: 22px; }
StationView > VerdictBanner { font-size: 120px; min-height: 200px; }
CounterPanel QLabel { font-size: 24px; font-weight: bold; }
CounterPanel QLabel#counter { font-size: 56px; }
HoldBar QLabel { font-size: 32px; }
PartStrip QPushButton { min-width: 60px; font-size: 18px; padding: 2px; }
GuidePanel QLabel#guideChip { font-size: 22px; min-height: 44px; }
GuidePanel QLabel#guideText { font-size: 34px; }
QLabel#startReason { font-size: 22px; }
"""


class FloorLayout(QObject):
    """The menu switch and its effect on ``window`` (a ``ui.app.MainWindow``)."""

    changed = Signal(bool)

    def __init__(self, window, menu):
        super().__init__(window)  # the window is the parent, never held here: no cycle for the GC to break
        self.on = False
        self.saved = None  # the settings last saved from this window (the facade keeps the start-up ones)
        self._geometry = None  # the window's place before full screen
        self._normal: dict = {}  # widget -> (its own font or None, minimum size) before the floor layout
        self.action = QAction("Floor layout (large text, touch, full screen)", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("F11"))
        self.action.toggled.connect(self.switch)
        menu.addAction(self.action)

    @property
    def window(self):
        return self.parent()

    def apply(self, on: bool) -> None:
        """Show the window in the floor layout (``on``) or the normal one, at once; nothing is saved."""
        w = self.window
        if bool(on) != self.on:
            if on:  # what the sheet overrides, to give back when it goes (Qt does not restore all of it)
                self._normal = {c: (QFont(c.font()) if c.testAttribute(Qt.WidgetAttribute.WA_SetFont) else None,
                                    c.minimumSize(), c.maximumSize()) for c in w.findChildren(QWidget)}
            w.setStyleSheet(FLOOR_STYLE if on else "")
            if not on:
                self._restore()
        self.on = bool(on)
        full = bool(w.windowState() & Qt.WindowState.WindowFullScreen)
        if self.on and not full:
            self._geometry = w.geometry()
            self._full_screen()
            if not w.isVisible():  # showing lays the large widgets out, which may end full screen: again then
                QTimer.singleShot(0, self._full_screen)
        elif full and not self.on:
            w.setWindowState(Qt.WindowState.WindowNoState)
            if self._geometry is not None:
                w.setGeometry(self._geometry)
        self.action.blockSignals(True)
        self.action.setChecked(self.on)
        self.action.blockSignals(False)
        self.changed.emit(self.on)

    def current(self):
        """The station's settings as last saved from this window (the settings dialog edits these)."""
        return self.saved if self.saved is not None else self.window.facade.settings

    def saved_now(self, settings) -> None:
        """The settings dialog saved ``settings``: its layout applies at once."""
        self.saved = settings
        self.apply(settings.floor_layout)

    @Slot()
    def _full_screen(self) -> None:
        w = self.window
        w.setGeometry(w.screen().geometry())  # also where no window manager handles full screen (Xvfb)
        w.setWindowState(Qt.WindowState.WindowFullScreen)

    def _restore(self) -> None:
        for widget, (font, minimum, maximum) in self._normal.items():
            try:
                widget.setFont(font if font is not None else QFont())  # QFont(): inherited again
                widget.setMinimumSize(minimum)
                widget.setMaximumSize(maximum)
            except RuntimeError:  # deleted meanwhile (a part strip button)
                pass
        self._normal = {}

    @Slot(bool)
    def switch(self, on: bool) -> Task | None:
        """The menu's switch: applied now and saved to the settings file on a worker."""
        self.apply(on)
        facade, base = self.window.facade, self.current()
        if base.floor_layout == self.on:
            return None
        new = dataclasses.replace(base, floor_layout=self.on)
        task = Task(lambda t: (facade.save_settings(new), new), "save floor layout")
        task.signals.result.connect(self.on_saved)
        task.signals.error.connect(self.on_error)
        return self.window.tasks.start("floor-layout", task)

    @Slot(object)
    def on_saved(self, payload) -> None:
        path, self.saved = payload
        self.window.facade.settings.floor_layout = self.saved.floor_layout  # a UI setting: live
        self.window.show_status(f"floor layout {'on' if self.saved.floor_layout else 'off'}; saved to {path}")

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.window.show_status(f"floor layout {'on' if self.on else 'off'} for now, not saved: {message}")

"""Station settings dialog over the typed ``inspector.settings.Settings``.

Saved to the settings file (``~/.config/inspector/settings.yaml`` or $XDG_CONFIG_HOME); the
database, device and folders apply at the next start. Invalid values are refused with the
settings' own message, shown in the dialog.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
)

from inspector.settings import DEVICES, EXPLAIN_MODES, Settings, SettingsError


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Station settings")
        self.settings = settings
        form = QFormLayout(self)
        self.station = QLineEdit(settings.station)
        self.operator = QLineEdit(settings.operator)
        self.operator.setPlaceholderText("user name recorded with inspections")
        self.database = QLineEdit(settings.database_url)
        self.images = QLineEdit(str(settings.image_dir))
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device)
        self.explain = QComboBox()
        self.explain.addItems(list(EXPLAIN_MODES))
        self.explain.setCurrentText(settings.explain)
        self.frr = QDoubleSpinBox()
        self.frr.setRange(0.1, 20.0)
        self.frr.setSuffix(" %")
        self.frr.setValue(settings.target_false_reject * 100)
        self.hold = QCheckBox("hold NG / REVIEW on the banner until acknowledged (F6)")
        self.hold.setChecked(settings.hold_flagged)
        self.floor = QCheckBox("floor layout: large text, touch-size buttons, high contrast")
        self.floor.setChecked(settings.floor_layout)
        form.addRow("Station name", self.station)
        form.addRow("Operator", self.operator)
        form.addRow("Database URL", self.database)
        form.addRow("Image folder", self.images)
        form.addRow("Device", self.device)
        form.addRow("Explanations", self.explain)
        form.addRow("Target false-reject rate", self.frr)
        form.addRow("Flagged parts", self.hold)
        form.addRow("Layout", self.floor)
        self.error = QLabel("")
        self.error.setStyleSheet("color:#c62828;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._result: Settings | None = None

    def accept(self) -> None:
        try:
            self._result = dataclasses.replace(
                self.settings, station=self.station.text().strip(), operator=self.operator.text().strip(),
                database_url=self.database.text().strip(),
                image_dir=Path(self.images.text().strip()), device=self.device.currentText(),
                explain=self.explain.currentText(), target_false_reject=self.frr.value() / 100.0,
                hold_flagged=self.hold.isChecked(), floor_layout=self.floor.isChecked())
        except SettingsError as exc:
            self.error.setText(str(exc))
            return
        super().accept()

    def result_settings(self) -> Settings:
        return self._result or self.settings

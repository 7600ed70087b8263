"""Shared pytest fixtures.

Qt / desktop-app tests (tests/test_ui_*.py):
- ``qt_config``: QSettings and the settings file point into the test's tmp folder, so no test
  ever reads or writes the user's configuration.
- ``ui_reference_dir``: the sample part BR-100 taught once per session with the real embedded
  model on CPU; tests copy it into their own data folder (``ui_settings``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
SAMPLE_ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
SAMPLE_GOOD = SAMPLES / "parts" / "BR-100" / "good"
SAMPLE_LINE = SAMPLES / "parts" / "BR-100" / "line"


@pytest.fixture
def qt_config(tmp_path, monkeypatch):
    """Isolate every configuration the app touches: QSettings (window layout) and the
    inspector settings file ($XDG_CONFIG_HOME). Returns the QSettings folder."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings

    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("INSPECTOR_CONFIG", raising=False)
    qdir = tmp_path / "qsettings"
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(qdir))
    return qdir


@pytest.fixture(scope="session")
def ui_reference_dir(tmp_path_factory) -> Path:
    """``reference_dir`` holding BR-100 taught from the 12 sample good images (once per session)."""
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    data = tmp_path_factory.mktemp("ui-taught")
    with Inspector(Settings(data_dir=data, device="cpu", explain="off")) as facade:
        wo = facade.load_work_order(SAMPLE_ORDER)
        facade.teach(wo.part_number, sorted(SAMPLE_GOOD.glob("*.png")))
    return data / "references"


@pytest.fixture
def ui_settings(tmp_path, ui_reference_dir):
    """Settings for one test: own database and images, a copy of the taught reference, CPU."""
    from inspector.settings import Settings

    data = tmp_path / "data"
    shutil.copytree(ui_reference_dir, data / "references")
    return Settings(data_dir=data, device="cpu", station="test-station", operator="op1")

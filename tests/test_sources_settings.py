"""``open_source(..., settings=...)`` hands the station's settings to a source that takes them (a
plugin source reads its ``Settings.plugins`` section from them, so ``--config`` reaches it), and
leaves a source without a ``settings`` keyword alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspector import plugins
from inspector.settings import Settings
from inspector.sources import FrameSource, open_source


class SettingsProbe(FrameSource):
    name = "probe"

    def __init__(self, target: str = "", on_error=None, *, settings=None, **options):
        super().__init__(on_error=on_error)
        self.target, self.settings = target, settings

    def __iter__(self):
        return iter(())


@pytest.fixture
def probe_source(monkeypatch):
    monkeypatch.setitem(plugins.BUILTINS, "inspector.sources",
                        {**plugins.BUILTINS.get("inspector.sources", {}), "probe": f"{__name__}:SettingsProbe"})
    plugins._table.cache_clear()  # the plugin table is cached per process
    yield
    plugins._table.cache_clear()


def test_a_source_that_takes_settings_gets_the_stations(probe_source, tmp_path):
    settings = Settings(data_dir=tmp_path, plugins={"probe": {"exposure_us": 900}})
    with open_source("probe:cam1", settings=settings) as src:
        assert src.target == "cam1" and src.settings is settings
        assert src.settings.plugin("probe") == {"exposure_us": 900}
    with open_source("probe:cam1") as src:  # no settings given: the source falls back on its own
        assert src.settings is None


def test_a_source_without_a_settings_keyword_opens_as_before(tmp_path):
    img = tmp_path / "a.png"
    cv2.imwrite(str(img), np.full((40, 40, 3), 128, np.uint8))
    with open_source(str(tmp_path), settings=Settings(data_dir=tmp_path / "d")) as src:
        frames = list(src)
    assert [f.name for f in frames] == ["a.png"]

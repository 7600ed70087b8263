"""One line, one door: the CLI (`inspector inspect`) and the app's station runner run the same core
loop. A fake publisher plugged in through the ``inspector.publishers`` entry-point group hears
every part of both runs, and both runs store the same records for the same folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ORDER = ROOT / "sample_data" / "workorders" / "WO-1001_bracket.txt"
SAMPLE_LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"
PARTS = ("line_01.png", "line_04.png", "line_07.png", "line_12.png")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("qt_config")]

HEARD: list = []  # what FakePublisher received, all runs


class FakePublisher:
    """What an MQTT/OPC UA publisher plugin looks like: built from the settings, called per event."""

    def __init__(self, settings):
        self.station = settings.station

    def __call__(self, event) -> None:
        HEARD.append((self.station, event))


@pytest.fixture
def fake_publisher(monkeypatch):
    from inspector import plugins

    monkeypatch.setitem(plugins.BUILTINS, "inspector.publishers", {"fake": f"{__name__}:FakePublisher"})
    plugins._table.cache_clear()
    HEARD.clear()
    yield HEARD
    plugins._table.cache_clear()


def _data_dir(tmp_path: Path, name: str, references: Path) -> Path:
    data = tmp_path / name
    shutil.copytree(references, data / "references")
    return data


def _record(insp) -> dict:
    """A stored record without what differs between any two runs (ids, clocks, timings)."""
    from inspector.domain import to_data

    d = to_data(insp)
    for key in ("id", "captured_at", "inspected_at", "timings_ms", "source", "explanation"):
        d.pop(key, None)
    return d


def test_cli_and_app_run_one_line_heard_by_a_publisher_with_identical_records(
        qtbot, tmp_path, ui_reference_dir, fake_publisher):
    from inspector.cli import main
    from inspector.events import LineStarted, LineStopped, PartJudged, PartStarted, PartStored
    from inspector.pipeline import Inspector
    from inspector.settings import Settings
    from ui.runner import StationRunner
    from ui.workers import TaskRunner

    folder = tmp_path / "line"
    folder.mkdir()
    for name in PARTS:
        shutil.copy(SAMPLE_LINE / name, folder / name)

    # the CLI, in this process, so the fake publisher plugin is found
    cli_data = _data_dir(tmp_path, "cli", ui_reference_dir)
    rc = main(["--data-dir", str(cli_data), "--device", "cpu", "--station", "cli-station", "--operator", "op1",
               "inspect", "--order", str(SAMPLE_ORDER), "--explain", "off", str(folder)])
    assert rc == 0
    cli_events = [e for s, e in fake_publisher if s == "cli-station"]
    stored = [e.inspection.frame_name for e in cli_events if isinstance(e, PartStored)]
    assert sorted(stored) == sorted(PARTS)
    assert [type(e) for e in cli_events if isinstance(e, (LineStarted, LineStopped))] == [LineStarted, LineStopped]
    assert sum(isinstance(e, PartStarted) for e in cli_events) == len(PARTS)
    assert sum(isinstance(e, PartJudged) for e in cli_events) == len(PARTS)

    # the app's station runner on a facade of its own (another database), same folder
    app_data = _data_dir(tmp_path, "app", ui_reference_dir)
    settings = Settings(data_dir=app_data, device="cpu", station="app-station", operator="op1", explain="off")
    facade = Inspector(settings)
    wo = facade.load_work_order(SAMPLE_ORDER)
    runner, tasks = StationRunner(), TaskRunner()
    shown = []
    runner.part.connect(shown.append)
    with qtbot.waitSignal(runner.stopped, timeout=600_000) as done:
        runner.start(facade, str(folder), wo, tasks)
    summary = done.args[0]
    assert summary is not None and summary.inspected == len(PARTS)
    qtbot.waitUntil(lambda: len(shown) == len(PARTS), timeout=10_000)
    app_records = {r.frame_name: _record(r) for r in facade.query(limit=None)}
    facade.close()
    app_events = [e for s, e in fake_publisher if s == "app-station"]
    assert sorted(e.inspection.frame_name for e in app_events if isinstance(e, PartStored)) == sorted(PARTS)

    with Inspector(Settings(data_dir=cli_data, device="cpu", station="cli-station")) as cli_facade:
        cli_records = {r.frame_name: _record(r) for r in cli_facade.query(limit=None)}
    assert sorted(cli_records) == sorted(app_records) == sorted(PARTS)
    for name in PARTS:
        cli_records[name].pop("station")
        app_records[name].pop("station")
        assert cli_records[name] == app_records[name], name

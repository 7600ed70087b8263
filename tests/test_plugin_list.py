"""`inspector plugins`: lists every registered plugin with its status; a broken one is listed
with its error and never stops the command or the station. Publisher factories get the
station handle when they ask for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector import plugins
from inspector.cli import main


class StationAwarePublisher:
    def __init__(self, settings, station):
        self.settings, self.station, self.closed = settings, station, False

    def __call__(self, event) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(plugins.BUILTINS, "inspector.publishers", {
        "good": f"{__name__}:StationAwarePublisher",
        "broken": "inspector_no_such_module:Publisher",
    })
    plugins._table.cache_clear()
    yield
    plugins._table.cache_clear()


def test_lists_builtins_and_marks_a_broken_plugin(registered, capsys):
    rc = main(["plugins", "--json"])
    rows = {(r["group"], r["name"]): r for r in json.loads(capsys.readouterr().out)}
    assert rc == 1  # something failed to load: a script can tell
    assert rows[("inspector.sources", "folder")]["loaded"]
    assert rows[("inspector.backends", "embedded-vlm")]["loaded"]
    assert rows[("inspector.publishers", "good")]["loaded"]
    broken = rows[("inspector.publishers", "broken")]
    assert not broken["loaded"] and "inspector_no_such_module" in broken["error"]


def test_text_listing_and_group_filter(registered, capsys):
    assert main(["plugins", "--group", "sources"]) == 0
    out = capsys.readouterr().out
    assert "folder" in out and "loaded" in out and "publishers" not in out


def test_station_gets_a_two_argument_publisher_and_closes_it(registered, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    insp = Inspector(Settings(data_dir=str(tmp_path)))
    [publisher] = insp._publishers  # the broken one was skipped
    assert isinstance(publisher, StationAwarePublisher) and publisher.station is insp
    insp.close()
    assert publisher.closed


def test_plugin_settings_sections(tmp_path, monkeypatch):
    from inspector.settings import Settings, SettingsError

    monkeypatch.setenv("INSPECTOR_PLUGINS", '{"mqtt": {"host": "127.0.0.1", "port": 1884}, "opcua": false}')
    s = Settings.load({"data_dir": str(tmp_path)})
    assert s.plugin("mqtt") == {"host": "127.0.0.1", "port": 1884}
    assert s.plugin("opcua") is None and s.plugin("modbus") is None
    assert Settings(data_dir=tmp_path, plugins={"http": {"enabled": False}}).plugin("http") is None
    with pytest.raises(SettingsError, match="plugins.http"):
        Settings(data_dir=tmp_path, plugins={"http": "yes"}).plugin("http")


def test_publishers_start_only_for_commands_that_run_the_line(registered, tmp_path):
    from inspector.cli import Context, build_parser
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    quiet = Inspector(Settings(data_dir=str(tmp_path / "a")), publishers=False)  # e.g. `inspector list`
    assert quiet._publishers == []
    quiet.close()
    parser = build_parser()
    for argv, expected in ((["inspect", "--order", "WO-1", str(tmp_path)], True), (["list"], False)):
        args = parser.parse_args(["--data-dir", str(tmp_path / "b"), "--create-db", *argv])
        ctx = Context(args)
        assert bool(ctx.inspector._publishers) is expected, argv
        ctx.close()


def test_line_warms_the_backend_up_before_the_first_part(tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    class Backend:
        warmed = 0

        def warm_up(self):
            Backend.warmed += 1

    insp = Inspector(Settings(data_dir=str(tmp_path)), backend=Backend(), publishers=False)
    wo = insp.load_work_order(Path("sample_data/workorders/WO-1001_bracket.txt"))
    from inspector.sources import SourceError

    with pytest.raises(SourceError, match="no image files"):
        insp.run([], wo)  # the source refuses to open after the warm-up, before any part
    insp.close()
    assert Backend.warmed == 1

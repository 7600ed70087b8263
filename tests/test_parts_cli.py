"""Parts on the command line (issue 11): ``inspector inspect --trigger software`` reads one trigger
per stdin line (the line is the part id, an empty line gets a generated id; the end of stdin stops
the line), ``inspector list --part-id`` and ``inspector show <part id>`` find the part.

In-process ``main`` with a fast scratch backend registered like a backend plugin; the camera is
OpenCV on a looping video file."""

from __future__ import annotations

import io
import json
import sys

import cv2
import pytest
from parts_support import write_belt_video
from zone_support import ScratchBackend, part_image, write_order


def scratch_backend(reference_dir, device="cpu", **_):
    return ScratchBackend()


@pytest.fixture
def scratch_plugin(monkeypatch):
    from inspector import plugins

    monkeypatch.setitem(plugins.BUILTINS, "inspector.backends",
                        {**plugins.BUILTINS["inspector.backends"], "scratch": f"{__name__}:scratch_backend"})
    plugins._table.cache_clear()
    yield
    plugins._table.cache_clear()


def _cli(capsys, data, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    from inspector.cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(["--data-dir", str(data), "--device", "cpu", *args])
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def test_stdin_triggers_give_one_part_per_line_and_the_part_is_found_by_its_id(
        tmp_path, capsys, monkeypatch, scratch_plugin):
    monkeypatch.setenv("INSPECTOR_BACKEND", "scratch")
    monkeypatch.setenv("INSPECTOR_EXPLAIN", "off")
    video = write_belt_video(tmp_path / "cam.avi", [cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)] * 2)
    order = write_order(tmp_path)
    data = tmp_path / "data"
    rc, out = _cli(capsys, data, "inspect", "--order", str(order), "--trigger", "software", f"camera:{video}",
                   stdin="SN-0001\nSN-0002\n\n", monkeypatch=monkeypatch)
    assert rc == 0, out
    assert "SN-0001" in out and "SN-0002" in out and "WO-7001-L-1-000001" in out
    assert "3 inspected" in out  # one per stdin line; the camera's other frames are not parts

    rc, out = _cli(capsys, data, "list", "--part-id", "SN-000", "--json")
    assert rc == 0 and sorted(r["part_id"] for r in json.loads(out[out.index("["):])) == ["SN-0001", "SN-0002"]
    rc, out = _cli(capsys, data, "show", "SN-0002")
    assert rc == 0 and "part id SN-0002" in out and out.count("inspection ") == 1
    rc, out = _cli(capsys, data, "list", "--part-id", "nothing-like-it")
    assert rc == 0 and "no inspections" in out


def test_a_mode_the_source_lacks_is_a_clear_error(tmp_path, capsys, monkeypatch, scratch_plugin):
    monkeypatch.setenv("INSPECTOR_BACKEND", "scratch")
    video = write_belt_video(tmp_path / "v.avi", [cv2.cvtColor(part_image(), cv2.COLOR_RGB2BGR)])
    rc, out = _cli(capsys, tmp_path / "data", "inspect", "--order", str(write_order(tmp_path)),
                   "--trigger", "hardware", f"video:{video}")
    assert rc == 2 and "does not support trigger mode 'hardware'" in out

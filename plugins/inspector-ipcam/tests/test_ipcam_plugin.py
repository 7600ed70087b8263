"""The plugin as the station sees it: registered and loaded (``inspector plugins``); an HTTP MJPEG camera
(a real ``ThreadingHTTPServer`` streaming multipart/x-mixed-replace JPEGs on 127.0.0.1); URLs, camera
names and options from the settings section; credentials masked everywhere, including what OpenCV
and FFmpeg print themselves (checked in a subprocess's whole output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from inspector_ipcam import IPCamSource, mask_url
from inspector_ipcam.options import merge
from ipcam_stream import MjpegServer, Reader, free_port, read_stamp, wait_for

from inspector import plugins
from inspector.errors import InspectorError
from inspector.settings import Settings
from inspector.sources import SourceError, open_source

SECRET = "Pa55-word"


def test_registered_and_listed_loaded(capsys):
    rows = {(r.group, r.name): r for r in plugins.status(("inspector.sources",))}
    row = rows[("inspector.sources", "ipcam")]
    assert (
        row.loaded
        and row.distribution == "inspector-ipcam"
        and row.target == "inspector_ipcam.source:IPCamSource"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "plugins", "--group", "sources", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    listed = {r["name"]: r for r in json.loads(proc.stdout)}
    assert listed["ipcam"]["loaded"] and listed["ipcam"]["distribution"] == "inspector-ipcam", proc.stderr


def test_http_mjpeg_stream_gives_whole_frames_newest_first():
    server = MjpegServer().start()
    errors = []
    try:
        src = open_source(f"ipcam:{server.url}", on_error=errors.append, settings=Settings())
        with src:
            reader = Reader(src).start()
            assert wait_for(lambda: reader.count() >= 8), errors
            reader.stop()
    finally:
        server.stop()
    stamps = reader.stamps()
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(f.image.shape == (512, 512, 3) and f.image.dtype == np.uint8 for f in reader.frames)
    assert errors == []


def test_camera_names_and_options_come_from_the_settings_section():
    server = MjpegServer().start()
    try:
        settings = Settings(
            plugins={"ipcam": {"cameras": {"dock": server.url}, "read_timeout_s": 2, "transport": "udp"}}
        )
        src = open_source("ipcam:dock#read_timeout_s=3", settings=settings)
        assert src.url == server.url and src.options.read_timeout_s == 3 and src.options.transport == "udp"
        with src:
            assert read_stamp(next(iter(src)).image) >= 0
        assert IPCamSource("", settings=Settings(plugins={"ipcam": {"url": server.url}})).url == server.url
    finally:
        server.stop()


@pytest.mark.parametrize(
    "spec, match",
    [
        ("ipcam:", "no URL given"),
        ("ipcam:yard", "no camera named 'yard' in plugins.ipcam.cameras"),
        ("ipcam:ftp://cam/x", "is not an IP camera URL"),
        ("ipcam:rtsp://cam:notaport/x", "bad URL"),
        ("ipcam:rtsp://cam/x#shutter=5", "unknown ipcam option 'shutter'.*known: .*read_timeout_s"),
        ("ipcam:rtsp://cam/x#read_timeout_s=soon", "read_timeout_s must be a number"),
        ("ipcam:rtsp://cam/x#transport=quic", "transport 'quic'"),
        ("ipcam:rtsp://cam/x#low_delay=maybe", "low_delay must be true or false"),
    ],
)
def test_bad_specs_are_refused_with_a_message(spec, match):
    with pytest.raises(SourceError, match=match) as err:
        open_source(spec, settings=Settings())
    assert isinstance(err.value, InspectorError) and not err.value.recoverable


def test_options_layer_section_then_fragment_then_keywords():
    opts = merge(
        {"read_timeout_s": 4, "max_reconnects": 3, "url": "x", "cameras": {}},
        "read_timeout=2&low_delay=no",
        {"max_reconnects": None},
    )
    assert (opts.read_timeout_s, opts.max_reconnects, opts.low_delay, opts.transport) == (
        2.0,
        None,
        False,
        "tcp",
    )
    assert opts.capture_options("rtsp") == "rtsp_transport;tcp"
    assert merge(None).capture_options("http") == "fflags;nobuffer|flags;low_delay"


@pytest.mark.parametrize(
    "url, shown",
    [
        ("rtsp://admin:Pa55-word@10.0.0.7:554/Streaming/101", "rtsp://***:***@10.0.0.7:554/Streaming/101"),
        ("rtsp://admin@10.0.0.7/live", "rtsp://***:***@10.0.0.7/live"),
        ("rtsp://admin:Pa55/w@rd@10.0.0.7/live", "rtsp://***:***@10.0.0.7/live"),  # unencoded / and @ in it
        (
            "http://10.0.0.7/mjpeg.cgi?user=admin&password=Pa55-word&ch=1",
            "http://10.0.0.7/mjpeg.cgi?user=admin&password=***&ch=1",
        ),
        ("rtsp://10.0.0.7/live", "rtsp://10.0.0.7/live"),
    ],
)
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_no_password_in_anything_printed_when_a_camera_cannot_be_reached(tmp_path):
    """Debug logging on, OpenCV's and FFmpeg's own output included: the password never appears."""
    url = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/stream1"
    code = (
        "import logging, sys\nlogging.basicConfig(level=logging.DEBUG)\n"
        "from inspector.sources import open_source\nfrom inspector.settings import Settings\n"
        "try:\n    src = open_source(sys.argv[1], settings=Settings(), open_timeout_s=2)\n"
        "    print(src.description)\n    src.open()\nexcept Exception as exc:\n"
        "    print(type(exc).__name__, exc, getattr(exc, 'item', ''))\n    sys.exit(2)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, f"ipcam:{url}"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPENCV_FFMPEG_DEBUG": "1", "OPENCV_LOG_LEVEL": "DEBUG"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "SourceError ipcam:rtsp://***:***@127.0.0.1" in proc.stdout and "Connection refused" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr


def test_trigger_modes_offered_to_the_line():
    from inspector.parts.trigger import TriggerError, resolve_mode

    src = IPCamSource("rtsp://127.0.0.1:9/x", settings=Settings())  # nothing opened to ask
    assert resolve_mode("auto", src) == "free-run" and resolve_mode("software", src) == "software"
    assert resolve_mode("every-frame", src) == "every-frame"
    with pytest.raises(TriggerError, match="does not support trigger mode 'hardware'"):
        resolve_mode("hardware", src)

"""The IP camera source against a real RTSP server on 127.0.0.1 (GStreamer's gst-rtsp-server, run as a
subprocess by ``ipcam_stream.RtspServer``) serving the sample parts as MJPEG over RTP: frames and their
size and colours, the newest frame after a pause (no backlog), the camera killed and restarted, a camera
that stays down (give-up), unreachable and silent cameras (typed errors, masked credentials, bounded
by the timeout), RTSP authentication."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from inspector_ipcam import IPCamSource
from ipcam_stream import BLOCK, PARTS, Reader, RtspServer, free_port, gst_rtsp_missing, read_stamp, wait_for

from inspector.errors import InspectorError
from inspector.sources import SourceError, open_source

pytestmark = pytest.mark.skipif(bool(gst_rtsp_missing()), reason=gst_rtsp_missing() or "GStreamer present")

SECRET = "s3cr3t-PW"


class _NoSettings:
    """A station without a plugins.ipcam section (the tests pass every option explicitly)."""

    def plugin(self, name):
        return None


@pytest.fixture
def server(tmp_path):
    srv = RtspServer(tmp_path).start()
    yield srv
    srv.stop()


def _source(url, errors, **options) -> IPCamSource:
    return IPCamSource(url, errors.append, settings=_NoSettings(), **options)


def _part_rgb(index: int) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(PARTS[index % len(PARTS)])), cv2.COLOR_BGR2RGB)


def test_frames_arrive_whole_in_order_as_the_parts_sent(server):
    errors = []
    src = open_source(f"ipcam:{server.url()}", on_error=errors.append, settings=_NoSettings())
    assert isinstance(src, IPCamSource) and src.description == f"ipcam:{server.url()}"
    with src:
        reader = Reader(src).start()
        assert wait_for(lambda: reader.count() >= 12), errors
        reader.stop()
    stamps = reader.stamps()
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)  # newer each time, never twice
    for frame, number in zip(reader.frames, stamps, strict=True):
        assert frame.image.shape == (512, 512, 3) and frame.image.dtype == np.uint8
        assert frame.meta["url"] == server.url() and frame.source == src.description
        sent = _part_rgb(number)  # the server sends PARTS in turn, one frame each
        diff = np.abs(frame.image[BLOCK:].astype(int) - sent[BLOCK:].astype(int)).mean()
        other = np.abs(frame.image[BLOCK:].astype(int) - _part_rgb(number + 1)[BLOCK:].astype(int)).mean()
        assert diff < 4 < other, (number, diff, other)  # JPEG-close to the part sent, not to another
    assert [f.index for f in reader.frames] == list(range(len(reader.frames)))
    assert errors == []
    assert wait_for(lambda: "inspector-ipcam-reader" not in [t.name for t in threading.enumerate()], 10)


def test_colours_arrive_as_rgb(tmp_path):
    chart = np.zeros((256, 384, 3), np.uint8)  # BGR on disk: red | green | blue
    chart[:, :128] = (0, 0, 230)
    chart[:, 128:256] = (0, 230, 0)
    chart[:, 256:] = (230, 0, 0)
    cv2.imwrite(str(tmp_path / "chart.png"), chart)
    srv = RtspServer(tmp_path, [tmp_path / "chart.png"]).start()
    try:
        with _source(srv.url(), []) as src:
            frame = next(iter(src))
    finally:
        srv.stop()
    img = frame.image.astype(int)
    assert img.shape == (256, 384, 3)
    for x, channel in ((64, 0), (192, 1), (320, 2)):  # red, green, blue in RGB order
        patch = img[100:150, x - 20 : x + 20].mean(axis=(0, 1))
        assert patch[channel] > 180 and np.delete(patch, channel).max() < 60, (x, patch)


def test_after_a_pause_the_next_frame_is_the_newest_not_a_backlog(server):
    """The consumer stops taking frames while the camera sends 45 more; the next frame it gets is one the
    server pushed around the time it asks again, and the frames in between are counted as dropped."""
    errors, pause = [], threading.Event()
    with _source(server.url(), errors) as src:
        reader = Reader(src, pause).start()
        assert wait_for(lambda: reader.count() >= 5), errors
        pause.set()
        assert wait_for(reader.paused.is_set)
        held = reader.count()
        last = reader.stamps()[-1]
        assert wait_for(lambda: server.last_pushed() >= last + 45)
        asked = server.last_pushed()
        pause.clear()
        assert wait_for(lambda: reader.count() >= held + 2)
        reader.stop()
    after = reader.stamps()[held]
    assert after >= asked - 8, (last, asked, after)  # at most a few frames in flight, never the old ones
    assert src.dropped >= 30 and errors == []


def test_camera_killed_and_restarted_reconnects_and_frames_resume(server):
    errors = []
    src = _source(server.url(credentials=f"op:{SECRET}"), errors, max_backoff_s=0.5)
    with src:
        reader = Reader(src).start()
        assert wait_for(lambda: reader.count() >= 5), errors
        server.stop()  # killed: no TEARDOWN, the connection drops
        assert wait_for(lambda: src.reconnects >= 2, 60), errors  # tried while it was down
        server.start()
        before = reader.count()
        assert wait_for(lambda: reader.count() >= before + 10, 60), (errors, src.stats())
        stats = src.stats()
        reader.stop()
    assert stats["losses"] == 1 and len(errors) == 1, errors  # reported once, not per attempt
    assert errors[0].recoverable and "lost" in str(errors[0]) and "reconnecting" in str(errors[0])
    assert (
        SECRET not in str(errors[0])
        and "***:***@127.0.0.1" in str(errors[0])
        and SECRET not in errors[0].item
    )
    assert all(f.image.shape == (512, 512, 3) for f in reader.frames[before:])


def test_a_hung_camera_is_lost_after_the_read_timeout_and_reconnected_when_it_answers(server):
    """The server process is frozen: its connection stays open but nothing comes. The read timeout ends
    the wait, the loss is reported, reconnecting waits for it (open timeout) and frames resume once
    it runs again."""
    errors = []
    with _source(server.url(), errors, read_timeout_s=1, open_timeout_s=2, max_backoff_s=0.5) as src:
        reader = Reader(src).start()
        assert wait_for(lambda: reader.count() >= 5), errors
        server.freeze()
        try:
            assert wait_for(lambda: errors and src.reconnects >= 1, 60), errors
        finally:
            server.thaw()
        before = reader.count()
        assert wait_for(lambda: reader.count() >= before + 10, 60), (errors, src.stats())
        reader.stop()
    assert len(errors) == 1 and errors[0].recoverable and "no frame for 1 s" in str(errors[0])


def test_a_camera_that_stays_down_is_given_up_after_max_reconnects(server):
    errors = []
    with _source(server.url(), errors, max_reconnects=2, max_backoff_s=0.2) as src:
        reader = Reader(src).start()
        assert wait_for(lambda: reader.count() >= 3)
        server.stop()
        reader.thread.join(60)
        assert not reader.thread.is_alive() and reader.error is None  # the iteration ended, nothing raised
    assert errors[0].recoverable and not errors[-1].recoverable
    assert "giving up after 2 reconnect attempts" in str(errors[-1])


def test_a_refused_connection_is_a_typed_error_with_masked_credentials():
    url = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/stream1"
    src = _source(url, [])
    assert src.description == f"ipcam:rtsp://***:***@127.0.0.1:{url.rsplit(':', 1)[1]}"
    with pytest.raises(SourceError, match=r"cannot be opened: Connection refused") as err:
        src.open()
    assert isinstance(err.value, InspectorError) and not err.value.recoverable
    assert SECRET not in str(err.value) and "admin" not in str(err.value) and SECRET not in err.value.item


def test_a_camera_that_never_answers_fails_within_the_open_timeout():
    """A TCP port that accepts and then says nothing (a hung camera): refused after open_timeout_s, no hang."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"rtsp://admin:{SECRET}@127.0.0.1:{silent.getsockname()[1]}/live"
    out = {}

    def attempt():
        try:
            _source(url, [], open_timeout_s=1.5).open()
        except SourceError as exc:
            out["error"] = exc

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(60)  # a hang bound for the test, not a timing assertion
    silent.close()
    assert not thread.is_alive(), "opening a silent camera hung"
    err = out["error"]
    assert not err.recoverable and "gave no stream" in str(err) and "1.5 s" in str(err)
    assert SECRET not in str(err)


def test_rtsp_authentication_right_and_wrong_password(tmp_path):
    srv = RtspServer(tmp_path, user="op", password=SECRET).start()
    try:
        with _source(srv.url(credentials=f"op:{SECRET}"), []) as src:
            assert read_stamp(next(iter(src)).image) >= 0
        with pytest.raises(SourceError, match="wrong user or password") as err:
            _source(srv.url(credentials="op:wrong-one"), [], open_timeout_s=3).open()
        assert "wrong-one" not in str(err.value) and "***:***@" in str(err.value)
        with pytest.raises(SourceError, match="wrong user or password"):
            _source(srv.url(), [], open_timeout_s=3).open()  # no credentials at all
    finally:
        srv.stop()


def test_udp_transport_also_streams(server):
    with _source(server.url(), [], transport="udp") as src:
        frame = next(iter(src))
    assert frame.image.shape == (512, 512, 3) and src.options.transport == "udp"


def test_an_authenticated_session_prints_no_credentials_even_at_debug_level(tmp_path):
    """A whole session (open, frames, close) with OpenCV's and FFmpeg's debug output on: neither the
    password nor its Basic-auth encoding appears anywhere in what the process prints."""
    srv = RtspServer(tmp_path, user="op", password=SECRET).start()
    code = (
        "import logging, sys\nlogging.basicConfig(level=logging.DEBUG)\n"
        "from inspector.sources import open_source\nfrom inspector.settings import Settings\n"
        "src = open_source(sys.argv[1], settings=Settings())\nsrc.open()\nframes = iter(src)\n"
        "print(src.description, [next(frames).image.shape for _ in range(3)])\nsrc.close()\n"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, "ipcam:" + srv.url(credentials=f"op:{SECRET}")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OPENCV_FFMPEG_DEBUG": "1", "OPENCV_LOG_LEVEL": "DEBUG"},
        )
    finally:
        srv.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"ipcam:rtsp://***:***@127.0.0.1:{srv.port}/parts [(512, 512, 3)" in proc.stdout
    printed = proc.stdout + proc.stderr
    assert "OPENCV:FFMPEG" in printed  # FFmpeg's own log was on
    assert SECRET not in printed and base64.b64encode(f"op:{SECRET}".encode()).decode() not in printed

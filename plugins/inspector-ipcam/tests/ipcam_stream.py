"""Helpers for the IP camera tests: frame stamps, the real RTSP server as a subprocess, a real HTTP
MJPEG server on a thread, and a reader that iterates a source as the line's grabber does.

A stamp is the frame's number written into the image as ``BITS`` black/white 16x16 blocks along
the top-left edge; it survives JPEG, so a test reads back exactly which frame the source gave.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
LINE = ROOT / "sample_data" / "parts" / "BR-100" / "line"
PARTS = sorted(LINE.glob("*.png"))[:3]
BITS, BLOCK = 20, 16


def stamp(image: np.ndarray, number: int) -> np.ndarray:
    """A copy of ``image`` with ``number`` stamped top-left (bit i: block i, white = 1)."""
    out = image.copy()
    for i in range(BITS):
        out[:BLOCK, i * BLOCK : (i + 1) * BLOCK] = 255 if (number >> i) & 1 else 0
    return out


def read_stamp(image: np.ndarray) -> int:
    """The number :func:`stamp` wrote (read from each block's centre)."""
    c = BLOCK // 2
    return sum(
        1 << i
        for i in range(BITS)
        if image[c - 3 : c + 3, i * BLOCK + c - 3 : i * BLOCK + c + 3].mean() > 128
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, step: float = 0.02) -> bool:
    """Poll until true or ``timeout`` (a deadline for a hung test, never a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def gst_rtsp_missing() -> str:
    """Why the RTSP server cannot run here ('' when it can): PyGObject or the typelibs missing."""
    code = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import Gst, GstRtspServer"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if proc.returncode == 0:
        return ""
    return (
        "GStreamer's RTSP server is not importable (install gir1.2-gst-rtsp-server-1.0 "
        "gstreamer1.0-plugins-base gstreamer1.0-plugins-good, .ci/debian-deps; PyGObject in the venv): "
        + proc.stderr.strip().splitlines()[-1]
    )


class RtspServer:
    """``ipcam_rtsp_server.py`` as a subprocess on 127.0.0.1:``port``; stop/restart it like a camera."""

    def __init__(
        self,
        log_dir: Path,
        images=PARTS,
        *,
        fps: float = 15,
        hold: int = 1,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
    ):
        self.port = port or free_port()
        self.images, self.fps, self.hold = [str(p) for p in images], fps, hold
        self.user, self.password = user, password
        self.push_log = log_dir / f"push-{self.port}.log"
        self.err_log = log_dir / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def url(self, mount: str = "/parts", credentials: str | None = None) -> str:
        auth = f"{credentials}@" if credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{mount}"

    def start(self) -> RtspServer:
        cmd = [
            sys.executable,
            str(HERE / "ipcam_rtsp_server.py"),
            "--port",
            str(self.port),
            "--fps",
            str(self.fps),
            "--hold",
            str(self.hold),
            "--log",
            str(self.push_log),
            *self.images,
        ]
        if self.user:
            cmd += ["--user", self.user, "--password", self.password or ""]
        with self.err_log.open("ab") as err:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True
            )
        line = self.proc.stdout.readline()  # "ready" once it listens, "" when it died
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {self.err_log.read_text()[-2000:]}")
        self.starts += 1
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # as a camera losing power: no RTSP TEARDOWN, the TCP connection just drops
            self.proc.wait(10)
        self.proc = None

    def freeze(self) -> None:
        """SIGSTOP: the connection stays open and nothing more comes (a hung camera)."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pushes(self) -> dict[int, int]:
        """Frame number -> CLOCK_MONOTONIC ns when the server pushed it (all starts)."""
        out = {}
        if self.push_log.exists():
            for line in self.push_log.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2:
                    out[int(parts[0])] = int(parts[1])
        return out

    def last_pushed(self) -> int:
        pushes = self.pushes()
        return max(pushes) if pushes else -1


class MjpegServer:
    """A real HTTP server streaming ``multipart/x-mixed-replace`` JPEGs (an IP camera's MJPEG URL)."""

    def __init__(self, images=PARTS, fps: float = 15):
        import cv2

        self.frames = [cv2.imread(str(p)) for p in images]
        self.fps, self.count = fps, 0
        self.pushed: dict[int, int] = {}  # frame number -> CLOCK_MONOTONIC ns when it was written
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="test-mjpeg-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mjpeg"

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                import cv2

                if self.path != "/mjpeg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while True:
                        n = outer.count
                        outer.count += 1
                        image = stamp(outer.frames[n % len(outer.frames)], n)
                        data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
                        outer.pushed[n] = time.monotonic_ns()
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        self.wfile.flush()
                        time.sleep(1 / outer.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def start(self) -> MjpegServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Reader:
    """Iterates a source on its own thread (as the line's grabber does) and keeps what arrives."""

    def __init__(self, source, pause: threading.Event | None = None):
        self.source, self.frames, self.error = source, [], None
        self.pause = pause  # while set, the reader takes nothing (a busy consumer)
        self.paused = threading.Event()  # set while it holds still
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="test-ipcam-reader", daemon=True)

    def _run(self) -> None:
        try:
            for frame in self.source:
                with self._lock:
                    self.frames.append(frame)
                while self.pause is not None and self.pause.is_set():
                    self.paused.set()
                    time.sleep(0.01)
                self.paused.clear()
        except BaseException as exc:  # handed to the test
            self.error = exc

    def start(self) -> Reader:
        self.thread.start()
        return self

    def count(self) -> int:
        with self._lock:
            return len(self.frames)

    def stamps(self) -> list[int]:
        with self._lock:
            return [read_stamp(f.image) for f in self.frames]

    def stop(self) -> None:
        self.source.stop()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the source did not stop"
        if self.error is not None:
            raise self.error

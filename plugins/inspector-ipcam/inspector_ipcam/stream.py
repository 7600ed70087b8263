"""One IP camera connection, read on its own thread through OpenCV's FFmpeg backend.

The reader thread decodes every frame the camera sends as soon as it arrives and keeps only the
newest one, so FFmpeg's buffers never fill and a slow consumer always gets a fresh frame (the
frames it did not take are counted in ``skipped``). When the stream stops (the camera restarted,
the network dropped, nothing came for ``read_timeout_s``) the loss is reported once, recoverable,
and the thread reconnects with backoff (0.2 s doubling to ``max_backoff_s``). Every message names
the camera by its masked URL: credentials never reach a log, an error or an event.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import numpy as np

from inspector.sources import SourceError
from inspector_ipcam.options import IPCamOptions, mask_url

log = logging.getLogger(__name__)

ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"  # read by OpenCV when a capture opens
JOIN_S = 3.0  # close waits this long for the reader; a read or open in progress ends by its timeout
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


class _EnvGate:
    """OpenCV takes FFmpeg's options from a process-wide variable: opens that need different values
    wait for each other; opens with the same value (several cameras, same settings) run together."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: str | None = None
        self._users = 0

    def open(self, value: str, opener: Callable[[], object]) -> object:
        with self._cond:
            while self._users and self._value != value:
                self._cond.wait()
            if not self._users:
                self._saved, self._value = os.environ.get(ENV), value
                os.environ[ENV] = value
            self._users += 1
        try:
            return opener()
        finally:
            with self._cond:
                self._users -= 1
                if not self._users:
                    if self._saved is None:
                        os.environ.pop(ENV, None)
                    else:
                        os.environ[ENV] = self._saved
                    self._cond.notify_all()


_GATE = _EnvGate()


def reachability(url: str, timeout: float) -> str:
    """Why a URL's host does not take a TCP connection ('' when it does): for the error message."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 554)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return ""
    except TimeoutError:
        return f"no answer from port {port} within {timeout:g} s"
    except OSError as exc:
        return f"{exc.strerror or exc} (port {port})"


class Stream:
    """The connection and its reader thread; :meth:`take` hands out the newest frame once."""

    def __init__(self, url: str, options: IPCamOptions, report: Callable[..., None]):
        self.url, self.options, self.report = url, options, report
        self.label = f"ipcam:{mask_url(url)}"
        self.frames = 0  # decoded
        self.skipped = 0  # decoded but replaced by a newer one before anybody took it
        self.reconnects = 0  # attempts
        self.losses = 0
        self.ended = False  # the thread has finished (stopped, or gave up)
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, int, int] | None = None  # BGR image, frame number, monotonic ns
        self._stop = threading.Event()
        self._cap = None
        self._thread: threading.Thread | None = None

    # --- connecting ----------------------------------------------------------------------------

    def connect(self):
        """An opened ``cv2.VideoCapture``; SourceError (recoverable, masked URL) when the camera cannot
        be reached or gives no stream within ``open_timeout_s``."""
        import cv2

        opts = self.options
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(opts.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(opts.read_timeout_s * 1000),
        ]
        value = opts.capture_options(urlsplit(self.url).scheme.lower())
        cap = _GATE.open(value, lambda: cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params))
        if cap.isOpened():
            return cap
        cap.release()
        why = reachability(self.url, min(opts.open_timeout_s, 3.0))
        if not why:
            why = (
                "the camera took the connection but gave no stream: wrong path, wrong user or password, "
                f"or no video within {opts.open_timeout_s:g} s"
            )
        raise SourceError(f"{self.label} cannot be opened: {why}", item=mask_url(self.url))

    def start(self) -> None:
        """Connect (SourceError when impossible) and start the reader thread."""
        self._stop.clear()
        self.ended = False
        self._cap = self.connect()
        self._thread = threading.Thread(target=self._run, name="inspector-ipcam-reader", daemon=True)
        self._thread.start()

    def _reconnect(self):
        backoff = 0.2
        attempts = 0
        while not self._stop.is_set():
            if self.options.max_reconnects is not None and attempts >= self.options.max_reconnects:
                self.report(
                    f"{self.label} lost; giving up after {attempts} reconnect attempts", recoverable=False
                )
                return None
            if self._stop.wait(backoff):
                return None
            attempts += 1
            self.reconnects += 1
            try:
                cap = self.connect()
            except SourceError as exc:
                log.info("%s: reconnect attempt %d failed: %s", self.label, attempts, exc)
                backoff = min(backoff * 2, self.options.max_backoff_s)
                continue
            log.info("%s reconnected after %d attempts", self.label, attempts)
            return cap
        return None

    # --- the reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        cap, self._cap = self._cap, None
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap = self._reconnect()
                    if cap is None:
                        return
                ok, bgr = cap.read()
                if self._stop.is_set():
                    return
                if not ok or bgr is None:
                    cap.release()
                    cap = None
                    self.losses += 1
                    self.report(
                        f"{self.label} lost: the stream stopped (camera restarted, network down, or no "
                        f"frame for {self.options.read_timeout_s:g} s); reconnecting"
                    )
                    continue
                with self._cond:
                    if self._latest is not None:
                        self.skipped += 1
                    self.frames += 1
                    self._latest = (bgr, self.frames, time.monotonic_ns())
                    self._cond.notify_all()
        except Exception as exc:  # never silently: the source ends, said why
            log.exception("%s: reader failed", self.label)
            self.report(f"{self.label}: reader failed: {exc}", recoverable=False)
        finally:
            if cap is not None:
                cap.release()
            with self._cond:
                self.ended = True
                self._cond.notify_all()

    # --- the consumer's side -------------------------------------------------------------------

    def take(self, timeout: float) -> tuple[np.ndarray, int, int] | None:
        """The newest frame not taken yet (BGR image, frame number, monotonic ns when decoded), waiting
        up to ``timeout`` s; None when none came (or the stream ended: see ``ended``)."""
        with self._cond:
            if self._latest is None and not self.ended:
                self._cond.wait(timeout)
            latest, self._latest = self._latest, None
            return latest

    def stop(self) -> None:
        """Ask the thread to end (returns at once; a read in progress ends within ``read_timeout_s``)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def join(self) -> bool:
        """Stop and wait for the thread (bounded); True when it has ended."""
        self.stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_S)
            if thread.is_alive():  # blocked in FFmpeg (a silent camera): it releases its capture itself
                log.info("%s: reader still waiting in FFmpeg at close; it ends on its own", self.label)
                return False
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

"""Aravis's fake GigE Vision camera (``arv-fake-gv-camera-0.8``, Debian aravis-tools) for the tests.

The fake answers GVCP on ``127.0.0.1:3956`` (the port is fixed by GigE Vision; the fake binds
only to an interface's own address, so another loopback address cannot be used) and streams a
synthetic pattern. :class:`FakeCamera` starts it, waits until its control port is bound, stops
and restarts it (the reconnect tests), and refuses to start when another process already
serves that port (a second fake would answer too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

BINARY = "arv-fake-gv-camera-0.8"
ADDRESS = "127.0.0.1"
GVCP_PORT = 3956
_PROC_KEY = "0100007F:0F74"  # 127.0.0.1:3956 as /proc/net/udp writes it


def gvcp_bound() -> bool:
    """True while some process has a UDP socket on 127.0.0.1:3956."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[1] == _PROC_KEY for line in lines if len(line.split()) > 1)


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


class FakeCamera:
    """One fake camera process with serial ``serial``; device id ``Aravis-Fake-<serial>``."""

    def __init__(self, serial: str, log_dir: Path, lost_ratio: int = 0):
        self.serial = serial
        self.lost_ratio = lost_ratio  # -r: GVSP packets the fake drops (its "per thousand")
        self.device_id = f"Aravis-Fake-{serial}"
        self.address = ADDRESS
        self.log = log_dir / f"fake-{serial}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> FakeCamera:
        if shutil.which(BINARY) is None:
            pytest.fail(f"{BINARY} not found: install the Debian package aravis-tools (.ci/debian-deps)")
        if gvcp_bound():
            pytest.fail(f"{ADDRESS}:{GVCP_PORT} (GVCP) is already served by another process; a fake camera "
                        f"left running? (ss -ulpn 'sport = {GVCP_PORT}')")
        self.starts += 1
        with self.log.open("ab") as log:
            lost = ["-r", str(self.lost_ratio)] if self.lost_ratio else []
            self.proc = subprocess.Popen([BINARY, "-i", ADDRESS, "-s", self.serial, *lost], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if not wait_for(lambda: gvcp_bound() or self.proc.poll() is not None, 15):
            self.stop()
            pytest.fail(f"{BINARY} did not bind {ADDRESS}:{GVCP_PORT} within 15 s; log: {self.log.read_text()}")
        if self.proc.poll() is not None:
            pytest.fail(f"{BINARY} -i {ADDRESS} exited with {self.proc.returncode}: {self.log.read_text()}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        wait_for(lambda: not gvcp_bound(), 10)

    def restart(self) -> None:
        self.stop()
        self.start()


class Reader:
    """Iterates a source on its own thread (as the line's grabber does) and keeps what arrives."""

    def __init__(self, source):
        self.source = source
        self.frames: list = []
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="test-genicam-reader", daemon=True)

    def _run(self) -> None:
        try:
            for frame in self.source:
                with self._cond:
                    self.frames.append(frame)
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the test
            self.error = exc
        finally:
            with self._cond:
                self._cond.notify_all()

    def start(self) -> Reader:
        self.thread.start()
        return self

    def wait_count(self, n: int, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.frames) < n and self.thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return len(self.frames) >= n

    def count(self) -> int:
        with self._cond:
            return len(self.frames)

    def stop(self) -> None:
        self.source.stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the source did not stop"
        if self.error is not None:
            raise self.error


def task_count() -> int:
    """Threads of this process, C threads (Aravis's stream and heartbeat threads) included.

    Take a baseline only after the process has opened a camera once: the first use starts
    threads that stay for the life of the process (libusb's event thread, GLib's workers)."""
    return len(os.listdir("/proc/self/task"))


def thread_names() -> list[str]:
    """The OS names of this process's threads (C threads show their own, Python's 'python')."""
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{tid}/comm").read_text().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return sorted(names)


def stream_threads() -> int:
    """Aravis's GigE Vision stream receiver threads alive in this process (one per open stream)."""
    return thread_names().count("arv_gv_stream")

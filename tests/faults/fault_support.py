"""Real storage faults for the store-and-forward tests: small tmpfs volumes that fill up, read-only
bind mounts, a SQLite lock held by another connection, and a scripted part source.

Mounting needs root and CAP_SYS_ADMIN (the dev box and CI run the tests as root in a container
that allows ``mount``); elsewhere the tests that need it skip, saying so. As root, ``chmod``
does not stop writes, so a read-only folder is a read-only *bind mount* of it: the kernel
refuses every write with EROFS, root included (checked before the test relies on it).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from zone_support import ScratchBackend, part_image, write_order

from inspector.domain import Frame, utcnow
from inspector.pipeline import Inspector
from inspector.settings import Settings
from inspector.sources.base import FrameSource

REPO = Path(__file__).resolve().parents[2]


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (e.g. "8m") mounted at ``path``; skips when mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` made read-only for everyone, root included (a read-only bind mount over itself)."""
    done = _mount("--bind", str(path), str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root and CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        ro = _mount("-o", "remount,bind,ro", str(path))
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {ro.stderr.strip()}")
        probe = path / ".ro-probe"
        with pytest.raises(OSError) as refused:
            probe.write_bytes(b"x")
        assert refused.value.errno == errno.EROFS, "the read-only mount must refuse root's writes"
        yield path
    finally:
        _umount(path)


def fill(volume: Path) -> Path:
    """Fill ``volume`` until the kernel says ENOSPC; returns the filler file (delete it to free the disk)."""
    filler = volume / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512):  # big blocks, then the last crumbs
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def free_disk(volume: Path) -> None:
    (volume / "filler.bin").unlink(missing_ok=True)


@contextmanager
def sqlite_locked(db: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding an exclusive write transaction on ``db`` until the block ends."""
    con = sqlite3.connect(db, isolation_level=None, timeout=10)
    con.execute("BEGIN EXCLUSIVE")
    try:
        yield con
    finally:
        con.execute("ROLLBACK")
        con.close()


def station(data: Path, tmp: Path, **settings) -> tuple[Inspector, object]:
    """A facade with the fast fake backend (dark blobs are scratches) and the zones work order loaded."""
    values = {"data_dir": data, "device": "cpu", "explain": "off", "read_codes": False, "station": "st1",
              "db_busy_timeout_ms": 300, "spool_retry_s": 0.2, "spool_reserve_bytes": 0,
              "spool_min_free_bytes": 0, **settings}
    facade = Inspector(Settings(**values), backend=ScratchBackend())
    wo = facade.load_work_order(write_order(tmp))
    return facade, wo


def frame(i: int, scratch: bool = False) -> Frame:
    img = part_image(scratch)
    img[0, 0] = (200, i % 256, i // 256 % 256)  # every image differs (its own sha256), never dark
    return Frame(image=img, name=f"part{i:03d}.png", source="test", index=i, captured_at=utcnow())


class ScriptedSource(FrameSource):
    """``n`` parts; ``hooks[i]()`` runs (on the line's thread) just before part ``i`` is delivered."""

    name = "scripted"

    def __init__(self, n: int, hooks: dict[int, Callable[[], None]] | None = None, flagged: set[int] = frozenset()):
        super().__init__()
        self.n, self.hooks, self.flagged = n, hooks or {}, flagged

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.n):
            if i in self.hooks:
                self.hooks[i]()
            yield frame(i, scratch=i in self.flagged)


def stored_order(facade: Inspector) -> list[str]:
    """Frame names in the order the database committed them (``stored_at``, then rowid)."""
    from sqlalchemy import text

    with facade.store.engine.connect() as conn:
        sql = "SELECT frame_name FROM inspections ORDER BY stored_at, frame_name"
        return [r[0] for r in conn.execute(text(sql))]


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll ``condition`` (the retry thread works in the background); True once it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def audit_actions(facade: Inspector, action: str) -> list[str]:
    return [e.entity_id for e in facade.audit_events(action=action)]


def cli(*args: str, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """``inspector ARGS`` in a fresh process (nothing of this test's process is open in it)."""
    return subprocess.run([sys.executable, "-m", "inspector", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})


"""The spool folder: an append-only queue of fsync'd record files, bounded, with a space reserve.

Layout (``spool_dir``, default ``<data_dir>/spool``; best on another volume)::

    parts/000000000001-<inspection id>.rec    pending records, drained in name (= arrival) order
    held/<same name>  + <same name>.reason    records the drain could not store (damaged, unknown order)
    reserve                                   space set aside while a line runs (spool_reserve_bytes)
    .lock                                     flock: one appender or drainer at a time, any process

A record is written to a temporary name, fsync'd, renamed to its final name and the folder
fsync'd, so a crash (``kill -9``, power loss after the fsync) leaves the whole record or none of
it; temporary files of a killed writer are removed under the lock. Records are never modified:
the drain removes a record only after the database transaction holding it has committed.

Bounds are checked before anything is written: at most ``max_parts`` pending records and
``max_bytes`` bytes, and the volume must keep ``min_free_bytes`` free. When the volume is full
the record is written into space taken from the reserve file instead (the disk's fill does not
change), so a station whose spool shares the data disk still spools when that disk fills up.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from inspector.spool.records import SpoolError, SpoolRecord, decode, encode

_NAME_RE = re.compile(r"^(\d{12})-([0-9a-z]+)-([0-9a-f]{32})\.rec$")
_TMP = ".tmp-"
SLACK = 16 * 1024  # file system overhead per record (inode, directory entry, block rounding)


@dataclass
class SpoolState:
    """What is in the spool folder now (``inspector spool status``)."""

    folder: str
    parts: int = 0  # pending inspection records
    explanations: int = 0  # pending explanation records
    bytes: int = 0
    held: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    oldest: str = ""  # file name of the oldest pending record
    free_bytes: int | None = None
    reserve_bytes: int = 0
    max_parts: int = 0
    max_bytes: int = 0

    @property
    def pending(self) -> int:
        return self.parts + self.explanations


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """The spool of one station. Safe for threads and for several processes (flock)."""

    def __init__(self, folder: str | Path, *, max_bytes: int, max_parts: int, min_free_bytes: int = 0,
                 reserve_bytes: int = 0) -> None:
        self.folder = Path(folder).expanduser()
        self.parts_dir = self.folder / "parts"
        self.held_dir = self.folder / "held"
        self.reserve_path = self.folder / "reserve"
        self.max_bytes, self.max_parts = int(max_bytes), int(max_parts)
        self.min_free_bytes, self.reserve_bytes = int(min_free_bytes), int(reserve_bytes)
        self._thread_lock = threading.RLock()

    # --- reading (never writes: works on a full or read-only disk) ----------------------------

    def pending(self) -> list[Path]:
        """Pending record files, oldest first."""
        try:
            names = sorted(e.name for e in os.scandir(self.parts_dir) if _NAME_RE.match(e.name))
        except (FileNotFoundError, NotADirectoryError):  # nothing spooled yet (or no folder to spool to)
            return []
        return [self.parts_dir / n for n in names]

    def count(self, kind: str | None = None) -> int:
        """Pending records (of ``kind``: inspection or explanation)."""
        if kind is None:
            return len(self.pending())
        return sum(1 for p in self.pending() if p.name.split("-", 2)[1] == kind)

    def read(self, path: Path) -> SpoolRecord:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpoolError(f"cannot read spool record {path}: {exc}") from exc
        return decode(data, path.name)

    def state(self) -> SpoolState:
        st = SpoolState(str(self.folder), max_parts=self.max_parts, max_bytes=self.max_bytes)
        for p in self.pending():
            kind = _NAME_RE.match(p.name).group(2)  # type: ignore[union-attr]
            if kind == "inspection":
                st.parts += 1
            else:
                st.explanations += 1
            st.bytes += _size(p)
            st.oldest = st.oldest or p.name
        if self.held_dir.is_dir():
            for p in sorted(self.held_dir.glob("*.rec")):
                reason = p.with_name(p.name + ".reason")
                st.held.append((p.name, reason.read_text(errors="replace").strip() if reason.exists() else ""))
        st.free_bytes = self._free()
        st.reserve_bytes = _size(self.reserve_path)
        return st

    # --- writing -------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the spool for one append or one drain step (threads and processes wait their turn)."""
        with self._thread_lock:
            try:
                self.parts_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise SpoolError(f"the spool folder {self.folder} cannot be used: {exc.strerror or exc} "
                                 "(setting spool_dir: put it on a writable volume)") from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._remove_temp_files()
                yield
            finally:
                os.close(fd)  # releases the flock

    def append(self, record: SpoolRecord) -> Path:
        """Write one record durably; returns its file. Raises :class:`SpoolError` when the spool is
        full (``spool_max_parts`` / ``spool_max_bytes``) or the volume has no room for it."""
        data = encode(record)
        with self.locked():
            pending = self.pending()
            if len(pending) >= self.max_parts:
                raise SpoolError(f"spool full: {len(pending)} records pending (setting spool_max_parts "
                                 f"{self.max_parts}); restore the database so the spool can drain")
            used = sum(_size(p) for p in pending)
            if used + len(data) > self.max_bytes:
                raise SpoolError(f"spool full: {used} bytes pending, this record needs {len(data)} more "
                                 f"(setting spool_max_bytes {self.max_bytes})")
            self._make_room(len(data))
            seq = 1 + max((int(m.group(1)) for d in (self.parts_dir, self.held_dir) if d.is_dir()
                           for n in os.listdir(d) if (m := _NAME_RE.match(n))), default=0)
            final = self.parts_dir / f"{seq:012d}-{record.kind}-{record.inspection_id}.rec"
            self._write_atomic(final, data)
            return final

    def remove(self, paths: list[Path]) -> None:
        """Forget drained records (call under :meth:`locked`, after their transaction committed)."""
        for p in paths:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        if paths:
            _fsync_dir(self.parts_dir)

    def hold(self, path: Path, reason: str) -> Path:
        """Move a record the drain cannot store out of the queue, with the reason beside it."""
        self.held_dir.mkdir(parents=True, exist_ok=True)
        target = self.held_dir / path.name
        reason_file = target.with_name(target.name + ".reason")
        reason_file.write_text(reason + "\n", encoding="utf-8")
        os.replace(path, target)
        _fsync_dir(self.held_dir)
        _fsync_dir(self.parts_dir)
        return target

    # --- space ---------------------------------------------------------------------------------

    def _free(self) -> int | None:
        for p in (self.folder, *self.folder.parents):
            if p.exists():
                try:
                    return shutil.disk_usage(p).free
                except OSError:
                    return None
        return None

    def _make_room(self, n: int) -> None:
        """Check the volume before writing ``n`` bytes; take them from the reserve when it is full."""
        need = n + SLACK
        free = self._free()
        if free is None or free - need >= self.min_free_bytes:
            return
        have = _size(self.reserve_path)
        if have >= need:
            os.truncate(self.reserve_path, have - need)
            return
        raise SpoolError(f"no room for the spool on its volume: {free} bytes free, a record needs {need} and "
                         f"{self.min_free_bytes} must stay free (setting spool_min_free_bytes); the reserve holds "
                         f"{have} (spool_reserve_bytes). Free disk space or put spool_dir on another volume")

    def prepare_reserve(self) -> int:
        """Set aside ``reserve_bytes`` of disk for records written when the volume is full (best effort:
        a volume that is already full keeps the smaller reserve it has). Returns the reserve's size."""
        with self._thread_lock:
            return self._grow_reserve(self.reserve_bytes)

    def _grow_reserve(self, want: int) -> int:
        have = _size(self.reserve_path)
        if want <= have:
            return have
        try:
            free = self._free()
            if free is not None and free - (want - have) < self.min_free_bytes:
                return have
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.reserve_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, want)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:  # no space, read-only, or a file system without fallocate: no (larger) reserve
            return _size(self.reserve_path)
        return want

    def release_reserve(self) -> None:
        """Give the reserve back to the volume (the line stopped)."""
        with self._thread_lock:
            try:
                self.reserve_path.unlink()
            except OSError:  # none, or a read-only folder: nothing to give back
                pass

    # --- files ---------------------------------------------------------------------------------

    def _write_atomic(self, final: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=_TMP, suffix=".part", dir=self.parts_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            _fsync_dir(self.parts_dir)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            what = "no space left" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
            raise SpoolError(f"cannot write to the spool {self.parts_dir}: {what}") from exc

    def _remove_temp_files(self) -> None:
        """Temporary files of a writer killed mid-record (only ever called under the lock)."""
        for d in (self.parts_dir, self.held_dir):
            for tmp in d.glob(f"{_TMP}*") if d.is_dir() else ():
                try:
                    tmp.unlink()
                except OSError:
                    pass


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

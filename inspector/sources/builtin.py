"""Built-in frame sources: folder, file list, hot folder, video file, camera (OpenCV)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from inspector.domain import Frame, utcnow
from inspector.sources.base import IMAGE_SUFFIXES, ErrorHandler, FrameSource, ImageLimits, SourceError
from inspector.sources.decode import (
    ImageRejected,
    UnreadableFrame,
    decode_image_bytes,
    read_file_bytes,
    to_rgb,
    unreadable_frame,
)


def _file_frame(path: Path, index: int, source: str, limits: ImageLimits) -> Frame:
    """The part in one image file; an :class:`UnreadableFrame` (recorded REVIEW) when it cannot be used."""
    data: bytes | None = None
    try:
        data = read_file_bytes(path, limits)
        image = decode_image_bytes(data, str(path), limits)
    except ImageRejected as exc:
        return unreadable_frame(exc, source=source, index=index, name=path.name, path=str(path), data=data)
    return Frame(image=image, source=source, index=index, name=path.name, path=str(path), encoded=data,
                 ext=path.suffix.lower())


class FileListSource(FrameSource):
    """A fixed list of image files, in the given order."""

    name = "files"

    def __init__(self, paths: Sequence[str | Path], on_error: ErrorHandler | None = None):
        super().__init__(on_error)
        self.paths = [Path(p) for p in paths]

    @property
    def description(self) -> str:
        return f"files:{len(self.paths)} images"

    def __len__(self) -> int:
        return len(self.paths)

    def open(self) -> None:
        if not self.paths:
            raise SourceError("no image files given", recoverable=False)
        missing = [str(p) for p in self.paths if not p.exists()]
        if missing:
            raise SourceError(f"file not found: {', '.join(missing[:5])}"
                              + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
                              item=missing[0], recoverable=False)

    def __iter__(self) -> Iterator[Frame]:
        """Every file is a part: one that cannot be read comes as an UnreadableFrame, never skipped."""
        for i, path in enumerate(self.paths):
            if self._stopped:
                return
            yield _file_frame(path, i, self.description, self.image_limits)


class FolderSource(FileListSource):
    """All images in a folder (not recursive), sorted by name."""

    name = "folder"

    def __init__(self, folder: str | Path, on_error: ErrorHandler | None = None):
        self.folder = Path(folder)
        super().__init__([], on_error)

    @property
    def description(self) -> str:
        return f"folder:{self.folder}"

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"folder not found: {self.folder}", item=str(self.folder), recoverable=False)
        try:
            entries = list(self.folder.iterdir())
        except OSError as exc:
            raise SourceError(f"cannot list folder {self.folder}: {exc.strerror or exc}", item=str(self.folder),
                              recoverable=False) from exc
        self.paths = sorted(p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            what = "is empty" if not entries else f"holds no image ({len(entries)} other entries)"
            raise SourceError(f"folder {self.folder} {what}: images must end in {', '.join(IMAGE_SUFFIXES)}",
                              item=str(self.folder), recoverable=False)

    def __len__(self) -> int:
        if not self.paths and self.folder.is_dir():
            try:
                self.open()
            except SourceError:
                return 0
        return len(self.paths)


class HotFolderSource(FrameSource):
    """A folder a vision system drops images into. Live: yields each new file once.

    A file is taken when its size has been stable for ``settle_s`` (so half-written files
    are not read). One that still cannot be read (empty, truncated: the writer paused) is
    tried again every ``retry_s`` and whenever its size or time changes; after
    ``incomplete_timeout_s`` without change it is given up as an :class:`UnreadableFrame`
    (recorded REVIEW), so no file is ever skipped silently. Files present at start are
    processed too unless ``skip_existing``.
    """

    name = "hotfolder"
    is_live = True

    def __init__(
        self,
        folder: str | Path,
        on_error: ErrorHandler | None = None,
        *,
        poll_s: float = 0.2,
        settle_s: float = 0.3,
        skip_existing: bool = False,
        idle_timeout_s: float | None = None,
        retry_s: float = 1.0,
        incomplete_timeout_s: float = 60.0,
    ):
        super().__init__(on_error)
        self.folder = Path(folder)
        self.poll_s, self.settle_s = poll_s, settle_s
        self.skip_existing = skip_existing
        self.idle_timeout_s = idle_timeout_s
        self.retry_s, self.incomplete_timeout_s = retry_s, incomplete_timeout_s
        self.retries = 0  # reads of files that were not complete yet
        self._seen: set[str] = set()

    @property
    def description(self) -> str:
        return f"hotfolder:{self.folder}"

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"hot folder not found: {self.folder}", item=str(self.folder), recoverable=False)
        if self.skip_existing:
            self._seen = {p.name for p in self.folder.iterdir()}

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        sizes: dict[str, tuple[tuple[int, float], float]] = {}  # name -> ((size, mtime), stable since)
        failed: dict[str, tuple[tuple[int, float], float, float]] = {}  # name -> (state, first fail, next try)
        last_new = time.monotonic()
        while not self._stopped:
            try:
                candidates = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            except OSError as exc:
                self._report(f"hot folder unavailable: {exc}", str(self.folder))
                time.sleep(max(self.poll_s, 1.0))
                continue
            now = time.monotonic()
            for path in candidates:
                if path.name in self._seen:
                    continue
                try:
                    st = path.stat()
                except OSError:
                    continue
                state = (st.st_size, st.st_mtime)
                prev = sizes.get(path.name)
                if prev is None or prev[0] != state:
                    sizes[path.name] = (state, now)
                    continue
                if now - prev[1] < self.settle_s:
                    continue
                fail = failed.get(path.name)
                if fail is not None and fail[0] == state and now < fail[2]:
                    continue
                frame = _file_frame(path, index, self.description, self.image_limits)
                if isinstance(frame, UnreadableFrame) and frame.incomplete:
                    first = fail[1] if fail is not None and fail[0] == state else now
                    if now - first < self.incomplete_timeout_s:
                        self.retries += 1
                        failed[path.name] = (state, first, now + self.retry_s)
                        continue
                    frame = dataclasses.replace(frame, reason=f"{frame.reason} (unchanged for {now - first:.0f} s)")
                self._seen.add(path.name)
                sizes.pop(path.name, None)
                failed.pop(path.name, None)
                last_new = now
                yield frame
                index += 1
            if self.idle_timeout_s is not None and now - last_new > self.idle_timeout_s and not failed:
                return
            time.sleep(self.poll_s)


class _CaptureSource(FrameSource):
    """Shared OpenCV VideoCapture handling."""

    def __init__(self, target: str | int, on_error: ErrorHandler | None = None, every: int = 1):
        super().__init__(on_error)
        self.target = target
        self.every = max(1, int(every))
        self._cap = None

    def _open_capture(self):
        import cv2

        cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _frame(self, bgr, index: int) -> Frame:
        return Frame(image=to_rgb(bgr), source=self.description, index=index, name=f"frame-{index:06d}",
                     captured_at=utcnow())


class VideoSource(_CaptureSource):
    """A video file; every ``every``-th frame is inspected."""

    name = "video"

    @property
    def description(self) -> str:
        return f"video:{self.target}"

    def open(self) -> None:
        if not Path(str(self.target)).is_file():
            raise SourceError(f"video file not found: {self.target}", item=str(self.target), recoverable=False)
        self._cap = self._open_capture()
        if self._cap is None:
            raise SourceError(f"cannot decode video: {self.target}", item=str(self.target), recoverable=False)

    def __iter__(self) -> Iterator[Frame]:
        if self._cap is None:
            self.open()
        i = 0
        while not self._stopped:
            ok, bgr = self._cap.read()
            if not ok:
                return
            if i % self.every == 0:
                yield self._frame(bgr, i)
            i += 1


class CameraSource(_CaptureSource):
    """A live camera (device index or stream URL). Reconnects with backoff when lost."""

    name = "camera"
    is_live = True

    def __init__(self, target: str | int, on_error: ErrorHandler | None = None, every: int = 1,
                 *, max_backoff_s: float = 5.0, max_reconnects: int | None = None):
        super().__init__(int(target) if str(target).isdigit() else target, on_error, every)
        self.max_backoff_s = max_backoff_s
        self.max_reconnects = max_reconnects
        self.reconnects = 0

    @property
    def description(self) -> str:
        return f"camera:{self.target}"

    def open(self) -> None:
        self._cap = self._open_capture()
        if self._cap is None:
            raise SourceError(f"camera {self.target} cannot be opened", item=str(self.target), recoverable=False)

    def _reconnect(self) -> bool:
        backoff = 0.2
        while not self._stopped:
            if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                self._report(f"camera {self.target} lost; giving up after {self.reconnects} reconnects",
                             str(self.target), recoverable=False)
                return False
            self.reconnects += 1
            time.sleep(backoff)
            self.close()
            self._cap = self._open_capture()
            if self._cap is not None:
                return True
            backoff = min(backoff * 2, self.max_backoff_s)
        return False

    def __iter__(self) -> Iterator[Frame]:
        if self._cap is None:
            self.open()
        i = 0
        while not self._stopped:
            ok, bgr = self._cap.read() if self._cap is not None else (False, None)
            if not ok:
                self._report(f"camera {self.target} lost; reconnecting", str(self.target))
                if not self._reconnect():
                    return
                continue
            if i % self.every == 0:
                yield self._frame(bgr, i)
            i += 1

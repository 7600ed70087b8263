"""Content-addressed image store: ``root/ab/cd/<sha256>.<ext>``.

An image is named by the sha256 of its encoded bytes as received (a camera's JPEG stays
that JPEG), or of its PNG encoding when it arrives as an array. The same content is stored
once. Files are written to a temporary name, fsynced and renamed, so a crash never leaves a
partial file under a final name. Overlays and thumbnails are derived elsewhere, not stored here.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inspector.store.errors import ImageAlteredError, ImageStoreError, MissingImageError

EXTENSIONS = ("png", "jpg", "bmp", "tif", "webp")
_ALIASES = {"jpeg": "jpg", "tiff": "tif"}
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_TMP_PREFIX = ".tmp-"
PNG_COMPRESSION = 1  # fixed: the same array always encodes to the same bytes (same OpenCV build)


def sniff_format(data: bytes) -> str | None:
    """The image format of ``data`` from its magic bytes (one of ``EXTENSIONS``), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"BM"):
        return "bmp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def encode_png(rgb: np.ndarray) -> bytes:
    """The PNG bytes ``ImageStore.put_array`` stores for an (H, W, 3) uint8 RGB array (same array, same bytes)."""
    import cv2

    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ImageStoreError(f"expected an (H, W, 3) uint8 RGB array, got shape {shape} dtype {dtype}")
    ok, buf = cv2.imencode(
        ".png", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION]
    )
    if not ok:  # pragma: no cover - OpenCV refuses only absurd sizes
        raise ImageStoreError(f"OpenCV could not encode a {rgb.shape} array as PNG")
    return buf.tobytes()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class ImageStore:
    """Images on disk by sha256. Safe for several threads and processes writing the same root."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    # --- names ---------------------------------------------------------------------------

    @staticmethod
    def _check_sha(sha: str) -> str:
        if not isinstance(sha, str) or not _SHA_RE.match(sha):
            raise ImageStoreError(f"{sha!r} is not a sha256 (64 lowercase hex characters)")
        return sha

    def _dir(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4]

    def _find(self, sha: str) -> Path | None:
        folder = self._dir(self._check_sha(sha))
        for ext in EXTENSIONS:
            candidate = folder / f"{sha}.{ext}"
            if candidate.is_file():
                return candidate
        return None

    def exists(self, sha: str) -> bool:
        """True when an image with this sha256 is stored."""
        return self._find(sha) is not None

    def path(self, sha: str) -> Path:
        """The file of a stored image. Raises ``MissingImageError`` when it is not stored."""
        found = self._find(sha)
        if found is None:
            raise MissingImageError(f"image {sha} is not in the image store at {self.root}")
        return found

    # --- writing -------------------------------------------------------------------------

    def put_bytes(self, data: bytes, ext: str | None = None) -> str:
        """Store encoded image bytes as received; returns their sha256 (hex).

        The format is read from the bytes' magic number (PNG, JPEG, BMP, TIFF, WebP); ``ext``
        is only a hint and a file named ``.jpg`` that holds a PNG is stored as ``.png``.
        Raises ``ImageStoreError`` when the bytes are empty or of no supported image format.
        """
        data = bytes(data)
        if not data:
            raise ImageStoreError("empty image data: nothing to store")
        fmt = sniff_format(data)
        if fmt is None:
            hint = f" (named .{ext.lstrip('.')})" if ext else ""
            raise ImageStoreError(
                f"data{hint} is not a PNG, JPEG, BMP, TIFF or WebP image (starts with {data[:8]!r})"
            )
        sha = hashlib.sha256(data).hexdigest()
        if self._find(sha) is None:
            self._write_atomic(self._dir(sha), f"{sha}.{fmt}", data)
        return sha

    def put_file(self, path: str | Path) -> str:
        """Store the bytes of an image file as they are; returns their sha256."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageStoreError(f"cannot read image file {path}: {exc}") from exc
        return self.put_bytes(data, path.suffix)

    def put_array(self, rgb: np.ndarray) -> str:
        """Store an (H, W, 3) uint8 RGB array as PNG; returns the sha256 of the PNG bytes."""
        return self.put_bytes(encode_png(rgb), "png")

    def _write_atomic(self, folder: Path, name: str, data: bytes) -> None:
        created = not folder.is_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if created:  # make the new directory entries themselves durable
            _fsync_dir(folder.parent)
            _fsync_dir(folder.parent.parent)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, folder / name)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(folder)

    # --- reading -------------------------------------------------------------------------

    def read_bytes(self, sha: str) -> bytes:
        """The stored bytes exactly as received, hashed on every read. Raises ``MissingImageError``, and
        ``ImageAlteredError`` when they no longer hash to ``sha`` (replaced, truncated or damaged on disk)."""
        path = self.path(sha)
        data = path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha:
            raise ImageAlteredError(f"stored image {path} no longer matches its sha256 (its bytes hash to "
                                  f"{actual[:16]}...): it was replaced or damaged; `inspector audit verify` lists "
                                  "every such image")
        return data

    def read(self, sha: str) -> np.ndarray:
        """The stored image decoded to an (H, W, 3) uint8 RGB array.

        Raises ``MissingImageError`` when absent, ``ImageStoreError`` when it cannot be decoded or no
        longer hashes to ``sha``.
        """
        import cv2

        buf = np.frombuffer(self.read_bytes(sha), dtype=np.uint8)
        bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if bgr is None:
            raise ImageStoreError(f"stored image {self.path(sha)} cannot be decoded")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def verify(self, sha: str) -> bool:
        """True when the stored file still hashes to its name (detects a damaged file)."""
        return hashlib.sha256(self.path(sha).read_bytes()).hexdigest() == sha

    def shas(self) -> Iterator[str]:
        """Every stored sha256 (walks the folder; for audits and housekeeping, not hot paths)."""
        for path in sorted(self.root.glob("??/??/*.*")):
            stem, _, ext = path.name.partition(".")
            if ext in EXTENSIONS and _SHA_RE.match(stem):
                yield stem

    def remove_stale_temp_files(self, max_age_s: float = 3600.0) -> int:
        """Delete temporary files left by a writer that was killed mid-write; returns how many.

        Only files older than ``max_age_s`` go, so a write in progress elsewhere is never touched.
        """
        cutoff = time.time() - max_age_s
        removed = 0
        for tmp in self.root.glob(f"??/??/{_TMP_PREFIX}*"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

"""The content-addressed image store."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import cv2
import numpy as np
import pytest

from inspector.store import ImageStore, ImageStoreError, MissingImageError
from inspector.store.images import sniff_format


@pytest.fixture
def images(tmp_path):
    return ImageStore(tmp_path / "img")


def _rgb(seed=0, w=40, h=30):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _encode(rgb, ext):
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return buf.tobytes()


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_bytes_are_stored_as_received_under_their_hash(images):
    data = _encode(_rgb(), ".jpg")
    sha = images.put_bytes(data, "jpg")
    assert sha == hashlib.sha256(data).hexdigest()
    path = images.path(sha)
    assert path == images.root / sha[:2] / sha[2:4] / f"{sha}.jpg"
    assert path.read_bytes() == data and images.read_bytes(sha) == data
    assert images.exists(sha) and images.verify(sha)
    decoded = images.read(sha)
    assert decoded.shape == (30, 40, 3) and decoded.dtype == np.uint8


def test_array_round_trip_is_lossless_png(images):
    rgb = _rgb(1)
    rgb[0, 0] = (255, 0, 0)  # channel order must survive (RGB in, RGB out)
    sha = images.put_array(rgb)
    assert images.path(sha).suffix == ".png"
    assert hashlib.sha256(images.read_bytes(sha)).hexdigest() == sha
    back = images.read(sha)
    assert np.array_equal(back, rgb) and tuple(back[0, 0]) == (255, 0, 0)
    assert images.put_array(rgb.copy()) == sha  # deterministic encoding: same content, same name


def test_same_content_is_stored_once(images):
    data = _encode(_rgb(2), ".png")
    sha = images.put_bytes(data, "png")
    mtime = images.path(sha).stat().st_mtime_ns
    time.sleep(0.01)
    assert images.put_bytes(data, ".PNG") == sha
    assert images.path(sha).stat().st_mtime_ns == mtime  # not rewritten
    assert _files(images.root) == [f"{sha[:2]}/{sha[2:4]}/{sha}.png"]
    assert list(images.shas()) == [sha]


def test_format_comes_from_the_bytes_not_the_name(images, tmp_path):
    data = _encode(_rgb(3), ".png")
    sha = images.put_bytes(data, "jpg")  # mislabelled
    assert images.path(sha).suffix == ".png"
    for ext in (".bmp", ".tif"):
        assert sniff_format(_encode(_rgb(4), ext)) == ext[1:]
    f = tmp_path / "frame.bmp"
    f.write_bytes(_encode(_rgb(5), ".bmp"))
    sha_bmp = images.put_file(f)
    assert images.path(sha_bmp).suffix == ".bmp" and np.array_equal(images.read(sha_bmp), _rgb(5))


def test_bad_input_is_refused_with_a_reason(images):
    with pytest.raises(ImageStoreError, match="empty"):
        images.put_bytes(b"", "png")
    with pytest.raises(ImageStoreError, match="not a PNG, JPEG"):
        images.put_bytes(b"hello world, not an image", "png")
    with pytest.raises(ImageStoreError, match=r"\(H, W, 3\) uint8"):
        images.put_array(np.zeros((4, 4), np.uint8))
    with pytest.raises(ImageStoreError, match=r"\(H, W, 3\) uint8"):
        images.put_array(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageStoreError, match="sha256"):
        images.exists("../../etc/passwd")
    with pytest.raises(MissingImageError):
        images.path("0" * 64)
    with pytest.raises(MissingImageError):
        images.read("0" * 64)
    with pytest.raises(ImageStoreError, match="cannot read"):
        images.put_file(images.root / "nope.png")
    assert _files(images.root) == []


def test_damage_is_detected(images):
    sha = images.put_array(_rgb(6))
    path = images.path(sha)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    assert not images.verify(sha)


def test_failed_write_leaves_no_file(images, monkeypatch):
    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        images.put_array(_rgb(7))
    assert [p for p in images.root.rglob("*") if p.is_file()] == []


def test_stale_temp_files_are_cleaned_fresh_ones_kept(images):
    sha = images.put_array(_rgb(8))
    folder = images.path(sha).parent
    stale, fresh = folder / ".tmp-dead.part", folder / ".tmp-live.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert images.remove_stale_temp_files(max_age_s=3600) == 1
    assert not stale.exists() and fresh.exists()
    assert list(images.shas()) == [sha]  # temp files are never listed as images


def test_concurrent_writers_of_the_same_image(images):
    data = _encode(_rgb(9, 400, 300), ".png")
    shas, errors = [], []

    def put():
        try:
            shas.append(images.put_bytes(data, "png"))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(shas)) == 1
    sha = shas[0]
    assert _files(images.root) == [f"{sha[:2]}/{sha[2:4]}/{sha}.png"] and images.verify(sha)

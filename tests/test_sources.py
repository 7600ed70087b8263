"""Frame sources: folders with bad files, file lists, hot folders, video, a camera that drops out."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.sources import (
    ImageRejected,
    SourceError,
    UnreadableFrame,
    open_source,
    parse_source_spec,
    read_image,
)
from inspector.sources.builtin import CameraSource, FolderSource, HotFolderSource, VideoSource


def _write(path: Path, value: int, size=(48, 64)) -> Path:
    img = np.full((*size, 3), value, np.uint8)
    img[5:10, 5:20] = (255, 0, 0)  # red in RGB
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def test_folder_yields_sorted_rgb_frames_and_corrupt_ones_as_unreadable(tmp_path):
    _write(tmp_path / "b.png", 10)
    _write(tmp_path / "a.png", 20)
    (tmp_path / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "d.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    errors = []
    with FolderSource(tmp_path, on_error=errors.append) as src:
        frames = list(src)
    # every image file is a part: the damaged and the empty one come as UnreadableFrames
    # (recorded REVIEW by the facade), never skipped; notes.txt is no image file at all
    assert [f.name for f in frames] == ["a.png", "b.png", "c.png", "d.jpg"]
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert tuple(frames[0].image[6, 6]) == (255, 0, 0)  # decoded as RGB, not BGR
    assert frames[0].encoded == (tmp_path / "a.png").read_bytes() and frames[0].ext == ".png"
    bad = {f.name: f for f in frames if isinstance(f, UnreadableFrame)}
    assert sorted(bad) == ["c.png", "d.jpg"]
    assert "not a readable image" in bad["c.png"].reason and "empty file" in bad["d.jpg"].reason
    assert bad["c.png"].file_sha256 and bad["c.png"].encoded is None
    assert errors == [] and src.dropped == 0


def test_missing_folder_is_a_clear_unrecoverable_error(tmp_path):
    with pytest.raises(SourceError, match="folder not found") as err:
        with FolderSource(tmp_path / "nope"):
            pass
    assert not err.value.recoverable


def test_read_image_handles_gray_rgba_and_refuses_16bit(tmp_path):
    cv2.imwrite(str(tmp_path / "g.png"), np.full((8, 9), 7, np.uint8))
    cv2.imwrite(str(tmp_path / "a.png"), np.full((8, 9, 4), 9, np.uint8))
    cv2.imwrite(str(tmp_path / "w.png"), np.full((8, 9), 65535, np.uint16))
    for name in ("g.png", "a.png"):
        img = read_image(tmp_path / name)
        assert img.shape == (8, 9, 3) and img.dtype == np.uint8
    with pytest.raises(ImageRejected, match="16-bit") as err:  # scaled silently, it judged wrongly
        read_image(tmp_path / "w.png")
    assert err.value.kind == "unsupported"
    with pytest.raises(SourceError, match="cannot read"):
        read_image(tmp_path / "missing.png")


def test_spec_parsing(tmp_path):
    _write(tmp_path / "x.png", 1)
    assert parse_source_spec(str(tmp_path)) == ("folder", str(tmp_path))
    assert parse_source_spec("camera:0") == ("camera", "0")
    assert parse_source_spec("2") == ("camera", "2")
    assert parse_source_spec("files:a.png,b.png") == ("files", ["a.png", "b.png"])
    assert parse_source_spec([str(tmp_path / "x.png"), "y.png"]) == (
        "files",
        [str(tmp_path / "x.png"), "y.png"],
    )
    assert parse_source_spec("line.mp4") == ("video", "line.mp4")
    with pytest.raises(SourceError, match="cannot tell"):
        parse_source_spec(str(tmp_path / "nothing-here"))


def test_file_list_with_a_missing_file_is_refused_before_the_run(tmp_path):
    good = _write(tmp_path / "ok.png", 50)
    with pytest.raises(SourceError, match="file not found: .*gone.png") as err:
        with open_source([str(tmp_path / "gone.png"), str(good)]):
            pass
    assert not err.value.recoverable


def test_file_list_file_that_vanishes_during_the_run_is_an_unreadable_part(tmp_path):
    a, b = _write(tmp_path / "a.png", 50), _write(tmp_path / "b.png", 60)
    with open_source([str(a), str(b)]) as src:
        frames = iter(src)
        assert next(frames).name == "a.png"
        b.unlink()
        gone = next(frames)
    assert isinstance(gone, UnreadableFrame) and "cannot read" in gone.reason


def test_hot_folder_takes_new_files_once_after_they_settle(tmp_path):
    _write(tmp_path / "old.png", 1)
    src = HotFolderSource(tmp_path, poll_s=0.02, settle_s=0.05, skip_existing=True, idle_timeout_s=1.0)
    got = []

    def consume():
        with src:
            for f in src:
                got.append(f.name)

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.1)
    _write(tmp_path / "new1.png", 2)
    time.sleep(0.2)
    _write(tmp_path / "new2.png", 3)
    t.join(timeout=10)
    assert not t.is_alive()
    assert got == ["new1.png", "new2.png"]


def _video(path: Path, n: int) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(n):
        w.write(np.full((48, 64, 3), i * 20, np.uint8))
    w.release()
    return path


def test_video_every_nth_frame(tmp_path):
    video = _video(tmp_path / "line.avi", 9)
    with VideoSource(str(video), every=3) as src:
        frames = list(src)
    assert [f.index for f in frames] == [0, 3, 6]
    assert frames[0].image.shape == (48, 64, 3)


def test_camera_that_drops_out_reconnects_then_gives_up(tmp_path):
    # A capture target that ends behaves like an unplugged camera: read() fails. The source
    # must report it, reconnect with backoff (here the "camera" comes back: the file reopens),
    # and give up after max_reconnects without raising into the line.
    video = _video(tmp_path / "cam.avi", 3)
    errors = []
    src = CameraSource(str(video), on_error=errors.append, max_backoff_s=0.05, max_reconnects=2)
    with src:
        frames = list(src)
    assert len(frames) == 9  # 3 frames, lost, back (3), lost, back (3), lost, give up
    assert src.reconnects == 2
    assert sum("reconnecting" in str(e) for e in errors) == 3
    assert not errors[-1].recoverable and "giving up" in str(errors[-1])


def test_camera_that_cannot_open_is_unrecoverable():
    with pytest.raises(SourceError, match="cannot be opened"):
        CameraSource("/dev/video-none").open()

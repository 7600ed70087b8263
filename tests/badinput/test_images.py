"""Bad image files: every one ends in a typed ImageRejected with its kind and reason, never a
cv2.error, a hang or a silently wrong picture; odd but valid images decode to RGB uint8."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from badinput_support import BAD_IMAGES, FORMATS, GOOD_IMAGES, encode

from inspector.sources import ImageLimits, ImageRejected, SourceError, decode_image_bytes, read_image
from inspector.sources.builtin import FolderSource
from inspector.sources.decode import UnreadableFrame, read_file_bytes


@pytest.mark.parametrize("case, make, kind, phrase", BAD_IMAGES, ids=[c[0] for c in BAD_IMAGES])
def test_bad_image_bytes_are_refused_with_a_reason(case, make, kind, phrase):
    with pytest.raises(ImageRejected) as err:
        decode_image_bytes(make(), case)
    assert err.value.kind == kind, str(err.value)
    assert phrase in str(err.value)
    assert str(err.value).startswith(case) and err.value.recoverable  # names the file; the line goes on


@pytest.mark.parametrize("case, make, shape", GOOD_IMAGES, ids=[c[0] for c in GOOD_IMAGES])
def test_odd_but_valid_images_decode_to_rgb(case, make, shape):
    img = decode_image_bytes(make(), case)
    assert img.shape == (*shape, 3) and img.dtype == np.uint8


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("limit", ["pixels", "bytes"])
def test_limits_from_the_settings_apply_to_every_format(ext, limit):
    data = encode(ext)
    limits = ImageLimits(max_pixels=1000) if limit == "pixels" else ImageLimits(max_bytes=len(data) - 1)
    with pytest.raises(ImageRejected, match=f"setting max_image_{limit}") as err:
        decode_image_bytes(data, f"x{ext}", limits)
    assert err.value.kind == "unsupported"
    assert decode_image_bytes(data, f"x{ext}").shape == (120, 160, 3)  # the default limits take it


def test_a_fifo_named_like_an_image_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "camera.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageRejected, match="not a regular file"):
        read_image(fifo)


def test_a_folder_named_like_an_image_is_refused(tmp_path):
    (tmp_path / "x.png").mkdir()
    with pytest.raises(ImageRejected, match="not a regular file"):
        read_file_bytes(tmp_path / "x.png")


def test_a_symlink_to_dev_zero_is_refused(tmp_path):
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    with pytest.raises(ImageRejected, match="not a regular file"):
        read_image(tmp_path / "zero.png")


def test_a_huge_sparse_file_is_refused_from_its_size_without_reading(tmp_path):
    big = tmp_path / "huge.png"
    with big.open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(ImageRejected, match="more than the limit") as err:
        read_image(big)
    assert err.value.kind == "unsupported"


def test_a_missing_file_is_unreadable_and_may_still_appear(tmp_path):
    with pytest.raises(ImageRejected, match="cannot read") as err:
        read_image(tmp_path / "gone.png")
    assert err.value.incomplete and isinstance(err.value, SourceError)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path):
    p = tmp_path / "locked.png"
    p.write_bytes(encode(".png"))
    p.chmod(0)
    try:
        with pytest.raises(ImageRejected, match="cannot read"):
            read_image(p)
    finally:
        p.chmod(stat.S_IRUSR | stat.S_IWUSR)


@pytest.mark.parametrize("case, make, kind, phrase", BAD_IMAGES[::6], ids=[c[0] for c in BAD_IMAGES[::6]])
def test_a_folder_delivers_a_bad_file_as_an_unreadable_part(tmp_path, case, make, kind, phrase):
    (tmp_path / "a_good.png").write_bytes(encode(".png"))
    (tmp_path / "b_bad.png").write_bytes(make())
    with FolderSource(tmp_path) as src:
        frames = list(src)
    assert [f.name for f in frames] == ["a_good.png", "b_bad.png"]
    bad = frames[1]
    assert isinstance(bad, UnreadableFrame) and bad.kind == kind and bad.encoded is None
    assert bad.image.shape == (64, 64, 3)  # the placeholder, never the bad bytes

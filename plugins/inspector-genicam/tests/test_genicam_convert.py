"""GenICam pixel formats become (H, W, 3) uint8 RGB with the right colours; options are parsed and
checked with typed errors. No camera needed (the camera tests are in test_genicam_camera.py)."""

from __future__ import annotations

import numpy as np
import pytest
from inspector_genicam.convert import SUPPORTED, mosaic, to_rgb
from inspector_genicam.options import GenICamOptions, merge

from inspector.errors import InspectorError
from inspector.sources import SourceError


def _patches() -> np.ndarray:
    """Four flat colour patches: red, green, blue, grey (64x64 each)."""
    img = np.zeros((128, 128, 3), np.uint8)
    img[:64, :64] = (220, 20, 20)
    img[:64, 64:] = (20, 220, 20)
    img[64:, :64] = (20, 20, 220)
    img[64:, 64:] = (128, 128, 128)
    return img


@pytest.mark.parametrize("fmt", ["BayerRG8", "BayerGR8", "BayerGB8", "BayerBG8"])
def test_bayer_patterns_demosaic_to_the_right_colours(fmt):
    rgb = _patches()
    raw = mosaic(rgb, fmt)
    out = to_rgb(raw.tobytes(), 128, 128, fmt)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    for (y, x) in ((32, 32), (32, 96), (96, 32), (96, 96)):  # patch centres, away from the edges
        assert np.abs(out[y - 8:y + 8, x - 8:x + 8].astype(int) - rgb[y, x].astype(int)).max() <= 2, (fmt, y, x)


def test_a_wrong_bayer_pattern_would_swap_red_and_blue():
    """The check above can fail: decoding RG data as BG turns the red patch blue."""
    raw = mosaic(_patches(), "BayerRG8")
    out = to_rgb(raw.tobytes(), 128, 128, "BayerBG8")
    assert out[32, 32, 2] > 150 and out[32, 32, 0] < 60


def test_mono_rgb_and_bgr_formats():
    mono = (np.arange(64 * 32) % 256).astype(np.uint8).reshape(32, 64)
    out = to_rgb(mono.tobytes(), 64, 32, "Mono8")
    assert out.shape == (32, 64, 3) and (out[..., 0] == mono).all() and (out[..., 2] == mono).all()
    mono16 = (mono.astype(np.uint16) << 8) | 0x7F
    assert (to_rgb(mono16.astype("<u2").tobytes(), 64, 32, "Mono16")[..., 1] == mono).all()
    mono12 = mono.astype(np.uint16) << 4
    assert (to_rgb(mono12.astype("<u2").tobytes(), 64, 32, "Mono12")[..., 0] == mono).all()
    rgb = _patches()
    assert (to_rgb(rgb.tobytes(), 128, 128, "RGB8") == rgb).all()
    assert (to_rgb(rgb[:, :, ::-1].copy().tobytes(), 128, 128, "BGR8") == rgb).all()


@pytest.mark.parametrize("fmt", ["Mono8", "Mono16", "RGB8", "BGR8", "BayerGR8"])
def test_every_image_is_a_writable_array_of_its_own(fmt):
    """The line draws on and keeps images: never a read-only view of the camera's bytes."""
    data = bytes(range(256)) * (64 * 64 * 3 * 2 // 256)
    out = to_rgb(data, 64, 64, fmt)
    assert out.flags.writeable and out.flags.c_contiguous and out.shape == (64, 64, 3)
    out[0, 0] = (1, 2, 3)


def test_short_buffers_and_unknown_formats_are_typed_errors():
    with pytest.raises(SourceError, match="too short"):
        to_rgb(b"\0" * 100, 64, 32, "Mono8")
    with pytest.raises(SourceError, match="YUV422_8.*not supported") as err:
        to_rgb(b"\0" * 4096, 32, 32, "YUV422_8")
    assert not err.value.recoverable and "Mono8" in str(err.value)
    assert {"Mono8", "RGB8", "BayerRG8", "Mono16"} <= set(SUPPORTED)


def test_options_layer_settings_then_spec_then_keywords():
    opts = merge({"exposure_us": 8000, "gain": 1, "buffers": 4}, "exposure=5000&format=BayerRG8&trigger=software",
                 {"gain": 2.5})
    assert (opts.exposure_us, opts.gain, opts.pixel_format, opts.trigger, opts.buffers) == \
        (5000.0, 2.5, "BayerRG8", "software", 4)
    assert merge(None, "").trigger == "free-run"
    assert merge({"enabled": True, "trigger": "every-frame"}).trigger == "free-run"


@pytest.mark.parametrize("section, query, match", [
    (None, "exposure_us=fast", "exposure_us must be a number"),
    (None, "shutter=5", "unknown genicam option 'shutter'.*known: .*exposure_us"),
    ({"trigger": "sometimes"}, "", "trigger 'sometimes'"),
    ({"buffers": 1}, "", "buffers must be at least 2"),
    ({"buffers": 2.5}, "", "buffers must be a whole number"),
    (None, "exposure_us=-3", "exposure_us must be positive"),
    (None, "features=x", "features are set in plugins.genicam.features"),
])
def test_bad_options_are_refused_with_a_message(section, query, match):
    with pytest.raises(SourceError, match=match) as err:
        merge(section, query)
    assert isinstance(err.value, InspectorError) and not err.value.recoverable


def test_defaults_are_usable():
    opts = GenICamOptions()
    assert opts.buffers >= 2 and opts.trigger == "free-run" and opts.exposure_us is None

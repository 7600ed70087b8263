"""GenICam pixel formats -> the line's image: (H, W, 3) uint8 RGB.

Mono8 is spread to three channels, Mono10/12/16 (unpacked, little-endian) are scaled to 8 bits,
RGB8 is taken as it is, BGR8 reversed, and the 8-bit Bayer mosaics are demosaiced by OpenCV
(bilinear). GenICam names a Bayer pattern by its top-left 2x2 cell (``BayerRG8``: R G / G B);
OpenCV's four-letter codes (``COLOR_BayerRGGB2RGB``) name it the same way.
"""

from __future__ import annotations

import numpy as np

from inspector.sources import SourceError

_BAYER = {"BayerRG8": "RGGB", "BayerGR8": "GRBG", "BayerGB8": "GBRG", "BayerBG8": "BGGR"}
_MONO16 = {"Mono10": 2, "Mono12": 4, "Mono16": 8}  # right shift to 8 bits
SUPPORTED = ("Mono8", *_MONO16, "RGB8", "RGB8Packed", "BGR8", "BGR8Packed", *_BAYER)


def bytes_per_pixel(pixel_format: str) -> int:
    if pixel_format in _MONO16:
        return 2
    if pixel_format in ("RGB8", "RGB8Packed", "BGR8", "BGR8Packed"):
        return 3
    if pixel_format == "Mono8" or pixel_format in _BAYER:
        return 1
    raise SourceError(f"pixel format {pixel_format!r} is not supported: use one of {', '.join(SUPPORTED)}",
                      item=pixel_format, recoverable=False)


def to_rgb(data: bytes | memoryview, width: int, height: int, pixel_format: str) -> np.ndarray:
    """One camera buffer as a new (H, W, 3) uint8 RGB array. SourceError when the size does not match."""
    import cv2

    bpp = bytes_per_pixel(pixel_format)
    need = width * height * bpp
    if len(data) < need:
        raise SourceError(f"{pixel_format} buffer of {len(data)} bytes is too short for {width}x{height} "
                          f"({need} bytes)", item=pixel_format)
    raw = np.frombuffer(data, dtype=np.uint8, count=need)
    if pixel_format in _MONO16:
        mono = (raw.view("<u2").reshape(height, width) >> _MONO16[pixel_format]).clip(0, 255).astype(np.uint8)
        return cv2.cvtColor(mono, cv2.COLOR_GRAY2RGB)
    if pixel_format == "Mono8":
        return cv2.cvtColor(raw.reshape(height, width), cv2.COLOR_GRAY2RGB)
    if pixel_format in _BAYER:
        code = getattr(cv2, f"COLOR_Bayer{_BAYER[pixel_format]}2RGB")
        return cv2.cvtColor(raw.reshape(height, width), code)
    rgb = raw.reshape(height, width, 3)
    if pixel_format.startswith("BGR"):
        rgb = rgb[:, :, ::-1]
    return np.array(rgb, order="C")  # a writable copy, never a view of the camera's bytes


def mosaic(rgb: np.ndarray, pixel_format: str) -> np.ndarray:
    """The Bayer mosaic a sensor with ``pixel_format`` would record of ``rgb`` (for tests and benches)."""
    pattern = _BAYER[pixel_format]
    channel = {"R": 0, "G": 1, "B": 2}
    out = np.empty(rgb.shape[:2], dtype=np.uint8)
    for i, letter in enumerate(pattern):
        dy, dx = divmod(i, 2)
        out[dy::2, dx::2] = rgb[dy::2, dx::2, channel[letter]]
    return out

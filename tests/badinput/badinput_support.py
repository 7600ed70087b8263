"""Bad image files made in the test, never downloaded: truncated, empty, non-image, bombs, odd depths.

Each factory returns the file's bytes. ``BAD_IMAGES`` is the corpus: (case id, bytes factory,
expected kind, a phrase the refusal must contain). Every case must end in ``ImageRejected``.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

FORMATS = (".png", ".jpg", ".bmp", ".tif", ".webp")


def good_rgb(w: int = 160, h: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def encode(ext: str, img: np.ndarray | None = None) -> bytes:
    ok, buf = cv2.imencode(ext, good_rgb() if img is None else img)
    assert ok
    return buf.tobytes()


def pil_bytes(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(w: int, h: int, depth: int = 8, colour: int = 2) -> bytes:
    """A tiny, valid-looking PNG whose header declares w x h (the issue's 74-byte bomb)."""
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        _chunk(b"IEND", b"")


def jpeg_declaring(w: int, h: int) -> bytes:
    """A real JPEG whose SOF0 frame header is patched to declare w x h."""
    data = bytearray(encode(".jpg", good_rgb(16, 16)))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def bmp_declaring(w: int, h: int) -> bytes:
    data = bytearray(encode(".bmp", good_rgb(16, 16)))
    data[18:26] = struct.pack("<ii", w, h)
    return bytes(data)


def tiff_declaring(w: int, h: int) -> bytes:
    """A minimal little-endian TIFF directory declaring w x h, 8-bit RGB, one strip."""
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 8), (277, 3, 1, 3), (278, 4, 1, h), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0\0\0\0"
    return b"II*\x00" + struct.pack("<I", 8 + 16) + b"\0" * 16 + ifd


def webp_declaring(w: int, h: int) -> bytes:
    """An extended (VP8X) WebP header declaring a w x h canvas."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (w - 1).to_bytes(3, "little") + \
        (h - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def truncated(ext: str, frac: float) -> Callable[[], bytes]:
    def make() -> bytes:
        data = encode(ext)
        return data[: max(1, int(len(data) * frac))]
    return make


def flipped_png(pos: float) -> Callable[[], bytes]:
    def make() -> bytes:
        data = bytearray(encode(".png"))
        i = int(len(data) * pos)
        data[i] ^= 0xFF
        return bytes(data)
    return make


def sixteen_bit(ext: str, channels: int) -> Callable[[], bytes]:
    def make() -> bytes:
        shape = (40, 50) if channels == 1 else (40, 50, channels)
        return encode(ext, np.full(shape, 4000, np.uint16))
    return make


def floating(ext: str, dtype) -> Callable[[], bytes]:
    def make() -> bytes:
        return encode(ext, np.full((40, 50), 0.5, dtype))
    return make


def pil_mode(mode: str, fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        img = Image.new("RGB", (50, 40), (10, 120, 200)).convert(mode) if mode != "F" else \
            Image.new("F", (50, 40), 0.5)
        return pil_bytes(img, fmt)
    return make


def const(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _random(n: int, seed: int) -> Callable[[], bytes]:
    return lambda: np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


UNREADABLE, UNSUPPORTED = "unreadable", "unsupported"

BAD_IMAGES: list[tuple[str, Callable[[], bytes], str, str]] = []
BAD_IMAGES += [(f"truncated{ext}-{frac}", truncated(ext, frac), UNREADABLE, "")
               for ext in FORMATS for frac in (0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999)]
BAD_IMAGES += [(f"empty{ext}", const(b""), UNREADABLE, "empty file") for ext in FORMATS]
BAD_IMAGES += [(f"magic-only-{name}", const(magic), UNREADABLE, "not a readable image") for name, magic in (
    ("png", b"\x89PNG\r\n\x1a\n"), ("jpg", b"\xff\xd8\xff"), ("bmp", b"BM"), ("tif-le", b"II*\x00"),
    ("tif-be", b"MM\x00*"), ("webp", b"RIFF\x00\x00\x00\x00WEBP"))]
BAD_IMAGES += [(f"text-{name}", const(text), UNREADABLE, "not a readable image") for name, text in (
    ("plain", b"this is not an image\n"), ("html", b"<!doctype html><html><body>404</body></html>"),
    ("json", b'{"image": "base64..."}'), ("csv", b"x,y,w,h\n1,2,3,4\n"), ("pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj"),
    ("zip", b"PK\x03\x04\x14\x00\x00\x00"), ("elf", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 56),
    ("utf16", "kein Bild".encode("utf-16")), ("svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("zeros", b"\0" * 4096), ("ones", b"\xff" * 4096), ("newline", b"\n"), ("nul", b"\0"))]
BAD_IMAGES += [(f"random-{n}-{seed}", _random(n, seed), UNREADABLE, "") for n, seed in (
    (16, 1), (512, 2), (4096, 3), (65536, 4), (100, 5))]
BAD_IMAGES += [(f"png-bitflip-{pos}", flipped_png(pos), UNREADABLE, "not a readable image")
               for pos in (0.02, 0.3, 0.6, 0.9)]
BAD_IMAGES += [
    ("bomb-png-50000", const(png_declaring(50000, 50000)), UNSUPPORTED, "MP"),
    ("bomb-png-100000x1", const(png_declaring(100000, 1000)), UNSUPPORTED, "MP"),
    ("bomb-png-gray", const(png_declaring(30000, 30000, colour=0)), UNSUPPORTED, "MP"),
    ("bomb-png-16bit", const(png_declaring(20000, 20000, depth=16)), UNSUPPORTED, "MP"),
    ("bomb-png-9001", const(png_declaring(9001, 9001)), UNSUPPORTED, "MP"),
    ("bomb-jpeg", const(jpeg_declaring(65000, 65000)), UNSUPPORTED, "MP"),
    ("bomb-jpeg-wide", const(jpeg_declaring(65000, 2000)), UNSUPPORTED, "MP"),
    ("bomb-bmp", const(bmp_declaring(50000, 50000)), UNSUPPORTED, "MP"),
    ("bomb-tiff", const(tiff_declaring(100000, 100000)), UNSUPPORTED, "MP"),
    ("bomb-webp", const(webp_declaring(16000, 16000)), UNSUPPORTED, "MP"),
    ("empty-png-header", const(png_declaring(0, 0)), UNREADABLE, ""),
]
BAD_IMAGES += [
    ("16bit-gray.png", sixteen_bit(".png", 1), UNSUPPORTED, "16-bit"),
    ("16bit-rgb.png", sixteen_bit(".png", 3), UNSUPPORTED, "16-bit"),
    ("16bit-rgba.png", sixteen_bit(".png", 4), UNSUPPORTED, "16-bit"),
    ("16bit-gray.tif", sixteen_bit(".tif", 1), UNSUPPORTED, "16-bit"),
    ("16bit-rgb.tif", sixteen_bit(".tif", 3), UNSUPPORTED, "16-bit"),
    ("float32.tif", floating(".tif", np.float32), UNSUPPORTED, "floating-point"),
    ("float64.tif", floating(".tif", np.float64), UNREADABLE, ""),  # Pillow cannot parse it: refused too
    ("pil-F.tif", pil_mode("F", "TIFF"), UNSUPPORTED, "floating-point"),
    ("pil-I.tif", pil_mode("I", "TIFF"), UNSUPPORTED, "32-bit"),
    ("pil-I16.png", pil_mode("I;16", "PNG"), UNSUPPORTED, "16-bit"),
    ("cmyk.jpg", pil_mode("CMYK", "JPEG"), UNSUPPORTED, "CMYK"),
    ("cmyk.tif", pil_mode("CMYK", "TIFF"), UNSUPPORTED, "CMYK"),
    ("lab.tif", pil_mode("LAB", "TIFF"), UNSUPPORTED, "Lab"),
    ("ycbcr.tif", pil_mode("YCbCr", "TIFF"), UNSUPPORTED, "YCbCr"),
    ("gif", pil_mode("P", "GIF"), UNSUPPORTED, "GIF format"),
    ("ico", pil_mode("RGB", "ICO"), UNSUPPORTED, "format"),
    ("pcx", pil_mode("RGB", "PCX"), UNSUPPORTED, "format"),
    ("ppm", pil_mode("RGB", "PPM"), UNSUPPORTED, "format"),
]

# Images that are odd but fine: they decode to (H, W, 3) uint8
GOOD_IMAGES: list[tuple[str, Callable[[], bytes], tuple[int, int]]] = [
    ("gray.png", lambda: encode(".png", np.full((40, 50), 90, np.uint8)), (40, 50)),
    ("rgba.png", lambda: encode(".png", np.full((40, 50, 4), 90, np.uint8)), (40, 50)),
    ("palette.png", pil_mode("P", "PNG"), (40, 50)),
    ("bilevel.png", pil_mode("1", "PNG"), (40, 50)),
    ("la.png", pil_mode("LA", "PNG"), (40, 50)),
    ("gray.jpg", lambda: encode(".jpg", np.full((40, 50), 90, np.uint8)), (40, 50)),
    ("rgb.bmp", lambda: encode(".bmp"), (120, 160)),
    ("rgb.tif", lambda: encode(".tif"), (120, 160)),
    ("lossless.webp", lambda: encode(".webp"), (120, 160)),
    ("png-named-jpg", lambda: encode(".png"), (120, 160)),
    ("jpeg-trailing-bytes", lambda: encode(".jpg") + b"\0" * 100, (120, 160)),
    ("progressive.jpg", lambda: pil_bytes(Image.new("RGB", (50, 40), (9, 9, 9)), "JPEG", progressive=True),
     (40, 50)),
]


def fake_backend(reference_dir, device: str = "cpu"):
    """``inspector.backends`` factory for CLI tests: the zone tests' scratch finder, no model weights."""
    from zone_support import ScratchBackend

    return ScratchBackend()
